/* See ow_ctl.h. A fresh DEALER per call: calls are rare (an operator, a SET),
 * and a socket that timed out must not deliver a stale answer later. */
#include "ow_ctl.h"

#include <czmq.h>
#include <unistd.h>

#include "ow_auth.h"
#include "ow_clock.h"
#include "ow_zsock.h"

/* One control request on the wire: the same envelope for the one-shot call
 * and the standing socket. */
static int encode_request(const char *gw, const ow_control_t *req, uint64_t seq, char *body,
                          size_t bodylen, char *err, size_t errlen)
{
    ow_msg_t m;
    ow_msg_init(&m, OW_MSG_CONTROL);
    m.u.control = *req;
    snprintf(m.h.gw, sizeof m.h.gw, "%s", gw ? gw : "");
    snprintf(m.h.pub, sizeof m.h.pub, "ctl.%d", (int)getpid());
    m.h.epoch = (uint64_t)ow_now_us();
    m.h.seq = seq;
    m.h.ts_us = ow_now_us();
    return ow_encode(&m, body, bodylen, err, errlen);
}

/* An answer: the reply, then [topic, body] pairs for fn. 0, or -1 when
 * the first frame is not a reply (err says so when given). */
static int read_answer(zmsg_t *ans, ow_reply_t *reply, uint64_t *epoch, ow_ctl_msg_fn fn, void *ctx,
                       char *err, size_t errlen)
{
    zframe_t *f = ans ? zmsg_first(ans) : NULL;
    ow_msg_t r, m;
    if (!f ||
        ow_decode(NULL, 0, (char *)zframe_data(f), zframe_size(f), &r, err, errlen, NULL) !=
            OW_PERR_OK ||
        r.kind != OW_MSG_REPLY) {
        if (f && err) snprintf(err + strlen(err), errlen - strlen(err), " (malformed reply)");
        return -1;
    }
    *reply = r.u.reply;
    if (epoch) *epoch = r.h.epoch;
    while ((f = zmsg_next(ans))) {
        zframe_t *b = zmsg_next(ans);
        if (!b) break;
        if (fn && ow_decode((char *)zframe_data(f), zframe_size(f), (char *)zframe_data(b),
                            zframe_size(b), &m, NULL, 0, NULL) == OW_PERR_OK)
            fn(ctx, &m);
    }
    return 0;
}

