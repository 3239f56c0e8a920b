/* Battery diagnostics of one gateway (diag.h): battery state per string,
 * discharge events, the thermal runaway rule and the impedance baseline
 * trend. The rules and their numbers are documented in README.md,
 * "Diagnostics"; the constants below are the ones named there. */
#include "diag.h"

#include "capacity.h"
#include "ow_jfield.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2: settled float, float current, float conditions; 3: the cycle under way,
 * the capacity-test tag and a discharge's test fields; 4: the discharge
 * counter (0 when read from an older file) */
#define SAVE_VERSION 4
#define YEAR_US      (365.25 * 86400.0 * 1e6) /* Julian year, as the simulator */
#define US_PER_H     3.6e9

/* battery state */
#define DEBOUNCE_N      2          /* cycles a new state must hold (but entering DISCHARGING) */
#define DIS_DETECT_C10  0.01       /* default discharge_detect_a, fraction of C10 ... */
#define DIS_DETECT_MIN  0.2        /* ... and not below this (current sensor offset) */
#define CHG_DETECT_C10  0.02       /* default charge_detect_a, fraction of C10 (same minimum) */
#define FLOAT_V_CELL    2.27       /* default float voltage per cell */
#define BAND_V_CELL     0.03       /* default float_band_v_per_cell */
#define CHG_ABOVE_V     0.05       /* per cell above float: charging (boost) */
#define SAG_V_CELL      0.05       /* per-cell drop between two cycles: a discharge starts */
#define SLOPE_WIN_US    60000000LL /* voltage slope window */
#define SLOPE_MIN_N     3          /* points the slope needs */
#define SLOPE_CHG_V_MIN 0.0001     /* V/cell/min: rising faster than this is charging */
#define VHIST_MAX       256        /* cycles kept for the slope (newest win) */

/* thermal runaway */
#define TR_MODULE_C    5.0
#define TR_AMBIENT_C   10.0
#define TR_CURRENT_C10 0.01
#define TR_SUSTAIN_S   600.0
#define TR_RISE_C      1.0 /* no current sensor: hottest block rise over tr_sustain_s */
#define TR_HYST_C      1.0 /* clears below threshold - this */
#define HOT_MAX        256
#define HOT_STEPS      200 /* hottest-temperature samples kept per tr_sustain_s at most */

#define TR_BASE_X     5.0  /* feeding: float current above this x its learned level ... */
#define TR_RISE_FRAC  0.05 /* ... and rising by this fraction over tr_sustain_s to start, */
#define TR_RISE_MIN_A 0.02 /* ... (this much at least), */
#define TR_FALL_FRAC  0.05 /* ... and not falling by more than this while it holds */

/* settled float (docs/battery.md, "Settled float") */
#define FLOAT_SETTLE_US 3600e6   /* on float this long: the float rules apply */
#define IMP_SETTLE_US   86400e6  /* after a discharge: impedance compared only after a day */
#define IBASE_DOWN_US   3600e6   /* learned float current follows a fall with this time ... */
#define IBASE_UP_US     604800e6 /* ... and a rise with this one (a runaway is not learnt) */
#define FC_MIN_A        0.2      /* high float current: never below the sensor's offset */

/* impedance baseline */
#define LEARN_N       3
#define TREND_MAX     256 /* 128 days at the usual 12 h impedance poll */
#define TREND_MIN_N   6
#define TREND_SPAN_US 3600e6 /* and over an hour at least (a burst of readings is not a trend) */
#define TREND_REL_SE  0.1    /* a trend is shown when its standard error is below this x slope */
#define ALARM_PCT     50.0
#define IMP_TC_PER_C  -0.01 /* ohmic value per degC relative to 25 degC (VRLA: about -1 %/degC) */
#define IMP_T_MIN_C   -10.0 /* normalisation range: outside it the reading is not compared */
#define IMP_T_MAX_C   50.0

/* How long each float condition must hold before it shows (ow_diag_cond_t order). */
static const int64_t cond_delay_us[OW_COND_COUNT] = {
    [OW_COND_OPEN_STRING] = 30000000LL, [OW_COND_LOSS_OF_FLOAT] = 30000000LL,
    [OW_COND_FLOAT_BAND] = 600000000LL, [OW_COND_FLOAT_CURRENT] = 600000000LL,
    [OW_COND_RIPPLE] = 60000000LL,
};

/* capacity test / time-to-go: the lowest block's slope over 10 min, and a
 * progress message every minute (a 10 h test is 600 rows, not 36,000) */
#define CAP_VH_MAX      128
#define CAP_SLOPE_US    600e6
#define CAP_PROGRESS_US 60e6

typedef struct {
    int64_t ts_us;
    double v;
} point_t;

typedef struct {
    /* this cycle's readings (cleared by ow_diag_cycle) */
    int have_str, have_mod, ntemp;
    int64_t rd_us; /* newest reading time of the string this cycle */
    double current_a, ac_a, sum_v, avg_v;
    double vmin, tmax, tmin, tsum;
    int vmin_module, eq;

    /* battery state: base is FLOAT, CHARGING or DISCHARGING (UNKNOWN before
     * the first reading); stopped turns a non-float base into DISCHARGE_STOPPED */
    ow_bat_state_t base;
    int stopped;
    ow_bat_state_t pend; /* debounce: the candidate state, its run length, first reading */
    int pend_n;
    int64_t pend_us;
    double pend_sum_v, pend_vmin;
    int pend_vmin_module;
    double prev_v_cell;
    point_t vh[VHIST_MAX];
    int nvh;
    int equalizing;

    /* discharge in progress (base == DISCHARGING): ev holds what "end" will
     * report up to the last discharging reading; ah_run integrates every
     * reading since the start, i_us/i_a is the last reading with a current */
    ow_discharge_t ev;
    double ah_run;
    int64_t i_us;
    double i_a;

    /* thermal runaway */
    int tr_holding, tr;
    int64_t tr_since_us;
    double tr_value;
    point_t hot[HOT_MAX];
    int nhot;

    /* settled float: since when the string floats at float voltage (0: not),
     * whether a discharge came before (impedance then waits IMP_SETTLE_US) */
    int64_t settle_us;
    int settle_dis;
    int settled, imp_ok; /* this cycle's verdicts */
    double ibase;        /* learned float current, NAN until known */
    double vbase;        /* learned float voltage per cell, NAN until known */
    int64_t ibase_us;
    point_t ih[HOT_MAX]; /* current samples over tr_sustain_s */
    int nih;
    /* float conditions: raw since (0: not holding), shown */
    int64_t c_since[OW_COND_COUNT];
    ow_diag_flag_t c[OW_COND_COUNT];
    /* capacity test and time-to-go (capacity.h): cap_armed/_rated_h/_end_v
     * tag the next or present discharge (ow_diag_captest); cap_vh is the
     * lowest block's voltage for its slope; cap_c10_ah, cap_cells the battery
     * as of the last cycle (take has no gateway) */
    int cap_armed;
    double cap_rated_h, cap_end_v;
    point_t cap_vh[CAP_VH_MAX];
    int cap_nvh;
    point_t cap_avh[CAP_VH_MAX]; /* the string's average block voltage, same window */
    int cap_navh;
    int64_t cap_progress_us;
    double cap_c10_ah;
    int cap_cells;
} str_t;

typedef struct {
    double base_mohm; /* NAN: not known (learning) */
    double learn[LEARN_N];
    int nlearn;
    point_t trend[TREND_MAX]; /* deviation_pct by time, oldest first */
    int ntrend;
    double dev_pct;
    int fresh; /* a measurement of this cycle, handled by ow_diag_cycle */
    int64_t fresh_us;
    double fresh_mohm, fresh_temp_c;
} mod_t;

struct ow_diag {
    const ow_gateway_cfg_t *gw;
    double ambient_c; /* this cycle's */
    str_t str[OW_MAX_STRINGS + 1];
    mod_t mod[OW_MAX_MODULES + 1];
    /* The webmanager's Discharge Counter: discharges of the gateway's
     * battery. A mains failure discharges every string of a UPS at once
     * (the debounce may see them a cycle apart): strings discharging
     * together are one discharge, so it counts when a first string starts
     * while none was discharging. discharging is derived, not saved. */
    int discharges;
    int discharging;
};

/* The limits in force, defaults filled in for fields left at 0. */
typedef struct {
    double dis_a, chg_a;
    double float_v, band_v;
    int cells;
    double tr_mod_c, tr_amb_c, tr_cur_a;
    int64_t tr_sustain_us;
    double alarm_pct;
    double c10, lof_v, fc_x, ripple_a;
    const ow_chemistry_t *chem;
} lim_t;

/* 0 in a hand-built configuration means "use the default" (the site loader
 * always fills them). */
#define THR_DIS_A(gw)  ((gw)->thr.discharge_detect_a)
#define THR_CHG_A(gw)  ((gw)->thr.charge_detect_a)
#define THR_BAND_V(gw) ((gw)->thr.float_band_v_per_cell)

