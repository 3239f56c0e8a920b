/* alarmd's engine; see engine.h and the "Alarms and flag words" section of
 * README.md. Every alarm is one row of the catalogue (proto/ow_gbms.c) on one
 * source, and the flag words are derived from the active alarms through the
 * catalogue's flag columns, never set by hand. The state file's part is
 * engine_state.c. */
#include "engine_int.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ow_cmd.h"
#include "ow_gbms.h"
#include "ow_quiet.h"

#define S_US               1000000LL
#define BASELINE_CLEAR_PCT 5.0  /* baseline alarms clear this far below their level */
#define REL_HYSTERESIS     0.10 /* deviation and hydrogen clear 10 % inside the level */

/* A quantity with four levels; codes in the order of the levels below. */
typedef struct {
    const char *what, *unit;
    int prec;
    int codes[4];
} qty_t;

enum { L_LOW_ALARM, L_LOW_WARN, L_HIGH_WARN, L_HIGH_ALARM };
static const char *const level_name[4] = {"low alarm", "low warning", "high warning", "high alarm"};

#define LEVELS(lo_a, lo_w, hi_w, hi_a)                                                             \
    {                                                                                              \
        [L_LOW_ALARM] = (lo_a), [L_LOW_WARN] = (lo_w), [L_HIGH_WARN] = (hi_w),                     \
        [L_HIGH_ALARM] = (hi_a)                                                                    \
    }
static const qty_t q_voltage = {.what = "voltage",
                                .unit = "V",
                                .prec = 2,
                                .codes = LEVELS(GBMS_A_VOLTAGE_LOW, GBMS_A_VOLTAGE_WARN_LOW,
                                                GBMS_A_VOLTAGE_WARN_HIGH, GBMS_A_VOLTAGE_HIGH)};
static const qty_t q_temp = {.what = "temperature",
                             .unit = "degC",
                             .prec = 1,
                             .codes =
                                 LEVELS(GBMS_A_TEMPERATURE_LOW, GBMS_A_TEMPERATURE_WARN_LOW,
                                        GBMS_A_TEMPERATURE_WARN_HIGH, GBMS_A_TEMPERATURE_HIGH)};
static const qty_t q_impedance = {.what = "impedance",
                                  .unit = "mOhm",
                                  .prec = 2,
                                  .codes =
                                      LEVELS(GBMS_A_RESIST_ALARM_LOW, GBMS_A_RESIST_WARN_LOW,
                                             GBMS_A_RESIST_WARN_HIGH, GBMS_A_RESIST_ALARM_HIGH)};
static const qty_t q_string_voltage = {
    .what = "voltage",
    .unit = "V",
    .prec = 2,
    .codes = LEVELS(GBMS_A_STRING_VOLT_LOW, GBMS_A_STRING_VOLT_LOW_WARN,
                    GBMS_A_STRING_VOLT_HIGH_WARN, GBMS_A_STRING_VOLT_HIGH)};
static const qty_t q_string_current = {
    .what = "current",
    .unit = "A",
    .prec = 2,
    .codes = LEVELS(GBMS_A_STRING_CURRENT_LOW, GBMS_A_STRING_CURRENT_LOW_WARN,
                    GBMS_A_STRING_CURRENT_HIGH_WARN, GBMS_A_STRING_CURRENT_HIGH)};
/* The stand-alone temperature/humidity sensor, on the gateway (string 0,
 * module 0). Humidity has no low levels: code 0 is no alarm. */
static const qty_t q_ambient = {.what = "room temperature",
                                .unit = "degC",
                                .prec = 1,
                                .codes = LEVELS(GBMS_A_AMBIENT_LOW, GBMS_A_AMBIENT_WARN_LOW,
                                                GBMS_A_AMBIENT_WARN_HIGH, GBMS_A_AMBIENT_HIGH)};
static const qty_t q_humidity = {.what = "relative humidity",
                                 .unit = "%RH",
                                 .prec = 1,
                                 .codes =
                                     LEVELS(0, 0, GBMS_A_HUMIDITY_WARN_HIGH, GBMS_A_HUMIDITY_HIGH)};
#undef LEVELS

/* Hydrogen's two stages (thresholds.hydrogen_warn_pct_lel / _alarm_pct_lel,
 * the guide's sensor's 20 % and 40 % LEL; lib/ow_config.c has the why);
 * each clears 10 % inside its level, 0 disables it. */
static const struct {
    int code;
    const char *stage;
    size_t off; /* the level in ow_thresholds_t */
} h2_stages[] = {
    {GBMS_A_HYDROGEN_WARN, "warning", offsetof(ow_thresholds_t, hydrogen_warn_pct_lel)},
    {GBMS_A_HYDROGEN, "alarm", offsetof(ow_thresholds_t, hydrogen_alarm_pct_lel)},
};

/* ---- slots ---- */

static size_t slot_pos(const rt_t *r, uint64_t key)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->v[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static slot_t *slot_find(const rt_t *r, uint64_t key)
{
    size_t i = slot_pos(r, key);
    return i < r->n && r->v[i].key == key ? &r->v[i] : NULL;
}

slot_t *ow_engine_slot_get(rt_t *r, uint64_t key)
{
    size_t i = slot_pos(r, key);
    if (i < r->n && r->v[i].key == key) return &r->v[i];
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        slot_t *v = realloc(r->v, cap * sizeof *v);
        if (!v) return NULL;
        r->v = v;
        r->cap = cap;
    }
    memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof *r->v);
    r->n++;
    memset(&r->v[i], 0, sizeof r->v[i]);
    r->v[i].key = key;
    return &r->v[i];
}

static void slot_drop(rt_t *r, slot_t *sl)
{
    size_t i = (size_t)(sl - r->v);
    memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof *r->v);
    r->n--;
}

static int by_id(const void *x, const void *y)
{
    const slot_t *a = *(slot_t *const *)x, *b = *(slot_t *const *)y;
    return a->a.id < b->a.id ? -1 : a->a.id > b->a.id;
}

/* The active slots in the order they were raised, in a malloc'ed array
 * (NULL with *n 0 when there is none or no memory). */
static slot_t **active_by_id(const rt_t *r, size_t *n)
{
    slot_t **v = r->n ? malloc(r->n * sizeof *v) : NULL;
    *n = 0;
    if (!v) return NULL;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].active) v[(*n)++] = &r->v[i];
    qsort(v, *n, sizeof *v, by_id);
    return v;
}

static int is_active(const gw_t *g, int code, int s, int m)
{
    const slot_t *sl = slot_find(&g->rt, ow_engine_key(code, s, m));
    return sl && sl->active;
}

/* ---- runtime state ---- */

