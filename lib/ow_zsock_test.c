/* ow_zsock: every role's options reach the socket, and a frame over the
 * limit drops its sender's connection without reaching the application
 * while another peer is still served. */
#include "ow_zsock.h"

#include <czmq.h>

#include "ow_test.h"

static int64_t opt64(void *s, int o)
{
    int64_t v = 0;
    size_t n = sizeof v;
    zmq_getsockopt(zsock_resolve(s), o, &v, &n);
    return v;
}

static int opt(void *s, int o)
{
    int v = 0;
    size_t n = sizeof v;
    zmq_getsockopt(zsock_resolve(s), o, &v, &n);
    return v;
}

/* Wait for a monitor event of kind ev on the inproc monitor socket m. */
static int wait_event(void *m, int ev, int timeout_ms)
{
    zmq_pollitem_t it = {m, 0, ZMQ_POLLIN, 0};
    while (zmq_poll(&it, 1, timeout_ms) > 0) {
        zmq_msg_t a, b;
        zmq_msg_init(&a);
        zmq_msg_init(&b);
        zmq_msg_recv(&a, m, 0);
        zmq_msg_recv(&b, m, 0);
        uint16_t got;
        memcpy(&got, zmq_msg_data(&a), sizeof got);
        zmq_msg_close(&a);
        zmq_msg_close(&b);
        if (got == ev) return 1;
    }
    return 0;
}

int main(void)
{
    for (int r = 0; r < OW_ZSOCK_ROLES; r++) {
        const ow_zsock_limits_t *l = ow_zsock_limits(r);
        zsock_t *s = zsock_new(r == OW_ZSOCK_SUB ? ZMQ_SUB : ZMQ_ROUTER);
        CHECK(l && l->name && l->why && l->max_frame >= OW_TOPIC_MAX);
        CHECK(ow_zsock_limit(s, r) == 0);
        CHECK(opt64(s, ZMQ_MAXMSGSIZE) == l->max_frame);
        if (l->sndhwm >= 0) CHECK(opt(s, ZMQ_SNDHWM) == l->sndhwm);
        if (l->rcvhwm >= 0) CHECK(opt(s, ZMQ_RCVHWM) == l->rcvhwm);
        zsock_destroy(&s);
    }
    CHECK(ow_zsock_limits(OW_ZSOCK_ROLES) == NULL);
    CHECK(ow_zsock_limit(NULL, OW_ZSOCK_CONTROL) == -1);
    /* A whole replay answer fits the replay ROUTER's per-peer queue. */
    CHECK(ow_zsock_limits(OW_ZSOCK_REPLAY)->sndhwm >= OW_REPLAY_CHUNK + 2);

    zsock_t *router = zsock_new(ZMQ_ROUTER);
    CHECK(ow_zsock_limit(router, OW_ZSOCK_CONTROL) == 0);
    int port = zsock_bind(router, "tcp://127.0.0.1:*");
    CHECK(port > 0);
    CHECK(zmq_socket_monitor(zsock_resolve(router), "inproc://zsock-mon", ZMQ_EVENT_DISCONNECTED) ==
          0);
    zsock_t *mon = zsock_new(ZMQ_PAIR);
    zsock_connect(mon, "inproc://zsock-mon");
    zsock_t *big = zsock_new_dealer(NULL), *ok = zsock_new_dealer(NULL);
    zsock_set_linger(big, 0);
    zsock_connect(big, "tcp://127.0.0.1:%d", port);
    zsock_connect(ok, "tcp://127.0.0.1:%d", port);
    size_t n = (size_t)ow_zsock_limits(OW_ZSOCK_CONTROL)->max_frame + 1;
    char *blob = calloc(1, n);
    zmq_send(zsock_resolve(big), blob, n, 0);
    free(blob);
    CHECK_MSG(wait_event(zsock_resolve(mon), ZMQ_EVENT_DISCONNECTED, 5000),
              "the peer with a %zu-byte frame was not disconnected", n);
    zstr_send(ok, "small");
    zsock_set_rcvtimeo(router, 5000);
    zmsg_t *m = zmsg_recv(router);
    CHECK(m && zmsg_size(m) == 2);
    if (m) {
        zframe_t *body = zmsg_last(m);
        CHECK(zframe_streq(body, "small"));
    }
    zmsg_destroy(&m);
    /* Nothing of the oversized frame was delivered. */
    zsock_set_rcvtimeo(router, 0);
    m = zmsg_recv(router);
    CHECK(m == NULL);
    zmsg_destroy(&m);
    zsock_destroy(&big);
    zsock_destroy(&ok);
    zsock_destroy(&mon);
    zsock_destroy(&router);
    return ow_test_done("zsock_test");
}
