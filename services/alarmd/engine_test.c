/* alarmd's engine checked event by event: thresholds with delay and
 * hysteresis, communication, cycle-level checks, the G.BMS flag words,
 * acknowledge and persistence. Doubles as an example of driving ow_engine_t:
 * build a site, feed readings, watch the sink. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "ow_gbms.h"
#include "ow_test.h"

#define S_US   1000000LL
#define T0     (1700000000LL * S_US)
#define SEC(n) (T0 + (int64_t)(n)*S_US)

#define NORMAL_V 13.62 /* 2.27 V/cell float */
#define NORMAL_T 25.0
#define NORMAL_Z 5.0
#define FLOAT_I  0.1

static const ow_module_type_t c20 = {"C20", 0, 12, 9.7, 17, 0.5, 60, 0.15, "950-6503"};

/* ---- a recording sink ---- */

#define MAX_EV 1024

typedef struct {
    int nal, nst, ncmd, ndis, nbl, ngal;
    /* The guide's generic alarms (2-5, 12) go to gal[], apart: each test of
     * a specific alarm keeps its own event sequence (test_generic_alarms
     * checks both together); their ids are still taken from the one
     * counter. */
    ow_alarm_t gal[MAX_EV];
    char al_gw[MAX_EV][OW_ID_MAX];
    ow_alarm_t al[MAX_EV];
    int64_t al_ts[MAX_EV];
    char st_gw[MAX_EV][OW_ID_MAX];
    ow_state_t st[MAX_EV];
    int64_t st_ts[MAX_EV];
    ow_control_t cmd[64];
    int64_t cmd_ts[64];
    ow_discharge_t dis[64];
    ow_baseline_t bl[64];
} rec_t;

static rec_t rec_a, rec_b;

static void on_alarm(void *ctx, const char *gw, const ow_alarm_t *a, int64_t ts_us)
{
    rec_t *r = ctx;
    if (gbms_alarm_is_generic(a->type)) {
        if (r->ngal < MAX_EV) r->gal[r->ngal++] = *a;
        return;
    }
    if (r->nal >= MAX_EV) return;
    snprintf(r->al_gw[r->nal], OW_ID_MAX, "%s", gw);
    r->al_ts[r->nal] = ts_us;
    r->al[r->nal++] = *a;
}

static void on_state(void *ctx, const char *gw, const ow_state_t *s, int64_t ts_us)
{
    rec_t *r = ctx;
    if (r->nst >= MAX_EV) return;
    snprintf(r->st_gw[r->nst], OW_ID_MAX, "%s", gw);
    r->st_ts[r->nst] = ts_us;
    r->st[r->nst++] = *s;
}

static void on_discharge(void *ctx, const char *gw, const ow_discharge_t *d, int64_t ts_us)
{
    rec_t *r = ctx;
    (void)gw, (void)ts_us;
    if (r->ndis < 64) r->dis[r->ndis++] = *d;
}

static void on_baseline(void *ctx, const char *gw, const ow_baseline_t *b, int64_t ts_us)
{
    rec_t *r = ctx;
    (void)gw, (void)ts_us;
    if (r->nbl < 64) r->bl[r->nbl++] = *b;
}

static void on_command(void *ctx, const char *gw, const ow_control_t *c, int64_t ts_us)
{
    rec_t *r = ctx;
    (void)gw;
    if (r->ncmd < 64) {
        r->cmd_ts[r->ncmd] = ts_us;
        r->cmd[r->ncmd++] = *c;
    }
}

static const ow_engine_sink_t sink = {on_alarm, on_state, on_discharge, on_baseline, on_command};

static void rec_reset(rec_t *r)
{
    r->nal = r->nst = r->ncmd = r->ndis = r->nbl = r->ngal = 0;
}

/* Check event i: action, code, string, module and (if id) the id. */
#define CHECK_EV(r, i, act, code, s, m, id_)                                                       \
    do {                                                                                           \
        const ow_alarm_t *a_ = &(r)->al[i];                                                        \
        CHECK_MSG((i) < (r)->nal, "event %d of %d", (int)(i), (r)->nal);                           \
        CHECK_MSG(strcmp(a_->action, act) == 0 && a_->type == (code) && a_->string == (s) &&       \
                      a_->module == (m) && ((id_) == 0 || a_->id == (uint64_t)(id_)),              \
                  "event %d: %s type %d string %d module %d id %llu", (int)(i), a_->action,        \
                  a_->type, a_->string, a_->module, (unsigned long long)a_->id);                   \
    } while (0)

/* Events of one code and action so far. */
static int count(const rec_t *r, int code, const char *action)
{
    int n = 0;
    for (int i = 0; i < r->nal; i++)
        if (r->al[i].type == code && strcmp(r->al[i].action, action) == 0) n++;
    return n;
}

static const ow_alarm_t *find(const rec_t *r, int code, int s, const char *action)
{
    for (int i = 0; i < r->nal; i++)
        if (r->al[i].type == code && r->al[i].string == s && strcmp(r->al[i].action, action) == 0)
            return &r->al[i];
    return NULL;
}

/* ---- a site built by hand: 2 strings x 9 blocks on C20 modules ---- */

static ow_gateway_cfg_t gws[2];
static ow_site_t site;

static void make_gw(ow_gateway_cfg_t *g, const char *id)
{
    memset(g, 0, sizeof *g);
    snprintf(g->id, sizeof g->id, "%s", id);
    snprintf(g->name, sizeof g->name, "Training Center %s", id);
    strcpy(g->source, "sim");
    g->poll_ms = 1000;
    g->module_type = &c20;
    g->current_sensor = 1;
    g->aux_units = 1;
    g->ambient_sensor = 1;
    g->hydrogen_sensor = 0;
    g->battery.capacity_ah = 50;
    g->battery.impedance_mohm = 4.6;
    ow_thresholds_t *t = &g->thr;
    t->voltage_v = (ow_limits_t){12.0, 12.4, 14.1, 15.5, 0.05, 0};
    t->temp_c = (ow_limits_t){5, 10, 30, 35, 1, 0};
    t->impedance_mohm = (ow_limits_t){1.1, 1.2, 40, 50, 0.5, 0};
    t->string_voltage_v = (ow_limits_t){105, 110, 125, 135, 0.5, 0};
    t->string_current_a = (ow_limits_t){-150, -100, 20, 30, 1, 0};
    t->dev_discharge_alarm_a = 10;
    t->dev_discharge_warn_a = 5;
    t->dev_charge_alarm_a = 10;
    t->dev_charge_warn_a = 5;
    t->max_voltage_diff_v = 0;
    t->comm_lost_polls = 3;
    t->baseline_warn_pct = 20;
    t->baseline_alarm_pct = 50;
    /* Wide, so that the block level tests do not raise 35 too. */
    t->equalizing_min_v = 11.0;
    t->equalizing_max_v = 16.0;
    t->tr_module_delta_c = 5;
    t->tr_ambient_delta_c = 10;
    t->tr_float_current_a = 0.5;
    t->tr_sustain_s = 10;
    t->tr_breaker_output = 4;
    t->hydrogen_warn_pct_lel = 20; /* the guide's sensor's two stages */
    t->hydrogen_alarm_pct_lel = 40;
    t->ambient_c = (ow_limits_t){0, 10, 30, 35, 1, 300};
    t->humidity_pct = (ow_limits_t){0, 0, 80, 90, 2, 300};
    g->nstrings = 2;
    strcpy(g->strings[0].name, "UPS A");
    strcpy(g->strings[1].name, "String 2");
    for (int i = 0; i < 2; i++) {
        g->strings[i].modules = 9;
        g->strings[i].first_module = 1 + 9 * i;
    }
    g->nmodules = 18;
}

static void make_site(int n)
{
    memset(&site, 0, sizeof site);
    strcpy(site.name, "test");
    make_gw(&gws[0], "wm1");
    make_gw(&gws[1], "wm2");
    site.ngateways = n;
    site.gateways = gws;
}

/* ---- feeding ---- */

typedef struct {
    double v[19], t[19], z[19], eq[19];
    uint32_t status[19];
    double i[3];
    int lost_strings; /* pretend the string messages report lost blocks */
    double ambient, humidity, h2;
    uint32_t inputs, outputs;
} cyc_t;

static void cyc_init(cyc_t *c)
{
    memset(c, 0, sizeof *c);
    for (int m = 1; m <= 18; m++) {
        c->v[m] = NORMAL_V;
        c->t[m] = NORMAL_T;
        c->z[m] = NORMAL_Z;
    }
    c->i[1] = c->i[2] = FLOAT_I;
    c->ambient = 22;
    c->humidity = 40;
    c->h2 = NAN;
}

static void hdr(ow_msg_t *m, ow_kind_t kind, const char *gw, int64_t ts)
{
    ow_msg_init(m, kind);
    snprintf(m->h.gw, sizeof m->h.gw, "%s", gw);
    snprintf(m->h.pub, sizeof m->h.pub, "busd.%s", gw);
    m->h.ts_us = ts;
}

static void feed_module(ow_engine_t *e, const char *gw, int64_t ts, const cyc_t *c, int mod)
{
    ow_msg_t m;
    hdr(&m, OW_MSG_MODULE, gw, ts);
    m.u.module.module = mod;
    m.u.module.string = (mod - 1) / 9 + 1;
    m.u.module.block = (mod - 1) % 9 + 1;
    m.u.module.status = c->status[mod];
    int lost = c->status[mod] & OW_MODST_NO_RESPONSE;
    m.u.module.voltage_v = lost ? NAN : c->v[mod];
    m.u.module.temp_c = lost ? NAN : c->t[mod];
    m.u.module.impedance_mohm = lost ? NAN : c->z[mod];
    m.u.module.eq_pct = lost ? NAN : c->eq[mod];
    ow_engine_feed(e, &m);
}

static void feed_string(ow_engine_t *e, const char *gw, int64_t ts, int s, double current,
                        double sum, int lost)
{
    ow_msg_t m;
    hdr(&m, OW_MSG_STRING, gw, ts);
    m.u.string.string = s;
    m.u.string.modules = 9;
    m.u.string.modules_lost = lost;
    m.u.string.current_a = current;
    m.u.string.sum_voltage_v = sum;
    m.u.string.avg_voltage_v = sum / (9 - lost);
    ow_engine_feed(e, &m);
}

static void feed_aux(ow_engine_t *e, const char *gw, int64_t ts, const cyc_t *c)
{
    ow_msg_t m;
    hdr(&m, OW_MSG_AUX, gw, ts);
    m.u.aux.ambient_c = c->ambient;
    m.u.aux.humidity_pct = c->humidity;
    m.u.aux.hydrogen_pct_lel = c->h2;
    m.u.aux.aux_units = 1;
    m.u.aux.inputs = c->inputs;
    m.u.aux.outputs = c->outputs;
    ow_engine_feed(e, &m);
}

static void feed_hb(ow_engine_t *e, const char *gw, int64_t ts, int64_t period_us, double speed)
{
    ow_msg_t m;
    hdr(&m, OW_MSG_HEARTBEAT, gw, ts);
    strcpy(m.u.heartbeat.state, "running");
    strcpy(m.u.heartbeat.source, "sim");
    m.u.heartbeat.period_us = period_us;
    m.u.heartbeat.speed = speed;
    m.u.heartbeat.strings = 2;
    m.u.heartbeat.modules = 18;
    ow_engine_feed(e, &m);
}

