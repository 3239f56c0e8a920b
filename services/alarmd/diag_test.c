/* Tests of the battery diagnostics (diag.h) on a synthetic 2 x 9 block site,
 * fed cycle by cycle the way alarmd's engine does: module readings, string
 * readings, one aux, then the cycle. Doubles as a usage example. */
#include "diag.h"

#include <stdint.h>
#include <stdlib.h>

#include "ow_test.h"

#define NS      2
#define NB      9
#define SEC     1000000LL
#define DAY     (86400 * SEC)
#define YEAR_US (365.25 * 86400.0 * 1e6)
#define T0      1700000000000000LL /* 2023-11-14 */

static const ow_module_type_t c20 = {"C20", 0, 12, 9.7, 17, 0.5, 60, 0.15, "950-6503"};

static void make_gw(ow_gateway_cfg_t *gw, int current_sensor)
{
    memset(gw, 0, sizeof(*gw));
    snprintf(gw->id, sizeof(gw->id), "wm1");
    gw->module_type = &c20;
    gw->current_sensor = current_sensor;
    gw->battery.capacity_ah = 50;
    gw->sim.float_v_per_cell = 2.27;
    gw->nstrings = NS;
    for (int s = 0; s < NS; s++) {
        snprintf(gw->strings[s].name, sizeof(gw->strings[s].name), "S%d", s + 1);
        gw->strings[s].modules = NB;
        gw->strings[s].first_module = s * NB + 1;
    }
    gw->nmodules = NS * NB;
    gw->thr.tr_module_delta_c = 5;
    gw->thr.tr_ambient_delta_c = 10;
    gw->thr.tr_float_current_a = 0.5; /* 0.01 C10 */
    gw->thr.tr_sustain_s = 600;
    gw->thr.baseline_warn_pct = 25;
    gw->thr.baseline_alarm_pct = 50;
    /* discharge_detect_a, charge_detect_a, float_band_v_per_cell: defaults
     * (0.5 A, 1 A, 0.03 V/cell for 50 Ah) */
}

/* ---- a synthetic poll cycle ---- */

typedef struct {
    double v[NS][NB], t[NS][NB], r[NS][NB], eq[NS][NB];
    uint32_t st[NS][NB];
    double i[NS];
    double ambient;
} cyc_t;

static void cyc_float(cyc_t *c)
{
    memset(c, 0, sizeof(*c));
    for (int s = 0; s < NS; s++) {
        for (int b = 0; b < NB; b++) {
            c->v[s][b] = 13.62; /* 2.27 V/cell */
            c->t[s][b] = 25;
            c->r[s][b] = 10;
        }
        c->i[s] = 0.1;
    }
    c->ambient = 22;
}

static void cyc_volts(cyc_t *c, int s, double v)
{
    for (int b = 0; b < NB; b++)
        c->v[s][b] = v;
}

static void cyc_temps(cyc_t *c, int s, double t)
{
    for (int b = 0; b < NB; b++)
        c->t[s][b] = t;
}

typedef struct {
    int ndis, nbase;
    ow_discharge_t dis[64];
    int64_t dis_ts[64];
    ow_baseline_t base[1024];
    int64_t base_ts[1024];
} rec_t;

static void on_discharge(void *ctx, const ow_discharge_t *d, int64_t ts_us)
{
    rec_t *r = ctx;
    if (r->ndis < 64) {
        r->dis[r->ndis] = *d;
        r->dis_ts[r->ndis++] = ts_us;
    }
}

static void on_baseline(void *ctx, const ow_baseline_t *b, int64_t ts_us)
{
    rec_t *r = ctx;
    if (r->nbase < 1024) {
        r->base[r->nbase] = *b;
        r->base_ts[r->nbase++] = ts_us;
    }
}

static const ow_diag_sink_t sink = {.discharge = on_discharge, .baseline = on_baseline};

/* A cycle's readings without its heartbeat. */
static void feed_readings(ow_diag_t *d, int64_t ts, const cyc_t *c)
{
    for (int s = 0; s < NS; s++) {
        double sum = 0;
        int n = 0;
        for (int b = 0; b < NB; b++) {
            ow_module_t m = {.string = s + 1, .module = s * NB + b + 1, .block = b + 1};
            m.status = c->st[s][b];
            if (m.status & OW_MODST_NO_RESPONSE) {
                m.voltage_v = m.temp_c = m.impedance_mohm = m.eq_pct = NAN;
            } else {
                m.voltage_v = c->v[s][b];
                m.temp_c = c->t[s][b];
                m.impedance_mohm = c->r[s][b];
                m.eq_pct = c->eq[s][b];
                sum += m.voltage_v;
                n++;
            }
            ow_diag_module(d, ts, &m);
        }
        ow_string_t str = {.string = s + 1, .modules = NB, .modules_lost = NB - n};
        str.current_a = c->i[s];
        str.ac_current_a = NAN;
        str.sum_voltage_v = n ? sum : NAN;
        str.avg_voltage_v = n ? sum / n : NAN;
        ow_diag_string(d, ts, &str);
    }
    ow_aux_t a = {.ambient_c = c->ambient, .humidity_pct = NAN, .hydrogen_pct_lel = NAN};
    ow_diag_aux(d, ts, &a);
}

static void feed(ow_diag_t *d, int64_t ts, const cyc_t *c, rec_t *rec)
{
    feed_readings(d, ts, c);
    ow_diag_cycle(d, ts, &sink, rec);
}

static ow_bat_state_t state(const ow_diag_t *d, int s)
{
    ow_diag_status_t st;
    ow_diag_status(d, &st);
    return st.state[s];
}

static int tr(const ow_diag_t *d, int s, double *value)
{
    ow_diag_status_t st;
    ow_diag_status(d, &st);
    if (value) *value = st.tr_value[s];
    return st.thermal_runaway[s];
}

static double block_sum(const cyc_t *c, int s)
{
    double sum = 0;
    for (int b = 0; b < NB; b++)
        sum += c->v[s][b];
    return sum;
}

/* ---- battery state, current sensor ---- */

static void test_current_states(void)
{
    ow_gateway_cfg_t gw;
    make_gw(&gw, 1);
    ow_diag_t *d = ow_diag_new(&gw);
    rec_t *rec = calloc(1, sizeof(*rec));
    cyc_t c;
    int64_t t = T0;
    CHECK(d && rec);
    CHECK(state(d, 1) == OW_BAT_UNKNOWN);

    cyc_float(&c);
    feed(d, t, &c, rec);
    CHECK(state(d, 1) == OW_BAT_FLOAT); /* the first reading is taken at once */
    CHECK(state(d, 2) == OW_BAT_FLOAT);

    /* entering DISCHARGING is immediate */
    t += SEC;
    c.i[0] = -25;
    cyc_volts(&c, 0, 12.6);
    c.v[0][6] = 12.4;
    feed(d, t, &c, rec);
    CHECK(state(d, 1) == OW_BAT_DISCHARGING);
    CHECK(state(d, 2) == OW_BAT_FLOAT);
    CHECK(rec->ndis == 1);
    if (rec->ndis == 1) {
        const ow_discharge_t *e = &rec->dis[0];
        CHECK_STR(e->action, "start");
        CHECK_STR(e->mode, "current");
        CHECK(e->string == 1);
        CHECK(e->start_us == t && e->end_us == 0 && e->duration_s == 0);
        CHECK(e->ah_removed == 0);
        CHECK(e->min_current_a == -25);
        CHECK(e->min_module == 7);
        CHECK_NEAR(e->min_voltage_v, 12.4, 1e-12);
        CHECK_NEAR(e->end_voltage_v, block_sum(&c, 0), 1e-9);
        CHECK(rec->dis_ts[0] == t);
    }

    /* charging after it: one cycle is not enough, two are: DISCHARGE_STOPPED */
    t += SEC;
    int64_t first_charge = t;
    c.i[0] = 10;
    cyc_volts(&c, 0, 14.1);
    feed(d, t, &c, rec);
    CHECK(state(d, 1) == OW_BAT_DISCHARGING);
    CHECK(rec->ndis == 1);
    t += SEC;
    feed(d, t, &c, rec);
    CHECK(state(d, 1) == OW_BAT_DISCHARGE_STOPPED);
    CHECK(rec->ndis == 2);
    if (rec->ndis == 2) {
        CHECK_STR(rec->dis[1].action, "end");
        CHECK(rec->dis[1].end_us == first_charge);
        CHECK(rec->dis[1].duration_s == 1.0);
        CHECK_NEAR(rec->dis[1].ah_removed, 0, 1e-12); /* a single discharging reading */
        CHECK(rec->dis_ts[1] == t);
    }

    /* back to float current (below charge_detect_a = 1 A): float after 2 cycles */
    c.i[0] = 0.3;
    cyc_volts(&c, 0, 13.62);
    t += SEC;
    feed(d, t, &c, rec);
    CHECK(state(d, 1) == OW_BAT_DISCHARGE_STOPPED);
    t += SEC;
    feed(d, t, &c, rec);
    CHECK(state(d, 1) == OW_BAT_FLOAT);

    /* a single charging cycle is debounced away; two make CHARGING (not stopped) */
    c.i[0] = 10;
    t += SEC;
    feed(d, t, &c, rec);
    c.i[0] = 0.1;
    t += SEC;
    feed(d, t, &c, rec);
    CHECK(state(d, 1) == OW_BAT_FLOAT);
    c.i[0] = 10;
    t += SEC;
    feed(d, t, &c, rec);
    CHECK(state(d, 1) == OW_BAT_FLOAT);
    t += SEC;
    feed(d, t, &c, rec);
    CHECK(state(d, 1) == OW_BAT_CHARGING);
    /* a small discharge current inside the detection band is float */
    c.i[0] = -0.4;
    t += SEC;
    feed(d, t, &c, rec);
    t += SEC;
    feed(d, t, &c, rec);
    CHECK(state(d, 1) == OW_BAT_FLOAT);
    CHECK(rec->ndis == 2);

    /* equalizing: one answering block with eq_pct > 0 */
    ow_diag_status_t st;
    c.eq[1][4] = 35;
    t += SEC;
    feed(d, t, &c, rec);
    ow_diag_status(d, &st);
    CHECK(st.equalizing[2] == 1 && st.equalizing[1] == 0);
    c.st[1][4] = OW_MODST_NO_RESPONSE; /* a silent block does not count */
    t += SEC;
    feed(d, t, &c, rec);
    ow_diag_status(d, &st);
    CHECK(st.equalizing[2] == 0);

    /* a missing current falls back to the voltage rule */
    c.st[1][4] = 0;
    c.i[1] = NAN;
    cyc_volts(&c, 1, 12.6);
    t += SEC;
    feed(d, t, &c, rec);
    CHECK(state(d, 2) == OW_BAT_DISCHARGING);
    CHECK(rec->ndis == 3 && strcmp(rec->dis[2].mode, "voltage") == 0);

    ow_diag_destroy(&d);
    CHECK(d == NULL);
    ow_diag_destroy(&d);
    free(rec);
}

