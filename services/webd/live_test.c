/* live.c's model: messages in, JSON out, with the test's own clock. */
#include "live.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ow_gbms.h"
#include "ow_test.h"

static const char SITE[] =
    "{\"site\":{\"name\":\"T\"},\"gateways\":[{\"id\":\"wm1\",\"name\":\"Room 1\",\"source\":"
    "\"sim\",\"publish\":\"ipc:///tmp/lt-p\",\"replay\":\"ipc:///tmp/lt-r\",\"aux_units\":1,"
    "\"strings\":[{\"name\":\"A\",\"modules\":3},{\"name\":\"B\",\"modules\":3}]}],"
    "\"services\":{\"alarmd\":{\"publish\":\"ipc:///tmp/lt-ap\",\"control\":\"ipc:///tmp/lt-ac\","
    "\"replay\":\"ipc:///tmp/lt-ar\"}}}";

/* What the hub would have got. */
typedef struct {
    int ngw, nalarms;
    char *gw, *alarms;
} sink_t;

static void sink(void *ctx, const char *event, const char *data)
{
    sink_t *k = ctx;
    char **slot = strcmp(event, "gw") == 0 ? &k->gw : &k->alarms;
    (*(strcmp(event, "gw") == 0 ? &k->ngw : &k->nalarms))++;
    free(*slot);
    *slot = strdup(data);
}

static ow_msg_t msg(ow_kind_t kind, const char *gw)
{
    ow_msg_t m;
    ow_msg_init(&m, kind);
    snprintf(m.h.gw, sizeof m.h.gw, "%s", gw);
    m.h.ts_us = 1700000000000000;
    return m;
}

static ow_msg_t module(int addr, int s, double v, double t, double ri, double eq, uint32_t st)
{
    ow_msg_t m = msg(OW_MSG_MODULE, "wm1");
    m.u.module = (ow_module_t){.string = s,
                               .module = addr,
                               .block = (addr - 1) % 3 + 1,
                               .voltage_v = v,
                               .temp_c = t,
                               .impedance_mohm = ri,
                               .eq_pct = eq,
                               .status = st};
    return m;
}

static ow_msg_t heartbeat(void)
{
    ow_msg_t m = msg(OW_MSG_HEARTBEAT, "wm1");
    snprintf(m.u.heartbeat.state, sizeof m.u.heartbeat.state, "running");
    m.u.heartbeat.period_us = 1000000;
    m.u.heartbeat.speed = 1;
    return m;
}

static ow_msg_t state(int active, int audible)
{
    ow_msg_t m = msg(OW_MSG_STATE, "wm1");
    m.u.state.general = GBMS_ST_RUNNING;
    m.u.state.alarms_active = active;
    m.u.state.audible = audible;
    m.u.state.nstrings = 2;
    m.u.state.nmodules = 6;
    m.u.state.module_flags[1] = GBMS_AL_VOLTAGE_HIGH | GBMS_AL_GENERAL_ALARM;
    m.u.state.string_flags2[0] = GBMS_STR_CURRENT_HIGH;
    /* as alarmd words it: the module's alarm is the common alarm */
    m.u.state.alarm = active ? GBMS_AL_VOLTAGE_HIGH | GBMS_AL_GENERAL_ALARM : 0;
    return m;
}

static ow_msg_t alarm(uint64_t id, const char *action, int code, int s, int mod)
{
    ow_msg_t m = msg(OW_MSG_ALARM, "wm1");
    m.u.alarm.id = id;
    snprintf(m.u.alarm.action, sizeof m.u.alarm.action, "%s", action);
    m.u.alarm.type = code;
    m.u.alarm.severity = OW_SEV_ALARM;
    m.u.alarm.string = s;
    m.u.alarm.module = mod;
    m.u.alarm.value = 2.61;
    m.u.alarm.raised_us = 1700000000000000;
    snprintf(m.u.alarm.text, sizeof m.u.alarm.text, "test");
    return m;
}