/* The second half of a cycle: modules from..18, strings, aux, heartbeat. */
static void cycle_from(ow_engine_t *e, const char *gw, int64_t ts, const cyc_t *c, int from)
{
    for (int mod = from; mod <= 18; mod++)
        feed_module(e, gw, ts, c, mod);
    for (int s = 1; s <= 2; s++) {
        double sum = 0;
        int lost = 0;
        for (int k = 0; k < 9; k++) {
            int mod = (s - 1) * 9 + k + 1;
            if (c->status[mod] & OW_MODST_NO_RESPONSE)
                lost++;
            else
                sum += c->v[mod];
        }
        feed_string(e, gw, ts, s, c->i[s], sum, lost);
    }
    feed_aux(e, gw, ts, c);
    feed_hb(e, gw, ts, S_US, 1);
}

static void cycle(ow_engine_t *e, const char *gw, int64_t ts, const cyc_t *c)
{
    cycle_from(e, gw, ts, c, 1);
}

static ow_engine_t *fresh(int ngw, rec_t *r)
{
    make_site(ngw);
    rec_reset(r);
    ow_engine_t *e = ow_engine_new(&site, &sink, r);
    CHECK(e != NULL);
    return e;
}

static const ow_state_t *state(const ow_engine_t *e)
{
    return ow_engine_state(e, "wm1");
}

/* ---- tests ---- */

static void test_start(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);

    CHECK(state(e)->general == GBMS_ST_NONE);
    CHECK(state(e)->nstrings == 2 && state(e)->nmodules == 18);
    CHECK(ow_engine_state(e, "nope") == NULL);
    feed_module(e, "wm1", SEC(0), &c, 1);
    CHECK(rec_a.nst == 1);
    CHECK(rec_a.st[0].general == (GBMS_ST_CONNECTED | GBMS_ST_MODULE_INITIALIZING));
    CHECK(rec_a.st[0].general == 0x4002);
    CHECK(rec_a.st_ts[0] == SEC(0));
    cycle_from(e, "wm1", SEC(0), &c, 2);
    /* Complete cycle, all strings on float: RUNNING | FLOAT_CHARGING. */
    CHECK(rec_a.nst == 2);
    CHECK(state(e)->general == 0x0041);
    CHECK(state(e)->battery == 0 && state(e)->alarm == 0 && state(e)->alarms_active == 0);
    CHECK(rec_a.nal == 0);
    /* Nothing changes: no state event. */
    cycle(e, "wm1", SEC(1), &c);
    CHECK(rec_a.nst == 2 && rec_a.nal == 0);
    ow_engine_destroy(&e);
    CHECK(e == NULL);

    /* Joining in the middle of a cycle: the first heartbeat is no complete
     * cycle, the second one is. */
    e = fresh(1, &rec_a);
    cycle_from(e, "wm1", SEC(0), &c, 10);
    CHECK(state(e)->general == 0x4042); /* initializing, diag already says float */
    cycle(e, "wm1", SEC(1), &c);
    CHECK(state(e)->general == 0x0041);
    ow_engine_destroy(&e);
}

/* Every level of every block quantity raises on its own and clears. */
static void test_module_levels(void)
{
    static const struct {
        int field; /* 0 voltage, 1 temperature, 2 impedance */
        double bad, warn_only;
        int warn, alarm;
        uint16_t flag;
        uint32_t status;
        int gwarn, galarm; /* the generic alarms the two join (0 none) */
    } cases[] = {
        {0, 15.62, 14.2, 13, 6, GBMS_AL_VOLTAGE_HIGH, GBMS_ST_VOLTAGE_OUTOFRANGE, 0, 4},
        {0, 11.9, 12.3, 14, 7, GBMS_AL_VOLTAGE_LOW, GBMS_ST_VOLTAGE_OUTOFRANGE, 0, 4},
        {1, 36, 31, 15, 8, GBMS_AL_TEMPERATURE_HIGH, GBMS_ST_TEMPERATURE_OUTOFRANGE, 0, 5},
        {1, 4, 9, 16, 9, GBMS_AL_TEMPERATURE_LOW, GBMS_ST_TEMPERATURE_OUTOFRANGE, 0, 5},
        {2, 51, 41, 17, 10, GBMS_AL_RESISTOR_HIGH, GBMS_ST_RESISTOR_OUTOFRANGE, 2, 3},
        {2, 1.0, 1.15, 18, 11, GBMS_AL_RESISTOR_LOW, GBMS_ST_RESISTOR_OUTOFRANGE, 2, 3},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ow_engine_t *e = fresh(1, &rec_a);
        cyc_t c;
        cyc_init(&c);
        double *field = cases[k].field == 0 ? c.v : cases[k].field == 1 ? c.t : c.z;
        double normal = field[4];
        int low = cases[k].warn == 14 || cases[k].warn == 16 || cases[k].warn == 18;
        /* Each specific raise is followed by its generic one's, which takes
         * the next id: low alarm (1), its generic (2), low warning (3);
         * high warning (1), its generic if any (2), high alarm. */
        int gw = cases[k].gwarn != 0;
        uint64_t id_warn = low ? 3 : 1, id_alarm = low ? 1 : (uint64_t)(2 + gw);

        cycle(e, "wm1", SEC(0), &c);
        rec_reset(&rec_a);
        field[4] = cases[k].bad;
        cycle(e, "wm1", SEC(1), &c);
        CHECK_MSG(rec_a.nal == 2, "case %zu: %d events", k, rec_a.nal);
        /* Levels are checked low alarm, low warning, high warning, high alarm. */
        if (low) {
            CHECK_EV(&rec_a, 0, "raise", cases[k].alarm, 1, 4, id_alarm);
            CHECK_EV(&rec_a, 1, "raise", cases[k].warn, 1, 4, id_warn);
        } else {
            CHECK_EV(&rec_a, 0, "raise", cases[k].warn, 1, 4, id_warn);
            CHECK_EV(&rec_a, 1, "raise", cases[k].alarm, 1, 4, id_alarm);
        }
        CHECK_MSG(rec_a.ngal == 1 + gw, "case %zu: %d generic", k, rec_a.ngal);
        CHECK(rec_a.gal[low || !gw ? 0 : 1].type == cases[k].galarm);
        CHECK(rec_a.gal[0].string == 0 && rec_a.gal[0].module == 0);
        if (gw) CHECK(rec_a.gal[low ? 1 : 0].type == cases[k].gwarn);
        const ow_alarm_t *al = find(&rec_a, cases[k].alarm, 1, "raise");
        CHECK(al && al->severity == OW_SEV_ALARM && al->value == cases[k].bad &&
              al->raised_us == SEC(1) && al->cleared_us == 0);
        const ow_alarm_t *wa = find(&rec_a, cases[k].warn, 1, "raise");
        CHECK(wa && wa->severity == OW_SEV_WARNING);
        const ow_state_t *st = state(e);
        CHECK_MSG(st->module_flags[3] == (cases[k].flag | GBMS_AL_GENERAL_ALARM), "case %zu: %#x",
                  k, st->module_flags[3]);
        CHECK(st->string_flags[0] == st->module_flags[3] && st->string_flags[1] == 0);
        CHECK(st->alarm == st->module_flags[3]);
        CHECK(st->battery == GBMS_BAT_GENERAL_ALARM);
        CHECK_MSG(st->general == (0x41 | cases[k].status), "case %zu: %#x", k, st->general);
        /* The generic alarms are rows of the alarm table too; no module's. */
        CHECK(st->alarms_active == 3 + gw && st->module_alarms == 1 && st->module_warnings == 0);
        CHECK(st->audible == 1);

        /* Back to normal: both clear, same ids, in the same level order;
         * their generic alarms with them. */
        rec_reset(&rec_a);
        field[4] = normal;
        cycle(e, "wm1", SEC(2), &c);
        CHECK_MSG(rec_a.nal == 2, "case %zu: %d events", k, rec_a.nal);
        CHECK_EV(&rec_a, 0, "clear", low ? cases[k].alarm : cases[k].warn, 1, 4,
                 low ? id_alarm : id_warn);
        CHECK_EV(&rec_a, 1, "clear", low ? cases[k].warn : cases[k].alarm, 1, 4,
                 low ? id_warn : id_alarm);
        CHECK(rec_a.ngal == 1 + gw && strcmp(rec_a.gal[0].action, "clear") == 0);
        CHECK(rec_a.al[0].cleared_us == SEC(2) && rec_a.al[0].raised_us == SEC(1));
        CHECK(rec_a.al[0].value == normal);
        CHECK(state(e)->general == 0x41 && state(e)->alarm == 0 && state(e)->battery == 0);
        CHECK(state(e)->module_flags[3] == 0 && state(e)->alarms_active == 0);

        /* A warning alone: no flag bit (the catalogue gives warnings none), a
         * module warning in the counters. */
        rec_reset(&rec_a);
        field[13] = cases[k].warn_only;
        cycle(e, "wm1", SEC(3), &c);
        CHECK(rec_a.nal == 1);
        CHECK_EV(&rec_a, 0, "raise", cases[k].warn, 2, 13, 4 + gw);
        CHECK(rec_a.ngal == gw && (!gw || rec_a.gal[0].severity == OW_SEV_WARNING));
        st = state(e);
        CHECK(st->module_flags[12] == 0 && st->alarm == 0 && st->battery == 0 &&
              st->general == 0x41);
        CHECK(st->alarms_active == 1 + gw && st->module_alarms == 0 && st->module_warnings == 1);
        CHECK(st->audible == 0);
        ow_engine_destroy(&e);
    }

    /* The text names string, block, value and level. */
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    c.v[4] = 15.62;
    c.v[13] = 15.62;
    cycle(e, "wm1", SEC(0), &c);
    const ow_alarm_t *a = find(&rec_a, 6, 1, "raise");
    CHECK(a != NULL);
    if (a) {
        CHECK_STR(a->text, "String UPS A block 4: voltage 15.62 V above high alarm 15.50 V");
        CHECK(a->threshold == 15.5);
    }
    a = find(&rec_a, 6, 2, "raise");
    if (a) CHECK_STR(a->text, "String 2 block 4: voltage 15.62 V above high alarm 15.50 V");
    /* 13 and 6 on two modules, and one generic 4 for both. */
    CHECK(state(e)->module_alarms == 2 && state(e)->alarms_active == 5);
    rec_reset(&rec_a);
    c.v[4] = NORMAL_V;
    cycle(e, "wm1", SEC(1), &c);
    a = find(&rec_a, 6, 1, "clear");
    if (a)
        CHECK_STR(a->text, "String UPS A block 4: voltage 13.62 V back below high alarm 15.50 V");
    ow_engine_destroy(&e);
}