/* ---- the discharge event, exactly ---- */

static void test_discharge_exact(void)
{
    ow_gateway_cfg_t gw;
    make_gw(&gw, 1);
    ow_diag_t *d = ow_diag_new(&gw);
    rec_t *rec = calloc(1, sizeof(*rec));
    cyc_t c;
    int64_t t = T0, td = T0 + 5 * SEC;
    double sum_last[NS] = {0}, sum_first[NS] = {0};

    cyc_float(&c);
    for (; t < td; t += SEC)
        feed(d, t, &c, rec);
    /* -25 A on both strings for 1800 s (readings 0..1800), blocks sinking;
     * the lowest: string 1 block 3 (module 3), string 2 block 5 (module 14) */
    for (int k = 0; k <= 1800; k++, t += SEC) {
        for (int s = 0; s < NS; s++) {
            cyc_volts(&c, s, 12.5 - 0.0005 * k);
            c.i[s] = -25;
        }
        c.v[0][2] -= 0.1;
        c.v[1][4] -= 0.2;
        feed(d, t, &c, rec);
        for (int s = 0; s < NS; s++) {
            if (k == 0) sum_first[s] = block_sum(&c, s);
            sum_last[s] = block_sum(&c, s);
        }
        if (k == 0) CHECK(rec->ndis == 2);
    }
    CHECK(state(d, 1) == OW_BAT_DISCHARGING && state(d, 2) == OW_BAT_DISCHARGING);
    ow_diag_status_t ds;
    ow_diag_status(d, &ds);
    /* both strings at once: one discharge of the battery; equalizers off */
    CHECK(ds.discharges == 1 && ds.eq_paused == 1);
    /* the current stops: float after 2 cycles, the end at the second */
    int64_t t_end = t;
    cyc_float(&c);
    feed(d, t, &c, rec);
    t += SEC;
    feed(d, t, &c, rec);
    CHECK(state(d, 1) == OW_BAT_FLOAT && state(d, 2) == OW_BAT_FLOAT);
    ow_diag_status(d, &ds);
    CHECK(ds.discharges == 1 && ds.eq_paused == 0);

    CHECK(rec->ndis == 4);
    for (int i = 0; i < rec->ndis && i < 4; i++) {
        const ow_discharge_t *e = &rec->dis[i];
        int s = e->string;
        CHECK(s == (i % 2) + 1);
        CHECK_STR(e->action, i < 2 ? "start" : "end");
        CHECK_STR(e->mode, "current");
        CHECK(e->start_us == td);
        CHECK(e->min_module == (s == 1 ? 3 : 14));
        CHECK(e->min_current_a == -25);
        if (i < 2) {
            CHECK(e->end_us == 0);
            CHECK(rec->dis_ts[i] == td);
            CHECK_NEAR(e->min_voltage_v, s == 1 ? 12.4 : 12.3, 1e-9);
            CHECK_NEAR(e->end_voltage_v, sum_first[s - 1], 1e-9);
        } else {
            CHECK(rec->dis_ts[i] == t_end + SEC);
            CHECK(e->end_us == t_end); /* the first reading no longer discharging */
            CHECK_NEAR(e->ah_removed, 12.5, 0.01);
            CHECK_NEAR(e->ah_removed, 12.5, 1e-9); /* trapezoid: exact for a constant */
            CHECK_NEAR(e->duration_s, 1800, 1);
            CHECK(e->duration_s == 1801); /* readings 0..1800, ended by reading 1801 */
            CHECK_NEAR(e->min_voltage_v, s == 1 ? 11.5 : 11.4, 1e-9);
            CHECK_NEAR(e->end_voltage_v, sum_last[s - 1], 1e-9);
        }
    }
    /* string 2 alone, later: a second discharge, and a third after it */
    for (int n = 2; n <= 3; n++) {
        for (int k = 0; k < 10; k++, t += SEC) {
            cyc_volts(&c, 1, 12.5);
            c.i[1] = -25;
            feed(d, t, &c, rec);
            ow_diag_status(d, &ds);
            CHECK(ds.discharges == n && ds.eq_paused == 1);
        }
        cyc_float(&c);
        for (int k = 0; k < 3; k++, t += SEC)
            feed(d, t, &c, rec);
        ow_diag_status(d, &ds);
        CHECK(ds.discharges == n && ds.eq_paused == 0 && state(d, 2) == OW_BAT_FLOAT);
    }
    ow_diag_destroy(&d);
    free(rec);
}

/* ---- battery state, block voltages only ---- */

static void feed_vcell(ow_diag_t *d, int64_t t, cyc_t *c, int s, double v_cell, rec_t *rec)
{
    cyc_volts(c, s, v_cell * 6);
    feed(d, t, c, rec);
}

