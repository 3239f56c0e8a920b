/* batch.c without a server: what a batch keeps of each message kind, the
 * column bounds that refuse a message, the order rows wait in for the flush,
 * gateway names interned, positions overwritten, growth, the gateway table
 * full, and clear. Writing a batch (ow_db_write) needs a server: db_test. */
#include "batch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "hist_test.h"
#include "ow_test.h"

static ow_msg_t module_msg(const char *gw, uint64_t seq, int module, double v)
{
    ow_msg_t m = msg(OW_MSG_MODULE, gw, D0 + (int64_t)seq * S_US, seq);
    m.u.module = (ow_module_t){.string = 1,
                               .module = module,
                               .block = module,
                               .voltage_v = v,
                               .temp_c = 21.5,
                               .impedance_mohm = 4.75,
                               .eq_pct = 0,
                               .status = OW_MODST_EQUALIZING};
    return m;
}

/* One message of every stored kind, each row holding what came in. */
static void test_kinds(void)
{
    ow_batch_t *b = ow_batch_new();
    CHECK(b != NULL);
    CHECK(ow_batch_rows(b) == 0);

    ow_msg_t m = module_msg("wm1", 1, 7, 13.25);
    CHECK(ow_batch_add(b, &m) == 1);
    ow_msg_t s = msg(OW_MSG_STRING, "wm1", D0, 2);
    s.u.string = (ow_string_t){.string = 2,
                               .modules = 3,
                               .modules_lost = 1,
                               .current_a = -12.5,
                               .ac_current_a = NAN,
                               .sum_voltage_v = 38.25,
                               .avg_voltage_v = 12.75};
    CHECK(ow_batch_add(b, &s) == 1);
    ow_msg_t x = msg(OW_MSG_AUX, "wm2", D0, 3);
    x.u.aux = (ow_aux_t){.ambient_c = 22.5,
                         .humidity_pct = NAN,
                         .hydrogen_pct_lel = 0.25,
                         .aux_units = 2,
                         .inputs = 0x0005,
                         .outputs = 0x8001};
    CHECK(ow_batch_add(b, &x) == 1);
    ow_msg_t a = msg(OW_MSG_ALARM, "wm1", D0 + 5, 4);
    a.u.alarm = (ow_alarm_t){.id = 77, .type = 3, .severity = 2, .action = "raise", .module = 7};
    a.u.alarm.raised_us = D0;
    a.u.alarm.value = 14.5;
    snprintf(a.u.alarm.text, sizeof a.u.alarm.text, "bad \xff byte");
    CHECK(ow_batch_add(b, &a) == 1);
    ow_msg_t st = msg(OW_MSG_STATE, "wm1", D0 + 6, 5);
    st.u.state.general = 0x81;
    st.u.state.audible = 1;
    CHECK(ow_batch_add(b, &st) == 1);
    ow_msg_t d = msg(OW_MSG_DISCHARGE, "wm1", D0 + 7, 6);
    d.u.discharge = (ow_discharge_t){.string = 1, .action = "end", .mode = "current"};
    d.u.discharge.start_us = D0 - 3600 * S_US;
    d.u.discharge.end_us = D0;
    CHECK(ow_batch_add(b, &d) == 1);
    ow_msg_t bl = msg(OW_MSG_BASELINE, "wm1", D0 + 8, 7);
    bl.u.baseline = (ow_baseline_t){.string = 1,
                                    .module = 7,
                                    .baseline_mohm = 4.0,
                                    .impedance_mohm = 4.4,
                                    .deviation_pct = 10.0,
                                    .slope_pct_per_year = NAN,
                                    .alarm_at_us = INT64_MAX};
    CHECK(ow_batch_add(b, &bl) == 1);
    ow_msg_t c = msg(OW_MSG_CONFIG, "wm1", D0 + 9, 8);
    c.u.config = (ow_config_t){.key = "thresholds.voltage_v.high_alarm", .value = 14.4};
    snprintf(c.u.config.source, sizeof c.u.config.source, "control");
    snprintf(c.u.config.who, sizeof c.u.config.who, "cli/op\x80");
    CHECK(ow_batch_add(b, &c) == 1);
    CHECK(ow_batch_rows(b) == 8);

    CHECK(b->mod.n == 1 && b->str.n == 1 && b->aux.n == 1 && b->alarm.n == 1);
    CHECK(b->state.n == 1 && b->dis.n == 1 && b->base.n == 1 && b->cfg.n == 1);
    const mod_row_t *mr = &b->mod.v[0];
    CHECK(mr->ts_us == D0 + S_US && mr->epoch == EPOCH && mr->seq == 1 && mr->gw == 0);
    CHECK(mr->string == 1 && mr->module == 7 && mr->block == 7);
    CHECK(mr->voltage_v == 13.25 && mr->temp_c == 21.5 && mr->impedance_mohm == 4.75);
    CHECK(mr->status == OW_MODST_EQUALIZING);
    const str_row_t *sr = &b->str.v[0];
    CHECK(sr->string == 2 && sr->modules == 3 && sr->modules_lost == 1);
    CHECK(sr->current_a == -12.5 && isnan(sr->ac_current_a) && sr->avg_voltage_v == 12.75);
    const aux_row_t *xr = &b->aux.v[0];
    CHECK(xr->gw == 1 && xr->aux_units == 2 && xr->inputs == 5 && xr->outputs == 0x8001);
    CHECK(xr->ambient_c == 22.5 && isnan(xr->humidity_pct));
    /* Texts are made valid UTF-8 on the way in. */
    CHECK_STR(b->alarm.v[0].a.text, "bad ? byte");
    CHECK_STR(b->alarm.v[0].a.action, "raise");
    CHECK(b->alarm.v[0].a.id == 77 && b->alarm.v[0].a.value == 14.5);
    CHECK(b->state.v[0].general == 0x81 && b->state.v[0].audible == 1);
    CHECK_STR(b->dis.v[0].d.mode, "current");
    CHECK(b->dis.v[0].d.end_us == D0);
    /* A projection beyond 9999-12-31 is kept as "no projection". */
    CHECK(b->base.v[0].b.alarm_at_us == 0);
    CHECK(b->base.v[0].b.deviation_pct == 10.0);
    CHECK_STR(b->cfg.v[0].c.who, "cli/op?");
    CHECK_STR(b->cfg.v[0].c.key, "thresholds.voltage_v.high_alarm");

    /* Kinds the historian does not store are ignored. */
    ow_msg_t hb = msg(OW_MSG_HEARTBEAT, "wm1", D0, 9);
    CHECK(ow_batch_add(b, &hb) == 0);
    ow_msg_t ctl = msg(OW_MSG_CONTROL, "wm1", D0, 10);
    CHECK(ow_batch_add(b, &ctl) == 0);
    CHECK(ow_batch_rows(b) == 8);
    ow_batch_destroy(&b);
    CHECK(b == NULL);
    ow_batch_destroy(&b); /* harmless twice */
}