static void test_delay(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    ow_thresholds_t thr = ow_engine_gateway(e, "wm1")->thr;
    thr.voltage_v.delay_s = 10;
    CHECK(ow_engine_set_thresholds(e, "wm1", &thr) == 0);
    CHECK(ow_engine_set_thresholds(e, "nope", &thr) == -1);
    CHECK(ow_engine_gateway(e, "wm1")->thr.voltage_v.delay_s == 10);
    CHECK(gws[0].thr.voltage_v.delay_s == 0); /* the engine has its own copy */

    cycle(e, "wm1", SEC(0), &c);
    c.v[4] = 15.62;
    for (int t = 1; t <= 10; t++)
        cycle(e, "wm1", SEC(t), &c);
    CHECK(rec_a.nal == 0); /* 9 s of violation */
    cycle(e, "wm1", SEC(11), &c);
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 0, "raise", 13, 1, 4, 1);
    CHECK_EV(&rec_a, 1, "raise", 6, 1, 4, 2);
    CHECK(rec_a.al[1].raised_us == SEC(11));

    /* An interruption restarts the timer. */
    rec_reset(&rec_a);
    c.v[5] = 11.9;
    cycle(e, "wm1", SEC(20), &c);
    cycle(e, "wm1", SEC(25), &c);
    c.v[5] = NORMAL_V;
    cycle(e, "wm1", SEC(26), &c);
    c.v[5] = 11.9;
    cycle(e, "wm1", SEC(27), &c);
    cycle(e, "wm1", SEC(36), &c);
    CHECK(rec_a.nal == 0);
    /* Readings every 4 s: raised at the first one at or after the delay. */
    cycle(e, "wm1", SEC(37), &c);
    CHECK(rec_a.nal == 2);
    /* id 3 went to the generic 4 raised with 6; it is still active (6 is),
     * so 7 raises no second one. */
    CHECK_EV(&rec_a, 0, "raise", 7, 1, 5, 4);
    CHECK_EV(&rec_a, 1, "raise", 14, 1, 5, 5);
    CHECK(rec_a.ngal == 0);
    CHECK(rec_a.al[0].raised_us == SEC(37));

    rec_reset(&rec_a);
    c.v[6] = 15.7;
    cycle(e, "wm1", SEC(40), &c);
    cycle(e, "wm1", SEC(44), &c);
    /* A reading that did not answer neither raises nor restarts the timer. */
    c.status[6] = OW_MODST_NO_RESPONSE;
    cycle(e, "wm1", SEC(48), &c);
    c.status[6] = 0;
    CHECK(rec_a.nal == 0);
    cycle(e, "wm1", SEC(52), &c);
    CHECK(rec_a.nal == 2 && rec_a.al[0].raised_us == SEC(52));
    CHECK_EV(&rec_a, 0, "raise", 13, 1, 6, 6);
    CHECK_EV(&rec_a, 1, "raise", 6, 1, 6, 7);

    /* Clearing does not wait. */
    rec_reset(&rec_a);
    c.v[6] = NORMAL_V;
    cycle(e, "wm1", SEC(53), &c);
    CHECK(rec_a.nal == 2 && rec_a.al[0].cleared_us == SEC(53));
    CHECK_EV(&rec_a, 0, "clear", 13, 1, 6, 6);
    ow_engine_destroy(&e);
}

static void test_hysteresis(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    c.v[4] = 15.62;
    cycle(e, "wm1", SEC(0), &c);
    CHECK(rec_a.nal == 2);
    rec_reset(&rec_a);
    /* high alarm 15.50, high warning 14.10, hysteresis 0.05 */
    const double hover[] = {15.50, 15.46, 15.451, 15.49};
    for (int i = 0; i < 4; i++) {
        c.v[4] = hover[i];
        cycle(e, "wm1", SEC(1 + i), &c);
    }
    CHECK(rec_a.nal == 0);
    c.v[4] = 15.44;
    cycle(e, "wm1", SEC(5), &c);
    CHECK(rec_a.nal == 1);
    CHECK_EV(&rec_a, 0, "clear", 6, 1, 4, 2);
    c.v[4] = 14.06;
    cycle(e, "wm1", SEC(6), &c);
    CHECK(rec_a.nal == 1);
    c.v[4] = 14.04;
    cycle(e, "wm1", SEC(7), &c);
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 1, "clear", 13, 1, 4, 1);
    /* A low level clears above level + hysteresis (temperature: 1 degC). */
    rec_reset(&rec_a);
    c.t[9] = 4;
    cycle(e, "wm1", SEC(8), &c);
    CHECK(rec_a.nal == 2);
    c.t[9] = 5.9;
    cycle(e, "wm1", SEC(9), &c);
    CHECK(rec_a.nal == 2);
    c.t[9] = 6.1;
    cycle(e, "wm1", SEC(10), &c);
    CHECK(rec_a.nal == 3);
    CHECK_EV(&rec_a, 2, "clear", 9, 1, 9, 4); /* 3 is the generic 4 */
    c.t[9] = 10.9;
    cycle(e, "wm1", SEC(11), &c);
    CHECK(rec_a.nal == 3);
    c.t[9] = 11.1;
    cycle(e, "wm1", SEC(12), &c);
    CHECK(rec_a.nal == 4);
    CHECK_EV(&rec_a, 3, "clear", 16, 1, 9, 6); /* 5 the generic 5 */
    ow_engine_destroy(&e);
}

static void test_comm_lost(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    c.v[5] = 15.62;
    cycle(e, "wm1", SEC(0), &c);
    CHECK(rec_a.nal == 2); /* 13 and 6 on module 5 */
    rec_reset(&rec_a);
    c.status[5] = OW_MODST_NO_RESPONSE;
    cycle(e, "wm1", SEC(1), &c);
    cycle(e, "wm1", SEC(2), &c);
    CHECK(rec_a.nal == 0); /* and no null value clears the voltage alarm */
    cycle(e, "wm1", SEC(3), &c);
    CHECK(rec_a.nal == 1);
    CHECK_EV(&rec_a, 0, "raise", 1, 1, 5, 4); /* 3 is the generic 4 */
    CHECK(rec_a.al[0].value == 3 && rec_a.al[0].threshold == 3 &&
          rec_a.al[0].severity == OW_SEV_ALARM && rec_a.al[0].raised_us == SEC(3));
    CHECK_STR(rec_a.al[0].text, "String UPS A block 5: no answer for 3 polls");
    const ow_state_t *st = state(e);
    CHECK(st->module_flags[4] ==
          (GBMS_AL_COMMUNICATION_LOST | GBMS_AL_GENERAL_ALARM | GBMS_AL_VOLTAGE_HIGH));
    CHECK(st->general == (0x41 | GBMS_ST_MODULE_LOST | GBMS_ST_VOLTAGE_OUTOFRANGE));
    cycle(e, "wm1", SEC(4), &c);
    CHECK(rec_a.nal == 1);
    c.status[5] = 0;
    c.v[5] = NORMAL_V;
    cycle(e, "wm1", SEC(5), &c);
    CHECK(rec_a.nal == 4);
    CHECK_EV(&rec_a, 1, "clear", 1, 1, 5, 4);
    CHECK_EV(&rec_a, 2, "clear", 13, 1, 5, 1);
    CHECK_EV(&rec_a, 3, "clear", 6, 1, 5, 2);
    CHECK(state(e)->general == 0x41 && state(e)->module_flags[4] == 0);
    /* The count restarts after an answer. */
    rec_reset(&rec_a);
    c.status[5] = OW_MODST_NO_RESPONSE;
    cycle(e, "wm1", SEC(6), &c);
    cycle(e, "wm1", SEC(7), &c);
    c.status[5] = 0;
    cycle(e, "wm1", SEC(8), &c);
    c.status[5] = OW_MODST_NO_RESPONSE;
    cycle(e, "wm1", SEC(9), &c);
    cycle(e, "wm1", SEC(10), &c);
    CHECK(rec_a.nal == 0);
    ow_engine_destroy(&e);
}

static void test_bus_silence(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    const int64_t w0 = 5000 * S_US; /* wall clock */

    cycle(e, "wm1", SEC(0), &c);
    ow_engine_tick(e, w0);
    ow_engine_tick(e, w0 + 2999999);
    CHECK(rec_a.nal == 0);
    int nst = rec_a.nst;
    ow_engine_tick(e, w0 + 3 * S_US);
    CHECK(rec_a.nal == 1);
    CHECK_EV(&rec_a, 0, "raise", 20, 0, 0, 1);
    CHECK(rec_a.al[0].raised_us == SEC(3) && rec_a.al_ts[0] == SEC(3));
    CHECK(rec_a.al[0].severity == OW_SEV_ALARM);
    CHECK_STR(rec_a.al[0].text, "Gateway wm1: no reading for 3.0 s");
    CHECK(rec_a.nst == nst + 1);
    const ow_state_t *st = state(e);
    CHECK(!(st->general & GBMS_ST_RUNNING));
    CHECK(st->general & GBMS_ST_SYSTEM_FAILURE);
    CHECK(st->general == (GBMS_ST_SYSTEM_FAILURE | GBMS_ST_FLOAT_CHARGING));
    CHECK(st->alarm == (GBMS_AL_COMMUNICATION_LOST | GBMS_AL_GENERAL_ALARM));
    CHECK(st->battery == GBMS_BAT_GENERAL_ALARM && st->alarms_active == 1 && st->audible == 1);
    /* Raised once. */
    ow_engine_tick(e, w0 + 10 * S_US);
    CHECK(rec_a.nal == 1);
    /* The next reading clears it. */
    feed_module(e, "wm1", SEC(20), &c, 1);
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 1, "clear", 20, 0, 0, 1);
    CHECK(rec_a.al[1].cleared_us == SEC(20));
    CHECK(state(e)->general == 0x41 && state(e)->alarm == 0);
    ow_engine_destroy(&e);

    /* Accelerated time: 3 poll periods of wall time (60 s / speed 10), and
     * the event's time runs at the simulation's speed. */
    e = fresh(1, &rec_a);
    for (int m = 1; m <= 18; m++)
        feed_module(e, "wm1", SEC(0), &c, m);
    feed_hb(e, "wm1", SEC(0), 60 * S_US, 10);
    ow_engine_tick(e, w0);
    ow_engine_tick(e, w0 + 17 * S_US);
    CHECK(rec_a.nal == 0);
    ow_engine_tick(e, w0 + 18 * S_US);
    CHECK(rec_a.nal == 1 && rec_a.al[0].raised_us == SEC(180));
    ow_engine_destroy(&e);

    /* A gateway that never sent anything is silent too (from the first tick). */
    e = fresh(2, &rec_a);
    cycle(e, "wm1", SEC(0), &c);
    ow_engine_tick(e, w0);
    cycle(e, "wm1", SEC(1), &c);
    ow_engine_tick(e, w0 + S_US);
    cycle(e, "wm1", SEC(2), &c);
    ow_engine_tick(e, w0 + 3 * S_US);
    CHECK(rec_a.nal == 1);
    CHECK_STR(rec_a.al_gw[0], "wm2");
    CHECK(rec_a.al[0].raised_us == w0 + 3 * S_US);
    CHECK(ow_engine_state(e, "wm2")->general == GBMS_ST_SYSTEM_FAILURE);
    CHECK(state(e)->general == 0x41);
    ow_engine_destroy(&e);
}

static void test_string_levels(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    cycle(e, "wm1", SEC(0), &c);
    rec_reset(&rec_a);

    feed_string(e, "wm1", SEC(1), 1, FLOAT_I, 136, 0);
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 0, "raise", 29, 1, 0, 1);
    CHECK_EV(&rec_a, 1, "raise", 27, 1, 0, 2);
    CHECK_STR(rec_a.al[1].text, "String UPS A: voltage 136.00 V above high alarm 135.00 V");
    /* String alarms set no Alarm Flags bit but the string's general alarm. */
    CHECK(state(e)->string_flags[0] == GBMS_AL_GENERAL_ALARM);
    CHECK(state(e)->string_flags2[0] == 0 && state(e)->module_alarms == 0);
    CHECK(state(e)->alarm == GBMS_AL_GENERAL_ALARM && state(e)->battery == GBMS_BAT_GENERAL_ALARM);
    /* A sum over fewer blocks than the string has is not judged. */
    feed_string(e, "wm1", SEC(2), 1, FLOAT_I, 100, 1);
    CHECK(rec_a.nal == 2);
    feed_string(e, "wm1", SEC(3), 1, FLOAT_I, 104, 0);
    CHECK(rec_a.nal == 6);
    CHECK_EV(&rec_a, 2, "raise", 28, 1, 0, 3);
    CHECK_EV(&rec_a, 3, "raise", 30, 1, 0, 4);
    CHECK_EV(&rec_a, 4, "clear", 29, 1, 0, 1);
    CHECK_EV(&rec_a, 5, "clear", 27, 1, 0, 2);
    feed_string(e, "wm1", SEC(4), 1, FLOAT_I, 122.58, 0);
    CHECK(rec_a.nal == 8);
    CHECK_EV(&rec_a, 6, "clear", 28, 1, 0, 3);
    CHECK_EV(&rec_a, 7, "clear", 30, 1, 0, 4);

    /* Current: string 2, high 20/30, low -100/-150 A. */
    rec_reset(&rec_a);
    feed_string(e, "wm1", SEC(5), 2, 31, 122.58, 0);
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 0, "raise", 33, 2, 0, 5);
    CHECK_EV(&rec_a, 1, "raise", 31, 2, 0, 6);
    CHECK(state(e)->string_flags2[1] == (GBMS_STR_CURRENT_HIGH | GBMS_STR_CURRENT_HIGH_WARN));
    CHECK(state(e)->string_flags2[0] == 0);
    feed_string(e, "wm1", SEC(6), 2, 29.5, 122.58, 0); /* inside the 1 A hysteresis */
    CHECK(rec_a.nal == 2);
    feed_string(e, "wm1", SEC(7), 2, -151, 122.58, 0);
    CHECK(rec_a.nal == 6);
    CHECK_EV(&rec_a, 2, "raise", 32, 2, 0, 7);
    CHECK_EV(&rec_a, 3, "raise", 34, 2, 0, 8);
    CHECK_EV(&rec_a, 4, "clear", 33, 2, 0, 5);
    CHECK_EV(&rec_a, 5, "clear", 31, 2, 0, 6);
    CHECK(state(e)->string_flags2[1] == (GBMS_STR_CURRENT_LOW | GBMS_STR_CURRENT_LOW_WARN));
    feed_string(e, "wm1", SEC(8), 2, FLOAT_I, 122.58, 0);
    CHECK(rec_a.nal == 8 && state(e)->string_flags2[1] == 0);
    ow_engine_destroy(&e);

    /* Without a current sensor there are no current alarms. */
    make_site(1);
    gws[0].current_sensor = 0;
    rec_reset(&rec_a);
    e = ow_engine_new(&site, &sink, &rec_a);
    feed_string(e, "wm1", SEC(1), 1, 31, 122.58, 0);
    CHECK(rec_a.nal == 0);
    ow_engine_destroy(&e);
}