int ow_engine_rt_init(rt_t *r, const ow_gateway_cfg_t *cfg)
{
    size_t n = cfg->nmodules > 0 ? (size_t)cfg->nmodules : 1;
    memset(r, 0, sizeof *r);
    r->lost = calloc(n, sizeof *r->lost);
    r->cyc_v = calloc(n, sizeof *r->cyc_v);
    r->cyc_seen = calloc(n, sizeof *r->cyc_seen);
    if (!r->lost || !r->cyc_v || !r->cyc_seen) return -1;
    for (size_t i = 0; i < n; i++)
        r->cyc_v[i] = NAN;
    for (int s = 0; s <= OW_MAX_STRINGS; s++)
        r->cyc_i[s] = NAN;
    r->speed = 1;
    r->out_told[0] = r->out_told[1] = -1;
    r->st.nstrings = cfg->nstrings;
    r->st.nmodules = cfg->nmodules;
    return 0;
}

void ow_engine_rt_free(rt_t *r)
{
    free(r->v);
    free(r->lost);
    free(r->cyc_v);
    free(r->cyc_seen);
    memset(r, 0, sizeof *r);
}

static void cycle_reset(gw_t *g)
{
    rt_t *r = &g->rt;
    for (int i = 0; i < g->cfg.nmodules; i++) {
        r->cyc_v[i] = NAN;
        r->cyc_seen[i] = 0;
    }
    r->cyc_nseen = 0;
    for (int s = 0; s <= OW_MAX_STRINGS; s++)
        r->cyc_i[s] = NAN;
}

/* ---- events ---- */

static void emit_alarm(gw_t *g, const ow_alarm_t *a, int64_t ts_us)
{
    if (g->e->sink.alarm) g->e->sink.alarm(g->e->ctx, g->cfg.id, a, ts_us);
}

void ow_engine_set_text(ow_alarm_t *a, const char *text)
{
    size_t n = strlen(text);
    if (n >= sizeof a->text) n = sizeof a->text - 1;
    memcpy(a->text, text, n);
    a->text[n] = '\0';
}

static void generic_sync(gw_t *g, int64_t ts_us, const gbms_alarm_t *member, const char *text);

static void raise_alarm(gw_t *g, int64_t ts_us, int code, int s, int m, double value,
                        double threshold, const char *text)
{
    const gbms_alarm_t *cat = gbms_alarm_find(code);
    slot_t *sl = ow_engine_slot_get(&g->rt, ow_engine_key(code, s, m));
    if (!sl || sl->active || !cat) return;
    sl->active = 1;
    sl->pending = 0;
    sl->acked = 0;
    ow_alarm_t *a = &sl->a;
    memset(a, 0, sizeof *a);
    a->id = g->e->next_id++;
    a->type = code;
    a->severity = cat->severity;
    strcpy(a->action, "raise");
    a->string = s;
    a->module = m;
    a->value = value;
    a->threshold = threshold;
    a->raised_us = ts_us;
    a->cleared_us = 0;
    ow_engine_set_text(a, text);
    g->rt.dirty = 1;
    ow_alarm_t ev = *a;
    emit_alarm(g, &ev, ts_us);
    generic_sync(g, ts_us, cat, ev.text);
}

/* Clear the alarm of sl: the event keeps id, raise time and threshold, and
 * carries the value that cleared it. */
static void clear_slot(gw_t *g, slot_t *sl, int64_t ts_us, double value, const char *text)
{
    ow_alarm_t ev = sl->a;
    strcpy(ev.action, "clear");
    ev.value = value;
    ev.cleared_us = ts_us;
    if (text) ow_engine_set_text(&ev, text);
    slot_drop(&g->rt, sl);
    g->rt.dirty = 1;
    emit_alarm(g, &ev, ts_us);
    generic_sync(g, ts_us, gbms_alarm_find(ev.type), NULL);
}

/* The guide's generic alarms (2-5, 12) summarise a family of specific ones
 * for the gateway: the catalogue's .generic column is the family table
 * (docs/alarms.md, "Generic alarms"). After a member was raised or cleared,
 * the generic one is raised if a member is active and it is not, cleared if
 * none is left; it goes through raise_alarm/clear_slot like any alarm. */
static void generic_sync(gw_t *g, int64_t ts_us, const gbms_alarm_t *member, const char *text)
{
    if (!member || !member->generic) return;
    const gbms_alarm_t *gen = gbms_alarm_find(member->generic);
    int members = 0;
    char first[sizeof g->rt.v[0].a.text] = ""; /* a member's text, when none is given */
    for (size_t i = 0; i < g->rt.n; i++) {
        const gbms_alarm_t *c = g->rt.v[i].active ? gbms_alarm_find(g->rt.v[i].a.type) : NULL;
        if (!c || c->generic != member->generic) continue;
        if (!members++) memcpy(first, g->rt.v[i].a.text, sizeof first);
    }
    slot_t *sl = slot_find(&g->rt, ow_engine_key(member->generic, 0, 0));
    int active = sl && sl->active;
    char buf[256];
    if (!gen || (members > 0) == active) return;
    if (members > 0) {
        snprintf(buf, sizeof buf, "Gateway %s: %s: %s", g->cfg.id, gen->name, text ? text : first);
        raise_alarm(g, ts_us, gen->code, 0, 0, members, NAN, buf);
    } else {
        snprintf(buf, sizeof buf, "Gateway %s: %s: no member alarm left", g->cfg.id, gen->name);
        clear_slot(g, sl, ts_us, 0, buf);
    }
}

static void clear_alarm(gw_t *g, int64_t ts_us, int code, int s, int m, double value,
                        const char *text)
{
    slot_t *sl = slot_find(&g->rt, ow_engine_key(code, s, m));
    if (sl && sl->active) clear_slot(g, sl, ts_us, value, text);
}

/* Who an alarm is about, for its text: "String UPS A block 4", "String 2",
 * "Gateway wm1". A string named "String N" (the default) is not prefixed. */
static void subject(const gw_t *g, int s, int m, char *buf, size_t len)
{
    if (s < 1 || s > g->cfg.nstrings) {
        snprintf(buf, len, "Gateway %s", g->cfg.id);
        return;
    }
    const ow_string_cfg_t *sc = &g->cfg.strings[s - 1];
    const char *pre = strncasecmp(sc->name, "string", 6) == 0 ? "" : "String ";
    if (m > 0)
        snprintf(buf, len, "%s%s block %d", pre, sc->name, m - sc->first_module + 1);
    else
        snprintf(buf, len, "%s%s", pre, sc->name);
}

/* ---- thresholds with delay and hysteresis ---- */

