/* alarmd's engine state: ow_engine_save and ow_engine_load (engine.h), the
 * engine's part of the state file (README.md, "Persistence"). Apart from the
 * evaluation in engine.c so that the file format has one home; a load builds
 * every gateway aside and swaps only when the whole file was good. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "ow_gbms.h"
#include "ow_jfield.h"

#define STATE_VERSION 1

static json_t *jwords(const uint16_t *w, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(w[i]));
    return a;
}

static json_t *save_gw(const gw_t *g)
{
    const rt_t *r = &g->rt;
    json_t *j = json_object(), *alarms = json_array(), *pending = json_array();
    json_t *lost = json_array(), *volts = json_array(), *currents = json_array();

    for (size_t k = 0; k < r->n; k++) {
        const slot_t *sl = &r->v[k];
        int code = (int)(sl->key >> 32), s = (int)(sl->key >> 16 & 0xffff),
            m = (int)(sl->key & 0xffff);
        if (sl->active)
            json_array_append_new(alarms,
                                  json_pack("{s:I,s:i,s:i,s:i,s:o,s:o,s:I,s:s,s:b}", "id",
                                            (json_int_t)sl->a.id, "code", code, "string", s,
                                            "module", m, "value", ow_jfield_jnum(sl->a.value),
                                            "threshold", ow_jfield_jnum(sl->a.threshold),
                                            "raised_us", (json_int_t)sl->a.raised_us, "text",
                                            sl->a.text, "acked", sl->acked));
        else if (sl->pending)
            json_array_append_new(pending,
                                  json_pack("{s:i,s:i,s:i,s:I}", "code", code, "string", s,
                                            "module", m, "since_us", (json_int_t)sl->since_us));
    }
    for (int m = 1; m <= g->cfg.nmodules; m++) {
        if (r->lost[m - 1]) json_array_append_new(lost, json_pack("[i,i]", m, r->lost[m - 1]));
        if (r->cyc_seen[m - 1])
            json_array_append_new(volts, json_pack("[i,o]", m, ow_jfield_jnum(r->cyc_v[m - 1])));
    }
    for (int s = 1; s <= g->cfg.nstrings; s++)
        json_array_append_new(currents, ow_jfield_jnum(r->cyc_i[s]));
    json_object_set_new(j, "alarms", alarms);
    json_object_set_new(j, "pending", pending);
    json_object_set_new(j, "comm_lost", lost);
    json_object_set_new(j, "cycle",
                        json_pack("{s:o,s:o,s:b,s:I,s:b,s:I,s:I,s:f}", "voltages", volts,
                                  "currents", currents, "seen", r->seen, "heartbeats",
                                  (json_int_t)r->heartbeats, "complete", r->complete, "last_ts_us",
                                  (json_int_t)r->last_ts_us, "period_us", (json_int_t)r->period_us,
                                  "speed", r->speed));
    json_object_set_new(j, "breaker",
                        json_pack("{s:b,s:I}", "commanded", r->breaker_cmd, "since_us",
                                  (json_int_t)r->breaker_cmd_us));
    const ow_state_t *st = &r->st;
    json_object_set_new(j, "flags",
                        json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:o,s:o,s:o}", "general",
                                  (int)st->general, "battery", (int)st->battery, "alarm",
                                  (int)st->alarm, "alarms_active", st->alarms_active,
                                  "module_alarms", st->module_alarms, "module_warnings",
                                  st->module_warnings, "audible", st->audible, "string_flags",
                                  jwords(st->string_flags, st->nstrings), "string_flags2",
                                  jwords(st->string_flags2, st->nstrings), "module_flags",
                                  jwords(st->module_flags, st->nmodules)));
    json_t *d = ow_diag_save(g->diag);
    json_object_set_new(j, "diag", d ? d : json_null());
    return j;
}

json_t *ow_engine_save(const ow_engine_t *e)
{
    if (!e) return NULL;
    json_t *gws = json_object();
    for (int i = 0; i < e->ngw; i++)
        json_object_set_new(gws, e->gw[i].cfg.id, save_gw(&e->gw[i]));
    return json_pack("{s:i,s:I,s:o}", "version", STATE_VERSION, "next_id", (json_int_t)e->next_id,
                     "gateways", gws);
}

/* Read back with the strict readers of ow_jfield.h; each message names the
 * gateway and the key. */