static void test_deviation(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    cycle(e, "wm1", SEC(0), &c);
    rec_reset(&rec_a);

    /* Charge: mean 6.25 A, each string 5.75 A away: warning (5 A), no alarm. */
    c.i[1] = 12;
    c.i[2] = 0.5;
    cycle(e, "wm1", SEC(1), &c);
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 0, "raise", 38, 1, 0, 1);
    CHECK_EV(&rec_a, 1, "raise", 38, 2, 0, 2);
    CHECK(rec_a.al[0].severity == OW_SEV_WARNING);
    CHECK_NEAR(rec_a.al[0].value, 5.75, 1e-9);
    CHECK(rec_a.al[0].threshold == 5);
    CHECK(state(e)->string_flags2[0] == 0x1000 && state(e)->string_flags2[1] == 0x1000);
    CHECK(state(e)->string_flags2[0] == GBMS_STR_DEV_CHARGE_WARN);
    CHECK(state(e)->string_flags[0] == 0 && state(e)->battery == 0);
    /* 10 % hysteresis: 4.75 A holds, 4.45 A clears. */
    c.i[1] = 10;
    cycle(e, "wm1", SEC(2), &c);
    CHECK(count(&rec_a, 38, "clear") == 0);
    c.i[1] = 9.4;
    cycle(e, "wm1", SEC(3), &c);
    CHECK(count(&rec_a, 38, "clear") == 2);
    CHECK(state(e)->string_flags2[0] == 0);

    /* Discharge: mean -50 A, 12 A away: alarm and warning. */
    rec_reset(&rec_a);
    c.i[1] = -62;
    c.i[2] = -38;
    cycle(e, "wm1", SEC(4), &c);
    CHECK(count(&rec_a, 37, "raise") == 2 && count(&rec_a, 39, "raise") == 2);
    CHECK(count(&rec_a, 36, "raise") == 0 && count(&rec_a, 38, "raise") == 0);
    const ow_alarm_t *a = find(&rec_a, 37, 1, "raise");
    CHECK(a && a->severity == OW_SEV_ALARM && a->threshold == 10);
    CHECK(state(e)->string_flags2[0] == (GBMS_STR_DEV_DISCHARGE | GBMS_STR_DEV_DISCHARGE_WARN));
    CHECK(state(e)->string_flags2[0] == 0xa0);
    CHECK(state(e)->string_flags[0] == GBMS_AL_GENERAL_ALARM);
    /* Back on charge the discharge checks are off: they clear. */
    c.i[1] = 12;
    c.i[2] = 0.5;
    cycle(e, "wm1", SEC(5), &c);
    CHECK(count(&rec_a, 37, "clear") == 2 && count(&rec_a, 39, "clear") == 2);
    CHECK(count(&rec_a, 38, "raise") == 2);
    CHECK(state(e)->string_flags2[0] == 0x1000);

    /* One string without a current: nothing to compare, nothing changes. */
    rec_reset(&rec_a);
    c.i[2] = NAN;
    c.i[1] = 30;
    cycle(e, "wm1", SEC(6), &c);
    CHECK(count(&rec_a, 38, "clear") == 0 && count(&rec_a, 36, "raise") == 0);
    ow_engine_destroy(&e);
}

static void test_voltage_diff(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    c.v[3] = 12.9; /* 0.64 V below the string average */
    cycle(e, "wm1", SEC(0), &c);
    CHECK(count(&rec_a, 26, "raise") == 0); /* disabled at 0 */

    ow_thresholds_t thr = ow_engine_gateway(e, "wm1")->thr;
    thr.max_voltage_diff_v = 0.5;
    ow_engine_set_thresholds(e, "wm1", &thr);
    rec_reset(&rec_a);
    cycle(e, "wm1", SEC(1), &c);
    CHECK(rec_a.nal == 1);
    CHECK_EV(&rec_a, 0, "raise", 26, 1, 0, 1);
    CHECK(rec_a.al[0].severity == OW_SEV_WARNING && rec_a.al[0].threshold == 0.5);
    CHECK_NEAR(rec_a.al[0].value, (8 * 13.62 + 12.9) / 9 - 12.9, 1e-9);
    CHECK_CONTAINS(rec_a.al[0].text, "block 3 at 12.90 V");
    CHECK(state(e)->battery == GBMS_BAT_VOLTAGE_DIFF_HIGH);
    CHECK(state(e)->battery == 0x2);
    CHECK(state(e)->alarm == 0 && state(e)->general == 0x41 && state(e)->alarms_active == 1);
    c.v[3] = NORMAL_V;
    cycle(e, "wm1", SEC(2), &c);
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 1, "clear", 26, 1, 0, 1);
    CHECK(state(e)->battery == 0);
    /* Disabling clears what it raised. */
    c.v[12] = 12.9;
    cycle(e, "wm1", SEC(3), &c);
    CHECK_EV(&rec_a, 2, "raise", 26, 2, 0, 2);
    thr.max_voltage_diff_v = 0;
    ow_engine_set_thresholds(e, "wm1", &thr);
    cycle(e, "wm1", SEC(4), &c);
    CHECK(rec_a.nal == 4);
    CHECK_EV(&rec_a, 3, "clear", 26, 2, 0, 2);
    ow_engine_destroy(&e);
}

static void test_equalizing(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    ow_thresholds_t thr = ow_engine_gateway(e, "wm1")->thr;
    thr.equalizing_min_v = 12.8;
    thr.equalizing_max_v = 14.0;
    ow_engine_set_thresholds(e, "wm1", &thr);
    cycle(e, "wm1", SEC(0), &c);
    CHECK(rec_a.nal == 0);
    c.v[7] = 14.05;
    c.v[8] = 14.02;
    cycle(e, "wm1", SEC(1), &c);
    CHECK(rec_a.nal == 1);
    CHECK_EV(&rec_a, 0, "raise", 35, 1, 0, 1);
    CHECK(rec_a.al[0].severity == OW_SEV_WARNING);
    CHECK(rec_a.al[0].value == 14.05 && rec_a.al[0].threshold == 14.0);
    CHECK_STR(rec_a.al[0].text,
              "String UPS A: block 7 at 14.05 V outside the equalizing range 12.80-14.00 V");
    CHECK(state(e)->string_flags2[0] == GBMS_STR_EQUALIZING_CUT_OFF);
    CHECK(state(e)->string_flags2[0] == 0x10 && state(e)->string_flags2[1] == 0);
    CHECK(state(e)->string_flags[0] == 0 && state(e)->battery == 0);
    c.v[7] = c.v[8] = NORMAL_V;
    cycle(e, "wm1", SEC(2), &c);
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 1, "clear", 35, 1, 0, 1);
    CHECK(state(e)->string_flags2[0] == 0);
    /* Not judged while discharging. */
    c.i[1] = c.i[2] = -20;
    c.v[16] = 12.7;
    cycle(e, "wm1", SEC(3), &c);
    CHECK(count(&rec_a, 35, "raise") == 1);
    ow_engine_destroy(&e);
}

/* The guide's generic alarms: one per gateway for its family, raised with
 * the first member, cleared with the last (docs/alarms.md). */