static void test_voltage_states(void)
{
    ow_gateway_cfg_t gw;
    make_gw(&gw, 0);
    ow_diag_t *d = ow_diag_new(&gw);
    rec_t *rec = calloc(1, sizeof(*rec));
    cyc_t c;
    int64_t t = T0;

    cyc_float(&c);
    c.i[0] = c.i[1] = NAN;
    for (int k = 0; k < 5; k++, t += SEC)
        feed(d, t, &c, rec);
    CHECK(state(d, 1) == OW_BAT_FLOAT);

    /* discharge: 2.10 V/cell, below float - band: at once */
    int64_t td = t;
    feed_vcell(d, t, &c, 0, 2.10, rec);
    CHECK(state(d, 1) == OW_BAT_DISCHARGING);
    CHECK(state(d, 2) == OW_BAT_FLOAT);
    CHECK(rec->ndis == 1);
    if (rec->ndis >= 1) {
        CHECK_STR(rec->dis[0].mode, "voltage");
        CHECK(rec->dis[0].start_us == td);
        CHECK(isnan(rec->dis[0].ah_removed) && isnan(rec->dis[0].min_current_a));
    }
    for (int k = 1; k <= 300; k++) /* sinking 1 mV/cell per 10 s */
        feed_vcell(d, t += SEC, &c, 0, 2.10 - 0.0001 * k, rec);
    CHECK(state(d, 1) == OW_BAT_DISCHARGING);

    /* the charger is back, current-limited: 2.15 V/cell rising 1 mV/min */
    int64_t tc = t + SEC;
    for (int k = 0; k < 600; k++)
        feed_vcell(d, t += SEC, &c, 0, 2.15 + 0.001 * k / 60, rec);
    CHECK(state(d, 1) == OW_BAT_DISCHARGE_STOPPED);
    CHECK(rec->ndis == 2);
    if (rec->ndis >= 2) {
        CHECK_STR(rec->dis[1].action, "end");
        CHECK(rec->dis[1].end_us == tc);
        CHECK(rec->dis_ts[1] == tc + SEC);
        CHECK(isnan(rec->dis[1].ah_removed) && isnan(rec->dis[1].min_current_a));
        CHECK(rec->dis[1].min_module == 1);
        CHECK_NEAR(rec->dis[1].min_voltage_v, (2.10 - 0.03) * 6, 1e-9);
    }

    /* it fails again without a sag: sinking 1 mV/min, the 60 s slope turns
     * the state to DISCHARGING (debounced, start at the run's first reading) */
    double v0 = 2.16;
    int k = 0;
    for (; k < 120 && state(d, 1) != OW_BAT_DISCHARGING; k++)
        feed_vcell(d, t += SEC, &c, 0, v0 - 0.001 * k / 60, rec);
    CHECK(state(d, 1) == OW_BAT_DISCHARGING);
    CHECK(k > 20 && k < 40); /* the slope crosses +0.1 mV/min about 30 s after the top */
    CHECK(rec->ndis == 3);
    if (rec->ndis >= 3) {
        CHECK_STR(rec->dis[2].action, "start");
        CHECK(rec->dis[2].start_us == t - SEC);
        CHECK(rec->dis_ts[2] == t);
    }

    /* boost charge above float + 0.05: CHARGING (stopped), then float */
    feed_vcell(d, t += SEC, &c, 0, 2.35, rec);
    feed_vcell(d, t += SEC, &c, 0, 2.35, rec);
    CHECK(state(d, 1) == OW_BAT_DISCHARGE_STOPPED);
    CHECK(rec->ndis == 4);
    feed_vcell(d, t += SEC, &c, 0, 2.30, rec);
    CHECK(state(d, 1) == OW_BAT_DISCHARGE_STOPPED);
    feed_vcell(d, t += SEC, &c, 0, 2.30, rec);
    CHECK(state(d, 1) == OW_BAT_FLOAT);

    /* the sag: 0.055 V/cell between two cycles, still inside the float band */
    feed_vcell(d, t += SEC, &c, 0, 2.245, rec);
    CHECK(state(d, 1) == OW_BAT_DISCHARGING);
    CHECK(rec->ndis == 5);
    /* ... while a charger dropping from boost to float is no discharge */
    feed_vcell(d, t += SEC, &c, 1, 2.40, rec);
    feed_vcell(d, t += SEC, &c, 1, 2.40, rec);
    CHECK(state(d, 2) == OW_BAT_CHARGING);
    feed_vcell(d, t += SEC, &c, 1, 2.27, rec);
    CHECK(state(d, 2) == OW_BAT_CHARGING);
    feed_vcell(d, t += SEC, &c, 1, 2.27, rec);
    CHECK(state(d, 2) == OW_BAT_FLOAT);

    ow_diag_destroy(&d);
    free(rec);
}

/* ---- thermal runaway ---- */

/* Feed n cycles of c from *t at 1 s; the cycle offset (0-based) of the first
 * thermal runaway on string s, or -1. */
static int run_tr(ow_diag_t *d, int64_t *t, cyc_t *c, int n, int s, rec_t *rec)
{
    int first = -1;
    for (int k = 0; k < n; k++, *t += SEC) {
        feed(d, *t, c, rec);
        if (first < 0 && tr(d, s, NULL)) first = k;
    }
    return first;
}

/* Feed c every 10 s for an hour and a bit: the string settles on float. */
static void settle(ow_diag_t *d, int64_t *t, cyc_t *c, rec_t *rec)
{
    for (int k = 0; k < 365; k++, *t += 10 * SEC)
        feed(d, *t, c, rec);
}

static int settled(const ow_diag_t *d, int s)
{
    ow_diag_status_t st;
    ow_diag_status(d, &st);
    return st.settled[s];
}

static void test_thermal_runaway(void)
{
    ow_gateway_cfg_t gw;
    make_gw(&gw, 1);
    rec_t *rec = calloc(1, sizeof(*rec));
    cyc_t c;
    int64_t t = T0;
    double v;

    /* settled float at 0.1 A; then a block 6 degC above the others and the
     * float current up to 0.8 A (> 5 x 0.1 A learnt): held from the first
     * cycle, raised 600 s later */
    ow_diag_t *d = ow_diag_new(&gw);
    cyc_float(&c);
    CHECK(run_tr(d, &t, &c, 3500, 1, rec) == -1 && !settled(d, 1)); /* 58 min: not yet */
    settle(d, &t, &c, rec);
    CHECK(settled(d, 1));
    c.i[0] = 0.8;
    c.t[0][2] = 31;
    CHECK(run_tr(d, &t, &c, 700, 1, rec) == 600);
    CHECK(tr(d, 1, &v) == 1 && v == 6);
    CHECK(tr(d, 2, NULL) == 0);
    CHECK(state(d, 1) == OW_BAT_FLOAT);
    /* latched while the difference stays: the current dropping is not enough */
    c.i[0] = 0.1;
    run_tr(d, &t, &c, 10, 1, rec);
    CHECK(tr(d, 1, NULL) == 1);
    c.t[0][2] = 29.5; /* 4.5 degC: below 5, not below 5 - 1 */
    run_tr(d, &t, &c, 10, 1, rec);
    CHECK(tr(d, 1, NULL) == 1);
    c.t[0][2] = 28.9; /* 3.9 degC: cleared at once */
    feed(d, t, &c, rec);
    t += SEC;
    CHECK(tr(d, 1, &v) == 0 && v == 0);
    ow_diag_destroy(&d);

    /* a runaway climbing to the charger's limit (5 A) and staying there
     * still holds: rising to start, not falling to continue */
    d = ow_diag_new(&gw);
    cyc_float(&c);
    settle(d, &t, &c, rec);
    c.t[0][2] = 31;
    int first = -1;
    for (int k = 0; k < 1500; k++, t += SEC) {
        c.i[0] = fmin(5, 0.1 + k * 0.01);
        feed(d, t, &c, rec);
        if (first < 0 && tr(d, 1, NULL)) first = k;
    }
    /* above 0.5 A from k = 41, rising: raised 600 s later, at the limit */
    CHECK_MSG(first >= 640 && first <= 645, "first %d", first);
    ow_diag_destroy(&d);

    /* the same current and temperatures before the string has settled (a
     * fresh start): never; too low a current: never */
    d = ow_diag_new(&gw);
    c.i[0] = 0.8;
    CHECK(run_tr(d, &t, &c, 3000, 1, rec) == -1);
    ow_diag_destroy(&d);
    d = ow_diag_new(&gw);
    cyc_float(&c);
    settle(d, &t, &c, rec);
    c.t[0][2] = 31;
    c.i[0] = 0.3;
    CHECK(run_tr(d, &t, &c, 1500, 1, rec) == -1);
    /* a boost (equalize) charge at 2.40 V/cell: current and heat by design */
    c.i[0] = 0.8;
    cyc_volts(&c, 0, 14.4);
    CHECK(run_tr(d, &t, &c, 1500, 1, rec) == -1);
    ow_diag_destroy(&d);

    /* A 0.5C outage for an hour, then the recharge: 5 A for 3 h, the current
     * tapering to 0.1 A with tau 1 h, every block 33 degC in a 22 degC room
     * (11 degC above) and one 6 degC above the rest the whole time: the
     * recharge and the settled float after it never trip. */
    d = ow_diag_new(&gw);
    cyc_float(&c);
    settle(d, &t, &c, rec);
    cyc_temps(&c, 0, 33);
    c.t[0][2] = 39;
    c.i[0] = -25;
    cyc_volts(&c, 0, 12.3);
    CHECK(run_tr(d, &t, &c, 3600, 1, rec) == -1);
    c.i[0] = 5;
    cyc_volts(&c, 0, 13.2);
    CHECK(run_tr(d, &t, &c, 3 * 3600, 1, rec) == -1);
    CHECK(state(d, 1) == OW_BAT_DISCHARGE_STOPPED);
    cyc_volts(&c, 0, 13.62);
    int bad = 0;
    for (int k = 0; k < 8 * 3600; k += 5, t += 5 * SEC) {
        c.i[0] = 0.1 + 4.9 * exp(-k / 3600.0);
        feed(d, t, &c, rec);
        bad += tr(d, 1, NULL);
    }
    CHECK(state(d, 1) == OW_BAT_FLOAT && settled(d, 1));
    CHECK_MSG(bad == 0, "runaway on %d cycles of a recharge", bad);
    ow_diag_destroy(&d);

    /* hottest block against ambient: all 33 degC, ambient 22 (11 > 10) */
    d = ow_diag_new(&gw);
    cyc_float(&c);
    settle(d, &t, &c, rec);
    c.i[0] = 0.8;
    cyc_temps(&c, 0, 33);
    c.ambient = NAN; /* ambient unknown: that part of the rule is off */
    CHECK(run_tr(d, &t, &c, 700, 1, rec) == -1);
    ow_diag_destroy(&d);
    d = ow_diag_new(&gw);
    cyc_float(&c);
    settle(d, &t, &c, rec);
    c.i[0] = 0.8;
    cyc_temps(&c, 0, 33);
    CHECK(run_tr(d, &t, &c, 700, 1, rec) == 600);
    CHECK(tr(d, 1, &v) == 1 && v == 11);
    c.ambient = 23.5; /* 9.5: not below 10 - 1 */
    run_tr(d, &t, &c, 5, 1, rec);
    CHECK(tr(d, 1, NULL) == 1);
    c.ambient = 24.5;
    run_tr(d, &t, &c, 1, 1, rec);
    CHECK(tr(d, 1, NULL) == 0);
    ow_diag_destroy(&d);

    /* no current sensor: a rising hottest block stands in for the current */
    make_gw(&gw, 0);
    d = ow_diag_new(&gw);
    cyc_float(&c);
    c.i[0] = c.i[1] = NAN;
    settle(d, &t, &c, rec);
    c.t[0][2] = 31; /* 6 degC above, but steady: never */
    CHECK(run_tr(d, &t, &c, 2000, 1, rec) == -1);
    ow_diag_destroy(&d);
    d = ow_diag_new(&gw);
    settle(d, &t, &c, rec);
    first = -1;
    for (int k = 0; k < 1200; k++, t += SEC) {
        c.t[0][2] = 31 + k / 300.0; /* +1 degC per 5 min: rise >= 1 from k = 300 */
        feed(d, t, &c, rec);
        if (first < 0 && tr(d, 1, NULL)) first = k;
    }
    CHECK_MSG(first == 900, "first %d", first);
    CHECK(state(d, 1) == OW_BAT_FLOAT);
    ow_diag_destroy(&d);
    free(rec);
}

