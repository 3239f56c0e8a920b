/* ow_config: the example sites load with every field as documented, defaults
 * merge and scale as documented, and each kind of mistake is reported as
 * "file:line:col: key: reason". Run from the repository root (CTest does). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ow_config.h"
#include "ow_test.h"

/* Write text to a fresh temp file. An '@' in text marks where the error is
 * expected: it is removed, and its 1-based line and byte column returned. */
static void write_tmp(const char *text, char *path, size_t len, int *line, int *col)
{
    snprintf(path, len, "/tmp/ow_config_test.XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    int l = 1, c = 1;
    *line = *col = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '@') {
            *line = l;
            *col = c;
            continue;
        }
        fputc(*p, f);
        if (*p == '\n') {
            l++;
            c = 1;
        } else
            c++;
    }
    fclose(f);
}

static ow_site_t *load_text(const char *text, char *err, size_t errlen)
{
    char path[64];
    int l, c;
    write_tmp(text, path, sizeof(path), &l, &c);
    ow_site_t *s = ow_site_load(path, err, errlen);
    unlink(path);
    return s;
}

/* The load must fail with exactly "FILE:L:C: what" where L:C is the '@'. */
static void expect_error(const char *text, const char *what)
{
    char path[64], err[512], want[700];
    int l, c;
    write_tmp(text, path, sizeof(path), &l, &c);
    CHECK_MSG(l > 0, "test text has no '@' marker: %s", text);
    ow_site_t *s = ow_site_load(path, err, sizeof(err));
    unlink(path);
    CHECK_MSG(s == NULL, "loaded, expected \"%s\"", what);
    ow_site_destroy(&s);
    snprintf(want, sizeof(want), "%s:%d:%d: %s", path, l, c, what);
    CHECK_STR(err, want);
}