static void test_generic_alarms(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    cycle(e, "wm1", SEC(0), &c);
    CHECK(rec_a.nal == 0 && rec_a.ngal == 0);

    /* Module 4's voltage high alarm: 13 (id 1), 6 (id 2), then 4 (id 3). */
    c.v[4] = 15.62;
    cycle(e, "wm1", SEC(1), &c);
    CHECK(rec_a.nal == 2 && rec_a.ngal == 1);
    const ow_alarm_t *g = &rec_a.gal[0];
    CHECK(g->type == 4 && strcmp(g->action, "raise") == 0 && g->id == 3);
    CHECK(g->severity == OW_SEV_ALARM && g->string == 0 && g->module == 0);
    CHECK(g->value == 1 && g->raised_us == SEC(1));
    CHECK_STR(g->text, "Gateway wm1: bacsAlarmVoltage: String UPS A block 4: voltage 15.62 V "
                       "above high alarm 15.50 V");
    const ow_state_t *st = state(e);
    /* The summary is a row of the alarm table, sets no flag word and no
     * module's count: only 6 sets GENERAL_ALARM and VOLTAGE_HIGH. */
    CHECK(st->alarms_active == 3 && st->module_alarms == 1);
    CHECK(st->alarm == (GBMS_AL_GENERAL_ALARM | GBMS_AL_VOLTAGE_HIGH));
    CHECK(st->general == (0x41 | GBMS_ST_VOLTAGE_OUTOFRANGE) && st->audible == 1);

    /* Module 13 (the other string): 13 and 6 again, no second 4. */
    c.v[13] = 15.62;
    cycle(e, "wm1", SEC(2), &c);
    CHECK(rec_a.nal == 4 && rec_a.ngal == 1);
    CHECK(count(&rec_a, 6, "raise") == 2);
    CHECK(state(e)->alarms_active == 5 && state(e)->module_alarms == 2);
    ow_alarm_t act[16];
    int n4 = 0, na = ow_engine_active(e, "wm1", act, 16);
    for (int i = 0; i < na; i++)
        n4 += act[i].type == 4;
    CHECK(na == 5 && n4 == 1);

    /* Clearing module 4's keeps 4; clearing module 13's clears it, after
     * the member, with the raise's id. */
    c.v[4] = NORMAL_V;
    cycle(e, "wm1", SEC(3), &c);
    CHECK(rec_a.nal == 6 && rec_a.ngal == 1);
    CHECK(state(e)->alarms_active == 3);
    c.v[13] = NORMAL_V;
    cycle(e, "wm1", SEC(4), &c);
    CHECK(rec_a.nal == 8 && rec_a.ngal == 2);
    g = &rec_a.gal[1];
    CHECK(g->type == 4 && strcmp(g->action, "clear") == 0 && g->id == 3);
    CHECK(g->raised_us == SEC(1) && g->cleared_us == SEC(4) && g->value == 0);
    CHECK_STR(g->text, "Gateway wm1: bacsAlarmVoltage: no member alarm left");
    st = state(e);
    CHECK(st->alarms_active == 0 && st->alarm == 0 && st->general == 0x41);
    CHECK(ow_engine_active(e, "wm1", NULL, 0) == 0);

    /* A voltage warning alone raises no generic alarm (4 is the alarm
     * range). */
    rec_reset(&rec_a);
    c.v[5] = 14.2;
    cycle(e, "wm1", SEC(5), &c);
    CHECK(rec_a.nal == 1 && rec_a.ngal == 0);
    c.v[5] = NORMAL_V;
    cycle(e, "wm1", SEC(6), &c);

    /* Impedance: a warning raises 2 (warning), an alarm then 3 (alarm). */
    rec_reset(&rec_a);
    c.z[6] = 41;
    cycle(e, "wm1", SEC(7), &c);
    CHECK(rec_a.nal == 1 && rec_a.ngal == 1);
    CHECK(rec_a.gal[0].type == 2 && rec_a.gal[0].severity == OW_SEV_WARNING);
    CHECK(state(e)->alarms_active == 2 && state(e)->audible == 0);
    c.z[6] = 51;
    cycle(e, "wm1", SEC(8), &c);
    CHECK(rec_a.nal == 2 && rec_a.ngal == 2);
    CHECK(rec_a.gal[1].type == 3 && rec_a.gal[1].severity == OW_SEV_ALARM);
    CHECK(strcmp(rec_a.gal[1].action, "raise") == 0);
    CHECK(state(e)->alarms_active == 4);
    /* Acknowledging the member mutes the buzzer; the summaries wait. */
    CHECK(ow_engine_ack(e, "wm1", rec_a.al[1].id, SEC(8)) == 1);
    CHECK(state(e)->audible == 0);
    c.z[6] = 4.6;
    cycle(e, "wm1", SEC(9), &c);
    CHECK(rec_a.ngal == 4 && count(&rec_a, 10, "clear") == 1 && count(&rec_a, 17, "clear") == 1);
    /* In level order: the high warning (17, then 2) before the alarm. */
    CHECK(rec_a.gal[2].type == 2 && strcmp(rec_a.gal[2].action, "clear") == 0);
    CHECK(rec_a.gal[3].type == 3 && strcmp(rec_a.gal[3].action, "clear") == 0);

    /* Temperature: a low alarm raises 5, its warning nothing more. */
    rec_reset(&rec_a);
    c.t[2] = 4;
    cycle(e, "wm1", SEC(10), &c);
    CHECK(rec_a.nal == 2 && rec_a.ngal == 1);
    CHECK(rec_a.gal[0].type == 5 && rec_a.gal[0].severity == OW_SEV_ALARM);
    c.t[2] = 25;
    cycle(e, "wm1", SEC(11), &c);
    CHECK(rec_a.ngal == 2 && strcmp(rec_a.gal[1].action, "clear") == 0);

    /* Equalizing not operating on two strings: one 12, a warning. */
    rec_reset(&rec_a);
    ow_thresholds_t thr = ow_engine_gateway(e, "wm1")->thr;
    thr.equalizing_min_v = 12.8;
    thr.equalizing_max_v = 14.0;
    ow_engine_set_thresholds(e, "wm1", &thr);
    c.v[7] = 14.05;
    c.v[16] = 14.05;
    cycle(e, "wm1", SEC(12), &c);
    CHECK(count(&rec_a, 35, "raise") == 2 && rec_a.ngal == 1);
    CHECK(rec_a.gal[0].type == 12 && rec_a.gal[0].severity == OW_SEV_WARNING);
    CHECK(rec_a.gal[0].string == 0 && rec_a.gal[0].module == 0);
    c.v[7] = NORMAL_V;
    cycle(e, "wm1", SEC(13), &c);
    CHECK(count(&rec_a, 35, "clear") == 1 && rec_a.ngal == 1);
    c.v[16] = NORMAL_V;
    cycle(e, "wm1", SEC(14), &c);
    CHECK(count(&rec_a, 35, "clear") == 2 && rec_a.ngal == 2);
    CHECK(rec_a.gal[1].type == 12 && strcmp(rec_a.gal[1].action, "clear") == 0);
    CHECK(ow_engine_active(e, "wm1", NULL, 0) == 0);

    /* A state file written before the generic alarms existed has 6 active
     * and no 4: the first reading after the load raises it; a file with
     * both raises nothing. */
    rec_reset(&rec_a);
    thr.equalizing_min_v = 11.0; /* 15.62 V raises no 35 (as in fresh()) */
    thr.equalizing_max_v = 16.0;
    ow_engine_set_thresholds(e, "wm1", &thr);
    c.v[4] = 15.62;
    cycle(e, "wm1", SEC(15), &c);
    CHECK(rec_a.ngal == 1 && rec_a.gal[0].type == 4);
    for (int strip = 0; strip <= 1; strip++) {
        json_t *j = ow_engine_save(e);
        json_t *al =
            json_object_get(json_object_get(json_object_get(j, "gateways"), "wm1"), "alarms");
        size_t i = 0;
        while (strip && i < json_array_size(al)) {
            if (json_integer_value(json_object_get(json_array_get(al, i), "code")) == 4)
                json_array_remove(al, i);
            else
                i++;
        }
        ow_engine_t *b = fresh(1, &rec_b);
        char err[256] = "";
        CHECK_MSG(ow_engine_load(b, j, err, sizeof err) == 0, "%s", err);
        json_decref(j);
        rec_reset(&rec_b);
        CHECK(ow_engine_active(b, "wm1", NULL, 0) == 3 - strip);
        cycle(b, "wm1", SEC(16), &c);
        CHECK_MSG(rec_b.ngal == strip, "strip %d: %d generic", strip, rec_b.ngal);
        if (strip) {
            CHECK(rec_b.gal[0].type == 4 && strcmp(rec_b.gal[0].action, "raise") == 0);
            CHECK_STR(rec_b.gal[0].text, "Gateway wm1: bacsAlarmVoltage: String UPS A block 4: "
                                         "voltage 15.62 V above high alarm 15.50 V");
        }
        CHECK(ow_engine_active(b, "wm1", NULL, 0) == 3);
        ow_engine_destroy(&b);
    }
    ow_engine_destroy(&e);
}

/* Thermal runaway (the diag's rule: on settled float - an hour of it - a
 * spread > 5 degC and the float current above 0.5 A and rising, for 10 s):
 * alarm, breaker command, breaker open until aux shows the output off. */
static void test_thermal_runaway(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    ow_thresholds_t thr = ow_engine_gateway(e, "wm1")->thr;
    thr.temp_c.high_warn = 40;
    thr.temp_c.high_alarm = 45;
    ow_engine_set_thresholds(e, "wm1", &thr);
    for (int k = 0; k <= 3600; k += 10)
        cycle(e, "wm1", SEC(k - 3600), &c);
    c.t[2] = 31;
    c.i[1] = 0.8;
    int t = 1;
    for (; t <= 30 && count(&rec_a, 22, "raise") == 0; t++)
        cycle(e, "wm1", SEC(t), &c);
    CHECK_MSG(t - 1 == 11, "raised at %d s", t - 1); /* held from 1 s, 10 s later */
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 0, "raise", 22, 1, 0, 1);
    CHECK_EV(&rec_a, 1, "raise", 21, 0, 0, 2);
    CHECK(rec_a.al[0].severity == OW_SEV_ALARM && rec_a.al[0].value == 6);
    CHECK(rec_a.ncmd == 1);
    CHECK_STR(rec_a.cmd[0].cmd, "output");
    CHECK(rec_a.cmd[0].index == 4 && rec_a.cmd[0].value == 1);
    CHECK(rec_a.cmd_ts[0] == SEC(11));
    const ow_state_t *st = state(e);
    CHECK(st->battery ==
          (GBMS_BAT_THERMAL_RUNAWAY | GBMS_BAT_BREAKER_OPEN | GBMS_BAT_GENERAL_ALARM));
    CHECK(st->battery == 0xd);
    CHECK(st->alarm == GBMS_AL_GENERAL_ALARM && st->string_flags[0] == GBMS_AL_GENERAL_ALARM);
    CHECK(st->audible == 1 && st->alarms_active == 2);

    /* busd switched the output on: the breaker stays open, nothing new. */
    c.outputs = 1u << 3;
    cycle(e, "wm1", SEC(12), &c);
    CHECK(rec_a.nal == 2 && rec_a.ncmd == 1);
    /* The temperatures come back (below 5 - 1 degC): 22 clears, the breaker
     * stays open while the output is on. */
    c.t[2] = 28.9;
    cycle(e, "wm1", SEC(13), &c);
    CHECK(rec_a.nal == 3);
    CHECK_EV(&rec_a, 2, "clear", 22, 1, 0, 1);
    CHECK(state(e)->battery == (GBMS_BAT_BREAKER_OPEN | GBMS_BAT_GENERAL_ALARM));
    c.outputs = 0;
    cycle(e, "wm1", SEC(14), &c);
    CHECK(rec_a.nal == 4);
    CHECK_EV(&rec_a, 3, "clear", 21, 0, 0, 2);
    CHECK(state(e)->battery == 0);

    /* The breaker output on for any reason is a breaker open alarm. */
    rec_reset(&rec_a);
    c.outputs = 1u << 3;
    cycle(e, "wm1", SEC(15), &c);
    CHECK(rec_a.nal == 1);
    CHECK_EV(&rec_a, 0, "raise", 21, 0, 0, 3);
    CHECK(state(e)->battery == (GBMS_BAT_BREAKER_OPEN | GBMS_BAT_GENERAL_ALARM));
    ow_engine_destroy(&e);
}

/* The webmanager's common alarm contact and buzzer on GX_R_AUX outputs: the
 * contact follows the general alarm, muted or not; the buzzer stops at the
 * acknowledgement; a warning moves neither; commands go out on a change. */
