/* See ow_ctl.h. A fresh DEALER per call: calls are rare (an operator, a SET),
 * and a socket that timed out must not deliver a stale answer later. */
#include "ow_ctl.h"

#include <czmq.h>
#include <unistd.h>

#include "ow_clock.h"
#include "ow_zsock.h"

int ow_ctl_call(const char *endpoint, const char *gw, const ow_control_t *req, int timeout_ms,
                ow_reply_t *reply, ow_ctl_msg_fn fn, void *ctx, char *err, size_t errlen)
{
    ow_msg_t m;
    char body[OW_BODY_MAX];
    int rc = -1;

    ow_msg_init(&m, OW_MSG_CONTROL);
    m.u.control = *req;
    snprintf(m.h.gw, sizeof m.h.gw, "%s", gw ? gw : "");
    snprintf(m.h.pub, sizeof m.h.pub, "ctl.%d", (int)getpid());
    m.h.epoch = (uint64_t)ow_now_us();
    m.h.seq = 1;
    m.h.ts_us = ow_now_us();
    int n = ow_encode(&m, body, sizeof body, err, errlen);
    if (n < 0) return -1;
    zsock_t *d = zsock_new(ZMQ_DEALER);
    if (d) ow_zsock_limit(d, OW_ZSOCK_CTL_CLIENT);
    if (!d || zsock_connect(d, "%s", endpoint) < 0) {
        snprintf(err, errlen, "cannot connect to %s", endpoint);
        zsock_destroy(&d);
        return -1;
    }
    zsock_set_linger(d, 0);
    zsock_set_rcvtimeo(d, timeout_ms);
    zstr_send(d, body);
    zmsg_t *ans = zmsg_recv(d);
    if (!ans) {
        snprintf(err, errlen, "no answer from %s within %d ms (is ohmwatch-alarmd running?)",
                 endpoint, timeout_ms);
        goto out;
    }
    zframe_t *f = zmsg_first(ans);
    ow_msg_t r;
    if (!f ||
        ow_decode(NULL, 0, (char *)zframe_data(f), zframe_size(f), &r, err, errlen, NULL) !=
            OW_PERR_OK ||
        r.kind != OW_MSG_REPLY) {
        if (f) snprintf(err + strlen(err), errlen - strlen(err), " (malformed reply)");
        goto out;
    }
    *reply = r.u.reply;
    while ((f = zmsg_next(ans))) {
        zframe_t *b = zmsg_next(ans);
        if (!b) break;
        if (fn && ow_decode((char *)zframe_data(f), zframe_size(f), (char *)zframe_data(b),
                            zframe_size(b), &m, NULL, 0, NULL) == OW_PERR_OK)
            fn(ctx, &m);
    }
    rc = 0;
out:
    zmsg_destroy(&ans);
    zsock_destroy(&d);
    return rc;
}
