/* Alarm latency of alarmd under load, for bench/alarm_latency.sh. This program
 * plays a gateway of a site file (it binds the gateway's publish and replay
 * endpoints, as busd would), publishes poll cycles at a paced reading rate with
 * an occasional block above the high voltage alarm, and times each crossing
 * reading from its publication to alarmd's "raise" event. In the same run a
 * bare libzmq PUB->SUB->PUB->SUB relay gives the reference for those two hops.
 *   ow-bench-alarm SITE.json [SECONDS] [RATE] [EVERY]
 * RATE is module readings per second (default 50000), EVERY the cycles between
 * two crossings (default 10). */
#include <czmq.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ow_auth.h"
#include "ow_clock.h"
#include "ow_config.h"
#include "ow_gbms.h"
#include "ow_log.h"
#include "ow_pub.h"
#include "ow_signal.h"

#define V_NORMAL    13.6     /* float charge of a 12 V VRLA block */
#define V_CROSS     16.0     /* above the default high alarm (15.5 V) */
#define SLOW_PERIOD 100000   /* µs per cycle until alarmd has answered */
#define WARMUP_MAX  15000000 /* µs: no alarm by then means alarmd is not working */
#define WARMUP_FULL 2000000  /* µs at full rate before measuring */
#define GRACE_US    3000000  /* µs without a new alarm before giving up on the rest */
#define REF_TRIPS   2000     /* reference round trips */
#define REF_TIMEOUT 1000     /* ms before a reference trip counts as lost */

/* A reading published above the alarm level; matched to its alarm by
 * (module, ts_us) because alarmd stamps raised_us with the reading's time. */
typedef struct {
    int module;
    int64_t ts_us, sent_mono;
} crossing_t;

/* A voltage-high raise as received from alarmd. */
typedef struct {
    int module;
    int64_t raised_us, recv_mono;
} raise_t;

/* The alarm receiver runs in its own thread so that the publishing burst of a
 * cycle does not delay the receive timestamps. */
typedef struct {
    void *ctx, *sub;
    atomic_int stop;
    atomic_long raises;   /* voltage-high raises for our gateway */
    atomic_long events;   /* every alarm event for our gateway */
    atomic_long rejected; /* messages the codec refused */
    pthread_mutex_t lock; /* r and n, while the receiver runs */
    raise_t *r;
    size_t n, cap;
} receiver_t;

static void *receive_alarms(void *arg)
{
    receiver_t *rc = arg;
    zmq_pollitem_t it = {rc->sub, 0, ZMQ_POLLIN, 0};
    char topic[OW_TOPIC_MAX], body[OW_BODY_MAX + 1], err[160];

    while (!atomic_load(&rc->stop)) {
        if (zmq_poll(&it, 1, 50) <= 0) continue;
        int more = 0;
        size_t ml = sizeof more;
        int tl = zmq_recv(rc->sub, topic, sizeof topic, 0);
        zmq_getsockopt(rc->sub, ZMQ_RCVMORE, &more, &ml);
        int bl = more ? zmq_recv(rc->sub, body, sizeof body, 0) : -1;
        /* Stamped before decoding: decoding is our cost, not alarmd's. */
        int64_t now = ow_mono_us();
        for (more = bl >= 0; more;) { /* drain frames beyond two: malformed */
            zmq_getsockopt(rc->sub, ZMQ_RCVMORE, &more, &ml);
            if (more) zmq_recv(rc->sub, body, sizeof body, 0), bl = -1;
        }
        ow_msg_t m;
        if (tl < 0 || bl < 0 || tl > (int)sizeof topic || bl > (int)sizeof body - 1 ||
            ow_decode(topic, (size_t)tl, body, (size_t)bl, &m, err, sizeof err, NULL) !=
                OW_PERR_OK ||
            m.kind != OW_MSG_ALARM) {
            atomic_fetch_add(&rc->rejected, 1);
            continue;
        }
        atomic_fetch_add(&rc->events, 1);
        if (m.u.alarm.type != GBMS_A_VOLTAGE_HIGH || strcmp(m.u.alarm.action, "raise") != 0)
            continue;
        pthread_mutex_lock(&rc->lock);
        if (rc->n == rc->cap) {
            size_t cap = rc->cap ? rc->cap * 2 : 1024;
            raise_t *r = realloc(rc->r, cap * sizeof *r);
            if (r) rc->r = r, rc->cap = cap;
        }
        if (rc->n < rc->cap) rc->r[rc->n++] = (raise_t){m.u.alarm.module, m.u.alarm.raised_us, now};
        pthread_mutex_unlock(&rc->lock);
        atomic_fetch_add(&rc->raises, 1);
    }
    return NULL;
}