static double pos_or(double v, double def)
{
    return isfinite(v) && v > 0 ? v : def;
}

static void limits(const ow_gateway_cfg_t *gw, lim_t *l)
{
    const ow_thresholds_t *t = &gw->thr;
    double c10 = isfinite(gw->battery.capacity_ah) ? gw->battery.capacity_ah : 0;

    l->dis_a = pos_or(THR_DIS_A(gw), fmax(DIS_DETECT_C10 * c10, DIS_DETECT_MIN));
    l->chg_a = pos_or(THR_CHG_A(gw), fmax(CHG_DETECT_C10 * c10, DIS_DETECT_MIN));
    l->float_v = pos_or(gw->sim.float_v_per_cell, FLOAT_V_CELL);
    l->band_v = pos_or(THR_BAND_V(gw), BAND_V_CELL);
    l->cells = gw->module_type ? (int)lround(gw->module_type->nominal_v / 2) : 6;
    if (l->cells < 1) l->cells = 1;
    l->tr_mod_c = pos_or(t->tr_module_delta_c, TR_MODULE_C);
    l->tr_amb_c = pos_or(t->tr_ambient_delta_c, TR_AMBIENT_C);
    l->tr_cur_a = pos_or(t->tr_float_current_a, TR_CURRENT_C10 * c10);
    l->tr_sustain_us = (int64_t)llround(pos_or(t->tr_sustain_s, TR_SUSTAIN_S) * 1e6);
    l->alarm_pct = pos_or(t->baseline_alarm_pct, ALARM_PCT);
    l->c10 = c10;
    l->lof_v = pos_or(t->loss_of_float_v_per_cell, 0.02);
    l->fc_x = pos_or(t->float_current_high_x, 3);
    l->ripple_a = isfinite(t->ripple_current_a) && t->ripple_current_a >= 0 ? t->ripple_current_a
                                                                            : 0.05 * c10;
    l->chem = ow_gateway_chemistry(gw);
}

/* The string's current this cycle is measured (a sensor is fitted and read). */
static int cur_mode(const ow_diag_t *d, const str_t *st)
{
    return d->gw->current_sensor && isfinite(st->current_a);
}

/* String (1-based) holding a module address; 0 if none. */
static int module_string(const ow_gateway_cfg_t *gw, int module)
{
    int next = 1;
    if (module < 1 || module > OW_MAX_MODULES) return 0;
    for (int s = 0; s < gw->nstrings && s < OW_MAX_STRINGS; s++) {
        int first = gw->strings[s].first_module > 0 ? gw->strings[s].first_module : next;
        if (module >= first && module < first + gw->strings[s].modules) return s + 1;
        next = first + gw->strings[s].modules;
    }
    return 0;
}

static int nstrings(const ow_gateway_cfg_t *gw)
{
    return gw->nstrings < OW_MAX_STRINGS ? gw->nstrings : OW_MAX_STRINGS;
}

static ow_bat_state_t reported(const str_t *st)
{
    if (st->base == OW_BAT_DISCHARGING) return OW_BAT_DISCHARGING;
    if (st->stopped) return OW_BAT_DISCHARGE_STOPPED;
    return st->base;
}

static void clear_cycle(str_t *st)
{
    st->have_str = st->have_mod = st->ntemp = 0;
    st->rd_us = 0;
    st->current_a = st->ac_a = st->sum_v = st->avg_v = NAN;
    st->vmin = st->tmax = st->tmin = NAN;
    st->tsum = 0;
    st->vmin_module = st->eq = 0;
}

static void init(ow_diag_t *d, const ow_gateway_cfg_t *gw)
{
    memset(d, 0, sizeof(*d));
    d->gw = gw;
    d->ambient_c = NAN;
    for (int s = 0; s <= OW_MAX_STRINGS; s++) {
        str_t *st = &d->str[s];
        clear_cycle(st);
        st->prev_v_cell = NAN;
        st->pend_sum_v = st->pend_vmin = NAN;
        st->tr_value = 0;
        st->ibase = st->vbase = NAN;
    }
    for (int m = 0; m <= OW_MAX_MODULES; m++) {
        d->mod[m].base_mohm = NAN;
        d->mod[m].dev_pct = NAN;
    }
}

ow_diag_t *ow_diag_new(const ow_gateway_cfg_t *gw)
{
    if (!gw || gw->nstrings < 0 || gw->nstrings > OW_MAX_STRINGS) return NULL;
    ow_diag_t *d = malloc(sizeof(*d));
    if (!d) return NULL;
    init(d, gw);
    return d;
}

void ow_diag_destroy(ow_diag_t **d)
{
    if (!d || !*d) return;
    free(*d);
    *d = NULL;
}

/* ---- readings ---- */

void ow_diag_module(ow_diag_t *d, int64_t ts_us, const ow_module_t *m)
{
    int s = d && m ? module_string(d->gw, m->module) : 0;
    if (!s || (m->status & OW_MODST_NO_RESPONSE)) return;
    str_t *st = &d->str[s];
    st->have_mod = 1;
    if (ts_us > st->rd_us) st->rd_us = ts_us;
    if (isfinite(m->voltage_v) && (!isfinite(st->vmin) || m->voltage_v < st->vmin)) {
        st->vmin = m->voltage_v;
        st->vmin_module = m->module;
    }
    if (isfinite(m->temp_c)) {
        if (!st->ntemp++) st->tmax = st->tmin = m->temp_c;
        st->tmax = fmax(st->tmax, m->temp_c);
        st->tmin = fmin(st->tmin, m->temp_c);
        st->tsum += m->temp_c;
    }
    if (isfinite(m->eq_pct) && m->eq_pct > 0) st->eq = 1;
    if ((m->status & OW_MODST_IMPC_FRESH) && isfinite(m->impedance_mohm) && m->impedance_mohm > 0) {
        mod_t *md = &d->mod[m->module];
        md->fresh = 1;
        md->fresh_us = ts_us;
        md->fresh_mohm = m->impedance_mohm;
        md->fresh_temp_c = m->temp_c;
    }
}

void ow_diag_string(ow_diag_t *d, int64_t ts_us, const ow_string_t *s)
{
    if (!d || !s || s->string < 1 || s->string > nstrings(d->gw)) return;
    str_t *st = &d->str[s->string];
    st->have_str = 1;
    if (ts_us > st->rd_us) st->rd_us = ts_us;
    st->current_a = s->current_a;
    st->ac_a = s->ac_current_a;
    st->sum_v = s->sum_voltage_v;
    st->avg_v = s->avg_voltage_v;
}

void ow_diag_aux(ow_diag_t *d, int64_t ts_us, const ow_aux_t *a)
{
    (void)ts_us;
    if (d && a) d->ambient_c = a->ambient_c;
}

/* ---- small helpers ---- */

static void push_point(point_t *p, int *n, int max, int64_t ts_us, double v)
{
    /* The clock went back: a busd restarted with its simulated clock behind
     * the old one, or the system clock stepped. The points "later" than now
     * are dropped, so every history stays in time order (prune and the slopes
     * rely on it, the state file is refused without it) and no slope spans
     * the step; the points before it are kept (a long impedance trend
     * survives a small NTP step). */
    while (*n > 0 && p[*n - 1].ts_us > ts_us)
        (*n)--;
    if (*n == max) {
        memmove(p, p + 1, (size_t)(max - 1) * sizeof(*p));
        (*n)--;
    }
    p[*n].ts_us = ts_us;
    p[(*n)++].v = v;
}

/* Drop the points older than from_us (they are in time order). */
static void prune(point_t *p, int *n, int64_t from_us)
{
    int k = 0;
    while (k < *n && p[k].ts_us < from_us)
        k++;
    if (k) memmove(p, p + k, (size_t)(*n - k) * sizeof(*p));
    *n -= k;
}

/* Least-squares line through the points: slope per unit_us, its standard
 * error, and the fitted value at the newest point. -1 with fewer than 3. */
static int ls_fit(const point_t *p, int n, double unit_us, double *slope, double *se,
                  double *at_last)
{
    if (n < 3) return -1;
    double mx = 0, my = 0, sxx = 0, sxy = 0, sse = 0;
    for (int i = 0; i < n; i++) {
        mx += (double)(p[i].ts_us - p[n - 1].ts_us) / unit_us;
        my += p[i].v;
    }
    mx /= n;
    my /= n;
    for (int i = 0; i < n; i++) {
        double x = (double)(p[i].ts_us - p[n - 1].ts_us) / unit_us - mx;
        sxx += x * x;
        sxy += x * (p[i].v - my);
    }
    if (!(sxx > 0)) return -1;
    *slope = sxy / sxx;
    for (int i = 0; i < n; i++) {
        double x = (double)(p[i].ts_us - p[n - 1].ts_us) / unit_us - mx;
        double r = p[i].v - my - *slope * x;
        sse += r * r;
    }
    *se = sqrt(sse / (n - 2) / sxx);
    *at_last = my - *slope * mx; /* x of the newest point is 0 */
    return 0;
}