static void test_alarm_outputs(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    ow_thresholds_t thr = ow_engine_gateway(e, "wm1")->thr;
    thr.common_alarm_output = 2;
    thr.audible_alarm_output = 3;
    ow_engine_set_thresholds(e, "wm1", &thr);
    CHECK(rec_a.ncmd == 0); /* nothing is told before the first reading */
    cycle(e, "wm1", SEC(0), &c);
    /* told once where they stand (off), whatever busd shows */
    CHECK_MSG(rec_a.ncmd == 2, "%d commands at start", rec_a.ncmd);
    CHECK(rec_a.cmd[0].index == 2 && rec_a.cmd[0].value == 0);
    CHECK(rec_a.cmd[1].index == 3 && rec_a.cmd[1].value == 0);
    cycle(e, "wm1", SEC(1), &c);
    CHECK(rec_a.ncmd == 2);
    rec_reset(&rec_a);

    c.t[5] = 31; /* a warning: neither */
    cycle(e, "wm1", SEC(2), &c);
    CHECK(count(&rec_a, 15, "raise") == 1 && rec_a.ncmd == 0);
    c.t[5] = 36; /* an alarm: both, once */
    cycle(e, "wm1", SEC(3), &c);
    cycle(e, "wm1", SEC(4), &c);
    CHECK_MSG(rec_a.ncmd == 2, "%d commands on the alarm", rec_a.ncmd);
    CHECK(rec_a.cmd[0].index == 2 && rec_a.cmd[0].value == 1 && rec_a.cmd_ts[0] == SEC(3));
    CHECK(rec_a.cmd[1].index == 3 && rec_a.cmd[1].value == 1);
    rec_reset(&rec_a);
    /* acknowledged: the buzzer stops, the contact stays */
    CHECK(ow_engine_ack(e, "wm1", 0, SEC(5)) == 3); /* 15, 8 and the generic 5 */
    CHECK(rec_a.ncmd == 1 && rec_a.cmd[0].index == 3 && rec_a.cmd[0].value == 0 &&
          rec_a.cmd_ts[0] == SEC(5));
    /* a second alarm sounds again */
    c.v[7] = 15.8;
    for (int t = 6; t <= 17; t++) /* the voltage delay is 10 s */
        cycle(e, "wm1", SEC(t), &c);
    CHECK(count(&rec_a, 6, "raise") == 1);
    CHECK_MSG(rec_a.ncmd == 2 && rec_a.cmd[1].index == 3 && rec_a.cmd[1].value == 1, "%d commands",
              rec_a.ncmd);
    rec_reset(&rec_a);
    /* everything clears: both off; the warning left (31 degC) holds neither */
    c.v[7] = NORMAL_V;
    c.t[5] = 31;
    cycle(e, "wm1", SEC(18), &c);
    CHECK_MSG(rec_a.ncmd == 2, "%d commands on clearing", rec_a.ncmd);
    CHECK(rec_a.cmd[0].index == 2 && rec_a.cmd[0].value == 0);
    CHECK(rec_a.cmd[1].index == 3 && rec_a.cmd[1].value == 0);
    CHECK(state(e)->alarms_active == 1 && state(e)->audible == 0);
    rec_reset(&rec_a);

    /* moved to another output at runtime: the old one is let go, the new
     * one told */
    c.t[5] = 36;
    cycle(e, "wm1", SEC(19), &c);
    CHECK(rec_a.ncmd == 2);
    rec_reset(&rec_a);
    thr.common_alarm_output = 4;
    ow_engine_set_thresholds(e, "wm1", &thr);
    CHECK_MSG(rec_a.ncmd == 2, "%d commands on the move", rec_a.ncmd);
    CHECK(rec_a.cmd[0].index == 2 && rec_a.cmd[0].value == 0);
    CHECK(rec_a.cmd[1].index == 4 && rec_a.cmd[1].value == 1);

    /* a restarted alarmd (state saved and loaded) tells them again */
    json_t *saved = ow_engine_save(e);
    ow_engine_t *b = fresh(1, &rec_b);
    ow_engine_set_thresholds(b, "wm1", &thr);
    char err[256];
    CHECK(ow_engine_load(b, saved, err, sizeof err) == 0);
    json_decref(saved);
    rec_reset(&rec_b);
    cycle(b, "wm1", SEC(20), &c);
    CHECK_MSG(rec_b.ncmd == 2, "%d commands after a load", rec_b.ncmd);
    CHECK(rec_b.cmd[0].index == 4 && rec_b.cmd[0].value == 1);
    CHECK(rec_b.cmd[1].index == 3 && rec_b.cmd[1].value == 1);
    ow_engine_destroy(&b);

    /* an output handed to the breaker is not switched off on the way */
    rec_reset(&rec_a);
    thr.tr_breaker_output = 4;
    thr.common_alarm_output = 2;
    ow_engine_set_thresholds(e, "wm1", &thr);
    CHECK_MSG(rec_a.ncmd == 1 && rec_a.cmd[0].index == 2 && rec_a.cmd[0].value == 1,
              "%d commands, first output %d", rec_a.ncmd, rec_a.cmd[0].index);
    ow_engine_destroy(&e);
}

/* Battery states from the diag: discharging, stopped, back on float. */
static void test_discharge_states(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    cycle(e, "wm1", SEC(0), &c);
    rec_reset(&rec_a);
    c.i[1] = c.i[2] = -20;
    cycle(e, "wm1", SEC(1), &c);
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 0, "raise", 24, 1, 0, 1);
    CHECK_EV(&rec_a, 1, "raise", 24, 2, 0, 2);
    CHECK(rec_a.al[0].severity == OW_SEV_INFO && rec_a.al[0].value == -20);
    CHECK(rec_a.ndis == 2);
    CHECK_STR(rec_a.dis[0].action, "start");
    CHECK(state(e)->general == (GBMS_ST_RUNNING | GBMS_ST_DISCHARGING));
    CHECK(state(e)->general == 0x0009);
    CHECK(state(e)->alarms_active == 0 && state(e)->audible == 0 && state(e)->battery == 0);
    /* both strings together: one discharge; the equalizers are off */
    CHECK(state(e)->discharges == 1 && state(e)->eq_paused == 1);
    c.i[1] = c.i[2] = 3; /* charging again: debounced over 2 cycles */
    cycle(e, "wm1", SEC(2), &c);
    CHECK(rec_a.nal == 2);
    cycle(e, "wm1", SEC(3), &c);
    CHECK(rec_a.nal == 6);
    CHECK(count(&rec_a, 24, "clear") == 2 && count(&rec_a, 25, "raise") == 2);
    CHECK(rec_a.ndis == 4);
    CHECK_STR(rec_a.dis[2].action, "end");
    CHECK(state(e)->general == (GBMS_ST_RUNNING | GBMS_ST_CHARGING | GBMS_ST_DISCHARGING_STOPPED));
    CHECK(state(e)->general == 0x0031);
    CHECK(state(e)->discharges == 1 && state(e)->eq_paused == 0);
    c.i[1] = c.i[2] = FLOAT_I;
    cycle(e, "wm1", SEC(4), &c);
    cycle(e, "wm1", SEC(5), &c);
    CHECK(count(&rec_a, 25, "clear") == 2);
    CHECK(state(e)->general == 0x0041);
    c.i[2] = -20; /* string 2 alone: the second */
    cycle(e, "wm1", SEC(6), &c);
    CHECK(state(e)->discharges == 2 && state(e)->eq_paused == 1);

    /* the counter is in the state file: a restarted engine has it before
     * its first cycle */
    json_t *j = ow_engine_save(e);
    ow_engine_t *b = fresh(1, &rec_b);
    char err[256] = "";
    CHECK(state(b)->discharges == 0);
    CHECK_MSG(ow_engine_load(b, j, err, sizeof err) == 0, "%s", err);
    json_decref(j);
    CHECK(state(b)->discharges == 2 && state(b)->eq_paused == 1);
    c.i[2] = FLOAT_I;
    cycle(b, "wm1", SEC(7), &c);
    cycle(b, "wm1", SEC(8), &c);
    CHECK(state(b)->discharges == 2 && state(b)->eq_paused == 0);
    ow_engine_destroy(&b);
    ow_engine_destroy(&e);
}

static void test_aux(void)
{
    make_site(1);
    gws[0].hydrogen_sensor = 1;
    rec_reset(&rec_a);
    ow_engine_t *e = ow_engine_new(&site, &sink, &rec_a);
    cyc_t c;
    cyc_init(&c);
    c.h2 = 0.5;
    cycle(e, "wm1", SEC(0), &c);
    CHECK(rec_a.nal == 0);
    /* Hydrogen in two stages: a warning at 20 % LEL (clears below 18), the
     * alarm at 40 % LEL (clears below 36) beside it. */
    c.h2 = 19.9;
    cycle(e, "wm1", SEC(1), &c);
    CHECK(rec_a.nal == 0);
    c.h2 = 20;
    cycle(e, "wm1", SEC(1) + 1, &c);
    CHECK(rec_a.nal == 1);
    CHECK_EV(&rec_a, 0, "raise", GBMS_A_HYDROGEN_WARN, 0, 0, 1);
    CHECK(rec_a.al[0].severity == OW_SEV_WARNING && rec_a.al[0].threshold == 20 &&
          rec_a.al[0].value == 20);
    CHECK_STR(rec_a.al[0].text,
              "Gateway wm1: hydrogen 20.0 % LEL at or above the warning level 20.0 % LEL");
    CHECK(state(e)->alarm == 0 && state(e)->alarms_active == 1);
    c.h2 = 40;
    cycle(e, "wm1", SEC(2), &c);
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 1, "raise", GBMS_A_HYDROGEN, 0, 0, 2);
    CHECK(rec_a.al[1].severity == OW_SEV_ALARM && rec_a.al[1].threshold == 40);
    CHECK(state(e)->alarm == GBMS_AL_GENERAL_ALARM && state(e)->battery == GBMS_BAT_GENERAL_ALARM);
    CHECK(state(e)->alarms_active == 2);
    c.h2 = 36;
    cycle(e, "wm1", SEC(3), &c);
    CHECK(rec_a.nal == 2);
    c.h2 = 35.9;
    cycle(e, "wm1", SEC(4), &c);
    CHECK(rec_a.nal == 3);
    CHECK_EV(&rec_a, 2, "clear", GBMS_A_HYDROGEN, 0, 0, 2);
    CHECK_STR(rec_a.al[2].text, "Gateway wm1: hydrogen 35.9 % LEL back below 36.0 % LEL (alarm)");
    CHECK(state(e)->alarm == 0 && state(e)->alarms_active == 1);
    c.h2 = 18;
    cycle(e, "wm1", SEC(5), &c);
    CHECK(rec_a.nal == 3);
    c.h2 = 17.9;
    cycle(e, "wm1", SEC(6), &c);
    CHECK(rec_a.nal == 4);
    CHECK_EV(&rec_a, 3, "clear", GBMS_A_HYDROGEN_WARN, 0, 0, 1);
    CHECK(state(e)->alarms_active == 0);
    /* A stage set to 0 is off and clears what it raised. */
    c.h2 = 25;
    cycle(e, "wm1", SEC(7), &c);
    CHECK(rec_a.nal == 5);
    CHECK_EV(&rec_a, 4, "raise", GBMS_A_HYDROGEN_WARN, 0, 0, 3);
    ow_thresholds_t off = ow_engine_gateway(e, "wm1")->thr;
    off.hydrogen_warn_pct_lel = 0;
    ow_engine_set_thresholds(e, "wm1", &off);
    cycle(e, "wm1", SEC(8), &c);
    CHECK(rec_a.nal == 6);
    CHECK_EV(&rec_a, 5, "clear", GBMS_A_HYDROGEN_WARN, 0, 0, 3);
    off.hydrogen_warn_pct_lel = 20;
    ow_engine_set_thresholds(e, "wm1", &off);
    c.h2 = 0.5;
    cycle(e, "wm1", SEC(9), &c);
    CHECK(rec_a.nal == 6);
    /* A fitted sensor reading nothing. */
    rec_reset(&rec_a);
    c.ambient = NAN;
    cycle(e, "wm1", SEC(14), &c);
    CHECK(rec_a.nal == 1);
    CHECK_EV(&rec_a, 0, "raise", 23, 0, 0, 4);
    CHECK_STR(rec_a.al[0].text, "Gateway wm1: ambient sensor not answering");
    CHECK(state(e)->alarms_active == 1 && state(e)->alarm == 0);
    c.h2 = NAN; /* still the same alarm */
    cycle(e, "wm1", SEC(15), &c);
    CHECK(rec_a.nal == 1);
    c.ambient = 22;
    c.h2 = 0.5;
    cycle(e, "wm1", SEC(16), &c);
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 1, "clear", 23, 0, 0, 4);
    /* GX_R_AUX inputs: one alarm per input, the input number as module. */
    rec_reset(&rec_a);
    c.inputs = (1u << 1) | (1u << 5);
    cycle(e, "wm1", SEC(17), &c);
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 0, "raise", 104, 0, 2, 5);
    CHECK_EV(&rec_a, 1, "raise", 104, 0, 6, 6);
    CHECK_STR(rec_a.al[1].text, "Gateway wm1: GX_R_AUX unit 2 input 2 in alarm");
    /* Module numbers of input alarms are no modules. */
    CHECK(state(e)->module_warnings == 0 && state(e)->module_flags[1] == 0);
    c.inputs = 1u << 5;
    cycle(e, "wm1", SEC(18), &c);
    CHECK(rec_a.nal == 3);
    CHECK_EV(&rec_a, 2, "clear", 104, 0, 2, 5);
    /* A hydrogen level of 0 disables the check and clears its alarm. */
    rec_reset(&rec_a);
    c.h2 = 45;
    cycle(e, "wm1", SEC(19), &c);
    CHECK(count(&rec_a, 103, "raise") == 1);
    ow_thresholds_t thr = ow_engine_gateway(e, "wm1")->thr;
    thr.hydrogen_alarm_pct_lel = 0;
    ow_engine_set_thresholds(e, "wm1", &thr);
    cycle(e, "wm1", SEC(20), &c);
    CHECK(count(&rec_a, 103, "clear") == 1);
    ow_engine_destroy(&e);
}