/* The gateway being played, and where its poll cycles stand. */
typedef struct {
    const ow_gateway_cfg_t *g;
    ow_pub_t *pub;
    int64_t ts_us, step_us, real_period_us;
    uint64_t cycles, overruns, readings;
    int64_t last_cycle_us;
    int next, stride; /* rotation of the crossing module over 0..nmodules-1 */
    crossing_t *x;    /* crossings sent while measuring (NULL: not recording) */
    size_t nx, capx;
} gateway_t;

static int send_msg(gateway_t *gw, ow_msg_t *m)
{
    snprintf(m->h.gw, sizeof m->h.gw, "%s", gw->g->id);
    m->h.ts_us = gw->ts_us;
    return ow_pub_send(gw->pub, m);
}

/* One poll cycle as busd publishes it: every module, each string after its
 * modules, the aux sensors, then the heartbeat that closes the cycle. */
static void poll_cycle(gateway_t *gw, int cross)
{
    const ow_gateway_cfg_t *g = gw->g;
    int64_t t0 = ow_mono_us();
    int hot = 0;
    ow_msg_t m;

    /* The previous crossing is back to normal in this cycle (so alarmd clears
     * it); a new one goes to another module. */
    if (cross) {
        int k = gw->next;
        gw->next = (gw->next + gw->stride) % g->nmodules;
        for (int s = 0; s < g->nstrings; s++) {
            if (k < g->strings[s].modules) {
                hot = g->strings[s].first_module + k;
                break;
            }
            k -= g->strings[s].modules;
        }
    }
    gw->ts_us += gw->step_us;
    for (int s = 0; s < g->nstrings; s++) {
        double sum = 0;
        for (int b = 1; b <= g->strings[s].modules; b++) {
            ow_msg_init(&m, OW_MSG_MODULE);
            m.u.module = (ow_module_t){
                s + 1, g->strings[s].first_module + b - 1, b, V_NORMAL, 25.0, 5.0, 0.0, 0};
            if (m.u.module.module == hot) m.u.module.voltage_v = V_CROSS;
            sum += m.u.module.voltage_v;
            if (send_msg(gw, &m) < 0) continue;
            gw->readings++;
            /* Taken once the message is in libzmq's queue: "published". */
            if (m.u.module.module == hot && gw->x) {
                if (gw->nx == gw->capx) {
                    size_t cap = gw->capx ? gw->capx * 2 : 1024;
                    crossing_t *x = realloc(gw->x, cap * sizeof *x);
                    if (!x) continue;
                    gw->x = x, gw->capx = cap;
                }
                gw->x[gw->nx++] = (crossing_t){hot, gw->ts_us, ow_mono_us()};
            }
        }
        ow_msg_init(&m, OW_MSG_STRING);
        int nb = g->strings[s].modules;
        m.u.string = (ow_string_t){
            s + 1, nb, 0, g->current_sensor ? 0.2 : NAN, NAN, sum, nb ? sum / nb : NAN, NAN, NAN};
        send_msg(gw, &m);
    }
    ow_msg_init(&m, OW_MSG_AUX);
    m.u.aux.ambient_c = g->ambient_sensor ? 25.0 : NAN;
    m.u.aux.humidity_pct = g->ambient_sensor ? 40.0 : NAN;
    m.u.aux.aux_units = g->aux_units;
    send_msg(gw, &m);

    ow_msg_init(&m, OW_MSG_HEARTBEAT);
    ow_heartbeat_t *hb = &m.u.heartbeat;
    snprintf(hb->state, sizeof hb->state, "running");
    snprintf(hb->source, sizeof hb->source, "bench");
    hb->period_us = gw->step_us;
    hb->speed = (double)gw->step_us / (double)gw->real_period_us;
    hb->strings = g->nstrings;
    hb->modules = g->nmodules;
    hb->journal_first = ow_pub_journal_first(gw->pub);
    hb->journal_last = ow_pub_journal_last(gw->pub);
    hb->cycle_us = gw->last_cycle_us;
    hb->cycles = ++gw->cycles;
    hb->overruns = gw->overruns;
    send_msg(gw, &m);
    gw->last_cycle_us = ow_mono_us() - t0;
}