/* Least-squares slope of v against time in units of unit_us; NAN with fewer
 * than min_n points (3 at least) or a span shorter than min_span_us. */
static double ls_slope(const point_t *p, int n, double unit_us, int min_n, double min_span_us)
{
    double slope, se, at_last;
    if (n < min_n || n < 1 || (double)(p[n - 1].ts_us - p[0].ts_us) < min_span_us) return NAN;
    return ls_fit(p, n, unit_us, &slope, &se, &at_last) == 0 ? slope : NAN;
}

static void emit_discharge(const ow_diag_sink_t *sink, void *ctx, const ow_discharge_t *ev,
                           int64_t ts_us)
{
    if (sink && sink->discharge) sink->discharge(ctx, ev, ts_us);
}

/* ---- battery state and discharges ---- */

/* A reading while a discharge goes on: integrate it, and if it still
 * discharges, move what "end" reports up to it. */
static void discharge_track(str_t *st, int64_t ts_us, int discharging)
{
    int cur = strcmp(st->ev.mode, "current") == 0 && isfinite(st->current_a);
    if (cur) {
        if (st->i_us) st->ah_run -= (st->i_a + st->current_a) / 2 * (ts_us - st->i_us) / US_PER_H;
        st->i_us = ts_us;
        st->i_a = st->current_a;
    }
    if (!discharging) return;
    if (strcmp(st->ev.mode, "current") == 0) st->ev.ah_removed = st->ah_run;
    if (cur && st->current_a < st->ev.min_current_a) st->ev.min_current_a = st->current_a;
    if (isfinite(st->vmin) &&
        (!isfinite(st->ev.min_voltage_v) || st->vmin < st->ev.min_voltage_v)) {
        st->ev.min_voltage_v = st->vmin;
        st->ev.min_module = st->vmin_module;
    }
    if (isfinite(st->sum_v)) st->ev.end_voltage_v = st->sum_v;
}

/* The capacity fields of a discharge that starts: tagged when a captest
 * armed the string (the tag is used up), depth of discharge always. */
static void cap_begin(str_t *st, ow_discharge_t *ev)
{
    ev->test = st->cap_armed;
    ev->rated_h = st->cap_armed ? st->cap_rated_h : NAN;
    ev->end_v_per_cell = st->cap_armed ? st->cap_end_v : NAN;
    /* mid-range of the blocks: the per-cycle sum is not kept, and blocks
     * that differ by more than a few degrees raise thermal alarms anyway */
    /* IEEE 450: the average cell temperature, to 0.1 degC (what it is read to) */
    ev->temp_c = st->ntemp ? round(st->tsum / st->ntemp * 10) / 10 : NAN;
    snprintf(ev->method, sizeof(ev->method), "%s", st->cap_armed ? "time-adjusted" : "");
    ev->capacity_pct = NAN;
    ev->dod_pct = ow_cap_dod_pct(ev->ah_removed, st->cap_c10_ah);
    ev->time_to_go_s = NAN;
    st->cap_armed = 0;
    st->cap_nvh = 0;
    st->cap_navh = 0;
    st->cap_progress_us = ev->start_us;
}

/* The result an "end" carries: IEEE 450 time-adjusted for a test; an
 * outage gets its depth of discharge only, never a "capacity". */
static void cap_end(const str_t *st, ow_discharge_t *end)
{
    end->dod_pct = ow_cap_dod_pct(end->ah_removed, st->cap_c10_ah);
    end->time_to_go_s = NAN;
    if (end->test)
        end->capacity_pct =
            ow_cap_time_adjusted_pct(end->duration_s / 3600.0, end->rated_h, end->temp_c);
}

/* Every cycle: remember the battery for take, and while a discharge goes on
 * follow the lowest block and publish time-to-go every CAP_PROGRESS_US. */
static void cap_track(ow_diag_t *d, int s, int64_t at_us, int64_t ev_us, const ow_diag_sink_t *sink,
                      void *ctx)
{
    str_t *st = &d->str[s];
    if (st->base != OW_BAT_DISCHARGING) return;
    if (isfinite(st->vmin)) {
        prune(st->cap_vh, &st->cap_nvh, at_us - (int64_t)CAP_SLOPE_US);
        push_point(st->cap_vh, &st->cap_nvh, CAP_VH_MAX, at_us, st->vmin);
    }
    if (isfinite(st->avg_v)) {
        prune(st->cap_avh, &st->cap_navh, at_us - (int64_t)CAP_SLOPE_US);
        push_point(st->cap_avh, &st->cap_navh, CAP_VH_MAX, at_us, st->avg_v);
    }
    if (ev_us - st->cap_progress_us < (int64_t)CAP_PROGRESS_US) return;
    st->cap_progress_us = ev_us;
    ow_cap_model_t m = {.c10_ah = st->cap_c10_ah,
                        .peukert = OW_CAP_PEUKERT_DEFAULT,
                        .end_v_per_cell = isfinite(st->ev.end_v_per_cell) ? st->ev.end_v_per_cell
                                                                          : OW_CAP_END_V_DEFAULT,
                        .cells_per_block = st->cap_cells};
    ow_cap_now_t now = {.current_a = isfinite(st->i_a) ? -st->i_a : NAN,
                        .temp_c = st->ev.temp_c,
                        .ah_removed = st->ev.ah_removed,
                        .low_block_v = st->cap_nvh ? st->cap_vh[st->cap_nvh - 1].v : NAN,
                        .low_block_dvdt = ls_slope(st->cap_vh, st->cap_nvh, 1e6, 3, 60e6),
                        .avg_block_v = st->cap_navh ? st->cap_avh[st->cap_navh - 1].v : NAN};
    /* the average block's volts per Ah removed, from its slope at this current */
    double dvdt = ls_slope(st->cap_avh, st->cap_navh, 1e6, 3, 60e6);
    if (now.current_a > 0) now.avg_dv_dah = dvdt / (now.current_a / 3600);
    ow_discharge_t p = st->ev;
    snprintf(p.action, sizeof(p.action), "progress");
    p.duration_s = (double)(at_us - p.start_us) / 1e6;
    p.dod_pct = ow_cap_dod_pct(p.ah_removed, st->cap_c10_ah);
    p.time_to_go_s = ow_cap_time_to_go_s(&m, &now);
    if (sink && sink->progress) sink->progress(ctx, &p, ev_us);
}

/* A capacity test's parameters, whether from a request or a state file. */
static int captest_ok(double rated_h, double end_v_per_cell)
{
    return rated_h > 0 && rated_h <= 1000 && end_v_per_cell > 0 && end_v_per_cell < 5;
}

int ow_diag_captest(ow_diag_t *d, int string, double rated_h, double end_v_per_cell)
{
    if (!d || string < 1 || string > nstrings(d->gw)) return -1;
    if (!captest_ok(rated_h, end_v_per_cell)) return -1;
    str_t *st = &d->str[string];
    st->cap_rated_h = rated_h;
    st->cap_end_v = end_v_per_cell;
    if (st->base == OW_BAT_DISCHARGING) {
        /* tagged after the load came on: the discharge under way is the test */
        st->ev.test = 1;
        st->ev.rated_h = rated_h;
        st->ev.end_v_per_cell = end_v_per_cell;
        snprintf(st->ev.method, sizeof(st->ev.method), "time-adjusted");
        return 0;
    }
    st->cap_armed = 1;
    return 0;
}

/* Take a new base state; first_us is the first reading that showed it (the
 * start of the debounce run), the first_* values that reading's. */
static void take(str_t *st, int s, ow_bat_state_t to, int cur, int64_t first_us, double first_sum_v,
                 double first_vmin, int first_vmin_module, int64_t ts_us,
                 const ow_diag_sink_t *sink, void *ctx)
{
    if (st->base == OW_BAT_DISCHARGING) {
        ow_discharge_t end = st->ev;
        snprintf(end.action, sizeof(end.action), "end");
        end.end_us = first_us;
        end.duration_s = (double)(first_us - end.start_us) / 1e6;
        cap_end(st, &end);
        emit_discharge(sink, ctx, &end, ts_us);
        st->stopped = to != OW_BAT_FLOAT;
    }
    if (to == OW_BAT_FLOAT) st->stopped = 0;
    st->base = to;
    st->pend = OW_BAT_UNKNOWN;
    st->pend_n = 0;
    if (to != OW_BAT_DISCHARGING) return;

    ow_discharge_t *ev = &st->ev;
    memset(ev, 0, sizeof(*ev));
    ev->string = s;
    snprintf(ev->action, sizeof(ev->action), "start");
    snprintf(ev->mode, sizeof(ev->mode), "%s", cur ? "current" : "voltage");
    ev->start_us = first_us;
    ev->ah_removed = cur ? 0 : NAN;
    ev->min_current_a = cur ? st->current_a : NAN;
    ev->min_module = isfinite(first_vmin) ? first_vmin_module : 0;
    ev->min_voltage_v = first_vmin;
    ev->end_voltage_v = first_sum_v;
    st->ah_run = 0;
    st->i_us = cur ? first_us : 0;
    st->i_a = cur ? st->current_a : NAN;
    cap_begin(st, ev);
    emit_discharge(sink, ctx, ev, ts_us);
}

