/* The events of a batch (events.h): alarms, gateway states, discharges,
 * impedance baselines and configuration changes, one parameterized INSERT a
 * row (two for a setting: config_changes and audit_log) inside the batch's
 * transaction. */
#include "events.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "db_int.h"
#include "ow_gbms.h"

/* The stored name of gateway i (unescaped, sanitized). */
static void gw_clean(const ow_batch_t *b, uint16_t i, char *out, size_t len)
{
    ow_dbfmt_utf8(out, len, b->gws.v[i].id, OW_ID_MAX);
}

/* alarm_events: one row per raise, ack and clear of an alarm. */
static int write_alarms(ow_db_t *db, const ow_batch_t *b, char *err, size_t errlen)
{
    char gw[OW_ID_MAX], t0[40], t1[40], t2[40], i0[24], i1[24], i2[24], i3[24], i4[24];
    char d0[32], d1[32];
    for (size_t i = 0; i < b->alarm.n; i++) {
        const alarm_row_t *r = &b->alarm.v[i];
        const ow_alarm_t *a = &r->a;
        const gbms_alarm_t *cat = gbms_alarm_find(a->type);
        gw_clean(b, r->gw, gw, sizeof gw);
        snprintf(i0, sizeof i0, "%llu", (unsigned long long)a->id);
        const char *p[] = {i0,
                           a->action,
                           ow_dbfmt_param_ts(t0, r->ts_us),
                           gw,
                           ow_dbfmt_param_i64(i1, a->type),
                           cat && cat->name ? cat->name : "?",
                           ow_dbfmt_param_i64(i2, a->severity),
                           ow_dbfmt_param_i64(i3, a->string),
                           ow_dbfmt_param_i64(i4, a->module),
                           ow_dbfmt_param_double_null(d0, sizeof d0, a->value),
                           ow_dbfmt_param_double_null(d1, sizeof d1, a->threshold),
                           ow_dbfmt_param_ts(t1, a->raised_us),
                           a->cleared_us ? ow_dbfmt_param_ts(t2, a->cleared_us) : NULL,
                           a->text};
        if (ow_db_run(
                db, "writing alarm events",
                "INSERT INTO alarm_events (id, action, ts, gw, type, name, severity, string, "
                "module, value, threshold, raised_at, cleared_at, text) VALUES ($1, $2, $3, $4, "
                "$5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING",
                14, p, PGRES_COMMAND_OK, NULL, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* gateway_states: the flag words of a gateway as alarmd published them. */
static int write_states(ow_db_t *db, const ow_batch_t *b, char *err, size_t errlen)
{
    char gw[OW_ID_MAX], t0[40], i0[24], i1[24], i2[24], i3[24], i4[24], i5[24];
    for (size_t i = 0; i < b->state.n; i++) {
        const state_row_t *r = &b->state.v[i];
        gw_clean(b, r->gw, gw, sizeof gw);
        const char *p[] = {ow_dbfmt_param_ts(t0, r->ts_us),
                           gw,
                           ow_dbfmt_param_i64(i0, (int32_t)r->general),
                           ow_dbfmt_param_i64(i1, (int32_t)r->battery),
                           ow_dbfmt_param_i64(i2, (int32_t)r->alarm),
                           ow_dbfmt_param_i64(i3, r->alarms_active),
                           ow_dbfmt_param_i64(i4, r->module_alarms),
                           ow_dbfmt_param_i64(i5, r->module_warnings),
                           r->audible ? "true" : "false"};
        if (ow_db_run(
                db, "writing gateway states",
                "INSERT INTO gateway_states (ts, gw, general, battery, alarm, alarms_active, "
                "module_alarms, module_warnings, audible) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                "$9) ON CONFLICT DO NOTHING",
                9, p, PGRES_COMMAND_OK, NULL, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* discharge_events: one row per discharge, by (gw, string, start_at). */
static int write_discharges(ow_db_t *db, const ow_batch_t *b, char *err, size_t errlen)
{
    char gw[OW_ID_MAX], t0[40], t1[40], i0[24], i1[24];
    char d0[32], d1[32], d2[32], d3[32], d4[32];
    char c0[32], c1[32], c2[32], c3[32], c4[32];
    /* A start never overwrites; an end completes the row (or makes it, when
     * the start was lost), so either order in a batch ends the same. */
    for (size_t i = 0; i < b->dis.n; i++) {
        const dis_row_t *r = &b->dis.v[i];
        const ow_discharge_t *d = &r->d;
        int end = strcmp(d->action, "end") == 0;
        gw_clean(b, r->gw, gw, sizeof gw);
        const char *p[] = {gw,
                           ow_dbfmt_param_i64(i0, d->string),
                           ow_dbfmt_param_ts(t0, d->start_us),
                           d->end_us ? ow_dbfmt_param_ts(t1, d->end_us) : NULL,
                           ow_dbfmt_param_double(d0, sizeof d0, d->duration_s),
                           ow_dbfmt_param_double_null(d1, sizeof d1, d->ah_removed),
                           ow_dbfmt_param_double_null(d2, sizeof d2, d->min_current_a),
                           d->min_module ? ow_dbfmt_param_i64(i1, d->min_module) : NULL,
                           ow_dbfmt_param_double_null(d3, sizeof d3, d->min_voltage_v),
                           ow_dbfmt_param_double_null(d4, sizeof d4, d->end_voltage_v),
                           d->mode,
                           d->test ? "true" : "false",
                           ow_dbfmt_param_double_null(c0, sizeof c0, d->rated_h),
                           ow_dbfmt_param_double_null(c1, sizeof c1, d->end_v_per_cell),
                           ow_dbfmt_param_double_null(c2, sizeof c2, d->temp_c),
                           ow_dbfmt_param_double_null(c3, sizeof c3, d->capacity_pct),
                           d->method[0] ? d->method : NULL,
                           ow_dbfmt_param_double_null(c4, sizeof c4, d->dod_pct)};
        if (ow_db_run(
                db, "writing discharge events",
                end ? "INSERT INTO discharge_events (gw, string, start_at, end_at, duration_s, "
                      "ah_removed, min_current_a, min_module, min_voltage_v, end_voltage_v, mode, "
                      "test, rated_h, end_v_per_cell, temp_c, capacity_pct, method, dod_pct) "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
                      "$16, $17, $18) "
                      "ON CONFLICT (gw, string, start_at) DO UPDATE SET end_at = EXCLUDED.end_at, "
                      "duration_s = EXCLUDED.duration_s, ah_removed = EXCLUDED.ah_removed, "
                      "min_current_a = EXCLUDED.min_current_a, min_module = EXCLUDED.min_module, "
                      "min_voltage_v = EXCLUDED.min_voltage_v, "
                      "end_voltage_v = EXCLUDED.end_voltage_v, test = EXCLUDED.test, "
                      "rated_h = EXCLUDED.rated_h, end_v_per_cell = EXCLUDED.end_v_per_cell, "
                      "temp_c = EXCLUDED.temp_c, capacity_pct = EXCLUDED.capacity_pct, "
                      "method = EXCLUDED.method, dod_pct = EXCLUDED.dod_pct"
                    : "INSERT INTO discharge_events (gw, string, start_at, end_at, duration_s, "
                      "ah_removed, min_current_a, min_module, min_voltage_v, end_voltage_v, mode, "
                      "test, rated_h, end_v_per_cell, temp_c, capacity_pct, method, dod_pct) "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
                      "$16, $17, $18) "
                      "ON CONFLICT DO NOTHING",
                18, p, PGRES_COMMAND_OK, NULL, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* impedance_baselines: a module's impedance against its baseline. */
static int write_baselines(ow_db_t *db, const ow_batch_t *b, char *err, size_t errlen)
{
    char gw[OW_ID_MAX], t0[40], t1[40], i0[24], i1[24];
    char d0[32], d1[32], d2[32], d3[32];
    for (size_t i = 0; i < b->base.n; i++) {
        const base_row_t *r = &b->base.v[i];
        const ow_baseline_t *x = &r->b;
        gw_clean(b, r->gw, gw, sizeof gw);
        const char *p[] = {ow_dbfmt_param_ts(t0, r->ts_us),
                           gw,
                           ow_dbfmt_param_i64(i0, x->string),
                           ow_dbfmt_param_i64(i1, x->module),
                           ow_dbfmt_param_double(d0, sizeof d0, x->baseline_mohm),
                           ow_dbfmt_param_double(d1, sizeof d1, x->impedance_mohm),
                           ow_dbfmt_param_double(d2, sizeof d2, x->deviation_pct),
                           ow_dbfmt_param_double_null(d3, sizeof d3, x->slope_pct_per_year),
                           x->alarm_at_us ? ow_dbfmt_param_ts(t1, x->alarm_at_us) : NULL};
        if (ow_db_run(
                db, "writing impedance baselines",
                "INSERT INTO impedance_baselines (ts, gw, string, module, baseline_mohm, "
                "impedance_mohm, deviation_pct, slope_pct_per_year, alarm_at) VALUES ($1, $2, $3, "
                "$4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                9, p, PGRES_COMMAND_OK, NULL, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* config_changes for a setting, audit_log for every change and command. */
static int write_configs(ow_db_t *db, const ow_batch_t *b, char *err, size_t errlen)
{
    char gw[OW_ID_MAX], t0[40], d0[32], d1[32];
    for (size_t i = 0; i < b->cfg.n; i++) {
        const cfg_row_t *r = &b->cfg.v[i];
        const ow_config_t *c = &r->c;
        gw_clean(b, r->gw, gw, sizeof gw);
        const char *p[] = {ow_dbfmt_param_ts(t0, r->ts_us),
                           gw,
                           c->key,
                           ow_dbfmt_param_double_null(d0, sizeof d0, c->value),
                           ow_dbfmt_param_double_null(d1, sizeof d1, c->old_value),
                           c->source,
                           c->who,
                           c->old,
                           c->new_};
        /* config_changes holds settings (a number each); an operator's
         * command (ack, output, ...) is in the audit log only */
        if (strcmp(c->source, "command") != 0 && !isnan(c->value) &&
            ow_db_run(
                db, "writing config changes",
                "INSERT INTO config_changes (ts, gw, key, value, old_value, source) VALUES ($1, "
                "$2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                6, p, PGRES_COMMAND_OK, NULL, err, errlen) < 0)
            return -1;
        if (ow_db_run(
                db, "writing the audit log",
                "INSERT INTO audit_log (ts, gw, what, value, old_value, source, who, old, new) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                9, p, PGRES_COMMAND_OK, NULL, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* Events are rare: one parameterized statement each. */
int ow_events_write(ow_db_t *db, const ow_batch_t *b, char *err, size_t errlen)
{
    if (write_alarms(db, b, err, errlen) < 0 || write_states(db, b, err, errlen) < 0 ||
        write_discharges(db, b, err, errlen) < 0 || write_baselines(db, b, err, errlen) < 0 ||
        write_configs(db, b, err, errlen) < 0)
        return -1;
    return 0;
}