static void check_level(gw_t *g, int64_t ts_us, int s, int m, double v, const ow_limits_t *lim,
                        const qty_t *q, int lvl)
{
    const double levels[4] = {lim->low_alarm, lim->low_warn, lim->high_warn, lim->high_alarm};
    double level = levels[lvl];
    int high = lvl >= L_HIGH_WARN, code = q->codes[lvl];
    uint64_t key = ow_engine_key(code, s, m);
    slot_t *sl = slot_find(&g->rt, key);
    char who[96], text[256];

    if (!code || isnan(v) || isnan(level)) return;
    if (sl && sl->active) {
        int back = high ? v < level - lim->hysteresis : v > level + lim->hysteresis;
        if (back) {
            subject(g, s, m, who, sizeof who);
            snprintf(text, sizeof text, "%s: %s %.*f %s back %s %s %.*f %s", who, q->what, q->prec,
                     v, q->unit, high ? "below" : "above", level_name[lvl], q->prec, level,
                     q->unit);
            clear_slot(g, sl, ts_us, v, text);
        }
        return;
    }
    if (!(high ? v > level : v < level)) {
        if (sl) slot_drop(&g->rt, sl); /* the violation did not hold: timer restarts */
        return;
    }
    int64_t delay_us = lim->delay_s > 0 ? (int64_t)llround(lim->delay_s * 1e6) : 0;
    if (delay_us > 0) {
        if (!sl) {
            sl = ow_engine_slot_get(&g->rt, key);
            if (!sl) return;
            sl->pending = 1;
            sl->since_us = ts_us;
        }
        if (ts_us - sl->since_us < delay_us) return;
    }
    subject(g, s, m, who, sizeof who);
    snprintf(text, sizeof text, "%s: %s %.*f %s %s %s %.*f %s", who, q->what, q->prec, v, q->unit,
             high ? "above" : "below", level_name[lvl], q->prec, level, q->unit);
    raise_alarm(g, ts_us, code, s, m, v, level, text);
}

static void check_limits(gw_t *g, int64_t ts_us, int s, int m, double v, const ow_limits_t *lim,
                         const qty_t *q)
{
    for (int lvl = L_LOW_ALARM; lvl <= L_HIGH_ALARM; lvl++)
        check_level(g, ts_us, s, m, v, lim, q, lvl);
}

/* A relative level: raise at >= level (or > level), clear below clear_at;
 * level <= 0 disables the check and clears what it raised. */
static void check_rel(gw_t *g, int64_t ts_us, int code, int s, int m, double v, double level,
                      double clear_at, int strict, const char *raise_text, const char *clear_text)
{
    if (!(level > 0)) {
        clear_alarm(g, ts_us, code, s, m, v, clear_text);
        return;
    }
    if (isnan(v)) return;
    if (is_active(g, code, s, m)) {
        if (v < clear_at) clear_alarm(g, ts_us, code, s, m, v, clear_text);
    } else if (strict ? v > level : v >= level) {
        raise_alarm(g, ts_us, code, s, m, v, level, raise_text);
    }
}

/* ---- readings ---- */

static void on_module(gw_t *g, int64_t ts_us, const ow_module_t *mm)
{
    const ow_thresholds_t *thr = &g->cfg.thr;
    rt_t *r = &g->rt;
    int m = mm->module;
    char who[96], text[256];

    if (m < 1 || m > g->cfg.nmodules) return;
    int s = g->mod_string[m - 1];
    ow_diag_module(g->diag, ts_us, mm);
    if (!r->cyc_seen[m - 1]) {
        r->cyc_seen[m - 1] = 1;
        r->cyc_nseen++;
    }
    if (mm->status & OW_MODST_NO_RESPONSE) {
        r->cyc_v[m - 1] = NAN;
        if (r->lost[m - 1] < 1000000) r->lost[m - 1]++;
        if (r->lost[m - 1] >= thr->comm_lost_polls && !is_active(g, GBMS_A_SYSTEM_ERROR, s, m)) {
            subject(g, s, m, who, sizeof who);
            snprintf(text, sizeof text, "%s: no answer for %d polls", who, r->lost[m - 1]);
            raise_alarm(g, ts_us, GBMS_A_SYSTEM_ERROR, s, m, r->lost[m - 1], thr->comm_lost_polls,
                        text);
        }
        return; /* no measurement: nothing else raises or clears */
    }
    r->lost[m - 1] = 0;
    if (is_active(g, GBMS_A_SYSTEM_ERROR, s, m)) {
        subject(g, s, m, who, sizeof who);
        snprintf(text, sizeof text, "%s: answers again", who);
        clear_alarm(g, ts_us, GBMS_A_SYSTEM_ERROR, s, m, 0, text);
    }
    r->cyc_v[m - 1] = mm->voltage_v;
    check_limits(g, ts_us, s, m, mm->voltage_v, &thr->voltage_v, &q_voltage);
    check_limits(g, ts_us, s, m, mm->temp_c, &thr->temp_c, &q_temp);
    check_limits(g, ts_us, s, m, mm->impedance_mohm, &thr->impedance_mohm, &q_impedance);
}

static void on_string(gw_t *g, int64_t ts_us, const ow_string_t *st)
{
    int s = st->string;
    if (s < 1 || s > g->cfg.nstrings) return;
    ow_diag_string(g->diag, ts_us, st);
    /* The sum of the answering blocks is no string voltage while some are
     * missing: judging it would raise a false low alarm. */
    double sum = st->modules_lost > 0 ? NAN : st->sum_voltage_v;
    check_limits(g, ts_us, s, 0, sum, &g->cfg.thr.string_voltage_v, &q_string_voltage);
    if (g->cfg.current_sensor) {
        check_limits(g, ts_us, s, 0, st->current_a, &g->cfg.thr.string_current_a,
                     &q_string_current);
        g->rt.cyc_i[s] = st->current_a;
    }
}

