/* Decode rate of the wire codec, the CPU cost that dominates alarmd and
 * historian at 50k-100k messages/s. Decodes what one gateway's busd publishes
 * per poll cycle (512 module readings, 16 string readings, aux, heartbeat),
 * topic checked as subscribers do, with ow_decode and with the jansson decoder
 * it replaced (proto_ref.h), after checking both agree on every message.
 *   ow-bench-decode [CYCLES]   (default 500, about 265000 messages each) */
#include "ow_proto.h"
#include "proto_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MODULES   512
#define STRINGS   16
#define PER_CYCLE (MODULES + STRINGS + 2)
#define ROUNDS    5

typedef struct {
    char topic[OW_TOPIC_MAX];
    char body[1024];
    size_t tlen, blen;
} wire_t;

typedef ow_proto_err_t (*decode_fn)(const char *, size_t, const char *, size_t, ow_msg_t *, char *,
                                    size_t, ow_proto_stats_t *);

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static double rnd(double lo, double hi) /* xorshift64: the same mix every run */
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;
}

static void hdr(ow_msg_t *m, ow_kind_t kind, uint64_t seq)
{
    ow_msg_init(m, kind);
    strcpy(m->h.pub, "busd.wm1");
    strcpy(m->h.gw, "wm1");
    m->h.epoch = 1763700000000000ULL;
    m->h.seq = seq;
    m->h.ts_us = 1763700001234567LL + (int64_t)seq * 1000;
}

static void put(wire_t *w, const ow_msg_t *m)
{
    char err[256];
    int tn = ow_topic(m, w->topic, sizeof w->topic);
    int bn = ow_encode(m, w->body, sizeof w->body, err, sizeof err);
    if (tn < 0 || bn < 0) {
        fprintf(stderr, "ow-bench-decode: encode: %s\n", err);
        exit(1);
    }
    w->tlen = (size_t)tn, w->blen = (size_t)bn;
}

/* One cycle as busd publishes it. */
static void make_cycle(wire_t *w)
{
    ow_msg_t m;
    uint64_t seq = 1;
    size_t n = 0;

    for (int i = 0; i < MODULES; i++) {
        hdr(&m, OW_MSG_MODULE, seq++);
        ow_module_t *mo = &m.u.module;
        mo->string = 1 + i / (MODULES / STRINGS);
        mo->module = i + 1;
        mo->block = 1 + i % (MODULES / STRINGS);
        if (rnd(0, 1) < 0.02) { /* a module that did not answer */
            mo->status = OW_MODST_NO_RESPONSE;
        } else {
            mo->voltage_v = rnd(12.0, 13.8);
            mo->temp_c = rnd(18, 32);
            mo->impedance_mohm = rnd(3, 6);
            mo->eq_pct = rnd(0, 1) < 0.7 ? 0 : rnd(0, 100);
            mo->status = mo->eq_pct > 0 ? OW_MODST_EQUALIZING : 0;
        }
        put(&w[n++], &m);
    }
    for (int s = 1; s <= STRINGS; s++) {
        hdr(&m, OW_MSG_STRING, seq++);
        m.u.string = (ow_string_t){
            s, 32, 0, rnd(-40, 5), rnd(0, 2), rnd(400, 420), rnd(12.5, 13.1), NAN, NAN};
        put(&w[n++], &m);
    }
    hdr(&m, OW_MSG_AUX, seq++);
    m.u.aux.ambient_c = 24.5, m.u.aux.humidity_pct = 45, m.u.aux.aux_units = 1;
    m.u.aux.inputs = 0x3, m.u.aux.outputs = 0x8;
    put(&w[n++], &m);
    hdr(&m, OW_MSG_HEARTBEAT, seq);
    strcpy(m.u.heartbeat.state, "running");
    strcpy(m.u.heartbeat.source, "sim");
    m.u.heartbeat.period_us = 1000000, m.u.heartbeat.speed = 1;
    m.u.heartbeat.strings = STRINGS, m.u.heartbeat.modules = MODULES;
    m.u.heartbeat.journal_first = 1, m.u.heartbeat.journal_last = seq - 1;
    m.u.heartbeat.cycle_us = 41234, m.u.heartbeat.cycles = 1;
    put(&w[n++], &m);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Messages per second over cycles passes of the mix. */
static double rate(decode_fn fn, const wire_t *w, long cycles)
{
    ow_proto_stats_t st = {0};
    ow_msg_t m;
    char err[256];
    double t0 = now_s();

    for (long c = 0; c < cycles; c++)
        for (size_t i = 0; i < PER_CYCLE; i++)
            fn(w[i].topic, w[i].tlen, w[i].body, w[i].blen, &m, err, sizeof err, &st);
    double dt = now_s() - t0;
    if (st.ok != (uint64_t)cycles * PER_CYCLE) {
        fprintf(stderr, "ow-bench-decode: %llu of %ld decoded\n", (unsigned long long)st.ok,
                cycles * PER_CYCLE);
        exit(1);
    }
    return (double)cycles * PER_CYCLE / dt;
}

int main(int argc, char **argv)
{
    long cycles = argc > 1 ? atol(argv[1]) : 500;
    wire_t *w = calloc(PER_CYCLE, sizeof *w);
    size_t bytes = 0;

    if (cycles < 1 || !w) {
        fprintf(stderr, "usage: ow-bench-decode [CYCLES]\n");
        return 2;
    }
    make_cycle(w);
    for (size_t i = 0; i < PER_CYCLE; i++) {
        ow_msg_t a, b;
        char ea[256], eb[256];
        memset(&a, 0, sizeof a), memset(&b, 0, sizeof b);
        ow_proto_err_t x =
            ow_decode(w[i].topic, w[i].tlen, w[i].body, w[i].blen, &a, ea, sizeof ea, NULL);
        ow_proto_err_t y =
            ow_decode_ref(w[i].topic, w[i].tlen, w[i].body, w[i].blen, &b, eb, sizeof eb, NULL);
        if (x != OW_PERR_OK || y != OW_PERR_OK || memcmp(&a, &b, sizeof a) != 0) {
            fprintf(stderr, "ow-bench-decode: decoders disagree on %s: %s / %s\n", w[i].body, ea,
                    eb);
            return 1;
        }
        bytes += w[i].blen;
    }
    /* Alternating rounds, best of each: on a shared machine the other load
     * then falls on both decoders alike. The first round warms the caches. */
    double fast = 0, ref = 0;
    for (int round = 0; round < ROUNDS; round++) {
        double f = rate(ow_decode, w, cycles / ROUNDS + 1);
        double r = rate(ow_decode_ref, w, cycles / ROUNDS + 1);
        fast = f > fast ? f : fast;
        ref = r > ref ? r : ref;
    }
    printf("mix: %d messages per cycle (%d module, %d string, 1 aux, 1 heartbeat), mean body %.0f "
           "bytes, %ld cycles, best of %d rounds\n",
           PER_CYCLE, MODULES, STRINGS, (double)bytes / PER_CYCLE, cycles, ROUNDS);
    printf("ow_decode (scanner)      %10.0f messages/s  %6.0f ns/message\n", fast, 1e9 / fast);
    printf("ow_decode_ref (jansson)  %10.0f messages/s  %6.0f ns/message\n", ref, 1e9 / ref);
    printf("speedup                  %10.2fx\n", fast / ref);
    free(w);
    return 0;
}
