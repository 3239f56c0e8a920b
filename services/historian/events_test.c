/* events.c against a real PostgreSQL (pgtest.h's private cluster): every
 * event kind in its table with the values it came with, a discharge's end
 * completing its start in either order, an operator's command in the audit
 * log only, and a replayed batch changing nothing. */
#include "events.h"

#include <math.h>
#include <stdio.h>

#include "migrate.h"
#include "ow_gbms.h"
#include "hist_test.h"
#include "ow_test.h"
#include "pgtest.h"
#include "sitesync.h"

static void add(ow_batch_t *b, ow_msg_t m)
{
    CHECK(ow_batch_add(b, &m) == 1);
    ow_batch_position(b, m.h.pub, m.h.epoch, m.h.seq);
}

static ow_msg_t alarm_msg(uint64_t id, const char *action, int type, int64_t ts, int64_t raised,
                          int64_t cleared, uint64_t seq)
{
    ow_msg_t m = ev(OW_MSG_ALARM, ts, seq);
    ow_alarm_t *a = &m.u.alarm;
    a->id = id;
    a->type = type;
    a->severity = OW_SEV_ALARM;
    snprintf(a->action, sizeof a->action, "%s", action);
    a->string = 1;
    a->module = 3;
    a->value = 14.7;
    a->threshold = 14.4;
    a->raised_us = raised;
    a->cleared_us = cleared;
    snprintf(a->text, sizeof a->text, "Block 3 voltage high: 14.70 V \xe2\x89\xa5 14.40 V");
    return m;
}

static ow_msg_t discharge_msg(const char *action, int64_t start, int64_t end, uint64_t seq)
{
    ow_msg_t m = ev(OW_MSG_DISCHARGE, end ? end : start, seq);
    ow_discharge_t *d = &m.u.discharge;
    d->string = 1;
    snprintf(d->action, sizeof d->action, "%s", action);
    snprintf(d->mode, sizeof d->mode, "current");
    d->start_us = start;
    d->end_us = end;
    if (end) {
        d->duration_s = (double)(end - start) / S_US;
        d->ah_removed = 12.5;
        d->min_current_a = -20.5;
        d->min_module = 3;
        d->min_voltage_v = 11.25;
        d->end_voltage_v = 48.5;
        /* a 1 h capacity test of a 10 h rating at 25 C: 10 % by IEEE 450 */
        d->test = 1, d->rated_h = 10, d->end_v_per_cell = 1.75, d->temp_c = 25;
        d->capacity_pct = 10, d->dod_pct = 25;
        snprintf(d->method, sizeof d->method, "time-adjusted");
    } else {
        d->duration_s = 0;
        d->end_voltage_v = 52.25;
    }
    return m;
}