/* Voltage mode: the state the per-cell voltage v (already in vh) shows. */
static ow_bat_state_t volt_state(const str_t *st, double v, const lim_t *l)
{
    if (v >= l->float_v - l->band_v)
        return v > l->float_v + CHG_ABOVE_V ? OW_BAT_CHARGING : OW_BAT_FLOAT;
    double slope = ls_slope(st->vh, st->nvh, 60e6, SLOPE_MIN_N, 0); /* V/cell/min */
    if (isnan(slope)) return st->base == OW_BAT_CHARGING ? OW_BAT_CHARGING : OW_BAT_DISCHARGING;
    return slope > SLOPE_CHG_V_MIN ? OW_BAT_CHARGING : OW_BAT_DISCHARGING;
}

/* ts_us: when the string was read; ev_us: the cycle, for the events */
static void eval_state(ow_diag_t *d, int s, int64_t ts_us, int64_t ev_us, const lim_t *l,
                       const ow_diag_sink_t *sink, void *ctx)
{
    str_t *st = &d->str[s];
    int cur = cur_mode(d, st);
    double v = st->avg_v / l->cells;
    ow_bat_state_t raw = OW_BAT_UNKNOWN;
    int now = 0;

    if (isfinite(v)) {
        prune(st->vh, &st->nvh, ts_us - SLOPE_WIN_US);
        push_point(st->vh, &st->nvh, VHIST_MAX, ts_us, v);
    }
    if (cur) {
        if (st->current_a < -l->dis_a)
            raw = OW_BAT_DISCHARGING;
        else
            raw = st->current_a > l->chg_a ? OW_BAT_CHARGING : OW_BAT_FLOAT;
        /* No current after a discharge is not float while the voltage is
         * well below it: the load stopped (a UPS cut-off) and no charger
         * feeds the string yet; it stays "discharge stopped". */
        if (raw == OW_BAT_FLOAT && st->base != OW_BAT_FLOAT && st->base != OW_BAT_UNKNOWN &&
            isfinite(v) && v < l->float_v - l->band_v)
            raw = OW_BAT_CHARGING;
        now = raw == OW_BAT_DISCHARGING;
    } else if (isfinite(v)) {
        int below = v < l->float_v - l->band_v;
        int sag = isfinite(st->prev_v_cell) && st->prev_v_cell - v > SAG_V_CELL;
        raw = volt_state(st, v, l);
        if (((st->base == OW_BAT_FLOAT || st->base == OW_BAT_UNKNOWN) && (sag || below)) ||
            (st->base == OW_BAT_CHARGING && sag && below)) {
            raw = OW_BAT_DISCHARGING;
            now = 1;
        }
    }
    if (isfinite(v)) st->prev_v_cell = v;
    if (raw == OW_BAT_UNKNOWN) return; /* nothing to decide on this cycle */
    if (st->base == OW_BAT_UNKNOWN) now = 1;
    if (st->base == OW_BAT_DISCHARGING) discharge_track(st, ts_us, raw == OW_BAT_DISCHARGING);

    if (raw == st->base) {
        st->pend = OW_BAT_UNKNOWN;
        st->pend_n = 0;
    } else if (now) {
        take(st, s, raw, cur, ts_us, st->sum_v, st->vmin, st->vmin_module, ev_us, sink, ctx);
    } else {
        if (raw != st->pend) {
            st->pend = raw;
            st->pend_n = 0;
            st->pend_us = ts_us;
            st->pend_sum_v = st->sum_v;
            st->pend_vmin = NAN;
            st->pend_vmin_module = 0;
        }
        st->pend_n++;
        if (isfinite(st->vmin) && (!isfinite(st->pend_vmin) || st->vmin < st->pend_vmin)) {
            st->pend_vmin = st->vmin;
            st->pend_vmin_module = st->vmin_module;
        }
        if (st->pend_n >= DEBOUNCE_N)
            take(st, s, raw, cur, st->pend_us, st->pend_sum_v, st->pend_vmin, st->pend_vmin_module,
                 ev_us, sink, ctx);
    }
}

/* ---- settled float and the float current ---- */

static double v_cell(const str_t *st, const lim_t *l)
{
    return st->avg_v / l->cells;
}

static int boosting(const str_t *st, const lim_t *l)
{
    double v = v_cell(st, l);
    return isfinite(v) && v > l->float_v + CHG_ABOVE_V;
}

static double lof_level(const str_t *st, const lim_t *l);

/* A string is on settled float once it has floated (or charged at float
 * voltage: a rising float current) for FLOAT_SETTLE_US since alarmd first
 * saw it or since its last recharge ended; a discharge, its recharge or a
 * boost charge unsettle it. Impedance waits IMP_SETTLE_US after a discharge
 * (the polarisation and the warming of the discharge fade over hours). */
static void eval_settle(ow_diag_t *d, int s, int64_t ts_us, const lim_t *l)
{
    str_t *st = &d->str[s];
    ow_bat_state_t rep = reported(st);
    if (rep == OW_BAT_DISCHARGING || rep == OW_BAT_DISCHARGE_STOPPED) {
        st->settle_us = 0;
        st->settle_dis = 1;
    } else if (boosting(st, l)) {
        st->settle_us = 0;
    } else if ((rep == OW_BAT_FLOAT || rep == OW_BAT_CHARGING) && !st->settle_us) {
        st->settle_us = ts_us;
    }
    int64_t on = st->settle_us ? ts_us - st->settle_us : -1;
    st->settled = on >= FLOAT_SETTLE_US;
    if (on >= IMP_SETTLE_US) st->settle_dis = 0;
    st->imp_ok = st->settled && rep == OW_BAT_FLOAT &&
                 on >= (st->settle_dis ? IMP_SETTLE_US : FLOAT_SETTLE_US);

    /* The float current a healthy string draws here, learnt on settled
     * float: it follows a fall within the hour and a rise only over a week,
     * so a runaway's rising current is judged against the level before it. */
    /* The float voltage the charger holds: a charger may be set anywhere in
     * the maker's band, so loss of float is judged against what it does. */
    double v = v_cell(st, l);
    if (st->settled && rep == OW_BAT_FLOAT && isfinite(v) && v >= lof_level(st, l)) {
        double a = st->ibase_us && ts_us > st->ibase_us
                       ? 1 - exp(-(double)(ts_us - st->ibase_us) / IBASE_DOWN_US)
                       : 1;
        st->vbase = isnan(st->vbase) ? v : st->vbase + a * (v - st->vbase);
    }
    if (!cur_mode(d, st) || !st->settled || rep != OW_BAT_FLOAT || st->current_a < 0) {
        if (st->settled && rep == OW_BAT_FLOAT) st->ibase_us = ts_us;
        return;
    }
    if (isnan(st->ibase)) {
        /* starts at the reading, but at most twice the chemistry's typical
         * float current, so a string that is already high is not learnt */
        st->ibase = fmin(st->current_a, 2 * l->chem->float_ma_per_ah / 1000 * l->c10);
    } else if (ts_us > st->ibase_us) {
        double tau = st->current_a < st->ibase ? IBASE_DOWN_US : IBASE_UP_US;
        double a = 1 - exp(-(double)(ts_us - st->ibase_us) / tau);
        st->ibase += a * (st->current_a - st->ibase);
    }
    st->ibase_us = ts_us;
}

/* ---- float conditions ---- */

/* No charger holds the string: not charging, not discharging, and its voltage
 * has left the float voltage downwards (current sensor needed: without one a
 * falling voltage reads as a discharge). After a discharge, until float is
 * reached again, alarm 25 (discharging stopped) already says the battery is
 * not being charged: judged from float or charge only, so an outage that
 * outlasts the UPS raises one alarm, not two. */
/* The voltage below which no charger holds the string: the learnt float
 * voltage, or before it is known the lower of the setting and the
 * chemistry's band, less loss_of_float_v_per_cell. */
static double lof_level(const str_t *st, const lim_t *l)
{
    double f = isfinite(st->vbase) ? st->vbase : fmin(l->float_v, l->chem->float_min_v);
    return f - l->lof_v;
}

static int lost_float(const ow_diag_t *d, const str_t *st, const lim_t *l)
{
    double v = v_cell(st, l);
    ow_bat_state_t rep = reported(st);
    if (!cur_mode(d, st) || !isfinite(v) || rep == OW_BAT_DISCHARGING ||
        rep == OW_BAT_DISCHARGE_STOPPED)
        return 0;
    return v < lof_level(st, l) && st->current_a > -l->dis_a && st->current_a < l->chg_a;
}

/* Something connects the string: a charger holds it or a load draws on it. */
static int held(const ow_diag_t *d, const str_t *st, const lim_t *l)
{
    double v = v_cell(st, l);
    if (cur_mode(d, st) && (st->current_a < -l->dis_a || st->current_a > l->chg_a)) return 1;
    return isfinite(v) && v >= lof_level(st, l);
}