static json_t *parse(const char *s)
{
    json_error_t e;
    json_t *j = s ? json_loads(s, 0, &e) : NULL;
    if (!j) fprintf(stderr, "not JSON (%s): %s\n", s ? e.text : "NULL", s ? s : "");
    return j;
}

/* Parse a malloc'd text and free it. */
static json_t *take(char *s)
{
    json_t *j = parse(s);
    free(s);
    return j;
}

static json_t *mod_of(json_t *gw, int addr)
{
    return json_array_get(json_object_get(gw, "modules"), (size_t)addr - 1);
}

static double real_of(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static int has_name(json_t *arr, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), name) == 0) return 1;
    return 0;
}

static const char *led(ow_web_live_t *l)
{
    static char buf[16];
    char *s = ow_web_live_json(l, "wm1");
    json_t *j = parse(s);
    snprintf(buf, sizeof buf, "%s",
             json_string_value(json_object_get(json_object_get(j, "state"), "led")));
    json_decref(j);
    free(s);
    return buf;
}

int main(void)
{
    char err[512];
    ow_site_t *site = ow_site_parse(SITE, strlen(SITE), "/tmp/live_test.json", err, sizeof err);
    CHECK_MSG(site != NULL, "%s", err);
    if (!site) return ow_test_done("live_test");
    sink_t k = {0};
    ow_web_live_t *l = ow_web_live_new(site, sink, &k, err, sizeof err);
    CHECK_MSG(l != NULL, "%s", err);
    if (!l) return ow_test_done("live_test");
    int64_t t = 1000000000; /* the test's monotonic clock */

    /* Before busd speaks: every module null, the gateway not answering. */
    json_t *j = take(ow_web_live_json(l, "wm1"));
    CHECK(json_is_false(json_object_get(j, "answering")));
    CHECK(json_array_size(json_object_get(j, "modules")) == 6);
    CHECK(json_is_null(json_object_get(mod_of(j, 4), "v")));
    CHECK(json_integer_value(json_object_get(mod_of(j, 4), "string")) == 2);
    CHECK(json_integer_value(json_object_get(mod_of(j, 4), "pos")) == 1);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "state"), "led")), "green");
    json_decref(j);
    CHECK(ow_web_live_json(l, "nope") == NULL);
    CHECK(ow_web_live_tick(l, t) == 0);

    /* One busd cycle: modules, a string, the heartbeat; module 3 silent. */
    for (int a = 1; a <= 6; a++) {
        ow_msg_t m = a == 3 ? module(a, 1, NAN, NAN, NAN, NAN, OW_MODST_NO_RESPONSE)
                            : module(a, (a - 1) / 3 + 1, 2.25 + a * 0.001, 20.5 + a, 3.21 + a,
                                     a == 2 ? 40 : 0, 0);
        ow_web_live_apply(l, &m, 1, t);
    }
    ow_msg_t sm = msg(OW_MSG_STRING, "wm1");
    sm.u.string = (ow_string_t){.string = 1,
                                .modules = 3,
                                .modules_lost = 1,
                                .current_a = -12.5,
                                .ac_current_a = NAN,
                                .sum_voltage_v = 4.503,
                                .avg_voltage_v = 2.2515,
                                .power_kw = -0.0562875,
                                .ripple_v = NAN};
    ow_web_live_apply(l, &sm, 1, t);
    CHECK(ow_web_live_tick(l, t) == 1); /* busd spoke: answering changed */
    int before = k.ngw;
    ow_msg_t hb = heartbeat();
    ow_web_live_apply(l, &hb, 1, t + 1000);
    ow_web_live_tick(l, t + 300000);
    CHECK(k.ngw == before + 1);
    j = parse(k.gw);
    CHECK(json_is_true(json_object_get(j, "answering")));
    json_t *m2 = mod_of(j, 2), *m3 = mod_of(j, 3);
    CHECK_NEAR(real_of(m2, "v"), 2.252, 1e-9);
    CHECK_NEAR(real_of(m2, "t"), 22.5, 1e-9);
    CHECK_NEAR(real_of(m2, "ri"), 5.21, 1e-9);
    CHECK_NEAR(real_of(m2, "eq"), 40, 1e-9);
    CHECK(json_is_true(json_object_get(m2, "answering")));
    CHECK(json_is_null(json_object_get(m3, "v")));
    CHECK(json_is_null(json_object_get(m3, "t")));
    CHECK(json_is_false(json_object_get(m3, "answering")));
    CHECK(json_integer_value(json_object_get(m3, "flags")) == GBMS_AL_COMMUNICATION_LOST);
    CHECK(has_name(json_object_get(m3, "flag_names"), "BACS_ALARM_COMMUNICATION_LOST"));
    json_t *s1 = json_array_get(json_object_get(j, "strings"), 0);
    CHECK_NEAR(real_of(s1, "sum_v"), 4.503, 1e-9);
    CHECK_NEAR(real_of(s1, "target_v"), 2.2515, 1e-9);
    CHECK_NEAR(real_of(s1, "current_a"), -12.5, 1e-9);
    CHECK(json_is_null(json_object_get(s1, "ac_a")));
    CHECK_STR(json_string_value(json_object_get(s1, "state")), "float");
    CHECK_STR(json_string_value(json_object_get(s1, "name")), "A");
    json_t *s2 = json_array_get(json_object_get(j, "strings"), 1);
    CHECK(json_is_null(json_object_get(s2, "sum_v"))); /* never measured */
    CHECK(json_is_null(json_object_get(s2, "state")));
    json_decref(j);

    /* Coalescing: a second cycle 100 ms later waits; at 250 ms it goes. */
    before = k.ngw;
    ow_msg_t m1 = module(1, 1, 2.301, 21, 4, 0, 0);
    ow_web_live_apply(l, &m1, 1, t + 350000);
    ow_web_live_apply(l, &hb, 1, t + 350000);
    CHECK(ow_web_live_tick(l, t + 400000) == 0);
    CHECK(k.ngw == before);
    /* the handlers still read the last published cycle */
    j = take(ow_web_live_json(l, "wm1"));
    CHECK_NEAR(real_of(mod_of(j, 1), "v"), 2.251, 1e-9);
    json_decref(j);
    CHECK(ow_web_live_tick(l, t + 549999) == 0);
    CHECK(ow_web_live_tick(l, t + 550000) == 1);
    CHECK(k.ngw == before + 1);
    j = parse(k.gw);
    CHECK_NEAR(real_of(mod_of(j, 1), "v"), 2.301, 1e-9);
    json_decref(j);
    /* nothing new: nothing published */
    CHECK(ow_web_live_tick(l, t + 2000000) == 0);

    /* Flags and the LED: red while sounding, yellow when muted, green. */
    ow_msg_t st = state(1, 1);
    ow_web_live_apply(l, &st, 0, t + 2000000);
    ow_msg_t a7 = alarm(7, "raise", GBMS_A_VOLTAGE_HIGH, 1, 2);
    ow_web_live_apply(l, &a7, 0, t + 2000000);
    before = k.nalarms;
    ow_web_live_tick(l, t + 2000000);
    CHECK(k.nalarms == before + 1);
    CHECK_STR(led(l), "red");
    j = parse(k.alarms);
    json_t *al = json_array_get(json_object_get(j, "alarms"), 0);
    CHECK(json_array_size(json_object_get(j, "alarms")) == 1);
    CHECK(json_integer_value(json_object_get(al, "id")) == 7);
    CHECK(json_integer_value(json_object_get(al, "code")) == GBMS_A_VOLTAGE_HIGH);
    CHECK_STR(json_string_value(json_object_get(al, "name")),
              gbms_alarm_find(GBMS_A_VOLTAGE_HIGH)->name);
    CHECK_STR(json_string_value(json_object_get(al, "severity")), "alarm");
    CHECK(json_integer_value(json_object_get(al, "module")) == 2);
    CHECK_NEAR(real_of(al, "value"), 2.61, 1e-9);
    CHECK(json_is_false(json_object_get(al, "acked")));
    json_decref(j);
    j = take(ow_web_live_json(l, "wm1"));
    json_t *f2 = mod_of(j, 2);
    CHECK(json_integer_value(json_object_get(f2, "flags")) ==
          (GBMS_AL_VOLTAGE_HIGH | GBMS_AL_GENERAL_ALARM));
    CHECK(has_name(json_object_get(f2, "flag_names"), "BACS_ALARM_VOLTAGE_HIGH"));
    CHECK(json_array_size(json_object_get(f2, "flag_names")) == 2);
    s1 = json_array_get(json_object_get(j, "strings"), 0);
    CHECK(json_integer_value(json_object_get(s1, "flags2")) == GBMS_STR_CURRENT_HIGH);
    CHECK(has_name(json_object_get(s1, "flag_names"), "Current Sensor High"));
    CHECK(has_name(json_object_get(json_object_get(j, "state"), "general_names"),
                   "BACS_STATE_RUNNING"));
    json_decref(j);
    uint64_t id = 0;
    CHECK(ow_web_live_alarm_id(l, "wm1", GBMS_A_VOLTAGE_HIGH, 1, 2, &id) == 0 && id == 7);
    CHECK(ow_web_live_alarm_id(l, "wm1", GBMS_A_VOLTAGE_HIGH, 1, 3, &id) == -1);

    ow_msg_t ack = alarm(7, "ack", GBMS_A_VOLTAGE_HIGH, 1, 2);
    ow_web_live_apply(l, &ack, 0, t + 3000000);
    st = state(1, 0);
    ow_web_live_apply(l, &st, 0, t + 3000000);
    ow_web_live_tick(l, t + 3000000);
    CHECK_STR(led(l), "yellow");
    /* A warning alone is no common alarm: green, as the webmanager's LED
     * (its count beside the LED still says one is active). */
    ow_msg_t warn = state(1, 0);
    warn.u.state.alarm = GBMS_AL_VOLTAGE_HIGH;
    ow_web_live_apply(l, &warn, 0, t + 3250000);
    ow_web_live_tick(l, t + 3250000);
    CHECK_STR(led(l), "green");
    j = take(ow_web_live_alarms_json(l, "wm1"));
    CHECK(json_is_true(json_object_get(json_array_get(json_object_get(j, "alarms"), 0), "acked")));
    json_decref(j);
    /* the site-wide list names the gateway of each */
    j = take(ow_web_live_alarms_json(l, NULL));
    CHECK_STR(
        json_string_value(json_object_get(json_array_get(json_object_get(j, "alarms"), 0), "gw")),
        "wm1");
    json_decref(j);

    /* A string discharging: its state says so from alarmd's alarm 24. */
    ow_msg_t d24 = alarm(8, "raise", GBMS_A_DISCHARGING, 1, 0);
    ow_web_live_apply(l, &st, 0, t + 3500000); /* the alarm muted again */
    ow_web_live_apply(l, &d24, 0, t + 3500000);
    ow_web_live_tick(l, t + 3500000);
    j = take(ow_web_live_json(l, "wm1"));
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(json_object_get(j, "strings"), 0), "state")),
              "discharging");
    json_decref(j);

    ow_msg_t clr = alarm(7, "clear", GBMS_A_VOLTAGE_HIGH, 1, 2);
    ow_msg_t clr8 = alarm(8, "clear", GBMS_A_DISCHARGING, 1, 0);
    ow_web_live_apply(l, &clr, 0, t + 4000000);
    ow_web_live_apply(l, &clr8, 0, t + 4000000);
    st = state(0, 0);
    ow_web_live_apply(l, &st, 0, t + 4000000);
    before = k.nalarms;
    ow_web_live_tick(l, t + 4000000);
    CHECK(k.nalarms == before + 1);
    CHECK_STR(led(l), "green");
    j = parse(k.alarms);
    CHECK(json_array_size(json_object_get(j, "alarms")) == 0);
    json_decref(j);

    /* A quiet busd: 3 poll periods (3 s here) without a word and every
     * module reads as not answering, never its last value. */
    int64_t last = t + 4000000;
    ow_web_live_apply(l, &hb, 1, last);
    ow_web_live_tick(l, last);
    CHECK(ow_web_live_check_quiet(l, last + 2999999) == 0);
    CHECK(ow_web_live_check_quiet(l, last + 3000000) == 1);
    CHECK(ow_web_live_check_quiet(l, last + 3500000) == 0); /* once */
    ow_web_live_tick(l, last + 3000000);
    j = take(ow_web_live_json(l, "wm1"));
    CHECK(json_is_false(json_object_get(j, "answering")));
    for (int a = 1; a <= 6; a++) {
        CHECK(json_is_null(json_object_get(mod_of(j, a), "v")));
        CHECK(json_is_false(json_object_get(mod_of(j, a), "answering")));
    }
    CHECK(json_is_null(json_object_get(json_array_get(json_object_get(j, "strings"), 0), "sum_v")));
    json_decref(j);
    /* it speaks again: answering, values as they come */
    m1 = module(1, 1, 2.288, 21, 4, 0, 0);
    ow_web_live_apply(l, &m1, 1, last + 4000000);
    ow_web_live_apply(l, &hb, 1, last + 4000000);
    ow_web_live_tick(l, last + 4000000);
    j = take(ow_web_live_json(l, "wm1"));
    CHECK(json_is_true(json_object_get(j, "answering")));
    CHECK_NEAR(real_of(mod_of(j, 1), "v"), 2.288, 1e-9);
    CHECK(json_is_null(json_object_get(mod_of(j, 2), "v"))); /* not read since */
    json_decref(j);

    /* Outputs from the aux readings, site from the file. */
    ow_msg_t ax = msg(OW_MSG_AUX, "wm1");
    ax.u.aux.aux_units = 1;
    ax.u.aux.outputs = 0x2;
    ow_web_live_apply(l, &ax, 1, last + 4100000);
    ow_web_live_apply(l, &hb, 1, last + 4100000);
    ow_web_live_tick(l, last + 4300000);
    CHECK(ow_web_live_noutputs(l, "wm1") == 4);
    j = take(ow_web_live_outputs_json(l, "wm1"));
    CHECK(json_array_size(json_object_get(j, "outputs")) == 4);
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(json_object_get(j, "outputs"), 1), "state")),
              "on");
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(json_object_get(j, "outputs"), 0), "state")),
              "off");
    json_decref(j);
    j = take(ow_web_live_site_json(l));
    json_t *g0 = json_array_get(json_object_get(j, "gateways"), 0);
    CHECK_STR(json_string_value(json_object_get(j, "site")), "T");
    CHECK(json_integer_value(json_object_get(j, "now_us")) > 1700000000000000);
    CHECK_STR(json_string_value(json_object_get(g0, "name")), "Room 1");
    CHECK(json_integer_value(json_array_get(
              json_object_get(json_array_get(json_object_get(g0, "strings"), 1), "modules"), 0)) ==
          4);
    json_decref(j);

    /* A message of another gateway changes nothing. */
    ow_web_live_stats_t s0;
    ow_web_live_stats(l, &s0);
    ow_msg_t other = module(1, 1, 9, 9, 9, 9, 0);
    snprintf(other.h.gw, sizeof other.h.gw, "wm9");
    ow_web_live_apply(l, &other, 1, last + 5000000);
    ow_web_live_stats_t s1s;
    ow_web_live_stats(l, &s1s);
    CHECK(s1s.ignored == s0.ignored + 1);
    CHECK_STR(ow_web_live_gateway(l, NULL), "wm1");
    CHECK(ow_web_live_gateway(l, "wm9") == NULL);

    ow_web_live_destroy(&l);
    CHECK(l == NULL);
    free(k.gw);
    free(k.alarms);
    ow_site_destroy(&site);
    return ow_test_done("live_test");
}