static void on_aux(gw_t *g, int64_t ts_us, const ow_aux_t *ax)
{
    const ow_thresholds_t *thr = &g->cfg.thr;
    char text[256], text2[256];
    const char *id = g->cfg.id;

    ow_diag_aux(g->diag, ts_us, ax);

    int amb = g->cfg.ambient_sensor && isnan(ax->ambient_c);
    int h2 = g->cfg.hydrogen_sensor && isnan(ax->hydrogen_pct_lel);
    if (amb || h2) {
        snprintf(text, sizeof text, "Gateway %s: %s not answering", id,
                 amb && h2 ? "ambient and hydrogen sensors"
                 : amb     ? "ambient sensor"
                           : "hydrogen sensor");
        raise_alarm(g, ts_us, GBMS_A_SENSOR_COMM_LOST, 0, 0, NAN, NAN, text);
    } else {
        snprintf(text, sizeof text, "Gateway %s: sensors answer again", id);
        clear_alarm(g, ts_us, GBMS_A_SENSOR_COMM_LOST, 0, 0, NAN, text);
    }

    double v = ax->hydrogen_pct_lel;
    for (size_t i = 0; i < sizeof h2_stages / sizeof h2_stages[0]; i++) {
        double lel = *(const double *)((const char *)thr + h2_stages[i].off);
        snprintf(text, sizeof text,
                 "Gateway %s: hydrogen %.1f %% LEL at or above the %s level %.1f %% LEL", id, v,
                 h2_stages[i].stage, lel);
        snprintf(text2, sizeof text2,
                 "Gateway %s: hydrogen %.1f %% LEL back below %.1f %% LEL (%s)", id, v,
                 lel * (1 - REL_HYSTERESIS), h2_stages[i].stage);
        check_rel(g, ts_us, h2_stages[i].code, 0, 0, v, lel, lel * (1 - REL_HYSTERESIS), 0, text,
                  text2);
    }
    /* A sensor the site does not fit reads NAN, which judges nothing. */
    check_limits(g, ts_us, 0, 0, ax->ambient_c, &thr->ambient_c, &q_ambient);
    check_limits(g, ts_us, 0, 0, ax->humidity_pct, &thr->humidity_pct, &q_humidity);

    for (int i = 0; i < OW_AUX_POINTS; i++) {
        int on = (ax->inputs >> i) & 1;
        if (on == is_active(g, GBMS_A_AUX_INPUT, 0, i + 1)) continue;
        snprintf(text, sizeof text, "Gateway %s: GX_R_AUX unit %d input %d %s", id, i / 4 + 1,
                 i % 4 + 1, on ? "in alarm" : "back to normal");
        if (on)
            raise_alarm(g, ts_us, GBMS_A_AUX_INPUT, 0, i + 1, 1, NAN, text);
        else
            clear_alarm(g, ts_us, GBMS_A_AUX_INPUT, 0, i + 1, 0, text);
    }

    int out = thr->tr_breaker_output;
    rt_t *r = &g->rt;
    if (out >= 1 && out <= OW_AUX_POINTS && ((ax->outputs >> (out - 1)) & 1)) {
        snprintf(text, sizeof text, "Gateway %s: battery breaker open (GX_R_AUX output %d on)", id,
                 out);
        raise_alarm(g, ts_us, GBMS_A_BREAKER_OPEN, 0, 0, 1, NAN, text);
    } else if (out < 1 || out > OW_AUX_POINTS) {
        r->breaker_cmd = 0;
        snprintf(text, sizeof text, "Gateway %s: no breaker output configured", id);
        clear_alarm(g, ts_us, GBMS_A_BREAKER_OPEN, 0, 0, NAN, text);
    } else if (!r->breaker_cmd || ts_us > r->breaker_cmd_us) {
        /* A reading taken before our command cannot show it yet. */
        r->breaker_cmd = 0;
        snprintf(text, sizeof text, "Gateway %s: battery breaker closed (output %d off)", id, out);
        clear_alarm(g, ts_us, GBMS_A_BREAKER_OPEN, 0, 0, 0, text);
    }
}

/* ---- cycle-level checks (heartbeat) ---- */

static void check_deviation(gw_t *g, int64_t ts_us)
{
    const ow_thresholds_t *thr = &g->cfg.thr;
    const rt_t *r = &g->rt;
    int n = 0;
    double sum = 0;

    if (!g->cfg.current_sensor) return;
    for (int s = 1; s <= g->cfg.nstrings; s++)
        if (!isnan(r->cyc_i[s])) {
            n++;
            sum += r->cyc_i[s];
        }
    if (n < 2) return;
    double mean = sum / n;
    int charge = mean >= 0;
    const struct {
        int code, on_charge;
        double level;
        const char *name;
    } dv[4] = {{GBMS_A_DEV_CHARGE, 1, thr->dev_charge_alarm_a, "charge alarm"},
               {GBMS_A_DEV_CHARGE_WARN, 1, thr->dev_charge_warn_a, "charge warning"},
               {GBMS_A_DEV_DISCHARGE, 0, thr->dev_discharge_alarm_a, "discharge alarm"},
               {GBMS_A_DEV_DISCHARGE_WARN, 0, thr->dev_discharge_warn_a, "discharge warning"}};
    for (int s = 1; s <= g->cfg.nstrings; s++) {
        double i_a = r->cyc_i[s];
        if (isnan(i_a)) continue;
        double dev = fabs(i_a - mean);
        char who[96], text[256], text2[256];
        subject(g, s, 0, who, sizeof who);
        for (int k = 0; k < 4; k++) {
            snprintf(text, sizeof text,
                     "%s: current %.2f A deviates %.2f A from the strings' mean %.2f A (%s %.2f A)",
                     who, i_a, dev, mean, dv[k].name, dv[k].level);
            snprintf(text2, sizeof text2,
                     "%s: current %.2f A within %.2f A of the strings' mean %.2f A (%s)", who, i_a,
                     dev, mean, dv[k].name);
            /* Out of its mode (charge vs discharge) a check is disabled. */
            double level = dv[k].on_charge == charge ? dv[k].level : 0;
            check_rel(g, ts_us, dv[k].code, s, 0, dev, level, level * (1 - REL_HYSTERESIS), 1, text,
                      text2);
        }
    }
}