/* The stand-alone temperature/humidity sensor: four room temperature levels
 * and two humidity levels, each raised only after its level held for the
 * 300 s delay (an open door does not raise) and cleared beyond the
 * hysteresis; a cycle every 10 s as a gateway polls. */
static void room(ow_engine_t *e, int64_t *t, int secs, double amb, double rh, cyc_t *c)
{
    c->ambient = amb;
    c->humidity = rh;
    for (int k = 0; k < secs; k += 10, *t += 10000000)
        cycle(e, "wm1", *t, c);
}

static void test_room(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    int64_t t = SEC(0);
    room(e, &t, 60, 22, 40, &c);
    CHECK(rec_a.nal == 0);
    /* 31 degC for 290 s (a door open on a hot day): nothing. */
    room(e, &t, 290, 31, 40, &c);
    room(e, &t, 10, 22, 40, &c);
    CHECK(rec_a.nal == 0);
    /* Held: the warning at the first reading 300 s after the first warm one. */
    int64_t t0 = t;
    room(e, &t, 310, 31, 40, &c);
    CHECK(rec_a.nal == 1);
    CHECK_EV(&rec_a, 0, "raise", GBMS_A_AMBIENT_WARN_HIGH, 0, 0, 1);
    CHECK(rec_a.al[0].raised_us == t0 + 300000000 && rec_a.al[0].severity == OW_SEV_WARNING);
    CHECK(rec_a.al[0].value == 31 && rec_a.al[0].threshold == 30);
    CHECK_STR(rec_a.al[0].text,
              "Gateway wm1: room temperature 31.0 degC above high warning 30.0 degC");
    /* 36 degC: the alarm beside the warning, after its own delay. */
    t0 = t;
    room(e, &t, 310, 36, 40, &c);
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 1, "raise", GBMS_A_AMBIENT_HIGH, 0, 0, 2);
    CHECK(rec_a.al[1].raised_us == t0 + 300000000 && rec_a.al[1].severity == OW_SEV_ALARM);
    CHECK(state(e)->alarm == GBMS_AL_GENERAL_ALARM && state(e)->alarms_active == 2);
    /* Hysteresis 1 degC: 34.1 holds the alarm, 33.9 clears it, 29.1 holds
     * the warning, 28.9 clears it. */
    room(e, &t, 10, 34.1, 40, &c);
    CHECK(rec_a.nal == 2);
    room(e, &t, 10, 33.9, 40, &c);
    CHECK(rec_a.nal == 3);
    CHECK_EV(&rec_a, 2, "clear", GBMS_A_AMBIENT_HIGH, 0, 0, 2);
    room(e, &t, 10, 29.1, 40, &c);
    CHECK(rec_a.nal == 3);
    room(e, &t, 10, 28.9, 40, &c);
    CHECK(rec_a.nal == 4);
    CHECK_EV(&rec_a, 3, "clear", GBMS_A_AMBIENT_WARN_HIGH, 0, 0, 1);
    /* Cold room: -1 degC raises the low warning and the low alarm together. */
    room(e, &t, 310, -1, 40, &c);
    CHECK(rec_a.nal == 6);
    CHECK(count(&rec_a, GBMS_A_AMBIENT_WARN_LOW, "raise") == 1 &&
          count(&rec_a, GBMS_A_AMBIENT_LOW, "raise") == 1);
    room(e, &t, 10, 22, 40, &c);
    CHECK(count(&rec_a, GBMS_A_AMBIENT_WARN_LOW, "clear") == 1 &&
          count(&rec_a, GBMS_A_AMBIENT_LOW, "clear") == 1);
    /* Humidity: 85 %RH warns, 91 %RH alarms; hysteresis 2 %RH. A dry room
     * raises nothing (no low levels). */
    rec_reset(&rec_a);
    room(e, &t, 400, 22, 5, &c);
    CHECK(rec_a.nal == 0);
    room(e, &t, 310, 22, 85, &c);
    CHECK(rec_a.nal == 1);
    CHECK_EV(&rec_a, 0, "raise", GBMS_A_HUMIDITY_WARN_HIGH, 0, 0, 0);
    CHECK_STR(rec_a.al[0].text,
              "Gateway wm1: relative humidity 85.0 %RH above high warning 80.0 %RH");
    room(e, &t, 310, 22, 91, &c);
    CHECK(rec_a.nal == 2);
    CHECK_EV(&rec_a, 1, "raise", GBMS_A_HUMIDITY_HIGH, 0, 0, 0);
    room(e, &t, 10, 22, 88.1, &c);
    CHECK(rec_a.nal == 2);
    room(e, &t, 10, 22, 87.9, &c);
    CHECK(rec_a.nal == 3);
    CHECK_EV(&rec_a, 2, "clear", GBMS_A_HUMIDITY_HIGH, 0, 0, 0);
    room(e, &t, 10, 22, 77.9, &c);
    CHECK(rec_a.nal == 4);
    CHECK_EV(&rec_a, 3, "clear", GBMS_A_HUMIDITY_WARN_HIGH, 0, 0, 0);
    /* No sensor fitted: busd sends no values, nothing is judged. */
    rec_reset(&rec_a);
    gws[0].ambient_sensor = 0;
    ow_engine_destroy(&e);
    e = ow_engine_new(&site, &sink, &rec_a);
    room(e, &t, 400, NAN, NAN, &c);
    CHECK(rec_a.nal == 0);
    ow_engine_destroy(&e);
}

static void test_baseline(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    /* impedance is compared on settled float: an hour of it first */
    for (int k = 0; k <= 3600; k += 10)
        cycle(e, "wm1", SEC(k - 3600), &c);
    CHECK(ow_engine_set_baseline(e, "wm1", 4, 5.0) == 0);
    CHECK(ow_engine_baseline(e, "wm1", 4) == 5.0);
    CHECK(isnan(ow_engine_baseline(e, "wm1", 19)) && isnan(ow_engine_baseline(e, "x", 4)));
    CHECK(ow_engine_set_baseline(e, "wm1", 19, 5.0) == -1);
    CHECK(ow_engine_set_baseline(e, "wm1", 4, -1) == -1);
    CHECK(ow_engine_set_baseline(e, "nope", 4, 5.0) == -1);
    const double z[] = {6.1, 7.6, 7.3, 7.2};
    for (int i = 0; i < 4; i++) {
        c.z[4] = z[i];
        c.status[4] = OW_MODST_IMPC_FRESH;
        cycle(e, "wm1", SEC(1 + i), &c);
    }
    CHECK(rec_a.nbl == 4);
    CHECK(rec_a.bl[0].module == 4);
    CHECK_NEAR(rec_a.bl[0].deviation_pct, 22, 1e-9);
    CHECK(rec_a.nal == 3);
    CHECK_EV(&rec_a, 0, "raise", 101, 1, 4, 1);
    CHECK(rec_a.al[0].raised_us == SEC(1) && rec_a.al[0].threshold == 20);
    CHECK_NEAR(rec_a.al[0].value, 22, 1e-9);
    CHECK_EV(&rec_a, 1, "raise", 102, 1, 4, 2);
    CHECK(rec_a.al[1].raised_us == SEC(2));
    /* 46 % holds the alarm (50 - 5), 44 % clears it. */
    CHECK_EV(&rec_a, 2, "clear", 102, 1, 4, 2);
    CHECK(rec_a.al[2].cleared_us == SEC(4));
    CHECK(state(e)->module_warnings == 1 && state(e)->module_flags[3] == 0);
    /* A new baseline clears what the old one raised. */
    CHECK(ow_engine_set_baseline(e, "wm1", 4, NAN) == 0);
    CHECK(rec_a.nal == 4);
    CHECK_EV(&rec_a, 3, "clear", 101, 1, 4, 1);
    CHECK(state(e)->module_warnings == 0);
    ow_engine_destroy(&e);
}

static void test_ack(void)
{
    ow_engine_t *e = fresh(2, &rec_a);
    cyc_t c;
    cyc_init(&c);
    c.v[4] = 15.62;
    cycle(e, "wm1", SEC(0), &c);
    cyc_t c2;
    cyc_init(&c2);
    cycle(e, "wm2", SEC(0), &c2);
    CHECK(state(e)->audible == 1);
    rec_reset(&rec_a);
    /* 13, 6 and the generic 4 (id 3, filed apart in gal[]). */
    CHECK(ow_engine_ack(e, "wm1", 0, SEC(1)) == 3);
    CHECK(rec_a.nal == 2 && rec_a.ngal == 1 && rec_a.gal[0].id == 3);
    CHECK_EV(&rec_a, 0, "ack", 13, 1, 4, 1);
    CHECK_EV(&rec_a, 1, "ack", 6, 1, 4, 2);
    CHECK(rec_a.al[0].raised_us == SEC(0) && rec_a.al[0].cleared_us == 0 &&
          rec_a.al_ts[0] == SEC(1));
    CHECK(rec_a.nst == 1 && rec_a.st[0].audible == 0 && rec_a.st_ts[0] == SEC(1));
    CHECK(state(e)->audible == 0 && state(e)->alarms_active == 3);
    /* Nothing left to acknowledge. */
    CHECK(ow_engine_ack(e, "wm1", 0, SEC(1)) == 0 && rec_a.nal == 2);
    /* An acknowledged alarm named again: counted, no new event. */
    CHECK(ow_engine_ack(e, "wm1", 2, SEC(1)) == 1 && rec_a.nal == 2);
    CHECK(ow_engine_ack(e, "wm1", 99, SEC(1)) == 0);
    /* A new warning does not sound; a new alarm does. */
    c.t[9] = 31;
    cycle(e, "wm1", SEC(2), &c);
    CHECK_EV(&rec_a, 2, "raise", 15, 1, 9, 4);
    CHECK(state(e)->audible == 0);
    c.t[9] = 36;
    cycle(e, "wm1", SEC(3), &c);
    CHECK_EV(&rec_a, 3, "raise", 8, 1, 9, 5);
    CHECK(state(e)->audible == 1);
    /* By id. The generic 5 (id 6) raised with 8 is not acknowledged, yet
     * the buzzer stops: a generic alarm never sounds it on its own. */
    CHECK(ow_engine_ack(e, "wm1", 5, SEC(4)) == 1);
    CHECK_EV(&rec_a, 4, "ack", 8, 1, 9, 5);
    CHECK(state(e)->audible == 0);
    /* The whole site: only wm2's alarms are left unacknowledged. */
    c2.t[1] = 36;
    cycle(e, "wm2", SEC(5), &c2);
    CHECK(ow_engine_state(e, "wm2")->audible == 1);
    CHECK_STR(rec_a.al_gw[rec_a.nal - 1], "wm2");
    rec_reset(&rec_a);
    /* wm1's 15 and generic 5, wm2's 15, 8 and generic 5 */
    CHECK(ow_engine_ack(e, "", 0, SEC(6)) == 5);
    CHECK(rec_a.nal == 3);
    CHECK_STR(rec_a.al_gw[0], "wm1");
    CHECK_STR(rec_a.al_gw[1], "wm2");
    CHECK_EV(&rec_a, 1, "ack", 15, 1, 1, 0);
    CHECK_EV(&rec_a, 2, "ack", 8, 1, 1, 0);
    CHECK(ow_engine_state(e, "wm2")->audible == 0);

    /* Active alarms: the raise events, per gateway or all. */
    /* Each gateway has its generic alarms: wm1 4 and 5, wm2 5. */
    ow_alarm_t act[12];
    CHECK(ow_engine_active(e, "wm1", NULL, 0) == 6);
    CHECK(ow_engine_active(e, "", act, 12) == 9);
    CHECK(act[0].id == 1 && act[0].type == 13 && act[1].id == 2 && act[1].type == 6);
    CHECK(act[2].type == 4 && act[2].string == 0 && act[2].module == 0);
    /* wm2's, raised in this order */
    CHECK(act[6].type == 15 && act[7].type == 8 && act[8].type == 5);
    CHECK(ow_engine_active(e, "", act, 3) == 9); /* counts beyond max */
    CHECK(ow_engine_active(e, "wm2", act, 8) == 3);
    CHECK(act[1].type == 8 && strcmp(act[1].action, "raise") == 0 && act[1].cleared_us == 0);
    ow_engine_destroy(&e);
}

