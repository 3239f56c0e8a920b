/* The gap-filling subscriber against an in-test publisher that speaks the
 * replay protocol (proto/ow_proto.h). The real busd is exercised by the
 * multi-process tests in tests/. */
#include "ow_clock.h"
#include "ow_pub.h"
#include "ow_sub.h"
#include "ow_test.h"

#include <czmq.h>
#include <pthread.h>
#include <unistd.h>

#define N 400

static char topics[N + 1][OW_TOPIC_MAX];
static char bodies[N + 1][512];
static int held[N + 1]; /* what the fake journal still holds */
static uint64_t epoch = 1000;
static volatile int server_stop;
static volatile uint64_t published_max; /* the fake journal ends here */

static void make(uint64_t ep, uint64_t seq)
{
    ow_msg_t m;
    char err[100];
    ow_msg_init(&m, OW_MSG_STRING);
    strcpy(m.h.pub, "busd.t");
    strcpy(m.h.gw, "t");
    m.h.epoch = ep;
    m.h.seq = seq;
    m.h.ts_us = 1;
    m.u.string.string = 1;
    m.u.string.sum_voltage_v = (double)seq;
    ow_topic(&m, topics[seq], sizeof topics[seq]);
    ow_encode(&m, bodies[seq], sizeof bodies[seq], err, sizeof err);
    held[seq] = 1;
}

static void *server(void *arg)
{
    zsock_t *r = arg;
    while (!server_stop) {
        zpoller_t *pl = zpoller_new(r, NULL);
        void *ready = zpoller_wait(pl, 50);
        zpoller_destroy(&pl);
        if (!ready) continue;
        zmsg_t *req = zmsg_recv(r);
        zframe_t *id = zmsg_pop(req);
        char *cmd = zmsg_popstr(req), *body = zmsg_popstr(req);
        unsigned long long ep = 0, from = 0;
        int max = 0;
        if (body) sscanf(body, "{\"epoch\":%llu,\"from\":%llu,\"max\":%d}", &ep, &from, &max);
        uint64_t first = 0, last = 0;
        for (int s = 1; s <= (int)published_max; s++)
            if (held[s]) {
                if (!first) first = (uint64_t)s;
                last = (uint64_t)s;
            }
        zframe_send(&id, r, ZFRAME_MORE | ZFRAME_REUSE);
        zstr_sendm(r, OW_REPLAY_BEGIN);
        zstr_sendf(r, "{\"epoch\":%llu,\"first\":%llu,\"last\":%llu}", (unsigned long long)epoch,
                   (unsigned long long)first, (unsigned long long)last);
        uint64_t next = from < first ? first : from;
        int sent = 0;
        for (; ep == epoch && next <= last && sent < max && sent < 50; next++, sent++) {
            zframe_send(&id, r, ZFRAME_MORE | ZFRAME_REUSE);
            zstr_sendm(r, OW_REPLAY_MSG);
            zstr_sendm(r, topics[next]);
            zstr_send(r, bodies[next]);
        }
        zframe_send(&id, r, ZFRAME_MORE | ZFRAME_REUSE);
        zstr_sendm(r, OW_REPLAY_END);
        /* At most 50 per answer here, to exercise "more". */
        zstr_sendf(r, "{\"epoch\":%llu,\"next\":%llu,\"more\":%s}", (unsigned long long)epoch,
                   (unsigned long long)next, ep == epoch && next <= last ? "true" : "false");
        zframe_destroy(&id);
        free(cmd);
        free(body);
        zmsg_destroy(&req);
    }
    return NULL;
}

/* Answers replay requests of a real ow_pub until told to stop. */
static void *qserve(void *arg)
{
    struct {
        ow_pub_t *p;
        volatile int stop;
    } *q = arg;
    while (!q->stop)
        ow_pub_serve_until(q->p, zclock_mono() * 1000 + 50000, NULL);
    return NULL;
}

static void pub_send(zsock_t *pub, uint64_t seq)
{
    if (seq > published_max) published_max = seq;
    zstr_sendm(pub, topics[seq]);
    zstr_send(pub, bodies[seq]);
}