static void test_sample(void)
{
    char err[512] = "x";
    ow_site_t *s = ow_site_load("etc/site-sample.json", err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (!s) return;
    CHECK_STR(err, "");
    CHECK_STR(s->path, "etc/site-sample.json");
    CHECK_STR(s->dir, "etc");
    CHECK_STR(s->name, "Training Center Wettingen");
    CHECK(s->ngateways == 1);
    CHECK(s->positions != NULL);

    const ow_gateway_cfg_t *g = ow_site_gateway(s, "wm1");
    CHECK(g == &s->gateways[0]);
    CHECK(ow_site_gateway(s, "wm2") == NULL);
    CHECK_STR(g->id, "wm1");
    CHECK_STR(g->name, "Training Center Wettingen");
    CHECK_STR(g->source, "sim");
    CHECK_STR(g->publish, "tcp://127.0.0.1:7701");
    CHECK_STR(g->replay, "tcp://127.0.0.1:7702");
    CHECK(g->poll_ms == 1000);
    CHECK(g->log_rate_s == 1200);
    CHECK(g->log_rate_charge_s == 0);
    CHECK(g->impedance_poll_min == 720);
    CHECK(g->journal_messages == 200000);
    CHECK(g->module_type != NULL && strcmp(g->module_type->name, "C20") == 0);
    CHECK(g->module_type->code == 0);
    CHECK_NEAR(g->module_type->nominal_v, 12, 0);
    CHECK(g->current_sensor == 1);
    CHECK(g->aux_units == 1);
    CHECK(g->ambient_sensor == 1);
    CHECK(g->hydrogen_sensor == 0);

    CHECK_STR(g->battery.manufacturer, "FIAMM");
    CHECK_STR(g->battery.type, "12SLA50L");
    CHECK_NEAR(g->battery.capacity_ah, 50, 0);
    CHECK_STR(g->battery.installed, "2020-06-01");
    CHECK(g->battery.installed_us == 1590969600000000LL);
    CHECK_STR(g->battery.location, "Training Center Wettingen");
    /* the guide's sample dashboard has no contact person or phone */
    CHECK_STR(g->contact.person, "");
    CHECK_STR(g->contact.phone, "");
    CHECK_NEAR(g->battery.impedance_mohm, 4.6, 1e-12);

    CHECK(g->nstrings == 2);
    CHECK(g->nmodules == 18);
    CHECK_STR(g->strings[0].name, "UPS A");
    CHECK_STR(g->strings[1].name, "UPS B");
    CHECK(g->strings[0].modules == 9 && g->strings[1].modules == 9);
    CHECK(g->strings[0].first_module == 1);
    CHECK(g->strings[1].first_module == 10);

    const ow_thresholds_t *t = &g->thr;
    CHECK_NEAR(t->voltage_v.low_alarm, 12.00, 1e-12);
    CHECK_NEAR(t->voltage_v.low_warn, 12.40, 1e-12);
    CHECK_NEAR(t->voltage_v.high_warn, 14.10, 1e-12);
    CHECK_NEAR(t->voltage_v.high_alarm, 15.50, 1e-12);
    CHECK_NEAR(t->voltage_v.hysteresis, 0.05, 1e-12);
    CHECK_NEAR(t->voltage_v.delay_s, 10, 0);
    CHECK_NEAR(t->temp_c.low_alarm, 5, 0);
    CHECK_NEAR(t->temp_c.low_warn, 10, 0);
    CHECK_NEAR(t->temp_c.high_warn, 30, 0);
    CHECK_NEAR(t->temp_c.high_alarm, 35, 0);
    CHECK_NEAR(t->temp_c.hysteresis, 1.0, 0);
    CHECK_NEAR(t->temp_c.delay_s, 0, 0);
    CHECK_NEAR(t->impedance_mohm.low_alarm, 1.1, 1e-12);
    CHECK_NEAR(t->impedance_mohm.low_warn, 1.2, 1e-12);
    CHECK_NEAR(t->impedance_mohm.high_warn, 40, 0);
    CHECK_NEAR(t->impedance_mohm.high_alarm, 50, 0);
    CHECK_NEAR(t->impedance_mohm.hysteresis, 0.5, 0);
    CHECK_NEAR(t->string_voltage_v.low_alarm, 105, 0);
    CHECK_NEAR(t->string_voltage_v.low_warn, 110, 0);
    CHECK_NEAR(t->string_voltage_v.high_warn, 125, 0);
    CHECK_NEAR(t->string_voltage_v.high_alarm, 135, 0);
    CHECK_NEAR(t->string_voltage_v.hysteresis, 0.5, 0);
    /* Current limits follow C10 = 50 Ah. */
    CHECK_NEAR(t->string_current_a.low_alarm, -100, 1e-9);
    CHECK_NEAR(t->string_current_a.low_warn, -50, 1e-9);
    CHECK_NEAR(t->string_current_a.high_warn, 10, 1e-9);
    CHECK_NEAR(t->string_current_a.high_alarm, 15, 1e-9);
    CHECK_NEAR(t->string_current_a.hysteresis, 1, 0);
    CHECK_NEAR(t->dev_discharge_alarm_a, 10, 0);
    CHECK_NEAR(t->dev_discharge_warn_a, 5, 0);
    CHECK_NEAR(t->dev_charge_alarm_a, 10, 0);
    CHECK_NEAR(t->dev_charge_warn_a, 5, 0);
    CHECK_NEAR(t->max_voltage_diff_v, 0, 0);
    CHECK(t->comm_lost_polls == 3);
    CHECK_NEAR(t->baseline_warn_pct, 20, 0);
    CHECK_NEAR(t->baseline_alarm_pct, 50, 0);
    CHECK_NEAR(t->equalizing_min_v, 12.495, 1e-12);
    CHECK_NEAR(t->equalizing_max_v, 14.7, 1e-12);
    CHECK_NEAR(t->tr_module_delta_c, 5, 0);
    CHECK_NEAR(t->tr_ambient_delta_c, 10, 0);
    CHECK_NEAR(t->tr_float_current_a, 0.5, 1e-12);
    CHECK_NEAR(t->tr_sustain_s, 600, 0);
    CHECK(t->tr_breaker_output == 1);
    CHECK_NEAR(t->discharge_detect_a, 0.5, 1e-12); /* 0.01 C10 */
    CHECK_NEAR(t->charge_detect_a, 1.0, 1e-12);    /* 0.02 C10 */
    CHECK_NEAR(t->float_band_v_per_cell, 0.03, 1e-12);
    CHECK_NEAR(t->hydrogen_warn_pct_lel, 20, 0); /* the guide's sensor: 20 and 40 % LEL */
    CHECK_NEAR(t->hydrogen_alarm_pct_lel, 40, 0);
    CHECK(t->ambient_c.low_alarm == 0 && t->ambient_c.low_warn == 10 &&
          t->ambient_c.high_warn == 30 && t->ambient_c.high_alarm == 35 &&
          t->ambient_c.hysteresis == 1 && t->ambient_c.delay_s == 300);
    CHECK(t->humidity_pct.low_alarm == 0 && t->humidity_pct.low_warn == 0 &&
          t->humidity_pct.high_warn == 80 && t->humidity_pct.high_alarm == 90 &&
          t->humidity_pct.hysteresis == 2 && t->humidity_pct.delay_s == 300);

    CHECK(g->sim.seed == 1);
    CHECK_STR(g->sim.scenario, "");
    CHECK_NEAR(g->sim.speed, 1, 0);
    CHECK_NEAR(g->sim.ambient_c, 25, 0);
    CHECK_NEAR(g->sim.float_v_per_cell, 2.27, 1e-12);
    CHECK_NEAR(g->sim.charge_limit_c, 0.1, 1e-12);

    json_t *svc = s->services;
    CHECK(json_is_object(svc));
    CHECK_STR(json_string_value(json_object_get(json_object_get(svc, "alarmd"), "publish")),
              "tcp://127.0.0.1:7710");

    /* Services use the positions for their own errors. */
    int line, col;
    CHECK(ow_jpos_find(s->positions, "services.alarmd.control", &line, &col) == 0);
    CHECK(line > 1 && col > 1);

    char buf[600];
    CHECK_STR(ow_site_path(s, "scen/a.json", buf, sizeof(buf)), "etc/scen/a.json");
    CHECK_STR(ow_site_path(s, "/abs/a.json", buf, sizeof(buf)), "/abs/a.json");
    CHECK(ow_site_path(s, "scen/a.json", buf, 8) == NULL);

    ow_site_destroy(&s);
    CHECK(s == NULL);
    ow_site_destroy(&s);
}

static void test_large(void)
{
    char err[512];
    ow_site_t *s = ow_site_load("etc/site-large.json", err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (!s) return;
    const ow_gateway_cfg_t *g = ow_site_gateway(s, "big1");
    CHECK(g != NULL);
    CHECK(g->nstrings == 16);
    CHECK(g->nmodules == 512);
    CHECK(g->strings[15].first_module == 481);
    CHECK(g->strings[15].modules == 32);
    CHECK_NEAR(g->battery.capacity_ah, 200, 0);
    CHECK_NEAR(g->thr.string_current_a.high_alarm, 60, 1e-9);
    CHECK_NEAR(g->thr.string_voltage_v.high_warn, 444, 0);
    CHECK_STR(g->publish, "tcp://127.0.0.1:7721");
    CHECK_STR(g->replay, "tcp://127.0.0.1:7722");
    ow_alarmd_cfg_t a;
    CHECK_MSG(ow_site_alarmd(s, &a, err, sizeof(err)) == 0, "%s", err);
    CHECK_STR(a.publish, "tcp://127.0.0.1:7730");
    CHECK_STR(a.control, "tcp://127.0.0.1:7731");
    CHECK_STR(a.replay, "tcp://127.0.0.1:7732");
    ow_site_destroy(&s);
}

static void test_defaults(void)
{
    const char *text =
        "{\"site\": {\"name\": \"T\"},\n"
        " \"defaults\": {\"poll_ms\": 500, \"battery\": {\"capacity_ah\": 200},\n"
        "   \"module_type\": \"C40\",\n"
        "   \"thresholds\": {\"temp_c\": {\"high_alarm\": 40}, \"voltage_v\": {\"high_alarm\": "
        "2.6}},\n"
        "   \"strings\": [{\"modules\": 24}]},\n"
        " \"gateways\": [\n"
        "  {\"id\": \"a\", \"publish\": \"ipc:///tmp/a.pub\", \"replay\": \"ipc:///tmp/a.rep\",\n"
        "   \"poll_ms\": 2000, \"thresholds\": {\"temp_c\": {\"high_warn\": 28}},\n"
        "   \"strings\": [{\"modules\": 3}, {\"name\": \"B\", \"modules\": 4}]},\n"
        "  {\"id\": \"b\", \"name\": \"Bee\", \"publish\": \"inproc://b.pub\", \"replay\": "
        "\"inproc://b.rep\",\n"
        "   \"module_type\": \"C21\", \"battery\": {\"capacity_ah\": 100},\n"
        "   \"thresholds\": {\"voltage_v\": {\"high_alarm\": 21}}}\n"
        " ]}\n";
    char err[512];
    ow_site_t *s = load_text(text, err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (!s) return;
    CHECK(s->ngateways == 2);
    CHECK(json_is_object((json_t *)s->services) && json_object_size(s->services) == 0);
    const ow_gateway_cfg_t *a = ow_site_gateway(s, "a"), *b = ow_site_gateway(s, "b");
    CHECK(a && b);
    if (!a || !b) {
        ow_site_destroy(&s);
        return;
    }
    /* The gateway's own values win; the rest come from defaults, then built-ins. */
    CHECK(a->poll_ms == 2000);
    CHECK(b->poll_ms == 500);
    CHECK_STR(a->name, "a"); /* name defaults to the id */
    CHECK_STR(b->name, "Bee");
    CHECK_NEAR(a->thr.temp_c.high_warn, 28, 0);
    CHECK_NEAR(a->thr.temp_c.high_alarm, 40, 0);
    CHECK_NEAR(a->thr.temp_c.low_warn, 10, 0);
    CHECK_NEAR(b->thr.temp_c.high_warn, 30, 0);
    CHECK_NEAR(b->thr.temp_c.high_alarm, 40, 0);
    /* Strings: an array is taken whole, from the gateway or from defaults. */
    CHECK(a->nstrings == 2 && a->nmodules == 7);
    CHECK_STR(a->strings[0].name, "String 1");
    CHECK_STR(a->strings[1].name, "B");
    CHECK(a->strings[1].first_module == 4);
    CHECK(b->nstrings == 1 && b->nmodules == 24);
    /* Module type from defaults (C40, 2 V, flooded): block voltage defaults
     * are the flooded cell's, but a value given in the file is taken as is. */
    CHECK(strcmp(a->module_type->name, "C40") == 0 && a->module_type->code == 20);
    CHECK_NEAR(a->thr.voltage_v.low_alarm, 1.91, 1e-12);
    CHECK_NEAR(a->thr.voltage_v.low_warn, 1.98, 1e-12);
    CHECK_NEAR(a->thr.voltage_v.high_warn, 2.40, 1e-12);
    CHECK_NEAR(a->thr.voltage_v.high_alarm, 2.6, 1e-12);
    CHECK_NEAR(a->thr.voltage_v.hysteresis, 0.05 / 6, 1e-12);
    CHECK_NEAR(a->thr.equalizing_min_v, 1.99, 1e-12);
    CHECK_NEAR(a->thr.equalizing_max_v, 2.45, 1e-12);
    /* String voltage: the block levels x the shortest string's blocks (3)
     * for the low levels, the longest's (4) for the high ones. */
    CHECK_NEAR(a->thr.string_voltage_v.low_alarm, 3 * 1.91, 1e-12);
    CHECK_NEAR(a->thr.string_voltage_v.low_warn, 3 * 1.98, 1e-12);
    CHECK_NEAR(a->thr.string_voltage_v.high_warn, 4 * 2.40, 1e-12);
    CHECK_NEAR(a->thr.string_voltage_v.high_alarm, 4 * 2.6, 1e-12);
    /* Impedance: multiples of the nominal 1.2 mOhm (240 mOhm*Ah / 200 Ah). */
    CHECK_NEAR(a->thr.impedance_mohm.low_alarm, 0.6, 1e-12);
    CHECK_NEAR(a->thr.impedance_mohm.low_warn, 0.84, 1e-12);
    CHECK_NEAR(a->thr.impedance_mohm.high_warn, 2.4, 1e-12);
    CHECK_NEAR(a->thr.impedance_mohm.high_alarm, 3.6, 1e-12);
    CHECK_NEAR(a->thr.impedance_mohm.hysteresis, 0.15, 1e-12);
    CHECK_NEAR(a->thr.temp_c.low_alarm, 5, 0); /* temperatures do not scale */
    /* Capacity from defaults (200 Ah) drives the current and impedance defaults. */
    CHECK_NEAR(a->battery.capacity_ah, 200, 0);
    CHECK_NEAR(a->thr.string_current_a.low_alarm, -400, 1e-9);
    CHECK_NEAR(a->thr.string_current_a.high_warn, 40, 1e-9);
    CHECK_NEAR(a->thr.tr_float_current_a, 2, 1e-12);
    /* C40 cells are flooded unless told: 240 mOhm*Ah per cell. */
    CHECK_STR(a->battery.chemistry, "flooded");
    CHECK(a->battery.chem == ow_chemistry_find("flooded"));
    CHECK_NEAR(a->sim.float_v_per_cell, 2.23, 1e-12);
    CHECK_NEAR(a->battery.impedance_mohm, 240.0 / 200, 1e-12);
    CHECK_STR(a->battery.installed, "");
    CHECK(a->battery.installed_us == 0);
    /* "C21" is the guide's name for the 16 V module (C23, code 1). */
    CHECK(strcmp(b->module_type->name, "C23") == 0 && b->module_type->code == 1);
    CHECK_NEAR(b->thr.voltage_v.low_alarm, 16.0, 1e-12);
    CHECK_NEAR(b->thr.voltage_v.high_warn, 18.8, 1e-12);
    CHECK_NEAR(b->thr.voltage_v.high_alarm, 21, 1e-12); /* the gateway's own */
    CHECK_NEAR(b->battery.capacity_ah, 100, 0);
    CHECK_NEAR(b->thr.string_current_a.high_alarm, 30, 1e-9);
    CHECK_NEAR(b->battery.impedance_mohm, 2.3 * 16 / 12, 1e-12);
    CHECK_STR(b->source, "sim");
    CHECK(b->journal_messages == 200000);
    CHECK(b->sim.seed == 1);
    ow_site_destroy(&s);

    /* A minimal file: only what is required, everything else built in. */
    s = load_text("{\"gateways\": [{\"id\": \"m\", \"publish\": \"tcp://*:1\", \"replay\": "
                  "\"tcp://*:2\", \"strings\": [{\"modules\": 1}]}]}",
                  err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        CHECK_STR(s->name, "site");
        CHECK(s->gateways[0].module_type == ow_module_type_find("C20"));
        CHECK_NEAR(s->gateways[0].battery.capacity_ah, 100, 0);
        CHECK_NEAR(s->gateways[0].battery.impedance_mohm, 2.3, 1e-12);
        CHECK_STR(s->gateways[0].battery.chemistry, "vrla");
        CHECK_NEAR(s->gateways[0].sim.float_v_per_cell, 2.27, 1e-12);
        CHECK_NEAR(s->gateways[0].thr.voltage_v.low_warn, 12.4, 1e-12);
        CHECK_NEAR(s->gateways[0].thr.string_current_a.low_warn, -100, 1e-9);
        CHECK(s->gateways[0].poll_ms == 1000);
        CHECK(s->gateways[0].log_rate_s == 1200);
        CHECK(s->gateways[0].impedance_poll_min == 720);
        CHECK_STR(s->gateways[0].strings[0].name, "String 1");
    }
    ow_site_destroy(&s);

    /* The longest string the schema allows, of 16 V blocks: its derived
     * string levels stay in range and in order. */
    s = load_text("{\"gateways\": [{\"id\": \"long\", \"publish\": \"tcp://*:1\", \"replay\": "
                  "\"tcp://*:2\", \"module_type\": \"C23\", \"strings\": [{\"modules\": 512}]}]}",
                  err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (s) CHECK_NEAR(s->gateways[0].thr.string_voltage_v.high_alarm, 512 * 15.5 * 16 / 12, 0.1);
    ow_site_destroy(&s);

    /* A scaled default stays in its key's range: the impedance of a 20000 Ah
     * 2 V block, the current thresholds of a 15 Ah battery. */
    s = load_text("{\"defaults\": {\"publish\": \"tcp://*:1\", \"strings\": [{\"modules\": 1}]},\n"
                  " \"gateways\": [{\"id\": \"big\", \"replay\": \"tcp://*:2\", \"module_type\": "
                  "\"C40\",\n   \"battery\": {\"capacity_ah\": 20000}},\n"
                  "  {\"id\": \"small\", \"publish\": \"tcp://*:3\", \"replay\": \"tcp://*:4\",\n"
                  "   \"battery\": {\"capacity_ah\": 15}}]}",
                  err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        CHECK_NEAR(s->gateways[0].battery.impedance_mohm, 0.012, 1e-12);
        CHECK_NEAR(s->gateways[1].battery.impedance_mohm, 230.0 / 15, 1e-12);
        CHECK_NEAR(s->gateways[0].thr.discharge_detect_a, 200, 1e-9);
        CHECK_NEAR(s->gateways[1].thr.discharge_detect_a, 0.2, 1e-12);
        CHECK_NEAR(s->gateways[1].thr.charge_detect_a, 0.3, 1e-12);
    }
    ow_site_destroy(&s);
}

#define GW_A "{\"id\": \"a\", \"publish\": \"tcp://*:1\", \"replay\": \"tcp://*:2\""
#define STR1 "\"strings\": [{\"modules\": 9}]"

static void test_errors(void)
{
    /* Unknown keys, at every level. */
    expect_error("{\"gateways\": [\n  " GW_A ", " STR1 ",\n   \"pol_ms\": @100}]}",
                 "gateways[0].pol_ms: unknown key (did you mean poll_ms?)");
    expect_error("{\"gateways\": [\n  " GW_A ", " STR1 ",\n"
                 "   \"thresholds\": {\"voltage_v\": {\"low_alarm\": 11, \"lowwarn\": @12}}}]}",
                 "gateways[0].thresholds.voltage_v.lowwarn: unknown key (did you mean low_warn?)");
    expect_error("{\"gateways\": [" GW_A ", \"strings\": [{\"modules\": 9,\n \"nmae\": @\"x\"}]}]}",
                 "gateways[0].strings[0].nmae: unknown key (did you mean name?)");
    expect_error("{\"site\": {\"name\": \"x\", \"owner\": @\"y\"}, \"gateways\": []}",
                 "site.owner: unknown key");
    expect_error("{\"gateway\": @[]}", "gateway: unknown key");
    expect_error("{\"defaults\": {\"sim\": {\"sped\": @2}}, \"gateways\": []}",
                 "defaults.sim.sped: unknown key (did you mean speed?)");
    /* A dotted key would look like a nested one; it is not. */
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"sim.speed\": @2}]}",
                 "gateways[0].sim.speed: unknown key");

    /* Wrong types. */
    expect_error("{\"gateways\": [" GW_A ", " STR1 ",\n\t\"poll_ms\": @\"1000\"}]}",
                 "gateways[0].poll_ms: expected a number");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"poll_ms\": @1000.5}]}",
                 "gateways[0].poll_ms: expected an integer");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"battery\": {\"capacity_ah\": @true}}]}",
                 "gateways[0].battery.capacity_ah: expected a number");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"current_sensor\": @1}]}",
                 "gateways[0].current_sensor: expected true or false");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"name\": @5}]}",
                 "gateways[0].name: expected a string");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"thresholds\": @[]}]}",
                 "gateways[0].thresholds: expected an object");
    expect_error("{\"gateways\": [" GW_A ", \"strings\": @{\"modules\": 9}}]}",
                 "gateways[0].strings: expected an array");
    expect_error("{\"gateways\": @{}}", "gateways: expected an array");
    expect_error("@[1, 2]", "expected an object at the top level");
    expect_error("{\"services\": @[], \"gateways\": [" GW_A ", " STR1 "}]}",
                 "services: expected an object");

    /* Out of range and bad values. */
    expect_error("{\"gateways\": [" GW_A ", " STR1 ",\n"
                 "  \"thresholds\": {\"voltage_v\": {\"low_alarm\": @-1}}}]}",
                 "gateways[0].thresholds.voltage_v.low_alarm: must be between 0 and 100");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"poll_ms\": @50}]}",
                 "gateways[0].poll_ms: must be between 100 and 3600000");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"sim\": {\"speed\": @0}}]}",
                 "gateways[0].sim.speed: must be between 0.001 and 100000");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"journal_messages\": @99999999}]}",
                 "gateways[0].journal_messages: must be between 1000 and 10000000");
    expect_error("{\"gateways\": [" GW_A ", \"strings\": [{\"modules\": @0}]}]}",
                 "gateways[0].strings[0].modules: must be between 1 and 512");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"module_type\": @\"C99\"}]}",
                 "gateways[0].module_type: unknown module type \"C99\" "
                 "(one of C40, C41, C30, C20, C23)");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"source\": @\"gbms\"}]}",
                 "gateways[0].source: must be one of: sim, modbus-tcp, modbus-rtu");
    /* Modbus sources: where the device is, per source; ranges of the keys. */
    expect_error("{\"gateways\": [\n  @" GW_A ", " STR1 ", \"source\": \"modbus-tcp\"}]}",
                 "gateways[0].modbus.host: required (not empty) when source is modbus-tcp");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"source\": \"modbus-rtu\",\n"
                 "  \"modbus\": @{\"host\": \"x\"}}]}",
                 "gateways[0].modbus.device: required (not empty) when source is modbus-rtu");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"source\": \"modbus-tcp\",\n"
                 "  \"modbus\": {\"host\": \"x\", \"map\": @\"\"}}]}",
                 "gateways[0].modbus.map: required (not empty) when source is modbus-tcp");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"modbus\": {\"port\": @70000}}]}",
                 "gateways[0].modbus.port: must be between 1 and 65535");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"modbus\": {\"parity\": @\"X\"}}]}",
                 "gateways[0].modbus.parity: must be one of: N, E, O");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"modbus\": {\"retries\": @11}}]}",
                 "gateways[0].modbus.retries: must be between 0 and 10");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"modbus\": {\"hots\": @\"x\"}}]}",
                 "gateways[0].modbus.hots: unknown key (did you mean host?)");
    {
        char err[512];
        ow_site_t *s = load_text("{\"defaults\": {\"modbus\": {\"timeout_ms\": 250}},"
                                 "\"gateways\": [" GW_A ", " STR1 ", \"source\": \"modbus-rtu\","
                                 "\"modbus\": {\"device\": \"/dev/ttyS1\", \"parity\": \"E\"}}]}",
                                 err, sizeof err);
        CHECK_MSG(s != NULL, "modbus-rtu gateway: %s", err);
        if (s) {
            const ow_modbus_cfg_t *mb = &s->gateways[0].modbus;
            CHECK_STR(mb->device, "/dev/ttyS1");
            CHECK_STR(mb->parity, "E");
            CHECK_STR(mb->map, "gbms");
            CHECK(mb->timeout_ms == 250 && mb->baud == 19200 && mb->unit == 1 && mb->port == 502);
            CHECK(mb->retries == 1 && mb->backoff_max_ms == 30000 && mb->data_bits == 8);
        }
        ow_site_destroy(&s);
    }
    expect_error("{\"gateways\": [{\"id\": @\"a b\", \"publish\": \"tcp://*:1\", "
                 "\"replay\": \"tcp://*:2\", " STR1 "}]}",
                 "gateways[0].id: must be 1 to 31 characters of A-Z a-z 0-9 _ . -");
    expect_error("{\"gateways\": [{\"id\": @\"\", \"publish\": \"tcp://*:1\", "
                 "\"replay\": \"tcp://*:2\", " STR1 "}]}",
                 "gateways[0].id: must be 1 to 31 characters of A-Z a-z 0-9 _ . -");
    expect_error("{\"gateways\": [{\"id\": \"a\", \"publish\": @\"http://x:1\", "
                 "\"replay\": \"tcp://*:2\", " STR1 "}]}",
                 "gateways[0].publish: must start with tcp://, ipc:// or inproc://");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"name\": "
                 "@\"0123456789012345678901234567890123456789012345678901234567890123\"}]}",
                 "gateways[0].name: too long (at most 63 bytes)");
    expect_error("{\"defaults\": {\"id\": @\"x\"}, \"gateways\": [" GW_A ", " STR1 "}]}",
                 "defaults.id: not allowed in defaults (each gateway needs its own)");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"contact\": {\"phone\": "
                 "@\"+41 56 000 00 00 000 000 000 000 0\"}}]}",
                 "gateways[0].contact.phone: too long (at most 31 bytes)");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"contact\": {\"person\": @12}}]}",
                 "gateways[0].contact.person: expected a string");
    {
        char err[512];
        ow_site_t *s = load_text("{\"defaults\": {\"contact\": {\"phone\": \"+41 56 437 00 00\"}},"
                                 " \"gateways\": [" GW_A ", " STR1 ", \"contact\": {\"person\":"
                                 " \"Anna Muster\"}}]}",
                                 err, sizeof err);
        CHECK_MSG(s != NULL, "%s", err);
        if (s) {
            CHECK_STR(s->gateways[0].contact.person, "Anna Muster");
            CHECK_STR(s->gateways[0].contact.phone, "+41 56 437 00 00"); /* from defaults */
        }
        ow_site_destroy(&s);
    }

    /* Dates. */
    expect_error("{\"gateways\": [" GW_A ", " STR1 ",\n"
                 "  \"battery\": {\"installed\": @\"2021-02-29\"}}]}",
                 "gateways[0].battery.installed: \"2021-02-29\" is not a real date");
    expect_error("{\"gateways\": [" GW_A ", " STR1
                 ", \"battery\": {\"installed\": @\"1.6.2020\"}}]}",
                 "gateways[0].battery.installed: expected a date YYYY-MM-DD");
    expect_error("{\"gateways\": [" GW_A ", " STR1
                 ", \"battery\": {\"installed\": @\"2020-13-01\"}}]}",
                 "gateways[0].battery.installed: \"2020-13-01\" is not a real date");
    {
        char err[512];
        ow_site_t *s = load_text("{\"gateways\": [" GW_A ", " STR1
                                 ", \"battery\": {\"installed\": \"2024-02-29\"}}]}",
                                 err, sizeof(err));
        CHECK_MSG(s != NULL, "%s", err); /* a leap day is a real date */
        if (s) CHECK(s->gateways[0].battery.installed_us == 1709164800000000LL);
        ow_site_destroy(&s);
    }

    /* Missing required keys: reported at the object that should hold them. */
    expect_error("{\"gateways\": [\n  @{\"id\": \"a\", \"replay\": \"tcp://*:2\", " STR1 "}]}",
                 "gateways[0].publish: required key missing");
    expect_error("{\"gateways\": [\n  @" GW_A "}]}", "gateways[0].strings: required key missing");
    expect_error("{\"gateways\": [" GW_A ", \"strings\": [{\"modules\": 2}, @{\"name\": \"x\"}]}]}",
                 "gateways[0].strings[1].modules: required key missing");
    expect_error("@{\"site\": {}}", "gateways: required key missing");
    expect_error("{\"gateways\": @[]}", "gateways: needs at least one gateway");

    /* Cross-field rules name the object, at the gateway's or the defaults' copy. */
    expect_error("{\"gateways\": [" GW_A ", " STR1 ",\n"
                 " \"thresholds\": {\"voltage_v\": @{\"low_warn\": 12.5, \"high_warn\": 12.0}}}]}",
                 "gateways[0].thresholds.voltage_v: low_warn (12.5) above high_warn (12)");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ",\n"
                 " \"thresholds\": {\"temp_c\": @{\"low_alarm\": 11}}}]}",
                 "gateways[0].thresholds.temp_c: low_alarm (11) above low_warn (10)");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ",\n"
                 " \"thresholds\": {\"impedance_mohm\": @{\"high_warn\": 60}}}]}",
                 "gateways[0].thresholds.impedance_mohm: high_warn (60) above high_alarm (6.9)");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ",\n"
                 " \"thresholds\": {\"temp_c\": @{\"low_warn\": 30}}}]}",
                 "gateways[0].thresholds.temp_c: low_warn (30) equal to high_warn (30)");
    expect_error("{\"defaults\": {\"thresholds\": {\"string_voltage_v\": @{\"high_warn\": 100}}},\n"
                 " \"gateways\": [" GW_A ", " STR1 "}]}",
                 "defaults.thresholds.string_voltage_v: low_warn (111.6) above high_warn (100)");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ",\n"
                 " \"thresholds\": {\"current_deviation\": {\"charge_warn_a\": @12}}}]}",
                 "gateways[0].thresholds.current_deviation.charge_warn_a: "
                 "charge_warn_a (12) above charge_alarm_a (10)");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"aux_units\": 1,\n"
                 " \"thresholds\": {\"thermal_runaway\": {\"breaker_output\": @6}}}]}",
                 "gateways[0].thresholds.thermal_runaway.breaker_output: "
                 "output 6 needs 2 GX_R_AUX units but aux_units is 1");
    expect_error("{\"gateways\": [" GW_A ", " STR1 ", \"aux_units\": 1,\n"
                 " \"thresholds\": {\"thermal_runaway\": {\"breaker_output\": 2},\n"
                 " \"common_alarm_output\": 3, \"audible_alarm_output\": @2}}]}",
                 "gateways[0].thresholds.audible_alarm_output: output 2 is already "
                 "breaker_output");
    expect_error(
        "{\"gateways\": [" GW_A ", " STR1 ", \"source\": \"modbus-tcp\",\n"
        " \"modbus\": {\"host\": \"wm\"}, \"thresholds\": {\"common_alarm_output\": @1}}]}",
        "gateways[0].thresholds.common_alarm_output: alarm outputs are switched through "
        "the simulator only; a modbus-tcp gateway is read, never written");

    /* A limits object taken from defaults is blamed there, even when the clash
     * is with a built-in default scaled for this gateway's module type. */
    expect_error("{\"defaults\": {\"thresholds\": {\"voltage_v\": @{\"high_alarm\": 2.6}}},\n"
                 " \"gateways\": [" GW_A ", " STR1 ", \"module_type\": \"C23\"}]}",
                 "defaults.thresholds.voltage_v: high_warn (18.8) above high_alarm (2.6)");

    /* Site-wide uniqueness: the later gateway is at fault. */
    expect_error(
        "{\"gateways\": [\n"
        "  {\"id\": \"wm1\", \"publish\": \"tcp://*:1\", \"replay\": \"tcp://*:2\", " STR1 "},\n"
        "  {\"id\": @\"wm1\", \"publish\": \"tcp://*:3\", \"replay\": \"tcp://*:4\", " STR1 "}]}",
        "gateways[1].id: duplicate id \"wm1\" (also gateways[0])");
    expect_error(
        "{\"gateways\": [\n"
        "  {\"id\": \"wm1\", \"publish\": \"tcp://*:1\", \"replay\": \"tcp://*:2\", " STR1 "},\n"
        "  {\"id\": \"wm2\", \"publish\": \"tcp://*:3\", \"replay\": @\"tcp://*:2\", " STR1 "}]}",
        "gateways[1].replay: endpoint \"tcp://*:2\" already used by gateways[0].replay");
    expect_error("{\"gateways\": [{\"id\": \"a\", \"publish\": \"tcp://*:1\", "
                 "\"replay\": @\"tcp://*:1\", " STR1 "}]}",
                 "gateways[0].replay: endpoint \"tcp://*:1\" already used by gateways[0].publish");
    expect_error("{\"defaults\": {\"publish\": @\"tcp://*:9\"}, \"gateways\": [\n"
                 "  {\"id\": \"a\", \"replay\": \"tcp://*:1\", " STR1 "},\n"
                 "  {\"id\": \"b\", \"replay\": \"tcp://*:2\", " STR1 "}]}",
                 "defaults.publish: endpoint \"tcp://*:9\" already used by gateways[0].publish");

    /* Module counts. */
    expect_error("{\"gateways\": [" GW_A
                 ",\n \"strings\": @[{\"modules\": 500}, {\"modules\": 13}]}]}",
                 "gateways[0].strings: 513 modules in all; the G.BMS map addresses at most 512 "
                 "(guide: 512 modules in 16 strings)");
    expect_error("{\"gateways\": [" GW_A
                 ",\n \"strings\": @[{\"modules\": 500}, {\"modules\": 20}]}]}",
                 "gateways[0].strings: 520 modules in all; the G.BMS map addresses at most 512 "
                 "(guide: 512 modules in 16 strings)");
    expect_error("{\"gateways\": [" GW_A ", \"strings\": [{\"modules\": @513}]}]}",
                 "gateways[0].strings[0].modules: must be between 1 and 512");
    expect_error("{\"gateways\": [" GW_A ", \"strings\": @[]}]}",
                 "gateways[0].strings: needs 1 to 16 strings, has 0");
    {
        /* 17 strings */
        char text[2048];
        int n = snprintf(text, sizeof(text), "{\"gateways\": [" GW_A ", \"strings\": @[");
        for (int i = 0; i < 17; i++)
            n += snprintf(text + n, sizeof(text) - (size_t)n, "%s{\"modules\": 1}", i ? ", " : "");
        snprintf(text + n, sizeof(text) - (size_t)n, "]}]}");
        expect_error(text, "gateways[0].strings: needs 1 to 16 strings, has 17");
    }
    {
        /* Exactly 512 modules is fine. */
        char err[512];
        ow_site_t *s = load_text("{\"gateways\": [" GW_A ", \"strings\": [{\"modules\": 500}, "
                                 "{\"modules\": 12}]}]}",
                                 err, sizeof(err));
        CHECK_MSG(s != NULL, "%s", err);
        if (s)
            CHECK(s->gateways[0].nmodules == 512 && s->gateways[0].strings[1].first_module == 501);
        ow_site_destroy(&s);
    }

    /* An error in defaults names the defaults path even if a gateway overrides it. */
    expect_error("{\"defaults\": {\"poll_ms\": @10}, \"gateways\": [" GW_A ", " STR1
                 ", \"poll_ms\": 1000}]}",
                 "defaults.poll_ms: must be between 100 and 3600000");
    /* ... and a bad value that a gateway inherits is still the defaults' fault. */
    expect_error("{\"defaults\": {\"strings\": @[]}, \"gateways\": [" GW_A "}]}",
                 "defaults.strings: needs 1 to 16 strings, has 0");
}