static int lsource(ow_jfield_t *c, const gw_t *g, const json_t *o, int *code, int *s, int *m)
{
    int64_t x, y, z;
    if (ow_jfield_int(c, o, "code", 1, 0xffff, &x) < 0 ||
        ow_jfield_int(c, o, "string", 0, OW_MAX_STRINGS, &y) < 0 ||
        ow_jfield_int(c, o, "module", 0, OW_MAX_MODULES, &z) < 0)
        return -1;
    if (!gbms_alarm_find((int)x)) return ow_jfield_fail(c, "code", "not in the alarm catalogue");
    if (y > g->cfg.nstrings) return ow_jfield_fail(c, "string", "not a string of the gateway");
    *code = (int)x, *s = (int)y, *m = (int)z;
    return 0;
}

static int lwords(ow_jfield_t *c, const json_t *o, const char *key, uint16_t *w, int n)
{
    const json_t *a = json_object_get(o, key), *v;
    size_t i;
    if (!json_is_array(a)) return ow_jfield_fail(c, key, "expected an array");
    json_array_foreach(a, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0xffff)
            return ow_jfield_fail(c, key, "expected 16-bit words");
        if ((int)i < n) w[i] = (uint16_t)json_integer_value(v);
    }
    return 0;
}

static int load_gw(ow_jfield_t *c, const gw_t *g, const json_t *j, rt_t *r, uint64_t *max_id)
{
    const json_t *a, *v, *o;
    size_t i;
    int64_t x;

    if (!json_is_object(j)) return ow_jfield_fail(c, "gateway", "expected an object");
    a = json_object_get(j, "alarms");
    if (!json_is_array(a)) return ow_jfield_fail(c, "alarms", "expected an array");
    json_array_foreach(a, i, v)
    {
        int code, s, m, acked;
        double val, thr;
        const char *text = json_string_value(json_object_get(v, "text"));
        snprintf(c->where, sizeof c->where, "alarms[%zu]", i);
        if (!json_is_object(v)) return ow_jfield_fail(c, "", "expected an object");
        if (lsource(c, g, v, &code, &s, &m) < 0 ||
            ow_jfield_int(c, v, "id", 1, INT64_MAX, &x) < 0 ||
            ow_jfield_numv(c, json_object_get(v, "value"), "value", &val) < 0 ||
            ow_jfield_numv(c, json_object_get(v, "threshold"), "threshold", &thr) < 0 ||
            ow_jfield_bool(c, v, "acked", &acked) < 0)
            return -1;
        if (!text) return ow_jfield_fail(c, "text", "expected a string");
        slot_t *sl = ow_engine_slot_get(r, ow_engine_key(code, s, m));
        if (!sl) return ow_jfield_fail(c, "", "out of memory");
        if (sl->active) return ow_jfield_fail(c, "", "the same alarm twice");
        sl->active = 1;
        sl->acked = acked;
        sl->a.id = (uint64_t)x;
        if ((uint64_t)x > *max_id) *max_id = (uint64_t)x;
        sl->a.type = code;
        sl->a.severity = gbms_alarm_find(code)->severity;
        strcpy(sl->a.action, "raise");
        sl->a.string = s;
        sl->a.module = m;
        sl->a.value = val;
        sl->a.threshold = thr;
        if (ow_jfield_int(c, v, "raised_us", INT64_MIN, INT64_MAX, &x) < 0) return -1;
        sl->a.raised_us = x;
        ow_engine_set_text(&sl->a, text);
    }
    c->where[0] = '\0';
    a = json_object_get(j, "pending");
    if (!json_is_array(a)) return ow_jfield_fail(c, "pending", "expected an array");
    json_array_foreach(a, i, v)
    {
        int code, s, m;
        snprintf(c->where, sizeof c->where, "pending[%zu]", i);
        if (!json_is_object(v)) return ow_jfield_fail(c, "", "expected an object");
        if (lsource(c, g, v, &code, &s, &m) < 0 ||
            ow_jfield_int(c, v, "since_us", INT64_MIN, INT64_MAX, &x) < 0)
            return -1;
        slot_t *sl = ow_engine_slot_get(r, ow_engine_key(code, s, m));
        if (!sl) return ow_jfield_fail(c, "", "out of memory");
        if (sl->active || sl->pending) return ow_jfield_fail(c, "", "a timer of an active alarm");
        sl->pending = 1;
        sl->since_us = x;
    }
    c->where[0] = '\0';
    a = json_object_get(j, "comm_lost");
    if (!json_is_array(a)) return ow_jfield_fail(c, "comm_lost", "expected an array");
    json_array_foreach(a, i, v)
    {
        const json_t *m = json_array_get(v, 0), *n = json_array_get(v, 1);
        if (!json_is_integer(m) || !json_is_integer(n) || json_integer_value(n) < 0 ||
            json_integer_value(n) > 1000000)
            return ow_jfield_fail(c, "comm_lost", "element %zu: expected [module, polls]", i);
        json_int_t mi = json_integer_value(m);
        if (mi >= 1 && mi <= g->cfg.nmodules) r->lost[mi - 1] = (int)json_integer_value(n);
    }

    o = json_object_get(j, "cycle");
    if (!json_is_object(o)) return ow_jfield_fail(c, "cycle", "expected an object");
    snprintf(c->where, sizeof c->where, "cycle");
    a = json_object_get(o, "voltages");
    if (!json_is_array(a)) return ow_jfield_fail(c, "voltages", "expected an array");
    json_array_foreach(a, i, v)
    {
        const json_t *m = json_array_get(v, 0);
        double volts;
        if (!json_is_integer(m) || json_array_size(v) != 2 ||
            ow_jfield_numv(c, json_array_get(v, 1), "voltages", &volts) < 0)
            return ow_jfield_fail(c, "voltages", "element %zu: expected [module, volts]", i);
        json_int_t mi = json_integer_value(m);
        if (mi < 1 || mi > g->cfg.nmodules || r->cyc_seen[mi - 1]) continue;
        r->cyc_seen[mi - 1] = 1;
        r->cyc_nseen++;
        r->cyc_v[mi - 1] = volts;
    }
    a = json_object_get(o, "currents");
    if (!json_is_array(a)) return ow_jfield_fail(c, "currents", "expected an array");
    json_array_foreach(a, i, v)
    {
        double cur;
        if (ow_jfield_numv(c, v, "currents", &cur) < 0) return -1;
        if ((int)i < g->cfg.nstrings) r->cyc_i[i + 1] = cur;
    }
    if (ow_jfield_bool(c, o, "seen", &r->seen) < 0 ||
        ow_jfield_bool(c, o, "complete", &r->complete) < 0 ||
        ow_jfield_int(c, o, "heartbeats", 0, INT64_MAX, &x) < 0)
        return -1;
    r->heartbeats = (uint64_t)x;
    if (ow_jfield_int(c, o, "last_ts_us", INT64_MIN, INT64_MAX, &r->last_ts_us) < 0 ||
        ow_jfield_int(c, o, "period_us", 0, INT64_MAX, &r->period_us) < 0 ||
        ow_jfield_numv(c, json_object_get(o, "speed"), "speed", &r->speed) < 0)
        return -1;
    if (!(r->speed > 0)) r->speed = 1;

    c->where[0] = '\0';
    o = json_object_get(j, "breaker");
    if (!json_is_object(o)) return ow_jfield_fail(c, "breaker", "expected an object");
    snprintf(c->where, sizeof c->where, "breaker");
    if (ow_jfield_bool(c, o, "commanded", &r->breaker_cmd) < 0 ||
        ow_jfield_int(c, o, "since_us", INT64_MIN, INT64_MAX, &r->breaker_cmd_us) < 0)
        return -1;

    c->where[0] = '\0';
    o = json_object_get(j, "flags");
    if (!json_is_object(o)) return ow_jfield_fail(c, "flags", "expected an object");
    snprintf(c->where, sizeof c->where, "flags");
    ow_state_t *st = &r->st;
    const char *ik[] = {"general", "battery", "alarm"};
    uint32_t *iw[] = {&st->general, &st->battery, &st->alarm};
    for (int k = 0; k < 3; k++) {
        if (ow_jfield_int(c, o, ik[k], 0, 0xffffffffLL, &x) < 0) return -1;
        *iw[k] = (uint32_t)x;
    }
    const char *ck[] = {"alarms_active", "module_alarms", "module_warnings", "audible"};
    int *cw[] = {&st->alarms_active, &st->module_alarms, &st->module_warnings, &st->audible};
    for (int k = 0; k < 4; k++) {
        if (ow_jfield_int(c, o, ck[k], 0, 1000000, &x) < 0) return -1;
        *cw[k] = (int)x;
    }
    if (lwords(c, o, "string_flags", st->string_flags, st->nstrings) < 0 ||
        lwords(c, o, "string_flags2", st->string_flags2, st->nstrings) < 0 ||
        lwords(c, o, "module_flags", st->module_flags, st->nmodules) < 0)
        return -1;
    c->where[0] = '\0';
    return 0;
}