static void cond_set(str_t *st, int k, int raw, int64_t ts_us, double value, double level)
{
    ow_diag_flag_t *c = &st->c[k];
    if (!raw) {
        st->c_since[k] = 0;
        c->on = 0;
        return;
    }
    if (!st->c_since[k]) st->c_since[k] = ts_us;
    c->value = value;
    c->level = level;
    if (ts_us - st->c_since[k] >= cond_delay_us[k]) c->on = 1;
}

static void eval_conds(ow_diag_t *d, int64_t ts_us, const lim_t *l)
{
    int ns = nstrings(d->gw), any_held = 0, lost[OW_MAX_STRINGS + 1] = {0};
    for (int s = 1; s <= ns; s++) {
        str_t *st = &d->str[s];
        if (!st->have_str) continue;
        lost[s] = lost_float(d, st, l);
        if (!lost[s] && held(d, st, l)) any_held = 1;
    }
    for (int s = 1; s <= ns; s++) {
        str_t *st = &d->str[s];
        if (!st->have_str) continue; /* no reading: keep what shows */
        int64_t at = st->rd_us ? st->rd_us : ts_us;
        double v = v_cell(st, l), lof = lof_level(st, l);
        cond_set(st, OW_COND_OPEN_STRING, lost[s] && any_held, at, v, lof);
        cond_set(st, OW_COND_LOSS_OF_FLOAT, lost[s] && !any_held, at, v, lof);

        /* The chemistry's band is for 25 degC; it moves with temperature as a
         * compensated charger's setting does. */
        double t = st->ntemp ? st->tsum / st->ntemp : 25;
        double tc = l->chem->tcomp_mv_per_c / 1000 * (t - 25);
        double lo = l->chem->float_min_v + tc, hi = l->chem->float_max_v + tc;
        int on_float = st->settled && reported(st) == OW_BAT_FLOAT && isfinite(v);
        cond_set(st, OW_COND_FLOAT_BAND, on_float && (v < lo || v > hi), at, v, v < lo ? lo : hi);

        double typ = l->chem->float_ma_per_ah / 1000 * l->c10;
        double fc = fmax(FC_MIN_A, l->fc_x * (isfinite(st->ibase) ? st->ibase : typ));
        int fc_raw = st->settled && cur_mode(d, st) && !boosting(st, l) &&
                     (reported(st) == OW_BAT_FLOAT || reported(st) == OW_BAT_CHARGING) &&
                     st->current_a > fc;
        cond_set(st, OW_COND_FLOAT_CURRENT, fc_raw, at, st->current_a, fc);

        int rip = l->ripple_a > 0 && isfinite(st->ac_a) && reported(st) != OW_BAT_DISCHARGING &&
                  st->ac_a > l->ripple_a;
        cond_set(st, OW_COND_RIPPLE, rip, at, st->ac_a, l->ripple_a);
    }
}

/* ---- thermal runaway ---- */

static void eval_tr(ow_diag_t *d, int s, int64_t ts_us, const lim_t *l)
{
    str_t *st = &d->str[s];
    if (!st->ntemp) return; /* no temperature this cycle: keep everything */

    double dmod = st->tmax - st->tmin;
    double damb = isfinite(d->ambient_c) ? st->tmax - d->ambient_c : NAN;
    int hot = dmod > l->tr_mod_c || damb > l->tr_amb_c;
    int feeding;
    prune(st->hot, &st->nhot, ts_us - l->tr_sustain_us);
    prune(st->ih, &st->nih, ts_us - l->tr_sustain_us);
    if (cur_mode(d, st)) {
        /* Float current far above the string's own float level and rising
         * (a recharge's current falls; a runaway's climbs, then stays at the
         * charger's limit: so rising to start, not falling to hold). */
        double lvl = l->tr_cur_a;
        if (isfinite(st->ibase)) lvl = fmin(lvl, fmax(FC_MIN_A, TR_BASE_X * st->ibase));
        double i0 = st->nih ? st->ih[0].v : NAN, i = st->current_a;
        int rising = st->nih && i - i0 > fmax(TR_RISE_FRAC * fabs(i0), TR_RISE_MIN_A);
        int falling = st->nih && i < i0 * (1 - TR_FALL_FRAC);
        feeding = i > lvl && (st->tr_holding || st->tr ? !falling : rising);
    } else { /* rising temperature stands in for rising float current: compare
              * with the oldest sample within the last tr_sustain_s */
        feeding = st->nhot > 0 && st->tmax - st->hot[0].v >= TR_RISE_C;
    }
    if (!st->nhot || ts_us - st->hot[st->nhot - 1].ts_us >= l->tr_sustain_us / HOT_STEPS)
        push_point(st->hot, &st->nhot, HOT_MAX, ts_us, st->tmax);
    if (cur_mode(d, st) &&
        (!st->nih || ts_us - st->ih[st->nih - 1].ts_us >= l->tr_sustain_us / HOT_STEPS))
        push_point(st->ih, &st->nih, HOT_MAX, ts_us, st->current_a);

    /* Only on settled float at float voltage: a recharge (DISCHARGE_STOPPED)
     * or a boost charge warms the blocks and draws current by design. */
    int c = hot && feeding && st->settled && !boosting(st, l);
    if (c) {
        if (!st->tr_holding) st->tr_since_us = ts_us;
        st->tr_holding = 1;
        if (!st->tr && ts_us - st->tr_since_us >= l->tr_sustain_us) {
            st->tr = 1;
            st->tr_value = dmod > l->tr_mod_c ? dmod : damb;
        }
    } else {
        st->tr_holding = 0;
        st->tr_since_us = 0;
        if (st->tr && dmod < l->tr_mod_c - TR_HYST_C &&
            (isnan(damb) || damb < l->tr_amb_c - TR_HYST_C)) {
            st->tr = 0;
            st->tr_value = 0;
        }
    }
}

/* ---- impedance baseline ---- */

static void eval_baseline(ow_diag_t *d, int m, const lim_t *l, const ow_diag_sink_t *sink,
                          void *ctx)
{
    mod_t *md = &d->mod[m];
    int s = module_string(d->gw, m);
    md->fresh = 0;
    if (!s) return;
    /* IEEE 1188: ohmic values are compared under the same conditions, on
     * float; a reading during or after a discharge and its recharge is high
     * (polarisation, temperature) and is not compared. The value compared is
     * normalised to 25 degC by the block's own temperature. */
    double t = md->fresh_temp_c;
    if (!d->str[s].imp_ok || !isfinite(t) || t < IMP_T_MIN_C || t > IMP_T_MAX_C) return;
    double r25 = md->fresh_mohm / (1 + IMP_TC_PER_C * (t - 25));
    if (isnan(md->base_mohm)) {
        md->learn[md->nlearn++] = r25;
        if (md->nlearn == LEARN_N) {
            double sum = 0;
            for (int i = 0; i < LEARN_N; i++)
                sum += md->learn[i];
            md->base_mohm = sum / LEARN_N;
            md->nlearn = 0;
        }
        return;
    }
    ow_baseline_t b = {.string = s, .module = m};
    b.baseline_mohm = md->base_mohm;
    b.impedance_mohm = md->fresh_mohm;
    b.deviation_pct = (r25 - md->base_mohm) / md->base_mohm * 100;
    md->dev_pct = b.deviation_pct;
    push_point(md->trend, &md->ntrend, TREND_MAX, md->fresh_us, b.deviation_pct);
    /* A trend and its date only when they are known: enough readings over
     * enough days, and a slope whose standard error is a small part of it
     * (then the date is good to about +-2 x TREND_REL_SE). Noise on a flat
     * trend would otherwise draw dates out of nothing. */
    double slope = 0, se = 0, fit = 0;
    b.slope_pct_per_year = NAN;
    b.alarm_at_us = 0;
    if (md->ntrend >= TREND_MIN_N &&
        (double)(md->trend[md->ntrend - 1].ts_us - md->trend[0].ts_us) >= TREND_SPAN_US &&
        ls_fit(md->trend, md->ntrend, YEAR_US, &slope, &se, &fit) == 0 && slope > 0 &&
        se < TREND_REL_SE * slope)
        b.slope_pct_per_year = slope;
    if (b.deviation_pct >= l->alarm_pct)
        b.alarm_at_us = md->fresh_us;
    else if (b.slope_pct_per_year > 0)
        b.alarm_at_us = md->fresh_us + (int64_t)llround((l->alarm_pct - fit) / slope * YEAR_US);
    if (sink && sink->baseline) sink->baseline(ctx, &b, md->fresh_us);
}

/* ---- the cycle ---- */