/* Poll cycles against absolute deadlines until `until` (monotonic), or while
 * *cond holds; replay requests are answered in between. */
static void run_cycles(gateway_t *gw, ow_deadline_t *dl, int every, int64_t until,
                       int (*cond)(void *), void *arg)
{
    while (!ow_sig_stop && ow_mono_us() < until && (!cond || cond(arg))) {
        ow_pub_serve_until(gw->pub, ow_mono_us() + ow_deadline_wait_us(dl), &ow_sig_stop);
        int skipped = ow_deadline_tick(dl);
        if (skipped) {
            gw->overruns += (uint64_t)skipped;
            log_warnx("poll cycle overran its deadline; %d cycle(s) skipped", skipped);
        }
        poll_cycle(gw, gw->cycles % (uint64_t)every == 0);
    }
}

static int no_raise_yet(void *arg)
{
    receiver_t *rc = arg;
    return atomic_load(&rc->raises) == 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Match every crossing sent to its raise; store the latencies (µs) in lat
 * and their send times in sent, in send order, if not NULL. Returns how many
 * crossings have their alarm. Quadratic, but both lists hold a few hundred
 * entries. */
static size_t match(const gateway_t *gw, receiver_t *rc, int64_t *lat, int64_t *sent)
{
    size_t matched = 0;
    pthread_mutex_lock(&rc->lock);
    for (size_t i = 0; i < gw->nx; i++)
        for (size_t j = 0; j < rc->n; j++)
            if (rc->r[j].module == gw->x[i].module && rc->r[j].raised_us == gw->x[i].ts_us) {
                if (lat) lat[matched] = rc->r[j].recv_mono - gw->x[i].sent_mono;
                if (sent) sent[matched] = gw->x[i].sent_mono;
                matched++;
                break;
            }
    pthread_mutex_unlock(&rc->lock);
    return matched;
}

/* Least-squares slope of latency against send time (µs per µs). A receiver
 * that keeps up shows about 0; one that handles S messages/s of O offered
 * is behind by t * (O / S - 1) at time t, a straight line of that slope. */
static double trend(const int64_t *sent, const int64_t *lat, size_t n)
{
    double mx = 0, my = 0, sxy = 0, sxx = 0;
    if (n < 3) return 0;
    for (size_t i = 0; i < n; i++)
        mx += (double)(sent[i] - sent[0]), my += (double)lat[i];
    mx /= (double)n, my /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double dx = (double)(sent[i] - sent[0]) - mx;
        sxy += dx * ((double)lat[i] - my);
        sxx += dx * dx;
    }
    return sxx > 0 ? sxy / sxx : 0;
}

/* Nearest-rank percentile of a sorted array. */
static int64_t pct(const int64_t *v, size_t n, double q)
{
    size_t r = (size_t)ceil(q * (double)n);
    return n ? v[r ? r - 1 : 0] : 0;
}

/* ---- reference: the same two hops with nothing but libzmq ---- */

typedef struct {
    void *in, *out;
} relay_t;

/* Forward every message from in to out, frame by frame, until an empty
 * topic frame (the stop message). */
static void *relay_run(void *arg)
{
    relay_t *r = arg;
    for (;;) {
        zmq_msg_t f;
        int more = 1, stop = 0, first = 1;
        while (more) {
            zmq_msg_init(&f);
            if (zmq_msg_recv(&f, r->in, 0) < 0) {
                zmq_msg_close(&f);
                return NULL;
            }
            if (first && zmq_msg_size(&f) == 0) stop = 1;
            first = 0;
            more = zmq_msg_more(&f);
            if (zmq_msg_send(&f, r->out, more ? ZMQ_SNDMORE : 0) < 0) zmq_msg_close(&f);
        }
        if (stop) return NULL;
    }
}