/* Runtime settings: same ranges and cross-key rules as the file, all or nothing. */
static void test_settings(void)
{
    char err[512];
    ow_site_t *s = ow_site_load("etc/site-sample.json", err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (!s) return;
    ow_gateway_cfg_t g = s->gateways[0], before;
    double v = 0;

    /* Round trips, doubles and integers. */
    CHECK_MSG(ow_gateway_set(&g, "thresholds.voltage_v.high_alarm", 16, err, sizeof(err)) == 0,
              "%s", err);
    CHECK_STR(err, "");
    CHECK(g.thr.voltage_v.high_alarm == 16);
    CHECK(ow_gateway_get(&g, "thresholds.voltage_v.high_alarm", &v) == 0 && v == 16);
    CHECK(ow_gateway_set(&g, "thresholds.current_deviation.charge_warn_a", 7.5, err, sizeof(err)) ==
          0);
    CHECK(g.thr.dev_charge_warn_a == 7.5);
    CHECK(ow_gateway_get(&g, "thresholds.current_deviation.charge_warn_a", &v) == 0 && v == 7.5);
    CHECK(ow_gateway_set(&g, "thresholds.comm_lost_polls", 5, err, sizeof(err)) == 0);
    CHECK(g.thr.comm_lost_polls == 5);
    CHECK(ow_gateway_get(&g, "thresholds.comm_lost_polls", &v) == 0 && v == 5);
    CHECK(ow_gateway_set(&g, "thresholds.string_current_a.low_alarm", -120, err, sizeof(err)) == 0);
    CHECK(ow_gateway_get(&g, "thresholds.string_current_a.low_alarm", &v) == 0 && v == -120);
    CHECK(ow_gateway_set(&g, "thresholds.thermal_runaway.breaker_output", 4, err, sizeof(err)) ==
          0);
    CHECK(g.thr.tr_breaker_output == 4);
    CHECK(ow_gateway_set(&g, "thresholds.temp_c.delay_s", 30, err, sizeof(err)) == 0);
    CHECK(g.thr.temp_c.delay_s == 30);
    /* A boundary value is in range. */
    CHECK(ow_gateway_set(&g, "thresholds.voltage_v.high_alarm", 100, err, sizeof(err)) == 0);

    /* Refusals leave g exactly as it was and say why. */
    before = g;
#define REFUSED(key, value, msg)                                                                   \
    do {                                                                                           \
        snprintf(err, sizeof(err), "x");                                                           \
        CHECK(ow_gateway_set(&g, key, value, err, sizeof(err)) == -1);                             \
        CHECK_STR(err, msg);                                                                       \
        CHECK(memcmp(&g, &before, sizeof(g)) == 0);                                                \
    } while (0)
    REFUSED("thresholds.voltage_v.high_alarm", 100.5,
            "thresholds.voltage_v.high_alarm: must be between 0 and 100");
    REFUSED("thresholds.voltage_v.low_alarm", -1,
            "thresholds.voltage_v.low_alarm: must be between 0 and 100");
    REFUSED("thresholds.voltage_v.low_warn", 14.5,
            "thresholds.voltage_v: low_warn (14.5) above high_warn (14.1)");
    REFUSED("thresholds.voltage_v.high_warn", 12.4,
            "thresholds.voltage_v: low_warn (12.4) equal to high_warn (12.4)");
    REFUSED("thresholds.voltage_v.low_alarm", 12.5,
            "thresholds.voltage_v: low_alarm (12.5) above low_warn (12.4)");
    REFUSED("thresholds.temp_c.high_alarm", 29,
            "thresholds.temp_c: high_warn (30) above high_alarm (29)");
    REFUSED("thresholds.current_deviation.charge_alarm_a", 7,
            "thresholds.current_deviation.charge_warn_a: "
            "charge_warn_a (7.5) above charge_alarm_a (7)");
    REFUSED("thresholds.current_deviation.discharge_warn_a", 11,
            "thresholds.current_deviation.discharge_warn_a: "
            "discharge_warn_a (11) above discharge_alarm_a (10)");
    REFUSED("thresholds.baseline_alarm_pct", 10,
            "thresholds.baseline_warn_pct: baseline_warn_pct (20) above baseline_alarm_pct (10)");
    REFUSED("thresholds.equalizing_max_v", 12.495,
            "thresholds.equalizing_min_v: equalizing_min_v (12.495) equal to equalizing_max_v "
            "(12.495)");
    REFUSED("thresholds.thermal_runaway.breaker_output", 5,
            "thresholds.thermal_runaway.breaker_output: "
            "output 5 needs 2 GX_R_AUX units but aux_units is 1");
    REFUSED("thresholds.comm_lost_polls", 2.5, "thresholds.comm_lost_polls: expected an integer");
    REFUSED("thresholds.comm_lost_polls", 0,
            "thresholds.comm_lost_polls: must be between 1 and 1000");
    REFUSED("thresholds.voltage_v.high_warn", NAN,
            "thresholds.voltage_v.high_warn: must be a finite number");
    REFUSED("thresholds.temp_c.high_alarm", INFINITY,
            "thresholds.temp_c.high_alarm: must be a finite number");
    REFUSED("thresholds.comm_lost_polls", -INFINITY,
            "thresholds.comm_lost_polls: must be a finite number");
    REFUSED("thresholds.discharge_detect_a", 0.1,
            "thresholds.discharge_detect_a: must be between 0.2 and 100000");
    REFUSED("thresholds.float_band_v_per_cell", 0.6,
            "thresholds.float_band_v_per_cell: must be between 0.005 and 0.5");
    REFUSED("thresholds.hydrogen_alarm_pct_lel", 101,
            "thresholds.hydrogen_alarm_pct_lel: must be between 0 and 100");
    REFUSED("thresholds.hydrogen_warn_pct_lel", 40,
            "thresholds.hydrogen_warn_pct_lel: hydrogen_warn_pct_lel (40) equal to "
            "hydrogen_alarm_pct_lel (40)");
    REFUSED("thresholds.hydrogen_alarm_pct_lel", 15,
            "thresholds.hydrogen_warn_pct_lel: hydrogen_warn_pct_lel (20) above "
            "hydrogen_alarm_pct_lel (15)");
    REFUSED("thresholds.ambient_c.high_warn", 36,
            "thresholds.ambient_c: high_warn (36) above high_alarm (35)");
    REFUSED("thresholds.humidity_pct.high_alarm", 101,
            "thresholds.humidity_pct.high_alarm: must be between 0 and 100");
    REFUSED("thresholds.humidity_pct.high_warn", 0,
            "thresholds.humidity_pct: low_warn (0) equal to high_warn (0)");
    /* Humidity has no low levels. */
    REFUSED("thresholds.humidity_pct.low_warn", 10,
            "thresholds.humidity_pct.low_warn: unknown key");
    /* Only numbers under "thresholds." are settings. */
    REFUSED("thresholds.voltage_v.nope", 1, "thresholds.voltage_v.nope: unknown key");
    REFUSED("thresholds.voltage_v", 1, "thresholds.voltage_v: unknown key");
    REFUSED("poll_ms", 1000, "poll_ms: unknown key");
    REFUSED("battery.capacity_ah", 100, "battery.capacity_ah: unknown key");
    REFUSED("", 1, ": unknown key");
    REFUSED(NULL, 1, "(null): unknown key");
#undef REFUSED
    CHECK(ow_gateway_get(&g, "poll_ms", &v) == -1);
    CHECK(ow_gateway_get(&g, "thresholds.voltage_v", &v) == -1);
    CHECK(ow_gateway_get(&g, NULL, &v) == -1);
    CHECK(ow_gateway_get(NULL, "thresholds.comm_lost_polls", &v) == -1);
    CHECK(ow_gateway_set(NULL, "thresholds.comm_lost_polls", 3, NULL, 0) == -1);
    CHECK(ow_gateway_set(&g, "thresholds.comm_lost_polls", 2.5, NULL, 0) == -1);

    CHECK(ow_gateway_set(&g, "thresholds.hydrogen_alarm_pct_lel", 0, err, sizeof(err)) == 0);
    CHECK(ow_gateway_get(&g, "thresholds.hydrogen_alarm_pct_lel", &v) == 0 && v == 0);
    /* A stage set to 0 is off, so the other is not ordered against it. */
    CHECK(ow_gateway_set(&g, "thresholds.hydrogen_warn_pct_lel", 30, err, sizeof(err)) == 0);
    CHECK(ow_gateway_set(&g, "thresholds.hydrogen_warn_pct_lel", 0, err, sizeof(err)) == 0);
    CHECK(ow_gateway_set(&g, "thresholds.hydrogen_alarm_pct_lel", 40, err, sizeof(err)) == 0);
    CHECK(ow_gateway_set(&g, "thresholds.hydrogen_warn_pct_lel", 20, err, sizeof(err)) == 0);
    CHECK(ow_gateway_set(&g, "thresholds.charge_detect_a", 2.5, err, sizeof(err)) == 0);
    CHECK(g.thr.charge_detect_a == 2.5);

    /* A change that two steps would allow is refused as one: widen first. */
    CHECK(ow_gateway_set(&g, "thresholds.voltage_v.low_warn", 14.5, err, sizeof(err)) == -1);
    CHECK(ow_gateway_set(&g, "thresholds.voltage_v.high_warn", 15, err, sizeof(err)) == 0);
    CHECK(ow_gateway_set(&g, "thresholds.voltage_v.low_warn", 14.5, err, sizeof(err)) == 0);

    /* The list: every numeric threshold and the guide's two other
     * read-write settings, nothing else, each one gettable and settable to
     * its own value. */
    const char *const *keys = ow_gateway_keys();
    CHECK(keys == ow_gateway_keys());
    int n = 0, seen_high_alarm = 0, seen_polls = 0, seen_breaker = 0, others = 0;
    ow_gateway_cfg_t orig = s->gateways[0];
    for (; keys[n]; n++) {
        int other =
            strcmp(keys[n], "impedance_poll_min") == 0 || strcmp(keys[n], "temperature_unit") == 0;
        others += other;
        CHECK_MSG(other || strncmp(keys[n], "thresholds.", 11) == 0, "%s", keys[n]);
        seen_high_alarm += strcmp(keys[n], "thresholds.voltage_v.high_alarm") == 0;
        seen_polls += strcmp(keys[n], "thresholds.comm_lost_polls") == 0;
        seen_breaker += strcmp(keys[n], "thresholds.thermal_runaway.breaker_output") == 0;
        CHECK_MSG(ow_gateway_get(&orig, keys[n], &v) == 0, "%s", keys[n]);
        CHECK_MSG(ow_gateway_set(&orig, keys[n], v, err, sizeof(err)) == 0, "%s: %s", keys[n], err);
    }
    CHECK(memcmp(&orig, &s->gateways[0], sizeof(orig)) == 0);
    CHECK(seen_high_alarm == 1 && seen_polls == 1 && seen_breaker == 1);
    /* 6 limit objects x 6, humidity's 4, 4 deviations, max_voltage_diff_v,
     * comm_lost_polls, baseline 2, equalizing 2, battery state 3, hydrogen 2,
     * thermal runaway 5, alarm outputs 2, float rules 3. */
    CHECK_MSG(n - others == 65, "%d keys", n - others);
    CHECK(others == 2);

    /* The two others: the poll period an integer in the schema's range,
     * the unit by the index of its choice (bacsTemperatureUnit's 0 / 1). */
    CHECK(ow_gateway_get(&g, "impedance_poll_min", &v) == 0 && v == 720);
    CHECK(ow_gateway_set(&g, "impedance_poll_min", 15, err, sizeof(err)) == 0);
    CHECK(g.impedance_poll_min == 15);
    CHECK(ow_gateway_set(&g, "impedance_poll_min", 0, err, sizeof(err)) == -1);
    CHECK_STR(err, "impedance_poll_min: must be between 1 and 44640");
    CHECK(ow_gateway_get(&g, "temperature_unit", &v) == 0 && v == 0);
    CHECK(!ow_gateway_fahrenheit(&g));
    CHECK(ow_gateway_set(&g, "temperature_unit", 1, err, sizeof(err)) == 0);
    CHECK_STR(g.temperature_unit, "F");
    CHECK(ow_gateway_fahrenheit(&g));
    CHECK(ow_gateway_set(&g, "temperature_unit", -1, err, sizeof(err)) == -1);
    CHECK_STR(err, "temperature_unit: must be between 0 and 1 (C, F, in that order)");
    CHECK_STR(g.temperature_unit, "F");
    double lo = -1, hi = -1;
    CHECK(ow_gateway_range("temperature_unit", &lo, &hi) == 0 && lo == 0 && hi == 1);
    char txt[16];
    CHECK_STR(ow_gateway_value_text("temperature_unit", 1, txt, sizeof txt), "F");
    CHECK_STR(ow_gateway_value_text("impedance_poll_min", 30, txt, sizeof txt), "30");
    CHECK_STR(ow_gateway_value_text("impedance_poll_min", NAN, txt, sizeof txt), "");
    CHECK(ow_gateway_value_choice("temperature_unit", "F", &v) == 0 && v == 1);
    CHECK(ow_gateway_value_choice("temperature_unit", "C", &v) == 0 && v == 0);
    CHECK(ow_gateway_value_choice("temperature_unit", "K", &v) == -1);
    CHECK(ow_gateway_value_choice("impedance_poll_min", "30", &v) == -1);
    /* copied as settings: the rest of the gateway kept */
    ow_gateway_cfg_t dst = s->gateways[0];
    dst.poll_ms = 1234;
    ow_gateway_copy_settings(&dst, &g);
    CHECK(dst.impedance_poll_min == 15 && ow_gateway_fahrenheit(&dst) && dst.poll_ms == 1234);
    CHECK(dst.thr.voltage_v.high_alarm == g.thr.voltage_v.high_alarm);
    ow_site_destroy(&s);
}

/* services.alarmd: defaults, paths relative to the site file, errors with
 * their position both from the loader (`-n`) and from ow_site_alarmd. */
static void test_alarmd(void)
{
    char err[512];
    ow_alarmd_cfg_t a;
    ow_site_t *s = ow_site_load("etc/site-sample.json", err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        CHECK_MSG(ow_site_alarmd(s, &a, err, sizeof(err)) == 0, "%s", err);
        CHECK_STR(err, "");
        CHECK_STR(a.publish, "tcp://127.0.0.1:7710");
        CHECK_STR(a.control, "tcp://127.0.0.1:7711");
        CHECK_STR(a.replay, "tcp://127.0.0.1:7712");
        CHECK_STR(a.state_file, "etc/../run/alarmd-state.json");
        CHECK(a.journal_messages == 100000);
        CHECK(a.save_interval_ms == 1000);

        /* A section changed after loading is judged with the file's positions. */
        int line, col;
        CHECK(ow_jpos_find(s->positions, "services.alarmd.replay", &line, &col) == 0);
        json_t *ad = json_object_get(s->services, "alarmd");
        json_object_set_new(ad, "replay", json_integer(7712));
        char want[600];
        snprintf(want, sizeof(want),
                 "etc/site-sample.json:%d:%d: services.alarmd.replay: expected a string", line,
                 col);
        CHECK(ow_site_alarmd(s, &a, err, sizeof(err)) == -1);
        CHECK_STR(err, want);
        json_object_set_new(ad, "replay", json_string("tcp://127.0.0.1:7701"));
        snprintf(want, sizeof(want),
                 "etc/site-sample.json:%d:%d: services.alarmd.replay: endpoint "
                 "\"tcp://127.0.0.1:7701\" already used by gateways[0].publish",
                 line, col);
        CHECK(ow_site_alarmd(s, &a, err, sizeof(err)) == -1);
        CHECK_STR(err, want);
        ow_site_destroy(&s);
    }

    s = ow_site_load("deploy/site-compose.json", err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        CHECK_MSG(ow_site_alarmd(s, &a, err, sizeof(err)) == 0, "%s", err);
        CHECK_STR(a.publish, "tcp://*:7710");
        CHECK_STR(a.replay, "tcp://*:7712");
        CHECK_STR(a.state_file, "/var/lib/ohmwatch/alarmd-state.json");
        ow_site_destroy(&s);
    }
    s = ow_site_load("etc/two-gateways.json", err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        CHECK(ow_site_alarmd(s, &a, err, sizeof(err)) == 0);
        CHECK_STR(a.control, "tcp://127.0.0.1:7741");
        ow_site_destroy(&s);
    }

    /* No section: all defaults, the state file beside the site file. */
    s = load_text("{\"gateways\": [" GW_A ", " STR1 "}]}", err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        memset(&a, 0x55, sizeof(a));
        CHECK_MSG(ow_site_alarmd(s, &a, err, sizeof(err)) == 0, "%s", err);
        CHECK_STR(a.publish, "tcp://127.0.0.1:7710");
        CHECK_STR(a.control, "tcp://127.0.0.1:7711");
        CHECK_STR(a.replay, "tcp://127.0.0.1:7712");
        CHECK_STR(a.state_file, "/tmp/alarmd-state.json");
        CHECK(a.journal_messages == 100000);
        CHECK(a.save_interval_ms == 1000);
        ow_site_destroy(&s);
    }
    s = load_text("{\"gateways\": [" GW_A ", " STR1 "}],\n"
                  " \"services\": {\"busd\": {\"anything\": 1}, \"alarmd\": {\"publish\": "
                  "\"ipc:///tmp/alarmd.pub\",\n \"state_file\": \"/var/lib/x/state.json\", "
                  "\"journal_messages\": 1000, \"save_interval_ms\": 0}}}",
                  err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        CHECK_MSG(ow_site_alarmd(s, &a, err, sizeof(err)) == 0, "%s", err);
        CHECK_STR(a.publish, "ipc:///tmp/alarmd.pub");
        CHECK_STR(a.replay, "tcp://127.0.0.1:7712");
        CHECK_STR(a.state_file, "/var/lib/x/state.json");
        CHECK(a.journal_messages == 1000 && a.save_interval_ms == 0);
        ow_site_destroy(&s);
    }
    CHECK(ow_site_alarmd(NULL, &a, err, sizeof(err)) == -1);

    /* Mistakes, caught when the site loads. */
#define SVC(x) "{\"gateways\": [" GW_A ", " STR1 "}],\n \"services\": " x "}"
    expect_error(SVC("{\"alarmd\": {\"publsh\": @\"tcp://*:9\"}}"),
                 "services.alarmd.publsh: unknown key (did you mean publish?)");
    expect_error(SVC("{\"alarmd\": @[]}"), "services.alarmd: expected an object");
    expect_error(SVC("{\"alarmd\": {\"journal_messages\": @\"many\"}}"),
                 "services.alarmd.journal_messages: expected a number");
    expect_error(SVC("{\"alarmd\": {\"save_interval_ms\": @1.5}}"),
                 "services.alarmd.save_interval_ms: expected an integer");
    expect_error(SVC("{\"alarmd\": {\"journal_messages\": @999}}"),
                 "services.alarmd.journal_messages: must be between 1000 and 10000000");
    expect_error(SVC("{\"alarmd\": {\"save_interval_ms\": @600001}}"),
                 "services.alarmd.save_interval_ms: must be between 0 and 600000");
    expect_error(SVC("{\"alarmd\": {\"control\": @7711}}"),
                 "services.alarmd.control: expected a string");
    expect_error(SVC("{\"alarmd\": {\"replay\": @\"udp://x:1\"}}"),
                 "services.alarmd.replay: must start with tcp://, ipc:// or inproc://");
    expect_error(SVC("{\"alarmd\": {\"state_file\": @\"\"}}"),
                 "services.alarmd.state_file: must not be empty");
    expect_error(SVC("{\"alarmd\": {\"publish\": \"tcp://*:7\", \"control\": @\"tcp://*:7\"}}"),
                 "services.alarmd.control: endpoint \"tcp://*:7\" already used by "
                 "services.alarmd.publish");
    /* The default replay endpoint clashes with the one given for control. */
    expect_error(SVC("{\"alarmd\": {\"control\": @\"tcp://127.0.0.1:7712\"}}"),
                 "services.alarmd.control: endpoint \"tcp://127.0.0.1:7712\" already used by "
                 "services.alarmd.replay");
    expect_error(SVC("{\"alarmd\": {\"replay\": @\"tcp://*:2\"}}"),
                 "services.alarmd.replay: endpoint \"tcp://*:2\" already used by "
                 "gateways[0].replay");
    /* A default that clashes is reported where the section would be. */
    expect_error("{\"gateways\": [{\"id\": \"a\", \"publish\": \"tcp://127.0.0.1:7711\", "
                 "\"replay\": \"tcp://*:2\", " STR1 "}],\n \"services\": @{}}",
                 "services.alarmd.control: endpoint \"tcp://127.0.0.1:7711\" already used by "
                 "gateways[0].publish");
#undef SVC
    {
        /* Resolved against the site's directory, the path must still fit. */
        char text[1024], name[520];
        memset(name, 'a', 508);
        name[508] = '\0';
        snprintf(text, sizeof(text),
                 "{\"gateways\": [" GW_A ", " STR1 "}],\n"
                 " \"services\": {\"alarmd\": {\"state_file\": @\"%s\"}}}",
                 name);
        expect_error(text, "services.alarmd.state_file: too long once resolved against \"/tmp\" "
                           "(at most 511 bytes)");
    }
}

static void test_parse_errors(void)
{
    char path[64], err[512], want[128];
    int l, c;
    /* jansson's own message and position: line 2, after the stray comma. */
    write_tmp("{\"gateways\": [\n  {\"id\": \"a\",,}\n]}", path, sizeof(path), &l, &c);
    ow_site_t *s = ow_site_load(path, err, sizeof(err));
    CHECK(s == NULL);
    snprintf(want, sizeof(want), "%s:2:", path);
    CHECK_MSG(strncmp(err, want, strlen(want)) == 0, "'%s' does not start with '%s'", err, want);
    CHECK_CONTAINS(err, "near ','");
    unlink(path);

    /* Duplicate keys are rejected by jansson (JSON_REJECT_DUPLICATES). */
    write_tmp("{\"gateways\": [],\n \"gateways\": []}", path, sizeof(path), &l, &c);
    s = ow_site_load(path, err, sizeof(err));
    CHECK(s == NULL);
    snprintf(want, sizeof(want), "%s:2:", path);
    CHECK_MSG(strncmp(err, want, strlen(want)) == 0, "'%s' does not start with '%s'", err, want);
    CHECK_CONTAINS(err, "duplicate object key");
    unlink(path);

    /* Empty file, missing file. */
    write_tmp("", path, sizeof(path), &l, &c);
    s = ow_site_load(path, err, sizeof(err));
    CHECK(s == NULL);
    snprintf(want, sizeof(want), "%s:", path);
    CHECK_MSG(strncmp(err, want, strlen(want)) == 0, "'%s' does not start with '%s'", err, want);
    unlink(path);
    s = ow_site_load("/nonexistent/site.json", err, sizeof(err));
    CHECK(s == NULL);
    CHECK_STR(err, "/nonexistent/site.json: No such file or directory");
    /* A tiny error buffer truncates, never overflows; NULL is allowed too. */
    char tiny[8];
    CHECK(ow_site_load("/nonexistent/site.json", tiny, sizeof(tiny)) == NULL);
    CHECK(strlen(tiny) == 7);
    CHECK(ow_site_load("/nonexistent/site.json", NULL, 0) == NULL);
}

static void test_module_types(void)
{
    CHECK(ow_module_types_count == 5);
    const ow_module_type_t *t = ow_module_type_find("C40");
    CHECK(t && t->code == 20 && t->nominal_v == 2.0 && strcmp(t->part, "950-6500") == 0);
    CHECK_NEAR(t->r_min, 0.02, 1e-12);
    t = ow_module_type_find("C41");
    CHECK(t && t->code == 21 && t->nominal_v == 4.0);
    t = ow_module_type_find("C30");
    CHECK(t && t->code == 10 && t->nominal_v == 6.0 && t->v_max == 8.0);
    t = ow_module_type_find("C20");
    CHECK(t && t->code == 0 && t->v_min == 9.7 && t->v_max == 17 && t->eq_current_a == 0.15);
    t = ow_module_type_find("C23");
    CHECK(t && t->code == 1 && t->nominal_v == 16.0 && t->v_max == 21);
    CHECK(ow_module_type_find("C21") == t);
    CHECK(ow_module_type_find("c20") == ow_module_type_find("C20"));
    CHECK(ow_module_type_find("C22") == NULL);
    CHECK(ow_module_type_find(NULL) == NULL);
    /* Codes are distinct (the guide gives C40 and C41 the same one). */
    for (size_t i = 0; i < ow_module_types_count; i++)
        for (size_t j = i + 1; j < ow_module_types_count; j++)
            CHECK(ow_module_types[i].code != ow_module_types[j].code);
}

static void test_doc(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(ow_config_doc(f, NULL) == 0);
    fclose(f);
    CHECK_CONTAINS(buf, "| `thresholds.voltage_v.low_warn` | number | 0 .. 100 | per cell x cells: "
                        "VRLA 2.067 (12 V: 12.40), flooded 1.98 |");
    CHECK_CONTAINS(buf, "| `thresholds.voltage_v.hysteresis` | number | 0 .. 10 | "
                        "0.05 x nominal_v/12 |");
    CHECK_CONTAINS(buf, "| `id` | string |");
    CHECK_CONTAINS(buf, "**required**");
    CHECK_CONTAINS(buf, "| `strings[].modules` | integer | 1 .. 512 |");
    CHECK_CONTAINS(buf, "| C41 | 950-6501 | 21 |");
    CHECK_CONTAINS(buf, "`C21` is\naccepted");
    CHECK_CONTAINS(buf, "| `thresholds.string_current_a.low_alarm` | number | -100000 .. 100000 | "
                        "-2 x capacity_ah |");
    CHECK_CONTAINS(buf, "| `thresholds.discharge_detect_a` | number | 0.2 .. 100000 | "
                        "0.01 x capacity_ah |");
    CHECK_CONTAINS(buf, "| `thresholds.hydrogen_warn_pct_lel` | number | 0 .. 100 | 20 |");
    CHECK_CONTAINS(buf, "| `thresholds.hydrogen_alarm_pct_lel` | number | 0 .. 100 | 40 |");
    CHECK_CONTAINS(buf, "## services.alarmd\n");
    CHECK_CONTAINS(buf, "| `services.alarmd.publish` | string | `tcp://`, `ipc://`, `inproc://` "
                        "| `tcp://127.0.0.1:7710` |");
    CHECK_CONTAINS(buf, "| `services.alarmd.journal_messages` | integer | 1000 .. 10000000 | "
                        "100000 |");
    free(buf);
}

/* Bind and connect addresses: what the others connect to, and the checks. */
static void test_connect(void)
{
    char out[OW_ENDPOINT_MAX], err[512];
    CHECK(ow_endpoint_connect("tcp://*:7701", NULL, out, sizeof(out)) == 0);
    CHECK_STR(out, "tcp://127.0.0.1:7701");
    CHECK(ow_endpoint_connect("tcp://0.0.0.0:7701", "", out, sizeof(out)) == 0);
    CHECK_STR(out, "tcp://127.0.0.1:7701");
    CHECK(ow_endpoint_connect("tcp://[::]:7701", NULL, out, sizeof(out)) == 0);
    CHECK_STR(out, "tcp://[::1]:7701");
    CHECK(ow_endpoint_connect("tcp://10.0.0.5:7701", NULL, out, sizeof(out)) == 0);
    CHECK_STR(out, "tcp://10.0.0.5:7701");
    CHECK(ow_endpoint_connect("tcp://*:7701", "busd-wm1", out, sizeof(out)) == 0);
    CHECK_STR(out, "tcp://busd-wm1:7701");
    CHECK(ow_endpoint_connect("tcp://10.0.0.5:7701", "[fd00::5]", out, sizeof(out)) == 0);
    CHECK_STR(out, "tcp://[fd00::5]:7701");
    CHECK(ow_endpoint_connect("ipc:///run/ow/a", NULL, out, sizeof(out)) == 0);
    CHECK_STR(out, "ipc:///run/ow/a");
    CHECK(ow_endpoint_connect("ipc:///run/ow/a", "busd", out, sizeof(out)) == -1);
    CHECK(ow_endpoint_connect("inproc://x", "busd", out, sizeof(out)) == -1);
    CHECK(ow_endpoint_connect("tcp://*:7701", "a-long-host-name", out, 20) == -1);

    /* Two busd in two containers bind the same endpoints under distinct
     * connect hosts; alarmd binds a wildcard and is reached by its name. */
    ow_site_t *s = load_text(
        "{\"gateways\": [\n"
        "  {\"id\": \"wm1\", \"publish\": \"tcp://*:7701\", \"replay\": \"tcp://*:7702\",\n"
        "   \"connect_host\": \"busd-wm1\", " STR1 "},\n"
        "  {\"id\": \"wm2\", \"publish\": \"tcp://*:7701\", \"replay\": \"tcp://*:7702\",\n"
        "   \"connect_host\": \"busd-wm2\", " STR1 "},\n"
        "  {\"id\": \"wm3\", \"publish\": \"tcp://*:7701\", \"replay\": \"tcp://*:7702\", " STR1
        "}],\n"
        " \"services\": {\"alarmd\": {\"publish\": \"tcp://*:7710\", \"replay\": "
        "\"tcp://*:7712\",\n"
        "   \"control\": \"tcp://0.0.0.0:7711\", \"connect_host\": \"alarmd\"}}}",
        err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        CHECK_STR(s->gateways[0].publish, "tcp://*:7701");
        CHECK_STR(s->gateways[0].publish_connect, "tcp://busd-wm1:7701");
        CHECK_STR(s->gateways[1].replay_connect, "tcp://busd-wm2:7702");
        CHECK_STR(s->gateways[2].publish_connect, "tcp://127.0.0.1:7701");
        ow_alarmd_cfg_t a;
        CHECK_MSG(ow_site_alarmd(s, &a, err, sizeof(err)) == 0, "%s", err);
        CHECK_STR(a.control, "tcp://0.0.0.0:7711");
        CHECK_STR(a.publish_connect, "tcp://alarmd:7710");
        CHECK_STR(a.replay_connect, "tcp://alarmd:7712");
        CHECK_STR(a.control_connect, "tcp://alarmd:7711");
        ow_site_destroy(&s);
    }
    /* Without connect hosts the sample site connects where it binds. */
    s = ow_site_load("etc/site-sample.json", err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        ow_alarmd_cfg_t a;
        CHECK_STR(s->gateways[0].publish_connect, s->gateways[0].publish);
        CHECK(ow_site_alarmd(s, &a, err, sizeof(err)) == 0);
        CHECK_STR(a.control_connect, a.control);
        ow_site_destroy(&s);
    }

    /* Mistakes. */
    expect_error("{\"gateways\": [" GW_A ", \"connect_host\": @\"busd:7701\", " STR1 "}]}",
                 "gateways[0].connect_host: must be a host name, an IPv4 address or an [IPv6] "
                 "address");
    expect_error("{\"gateways\": [" GW_A ", \"connect_host\": @\"[fd00::zz]\", " STR1 "}]}",
                 "gateways[0].connect_host: must be a host name, an IPv4 address or an [IPv6] "
                 "address");
    expect_error("{\"gateways\": [{\"id\": \"a\", \"publish\": \"ipc:///tmp/p\", "
                 "\"replay\": \"ipc:///tmp/r\", \"connect_host\": @\"busd\", " STR1 "}]}",
                 "gateways[0].connect_host: only for tcp:// endpoints (publish and replay)");
    expect_error("{\"defaults\": {\"connect_host\": @\"busd\"}, \"gateways\": [" GW_A ", " STR1
                 "}]}",
                 "defaults.connect_host: not allowed in defaults (each gateway needs its own)");
    /* A wildcard and loopback on one host are the same endpoint. */
    expect_error(
        "{\"gateways\": [\n"
        "  {\"id\": \"wm1\", \"publish\": \"tcp://*:1\", \"replay\": \"tcp://*:2\", " STR1 "},\n"
        "  {\"id\": \"wm2\", \"publish\": @\"tcp://127.0.0.1:1\", \"replay\": \"tcp://*:4\", " STR1
        "}]}",
        "gateways[1].publish: endpoint \"tcp://127.0.0.1:1\" already used by gateways[0].publish");
    /* The same name for two gateways is a clash too. */
    expect_error("{\"gateways\": [\n"
                 "  {\"id\": \"wm1\", \"publish\": \"tcp://*:1\", \"replay\": \"tcp://*:2\",\n"
                 "   \"connect_host\": \"busd\", " STR1 "},\n"
                 "  {\"id\": \"wm2\", \"publish\": \"tcp://*:3\", \"replay\": @\"tcp://*:2\",\n"
                 "   \"connect_host\": \"busd\", " STR1 "}]}",
                 "gateways[1].replay: endpoint \"tcp://*:2\" already used by gateways[0].replay");
    expect_error("{\"gateways\": [" GW_A ", " STR1 "}],\n \"services\": {\"alarmd\": "
                 "{\"publish\": \"ipc:///tmp/a\", \"connect_host\": @\"alarmd\"}}}",
                 "services.alarmd.connect_host: only for tcp:// endpoints (publish, replay, "
                 "control)");
    /* alarmd's wildcard on the gateway's port, both reached on loopback. */
    expect_error("{\"gateways\": [" GW_A ", " STR1 "}],\n \"services\": {\"alarmd\": "
                 "{\"publish\": @\"tcp://127.0.0.1:1\"}}}",
                 "services.alarmd.publish: endpoint \"tcp://127.0.0.1:1\" already used by "
                 "gateways[0].publish");
    /* ... but not once alarmd is elsewhere. */
    s = load_text("{\"gateways\": [" GW_A ", " STR1 "}],\n \"services\": {\"alarmd\": "
                  "{\"publish\": \"tcp://*:1\", \"connect_host\": \"alarmd\"}}}",
                  err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    ow_site_destroy(&s);
}

/* services.security: CURVE unless the site says otherwise, keys in
 * /etc/ohmwatch/keys, a relative keys_dir beside the site file, the
 * environment's OHMWATCH_KEYS_DIR over both, and a bad value named. */
static void test_security(void)
{
    char err[512];
    ow_security_cfg_t sc;
    unsetenv("OHMWATCH_KEYS_DIR");
    ow_site_t *s = ow_site_load("etc/site-sample.json", err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (!s) return;
    CHECK(ow_site_security(s, &sc, err, sizeof(err)) == 0 && sc.curve == 1);
    CHECK_STR(sc.keys_dir, "/etc/ohmwatch/keys");
    json_t *sec = json_object();
    json_object_set_new(s->services, "security", sec);
    json_object_set_new(sec, "keys_dir", json_string("keys"));
    json_object_set_new(sec, "curve", json_false());
    CHECK(ow_site_security(s, &sc, err, sizeof(err)) == 0 && sc.curve == 0);
    CHECK_STR(sc.keys_dir, "etc/keys");
    setenv("OHMWATCH_KEYS_DIR", "/tmp/k", 1);
    CHECK(ow_site_security(s, &sc, err, sizeof(err)) == 0);
    CHECK_STR(sc.keys_dir, "/tmp/k");
    unsetenv("OHMWATCH_KEYS_DIR");
    json_object_set_new(sec, "curve", json_string("no"));
    CHECK(ow_site_security(s, &sc, err, sizeof(err)) == -1 &&
          strstr(err, "services.security.curve") != NULL);
    json_object_set_new(sec, "curve", json_true());
    json_object_set_new(sec, "keyz", json_true());
    CHECK(ow_site_security(s, &sc, err, sizeof(err)) == -1 && strstr(err, "keyz") != NULL);
    ow_site_destroy(&s);
}

/* ow_site_parse: the same site from text as from its file (the fuzz target's
 * way in); a path that would be cut short is refused, not truncated. */
static void test_parse_text(void)
{
    char err[512];
    FILE *f = fopen("etc/site-sample.json", "rb");
    CHECK(f != NULL);
    if (!f) return;
    static char text[65536];
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    ow_site_t *a = ow_site_load("etc/site-sample.json", err, sizeof err);
    ow_site_t *b = ow_site_parse(text, n, "etc/site-sample.json", err, sizeof err);
    CHECK_MSG(a && b, "%s", err);
    if (a && b) {
        CHECK_STR(a->dir, b->dir);
        CHECK(a->ngateways == b->ngateways);
        CHECK(memcmp(a->gateways, b->gateways, sizeof *a->gateways * (size_t)a->ngateways) == 0);
    }
    ow_site_destroy(&a);
    ow_site_destroy(&b);
    /* Errors name the path given. */
    CHECK(ow_site_parse("{", 1, "x/y.json", err, sizeof err) == NULL);
    CHECK_MSG(strncmp(err, "x/y.json:1:", 11) == 0, "%s", err);
    /* 511 bytes of path fit ow_site_t.path; 512 would have been cut short. */
    char path[600];
    memset(path, 'd', sizeof path);
    path[0] = '/';
    memcpy(path + 511 - 10, "/site.json", 11);
    CHECK(strlen(path) == 511);
    /* (the sample's relative state_file does not fit under so long a
     * directory: refused for that, at the key) */
    static char lerr[2048];
    b = ow_site_parse(text, n, path, lerr, sizeof lerr);
    CHECK(b == NULL);
    CHECK_CONTAINS(lerr, "services.alarmd.state_file: too long once resolved");
    ow_site_destroy(&b);
    memcpy(path + 512 - 10, "/site.json", 11);
    CHECK(ow_site_parse(text, n, path, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "site file path too long (at most 511 bytes)");
}

int main(void)
{
    test_security();
    test_module_types();
    test_sample();
    test_large();
    test_defaults();
    test_errors();
    test_parse_errors();
    test_parse_text();
    test_settings();
    test_alarmd();
    test_connect();
    test_doc();
    return ow_test_done("config_test");
}