void ow_diag_cycle(ow_diag_t *d, int64_t ts_us, const ow_diag_sink_t *sink, void *ctx)
{
    if (!d) return;
    lim_t l;
    limits(d->gw, &l);
    int ns = nstrings(d->gw);
    for (int s = 1; s <= ns; s++) {
        str_t *st = &d->str[s];
        int64_t at_us = st->rd_us ? st->rd_us : ts_us;
        /* the battery before the states: a discharge's start needs its C10
         * (after a restart the first cycle would have none) */
        st->cap_c10_ah = d->gw->battery.capacity_ah;
        st->cap_cells = d->gw->module_type ? (int)lround(d->gw->module_type->nominal_v / 2) : 6;
        if (st->have_str) eval_state(d, s, at_us, ts_us, &l, sink, ctx);
        if (st->have_str) eval_settle(d, s, at_us, &l);
        if (st->have_str) cap_track(d, s, at_us, ts_us, sink, ctx);
        if (st->have_mod) st->equalizing = st->eq;
        eval_tr(d, s, at_us, &l);
    }
    int dis = 0;
    for (int s = 1; s <= ns; s++)
        dis |= d->str[s].base == OW_BAT_DISCHARGING;
    if (dis && !d->discharging) d->discharges++;
    d->discharging = dis;
    eval_conds(d, ts_us, &l);
    for (int m = 1; m <= OW_MAX_MODULES; m++)
        if (d->mod[m].fresh) eval_baseline(d, m, &l, sink, ctx);
    for (int s = 0; s <= OW_MAX_STRINGS; s++)
        clear_cycle(&d->str[s]);
    d->ambient_c = NAN;
}

void ow_diag_status(const ow_diag_t *d, ow_diag_status_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!d) return;
    int ns = nstrings(d->gw);
    for (int s = 1; s <= ns; s++) {
        const str_t *st = &d->str[s];
        out->state[s] = reported(st);
        out->equalizing[s] = st->equalizing;
        out->thermal_runaway[s] = st->tr;
        out->tr_value[s] = st->tr_value;
        out->settled[s] = st->settled;
        out->float_current_a[s] = st->ibase;
        memcpy(out->cond[s], st->c, sizeof st->c);
        /* The module equalizers work on charge and float only (the
         * simulator's too): a discharge pauses them until the charger is
         * back. Equalizing paused is the webmanager's one value for it. */
        if (out->state[s] == OW_BAT_DISCHARGING) out->eq_paused = 1;
    }
    out->discharges = d->discharges;
}

int ow_diag_set_baseline(ow_diag_t *d, int module, double mohm)
{
    if (!d || !module_string(d->gw, module)) return -1;
    if (!isnan(mohm) && !(isfinite(mohm) && mohm > 0)) return -1;
    mod_t *md = &d->mod[module];
    /* deviations against another baseline are not comparable: a new trend */
    md->base_mohm = mohm;
    md->nlearn = 0;
    md->ntrend = 0;
    md->dev_pct = NAN;
    return 0;
}

double ow_diag_baseline(const ow_diag_t *d, int module)
{
    if (!d || !module_string(d->gw, module)) return NAN;
    return d->mod[module].base_mohm;
}

double ow_diag_deviation_pct(const ow_diag_t *d, int module)
{
    if (!d || !module_string(d->gw, module)) return NAN;
    return d->mod[module].dev_pct;
}

/* ---- persistence ---- */

static const char *const state_names[] = {"unknown", "float", "charging", "discharging",
                                          "discharge_stopped"};

static json_t *jpoints(const point_t *p, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a,
                              json_pack("[I o]", (json_int_t)p[i].ts_us, ow_jfield_jnum(p[i].v)));
    return a;
}

static json_t *save_string(const str_t *st, int s)
{
    json_t *o = json_object();
    json_object_set_new(o, "string", json_integer(s));
    json_object_set_new(o, "base", json_string(state_names[st->base]));
    json_object_set_new(o, "stopped", json_boolean(st->stopped));
    json_object_set_new(o, "pending", json_string(state_names[st->pend]));
    json_object_set_new(o, "pending_n", json_integer(st->pend_n));
    json_object_set_new(o, "pending_us", json_integer(st->pend_us));
    json_object_set_new(o, "pending_sum_v", ow_jfield_jnum(st->pend_sum_v));
    json_object_set_new(o, "pending_min_v", ow_jfield_jnum(st->pend_vmin));
    json_object_set_new(o, "pending_min_module", json_integer(st->pend_vmin_module));
    json_object_set_new(o, "prev_v_cell", ow_jfield_jnum(st->prev_v_cell));
    json_object_set_new(o, "vhist", jpoints(st->vh, st->nvh));
    json_object_set_new(o, "equalizing", json_boolean(st->equalizing));
    if (st->base == OW_BAT_DISCHARGING) {
        const ow_discharge_t *e = &st->ev;
        json_t *j = json_object();
        json_object_set_new(j, "mode", json_string(e->mode));
        json_object_set_new(j, "start_us", json_integer(e->start_us));
        json_object_set_new(j, "ah_removed", ow_jfield_jnum(e->ah_removed));
        json_object_set_new(j, "ah_run", ow_jfield_jnum(st->ah_run));
        json_object_set_new(j, "i_us", json_integer(st->i_us));
        json_object_set_new(j, "i_a", ow_jfield_jnum(st->i_a));
        json_object_set_new(j, "min_current_a", ow_jfield_jnum(e->min_current_a));
        json_object_set_new(j, "min_module", json_integer(e->min_module));
        json_object_set_new(j, "min_voltage_v", ow_jfield_jnum(e->min_voltage_v));
        json_object_set_new(j, "end_voltage_v", ow_jfield_jnum(e->end_voltage_v));
        json_object_set_new(j, "test", json_boolean(e->test));
        json_object_set_new(j, "rated_h", ow_jfield_jnum(e->rated_h));
        json_object_set_new(j, "end_v_per_cell", ow_jfield_jnum(e->end_v_per_cell));
        json_object_set_new(j, "temp_c", ow_jfield_jnum(e->temp_c));
        json_object_set_new(o, "discharge", j);
    } else {
        json_object_set_new(o, "discharge", json_null());
    }
    json_t *tr = json_object();
    json_object_set_new(tr, "holding", json_boolean(st->tr_holding));
    json_object_set_new(tr, "since_us", json_integer(st->tr_since_us));
    json_object_set_new(tr, "active", json_boolean(st->tr));
    json_object_set_new(tr, "value", ow_jfield_jnum(st->tr_value));
    json_object_set_new(tr, "hot", jpoints(st->hot, st->nhot));
    json_object_set_new(o, "tr", tr);
    json_t *fl = json_object(), *conds = json_array();
    json_object_set_new(fl, "settle_us", json_integer(st->settle_us));
    json_object_set_new(fl, "after_discharge", json_boolean(st->settle_dis));
    json_object_set_new(fl, "current_a", ow_jfield_jnum(st->ibase));
    json_object_set_new(fl, "current_us", json_integer(st->ibase_us));
    json_object_set_new(fl, "voltage_v", ow_jfield_jnum(st->vbase));
    json_object_set_new(fl, "currents", jpoints(st->ih, st->nih));
    for (int k = 0; k < OW_COND_COUNT; k++)
        json_array_append_new(conds,
                              json_pack("{s:I s:b s:o s:o}", "since_us", (json_int_t)st->c_since[k],
                                        "on", st->c[k].on, "value", ow_jfield_jnum(st->c[k].value),
                                        "level", ow_jfield_jnum(st->c[k].level)));
    json_object_set_new(fl, "conditions", conds);
    json_object_set_new(o, "float", fl);
    json_object_set_new(o, "captest",
                        json_pack("{s:b s:o s:o}", "armed", st->cap_armed, "rated_h",
                                  ow_jfield_jnum(st->cap_rated_h), "end_v_per_cell",
                                  ow_jfield_jnum(st->cap_end_v)));
    /* The cycle under way: the state file is written between heartbeats, and
     * the readings before the resume position are not delivered again. Without
     * them the first cycle after a restart judges blocks that discharge against
     * a string still on float (a false equalizing alarm, a discharge a cycle late). */
    json_t *cy = json_object();
    json_object_set_new(cy, "have_string", json_boolean(st->have_str));
    json_object_set_new(cy, "have_module", json_boolean(st->have_mod));
    json_object_set_new(cy, "read_us", json_integer(st->rd_us));
    json_object_set_new(cy, "current_a", ow_jfield_jnum(st->current_a));
    json_object_set_new(cy, "ac_a", ow_jfield_jnum(st->ac_a));
    json_object_set_new(cy, "sum_v", ow_jfield_jnum(st->sum_v));
    json_object_set_new(cy, "avg_v", ow_jfield_jnum(st->avg_v));
    json_object_set_new(cy, "min_v", ow_jfield_jnum(st->vmin));
    json_object_set_new(cy, "min_module", json_integer(st->vmin_module));
    json_object_set_new(cy, "temps", json_integer(st->ntemp));
    json_object_set_new(cy, "temp_max_c", ow_jfield_jnum(st->tmax));
    json_object_set_new(cy, "temp_min_c", ow_jfield_jnum(st->tmin));
    json_object_set_new(cy, "temp_sum_c", ow_jfield_jnum(st->tsum));
    json_object_set_new(cy, "equalizing", json_boolean(st->eq));
    json_object_set_new(o, "cycle", cy);
    return o;
}