/* Two engines: one runs through, the other is saved mid-cycle by the first
 * and loaded; from there both must say exactly the same. */
static int same_alarm(const ow_alarm_t *a, const ow_alarm_t *b)
{
    return a->id == b->id && a->type == b->type && a->severity == b->severity &&
           strcmp(a->action, b->action) == 0 && a->string == b->string && a->module == b->module &&
           (a->value == b->value || (isnan(a->value) && isnan(b->value))) &&
           (a->threshold == b->threshold || (isnan(a->threshold) && isnan(b->threshold))) &&
           a->raised_us == b->raised_us && a->cleared_us == b->cleared_us &&
           strcmp(a->text, b->text) == 0;
}

static void part2(ow_engine_t *e, cyc_t *c)
{
    cycle_from(e, "wm1", SEC(5), c, 10);
    for (int t = 6; t <= 16; t++) {
        if (t == 8) c->t[6] = NORMAL_T;
        if (t == 9) c->status[14] = 0;
        if (t == 10) c->v[3] = NORMAL_V;
        cycle(e, "wm1", SEC(t), c);
    }
    ow_engine_ack(e, "wm1", 0, SEC(17));
}

static void test_save_load(void)
{
    ow_engine_t *a = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    ow_thresholds_t thr = ow_engine_gateway(a, "wm1")->thr;
    thr.voltage_v.delay_s = 10;
    thr.max_voltage_diff_v = 1.0;
    ow_engine_set_thresholds(a, "wm1", &thr);

    for (int t = 0; t <= 2; t++)
        cycle(a, "wm1", SEC(t), &c);
    c.v[4] = 14.2;                       /* pending 13 from 3 s */
    c.status[14] = OW_MODST_NO_RESPONSE; /* two polls lost before the save */
    c.t[6] = 36;                         /* 15 and 8 at once */
    cycle(a, "wm1", SEC(3), &c);
    cycle(a, "wm1", SEC(4), &c);
    ow_engine_ack(a, "wm1", 0, SEC(4));
    /* Half a cycle, modules 1..9, block 3 1.1 V below the average: saved
     * in the middle. */
    c.v[3] = 12.45;
    for (int m = 1; m <= 9; m++)
        feed_module(a, "wm1", SEC(5), &c, m);
    int n_before = rec_a.nal, nst_before = rec_a.nst, ng_before = rec_a.ngal;
    CHECK(n_before == 2 + 2 /* ack */);

    json_t *j = ow_engine_save(a);
    CHECK(j != NULL);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    CHECK(text != NULL);
    json_error_t jerr;
    json_t *back = json_loads(text, 0, &jerr);

    make_site(1);
    rec_reset(&rec_b);
    ow_engine_t *b = ow_engine_new(&site, &sink, &rec_b);
    ow_engine_set_thresholds(b, "wm1", &thr);
    char err[256] = "";
    CHECK(ow_engine_load(b, NULL, err, sizeof err) == 0);
    CHECK_MSG(ow_engine_load(b, back, err, sizeof err) == 0, "%s", err);
    json_decref(back);
    CHECK(rec_b.nal == 0 && rec_b.nst == 0);
    CHECK(memcmp(state(a), state(b), sizeof(ow_state_t)) == 0);
    CHECK(ow_engine_active(b, "wm1", NULL, 0) == 3); /* 15, 8 and the generic 5 */

    /* The saved state again is the same text. */
    json_t *j2 = ow_engine_save(b);
    char *text2 = json_dumps(j2, JSON_COMPACT);
    CHECK(text2 && strcmp(text, text2) == 0);
    free(text2);
    json_decref(j2);

    /* Malformed states are refused and change nothing. */
    const char *bad[] = {
        "[]",
        "{\"version\":1}",
        "{\"version\":2,\"next_id\":3,\"gateways\":{}}",
        "{\"version\":1,\"next_id\":0,\"gateways\":{}}",
        "{\"version\":1,\"next_id\":9,\"gateways\":{\"wm1\":{\"alarms\":[{\"id\":1}]}}}",
        "{\"version\":1,\"next_id\":9,\"gateways\":{\"wm1\":7}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *jb = json_loads(bad[i], 0, &jerr);
        err[0] = 0;
        CHECK_MSG(ow_engine_load(b, jb, err, sizeof err) == -1, "%s", bad[i]);
        CHECK_MSG(err[0] != 0, "no message for %s", bad[i]);
        json_decref(jb);
    }
    /* A bad value deep inside (after good gateways were read) also leaves
     * everything as it was. */
    json_t *jb = json_loads(text, 0, &jerr);
    json_object_set_new(
        json_object_get(json_object_get(json_object_get(jb, "gateways"), "wm1"), "cycle"), "speed",
        json_string("fast"));
    CHECK(ow_engine_load(b, jb, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "speed");
    json_decref(jb);
    j2 = ow_engine_save(b);
    text2 = json_dumps(j2, JSON_COMPACT);
    CHECK(text2 && strcmp(text, text2) == 0);
    free(text2);
    json_decref(j2);
    free(text);

    /* Now both go on with the same readings. */
    cyc_t ca = c, cb = c;
    part2(a, &ca);
    part2(b, &cb);
    int na = rec_a.nal - n_before;
    CHECK_MSG(na == rec_b.nal, "%d vs %d events", na, rec_b.nal);
    for (int i = 0; i < na && i < rec_b.nal; i++)
        CHECK_MSG(same_alarm(&rec_a.al[n_before + i], &rec_b.al[i]) &&
                      rec_a.al_ts[n_before + i] == rec_b.al_ts[i],
                  "event %d: %s %d vs %s %d", i, rec_a.al[n_before + i].action,
                  rec_a.al[n_before + i].type, rec_b.al[i].action, rec_b.al[i].type);
    /* What happened: 1 at the third lost poll (the second half of the saved
     * cycle), 26 at its end, the delayed 13 at 13 s (10 s after 3 s),
     * 8/15 cleared but not raised again, ids going on from 4 (3 is the
     * generic 5 raised with 8, saved and loaded with it). */
    CHECK_EV(&rec_b, 0, "raise", 1, 2, 14, 4);
    CHECK(rec_b.al[0].raised_us == SEC(5));
    CHECK_EV(&rec_b, 1, "raise", 26, 1, 0, 5);
    CHECK(rec_b.al[1].raised_us == SEC(5));
    const ow_alarm_t *x = find(&rec_b, 13, 1, "raise");
    CHECK(x && x->id == 6 && x->raised_us == SEC(13));
    /* The loaded generic 5 clears with 8, the same event in both. */
    CHECK(rec_a.ngal - ng_before == rec_b.ngal && rec_b.ngal >= 1);
    for (int i = 0; i < rec_b.ngal && ng_before + i < rec_a.ngal; i++)
        CHECK(same_alarm(&rec_a.gal[ng_before + i], &rec_b.gal[i]));
    CHECK(rec_b.gal[0].type == 5 && rec_b.gal[0].id == 3 &&
          strcmp(rec_b.gal[0].action, "clear") == 0);
    CHECK(count(&rec_b, 8, "raise") == 0 && count(&rec_b, 8, "clear") == 1);
    CHECK(count(&rec_b, 15, "clear") == 1 && count(&rec_b, 1, "clear") == 1);
    CHECK(count(&rec_b, 26, "clear") == 1);
    /* The final ack: only the alarms raised after the load. */
    CHECK(count(&rec_b, 13, "ack") == 1 && count(&rec_b, 8, "ack") == 0);
    CHECK(count(&rec_b, 6, "raise") == 0);
    CHECK(rec_b.nst > 0 && rec_a.nst - nst_before == rec_b.nst);
    for (int i = 0; i < rec_b.nst && nst_before + i < rec_a.nst; i++)
        CHECK_MSG(memcmp(&rec_a.st[nst_before + i], &rec_b.st[i], sizeof(ow_state_t)) == 0 &&
                      rec_a.st_ts[nst_before + i] == rec_b.st_ts[i],
                  "state %d", i);
    CHECK(memcmp(state(a), state(b), sizeof(ow_state_t)) == 0);
    ow_engine_destroy(&a);
    ow_engine_destroy(&b);
}

static void test_misc(void)
{
    ow_engine_t *e = fresh(1, &rec_a);
    cyc_t c;
    cyc_init(&c);
    ow_msg_t m;
    /* Unknown gateway, other kinds, out-of-range sources: ignored. */
    hdr(&m, OW_MSG_MODULE, "nope", SEC(0));
    m.u.module.module = 1;
    ow_engine_feed(e, &m);
    hdr(&m, OW_MSG_ALARM, "wm1", SEC(0));
    ow_engine_feed(e, &m);
    CHECK(rec_a.nst == 0 && state(e)->general == 0);
    hdr(&m, OW_MSG_MODULE, "wm1", SEC(0));
    m.u.module.module = 19;
    m.u.module.voltage_v = 99;
    ow_engine_feed(e, &m);
    hdr(&m, OW_MSG_STRING, "wm1", SEC(0));
    m.u.string.string = 3;
    m.u.string.sum_voltage_v = 999;
    ow_engine_feed(e, &m);
    CHECK(rec_a.nal == 0);
    ow_engine_feed(NULL, &m);
    ow_engine_tick(NULL, 0);
    CHECK(ow_engine_save(NULL) == NULL);
    ow_engine_destroy(&e);
    ow_engine_destroy(&e);

    /* A site without gateways is fine too. */
    make_site(0);
    e = ow_engine_new(&site, &sink, &rec_a);
    CHECK(e != NULL);
    json_t *j = ow_engine_save(e);
    char err[128];
    CHECK(ow_engine_load(e, j, err, sizeof err) == 0);
    json_decref(j);
    ow_engine_destroy(&e);

    /* Every code the engine raises is a catalogue row marked raised. */
    static const int used[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,  12,  13,  14,
                               15, 16, 17, 18, 20, 21, 22, 23, 24, 25, 26,  27,  28,  29,
                               30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 101, 102, 103, 104};
    for (size_t i = 0; i < sizeof used / sizeof used[0]; i++) {
        const gbms_alarm_t *a = gbms_alarm_find(used[i]);
        CHECK_MSG(a && a->raised, "code %d", used[i]);
    }
}

int main(void)
{
    test_start();
    test_module_levels();
    test_delay();
    test_hysteresis();
    test_comm_lost();
    test_bus_silence();
    test_string_levels();
    test_deviation();
    test_voltage_diff();
    test_equalizing();
    test_generic_alarms();
    test_thermal_runaway();
    test_alarm_outputs();
    test_discharge_states();
    test_aux();
    test_room();
    test_baseline();
    test_ack();
    test_save_load();
    test_misc();
    return ow_test_done("engine_test");
}