static void test_events(ow_db_t *db)
{
    char err[512];
    uint64_t ins = 7;
    int64_t t = D0 + 12 * 3600 * S_US;
    ow_batch_t *b = ow_batch_new();
    add(b, alarm_msg(42, "raise", GBMS_A_VOLTAGE_HIGH, t, t, 0, 1));
    add(b, alarm_msg(42, "ack", GBMS_A_VOLTAGE_HIGH, t + 30 * S_US, t, 0, 2));
    add(b, alarm_msg(42, "clear", GBMS_A_VOLTAGE_HIGH, t + 60 * S_US, t, t + 60 * S_US, 3));
    ow_msg_t u = alarm_msg(43, "raise", 999, t, t, 0, 4);
    u.u.alarm.value = NAN;
    u.u.alarm.threshold = NAN;
    add(b, u);
    ow_msg_t st = ev(OW_MSG_STATE, t, 5);
    st.u.state.general = 0x0003;
    st.u.state.alarm = 0x0004;
    st.u.state.alarms_active = 1;
    st.u.state.module_alarms = 1;
    st.u.state.audible = 1;
    add(b, st);
    add(b, discharge_msg("start", t, 0, 6));
    ow_msg_t bl = ev(OW_MSG_BASELINE, t, 7);
    bl.u.baseline = (ow_baseline_t){1, 2, 5.0, 5.5, 10.0, NAN, 0};
    add(b, bl);
    ow_msg_t bl2 = ev(OW_MSG_BASELINE, t + S_US, 8);
    bl2.u.baseline = (ow_baseline_t){1, 2, 5.0, 6.0, 20.0, 15.5, t + 400 * DAY_US};
    add(b, bl2);
    ow_msg_t cf = ev(OW_MSG_CONFIG, t, 9);
    snprintf(cf.u.config.key, sizeof cf.u.config.key, "thresholds.voltage_v.high_alarm");
    cf.u.config.value = 14.5;
    cf.u.config.old_value = NAN;
    snprintf(cf.u.config.source, sizeof cf.u.config.source, "control");
    snprintf(cf.u.config.who, sizeof cf.u.config.who, "snmpd/nms");
    snprintf(cf.u.config.new_, sizeof cf.u.config.new_, "14.5");
    add(b, cf);
    ow_msg_t ctl = ev(OW_MSG_CONTROL, t, 10);
    CHECK(ow_batch_add(b, &ctl) == 0);
    CHECK(ow_batch_rows(b) == 9);

    CHECK_MSG(ow_db_write(db, b, &ins, err, sizeof err) == 0, "%s", err);
    CHECK(ins == 0); /* events are not readings */
    CHECK(pgt_qi("SELECT count(*) FROM alarm_events WHERE id = 42") == 3);
    CHECK_STR(pgt_q("SELECT name FROM alarm_events WHERE id = 42 AND action = 'raise'"),
              gbms_alarm_find(GBMS_A_VOLTAGE_HIGH)->name);
    CHECK_STR(pgt_q("SELECT name || '|' || coalesce(value::text, 'null') FROM alarm_events "
                    "WHERE id = 43"),
              "?|null");
    CHECK_STR(pgt_q("SELECT coalesce(cleared_at::text, 'null') FROM alarm_events WHERE id = 42 AND "
                    "action = 'raise'"),
              "null");
    CHECK_STR(pgt_q("SELECT cleared_at FROM alarm_events WHERE id = 42 AND action = 'clear'"),
              "2024-05-01 12:01:00+00");
    CHECK_STR(pgt_q("SELECT ts FROM alarm_events WHERE id = 42 AND action = 'ack'"),
              "2024-05-01 12:00:30+00");
    CHECK_STR(
        pgt_q("SELECT value || '|' || threshold || '|' || severity || '|' || string || '|' || "
              "module || '|' || type || '|' || text FROM alarm_events WHERE id = 42 AND "
              "action = 'raise'"),
        "14.7|14.4|2|1|3|6|Block 3 voltage high: 14.70 V \xe2\x89\xa5 14.40 V");
    CHECK_STR(
        pgt_q("SELECT general || '|' || battery || '|' || alarm || '|' || alarms_active || '|' "
              "|| module_alarms || '|' || module_warnings || '|' || audible FROM "
              "gateway_states"),
        "3|0|4|1|1|0|true");
    CHECK_STR(
        pgt_q("SELECT coalesce(end_at::text, 'null') || '|' || duration_s || '|' || "
              "coalesce(ah_removed::text, 'null') || '|' || coalesce(min_module::text, 'null') "
              "|| '|' || end_voltage_v || '|' || mode FROM discharge_events"),
        "null|0|null|null|52.25|current");
    CHECK_STR(pgt_q("SELECT coalesce(slope_pct_per_year::text, 'null') || '|' || "
                    "coalesce(alarm_at::text, 'null') || '|' || deviation_pct FROM "
                    "impedance_baselines WHERE impedance_mohm = 5.5"),
              "null|null|10");
    CHECK_STR(pgt_q("SELECT slope_pct_per_year || '|' || alarm_at FROM impedance_baselines "
                    "WHERE impedance_mohm = 6"),
              "15.5|2025-06-05 12:00:00+00");
    CHECK_STR(pgt_q("SELECT key || '|' || value || '|' || coalesce(old_value::text, 'null') || '|' "
                    "|| source FROM config_changes"),
              "thresholds.voltage_v.high_alarm|14.5|null|control");
    CHECK_STR(
        pgt_q("SELECT who || '|' || what || '|' || old || '|' || new || '|' || source || '|' || "
              "value FROM audit_log"),
        "snmpd/nms|thresholds.voltage_v.high_alarm||14.5|control|14.5");
    CHECK(pgt_qi("SELECT seq FROM ingest_positions WHERE pub = 'alarmd'") == 9);

    /* The end completes the one row; a replayed start leaves it complete;
     * the whole first batch again adds nothing. */
    ow_batch_t *e = ow_batch_new();
    add(e, discharge_msg("end", t, t + 3600 * S_US, 11));
    /* an operator's command: in the audit log only, its value may be null */
    ow_msg_t ack = ev(OW_MSG_CONFIG, t + S_US, 12);
    snprintf(ack.u.config.key, sizeof ack.u.config.key, "baseline.module.3");
    snprintf(ack.u.config.source, sizeof ack.u.config.source, "command");
    snprintf(ack.u.config.who, sizeof ack.u.config.who, "cli/alice");
    snprintf(ack.u.config.old, sizeof ack.u.config.old, "4.6");
    snprintf(ack.u.config.new_, sizeof ack.u.config.new_, "reset");
    ack.u.config.value = NAN;
    ack.u.config.old_value = 4.6;
    add(e, ack);
    CHECK_MSG(ow_db_write(db, e, &ins, err, sizeof err) == 0, "%s", err);
    CHECK(pgt_count("discharge_events") == 1);
    CHECK(pgt_count("config_changes") == 1);
    CHECK_STR(
        pgt_q("SELECT who || '|' || old || '|' || new || '|' || coalesce(value::text, 'null') || "
              "'|' || old_value FROM audit_log WHERE what = 'baseline.module.3'"),
        "cli/alice|4.6|reset|null|4.6");
    const char *done = "2024-05-01 13:00:00+00|3600|12.5|-20.5|3|11.25|48.5";
    CHECK_STR(
        pgt_q("SELECT end_at || '|' || duration_s || '|' || ah_removed || '|' || min_current_a "
              "|| '|' || min_module || '|' || min_voltage_v || '|' || end_voltage_v FROM "
              "discharge_events"),
        done);
    CHECK_STR(
        pgt_q("SELECT test || '|' || rated_h || '|' || end_v_per_cell || '|' || temp_c || '|' "
              "|| capacity_pct || '|' || method || '|' || dod_pct FROM discharge_events"),
        "true|10|1.75|25|10|time-adjusted|25");
    CHECK_MSG(ow_db_write(db, b, &ins, err, sizeof err) == 0, "%s", err);
    CHECK(pgt_count("discharge_events") == 1);
    CHECK_STR(
        pgt_q("SELECT end_at || '|' || duration_s || '|' || ah_removed || '|' || min_current_a "
              "|| '|' || min_module || '|' || min_voltage_v || '|' || end_voltage_v FROM "
              "discharge_events"),
        done);
    CHECK(pgt_count("alarm_events") == 4);
    CHECK(pgt_count("gateway_states") == 1);
    CHECK(pgt_count("impedance_baselines") == 2);
    CHECK(pgt_count("config_changes") == 1);
    ow_batch_destroy(&b);
    ow_batch_destroy(&e);
}

int main(void)
{
    char err[512];
    ow_db_t *db = pgt_start_db("events-test");
    if (!db) return 1;
    ow_gateway_cfg_t gws[2];
    ow_site_t site;
    pgt_site(gws, &site);
    CHECK_MSG(ow_migrate_apply(db, NULL, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(ow_sitesync_run(db, &site, err, sizeof err) == 0, "%s", err);
    test_events(db);
    ow_db_close(&db);
    return ow_test_done("events_test");
}