/* Round trips of one [topic, body] of the given sizes through a relay thread
 * over loopback TCP; fills rtt (µs) and returns how many came back. */
static size_t reference(size_t tl, size_t bl, int64_t *rtt, size_t trips)
{
    void *ctx = zmq_ctx_new();
    void *pub_a = zmq_socket(ctx, ZMQ_PUB), *sub_a = zmq_socket(ctx, ZMQ_SUB);
    void *pub_b = zmq_socket(ctx, ZMQ_PUB), *sub_b = zmq_socket(ctx, ZMQ_SUB);
    char ep_a[128], ep_b[128], *topic = malloc(tl), *body = malloc(bl), *back = malloc(bl);
    size_t l = sizeof ep_a, n = 0;
    int timeout = 10;

    zmq_bind(pub_a, "tcp://127.0.0.1:*");
    zmq_getsockopt(pub_a, ZMQ_LAST_ENDPOINT, ep_a, &l);
    l = sizeof ep_b;
    zmq_bind(pub_b, "tcp://127.0.0.1:*");
    zmq_getsockopt(pub_b, ZMQ_LAST_ENDPOINT, ep_b, &l);
    zmq_setsockopt(sub_a, ZMQ_SUBSCRIBE, "", 0);
    zmq_setsockopt(sub_b, ZMQ_SUBSCRIBE, "", 0);
    zmq_connect(sub_a, ep_a);
    zmq_connect(sub_b, ep_b);
    memset(topic, 't', tl);
    memset(body, 'b', bl);
    relay_t r = {sub_a, pub_b};
    pthread_t th;
    pthread_create(&th, NULL, relay_run, &r);

    /* The trip number in the body tells a late answer from the current one;
     * trip 0 is repeated until both subscriptions have arrived. */
    zmq_setsockopt(sub_b, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    for (size_t i = 0; i <= trips; i++) {
        char tag[24];
        int tn = snprintf(tag, sizeof tag, "%zu:", i);
        memcpy(body, tag, (size_t)tn < bl ? (size_t)tn : bl);
        int64_t t0 = ow_mono_us(), deadline = t0 + (i ? REF_TIMEOUT : 5000) * 1000LL;
        zmq_send(pub_a, topic, tl, ZMQ_SNDMORE);
        zmq_send(pub_a, body, bl, 0);
        for (;;) {
            int got = zmq_recv(sub_b, back, bl, 0), more = 0;
            size_t ml = sizeof more;
            if (got >= 0) {
                zmq_getsockopt(sub_b, ZMQ_RCVMORE, &more, &ml);
                if (!more) continue; /* a topic frame; the body follows */
                got = zmq_recv(sub_b, back, bl, 0);
                int64_t now = ow_mono_us();
                if (got >= tn && memcmp(back, tag, (size_t)tn) == 0) {
                    if (i) rtt[n++] = now - t0;
                    break;
                }
            } else if (ow_mono_us() >= deadline) {
                break;
            } else if (i == 0 && errno == EAGAIN) {
                /* Not subscribed yet: ask again. */
                zmq_send(pub_a, topic, tl, ZMQ_SNDMORE);
                zmq_send(pub_a, body, bl, 0);
            }
        }
        if (i == 0 && n == 0 && ow_mono_us() >= deadline) break; /* no relay: give up */
    }
    zmq_send(pub_a, "", 0, ZMQ_SNDMORE);
    zmq_send(pub_a, "", 0, 0);
    /* If the stop message is lost (it is not, once subscribed), closing the
     * context wakes the relay with ETERM. */
    int linger = 0;
    zmq_setsockopt(pub_a, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(pub_b, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(pub_a);
    zmq_close(sub_b);
    zmq_ctx_shutdown(ctx);
    pthread_join(th, NULL);
    zmq_close(sub_a);
    zmq_close(pub_b);
    zmq_ctx_term(ctx);
    free(topic);
    free(body);
    free(back);
    return n;
}

/* Bytes of a typical module reading on the wire, for the reference. */
static void reading_size(const gateway_t *gw, size_t *tl, size_t *bl)
{
    char topic[OW_TOPIC_MAX], body[OW_BODY_MAX], err[160];
    ow_msg_t m;
    ow_msg_init(&m, OW_MSG_MODULE);
    /* The header as ow_pub stamps it; an id too long for it never got this far. */
    snprintf(m.h.pub, sizeof m.h.pub, "busd.%.*s", (int)sizeof m.h.pub - 6, gw->g->id);
    snprintf(m.h.gw, sizeof m.h.gw, "%s", gw->g->id);
    m.h.epoch = ow_pub_epoch(gw->pub);
    m.h.seq = ow_pub_journal_last(gw->pub);
    m.h.ts_us = gw->ts_us;
    m.u.module = (ow_module_t){1, 100, 1, V_NORMAL, 25.0, 5.0, 0.0, 0};
    int t = ow_topic(&m, topic, sizeof topic),
        b = ow_encode(&m, body, sizeof body, err, sizeof err);
    *tl = t > 0 ? (size_t)t : 16;
    *bl = b > 0 ? (size_t)b : 200;
}

static unsigned gcd(unsigned a, unsigned b)
{
    while (b) {
        unsigned t = a % b;
        a = b, b = t;
    }
    return a;
}

int main(int argc, char **argv)
{
    char err[1024];
    int rc = 1;

    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: ow-bench-alarm SITE.json [SECONDS] [RATE] [EVERY]\n");
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 10;
    double rate = argc > 3 ? atof(argv[3]) : 50000;
    int every = argc > 4 ? atoi(argv[4]) : 10;
    if (seconds <= 0 || rate <= 0 || every < 2) {
        fprintf(stderr, "ow-bench-alarm: SECONDS and RATE must be > 0, EVERY >= 2\n");
        return 2;
    }
    ow_log_init("bench", 0);
    ow_signals_init();

    ow_site_t *site = ow_site_load(argv[1], err, sizeof err);
    ow_alarmd_cfg_t acfg;
    if (!site || ow_site_alarmd(site, &acfg, err, sizeof err) < 0) {
        fprintf(stderr, "ow-bench-alarm: %s\n", err);
        ow_site_destroy(&site);
        return 1;
    }
    /* It plays busd: with the site's CURVE setting, busd's key */
    if (ow_auth_init_site(site, "busd", err, sizeof err) < 0) {
        fprintf(stderr, "ow-bench-alarm: %s\n", err);
        ow_site_destroy(&site);
        return 1;
    }
    gateway_t gw = {0};
    gw.g = ow_site_gateway(site, "big1");
    if (!gw.g) gw.g = &site->gateways[0];
    const ow_gateway_cfg_t *g = gw.g;
    if (g->nmodules < 1) {
        fprintf(stderr, "ow-bench-alarm: gateway %s has no modules\n", g->id);
        ow_site_destroy(&site);
        return 1;
    }
    if (g->thr.voltage_v.high_alarm >= V_CROSS || g->thr.voltage_v.delay_s > 0)
        fprintf(stderr,
                "ow-bench-alarm: warning: gateway %s has voltage high_alarm %g V, delay %g s; "
                "the bench wants < %g V and 0 s\n",
                g->id, g->thr.voltage_v.high_alarm, g->thr.voltage_v.delay_s, V_CROSS);

    char pub_id[OW_ID_MAX + 8];
    snprintf(pub_id, sizeof pub_id, "busd.%s", g->id);
    gw.pub =
        ow_pub_new(pub_id, g->publish, g->replay, (size_t)g->journal_messages, err, sizeof err);
    if (!gw.pub) {
        fprintf(stderr, "ow-bench-alarm: %s\n", err);
        ow_site_destroy(&site);
        return 1;
    }
    /* Simulated time, as busd's: starts at the wall clock, one poll step per
     * cycle, however fast the cycles come. */
    gw.ts_us = (int64_t)ow_pub_epoch(gw.pub);
    gw.step_us = (int64_t)g->poll_ms * 1000;
    gw.real_period_us = (int64_t)((double)g->nmodules * 1e6 / rate);
    if (gw.real_period_us < 1) gw.real_period_us = 1;
    /* A stride coprime with the module count visits every module and spreads
     * the crossings over the whole burst, so the figure is not that of the
     * first modules of a cycle only. */
    gw.stride = (int)(g->nmodules * 0.618) | 1;
    while (gw.stride > 1 && gcd((unsigned)gw.stride, (unsigned)g->nmodules) != 1)
        gw.stride++;

    receiver_t recv = {0};
    pthread_mutex_init(&recv.lock, NULL);
    recv.ctx = zmq_ctx_new();
    recv.sub = zmq_socket(recv.ctx, ZMQ_SUB);
    int hwm = 0;
    zmq_setsockopt(recv.sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    char prefix[OW_TOPIC_MAX];
    snprintf(prefix, sizeof prefix, "alm/%s/", g->id);
    zmq_setsockopt(recv.sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
    if (ow_auth_client(recv.sub, acfg.publish_connect, err, sizeof err) < 0 ||
        zmq_connect(recv.sub, acfg.publish_connect) < 0) {
        fprintf(stderr, "ow-bench-alarm: cannot connect to alarmd at %s: %s\n",
                acfg.publish_connect, zmq_strerror(errno));
        goto out_pub;
    }
    pthread_t th;
    pthread_create(&th, NULL, receive_alarms, &recv);

    fprintf(stderr,
            "ow-bench-alarm: gateway %s on %s, %d strings, %d modules, %.1f cycles/s; alarmd on "
            "%s\n",
            g->id, g->publish, g->nstrings, g->nmodules, 1e6 / (double)gw.real_period_us,
            acfg.publish);
    /* Warm up in two steps. Slowly until alarmd answers a crossing: it has
     * then connected and replayed our journal from seq 1 (as it does on first
     * contact) while that was short, so no start-up backlog is left for it to
     * drain at full rate. Then at full rate, to measure the steady state. */
    int64_t full_period_us = gw.real_period_us;
    ow_deadline_t dl;
    gw.real_period_us = SLOW_PERIOD > full_period_us ? SLOW_PERIOD : full_period_us;
    ow_deadline_init(&dl, gw.real_period_us);
    run_cycles(&gw, &dl, every, ow_mono_us() + WARMUP_MAX, no_raise_yet, &recv);
    if (atomic_load(&recv.raises) == 0) {
        fprintf(stderr,
                "ow-bench-alarm: alarmd raised no voltage alarm within %d s of readings "
                "(%ld alarm events seen): is it running on %s, and is its engine there?\n",
                WARMUP_MAX / 1000000, atomic_load(&recv.events), acfg.publish);
        goto out_thread;
    }
    gw.real_period_us = full_period_us;
    ow_deadline_init(&dl, gw.real_period_us);
    run_cycles(&gw, &dl, every, ow_mono_us() + WARMUP_FULL, NULL, NULL);

    /* Measure. Counters restart; warm-up crossings carry other ts_us and
     * cannot match. */
    uint64_t cycles0 = gw.cycles, readings0 = gw.readings, overruns0 = gw.overruns;
    long events0 = atomic_load(&recv.events);
    gw.x = malloc(1024 * sizeof *gw.x);
    gw.capx = gw.x ? 1024 : 0;
    int64_t t0 = ow_mono_us();
    run_cycles(&gw, &dl, every, t0 + (int64_t)(seconds * 1e6), NULL, NULL);
    int64_t t_end = ow_mono_us(), last_new = t_end;
    size_t nx = gw.nx;
    /* The last alarms: wait for them while answering replay requests, as
     * long as they keep coming (an alarmd that fell behind is seconds late). */
    for (size_t got = 0, n; !ow_sig_stop && (n = match(&gw, &recv, NULL, NULL)) < nx;) {
        if (n > got) got = n, last_new = ow_mono_us();
        if (ow_mono_us() - last_new >= GRACE_US) break;
        ow_pub_serve_until(gw.pub, ow_mono_us() + 50000, &ow_sig_stop);
    }
    atomic_store(&recv.stop, 1);
    pthread_join(th, NULL);

    int64_t *lat = malloc((nx ? nx : 1) * sizeof *lat),
            *sent = malloc((nx ? nx : 1) * sizeof *sent);
    size_t matched = lat && sent ? match(&gw, &recv, lat, sent) : 0;
    double slope = trend(sent, lat, matched);
    if (matched) qsort(lat, matched, sizeof *lat, cmp_i64);

    size_t tl, bl;
    reading_size(&gw, &tl, &bl);
    int64_t *rtt = malloc(REF_TRIPS * sizeof *rtt);
    size_t nref = rtt ? reference(tl, bl, rtt, REF_TRIPS) : 0;
    if (nref) qsort(rtt, nref, sizeof *rtt, cmp_i64);

    double dt = (double)(t_end - t0) / 1e6;
    uint64_t cyc = gw.cycles - cycles0;
    printf("alarmd alarm latency, gateway %s: %d strings, %d modules, crossing to %.1f V every "
           "%d cycles\n",
           g->id, g->nstrings, g->nmodules, V_CROSS, every);
    printf("  published: %.0f module readings/s (target %.0f), %.1f cycles/s of %d messages, "
           "%llu overruns, %.1f s\n",
           (double)(gw.readings - readings0) / dt, rate, (double)cyc / dt,
           g->nmodules + g->nstrings + 2, (unsigned long long)(gw.overruns - overruns0), dt);
    printf("  alarms matched: %zu / %zu crossings sent (%ld alarm events received, %ld "
           "malformed)\n",
           matched, nx, atomic_load(&recv.events) - events0, atomic_load(&recv.rejected));
    if (matched)
        printf("  latency reading published -> alarm received, us: p50 %lld  p90 %lld  p99 %lld  "
               "max %lld\n",
               (long long)pct(lat, matched, 0.50), (long long)pct(lat, matched, 0.90),
               (long long)pct(lat, matched, 0.99), (long long)lat[matched - 1]);
    /* Behind by more than 10 ms per second of run: the percentiles measure
     * a growing queue and depend on the run length, so say so. */
    double offered = (double)(cyc * (uint64_t)(g->nmodules + g->nstrings + 2)) / dt;
    if (matched && slope > 0.01)
        printf("  trend: latency grows %.0f ms per s of run: alarmd falls behind, handling about "
               "%.0f of %.0f messages/s; the percentiles grow with the run length\n",
               slope * 1e3, offered / (1 + slope), offered);
    else if (matched && slope < -0.01)
        printf("  trend: latency falls %.0f ms per s of run: alarmd was still draining a backlog "
               "(of the warm-up, or of a stall); run longer\n",
               -slope * 1e3);
    else if (matched)
        printf("  trend: latency %+.1f ms per s of run: alarmd keeps up\n", slope * 1e3);
    if (nref)
        printf("  reference libzmq PUB->SUB->PUB->SUB relay, %zu+%zu bytes, %zu round trips, us: "
               "p50 %lld  p99 %lld\n",
               tl, bl, nref, (long long)pct(rtt, nref, 0.50), (long long)pct(rtt, nref, 0.99));
    if (matched && nref && pct(rtt, nref, 0.50) > 0)
        printf("  ratio alarmd p50 / reference p50: %.1f\n",
               (double)pct(lat, matched, 0.50) / (double)pct(rtt, nref, 0.50));
    if (!matched) fprintf(stderr, "ow-bench-alarm: no crossing got its alarm\n");
    rc = matched && nref ? 0 : 1;
    free(lat);
    free(sent);
    free(rtt);
    goto out_pub;

out_thread:
    atomic_store(&recv.stop, 1);
    pthread_join(th, NULL);
out_pub:
    zmq_close(recv.sub);
    zmq_ctx_term(recv.ctx);
    free(recv.r);
    free(gw.x);
    ow_pub_destroy(&gw.pub);
    ow_auth_shutdown();
    ow_site_destroy(&site);
    zsys_shutdown();
    return rc;
}