/* ---- impedance baseline ---- */

static void fresh(ow_diag_t *d, int64_t t, cyc_t *c, int module, double mohm, rec_t *rec)
{
    int s = (module - 1) / NB, b = (module - 1) % NB;
    c->r[s][b] = mohm;
    c->st[s][b] |= OW_MODST_IMPC_FRESH;
    feed(d, t, c, rec);
    c->st[s][b] &= ~OW_MODST_IMPC_FRESH;
}

/* A day and a bit on float (0.1 A), a cycle a minute: impedance compares again. */
static void float_day(ow_diag_t *d, int64_t *t, cyc_t *c, rec_t *rec)
{
    c->i[0] = c->i[1] = 0.1;
    for (int k = 0; k < 24 * 60 + 2; k++)
        feed(d, *t += 60 * SEC, c, rec);
}

static void test_baseline(void)
{
    ow_gateway_cfg_t gw;
    make_gw(&gw, 1);
    ow_diag_t *d = ow_diag_new(&gw);
    rec_t *rec = calloc(1, sizeof(*rec));
    cyc_t c;
    int64_t t = T0;

    cyc_float(&c);
    /* measured during a discharge: not learnt */
    c.i[0] = -25;
    for (int k = 0; k < 3; k++) {
        fresh(d, t += SEC, &c, 5, 20, rec);
        feed(d, t += SEC, &c, rec);
    }
    CHECK(state(d, 1) == OW_BAT_DISCHARGING);
    CHECK(rec->nbase == 0 && isnan(ow_diag_deviation_pct(d, 5)));
    /* nor while charging after it */
    c.i[0] = 5;
    feed(d, t += SEC, &c, rec);
    feed(d, t += SEC, &c, rec);
    CHECK(state(d, 1) == OW_BAT_DISCHARGE_STOPPED);
    fresh(d, t += SEC, &c, 5, 30, rec);
    /* back on float, but within a day of the discharge: not compared */
    c.i[0] = 0.1;
    feed(d, t += SEC, &c, rec);
    feed(d, t += SEC, &c, rec);
    CHECK(state(d, 1) == OW_BAT_FLOAT);
    for (int k = 0; k < 23 * 60; k++)
        feed(d, t += 60 * SEC, &c, rec);
    fresh(d, t += SEC, &c, 5, 30, rec);
    CHECK(settled(d, 1) && rec->nbase == 0 && isnan(ow_diag_deviation_pct(d, 5)));
    float_day(d, &t, &c, rec);
    /* on settled float: 10.0, 10.5, 9.5 make the baseline 10 (no events for them) */
    fresh(d, t += SEC, &c, 5, 10.0, rec);
    feed(d, t += SEC, &c, rec); /* not fresh: not a sample */
    fresh(d, t += SEC, &c, 5, 10.5, rec);
    CHECK(isnan(ow_diag_deviation_pct(d, 5)));
    fresh(d, t += SEC, &c, 5, 9.5, rec);
    CHECK(rec->nbase == 0);
    CHECK(isnan(ow_diag_deviation_pct(d, 5)));

    fresh(d, t += SEC, &c, 5, 12, rec);
    CHECK(rec->nbase == 1);
    if (rec->nbase == 1) {
        const ow_baseline_t *b = &rec->base[0];
        CHECK(b->string == 1 && b->module == 5);
        CHECK(b->baseline_mohm == 10 && b->impedance_mohm == 12);
        CHECK_NEAR(b->deviation_pct, 20, 1e-12);
        CHECK(isnan(b->slope_pct_per_year));
        CHECK(b->alarm_at_us == 0);
        CHECK(rec->base_ts[0] == t);
    }
    CHECK_NEAR(ow_diag_deviation_pct(d, 5), 20, 1e-12);
    /* normalised to 25 degC: 11 mOhm at 15 degC is 10 mOhm at 25 (-1 %/degC) */
    c.t[0][4] = 15;
    fresh(d, t += SEC, &c, 5, 11, rec);
    CHECK(rec->nbase == 2 && fabs(rec->base[1].deviation_pct) < 1e-9);
    CHECK(rec->base[1].impedance_mohm == 11);
    c.t[0][4] = 25;
    fresh(d, t += SEC, &c, 5, 15, rec);
    CHECK(rec->nbase == 3 && rec->base[2].alarm_at_us == t); /* at the alarm level already */
    /* fresh during a discharge once the baseline exists: not compared */
    c.i[0] = -25;
    fresh(d, t += SEC, &c, 5, 20, rec);
    fresh(d, t += SEC, &c, 5, 20, rec);
    CHECK(rec->nbase == 3 && ow_diag_deviation_pct(d, 5) == 50);
    c.i[0] = 5;
    feed(d, t += SEC, &c, rec);
    feed(d, t += SEC, &c, rec);
    c.i[0] = 0.1;
    feed(d, t += SEC, &c, rec);
    feed(d, t += SEC, &c, rec);
    float_day(d, &t, &c, rec);
    rec->nbase = 2; /* the numbering of what follows, as before the two above */
    CHECK(isnan(ow_diag_deviation_pct(d, 6)));
    CHECK(isnan(ow_diag_deviation_pct(d, 0)) && isnan(ow_diag_deviation_pct(d, 19)));

    /* explicit baseline */
    CHECK(ow_diag_set_baseline(d, 5, 7.5) == 0);
    CHECK(isnan(ow_diag_deviation_pct(d, 5)));
    fresh(d, t += SEC, &c, 5, 15, rec);
    CHECK(rec->nbase == 3 && rec->base[2].baseline_mohm == 7.5);
    CHECK_NEAR(ow_diag_deviation_pct(d, 5), 100, 1e-12);
    CHECK(ow_diag_set_baseline(d, 0, 5) == -1);
    CHECK(ow_diag_set_baseline(d, 19, 5) == -1);
    CHECK(ow_diag_set_baseline(d, 5, -1) == -1);
    CHECK(ow_diag_set_baseline(d, 5, 0) == -1);
    CHECK(ow_diag_set_baseline(d, 5, INFINITY) == -1);

    /* forget it: learnt again from 3 float measurements */
    CHECK(ow_diag_set_baseline(d, 5, NAN) == 0);
    CHECK(isnan(ow_diag_deviation_pct(d, 5)));
    c.i[0] = 0.1;
    feed(d, t += SEC, &c, rec);
    feed(d, t += SEC, &c, rec);
    for (int k = 0; k < 3; k++)
        fresh(d, t += SEC, &c, 5, 16, rec);
    CHECK(rec->nbase == 3);
    fresh(d, t += SEC, &c, 5, 16, rec);
    CHECK(rec->nbase == 4 && rec->base[3].baseline_mohm == 16 && rec->base[3].deviation_pct == 0);
    CHECK(rec->base[3].alarm_at_us == 0);

    /* a module not answering gives no measurement */
    c.st[1][0] = OW_MODST_NO_RESPONSE;
    ow_diag_set_baseline(d, 10, 10);
    fresh(d, t += SEC, &c, 10, 12, rec);
    CHECK(rec->nbase == 4);
    ow_diag_destroy(&d);
    free(rec);
}

