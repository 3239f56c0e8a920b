/* libFuzzer target: the decoder must reject any input with a reason and
 * never crash; it must agree with the jansson reference decoder it replaced
 * (same reason, same decoded message); what it accepts must encode again and
 * decode to the same. */
#include "ow_proto.h"
#include "proto_ref.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ow_msg_t m, r, m2;
    char err[256], rerr[256], body[OW_BODY_MAX + 1], topic[OW_TOPIC_MAX];
    /* First byte chooses whether the topic is checked too. */
    const char *topic_in = NULL;
    size_t topic_len = 0;
    if (size > 0 && data[0] == 't') {
        const uint8_t *nl = memchr(data, '\n', size);
        if (nl) {
            topic_in = (const char *)data + 1;
            topic_len = (size_t)(nl - data) - 1;
            size -= (size_t)(nl - data) + 1;
            data = nl + 1;
        }
    }
    memset(&m, 0, sizeof m);
    memset(&r, 0, sizeof r);
    ow_proto_err_t e =
        ow_decode(topic_in, topic_len, (const char *)data, size, &m, err, sizeof err, NULL);
    if (size > 0 && size <= OW_BODY_MAX && memchr(data, 0, size)) {
        /* A raw NUL is never JSON; jansson drops one after a number or a
         * literal, so only the scanner's verdict is checked here. */
        if (e != OW_PERR_JSON) abort();
    } else {
        ow_proto_err_t re = ow_decode_ref(topic_in, topic_len, (const char *)data, size, &r, rerr,
                                          sizeof rerr, NULL);
        if (e != re) abort(); /* the scanner and jansson disagree */
        if (e == OW_PERR_OK && memcmp(&m, &r, sizeof m) != 0) abort();
    }
    if (e != OW_PERR_OK) return 0;
    int n = ow_encode(&m, body, sizeof body, err, sizeof err);
    if (n < 0) abort(); /* accepted but not encodable: the two tables disagree */
    int tn = ow_topic(&m, topic, sizeof topic);
    if (tn < 0 ||
        ow_decode(topic, (size_t)tn, body, (size_t)n, &m2, err, sizeof err, NULL) != OW_PERR_OK)
        abort();
    if (m2.h.seq != m.h.seq || m2.kind != m.kind) abort();
    return 0;
}