/* A field that does not fit its column refuses the message (0) and leaves
 * the batch as it was; the limits themselves are accepted. */
static void test_bounds(void)
{
    ow_batch_t *b = ow_batch_new();
    ow_msg_t m = module_msg("wm1", 1, 1, 13.0);
    m.u.module.module = INT16_MAX + 1;
    CHECK(ow_batch_add(b, &m) == 0);
    m.u.module.module = INT16_MAX;
    CHECK(ow_batch_add(b, &m) == 1);
    m = module_msg("wm1", 2, 1, 13.0);
    m.u.module.string = INT16_MIN - 1;
    CHECK(ow_batch_add(b, &m) == 0);
    m.u.module.string = INT16_MIN;
    CHECK(ow_batch_add(b, &m) == 1);

    /* bigint epoch and seq */
    m = module_msg("wm1", 3, 1, 13.0);
    m.h.seq = (uint64_t)INT64_MAX + 1;
    CHECK(ow_batch_add(b, &m) == 0);
    m.h.seq = (uint64_t)INT64_MAX;
    CHECK(ow_batch_add(b, &m) == 1);
    m.h.epoch = UINT64_MAX;
    CHECK(ow_batch_add(b, &m) == 0);

    /* timestamps 0001-01-01 .. 9999-12-31 23:59:59.999999 */
    const int64_t ts_min = -62135596800000000LL, ts_max = 253402300799999999LL;
    m = module_msg("wm1", 4, 1, 13.0);
    m.h.ts_us = ts_max + 1;
    CHECK(ow_batch_add(b, &m) == 0);
    m.h.ts_us = ts_min - 1;
    CHECK(ow_batch_add(b, &m) == 0);
    m.h.ts_us = ts_max;
    CHECK(ow_batch_add(b, &m) == 1);
    m.h.ts_us = ts_min;
    CHECK(ow_batch_add(b, &m) == 1);
    CHECK(ow_batch_rows(b) == 5);

    ow_msg_t s = msg(OW_MSG_STRING, "wm1", D0, 5);
    s.u.string.modules_lost = 40000;
    CHECK(ow_batch_add(b, &s) == 0);
    ow_msg_t x = msg(OW_MSG_AUX, "wm1", D0, 6);
    x.u.aux.aux_units = -40000;
    CHECK(ow_batch_add(b, &x) == 0);
    /* Events have no epoch/seq columns: any header seq is fine ... */
    ow_msg_t a = msg(OW_MSG_ALARM, "wm1", D0, UINT64_MAX);
    a.u.alarm.raised_us = D0;
    snprintf(a.u.alarm.action, sizeof a.u.alarm.action, "raise");
    CHECK(ow_batch_add(b, &a) == 1);
    /* ... but their own fields are checked: the id, a cleared time. */
    a.u.alarm.id = (uint64_t)INT64_MAX + 1;
    CHECK(ow_batch_add(b, &a) == 0);
    a.u.alarm.id = 1;
    a.u.alarm.cleared_us = ts_max + 1;
    CHECK(ow_batch_add(b, &a) == 0);
    ow_msg_t d = msg(OW_MSG_DISCHARGE, "wm1", D0, 7);
    d.u.discharge.string = 1;
    d.u.discharge.start_us = ts_min - 1;
    CHECK(ow_batch_add(b, &d) == 0);
    ow_msg_t bl = msg(OW_MSG_BASELINE, "wm1", D0, 8);
    bl.u.baseline.module = 70000;
    CHECK(ow_batch_add(b, &bl) == 0);
    CHECK(ow_batch_rows(b) == 6);
    CHECK(b->mod.n == 5 && b->alarm.n == 1 && b->str.n == 0 && b->dis.n == 0);
    ow_batch_destroy(&b);
}