int ow_ctl_call(const char *endpoint, const char *gw, const ow_control_t *req, int timeout_ms,
                ow_reply_t *reply, ow_ctl_msg_fn fn, void *ctx, char *err, size_t errlen)
{
    char body[OW_BODY_MAX];
    int rc = -1;

    if (encode_request(gw, req, 1, body, sizeof body, err, errlen) < 0) return -1;
    zsock_t *d = zsock_new(ZMQ_DEALER);
    if (d) ow_zsock_limit(d, OW_ZSOCK_CTL_CLIENT);
    if (!d || ow_auth_client(d, endpoint, err, errlen) < 0) {
        zsock_destroy(&d);
        return -1;
    }
    if (zsock_connect(d, "%s", endpoint) < 0) {
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
    if (read_answer(ans, reply, NULL, fn, ctx, err, errlen) < 0) goto out;
    rc = 0;
out:
    zmsg_destroy(&ans);
    zsock_destroy(&d);
    return rc;
}

/* ---- the standing socket (ow_ctl_async_t) ---- */

struct ow_ctl_async {
    zsock_t *d;
    zsock_t *mon;     /* the socket's handshake and disconnect events */
    int link;         /* -1 not known yet, 0 disconnected, 1 connected */
    int64_t again_us; /* a failed handshake: connect again then (0: no) */
    char ep[256];
    uint64_t seq;
};

ow_ctl_async_t *ow_ctl_async_new(const char *endpoint, char *err, size_t errlen)
{
    ow_ctl_async_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(c->ep, sizeof c->ep, "%s", endpoint);
    c->d = zsock_new(ZMQ_DEALER);
    if (c->d) ow_zsock_limit(c->d, OW_ZSOCK_CTL_CLIENT);
    if (!c->d || ow_auth_client(c->d, endpoint, err, errlen) < 0) {
        if (!c->d) snprintf(err, errlen, "out of memory");
        ow_ctl_async_destroy(&c);
        return NULL;
    }
    if (zsock_connect(c->d, "%s", endpoint) < 0) {
        snprintf(err, errlen, "cannot connect to %s", endpoint);
        ow_ctl_async_destroy(&c);
        return NULL;
    }
    zsock_set_linger(c->d, 0);
    /* a few probes queued while alarmd is away, not an unbounded backlog */
    zsock_set_sndhwm(c->d, 16);
    /* The link's events say at once that alarmd went (it stopped or
     * crashed), before any request could time out, and when it is back (a
     * handshake, CURVE or plain, completed). A socket has one monitor, so
     * this one also does what ow_auth_client_keep would: after a failed
     * handshake libzmq never connects that session again, so we do. */
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://ow-ctl-mon-%d-%p", (int)getpid(), (void *)c);
    c->link = -1;
    if (zmq_socket_monitor(zsock_resolve(c->d), ep,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) == 0) {
        c->mon = zsock_new(ZMQ_PAIR);
        if (c->mon && zsock_connect(c->mon, "%s", ep) < 0) zsock_destroy(&c->mon);
    }
    return c;
}

void ow_ctl_async_destroy(ow_ctl_async_t **cp)
{
    ow_ctl_async_t *c = *cp;
    if (!c) return;
    if (c->d) zmq_socket_monitor(zsock_resolve(c->d), NULL, 0);
    zsock_destroy(&c->mon);
    zsock_destroy(&c->d);
    free(c);
    *cp = NULL;
}

int ow_ctl_async_send(ow_ctl_async_t *c, const char *gw, const ow_control_t *req, char *err,
                      size_t errlen)
{
    char body[OW_BODY_MAX];
    int n = encode_request(gw, req, ++c->seq, body, sizeof body, err, errlen);
    if (n < 0) return -1;
    if (zmq_send(zsock_resolve(c->d), body, (size_t)n, ZMQ_DONTWAIT) < 0) {
        snprintf(err, errlen, "cannot queue a request: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

int ow_ctl_async_recv(ow_ctl_async_t *c, ow_reply_t *reply, uint64_t *epoch, ow_ctl_msg_fn fn,
                      void *ctx)
{
    zmq_pollitem_t it = {zsock_resolve(c->d), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 0) <= 0 || !(it.revents & ZMQ_POLLIN)) return 0;
    zmsg_t *ans = zmsg_recv(c->d);
    int rc = read_answer(ans, reply, epoch, fn, ctx, NULL, 0) < 0 ? -1 : 1;
    zmsg_destroy(&ans);
    return rc;
}

int ow_ctl_async_link(ow_ctl_async_t *c)
{
    zmq_pollitem_t it = {c->mon ? zsock_resolve(c->mon) : NULL, 0, ZMQ_POLLIN, 0};
    while (c->mon && zmq_poll(&it, 1, 0) > 0 && (it.revents & ZMQ_POLLIN)) {
        /* [event u16 + value u32, endpoint] */
        zmsg_t *ev = zmsg_recv(c->mon);
        zframe_t *f = ev ? zmsg_first(ev) : NULL;
        if (f && zframe_size(f) >= 2) {
            uint16_t e;
            memcpy(&e, zframe_data(f), sizeof e);
            if (e == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) c->link = 1;
            if (e == ZMQ_EVENT_DISCONNECTED) c->link = 0;
            if (e == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                e == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL || e == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
                c->link = 0;
                /* one try a second: a rogue that answers at once is not flooded */
                if (!c->again_us) c->again_us = ow_mono_us() + 1000000;
            }
        }
        zmsg_destroy(&ev);
    }
    if (c->again_us && ow_mono_us() >= c->again_us) {
        c->again_us = 0;
        zmq_disconnect(zsock_resolve(c->d), c->ep);
        if (zmq_connect(zsock_resolve(c->d), c->ep) < 0) c->again_us = ow_mono_us() + 1000000;
    }
    return c->link;
}
