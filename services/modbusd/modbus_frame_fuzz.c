/* libFuzzer target: the bytes a Modbus TCP client or an RTU line sends,
 * through exactly what modbusd runs on them (frame.c, then the handler over
 * a filled register image). Input: first byte even = a TCP stream (frames
 * taken from its head until one is incomplete or the stream is rejected),
 * odd = one RTU frame. Nothing may crash, read out of bounds, or produce an
 * answer longer than a PDU; a frame is never longer than what was given. */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "modbusd.h"
#include "regmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void answer(const ow_mb_image_t *img, const ow_mb_frame_t *f)
{
    /* As the daemon answers TCP: the PDU after a 7-byte MBAP header, in a
     * heap buffer of the largest frame, so ASan sees an answer too long. */
    uint8_t *out = malloc(OW_MB_TCP_MAX), *rsp = out + 7;
    /* Unit 0 has no gateway, as an unmapped unit id in the daemon. */
    size_t rl = ow_mb_handle(f->unit ? img : NULL, f->pdu, f->pdulen, rsp);
    if (rl < 2 || rl > OW_MB_PDU_MAX) abort();
    ow_mb_req_t q;
    int e = ow_mb_check_pdu(f->pdu, f->pdulen, &q);
    /* Exceptions carry fc | 0x80; a valid read answers 2 + 2 * count. */
    if (f->unit && e == 0 && !(rsp[0] & 0x80) && rl != 2 + 2 * (size_t)q.count) abort();
    if (e && !(rsp[0] & 0x80)) abort();
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ow_mb_image_t img;
    static int init;
    if (!init) {
        ow_mb_scale_t sc;
        ow_mb_scale_default(&sc);
        ow_mb_image_init(&img, &sc, 16, 512);
        init = 1;
    }
    if (size < 1) return 0;
    char err[256];
    ow_mb_frame_t f;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (data[0] & 1) {
        /* The daemon's buffer holds at most OW_MB_RTU_MAX bytes of a frame. */
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, p, n);
        if (ow_mb_rtu_frame(copy, n, &f, err, sizeof err) == 0) {
            if (f.pdu != copy + 1 || f.pdulen + 3 != n) abort();
            answer(&img, &f);
        }
        free(copy);
        return 0;
    }
    while (n > 0) {
        /* A heap copy of what the connection's buffer holds, so ASan sees
         * any read past its end. */
        size_t have = n < OW_MB_TCP_MAX ? n : OW_MB_TCP_MAX;
        uint8_t *buf = malloc(have);
        memcpy(buf, p, have);
        int len = ow_mb_tcp_frame(buf, have, &f, err, sizeof err);
        if (len > 0) {
            if ((size_t)len > have || f.pdulen + 7 != (size_t)len) abort();
            answer(&img, &f);
        }
        free(buf);
        if (len <= 0) break;
        p += len;
        n -= (size_t)len;
    }
    return 0;
}