/* Rows wait in arrival order, table by table (the order the flush writes
 * them); gateway names are interned and escaped for COPY once. */
static void test_order(void)
{
    ow_batch_t *b = ow_batch_new();
    const char *gws[] = {"wm1", "wm2", "wm1", "a\\b", "wm2", "wm1"};
    for (uint64_t i = 0; i < 6; i++) {
        ow_msg_t m = module_msg(gws[i], 10 + i, (int)i + 1, 12.0 + (double)i);
        CHECK(ow_batch_add(b, &m) == 1);
        ow_msg_t e = msg(OW_MSG_STATE, gws[i], D0 + (int64_t)i, 20 + i);
        e.u.state.alarms_active = (int)i;
        CHECK(ow_batch_add(b, &e) == 1);
    }
    CHECK(b->mod.n == 6 && b->state.n == 6);
    CHECK(b->gws.n == 3);
    const uint16_t want_gw[] = {0, 1, 0, 2, 1, 0};
    for (size_t i = 0; i < 6; i++) {
        CHECK(b->mod.v[i].seq == 10 + i);
        CHECK(b->mod.v[i].module == (int16_t)(i + 1));
        CHECK(b->mod.v[i].gw == want_gw[i]);
        CHECK(b->state.v[i].alarms_active == (int)i);
        CHECK(b->state.v[i].gw == want_gw[i]);
    }
    CHECK_STR(b->gws.v[2].id, "a\\b");
    CHECK(b->gws.v[2].esc_len == 4 && memcmp(b->gws.v[2].esc, "a\\\\b", 4) == 0);
    CHECK(b->gws.v[0].esc_len == 3 && memcmp(b->gws.v[0].esc, "wm1", 3) == 0);

    /* Positions: one per publisher, the last call wins. */
    ow_batch_position(b, "busd.wm1", EPOCH, 5);
    ow_batch_position(b, "alarmd", EPOCH, 9);
    ow_batch_position(b, "busd.wm1", EPOCH + 1, 2);
    CHECK(b->pos.n == 2);
    CHECK_STR(b->pos.v[0].pub, "busd.wm1");
    CHECK(b->pos.v[0].epoch == EPOCH + 1 && b->pos.v[0].seq == 2);
    CHECK_STR(b->pos.v[1].pub, "alarmd");
    CHECK(b->pos.v[1].seq == 9);
    CHECK(ow_batch_rows(b) == 12); /* positions are not rows */

    /* Cleared: empty, and the gateway table starts again. */
    ow_batch_clear(b);
    CHECK(ow_batch_rows(b) == 0);
    CHECK(b->gws.n == 0 && b->pos.n == 0 && b->mod.n == 0 && b->state.n == 0);
    ow_msg_t m = module_msg("wm2", 99, 1, 13.0);
    CHECK(ow_batch_add(b, &m) == 1);
    CHECK(b->gws.n == 1 && b->mod.v[0].gw == 0);
    CHECK_STR(b->gws.v[0].id, "wm2");
    ow_batch_destroy(&b);
}