static void check_blocks(gw_t *g, int64_t ts_us, int s, const ow_diag_status_t *ds)
{
    const ow_thresholds_t *thr = &g->cfg.thr;
    const ow_string_cfg_t *sc = &g->cfg.strings[s - 1];
    const rt_t *r = &g->rt;
    char who[96], text[256];
    int n = 0;
    double sum = 0;

    for (int i = 0; i < sc->modules; i++) {
        double v = r->cyc_v[sc->first_module - 1 + i];
        if (!isnan(v)) {
            n++;
            sum += v;
        }
    }
    subject(g, s, 0, who, sizeof who);

    /* Maximum voltage difference to the string's average. */
    if (!(thr->max_voltage_diff_v > 0)) {
        clear_alarm(g, ts_us, GBMS_A_MAX_VOLTAGE_DIFF, s, 0, NAN, NULL);
    } else if (n > 0) {
        double avg = sum / n, worst = -1, wv = NAN;
        int wb = 0;
        for (int i = 0; i < sc->modules; i++) {
            double v = r->cyc_v[sc->first_module - 1 + i];
            if (!isnan(v) && fabs(v - avg) > worst) {
                worst = fabs(v - avg);
                wv = v;
                wb = i + 1;
            }
        }
        if (worst > thr->max_voltage_diff_v) {
            snprintf(text, sizeof text,
                     "%s: block %d at %.2f V differs %.2f V from the string average %.2f V "
                     "(max %.2f V)",
                     who, wb, wv, worst, avg, thr->max_voltage_diff_v);
            raise_alarm(g, ts_us, GBMS_A_MAX_VOLTAGE_DIFF, s, 0, worst, thr->max_voltage_diff_v,
                        text);
        } else {
            snprintf(text, sizeof text,
                     "%s: every block within %.2f V of the string average %.2f V (max %.2f V)", who,
                     worst, avg, thr->max_voltage_diff_v);
            clear_alarm(g, ts_us, GBMS_A_MAX_VOLTAGE_DIFF, s, 0, worst, text);
        }
    }

    /* Equalizing range, judged on charge and float only. */
    ow_bat_state_t bs = ds->state[s];
    if (bs != OW_BAT_FLOAT && bs != OW_BAT_CHARGING) {
        snprintf(text, sizeof text, "%s: equalizing not judged off charge and float", who);
        clear_alarm(g, ts_us, GBMS_A_STRING_EQUALIZING_DISABLED, s, 0, NAN, text);
    } else if (n > 0) {
        double worst = 0, wv = NAN, bound = NAN;
        int wb = 0;
        for (int i = 0; i < sc->modules; i++) {
            double v = r->cyc_v[sc->first_module - 1 + i], out = 0, b = NAN;
            if (isnan(v)) continue;
            if (v < thr->equalizing_min_v)
                out = thr->equalizing_min_v - v, b = thr->equalizing_min_v;
            if (v > thr->equalizing_max_v)
                out = v - thr->equalizing_max_v, b = thr->equalizing_max_v;
            if (out > worst) {
                worst = out;
                wv = v;
                wb = i + 1;
                bound = b;
            }
        }
        if (wb) {
            snprintf(text, sizeof text,
                     "%s: block %d at %.2f V outside the equalizing range %.2f-%.2f V", who, wb, wv,
                     thr->equalizing_min_v, thr->equalizing_max_v);
            raise_alarm(g, ts_us, GBMS_A_STRING_EQUALIZING_DISABLED, s, 0, wv, bound, text);
        } else {
            snprintf(text, sizeof text, "%s: every block within the equalizing range %.2f-%.2f V",
                     who, thr->equalizing_min_v, thr->equalizing_max_v);
            clear_alarm(g, ts_us, GBMS_A_STRING_EQUALIZING_DISABLED, s, 0, NAN, text);
        }
    }
}

/* A GX_R_AUX output command to the gateway's busd (1..16; others ignored). */
static void command_output(gw_t *g, int out, int on, int64_t ts_us)
{
    ow_control_t c;
    if (out < 1 || out > OW_AUX_POINTS || !g->e->sink.command) return;
    memset(&c, 0, sizeof c);
    snprintf(c.cmd, sizeof c.cmd, "%s", ow_cmd_name(OW_CMD_OUTPUT));
    c.index = out;
    c.value = on;
    g->e->sink.command(g->e->ctx, g->cfg.id, &c, ts_us);
}

static void check_states(gw_t *g, int64_t ts_us, int s, const ow_diag_status_t *ds)
{
    const ow_thresholds_t *thr = &g->cfg.thr;
    char who[96], text[256];
    double i_a = g->rt.cyc_i[s];

    subject(g, s, 0, who, sizeof who);
    if (ds->thermal_runaway[s]) {
        if (!is_active(g, GBMS_A_THERMAL_RUNAWAY, s, 0)) {
            snprintf(text, sizeof text, "%s: thermal runaway (temperature difference %.1f degC)",
                     who, ds->tr_value[s]);
            raise_alarm(g, ts_us, GBMS_A_THERMAL_RUNAWAY, s, 0, ds->tr_value[s], NAN, text);
            int out = thr->tr_breaker_output;
            if (out >= 1 && out <= OW_AUX_POINTS) {
                command_output(g, out, 1, ts_us);
                g->rt.breaker_cmd = 1;
                g->rt.breaker_cmd_us = ts_us;
                snprintf(text, sizeof text,
                         "Gateway %s: battery breaker opened (GX_R_AUX output %d) on thermal "
                         "runaway of %s",
                         g->cfg.id, out, who);
                raise_alarm(g, ts_us, GBMS_A_BREAKER_OPEN, 0, 0, 1, NAN, text);
            }
        }
    } else {
        snprintf(text, sizeof text, "%s: thermal runaway condition ended", who);
        clear_alarm(g, ts_us, GBMS_A_THERMAL_RUNAWAY, s, 0, ds->tr_value[s], text);
    }

    if (ds->state[s] == OW_BAT_DISCHARGING) {
        snprintf(text, sizeof text, "%s: discharging", who);
        raise_alarm(g, ts_us, GBMS_A_DISCHARGING, s, 0, i_a, NAN, text);
    } else {
        snprintf(text, sizeof text, "%s: discharge ended", who);
        clear_alarm(g, ts_us, GBMS_A_DISCHARGING, s, 0, i_a, text);
    }
    if (ds->state[s] == OW_BAT_DISCHARGE_STOPPED) {
        snprintf(text, sizeof text, "%s: discharge stopped, not back on float yet", who);
        raise_alarm(g, ts_us, GBMS_A_DISCHARGING_STOPPED, s, 0, i_a, NAN, text);
    } else {
        snprintf(text, sizeof text, "%s: %s", who,
                 ds->state[s] == OW_BAT_DISCHARGING ? "discharging again" : "back on float");
        clear_alarm(g, ts_us, GBMS_A_DISCHARGING_STOPPED, s, 0, i_a, text);
    }
}

/* The diag's float conditions and the alarms they raise (docs/battery.md). */
static const struct {
    ow_diag_cond_t cond;
    int code;
    const char *name, *against, *unit;
    int digits;
} float_alarms[] = {
    {OW_COND_OPEN_STRING, GBMS_A_OPEN_STRING,
     "open string (no current while another string is "
     "held)",
     "below the float level", "V/cell", 3},
    {OW_COND_LOSS_OF_FLOAT, GBMS_A_LOSS_OF_FLOAT, "loss of float (no charger holds any string)",
     "below the float level", "V/cell", 3},
    {OW_COND_FLOAT_BAND, GBMS_A_FLOAT_VOLTAGE_BAND, "float voltage outside the battery's band",
     "band limit at this temperature", "V/cell", 3},
    {OW_COND_FLOAT_CURRENT, GBMS_A_FLOAT_CURRENT_HIGH, "high float current",
     "float_current_high_x x the learned float current", "A", 2},
    {OW_COND_RIPPLE, GBMS_A_RIPPLE_HIGH, "high ripple current", "ripple_current_a", "A RMS", 2},
};