json_t *ow_diag_save(const ow_diag_t *d)
{
    if (!d) return NULL;
    json_t *root = json_object(), *strs = json_array(), *mods = json_array();
    json_object_set_new(root, "version", json_integer(SAVE_VERSION));
    json_object_set_new(root, "ambient_c", ow_jfield_jnum(d->ambient_c));
    json_object_set_new(root, "discharges", json_integer(d->discharges));
    for (int s = 1; s <= nstrings(d->gw); s++)
        json_array_append_new(strs, save_string(&d->str[s], s));
    for (int m = 1; m <= OW_MAX_MODULES; m++) {
        const mod_t *md = &d->mod[m];
        if (isnan(md->base_mohm) && !md->nlearn && !md->ntrend && isnan(md->dev_pct) && !md->fresh)
            continue;
        json_t *o = json_object(), *learn = json_array();
        for (int i = 0; i < md->nlearn; i++)
            json_array_append_new(learn, json_real(md->learn[i]));
        json_object_set_new(o, "module", json_integer(m));
        json_object_set_new(o, "baseline_mohm", ow_jfield_jnum(md->base_mohm));
        json_object_set_new(o, "learn", learn);
        json_object_set_new(o, "trend", jpoints(md->trend, md->ntrend));
        json_object_set_new(o, "deviation_pct", ow_jfield_jnum(md->dev_pct));
        json_object_set_new(o, "fresh",
                            md->fresh ? json_pack("{s:I s:o s:o}", "us", (json_int_t)md->fresh_us,
                                                  "mohm", ow_jfield_jnum(md->fresh_mohm), "temp_c",
                                                  ow_jfield_jnum(md->fresh_temp_c))
                                      : json_null());
        json_array_append_new(mods, o);
    }
    json_object_set_new(root, "strings", strs);
    json_object_set_new(root, "modules", mods);
    return root;
}

/* Reading back: every field is required and checked; the first problem is
 * reported as "PATH: reason" by the strict readers of ow_jfield.h. */
static int rd_small(ow_jfield_t *r, const json_t *o, const char *key, int min, int max, int *out)
{
    int64_t x;
    if (ow_jfield_int(r, o, key, min, max, &x)) return -1;
    *out = (int)x;
    return 0;
}

static int rd_state(ow_jfield_t *r, const json_t *o, const char *key, int allow_stopped,
                    ow_bat_state_t *out)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (!v) return ow_jfield_fail(r, key, "expected a state name");
    for (int i = 0; i <= (allow_stopped ? OW_BAT_DISCHARGE_STOPPED : OW_BAT_DISCHARGING); i++)
        if (strcmp(v, state_names[i]) == 0) {
            *out = (ow_bat_state_t)i;
            return 0;
        }
    return ow_jfield_fail(r, key, "unknown state '%s'", v);
}

static int rd_points(ow_jfield_t *r, const json_t *o, const char *key, point_t *p, int max, int *n)
{
    json_t *a = json_object_get(o, key);
    if (!json_is_array(a)) return ow_jfield_fail(r, key, "expected an array");
    if (json_array_size(a) > (size_t)max) return ow_jfield_fail(r, key, "more than %d points", max);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *e = json_array_get(a, i);
        json_t *t = json_array_get(e, 0), *v = json_array_get(e, 1);
        if (!json_is_array(e) || json_array_size(e) != 2 || !json_is_integer(t) ||
            !(json_is_number(v) || json_is_null(v)))
            return ow_jfield_fail(r, key, "point %zu: expected [ts_us, value]", i);
    }
    /* Read as they were pushed: a file written before push_point kept the
     * order across a clock step loads with the same points dropped. */
    *n = 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *e = json_array_get(a, i), *v = json_array_get(e, 1);
        push_point(p, n, max, json_integer_value(json_array_get(e, 0)),
                   json_is_null(v) ? NAN : json_number_value(v));
    }
    return 0;
}

static int load_discharge(ow_jfield_t *r, const json_t *j, str_t *st, int s, int nmod, int ver)
{
    ow_discharge_t *e = &st->ev;
    const char *mode = json_string_value(json_object_get(j, "mode"));
    memset(e, 0, sizeof(*e));
    if (!mode || (strcmp(mode, "current") && strcmp(mode, "voltage")))
        return ow_jfield_fail(r, "mode", "expected \"current\" or \"voltage\"");
    e->string = s;
    snprintf(e->action, sizeof(e->action), "start");
    snprintf(e->mode, sizeof(e->mode), "%s", mode);
    if (ow_jfield_int(r, j, "start_us", INT64_MIN, INT64_MAX, &e->start_us) ||
        ow_jfield_num(r, j, "ah_removed", &e->ah_removed) ||
        ow_jfield_num(r, j, "ah_run", &st->ah_run) ||
        ow_jfield_int(r, j, "i_us", INT64_MIN, INT64_MAX, &st->i_us) ||
        ow_jfield_num(r, j, "i_a", &st->i_a) ||
        ow_jfield_num(r, j, "min_current_a", &e->min_current_a) ||
        rd_small(r, j, "min_module", 0, nmod, &e->min_module) ||
        ow_jfield_num(r, j, "min_voltage_v", &e->min_voltage_v) ||
        ow_jfield_num(r, j, "end_voltage_v", &e->end_voltage_v))
        return -1;
    e->rated_h = e->end_v_per_cell = e->temp_c = NAN;
    e->capacity_pct = e->time_to_go_s = NAN;
    e->dod_pct = NAN;      /* worked out at the next progress and at the end */
    if (ver < 3) return 0; /* version 2 kept no test: the discharge goes on as an outage */
    if (ow_jfield_bool(r, j, "test", &e->test) || ow_jfield_num(r, j, "rated_h", &e->rated_h) ||
        ow_jfield_num(r, j, "end_v_per_cell", &e->end_v_per_cell) ||
        ow_jfield_num(r, j, "temp_c", &e->temp_c))
        return -1;
    if (e->test && !captest_ok(e->rated_h, e->end_v_per_cell))
        return ow_jfield_fail(r, "", "a test needs rated_h 0..1000 and end_v_per_cell 0..5");
    snprintf(e->method, sizeof(e->method), "%s", e->test ? "time-adjusted" : "");
    return 0;
}

/* Version 3: the capacity-test tag and the cycle under way (see save_string). */
static int load_cycle(ow_jfield_t *r, const json_t *o, str_t *st, int nmod)
{
    const json_t *ct = json_object_get(o, "captest"), *cy = json_object_get(o, "cycle");
    if (!json_is_object(ct)) return ow_jfield_fail(r, "captest", "expected an object");
    if (!json_is_object(cy)) return ow_jfield_fail(r, "cycle", "expected an object");
    size_t n = strlen(r->where);
    snprintf(r->where + n, sizeof(r->where) - n, ".captest");
    if (ow_jfield_bool(r, ct, "armed", &st->cap_armed) ||
        ow_jfield_num(r, ct, "rated_h", &st->cap_rated_h) ||
        ow_jfield_num(r, ct, "end_v_per_cell", &st->cap_end_v))
        return -1;
    if (st->cap_armed && !captest_ok(st->cap_rated_h, st->cap_end_v))
        return ow_jfield_fail(r, "", "an armed test needs rated_h 0..1000 and end_v_per_cell 0..5");
    snprintf(r->where + n, sizeof(r->where) - n, ".cycle");
    if (ow_jfield_bool(r, cy, "have_string", &st->have_str) ||
        ow_jfield_bool(r, cy, "have_module", &st->have_mod) ||
        ow_jfield_int(r, cy, "read_us", 0, INT64_MAX, &st->rd_us) ||
        ow_jfield_num(r, cy, "current_a", &st->current_a) ||
        ow_jfield_num(r, cy, "ac_a", &st->ac_a) || ow_jfield_num(r, cy, "sum_v", &st->sum_v) ||
        ow_jfield_num(r, cy, "avg_v", &st->avg_v) || ow_jfield_num(r, cy, "min_v", &st->vmin) ||
        rd_small(r, cy, "min_module", 0, nmod, &st->vmin_module) ||
        rd_small(r, cy, "temps", 0, nmod, &st->ntemp) ||
        ow_jfield_num(r, cy, "temp_max_c", &st->tmax) ||
        ow_jfield_num(r, cy, "temp_min_c", &st->tmin) ||
        ow_jfield_num(r, cy, "temp_sum_c", &st->tsum) ||
        ow_jfield_bool(r, cy, "equalizing", &st->eq))
        return -1;
    if (st->ntemp && !isfinite(st->tsum))
        return ow_jfield_fail(r, "temp_sum_c", "expected a number");
    r->where[n] = 0;
    return 0;
}

