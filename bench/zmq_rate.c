/* Reference and measuring tool for bench/busd_rate.sh.
 *   ow-bench-zmq sink ENDPOINT IDLE_MS [SITE]   count [topic, body] messages from a
 *       PUB until IDLE_MS of silence; print count, mean size and rate.
 *   ow-bench-zmq raw COUNT TOPIC_BYTES BODY_BYTES   a bare libzmq PUB/SUB
 *       over loopback TCP with messages of that shape: the reference. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ow_auth.h"
#include "ow_clock.h"

typedef struct {
    void *ctx;
    const char *ep;
    int idle_ms;
    long long n, bytes;
    int64_t t_first, t_last;
} sink_t;

static void *sink_run(void *arg)
{
    sink_t *s = arg;
    void *sub = zmq_socket(s->ctx, ZMQ_SUB);
    int hwm = 0;
    zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &s->idle_ms, sizeof s->idle_ms);
    char err[512];
    if (ow_auth_client(sub, s->ep, err, sizeof err) < 0) fprintf(stderr, "sink: %s\n", err);
    zmq_connect(sub, s->ep);
    char buf[65536];
    for (;;) {
        int more = 1, got = 0;
        while (more) {
            int r = zmq_recv(sub, buf, sizeof buf, 0);
            if (r < 0) goto out;
            s->bytes += r;
            got = 1;
            size_t ml = sizeof more;
            zmq_getsockopt(sub, ZMQ_RCVMORE, &more, &ml);
        }
        if (got) {
            if (!s->n) s->t_first = ow_mono_us();
            s->n++;
            s->t_last = ow_mono_us();
        }
    }
out:
    zmq_close(sub);
    return NULL;
}

static double rate(const sink_t *s)
{
    double dt = (double)(s->t_last - s->t_first) / 1e6;
    return dt > 0 ? (double)(s->n - 1) / dt : 0;
}

int main(int argc, char **argv)
{
    void *ctx = zmq_ctx_new();
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "sink") == 0) {
        /* with SITE: a subscriber as the historian is, under the site's
         * CURVE setting (bench/curve.sh) */
        char err[512];
        ow_site_t *site = argc == 5 ? ow_site_load(argv[4], err, sizeof err) : NULL;
        if (argc == 5 && (!site || ow_auth_init_site(site, "historian", err, sizeof err) < 0)) {
            fprintf(stderr, "sink: %s\n", err);
            return 1;
        }
        sink_t s = {ctx, argv[2], atoi(argv[3]), 0, 0, 0, 0};
        sink_run(&s);
        printf("received %lld messages, mean %.0f bytes, %.0f msg/s\n", s.n,
               s.n ? (double)s.bytes / (double)s.n : 0, rate(&s));
        fflush(stdout);
        ow_auth_shutdown();
        ow_site_destroy(&site);
    } else if (argc == 5 && strcmp(argv[1], "raw") == 0) {
        long long count = atoll(argv[2]);
        size_t tl = (size_t)atoi(argv[3]), bl = (size_t)atoi(argv[4]);
        char *topic = malloc(tl), *body = malloc(bl);
        memset(topic, 't', tl);
        memset(body, 'b', bl);
        void *pub = zmq_socket(ctx, ZMQ_PUB);
        int hwm = 0;
        zmq_setsockopt(pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_bind(pub, "tcp://127.0.0.1:*");
        char ep[128];
        size_t epl = sizeof ep;
        zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, ep, &epl);
        sink_t s = {ctx, ep, 1000, 0, 0, 0, 0};
        pthread_t th;
        pthread_create(&th, NULL, sink_run, &s);
        /* Let the subscription arrive before timing. */
        for (int i = 0; i < 200 && s.n == 0; i++) {
            zmq_send(pub, topic, tl, ZMQ_SNDMORE);
            zmq_send(pub, body, bl, 0);
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
        long long warm = s.n;
        for (long long i = 0; i < count; i++) {
            zmq_send(pub, topic, tl, ZMQ_SNDMORE);
            zmq_send(pub, body, bl, 0);
        }
        pthread_join(th, NULL);
        printf("raw libzmq PUB/SUB: %lld messages of %zu+%zu bytes received, %.0f msg/s\n",
               s.n - warm, tl, bl, rate(&s));
        zmq_close(pub);
        free(topic);
        free(body);
    } else {
        fprintf(stderr, "usage: ow-bench-zmq sink ENDPOINT IDLE_MS | raw COUNT TOPIC BODY\n");
        return 2;
    }
    zmq_ctx_term(ctx);
    return 0;
}