static void check_float(gw_t *g, int64_t ts_us, int s, const ow_diag_status_t *ds)
{
    char who[96], text[256];
    subject(g, s, 0, who, sizeof who);
    for (size_t i = 0; i < sizeof float_alarms / sizeof float_alarms[0]; i++) {
        const ow_diag_flag_t *f = &ds->cond[s][float_alarms[i].cond];
        int code = float_alarms[i].code, dg = float_alarms[i].digits;
        const char *u = float_alarms[i].unit;
        if (f->on && !is_active(g, code, s, 0)) {
            snprintf(text, sizeof text, "%s: %s: %.*f %s (%s %.*f %s)", who, float_alarms[i].name,
                     dg, f->value, u, float_alarms[i].against, dg, f->level, u);
            raise_alarm(g, ts_us, code, s, 0, f->value, f->level, text);
        } else if (!f->on && is_active(g, code, s, 0)) {
            snprintf(text, sizeof text, "%s: %s ended", who, float_alarms[i].name);
            clear_alarm(g, ts_us, code, s, 0, NAN, text);
        }
    }
}

/* Impedance against its baseline: the diag updates deviations at the end
 * of a cycle, so they are judged then, for every module that has one. */
static void check_baselines(gw_t *g, int64_t ts_us)
{
    const ow_thresholds_t *thr = &g->cfg.thr;
    const struct {
        int code;
        double level;
        const char *name;
    } bl[2] = {{GBMS_A_BASELINE_WARN, thr->baseline_warn_pct, "warning"},
               {GBMS_A_BASELINE_ALARM, thr->baseline_alarm_pct, "alarm"}};
    char who[96], text[256], text2[256];

    for (int m = 1; m <= g->cfg.nmodules; m++) {
        double dev = ow_diag_deviation_pct(g->diag, m);
        int s = g->mod_string[m - 1];
        if (isnan(dev)) continue;
        for (int i = 0; i < 2; i++) {
            int active = is_active(g, bl[i].code, s, m);
            if (active ? !(dev < bl[i].level - BASELINE_CLEAR_PCT) : !(dev >= bl[i].level))
                continue;
            subject(g, s, m, who, sizeof who);
            snprintf(text, sizeof text, "%s: impedance %+.1f %% from its baseline (%s at %.0f %%)",
                     who, dev, bl[i].name, bl[i].level);
            snprintf(text2, sizeof text2,
                     "%s: impedance %+.1f %% from its baseline, below %s %.0f %% - %.0f", who, dev,
                     bl[i].name, bl[i].level, BASELINE_CLEAR_PCT);
            check_rel(g, ts_us, bl[i].code, s, m, dev, bl[i].level,
                      bl[i].level - BASELINE_CLEAR_PCT, 0, text, text2);
        }
    }
}

static void diag_discharge(void *ctx, const ow_discharge_t *d, int64_t ts_us)
{
    gw_t *g = ctx;
    if (g->e->sink.discharge) g->e->sink.discharge(g->e->ctx, g->cfg.id, d, ts_us);
}

static void diag_baseline(void *ctx, const ow_baseline_t *b, int64_t ts_us)
{
    gw_t *g = ctx;
    if (g->e->sink.baseline) g->e->sink.baseline(g->e->ctx, g->cfg.id, b, ts_us);
}

static void on_heartbeat(gw_t *g, int64_t ts_us, const ow_heartbeat_t *hb)
{
    static const ow_diag_sink_t dsink = {
        .discharge = diag_discharge, .baseline = diag_baseline, .progress = diag_discharge};
    rt_t *r = &g->rt;
    ow_diag_status_t ds;

    if (hb->period_us > 0) r->period_us = hb->period_us;
    r->speed = hb->speed > 0 && isfinite(hb->speed) ? hb->speed : 1;
    ow_diag_cycle(g->diag, ts_us, &dsink, g);
    ow_diag_status(g->diag, &ds);
    check_deviation(g, ts_us);
    check_baselines(g, ts_us);
    for (int s = 1; s <= g->cfg.nstrings; s++) {
        check_blocks(g, ts_us, s, &ds);
        check_states(g, ts_us, s, &ds);
        check_float(g, ts_us, s, &ds);
    }
    /* A cycle between two heartbeats is complete; the first one only if it
     * brought every module (we may have started in the middle of it). */
    if (r->heartbeats > 0 || r->cyc_nseen >= g->cfg.nmodules) r->complete = 1;
    r->heartbeats++;
    cycle_reset(g);
    r->dirty = 1; /* battery states may have changed */
}

/* ---- flag words ---- */

static void compute(const gw_t *g, ow_state_t *st)
{
    const rt_t *r = &g->rt;
    unsigned char modsev[OW_MAX_MODULES]; /* 0 none, severity + 1 */
    int any_alarm = 0, audible = 0;
    ow_diag_status_t ds;

    memset(st, 0, sizeof *st);
    memset(modsev, 0, sizeof modsev);
    st->nstrings = g->cfg.nstrings;
    st->nmodules = g->cfg.nmodules;
    for (size_t i = 0; i < r->n; i++) {
        const slot_t *sl = &r->v[i];
        if (!sl->active) continue;
        const gbms_alarm_t *cat = gbms_alarm_find(sl->a.type);
        int s = sl->a.string, m = sl->a.module, sev = sl->a.severity;
        if (!cat) continue;
        if (cat->scope == GBMS_SCOPE_MODULE && m >= 1 && m <= g->cfg.nmodules) {
            st->module_flags[m - 1] |= (uint16_t)cat->alarm_flag;
            if (sev == OW_SEV_ALARM) st->module_flags[m - 1] |= GBMS_AL_GENERAL_ALARM;
            if (sev + 1 > modsev[m - 1]) modsev[m - 1] = (unsigned char)(sev + 1);
        } else if (cat->scope == GBMS_SCOPE_STRING && s >= 1 && s <= g->cfg.nstrings) {
            st->string_flags[s - 1] |= (uint16_t)cat->alarm_flag;
            if (sev == OW_SEV_ALARM) st->string_flags[s - 1] |= GBMS_AL_GENERAL_ALARM;
        } else if (cat->scope == GBMS_SCOPE_GATEWAY) {
            st->alarm |= cat->alarm_flag;
        }
        if (s >= 1 && s <= g->cfg.nstrings) st->string_flags2[s - 1] |= (uint16_t)cat->string_flag;
        st->battery |= cat->battery_flag;
        st->general |= cat->status_flag;
        if (sev >= OW_SEV_WARNING) st->alarms_active++;
        if (sev == OW_SEV_ALARM) {
            any_alarm = 1;
            /* A generic alarm's member sounds the buzzer for it. */
            if (!sl->acked && !gbms_alarm_is_generic(sl->a.type)) audible = 1;
        }
    }
    for (int m = 1; m <= g->cfg.nmodules; m++) {
        int s = g->mod_string[m - 1];
        st->string_flags[s - 1] |= st->module_flags[m - 1];
        st->alarm |= st->module_flags[m - 1];
        if (modsev[m - 1] == OW_SEV_ALARM + 1) st->module_alarms++;
        if (modsev[m - 1] == OW_SEV_WARNING + 1) st->module_warnings++;
    }
    if (any_alarm) {
        st->alarm |= GBMS_AL_GENERAL_ALARM;
        st->battery |= GBMS_BAT_GENERAL_ALARM;
    }
    st->audible = audible;

    ow_diag_status(g->diag, &ds);
    int answering = 0, floating = 0;
    for (int s = 1; s <= g->cfg.nstrings; s++) {
        switch (ds.state[s]) {
        case OW_BAT_DISCHARGING:
            st->general |= GBMS_ST_DISCHARGING;
            break;
        case OW_BAT_CHARGING:
            st->general |= GBMS_ST_CHARGING;
            break;
        case OW_BAT_DISCHARGE_STOPPED:
            st->general |= GBMS_ST_CHARGING | GBMS_ST_DISCHARGING_STOPPED;
            break;
        case OW_BAT_FLOAT:
            floating++;
            break;
        default:
            break;
        }
        if (ds.state[s] != OW_BAT_UNKNOWN) answering++;
        if (ds.equalizing[s]) st->general |= GBMS_ST_EQUALISATION;
    }
    if (answering > 0 && floating == answering) st->general |= GBMS_ST_FLOAT_CHARGING;
    st->discharges = ds.discharges;
    st->eq_paused = ds.eq_paused;
    if (r->complete) {
        if (!is_active(g, GBMS_A_COMMUNICATION_LOST, 0, 0)) st->general |= GBMS_ST_RUNNING;
    } else if (r->seen) {
        st->general |= GBMS_ST_CONNECTED | GBMS_ST_MODULE_INITIALIZING;
    }
}