/* Receive until `want` messages or a timeout; record the seqs in order. */
static int collect(ow_sub_t *sub, uint64_t *seqs, int want, int *replayed)
{
    ow_delivery_t d;
    int n = 0;
    while (n < want && ow_sub_recv(sub, &d, 1500) == 1) {
        seqs[n++] = d.msg.h.seq;
        if (replayed) *replayed += d.replayed;
    }
    return n;
}

static int in_order(const uint64_t *seqs, int n, uint64_t from)
{
    for (int i = 0; i < n; i++)
        if (seqs[i] != from + (uint64_t)i) return 0;
    return 1;
}

int main(void)
{
    zsys_init();
    zsock_t *pub = zsock_new_pub("tcp://127.0.0.1:*");
    zsock_t *rtr = zsock_new_router("tcp://127.0.0.1:*");
    char pub_ep[64], rtr_ep[64];
    snprintf(pub_ep, sizeof pub_ep, "%s", zsock_endpoint(pub));
    snprintf(rtr_ep, sizeof rtr_ep, "%s", zsock_endpoint(rtr));
    pthread_t th;
    pthread_create(&th, NULL, server, rtr);
    for (int s = 1; s <= N; s++)
        make(epoch, (uint64_t)s);

    uint64_t seqs[N + 10];
    int replayed = 0;

    /* 1. A gap in the live stream is filled by replay, in order. */
    ow_sub_t *sub = ow_sub_new();
    CHECK(ow_sub_add(sub, pub_ep, rtr_ep) == 0);
    ow_sub_subscribe(sub, "");
    zclock_sleep(300); /* slow joiner */
    pub_send(pub, 1);
    pub_send(pub, 2);
    for (int s = 10; s <= 20; s++) /* 3..9 never sent live */
        pub_send(pub, (uint64_t)s);
    int n = collect(sub, seqs, 20, &replayed);
    CHECK_MSG(n == 20, "got %d", n);
    CHECK(in_order(seqs, n, 1));
    CHECK(replayed >= 7); /* live copies of what replay already gave are dropped */
    CHECK(ow_sub_stats(sub)->gaps == 1);
    CHECK(ow_sub_stats(sub)->lost == 0);

    /* 2. Duplicates are dropped. */
    pub_send(pub, 20);
    pub_send(pub, 21);
    n = collect(sub, seqs, 5, NULL);
    CHECK(n == 1 && seqs[0] == 21);
    CHECK(ow_sub_stats(sub)->duplicates >= 1);

    /* 3. What the publisher no longer holds is reported lost, the rest kept. */
    held[22] = held[23] = 0;
    for (int s = 1; s <= 21; s++)
        held[s] = 0; /* journal starts at 24 now */
    pub_send(pub, 30);
    n = collect(sub, seqs, 10, NULL);
    CHECK_MSG(n == 7, "got %d", n); /* 24..30 */
    CHECK(n > 0 && seqs[0] == 24 && in_order(seqs, n, 24));
    CHECK_MSG(ow_sub_stats(sub)->lost == 2, "lost %llu",
              (unsigned long long)ow_sub_stats(sub)->lost);

    /* 4. Malformed frames are counted and do not stop the stream. */
    zstr_sendm(pub, "str/t/01");
    zstr_send(pub, "{\"v\":1,\"kind\":\"string\"}");
    zstr_send(pub, "single-frame");
    pub_send(pub, 31);
    n = collect(sub, seqs, 1, NULL);
    CHECK(n == 1 && seqs[0] == 31);
    CHECK(ow_sub_stats(sub)->malformed == 2);
    char pid[OW_ID_MAX];
    uint64_t pe, ps;
    CHECK(ow_sub_position(sub, 0, pid, sizeof pid, &pe, &ps) == 0);
    CHECK(ps == 31 && pe == epoch);
    CHECK_STR(pid, "busd.t");
    ow_sub_destroy(&sub);

    /* 5. Resume: a new subscriber that stopped at 40 gets 41.. first; more
     * than one answer's worth (50) so it has to ask again. */
    for (int s = 1; s <= N; s++)
        held[s] = 1;
    sub = ow_sub_new();
    ow_sub_add(sub, pub_ep, rtr_ep);
    ow_sub_subscribe(sub, "");
    ow_sub_resume(sub, "busd.t", epoch, 40);
    zclock_sleep(300);
    pub_send(pub, 200);
    replayed = 0;
    n = collect(sub, seqs, 160, &replayed);
    CHECK_MSG(n == 160, "got %d", n);
    CHECK(in_order(seqs, n, 41));
    CHECK(replayed >= 159);
    ow_sub_destroy(&sub);

    /* 6. A publisher restart (new epoch) is replayed from its first message. */
    sub = ow_sub_new();
    ow_sub_add(sub, pub_ep, rtr_ep);
    ow_sub_subscribe(sub, "");
    zclock_sleep(300);
    pub_send(pub, 201);
    n = collect(sub, seqs, 1, NULL);
    CHECK(n == 1 && seqs[0] == 201);
    epoch = 2000;
    published_max = 0;
    memset(held, 0, sizeof held);
    for (int s = 1; s <= 5; s++)
        make(epoch, (uint64_t)s);
    pub_send(pub, 5);
    n = collect(sub, seqs, 5, NULL);
    CHECK_MSG(n == 5 && in_order(seqs, n, 1), "got %d", n);
    CHECK(ow_sub_stats(sub)->restarts == 1);
    ow_sub_destroy(&sub);

    /* 7. Without a replay endpoint a gap is declared lost at once. */
    sub = ow_sub_new();
    ow_sub_add(sub, pub_ep, NULL);
    ow_sub_subscribe(sub, "");
    zclock_sleep(300);
    published_max = 0;
    make(epoch, 1);
    make(epoch, 4);
    pub_send(pub, 1);
    pub_send(pub, 4);
    n = collect(sub, seqs, 2, NULL);
    CHECK(n == 2 && seqs[1] == 4);
    CHECK(ow_sub_stats(sub)->lost == 2);
    ow_sub_destroy(&sub);

    /* 7b. The tail of a stream lost on the live path (dropped at the ZMQ
     * high-water mark) with nothing after it to show the gap: the publisher
     * went quiet, and its journal end is asked for after a quiet second. */
    memset(held, 0, sizeof held);
    for (int s = 1; s <= 8; s++)
        make(epoch, (uint64_t)s);
    published_max = 0;
    sub = ow_sub_new();
    ow_sub_add(sub, pub_ep, rtr_ep);
    ow_sub_subscribe(sub, "");
    zclock_sleep(300);
    for (int s = 1; s <= 3; s++)
        pub_send(pub, (uint64_t)s);
    n = collect(sub, seqs, 3, NULL);
    CHECK(n == 3 && in_order(seqs, n, 1));
    zclock_sleep(300); /* the start-up probe has its answer: journal ends at 3 */
    published_max = 8; /* 4..8 are in the journal only */
    replayed = 0;
    int64_t t0 = zclock_mono();
    n = collect(sub, seqs, 5, &replayed);
    CHECK_MSG(n == 5 && in_order(seqs, n, 4) && replayed == 5, "quiet tail: got %d, %d replayed", n,
              replayed);
    CHECK_MSG(zclock_mono() - t0 >= 500, "asked after a quiet second, not at once");
    CHECK(ow_sub_stats(sub)->lost == 0 && ow_sub_stats(sub)->gaps == 1);
    /* and nothing more is asked for or delivered while the journal has nothing new */
    n = collect(sub, seqs, 1, NULL);
    CHECK(n == 0 && ow_sub_stats(sub)->gaps == 1);
    ow_sub_destroy(&sub);

    /* 1b. A timeout of 0 takes what has already arrived (it returned before
     * looking at the sockets, so a poller with 0 saw nothing new). */
    {
        ow_delivery_t d;
        sub = ow_sub_new();
        ow_sub_add(sub, pub_ep, rtr_ep);
        ow_sub_subscribe(sub, "");
        zclock_sleep(300);
        published_max = 0;
        make(epoch, 1);
        pub_send(pub, 1);
        zclock_sleep(200);
        CHECK_MSG(ow_sub_recv(sub, &d, 0) == 1, "timeout 0 missed a message that had arrived");
        CHECK(ow_sub_recv(sub, &d, 0) == 0);
        ow_sub_destroy(&sub);
    }

    /* 8. A publisher that has gone quiet (alarmd between events, a busd that
     * finished) is still caught up with: the subscriber probes its journal
     * at start instead of waiting for a live message. Real ow_pub here. */
    {
        char qp[64], qr[64], perr[200];
        /* ow_pub binds fixed endpoints; a port from the ephemeral range may
         * be taken by any other socket on a busy CI host, so try a few. */
        ow_pub_t *qpub = NULL;
        for (int try = 0; !qpub && try < 50; try++) {
            int base = 20000 + (int)((getpid() * 7919u + (unsigned)try * 104729u) % 12000);
            snprintf(qp, sizeof qp, "tcp://127.0.0.1:%d", base);
            snprintf(qr, sizeof qr, "tcp://127.0.0.1:%d", base + 1);
            qpub = ow_pub_new("alarmd", qp, qr, 1000, perr, sizeof perr);
        }
        CHECK_MSG(qpub != NULL, "%s", perr);
        if (!qpub) return ow_test_done("sub_test");
        for (int i = 0; qpub && i < 50; i++) {
            ow_msg_t m;
            ow_msg_init(&m, OW_MSG_CONFIG);
            strcpy(m.h.gw, "t");
            m.h.ts_us = 1 + i;
            snprintf(m.u.config.key, sizeof m.u.config.key, "k%d", i);
            m.u.config.value = i;
            strcpy(m.u.config.source, "control");
            ow_pub_send(qpub, &m);
        }
        /* The answering happens on this thread: serve from a helper. */
        pthread_t qt;
        struct {
            ow_pub_t *p;
            volatile int stop;
        } qs = {qpub, 0};
        pthread_create(&qt, NULL, qserve, &qs);
        sub = ow_sub_new();
        ow_sub_add(sub, qp, qr);
        ow_sub_subscribe(sub, "");
        ow_sub_from_start(sub, 1);
        replayed = 0;
        n = collect(sub, seqs, 50, &replayed);
        CHECK_MSG(n == 50 && in_order(seqs, n, 1) && replayed == 50,
                  "quiet publisher from start: got %d, %d replayed", n, replayed);
        ow_sub_destroy(&sub);
        sub = ow_sub_new();
        ow_sub_add(sub, qp, qr);
        ow_sub_subscribe(sub, "");
        ow_sub_resume(sub, "alarmd", ow_pub_epoch(qpub), 30);
        n = collect(sub, seqs, 50, NULL);
        CHECK_MSG(n == 20 && in_order(seqs, n, 31), "quiet publisher resumed at 30: got %d", n);
        ow_sub_destroy(&sub);
        qs.stop = 1;
        pthread_join(qt, NULL);
        ow_pub_destroy(&qpub);
    }

    /* A wake socket ends a long wait as soon as it is readable (a daemon's
     * control request), and only then: without input the wait runs out. */
    {
        ow_sub_t *ws = ow_sub_new();
        zsock_t *wr = zsock_new_pull("inproc://sub-wake"),
                *ww = zsock_new_push("inproc://sub-wake");
        ow_delivery_t d;
        ow_sub_add(ws, "inproc://sub-wake-nobody", NULL);
        ow_sub_subscribe(ws, "");
        CHECK(ow_sub_wake_on(ws, wr) == 0);
        int64_t w0 = ow_mono_us();
        CHECK(ow_sub_recv(ws, &d, 100) == 0);
        CHECK_MSG(ow_mono_us() - w0 >= 90000, "no input: the whole 100 ms waited");
        zstr_send(ww, "request");
        w0 = ow_mono_us();
        CHECK(ow_sub_recv(ws, &d, 5000) == 0);
        CHECK_MSG(ow_mono_us() - w0 < 1000000, "woken in %lld us", (long long)(ow_mono_us() - w0));
        for (int i = 0; i < 4; i++)
            ow_sub_wake_on(ws, wr);
        CHECK(ow_sub_wake_on(ws, wr) == -1); /* at most 4 */
        zsock_destroy(&ww);
        zsock_destroy(&wr);
        ow_sub_destroy(&ws);
    }

    server_stop = 1;
    pthread_join(th, NULL);
    zsock_destroy(&pub);
    zsock_destroy(&rtr);
    return ow_test_done("sub_test");
}