/* A batch grows as rows come (doubling from 64) and keeps every one; the
 * gateway table holds UINT16_MAX names, after which a message naming a new
 * gateway cannot be held (-1) while known ones still can. */
static void test_full(void)
{
    ow_batch_t *b = ow_batch_new();
    const size_t n = 5000;
    for (size_t i = 0; i < n; i++) {
        ow_msg_t m = module_msg("wm1", i, (int)(i % 520) + 1, 12.0 + (double)i / 1000);
        CHECK(ow_batch_add(b, &m) == 1);
    }
    CHECK(ow_batch_rows(b) == n);
    CHECK(b->mod.cap == 8192);
    CHECK(b->mod.v[0].seq == 0 && b->mod.v[n - 1].seq == n - 1);
    CHECK(b->mod.v[4321].voltage_v == 12.0 + 4321.0 / 1000);
    ow_batch_clear(b);
    CHECK(b->mod.cap == 8192); /* the room stays for the next batch */

    /* Filling 65535 names one message at a time would take a quadratic
     * search; the table is filled in place as the adds would leave it. */
    ow_msg_t m = module_msg("wm1", 1, 1, 13.0);
    CHECK(ow_batch_add(b, &m) == 1);
    gw_name_t *v = realloc(b->gws.v, UINT16_MAX * sizeof *v);
    CHECK(v != NULL);
    if (!v) return;
    b->gws.v = v;
    b->gws.cap = UINT16_MAX;
    for (size_t i = 1; i < UINT16_MAX; i++) {
        snprintf(v[i].id, sizeof v[i].id, "g%zu", i);
        v[i].esc_len = strlen(v[i].id);
        memcpy(v[i].esc, v[i].id, v[i].esc_len);
    }
    b->gws.n = UINT16_MAX;
    m = module_msg("new", 2, 1, 13.0);
    CHECK(ow_batch_add(b, &m) == -1);
    CHECK(b->gws.n == UINT16_MAX && b->mod.n == 1);
    m = module_msg("g65534", 3, 1, 13.0);
    CHECK(ow_batch_add(b, &m) == 1);
    CHECK(b->mod.n == 2 && b->mod.v[1].gw == UINT16_MAX - 1);
    m = module_msg("wm1", 4, 1, 13.0);
    CHECK(ow_batch_add(b, &m) == 1);
    CHECK(b->mod.v[2].gw == 0);
    ow_batch_destroy(&b);
}

int main(void)
{
    test_kinds();
    test_bounds();
    test_order();
    test_full();
    return ow_test_done("batch_test");
}