static int load_float(ow_jfield_t *r, const json_t *fl, str_t *st)
{
    if (!json_is_object(fl)) return ow_jfield_fail(r, "float", "expected an object");
    size_t n = strlen(r->where);
    snprintf(r->where + n, sizeof(r->where) - n, ".float");
    if (ow_jfield_int(r, fl, "settle_us", 0, INT64_MAX, &st->settle_us) ||
        ow_jfield_bool(r, fl, "after_discharge", &st->settle_dis) ||
        ow_jfield_num(r, fl, "current_a", &st->ibase) ||
        ow_jfield_int(r, fl, "current_us", 0, INT64_MAX, &st->ibase_us) ||
        ow_jfield_num(r, fl, "voltage_v", &st->vbase) ||
        rd_points(r, fl, "currents", st->ih, HOT_MAX, &st->nih))
        return -1;
    const json_t *conds = json_object_get(fl, "conditions");
    if (!json_is_array(conds) || json_array_size(conds) != OW_COND_COUNT)
        return ow_jfield_fail(r, "conditions", "expected an array of %d conditions", OW_COND_COUNT);
    for (int k = 0; k < OW_COND_COUNT; k++) {
        const json_t *c = json_array_get(conds, (size_t)k);
        if (!json_is_object(c)) return ow_jfield_fail(r, "conditions", "%d: expected an object", k);
        if (ow_jfield_int(r, c, "since_us", 0, INT64_MAX, &st->c_since[k]) ||
            ow_jfield_bool(r, c, "on", &st->c[k].on) ||
            ow_jfield_num(r, c, "value", &st->c[k].value) ||
            ow_jfield_num(r, c, "level", &st->c[k].level))
            return -1;
    }
    r->where[n] = 0;
    return 0;
}

static int load_string(ow_jfield_t *r, const json_t *o, str_t *st, int s, int ver)
{
    const json_t *dj, *tr;
    if (rd_state(r, o, "base", 0, &st->base) || ow_jfield_bool(r, o, "stopped", &st->stopped) ||
        rd_state(r, o, "pending", 0, &st->pend) ||
        rd_small(r, o, "pending_n", 0, DEBOUNCE_N - 1, &st->pend_n) ||
        ow_jfield_int(r, o, "pending_us", INT64_MIN, INT64_MAX, &st->pend_us) ||
        ow_jfield_num(r, o, "pending_sum_v", &st->pend_sum_v) ||
        ow_jfield_num(r, o, "pending_min_v", &st->pend_vmin) ||
        rd_small(r, o, "pending_min_module", 0, OW_MAX_MODULES, &st->pend_vmin_module) ||
        ow_jfield_num(r, o, "prev_v_cell", &st->prev_v_cell) ||
        rd_points(r, o, "vhist", st->vh, VHIST_MAX, &st->nvh) ||
        ow_jfield_bool(r, o, "equalizing", &st->equalizing))
        return -1;

    dj = json_object_get(o, "discharge");
    if (!dj) return ow_jfield_fail(r, "discharge", "missing");
    if (st->base == OW_BAT_DISCHARGING) {
        if (!json_is_object(dj)) return ow_jfield_fail(r, "discharge", "expected an object");
        size_t n = strlen(r->where);
        snprintf(r->where + n, sizeof(r->where) - n, ".discharge");
        if (load_discharge(r, dj, st, s, OW_MAX_MODULES, ver)) return -1;
        r->where[n] = 0;
    } else if (!json_is_null(dj)) {
        return ow_jfield_fail(r, "discharge", "expected null when not discharging");
    }

    tr = json_object_get(o, "tr");
    if (!json_is_object(tr)) return ow_jfield_fail(r, "tr", "expected an object");
    size_t n = strlen(r->where);
    snprintf(r->where + n, sizeof(r->where) - n, ".tr");
    if (ow_jfield_bool(r, tr, "holding", &st->tr_holding) ||
        ow_jfield_int(r, tr, "since_us", INT64_MIN, INT64_MAX, &st->tr_since_us) ||
        ow_jfield_bool(r, tr, "active", &st->tr) || ow_jfield_num(r, tr, "value", &st->tr_value) ||
        rd_points(r, tr, "hot", st->hot, HOT_MAX, &st->nhot))
        return -1;
    r->where[n] = 0;
    /* version 1 had no float state: it starts unsettled, as after a start */
    if (ver >= 2 && load_float(r, json_object_get(o, "float"), st)) return -1;
    return ver >= 3 ? load_cycle(r, o, st, OW_MAX_MODULES) : 0;
}

static int load_module(ow_jfield_t *r, const json_t *o, mod_t *md, int ver)
{
    json_t *learn = json_object_get(o, "learn");
    if (ow_jfield_num(r, o, "baseline_mohm", &md->base_mohm) ||
        rd_points(r, o, "trend", md->trend, TREND_MAX, &md->ntrend) ||
        ow_jfield_num(r, o, "deviation_pct", &md->dev_pct))
        return -1;
    if (!isnan(md->base_mohm) && !(isfinite(md->base_mohm) && md->base_mohm > 0))
        return ow_jfield_fail(r, "baseline_mohm", "must be positive or null");
    if (!json_is_array(learn) || json_array_size(learn) >= LEARN_N)
        return ow_jfield_fail(r, "learn", "expected an array of fewer than %d numbers", LEARN_N);
    md->nlearn = (int)json_array_size(learn);
    for (int i = 0; i < md->nlearn; i++) {
        json_t *v = json_array_get(learn, (size_t)i);
        if (!json_is_number(v) || !(json_number_value(v) > 0))
            return ow_jfield_fail(r, "learn", "expected positive numbers");
        md->learn[i] = json_number_value(v);
    }
    if (ver < 3) return 0;
    const json_t *fr = json_object_get(o, "fresh");
    if (!fr) return ow_jfield_fail(r, "fresh", "missing");
    if (json_is_null(fr)) return 0;
    if (!json_is_object(fr)) return ow_jfield_fail(r, "fresh", "expected an object or null");
    if (ow_jfield_int(r, fr, "us", INT64_MIN, INT64_MAX, &md->fresh_us) ||
        ow_jfield_num(r, fr, "mohm", &md->fresh_mohm) ||
        ow_jfield_num(r, fr, "temp_c", &md->fresh_temp_c))
        return -1;
    if (!(isfinite(md->fresh_mohm) && md->fresh_mohm > 0))
        return ow_jfield_fail(r, "fresh", "mohm must be positive");
    md->fresh = 1;
    return 0;
}

int ow_diag_load(ow_diag_t *d, const json_t *j, char *err, size_t errlen)
{
    ow_jfield_t r = {.err = err, .errlen = errlen, .where = ""};
    int64_t ver;
    if (!d) return -1;
    if (!json_is_object(j)) return ow_jfield_fail(&r, "", "expected a JSON object");
    if (ow_jfield_int(&r, j, "version", 1, SAVE_VERSION, &ver)) return -1;
    const json_t *strs = json_object_get(j, "strings"), *mods = json_object_get(j, "modules");
    if (!json_is_array(strs)) return ow_jfield_fail(&r, "strings", "expected an array");
    if (!json_is_array(mods)) return ow_jfield_fail(&r, "modules", "expected an array");

    /* parse into a fresh copy, so that a refused state leaves d as it was */
    ow_diag_t *t = ow_diag_new(d->gw);
    if (!t) return ow_jfield_fail(&r, "", "out of memory");
    int rc = -1, ns = nstrings(d->gw);
    if (ver >= 3 && ow_jfield_num(&r, j, "ambient_c", &t->ambient_c)) goto out;
    if (ver >= 4 && rd_small(&r, j, "discharges", 0, 1000000000, &t->discharges)) goto out;
    for (size_t i = 0; i < json_array_size(strs); i++) {
        const json_t *o = json_array_get(strs, i);
        int s;
        snprintf(r.where, sizeof(r.where), "strings[%zu]", i);
        if (!json_is_object(o)) {
            ow_jfield_fail(&r, "", "expected an object");
            goto out;
        }
        if (rd_small(&r, o, "string", 1, OW_MAX_STRINGS, &s)) goto out;
        if (s > ns) continue; /* the site lost a string since: forget it */
        if (load_string(&r, o, &t->str[s], s, (int)ver)) goto out;
    }
    for (size_t i = 0; i < json_array_size(mods); i++) {
        const json_t *o = json_array_get(mods, i);
        int m;
        snprintf(r.where, sizeof(r.where), "modules[%zu]", i);
        if (!json_is_object(o)) {
            ow_jfield_fail(&r, "", "expected an object");
            goto out;
        }
        if (rd_small(&r, o, "module", 1, OW_MAX_MODULES, &m)) goto out;
        if (!module_string(d->gw, m)) continue; /* no longer configured */
        if (load_module(&r, o, &t->mod[m], (int)ver)) goto out;
    }
    /* a discharge under way at the save goes on: not a new one */
    for (int s = 1; s <= ns; s++)
        t->discharging |= t->str[s].base == OW_BAT_DISCHARGING;
    *d = *t;
    rc = 0;
out:
    ow_diag_destroy(&t);
    return rc;
}