int ow_engine_load(ow_engine_t *e, const json_t *j, char *err, size_t errlen)
{
    const json_t *gws, *v;
    rt_t *nrt = NULL;
    ow_diag_t **nd = NULL;
    char *has = NULL;
    uint64_t next_id, max_id = 0;
    char prefix[OW_ID_MAX + 32] = "engine state: gateway -: ";
    ow_jfield_t c = {.err = err, .errlen = errlen, .prefix = prefix, .where = ""};
    int rc = -1;

    if (!e) return -1;
    if (!j) return 0; /* fresh start */
    if (!json_is_object(j)) {
        snprintf(err, errlen, "engine state: expected an object");
        return -1;
    }
    v = json_object_get(j, "version");
    if (!json_is_integer(v) || json_integer_value(v) != STATE_VERSION) {
        snprintf(err, errlen, "engine state: version: expected %d", STATE_VERSION);
        return -1;
    }
    v = json_object_get(j, "next_id");
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        snprintf(err, errlen, "engine state: next_id: expected an integer >= 1");
        return -1;
    }
    next_id = (uint64_t)json_integer_value(v);
    gws = json_object_get(j, "gateways");
    if (!json_is_object(gws)) {
        snprintf(err, errlen, "engine state: gateways: expected an object");
        return -1;
    }
    size_t n = e->ngw > 0 ? (size_t)e->ngw : 1;
    nrt = calloc(n, sizeof *nrt);
    nd = calloc(n, sizeof *nd);
    has = calloc(n, 1);
    if (!nrt || !nd || !has) {
        snprintf(err, errlen, "engine state: out of memory");
        goto out;
    }
    /* Build every gateway's state aside; swap only when all of it loaded. */
    for (int i = 0; i < e->ngw; i++) {
        gw_t *g = &e->gw[i];
        const json_t *jg = json_object_get(gws, g->cfg.id);
        if (!jg) continue; /* not in the file (new gateway): keeps its state */
        snprintf(prefix, sizeof prefix, "engine state: gateway %s: ", g->cfg.id);
        has[i] = 1;
        if (ow_engine_rt_init(&nrt[i], &g->cfg) < 0) {
            snprintf(err, errlen, "engine state: out of memory");
            goto out;
        }
        if (load_gw(&c, g, jg, &nrt[i], &max_id) < 0) goto out;
        nd[i] = ow_diag_new(&g->cfg);
        if (!nd[i]) {
            snprintf(err, errlen, "engine state: out of memory");
            goto out;
        }
        const json_t *jd = json_object_get(jg, "diag");
        if (jd && !json_is_null(jd)) {
            char derr[200];
            if (ow_diag_load(nd[i], jd, derr, sizeof derr) < 0) {
                snprintf(err, errlen, "engine state: gateway %s: diag: %s", g->cfg.id, derr);
                goto out;
            }
        }
    }
    for (int i = 0; i < e->ngw; i++) {
        if (!has[i]) continue;
        gw_t *g = &e->gw[i];
        ow_engine_rt_free(&g->rt);
        g->rt = nrt[i];
        memset(&nrt[i], 0, sizeof nrt[i]);
        ow_diag_destroy(&g->diag);
        g->diag = nd[i];
        nd[i] = NULL;
        /* the counter lives in the diag's part: the flags read back agree
         * with it before the first cycle recomputes them */
        ow_diag_status_t ds;
        ow_diag_status(g->diag, &ds);
        g->rt.st.discharges = ds.discharges;
        g->rt.st.eq_paused = ds.eq_paused;
    }
    e->next_id = next_id > max_id ? next_id : max_id + 1;
    rc = 0;
out:
    for (int i = 0; nrt && nd && i < e->ngw; i++) {
        ow_engine_rt_free(&nrt[i]);
        ow_diag_destroy(&nd[i]);
    }
    free(nrt);
    free(nd);
    free(has);
    return rc;
}