/* The webmanager's common alarm contact follows the general alarm (1002
 * bit 0) whether muted or not; its buzzer (audible) until acknowledged.
 * Commands go out on a change only. */
static void drive_alarm_outputs(gw_t *g, int64_t ts_us)
{
    const ow_state_t *st = &g->rt.st;
    const struct {
        int out, want;
    } o[2] = {{g->cfg.thr.common_alarm_output, (st->alarm & GBMS_AL_GENERAL_ALARM) != 0},
              {g->cfg.thr.audible_alarm_output, st->audible != 0}};
    for (int i = 0; i < 2; i++) {
        if (o[i].out < 1 || o[i].out > OW_AUX_POINTS || g->rt.out_told[i] == o[i].want) continue;
        g->rt.out_told[i] = o[i].want;
        command_output(g, o[i].out, o[i].want, ts_us);
    }
}

static void update_state(gw_t *g, int64_t ts_us)
{
    ow_state_t st;
    if (!g->rt.dirty) return;
    g->rt.dirty = 0;
    compute(g, &st);
    /* The outputs follow the words, so they are looked at only when the
     * words were worked out again (the first reading marks them dirty). */
    if (memcmp(&st, &g->rt.st, sizeof st) != 0) {
        g->rt.st = st;
        if (g->e->sink.state) g->e->sink.state(g->e->ctx, g->cfg.id, &g->rt.st, ts_us);
    }
    if (g->rt.seen) drive_alarm_outputs(g, ts_us);
}

/* ---- public ---- */

static gw_t *find_gw(const ow_engine_t *e, const char *id)
{
    if (!e || !id) return NULL;
    for (int i = 0; i < e->ngw; i++)
        if (strcmp(e->gw[i].cfg.id, id) == 0) return &e->gw[i];
    return NULL;
}

ow_engine_t *ow_engine_new(const ow_site_t *site, const ow_engine_sink_t *sink, void *ctx)
{
    ow_engine_t *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    if (sink) e->sink = *sink;
    e->ctx = ctx;
    e->next_id = 1;
    e->ngw = site ? site->ngateways : 0;
    e->gw = calloc(e->ngw > 0 ? (size_t)e->ngw : 1, sizeof *e->gw);
    if (!e->gw) goto fail;
    for (int i = 0; i < e->ngw; i++) {
        gw_t *g = &e->gw[i];
        g->e = e;
        g->cfg = site->gateways[i];
        if (g->cfg.nstrings > OW_MAX_STRINGS || g->cfg.nmodules > OW_MAX_MODULES) goto fail;
        g->mod_string = calloc(g->cfg.nmodules > 0 ? (size_t)g->cfg.nmodules : 1, sizeof(int));
        if (!g->mod_string || ow_engine_rt_init(&g->rt, &g->cfg) < 0) goto fail;
        for (int s = 0; s < g->cfg.nstrings; s++) {
            const ow_string_cfg_t *sc = &g->cfg.strings[s];
            for (int k = 0; k < sc->modules; k++) {
                int m = sc->first_module + k;
                if (m >= 1 && m <= g->cfg.nmodules) g->mod_string[m - 1] = s + 1;
            }
        }
        for (int m = 0; m < g->cfg.nmodules; m++)
            if (!g->mod_string[m]) goto fail; /* a module outside every string */
        g->diag = ow_diag_new(&g->cfg);
        if (!g->diag) goto fail;
    }
    return e;
fail:
    ow_engine_destroy(&e);
    return NULL;
}

void ow_engine_destroy(ow_engine_t **ep)
{
    ow_engine_t *e = ep ? *ep : NULL;
    if (!e) return;
    for (int i = 0; e->gw && i < e->ngw; i++) {
        ow_diag_destroy(&e->gw[i].diag);
        ow_engine_rt_free(&e->gw[i].rt);
        free(e->gw[i].mod_string);
    }
    free(e->gw);
    free(e);
    *ep = NULL;
}

void ow_engine_feed(ow_engine_t *e, const ow_msg_t *m)
{
    gw_t *g;
    if (!e || !m) return;
    if (m->kind != OW_MSG_MODULE && m->kind != OW_MSG_STRING && m->kind != OW_MSG_AUX &&
        m->kind != OW_MSG_HEARTBEAT)
        return;
    if (!(g = find_gw(e, m->h.gw))) return;
    int64_t ts = m->h.ts_us;
    rt_t *r = &g->rt;
    if (!r->generics_synced) { /* see rt_t: the load cannot publish yet, a reading can */
        r->generics_synced = 1;
        for (size_t i = 0; i < gbms_alarms_count; i++)
            generic_sync(g, ts, &gbms_alarms[i], NULL);
    }
    if (!r->seen) r->dirty = 1;
    r->seen = 1;
    r->fresh = 1;
    r->last_ts_us = ts;
    if (is_active(g, GBMS_A_COMMUNICATION_LOST, 0, 0)) {
        char text[128];
        snprintf(text, sizeof text, "Gateway %s: readings arrive again", g->cfg.id);
        clear_alarm(g, ts, GBMS_A_COMMUNICATION_LOST, 0, 0, NAN, text);
    }
    switch (m->kind) {
    case OW_MSG_MODULE:
        on_module(g, ts, &m->u.module);
        break;
    case OW_MSG_STRING:
        on_string(g, ts, &m->u.string);
        break;
    case OW_MSG_AUX:
        on_aux(g, ts, &m->u.aux);
        break;
    default:
        on_heartbeat(g, ts, &m->u.heartbeat);
        break;
    }
    update_state(g, ts);
}

