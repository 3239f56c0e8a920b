/* One gateway's view and its sorted image; see view.h. */
#include "view.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "oidtab.h"

void ow_snmp_view_init(ow_snmp_view_t *v, const ow_gateway_cfg_t *cfg)
{
    memset(v, 0, sizeof *v);
    v->cfg = *cfg;
    for (int m = 0; m <= OW_MAX_MODULES; m++)
        v->mod[m] = (ow_sv_module_t){.v = NAN, .t = NAN, .r = NAN, .eq = NAN};
    for (int s = 0; s <= OW_MAX_STRINGS; s++)
        v->str[s] = (ow_sv_string_t){NAN, NAN, NAN, NAN};
    v->reshaped = 1;
}

void ow_snmp_view_free(ow_snmp_view_t *v)
{
    free(v->alarms);
    free(v->img);
    v->alarms = NULL;
    v->img = NULL;
    v->nalarms = v->calarms = v->nimg = v->cimg = 0;
}

/* Position of alarm id, or where it would go (*found 0). */
static int alarm_pos(const ow_snmp_view_t *v, uint64_t id, int *found)
{
    int lo = 0, hi = v->nalarms;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (v->alarms[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < v->nalarms && v->alarms[lo].id == id;
    return lo;
}

static ow_snmp_change_t apply_alarm(ow_snmp_view_t *v, const ow_alarm_t *a, uint32_t ticks)
{
    ow_snmp_change_t ch = {0, {a->id, a->type, ticks}};
    int found, at = alarm_pos(v, a->id, &found);
    if (strcmp(a->action, "raise") == 0 && !found) {
        if (v->nalarms == v->calarms) {
            int nc = v->calarms ? v->calarms * 2 : 16;
            ow_sv_alarm_t *p = realloc(v->alarms, (size_t)nc * sizeof *p);
            if (!p) return ch; /* the table misses it until the next snapshot */
            v->alarms = p;
            v->calarms = nc;
        }
        memmove(&v->alarms[at + 1], &v->alarms[at], (size_t)(v->nalarms - at) * sizeof *v->alarms);
        v->alarms[at] = ch.alarm;
        v->nalarms++;
        ch.what = 1;
    } else if (strcmp(a->action, "clear") == 0 && found) {
        ch.alarm = v->alarms[at];
        memmove(&v->alarms[at], &v->alarms[at + 1],
                (size_t)(v->nalarms - at - 1) * sizeof *v->alarms);
        v->nalarms--;
        ch.what = 2;
    }
    if (ch.what) v->reshaped = 1;
    return ch;
}

ow_snmp_change_t ow_snmp_view_apply(ow_snmp_view_t *v, const ow_msg_t *m, uint32_t ticks)
{
    ow_snmp_change_t none = {0, {0, 0, 0}};
    switch (m->kind) {
    case OW_MSG_MODULE: {
        const ow_module_t *x = &m->u.module;
        if (x->module < 1 || x->module > v->cfg.nmodules) return none;
        ow_sv_module_t *d = &v->mod[x->module];
        int nr = (x->status & OW_MODST_NO_RESPONSE) != 0;
        /* A block that does not answer has no values; its impedance is the
         * last measured one only while it answers. */
        *d = (ow_sv_module_t){.v = nr ? NAN : x->voltage_v,
                              .t = nr ? NAN : x->temp_c,
                              .r = nr ? NAN : x->impedance_mohm,
                              .eq = nr ? NAN : x->eq_pct,
                              .status = x->status,
                              .read = 1};
        v->dirty = 1;
        break;
    }
    case OW_MSG_STRING: {
        const ow_string_t *x = &m->u.string;
        if (x->string < 1 || x->string > v->cfg.nstrings) return none;
        v->str[x->string] =
            (ow_sv_string_t){x->current_a, x->ac_current_a, x->sum_voltage_v, x->avg_voltage_v};
        v->dirty = 1;
        break;
    }
    case OW_MSG_AUX:
        v->aux_in = m->u.aux.inputs;
        v->aux_out = m->u.aux.outputs;
        v->dirty = 1;
        break;
    case OW_MSG_STATE:
        v->st = m->u.state;
        v->dirty = 1;
        break;
    case OW_MSG_CONFIG:
        /* alarmd already validated it; a key we do not hold is ignored. */
        ow_snmp_view_setting(v, m->u.config.key, m->u.config.value);
        break;
    case OW_MSG_ALARM:
        return apply_alarm(v, &m->u.alarm, ticks);
    default:
        break;
    }
    return none;
}

int ow_snmp_view_setting(ow_snmp_view_t *v, const char *key, double value)
{
    if (ow_gateway_set(&v->cfg, key, value, NULL, 0) < 0) return -1;
    v->dirty = 1;
    return 0;
}

void ow_snmp_view_quiet(ow_snmp_view_t *v)
{
    /* As readings that say so, through view_apply: served exactly as a
     * block that does not answer and a string without its sensors. */
    ow_msg_t m = {.kind = OW_MSG_MODULE};
    for (int i = 1; i <= v->cfg.nmodules; i++) {
        m.u.module = (ow_module_t){.module = i,
                                   .voltage_v = NAN,
                                   .temp_c = NAN,
                                   .impedance_mohm = NAN,
                                   .eq_pct = NAN,
                                   .status = OW_MODST_NO_RESPONSE};
        ow_snmp_view_apply(v, &m, 0);
    }
    m.kind = OW_MSG_STRING;
    for (int s = 1; s <= v->cfg.nstrings; s++) {
        m.u.string = (ow_string_t){.string = s,
                                   .current_a = NAN,
                                   .ac_current_a = NAN,
                                   .sum_voltage_v = NAN,
                                   .avg_voltage_v = NAN,
                                   .power_kw = NAN,
                                   .ripple_v = NAN};
        ow_snmp_view_apply(v, &m, 0);
    }
    v->reshaped = 1; /* string rows go: served at once, not at the next rebuild */
}

/* ---- values on the wire ---- */

/* -2147483648 is OW_SNMP_NO_READING, which no value is served as. */
static double clamp32(double x)
{
    return x > 2147483647.0 ? 2147483647.0 : x < -2147483647.0 ? -2147483647.0 : x;
}

int32_t ow_snmp_to_wire(const ow_snmp_view_t *v, int row, double value)
{
    const ow_snmp_oid_t *o = &ow_snmp_oids[row];
    if (o->temp && ow_gateway_fahrenheit(&v->cfg)) value = value * 9.0 / 5.0 + 32.0;
    return (int32_t)clamp32(round(value / o->scale));
}

double ow_snmp_from_wire(const ow_snmp_view_t *v, int row, int32_t wire)
{
    const ow_snmp_oid_t *o = &ow_snmp_oids[row];
    double value = wire * o->scale;
    if (o->temp && ow_gateway_fahrenheit(&v->cfg)) value = (value - 32.0) * 5.0 / 9.0;
    /* Undo the binary noise of the scaling (12.3 V, not 12.299999999). */
    return round(value * 1e6) / 1e6;
}

/* ---- the image ---- */

static int push(ow_snmp_view_t *v, const ow_snmp_oid_t *o, int n, int inst, int32_t val)
{
    if (v->nimg == v->cimg) {
        int nc = v->cimg ? v->cimg * 2 : 1024;
        ow_snmp_vb_t *p = realloc(v->img, (size_t)nc * sizeof *p);
        if (!p) return -1;
        v->img = p;
        v->cimg = nc;
    }
    ow_snmp_vb_t *e = &v->img[v->nimg++];
    memcpy(e->o, ow_snmp_root, sizeof ow_snmp_root);
    for (int k = 0; k < n; k++)
        e->o[OW_SNMP_ROOTN + k] = (uint32_t)o->sub[k];
    e->len = (uint8_t)(OW_SNMP_ROOTN + n);
    if (o->inst != OW_I_SCALAR && o->inst != OW_I_AUX)
        e->o[e->len++] = (uint32_t)inst;
    else
        e->o[e->len++] = 0; /* scalar instance .0 */
    e->type = (uint8_t)o->type;
    e->val = val;
    return 0;
}

/* Rows are in OID order (oidtab_test checks it) and a column's instances are
 * visited in ascending order, so the image comes out sorted. */
int ow_snmp_view_build(ow_snmp_view_t *v)
{
    v->nimg = 0;
    for (int r = 0; r < ow_snmp_noids; r++) {
        const ow_snmp_oid_t *o = &ow_snmp_oids[r];
        if (!o->get) continue;
        int n = ow_snmp_sublen(o), count = 1;
        switch (o->inst) {
        case OW_I_MODULE:
            count = v->cfg.nmodules;
            break;
        case OW_I_STRING:
            count = v->cfg.nstrings;
            break;
        case OW_I_ALARM:
            count = v->nalarms;
            break;
        default:
            break;
        }
        for (int k = 0; k < count; k++) {
            /* modules and strings are 1-based, alarms index v->alarms */
            /* bacsAlarmId is the table's index, Integer32 (1..2147483647): a
             * larger id (a hand-edited alarmd state) cannot be a row, and cut
             * to an int it would take another alarm's (two rows, one OID). */
            if (o->inst == OW_I_ALARM && (v->alarms[k].id < 1 || v->alarms[k].id > INT32_MAX))
                continue;
            int inst = o->inst == OW_I_ALARM ? k : o->inst == OW_I_AUX ? o->sub[n - 1] : k + 1;
            double x;
            int got = o->get(v, o, inst, &x);
            if (!got) continue;
            int32_t wire = got == OW_SNMP_NONE ? OW_SNMP_NO_READING
                           : o->type == OW_T_INT && (o->scale != 1 || o->temp)
                               ? ow_snmp_to_wire(v, r, x)
                               : (int32_t)clamp32(round(x));
            int oi = o->inst == OW_I_ALARM ? (int)v->alarms[k].id : inst;
            if (push(v, o, n, oi, wire) < 0) return -1;
        }
    }
    v->dirty = v->reshaped = 0;
    return 0;
}

int ow_snmp_view_refresh(ow_snmp_view_t *v, int64_t now_us)
{
    /* Readings stream in all the time: they wait for the rebuild period.
     * A change of the alarm table (rows come or go) is served at once. */
    if (!v->reshaped && !(v->dirty && now_us - v->built_us >= OW_SNMP_REBUILD_US)) return 0;
    v->built_us = now_us;
    return ow_snmp_view_build(v);
}

int ow_snmp_oid_cmp(const uint32_t *a, int alen, const uint32_t *b, int blen)
{
    int n = alen < blen ? alen : blen;
    for (int i = 0; i < n; i++)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* First image entry > o (strict) or >= o. */
static int lower(const ow_snmp_view_t *v, const uint32_t *o, int len, int strict)
{
    int lo = 0, hi = v->nimg;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        int c = ow_snmp_oid_cmp(v->img[mid].o, v->img[mid].len, o, len);
        if (c < 0 || (strict && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const ow_snmp_vb_t *ow_snmp_view_get(const ow_snmp_view_t *v, const uint32_t *o, int len)
{
    int i = lower(v, o, len, 0);
    if (i < v->nimg && ow_snmp_oid_cmp(v->img[i].o, v->img[i].len, o, len) == 0) return &v->img[i];
    return NULL;
}

const ow_snmp_vb_t *ow_snmp_view_next(const ow_snmp_view_t *v, const uint32_t *o, int len)
{
    int i = lower(v, o, len, 1);
    return i < v->nimg ? &v->img[i] : NULL;
}

/* ---- SET ---- */

int ow_snmp_set_check(const ow_snmp_view_t *v, ow_snmp_set_t *s, char *err, size_t errlen)
{
    const ow_snmp_oid_t *o = &ow_snmp_oids[s->row];
    double lo, hi;
    if (o->access != OW_A_RW || !o->key) {
        snprintf(err, errlen, "%s is read-only", o->name);
        return OW_SET_NOT_WRITABLE;
    }
    s->value = ow_snmp_from_wire(v, s->row, s->wire);
    if (ow_gateway_range(o->key, &lo, &hi) < 0 || s->value < lo || s->value > hi) {
        snprintf(err, errlen, "%s = %d (%g): %s must be between %g and %g", o->name, s->wire,
                 s->value, o->key, lo, hi);
        return OW_SET_WRONG_VALUE;
    }
    return OW_SET_OK;
}

int ow_snmp_set_plan(const ow_snmp_view_t *v, ow_snmp_set_t *s, int n, char *err, size_t errlen)
{
    ow_gateway_cfg_t scratch = v->cfg;
    char why[256] = "";
    int done = 0;
    for (int i = 0; i < n; i++)
        ow_gateway_get(&v->cfg, ow_snmp_oids[s[i].row].key, &s[i].old);
    /* Apply what holds, retry the rest until nothing moves: raising a high
     * warning and its alarm together works whichever order they came in. */
    while (done < n) {
        int moved = 0;
        for (int i = done; i < n; i++) {
            if (ow_gateway_set(&scratch, ow_snmp_oids[s[i].row].key, s[i].value, why, sizeof why) <
                0)
                continue;
            ow_snmp_set_t t = s[done];
            s[done] = s[i];
            s[i] = t;
            done++;
            moved = 1;
        }
        if (!moved) {
            snprintf(err, errlen, "%s", why);
            return OW_SET_INCONSISTENT;
        }
    }
    return OW_SET_OK;
}
