/* The control client against an in-test ROUTER playing alarmd: a call, and
 * the standing asynchronous socket that never waits (snmpd's probe): a
 * request queued before the server is up is answered once it binds, the
 * answer carries the server's epoch and its messages, the link reports the
 * server's going and coming back. */
#include "ow_ctl.h"
#include "ow_test.h"

#include <czmq.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "ow_clock.h"

static int port_free(void)
{
    /* czmq picks a free port for "tcp://127.0.0.1:*" */
    zsock_t *s = zsock_new(ZMQ_ROUTER);
    int p = zsock_bind(s, "tcp://127.0.0.1:*");
    zsock_destroy(&s);
    return p;
}

/* Answer one request with a reply (epoch) and one config message. */
static int serve_one(zsock_t *r, uint64_t epoch, int timeout_ms)
{
    zsock_set_rcvtimeo(r, timeout_ms);
    zmsg_t *req = zmsg_recv(r);
    if (!req) return -1;
    zframe_t *id = zmsg_pop(req), *body = zmsg_pop(req);
    ow_msg_t m, rm, cm;
    char b[OW_BODY_MAX], cb[OW_BODY_MAX], t[OW_TOPIC_MAX], err[200];
    int ok = ow_decode(NULL, 0, (char *)zframe_data(body), zframe_size(body), &m, err, sizeof err,
                       NULL) == OW_PERR_OK;
    ow_msg_init(&rm, OW_MSG_REPLY);
    snprintf(rm.h.pub, sizeof rm.h.pub, "alarmd");
    rm.h.epoch = epoch, rm.h.seq = 1, rm.h.ts_us = 1;
    rm.u.reply.ok = ok;
    rm.u.reply.value = 7;
    snprintf(rm.u.reply.req, sizeof rm.u.reply.req, "%s", ok ? m.u.control.req : "");
    ow_msg_init(&cm, OW_MSG_CONFIG);
    snprintf(cm.h.pub, sizeof cm.h.pub, "alarmd");
    snprintf(cm.h.gw, sizeof cm.h.gw, "wm1");
    cm.h.epoch = epoch, cm.h.seq = 1, cm.h.ts_us = 1;
    snprintf(cm.u.config.key, sizeof cm.u.config.key, "thresholds.temp_c.high_warn");
    snprintf(cm.u.config.source, sizeof cm.u.config.source, "control");
    snprintf(cm.u.config.who, sizeof cm.u.config.who, "x/%s", ok ? m.u.control.user : "");
    cm.u.config.value = 27;
    int n = ow_encode(&rm, b, sizeof b, err, sizeof err);
    int cn = ow_encode(&cm, cb, sizeof cb, err, sizeof err);
    ow_topic(&cm, t, sizeof t);
    zmsg_t *out = zmsg_new();
    zmsg_append(out, &id);
    zmsg_addmem(out, b, (size_t)n);
    zmsg_addstr(out, t);
    zmsg_addmem(out, cb, (size_t)cn);
    zmsg_send(&out, r);
    zframe_destroy(&body);
    zmsg_destroy(&req);
    return 0;
}

static int got_cfg;
static char got_who[128];
static void on_msg(void *ctx, const ow_msg_t *m)
{
    (void)ctx;
    if (m->kind == OW_MSG_CONFIG && m->u.config.value == 27) {
        got_cfg++;
        snprintf(got_who, sizeof got_who, "%s", m->u.config.who);
    }
}

/* Poll the async socket for up to ms; 1 with a reply. */
static int async_wait(ow_ctl_async_t *c, ow_reply_t *r, uint64_t *epoch, int ms)
{
    int64_t end = ow_mono_us() + ms * 1000LL;
    while (ow_mono_us() < end) {
        int got = ow_ctl_async_recv(c, r, epoch, on_msg, NULL);
        if (got) return got;
        usleep(2000);
    }
    return 0;
}

static int link_wait(ow_ctl_async_t *c, int want, int ms)
{
    int64_t end = ow_mono_us() + ms * 1000LL;
    while (ow_mono_us() < end && ow_ctl_async_link(c) != want)
        usleep(2000);
    return ow_ctl_async_link(c);
}

int main(void)
{
    char ep[64], err[256];
    int port = port_free();
    CHECK(port > 0);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);

    /* nobody there: a call times out, saying so */
    ow_control_t req = {"get", "thresholds.temp_c.high_warn", NAN, 0, "r1", "nms"};
    ow_reply_t r;
    int64_t t0 = ow_mono_us();
    CHECK(ow_ctl_call(ep, "wm1", &req, 100, &r, NULL, NULL, err, sizeof err) == -1);
    CHECK(ow_mono_us() - t0 < 1000000);
    CHECK(strstr(err, "no answer") != NULL);

    /* the standing socket: sent while nobody is there, it never waits */
    ow_ctl_async_t *c = ow_ctl_async_new(ep, err, sizeof err);
    CHECK(c != NULL);
    CHECK(ow_ctl_async_link(c) == -1);
    t0 = ow_mono_us();
    CHECK(ow_ctl_async_send(c, "wm1", &req, err, sizeof err) == 0);
    uint64_t epoch = 0;
    CHECK(ow_ctl_async_recv(c, &r, &epoch, on_msg, NULL) == 0);
    CHECK(ow_mono_us() - t0 < 50000);

    /* the server binds: the queued request is delivered and answered */
    zsock_t *srv = zsock_new(ZMQ_ROUTER);
    CHECK(zsock_bind(srv, "%s", ep) == port);
    CHECK(serve_one(srv, 111, 3000) == 0);
    CHECK(async_wait(c, &r, &epoch, 3000) == 1);
    CHECK(r.ok && r.value == 7 && strcmp(r.req, "r1") == 0 && epoch == 111);
    CHECK(got_cfg == 1);
    CHECK_STR(got_who, "x/nms"); /* the user travelled */
    CHECK(link_wait(c, 1, 2000) == 1);

    /* the server goes: the link says so at once */
    zsock_destroy(&srv);
    CHECK(link_wait(c, 0, 2000) == 0);
    /* and comes back (a restart: another epoch) */
    srv = zsock_new(ZMQ_ROUTER);
    CHECK(zsock_bind(srv, "%s", ep) == port);
    CHECK(link_wait(c, 1, 5000) == 1);
    CHECK(ow_ctl_async_send(c, "wm1", &req, err, sizeof err) == 0);
    CHECK(serve_one(srv, 222, 3000) == 0);
    CHECK(async_wait(c, &r, &epoch, 3000) == 1);
    CHECK(epoch == 222);

    /* a malformed answer is dropped, not taken for a reply */
    zsock_set_rcvtimeo(srv, 3000);
    CHECK(ow_ctl_async_send(c, "wm1", &req, err, sizeof err) == 0);
    zmsg_t *q = zmsg_recv(srv);
    CHECK(q != NULL);
    if (q) {
        zframe_t *id = zmsg_pop(q);
        zmsg_t *out = zmsg_new();
        zmsg_append(out, &id);
        zmsg_addstr(out, "{not json");
        zmsg_send(&out, srv);
        zmsg_destroy(&q);
    }
    int got = 0;
    for (int i = 0; i < 500 && !got; i++) {
        got = ow_ctl_async_recv(c, &r, &epoch, on_msg, NULL);
        usleep(2000);
    }
    CHECK(got == -1);

    ow_ctl_async_destroy(&c);
    CHECK(c == NULL);
    zsock_destroy(&srv);
    return ow_test_done("ctl_test");
}