void ow_engine_tick(ow_engine_t *e, int64_t now_wall_us)
{
    if (!e) return;
    for (int i = 0; i < e->ngw; i++) {
        gw_t *g = &e->gw[i];
        rt_t *r = &g->rt;
        if (r->fresh || !r->watched) {
            r->fresh = 0;
            r->watched = 1;
            r->last_wall_us = now_wall_us;
            continue;
        }
        double speed = r->speed > 0 ? r->speed : 1;
        /* The rule modbusd and snmpd also follow, so the registers stop
         * serving old values when this alarm rises (lib/ow_quiet.h). */
        int64_t silence = ow_quiet_after_us(r->period_us, speed);
        int64_t quiet = now_wall_us - r->last_wall_us;
        if (quiet < silence || is_active(g, GBMS_A_COMMUNICATION_LOST, 0, 0)) continue;
        int64_t ts = r->seen ? r->last_ts_us + (int64_t)((double)quiet * speed) : now_wall_us;
        char text[128];
        snprintf(text, sizeof text, "Gateway %s: no reading for %.1f s", g->cfg.id,
                 (double)quiet / S_US);
        raise_alarm(g, ts, GBMS_A_COMMUNICATION_LOST, 0, 0, (double)quiet / S_US,
                    (double)silence / S_US, text);
        update_state(g, ts);
    }
}

int ow_engine_set_thresholds(ow_engine_t *e, const char *gw, const ow_thresholds_t *thr)
{
    gw_t *g = find_gw(e, gw);
    if (!g || !thr) return -1;
    /* An alarm output moved to another point: the old one is let go,
     * unless the new settings give it another job (never switch off a
     * breaker output or the other alarm output from here). */
    const int was[2] = {g->cfg.thr.common_alarm_output, g->cfg.thr.audible_alarm_output};
    const int now[2] = {thr->common_alarm_output, thr->audible_alarm_output};
    for (int i = 0; i < 2; i++) {
        if (was[i] == now[i]) continue;
        if (was[i] != thr->tr_breaker_output && was[i] != now[1 - i])
            command_output(g, was[i], 0, g->rt.last_ts_us);
        g->rt.out_told[i] = -1;
    }
    g->cfg.thr = *thr;
    if (g->rt.seen) drive_alarm_outputs(g, g->rt.last_ts_us);
    return 0;
}

int ow_engine_set_settings(ow_engine_t *e, const char *gw, const ow_gateway_cfg_t *src)
{
    gw_t *g = find_gw(e, gw);
    if (!g || !src || ow_engine_set_thresholds(e, gw, &src->thr) < 0) return -1;
    ow_gateway_copy_settings(&g->cfg, src);
    return 0;
}

const ow_gateway_cfg_t *ow_engine_gateway(const ow_engine_t *e, const char *gw)
{
    gw_t *g = find_gw(e, gw);
    return g ? &g->cfg : NULL;
}

int ow_engine_ack(ow_engine_t *e, const char *gw, uint64_t id, int64_t ts_us)
{
    int n = 0, found = 0;
    if (!e) return 0;
    for (int i = 0; i < e->ngw; i++) {
        gw_t *g = &e->gw[i];
        size_t na;
        if (gw && gw[0] && strcmp(gw, g->cfg.id) != 0) continue;
        slot_t **act = active_by_id(&g->rt, &na);
        for (size_t k = 0; k < na; k++) {
            slot_t *sl = act[k];
            if (id && sl->a.id != id) continue;
            found++;
            if (sl->acked) continue;
            sl->acked = 1;
            n++;
            ow_alarm_t ev = sl->a;
            strcpy(ev.action, "ack");
            g->rt.dirty = 1;
            emit_alarm(g, &ev, ts_us);
        }
        free(act);
        update_state(g, ts_us);
    }
    /* Naming an alarm that is already acknowledged is no error. */
    return id ? found : n;
}

int ow_engine_set_baseline(ow_engine_t *e, const char *gw, int module, double mohm)
{
    gw_t *g = find_gw(e, gw);
    if (!g || module < 1 || module > g->cfg.nmodules || !(isnan(mohm) || mohm > 0)) return -1;
    if (ow_diag_set_baseline(g->diag, module, mohm) < 0) return -1;
    /* Deviations from the old baseline mean nothing any more (a block was
     * replaced or measured again): what they raised clears now. */
    char who[96], text[256];
    int s = g->mod_string[module - 1];
    subject(g, s, module, who, sizeof who);
    snprintf(text, sizeof text, "%s: impedance baseline %s", who, isnan(mohm) ? "reset" : "set");
    clear_alarm(g, g->rt.last_ts_us, GBMS_A_BASELINE_WARN, s, module, NAN, text);
    clear_alarm(g, g->rt.last_ts_us, GBMS_A_BASELINE_ALARM, s, module, NAN, text);
    update_state(g, g->rt.last_ts_us);
    return 0;
}

double ow_engine_baseline(const ow_engine_t *e, const char *gw, int module)
{
    const gw_t *g = find_gw((ow_engine_t *)e, gw);
    return g ? ow_diag_baseline(g->diag, module) : NAN;
}

int ow_engine_captest(ow_engine_t *e, const char *gw, int string, double rated_h,
                      double end_v_per_cell)
{
    gw_t *g = find_gw(e, gw);
    return g ? ow_diag_captest(g->diag, string, rated_h, end_v_per_cell) : -1;
}

int ow_engine_active(const ow_engine_t *e, const char *gw, ow_alarm_t *out, int max)
{
    int n = 0;
    if (!e) return 0;
    for (int i = 0; i < e->ngw; i++) {
        const gw_t *g = &e->gw[i];
        size_t na;
        if (gw && gw[0] && strcmp(gw, g->cfg.id) != 0) continue;
        if (!out || n >= max) { /* counting only */
            for (size_t k = 0; k < g->rt.n; k++)
                n += g->rt.v[k].active;
            continue;
        }
        slot_t **act = active_by_id(&g->rt, &na);
        for (size_t k = 0; k < na; k++, n++)
            if (n < max) out[n] = act[k]->a;
        free(act);
    }
    return n;
}

const ow_state_t *ow_engine_state(const ow_engine_t *e, const char *gw)
{
    gw_t *g = find_gw(e, gw);
    return g ? &g->rt.st : NULL;
}