static void test_trend(void)
{
    ow_gateway_cfg_t gw;
    make_gw(&gw, 1);
    ow_diag_t *d = ow_diag_new(&gw);
    rec_t *rec = calloc(1, sizeof(*rec));
    cyc_t c;

    /* +10 %/year: a fresh measurement every 30 days for 2 years, on float
     * from an hour before the first */
    cyc_float(&c);
    feed(d, T0 - 3700 * SEC, &c, rec);
    CHECK(ow_diag_set_baseline(d, 12, 10) == 0);
    for (int k = 0; k <= 24; k++) {
        int64_t t = T0 + k * 30 * DAY;
        fresh(d, t, &c, 12, 10 * (1 + 0.1 * (double)(k * 30 * DAY) / YEAR_US), rec);
    }
    CHECK(rec->nbase == 25);
    for (int i = 0; i < rec->nbase; i++) {
        const ow_baseline_t *b = &rec->base[i];
        double yrs = (double)(i * 30 * DAY) / YEAR_US;
        CHECK(b->module == 12 && b->string == 2);
        CHECK_NEAR(b->deviation_pct, 10 * yrs, 1e-9);
        if (i < 5) { /* 6 readings over 3 days at least */
            CHECK(isnan(b->slope_pct_per_year) && b->alarm_at_us == 0);
        } else {
            CHECK_NEAR(b->slope_pct_per_year, 10, 1e-9);
            /* 50 % at 5 years from the first measurement */
            CHECK_MSG(llabs(b->alarm_at_us - (T0 + (int64_t)(5 * YEAR_US))) <= 10,
                      "alarm_at off by %lld us",
                      (long long)(b->alarm_at_us - T0) - (long long)(5 * YEAR_US));
        }
    }
    CHECK_NEAR(ow_diag_deviation_pct(d, 12), 10 * 720 / 365.25, 1e-9);

    /* only the last 256 measurements count: a bend is forgotten */
    int64_t t0 = T0 + 800 * DAY;
    CHECK(ow_diag_set_baseline(d, 13, 10) == 0);
    for (int k = 0; k < 8 + 256; k++) {
        double pct = k < 8 ? -5.0 * k : 20 * (double)(k * DAY) / YEAR_US; /* falls, then +20 %/y */
        fresh(d, t0 + k * DAY, &c, 13, 10 * (1 + pct / 100), rec);
    }
    const ow_baseline_t *last = &rec->base[rec->nbase - 1];
    CHECK(last->module == 13);
    CHECK_NEAR(last->slope_pct_per_year, 20, 1e-9);
    json_t *j = ow_diag_save(d);
    json_t *mods = json_object_get(j, "modules");
    for (size_t i = 0; i < json_array_size(mods); i++) {
        json_t *m = json_array_get(mods, i);
        if (json_integer_value(json_object_get(m, "module")) == 13)
            CHECK(json_array_size(json_object_get(m, "trend")) == 256);
    }
    json_decref(j);

    /* 3 points within less than an hour: no slope yet; falling: none either */
    t0 += 100 * DAY;
    CHECK(ow_diag_set_baseline(d, 14, 10) == 0);
    for (int k = 0; k < 3; k++)
        fresh(d, t0 + k * 20 * 60 * SEC, &c, 14, 12 - 0.5 * k, rec);
    last = &rec->base[rec->nbase - 1];
    CHECK(isnan(last->slope_pct_per_year) && last->alarm_at_us == 0);
    fresh(d, t0 + 3600 * SEC, &c, 14, 10.5, rec);
    last = &rec->base[rec->nbase - 1];
    CHECK(isnan(last->slope_pct_per_year) && last->alarm_at_us == 0);
    ow_diag_destroy(&d);
    free(rec);
}

/* IEEE 1188's question, asked of the trend: is the block heading for the
 * alarm level, and when? A healthy block must never be given a date. */
