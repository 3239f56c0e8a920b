/* libFuzzer target: alarmd's state file (ow_engine_load, ow_diag_load), read
 * at every start from a file a crash may have cut short or a person may have
 * edited. Any input must be refused with a message or loaded; what loads
 * must save and load again to the same text, and the engine must then run a
 * poll cycle, a tick and an acknowledge on it (a restored index that is out
 * of range shows there, not in the reader).
 *
 * The site is etc/two-gateways.json (wm1: 2 x 9 blocks, wm2: 1 x 12).
 * OW_FUZZ_WRITE_SEED=FILE makes the first run write the state of an engine
 * that saw a few cycles with alarms and a discharge, the seed in
 * fuzz-corpus/state_fuzz/ (regenerate it when the state format changes). */
#include "engine.h"
#include "ow_config.h"
#include "ow_proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_alarm(void *ctx, const char *gw, const ow_alarm_t *a, int64_t ts)
{
    (void)ctx, (void)gw, (void)a, (void)ts;
}
static void on_state(void *ctx, const char *gw, const ow_state_t *s, int64_t ts)
{
    (void)ctx, (void)gw, (void)s, (void)ts;
}
static void on_discharge(void *ctx, const char *gw, const ow_discharge_t *d, int64_t ts)
{
    (void)ctx, (void)gw, (void)d, (void)ts;
}
static void on_baseline(void *ctx, const char *gw, const ow_baseline_t *b, int64_t ts)
{
    (void)ctx, (void)gw, (void)b, (void)ts;
}
static void on_command(void *ctx, const char *gw, const ow_control_t *c, int64_t ts)
{
    (void)ctx, (void)gw, (void)c, (void)ts;
}
static const ow_engine_sink_t sink = {on_alarm, on_state, on_discharge, on_baseline, on_command};

static void feed(ow_engine_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void feed(ow_engine_t *e, const char *fmt, ...)
{
    static ow_msg_t m;
    char body[1024], err[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof body) abort();
    if (ow_decode(NULL, 0, body, (size_t)n, &m, err, sizeof err, NULL) != OW_PERR_OK) {
        fprintf(stderr, "state_fuzz: %s: %s\n", body, err);
        abort(); /* the harness's own message is wrong */
    }
    ow_engine_feed(e, &m);
}

#define HDR                                                                                        \
    "{\"v\":1,\"kind\":\"%s\",\"pub\":\"busd.%s\",\"epoch\":1,\"seq\":%d,\"ts_us\":%lld,\"gw\":"   \
    "\"%s\""

/* One poll cycle of gateway gw (nstr strings of nmod blocks each) at t s:
 * block `hot` of string 1 over temperature, current cur per string. */
static void cycle(ow_engine_t *e, const char *gw, int nstr, int nmod, int t, int hot, double cur)
{
    static int seq;
    long long ts = 1763700000000000LL + (long long)t * 1000000;
    for (int s = 1; s <= nstr; s++) {
        for (int b = 1; b <= nmod; b++)
            feed(e,
                 HDR ",\"string\":%d,\"module\":%d,\"block\":%d,\"voltage_v\":%.3f,\"temp_c\":%.1f,"
                     "\"impedance_mohm\":4.69,\"eq_pct\":0,\"status\":0}",
                 "module", gw, ++seq, ts, gw, s, (s - 1) * nmod + b, b, cur < 0 ? 12.1 : 13.62,
                 s == 1 && b == hot ? 61.0 : 25.0);
        feed(e,
             HDR ",\"string\":%d,\"modules\":%d,\"modules_lost\":0,\"current_a\":%.2f,"
                 "\"ac_current_a\":0.5,\"sum_voltage_v\":%.2f,\"avg_voltage_v\":%.3f}",
             "string", gw, ++seq, ts, gw, s, nmod, cur, nmod * 13.62, 13.62);
    }
    feed(e,
         HDR ",\"state\":\"running\",\"source\":\"sim\",\"period_us\":1000000,\"speed\":1,"
             "\"strings\":%d,\"modules\":%d,\"modules_lost\":0,\"journal_first\":1,"
             "\"journal_last\":%d,\"cycle_us\":100,\"cycles\":%d,\"overruns\":0}",
         "heartbeat", gw, seq + 1, ts, gw, nstr, nstr * nmod, seq, t + 1);
    seq++;
}

static void run(ow_engine_t *e, int t0, int n, int hot, double cur)
{
    for (int t = t0; t < t0 + n; t++) {
        cycle(e, "wm1", 2, 9, t, hot, cur);
        cycle(e, "wm2", 1, 12, t, 0, cur);
    }
}

static char *save_text(const ow_engine_t *e)
{
    json_t *j = ow_engine_save(e);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (!text) abort();
    return text;
}

static void write_seed(const ow_site_t *site, const char *path)
{
    ow_engine_t *e = ow_engine_new(site, &sink, NULL);
    if (!e) abort();
    run(e, 0, 20, 3, 0.2); /* block 3 hot: a temperature alarm */
    ow_engine_ack(e, "wm1", 0, 1763700020000000LL);
    run(e, 20, 30, 0, -40.0); /* a discharge under way when it is saved */
    char *text = save_text(e);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) abort();
    free(text);
    ow_engine_destroy(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ow_site_t *site;
    char err[512];
    if (!site) {
        site = ow_site_load(OW_FUZZ_SITE, err, sizeof err);
        if (!site) {
            fprintf(stderr, "state_fuzz: %s\n", err);
            abort();
        }
        const char *seed = getenv("OW_FUZZ_WRITE_SEED");
        if (seed) write_seed(site, seed);
    }
    json_error_t je;
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (!root) return 0; /* jansson's own refusal; alarmd reports it with the position */
    ow_engine_t *e = ow_engine_new(site, &sink, NULL);
    if (!e) abort();
    err[0] = '\0';
    int rc =
        ow_engine_load(e, json_object_get(root, "engine") ? json_object_get(root, "engine") : root,
                       err, sizeof err);
    json_decref(root);
    if (rc < 0) {
        if (!err[0]) abort();
        ow_engine_destroy(&e);
        return 0;
    }
    /* What loaded saves, loads into a fresh engine and saves the same. */
    char *a = save_text(e);
    json_t *ja = json_loads(a, 0, &je);
    ow_engine_t *e2 = ow_engine_new(site, &sink, NULL);
    if (!ja || !e2 || ow_engine_load(e2, ja, err, sizeof err) < 0) {
        fprintf(stderr, "state_fuzz: the saved state does not load again: %s\n", err);
        abort();
    }
    json_decref(ja);
    char *b = save_text(e2);
    if (strcmp(a, b) != 0) {
        fprintf(stderr, "state_fuzz: saved twice, differs:\n%s\n%s\n", a, b);
        abort();
    }
    free(a);
    free(b);
    ow_engine_destroy(&e2);
    /* And it runs on. */
    run(e, 60, 2, 5, -10.0);
    ow_engine_tick(e, 1763700090000000LL);
    ow_engine_ack(e, "", 0, 1763700091000000LL);
    ow_alarm_t act[8];
    (void)ow_engine_active(e, "", act, 8);
    ow_engine_destroy(&e);
    return 0;
}