static double gauss(uint64_t *x)
{
    double u1 = 0, u2 = 0;
    for (int i = 0; i < 2; i++) {
        *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(*x >> 11) * 0x1.0p-53;
        if (i == 0)
            u1 = 1 - u;
        else
            u2 = u;
    }
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static void test_trend_confidence(void)
{
    ow_gateway_cfg_t gw;
    make_gw(&gw, 1);
    rec_t *rec = calloc(1, sizeof(*rec));
    cyc_t c;
    cyc_float(&c);
    uint64_t seed = 42;
    int dated = 0, runs = 200;

    /* 200 healthy blocks: 10 days of float, a reading every 12 h with 1 %
     * noise around the baseline: no projected date within 5 years */
    for (int run = 0; run < runs; run++) {
        ow_diag_t *d = ow_diag_new(&gw);
        feed(d, T0 - 3700 * SEC, &c, rec);
        CHECK(ow_diag_set_baseline(d, 3, 10) == 0);
        rec->nbase = 0;
        for (int k = 0; k <= 20; k++)
            fresh(d, T0 + k * DAY / 2, &c, 3, 10 * (1 + 0.01 * gauss(&seed)), rec);
        for (int i = 0; i < rec->nbase; i++)
            if (rec->base[i].alarm_at_us && rec->base[i].alarm_at_us < T0 + 5 * (int64_t)YEAR_US)
                dated++;
        ow_diag_destroy(&d);
    }
    CHECK_MSG(dated == 0, "%d dates within 5 years on healthy blocks", dated);

    /* a block rising 2 %/day from its baseline (1 % noise): it crosses
     * 50 % on day 25; once a date is shown it is within +-20 % of that */
    ow_diag_t *d = ow_diag_new(&gw);
    feed(d, T0 - 3700 * SEC, &c, rec);
    CHECK(ow_diag_set_baseline(d, 3, 10) == 0);
    rec->nbase = 0;
    int shown_at = -1, bad = 0;
    const double cross_days = 25;
    for (int k = 0; k <= 48; k++) {
        double days = k / 2.0;
        fresh(d, T0 + k * DAY / 2, &c, 3, 10 * (1 + 0.02 * days + 0.01 * gauss(&seed)), rec);
        const ow_baseline_t *b = &rec->base[rec->nbase - 1];
        if (!b->alarm_at_us) continue;
        if (shown_at < 0) shown_at = k;
        double at_days = (double)(b->alarm_at_us - T0) / DAY;
        if (fabs(at_days - cross_days) > 0.2 * cross_days) bad++;
    }
    CHECK_MSG(shown_at >= 5 && shown_at <= 16, "date first shown at reading %d", shown_at);
    CHECK_MSG(bad == 0, "%d dates off by more than 20 %%", bad);
    ow_diag_destroy(&d);
    free(rec);
}

/* ---- float conditions ---- */

static const ow_diag_flag_t *cond(const ow_diag_t *d, int s, int k)
{
    static ow_diag_status_t st;
    ow_diag_status(d, &st);
    return &st.cond[s][k];
}

static void test_float_conditions(void)
{
    ow_gateway_cfg_t gw;
    make_gw(&gw, 1);
    rec_t *rec = calloc(1, sizeof(*rec));
    cyc_t c;
    int64_t t = T0;
    ow_diag_t *d = ow_diag_new(&gw);
    cyc_float(&c);
    settle(d, &t, &c, rec);
    for (int k = 0; k < OW_COND_COUNT; k++)
        CHECK(!cond(d, 1, k)->on && !cond(d, 2, k)->on);

    /* string 1's breaker opens: no current, the blocks fall from 2.27 to
     * 2.24 V/cell (below 2.27 - 0.02) while string 2 floats: open string
     * after 30 s, not loss of float */
    c.i[0] = 0;
    cyc_volts(&c, 0, 6 * 2.24);
    for (int k = 0; k < 29; k++)
        feed(d, t += SEC, &c, rec);
    CHECK(!cond(d, 1, OW_COND_OPEN_STRING)->on);
    feed(d, t += SEC, &c, rec);
    feed(d, t += SEC, &c, rec);
    CHECK(cond(d, 1, OW_COND_OPEN_STRING)->on && !cond(d, 1, OW_COND_LOSS_OF_FLOAT)->on);
    CHECK_NEAR(cond(d, 1, OW_COND_OPEN_STRING)->value, 2.24, 1e-9);
    CHECK_NEAR(cond(d, 1, OW_COND_OPEN_STRING)->level, 2.25, 1e-9);
    CHECK(!cond(d, 2, OW_COND_OPEN_STRING)->on);
    /* the charger stops too: every string lost float, loss of float on both */
    c.i[1] = 0;
    cyc_volts(&c, 1, 6 * 2.20);
    for (int k = 0; k < 32; k++)
        feed(d, t += SEC, &c, rec);
    CHECK(!cond(d, 1, OW_COND_OPEN_STRING)->on);
    CHECK(cond(d, 1, OW_COND_LOSS_OF_FLOAT)->on && cond(d, 2, OW_COND_LOSS_OF_FLOAT)->on);
    /* the mains comes back: 5 A recharge below float voltage is not a loss */
    c.i[0] = c.i[1] = 5;
    feed(d, t += SEC, &c, rec);
    CHECK(!cond(d, 1, OW_COND_LOSS_OF_FLOAT)->on && !cond(d, 2, OW_COND_LOSS_OF_FLOAT)->on);
    /* nor is a discharge */
    c.i[0] = c.i[1] = -25;
    for (int k = 0; k < 60; k++)
        feed(d, t += SEC, &c, rec);
    for (int k = 0; k < OW_COND_COUNT; k++)
        CHECK(!cond(d, 1, k)->on);
    ow_diag_destroy(&d);

    /* a charger set at the band's low end, 2.25 V/cell, is holding the
     * string: never a loss of float (judged against the learnt 2.25) */
    d = ow_diag_new(&gw);
    cyc_float(&c);
    cyc_volts(&c, 0, 6 * 2.25);
    cyc_volts(&c, 1, 6 * 2.25);
    for (int k = 0; k < 2 * 365; k++, t += 10 * SEC) {
        feed(d, t, &c, rec);
        CHECK(!cond(d, 1, OW_COND_LOSS_OF_FLOAT)->on && !cond(d, 1, OW_COND_OPEN_STRING)->on);
    }
    c.i[0] = c.i[1] = 0; /* then the charger stops: 2.22 is below 2.25 - 0.02 */
    cyc_volts(&c, 0, 6 * 2.22);
    cyc_volts(&c, 1, 6 * 2.22);
    for (int k = 0; k < 40; k++)
        feed(d, t += SEC, &c, rec);
    CHECK(cond(d, 1, OW_COND_LOSS_OF_FLOAT)->on);
    CHECK_NEAR(cond(d, 1, OW_COND_LOSS_OF_FLOAT)->level, 2.23, 1e-9);
    ow_diag_destroy(&d);

    /* float voltage outside the VRLA band 2.25-2.30 V/cell at 25 degC:
     * 2.32 V/cell for 10 min is a mis-set charger; at 2.29 it is not */
    d = ow_diag_new(&gw);
    cyc_float(&c);
    settle(d, &t, &c, rec);
    cyc_volts(&c, 0, 6 * 2.29);
    for (int k = 0; k < 700; k++)
        feed(d, t += SEC, &c, rec);
    CHECK(!cond(d, 1, OW_COND_FLOAT_BAND)->on);
    cyc_volts(&c, 0, 6 * 2.32);
    for (int k = 0; k < 599; k++)
        feed(d, t += SEC, &c, rec);
    CHECK(!cond(d, 1, OW_COND_FLOAT_BAND)->on);
    feed(d, t += SEC, &c, rec);
    feed(d, t += SEC, &c, rec);
    CHECK(cond(d, 1, OW_COND_FLOAT_BAND)->on);
    CHECK_NEAR(cond(d, 1, OW_COND_FLOAT_BAND)->level, 2.30, 1e-9);
    /* at 35 degC the band moves down 30 mV: 2.29 is above it */
    cyc_volts(&c, 0, 6 * 2.29);
    cyc_temps(&c, 0, 35);
    for (int k = 0; k < 700; k++)
        feed(d, t += SEC, &c, rec);
    CHECK(cond(d, 1, OW_COND_FLOAT_BAND)->on);
    CHECK_NEAR(cond(d, 1, OW_COND_FLOAT_BAND)->level, 2.27, 1e-9);
    ow_diag_destroy(&d);

    /* high float current: learnt 0.1 A; 0.25 A (above 3 x 0.1 and 0.2 A
     * floor? no: 0.25 < 0.3) is not, 0.35 A for 10 min is */
    d = ow_diag_new(&gw);
    cyc_float(&c);
    settle(d, &t, &c, rec);
    ow_diag_status_t st;
    ow_diag_status(d, &st);
    CHECK_NEAR(st.float_current_a[1], 0.1, 1e-9);
    c.i[0] = 0.25;
    for (int k = 0; k < 700; k++)
        feed(d, t += SEC, &c, rec);
    CHECK(!cond(d, 1, OW_COND_FLOAT_CURRENT)->on);
    c.i[0] = 0.35;
    for (int k = 0; k < 610; k++)
        feed(d, t += SEC, &c, rec);
    CHECK(cond(d, 1, OW_COND_FLOAT_CURRENT)->on);
    CHECK(cond(d, 1, OW_COND_FLOAT_CURRENT)->level > 0.3 &&
          cond(d, 1, OW_COND_FLOAT_CURRENT)->level < 0.31); /* the learnt level crept up */
    ow_diag_destroy(&d);
    free(rec);
}

/* ---- save / load ---- */

/* A day in the life of the site: the first PRE cycles (10 s apart) settle
 * both strings on float; then, from DAY0, string 1 (current sensor)
 * discharges from 20 to 1020 s with a wavering current; string 2 has lost
 * its sensor (voltage rule), floats, and a block of it heats up (thermal
 * runaway without current, at about 900 s); a day passes between 1100 and
 * 1200 s (impedance compares again a day after a discharge); module 7 learns
 * its baseline across the run, module 16 has one and trends. */
#define PRE  400
#define DAY0 (T0 + PRE * 10 * SEC)
static void day_cycle(ow_diag_t *d, int kk, rec_t *rec)
{
    cyc_t c;
    cyc_float(&c);
    c.i[1] = NAN;
    if (kk < PRE) {
        feed(d, T0 + kk * 10 * SEC, &c, rec);
        return;
    }
    int k = kk - PRE;
    int64_t t = DAY0 + k * SEC + (k >= 1150 ? DAY : 0);
    if (k >= 20 && k < 1020) {
        c.i[0] = -25 + 3 * sin(k / 17.0);
        for (int b = 0; b < NB; b++)
            c.v[0][b] = 12.4 - 0.0003 * (k - 20) - 0.01 * ((b * 7 + k) % 5);
    }
    c.t[1][3] = 31 + k / 300.0;
    if (k == 5 || k == 10 || k == 600 || k == 1100) {
        c.r[0][6] = k == 600 ? 20 : 10 + k / 1000.0;
        c.st[0][6] = OW_MODST_IMPC_FRESH;
    }
    if (k % 100 == 0) {
        c.r[1][6] = 10 * (1 + k / 40000.0);
        c.st[1][6] = OW_MODST_IMPC_FRESH;
    }
    if (k >= 1200 && k % 50 == 0) {
        c.r[0][6] = 11 + k / 10000.0;
        c.st[0][6] = OW_MODST_IMPC_FRESH;
    }
    feed(d, t, &c, rec);
}

static int same_double(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

static int same_discharge(const ow_discharge_t *a, const ow_discharge_t *b)
{
    return a->string == b->string && !strcmp(a->action, b->action) && !strcmp(a->mode, b->mode) &&
           a->start_us == b->start_us && a->end_us == b->end_us &&
           same_double(a->duration_s, b->duration_s) && same_double(a->ah_removed, b->ah_removed) &&
           same_double(a->min_current_a, b->min_current_a) && a->min_module == b->min_module &&
           same_double(a->min_voltage_v, b->min_voltage_v) &&
           same_double(a->end_voltage_v, b->end_voltage_v);
}

static int same_baseline(const ow_baseline_t *a, const ow_baseline_t *b)
{
    return a->string == b->string && a->module == b->module &&
           same_double(a->baseline_mohm, b->baseline_mohm) &&
           same_double(a->impedance_mohm, b->impedance_mohm) &&
           same_double(a->deviation_pct, b->deviation_pct) &&
           same_double(a->slope_pct_per_year, b->slope_pct_per_year) &&
           a->alarm_at_us == b->alarm_at_us;
}

static void test_save_load(void)
{
    ow_gateway_cfg_t gw;
    make_gw(&gw, 1);
    rec_t *ra = calloc(1, sizeof(*ra)), *rb = calloc(1, sizeof(*rb));
    const int split = PRE + 520, end = PRE + 4000;
    char err[256] = "";

    /* A: uninterrupted */
    ow_diag_t *a = ow_diag_new(&gw);
    for (int k = 0; k < end; k++)
        day_cycle(a, k, ra);

    /* B: saved mid-discharge as text, restarted, loaded, continued */
    ow_diag_t *b = ow_diag_new(&gw);
    for (int k = 0; k < split; k++)
        day_cycle(b, k, rb);
    CHECK(state(b, 1) == OW_BAT_DISCHARGING && tr(b, 2, NULL) == 0);
    json_t *j = ow_diag_save(b);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    ow_diag_destroy(&b);
    int ndis0 = rb->ndis, nbase0 = rb->nbase;
    memset(rb, 0, sizeof(*rb));

    json_error_t je;
    json_t *back = json_loads(text, 0, &je);
    CHECK(back != NULL);
    b = ow_diag_new(&gw);
    CHECK_MSG(ow_diag_load(b, back, err, sizeof(err)) == 0, "%s", err);
    json_t *again = ow_diag_save(b);
    CHECK(json_equal(back, again)); /* load(save) is the identity */
    json_decref(again);
    json_decref(back);
    free(text);
    CHECK(state(b, 1) == OW_BAT_DISCHARGING);
    for (int k = split; k < end; k++)
        day_cycle(b, k, rb);

    /* the same events after the split, to the last bit */
    CHECK(ra->ndis == ndis0 + rb->ndis);
    CHECK(ra->nbase == nbase0 + rb->nbase);
    int ends = 0;
    for (int i = 0; i < rb->ndis && ndis0 + i < ra->ndis; i++) {
        CHECK(same_discharge(&ra->dis[ndis0 + i], &rb->dis[i]));
        CHECK(ra->dis_ts[ndis0 + i] == rb->dis_ts[i]);
        if (!strcmp(rb->dis[i].action, "end") && rb->dis[i].string == 1) {
            ends++;
            CHECK_STR(rb->dis[i].mode, "current");
            CHECK(rb->dis[i].start_us == DAY0 + 20 * SEC && rb->dis[i].end_us == DAY0 + 1020 * SEC);
            CHECK(rb->dis[i].ah_removed > 6.5 && rb->dis[i].ah_removed < 7.5);
        }
    }
    CHECK(ends == 1);
    for (int i = 0; i < rb->nbase && nbase0 + i < ra->nbase; i++)
        CHECK(same_baseline(&ra->base[nbase0 + i], &rb->base[i]));
    ow_diag_status_t sa, sb;
    ow_diag_status(a, &sa);
    ow_diag_status(b, &sb);
    CHECK(tr(a, 2, NULL) == 1 && tr(b, 2, NULL) == 1);
    /* the counter went on across the restart, and the discharge under way
     * at the save was not counted again */
    CHECK(sa.discharges >= 1 && sa.discharges == sb.discharges);
    for (int s = 1; s <= NS; s++) {
        CHECK(sa.state[s] == sb.state[s] && sa.equalizing[s] == sb.equalizing[s]);
        CHECK(sa.thermal_runaway[s] == sb.thermal_runaway[s] && sa.tr_value[s] == sb.tr_value[s]);
    }
    CHECK(ow_diag_deviation_pct(a, 7) == ow_diag_deviation_pct(b, 7));
    CHECK(!isnan(ow_diag_deviation_pct(b, 7))); /* learnt across the restart */
    json_t *ja = ow_diag_save(a), *jb = ow_diag_save(b);
    CHECK(json_equal(ja, jb));
    json_decref(ja);
    json_decref(jb);

    ow_diag_destroy(&a);
    ow_diag_destroy(&b);
    free(ra);
    free(rb);
}

/* The state file is written between heartbeats. Saved after the readings of
 * a capacity test's first discharging cycle and before its heartbeat, the
 * restarted diagnostics must see that cycle whole: the discharge starts at
 * the same reading, is still the tagged test, and ends with the same
 * time-adjusted capacity as without the restart. */
static cyc_t captest_cycle(int k)
{
    cyc_t c;
    cyc_float(&c);
    if (k >= 50 && k < 150) { /* 0.5C for 1000 s, the blocks sag with it */
        c.i[0] = -25;
        cyc_volts(&c, 0, 12.2 - 0.004 * (k - 50));
    } else if (k >= 150) {
        c.i[0] = 8; /* recharge */
        cyc_volts(&c, 0, 14.1);
    }
    return c;
}

/* The clock goes back (busd restarted at speed > 1 starts its simulated
 * clock at the wall clock again, behind the old one): the histories drop
 * the points "after" the new time and stay in time order, so the state
 * alarmd saves loads again (it used to be refused with "not in time
 * order", and alarmd then would not start), and a state file written in
 * that order still loads with the same points dropped. A discharge after
 * the step is still seen. */
static void test_clock_back(void)
{
    ow_gateway_cfg_t gw;
    make_gw(&gw, 1);
    rec_t *rec = calloc(1, sizeof(*rec));
    char err[256] = "";
    ow_diag_t *d = ow_diag_new(&gw);
    for (int k = 0; k < 120; k++) {
        cyc_t c = captest_cycle(k);
        feed(d, T0 + k * 10 * SEC, &c, rec);
    }
    CHECK(state(d, 1) == OW_BAT_DISCHARGING);
    /* busd restarts: its clock reads 600 s earlier than the last reading. */
    for (int k = 0; k < 30; k++) {
        cyc_t c = captest_cycle(60 + k);
        feed(d, T0 + (60 + k) * 10 * SEC, &c, rec);
    }
    json_t *j = ow_diag_save(d);
    ow_diag_t *back = ow_diag_new(&gw);
    CHECK_MSG(ow_diag_load(back, j, err, sizeof(err)) == 0, "%s", err);
    /* Every saved history is in time order. */
    int bad = 0;
    json_t *strs = json_object_get(j, "strings"), *st;
    size_t i;
    json_array_foreach(strs, i, st)
    {
        const char *key;
        json_t *val;
        json_object_foreach(st, key, val)
        {
            if (!json_is_array(val)) continue;
            for (size_t k = 1; k < json_array_size(val); k++) {
                json_t *a = json_array_get(val, k - 1), *b = json_array_get(val, k);
                if (json_is_array(a) && json_is_array(b) && json_is_integer(json_array_get(a, 0)) &&
                    json_integer_value(json_array_get(b, 0)) <
                        json_integer_value(json_array_get(a, 0)))
                    bad++;
            }
        }
    }
    CHECK_MSG(bad == 0, "%d points out of order", bad);
    /* A file with the step inside a history (as the old code wrote it). */
    json_t *vh = json_object_get(json_array_get(strs, 0), "vhist");
    CHECK(json_is_array(vh) && json_array_size(vh) >= 3);
    json_array_insert_new(vh, 0, json_pack("[I, f]", (json_int_t)(T0 + 100000 * SEC), 2.0));
    size_t nvh = json_array_size(vh);
    ow_diag_t *old = ow_diag_new(&gw);
    CHECK_MSG(ow_diag_load(old, j, err, sizeof(err)) == 0, "%s", err);
    json_t *j2 = ow_diag_save(old);
    json_t *vh2 = json_object_get(json_array_get(json_object_get(j2, "strings"), 0), "vhist");
    CHECK(json_array_size(vh2) == nvh - 1); /* the point from the "future" dropped */
    json_decref(j2);
    json_decref(j);
    /* The restarted clock runs on: the discharge continues and ends. */
    int ndis = rec->ndis;
    for (int k = 90; k < 200; k++) {
        cyc_t c = captest_cycle(k);
        feed(back, T0 + k * 10 * SEC, &c, rec);
    }
    CHECK(rec->ndis > ndis);
    ow_diag_destroy(&old);
    ow_diag_destroy(&back);
    ow_diag_destroy(&d);
    free(rec);
}

static void test_save_mid_cycle(void)
{
    ow_gateway_cfg_t gw;
    make_gw(&gw, 1);
    rec_t *ra = calloc(1, sizeof(*ra)), *rb = calloc(1, sizeof(*rb));
    char err[256] = "";
    const int split = 50, end = 200;

    ow_diag_t *a = ow_diag_new(&gw), *b = ow_diag_new(&gw);
    CHECK(ow_diag_captest(a, 1, 2.0, 1.75) == 0 && ow_diag_captest(b, 1, 2.0, 1.75) == 0);
    for (int k = 0; k < end; k++) {
        cyc_t c = captest_cycle(k);
        feed(a, T0 + k * 10 * SEC, &c, ra);
    }
    for (int k = 0; k < split; k++) {
        cyc_t c = captest_cycle(k);
        feed(b, T0 + k * 10 * SEC, &c, rb);
    }
    cyc_t c = captest_cycle(split);
    feed_readings(b, T0 + split * 10 * SEC, &c);
    json_t *j = ow_diag_save(b);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    ow_diag_destroy(&b);
    json_error_t je;
    json_t *back = json_loads(text, 0, &je);
    b = ow_diag_new(&gw);
    CHECK_MSG(ow_diag_load(b, back, err, sizeof(err)) == 0, "%s", err);
    json_t *again = ow_diag_save(b);
    CHECK(json_equal(back, again)); /* load(save) is the identity mid-cycle too */
    json_decref(again);
    json_decref(back);
    free(text);
    ow_diag_cycle(b, T0 + split * 10 * SEC, &sink, rb);
    for (int k = split + 1; k < end; k++) {
        c = captest_cycle(k);
        feed(b, T0 + k * 10 * SEC, &c, rb);
    }

    CHECK(ra->ndis >= 2 && ra->ndis == rb->ndis);
    int ends = 0;
    for (int i = 0; i < ra->ndis && i < rb->ndis; i++) {
        CHECK(same_discharge(&ra->dis[i], &rb->dis[i]));
        CHECK(ra->dis_ts[i] == rb->dis_ts[i]);
        CHECK(rb->dis[i].test == 1);
        if (!strcmp(rb->dis[i].action, "start"))
            CHECK(rb->dis[i].start_us == T0 + split * 10 * SEC);
        if (!strcmp(rb->dis[i].action, "end")) {
            ends++;
            CHECK_STR(rb->dis[i].method, "time-adjusted");
            CHECK(isfinite(rb->dis[i].capacity_pct) &&
                  rb->dis[i].capacity_pct == ra->dis[i].capacity_pct);
            CHECK(isfinite(rb->dis[i].dod_pct) && rb->dis[i].dod_pct == ra->dis[i].dod_pct);
        }
    }
    CHECK(ends == 1);
    ow_diag_destroy(&a);
    ow_diag_destroy(&b);
    free(ra);
    free(rb);
}

/* A refused state leaves the diagnostics as they were. */
static void check_refused(ow_diag_t *d, const json_t *bad, const char *expect)
{
    char err[256] = "";
    json_t *before = ow_diag_save(d);
    CHECK(ow_diag_load(d, bad, err, sizeof(err)) == -1);
    CHECK_CONTAINS(err, expect);
    json_t *after = ow_diag_save(d);
    CHECK(json_equal(before, after));
    json_decref(before);
    json_decref(after);
}

static void test_malformed(void)
{
    ow_gateway_cfg_t gw;
    make_gw(&gw, 1);
    ow_diag_t *d = ow_diag_new(&gw);
    rec_t *rec = calloc(1, sizeof(*rec));
    for (int k = 0; k < PRE + 600; k++)
        day_cycle(d, k, rec);
    json_t *good = ow_diag_save(d), *bad;
    char err[256] = "";

    CHECK(ow_diag_load(d, NULL, err, sizeof(err)) == -1);
    CHECK_CONTAINS(err, "expected a JSON object");
    bad = json_array();
    check_refused(d, bad, "expected a JSON object");
    json_decref(bad);

    bad = json_deep_copy(good);
    json_object_set_new(bad, "version", json_integer(5));
    check_refused(d, bad, "version: 5 outside 1..4");
    json_object_set_new(bad, "version", json_integer(4));
    json_object_set_new(bad, "discharges", json_integer(-1));
    check_refused(d, bad, "discharges");
    json_decref(bad);

    bad = json_deep_copy(good);
    json_object_del(bad, "modules");
    check_refused(d, bad, "modules: expected an array");
    json_decref(bad);

    bad = json_deep_copy(good);
    json_object_set_new(json_array_get(json_object_get(bad, "strings"), 1), "base",
                        json_string("sideways"));
    check_refused(d, bad, "strings[1].base: unknown state 'sideways'");
    json_decref(bad);

    bad = json_deep_copy(good);
    json_object_set_new(json_object_get(json_array_get(json_object_get(bad, "strings"), 0), "tr"),
                        "hot", json_string("x"));
    check_refused(d, bad, "strings[0].tr.hot: expected an array");
    json_decref(bad);

    bad = json_deep_copy(good);
    json_object_set_new(
        json_object_get(json_array_get(json_object_get(bad, "strings"), 0), "discharge"), "ah_run",
        json_string("lots"));
    check_refused(d, bad, "strings[0].discharge.ah_run: expected a number");
    json_decref(bad);

    bad = json_deep_copy(good);
    json_object_del(json_array_get(json_object_get(bad, "strings"), 0), "cycle");
    check_refused(d, bad, "strings[0].cycle: expected an object");
    json_decref(bad);

    bad = json_deep_copy(good);
    json_object_set_new(
        json_object_get(json_array_get(json_object_get(bad, "strings"), 1), "cycle"), "temps",
        json_integer(-1));
    check_refused(d, bad, "strings[1].cycle.temps: -1 outside 0..");
    json_decref(bad);

    bad = json_deep_copy(good);
    json_object_set_new(
        json_object_get(json_array_get(json_object_get(bad, "strings"), 0), "captest"), "armed",
        json_true());
    json_object_set_new(
        json_object_get(json_array_get(json_object_get(bad, "strings"), 0), "captest"), "rated_h",
        json_null());
    check_refused(d, bad, "strings[0].captest: an armed test needs rated_h");
    json_decref(bad);

    /* a version 2 file (before the cycle was kept) still loads */
    bad = json_deep_copy(good);
    json_object_set_new(bad, "version", json_integer(2));
    for (size_t i = 0; i < json_array_size(json_object_get(bad, "strings")); i++) {
        json_object_del(json_array_get(json_object_get(bad, "strings"), i), "cycle");
        json_object_del(json_array_get(json_object_get(bad, "strings"), i), "captest");
    }
    {
        char e2[256] = "";
        CHECK_MSG(ow_diag_load(d, bad, e2, sizeof(e2)) == 0, "%s", e2);
        ow_diag_status_t ds;
        ow_diag_status(d, &ds);
        CHECK(ds.discharges == 0); /* not counted before version 4 */
    }
    json_decref(bad);

    bad = json_deep_copy(good);
    json_object_set_new(json_array_get(json_object_get(bad, "strings"), 0), "vhist",
                        json_pack("[[I f] [s f]]", (json_int_t)1, 2.0, "x", 2.0));
    check_refused(d, bad, "strings[0].vhist: point 1: expected [ts_us, value]");
    json_decref(bad);

    bad = json_deep_copy(good);
    json_object_set_new(json_array_get(json_object_get(bad, "modules"), 0), "baseline_mohm",
                        json_real(-3));
    check_refused(d, bad, "modules[0].baseline_mohm: must be positive or null");
    json_decref(bad);

    bad = json_deep_copy(good);
    json_object_set_new(json_array_get(json_object_get(bad, "modules"), 0), "module",
                        json_integer(9999));
    check_refused(d, bad, "modules[0].module: 9999 outside");
    json_decref(bad);

    /* a string or module the site no longer has is skipped, not refused */
    bad = json_deep_copy(good);
    json_array_append_new(json_object_get(bad, "strings"),
                          json_pack("{s:i}", "string", OW_MAX_STRINGS));
    CHECK_MSG(ow_diag_load(d, bad, err, sizeof(err)) == 0, "%s", err);
    json_decref(bad);

    json_decref(good);
    ow_diag_destroy(&d);
    free(rec);
}

int main(void)
{
    test_current_states();
    test_discharge_exact();
    test_voltage_states();
    test_thermal_runaway();
    test_baseline();
    test_trend();
    test_trend_confidence();
    test_float_conditions();
    test_save_load();
    test_save_mid_cycle();
    test_clock_back();
    test_malformed();
    return ow_test_done("diag_test");
}
