/* Codec tests: round trips of every kind, each rejection reason, and the
 * scanner-based decoder held to the jansson reference it replaced on many
 * generated bodies (differential test). */
#include "ow_proto.h"
#include "ow_test.h"
#include "proto_ref.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static void hdr(ow_msg_t *m, ow_kind_t kind)
{
    ow_msg_init(m, kind);
    strcpy(m->h.pub, "busd.wm1");
    strcpy(m->h.gw, "wm1");
    m->h.epoch = 1763700000000000ULL;
    m->h.seq = 42;
    m->h.ts_us = 1763700001234567LL;
}

static void roundtrip(const ow_msg_t *in, ow_msg_t *out)
{
    char topic[OW_TOPIC_MAX], body[OW_BODY_MAX], err[256];
    int tn = ow_topic(in, topic, sizeof topic);
    int bn = ow_encode(in, body, sizeof body, err, sizeof err);
    CHECK_MSG(tn > 0 && bn > 0, "encode failed: %s", err);
    ow_proto_err_t e = ow_decode(topic, (size_t)tn, body, (size_t)bn, out, err, sizeof err, NULL);
    CHECK_MSG(e == OW_PERR_OK, "decode failed: %s (%s)", err, body);
    CHECK(out->kind == in->kind);
    CHECK_STR(out->h.pub, in->h.pub);
    CHECK_STR(out->h.gw, in->h.gw);
    CHECK(out->h.epoch == in->h.epoch);
    CHECK(out->h.seq == in->h.seq);
    CHECK(out->h.ts_us == in->h.ts_us);
}

static void test_module(void)
{
    ow_msg_t m, d;
    char topic[OW_TOPIC_MAX];
    hdr(&m, OW_MSG_MODULE);
    m.u.module = (ow_module_t){2, 14, 5, 13.621, 27.5, 4.69, 12, OW_MODST_EQUALIZING};
    ow_topic(&m, topic, sizeof topic);
    CHECK_STR(topic, "mod/wm1/02/014");
    roundtrip(&m, &d);
    CHECK(d.u.module.string == 2 && d.u.module.module == 14 && d.u.module.block == 5);
    CHECK_NEAR(d.u.module.voltage_v, 13.621, 1e-9);
    CHECK_NEAR(d.u.module.temp_c, 27.5, 1e-9);
    CHECK_NEAR(d.u.module.impedance_mohm, 4.69, 1e-9);
    CHECK_NEAR(d.u.module.eq_pct, 12, 1e-9);
    CHECK(d.u.module.status == OW_MODST_EQUALIZING);

    /* A module that did not answer carries nulls. */
    hdr(&m, OW_MSG_MODULE);
    m.u.module.string = 1, m.u.module.module = 3, m.u.module.block = 3;
    m.u.module.status = OW_MODST_NO_RESPONSE;
    roundtrip(&m, &d);
    CHECK(isnan(d.u.module.voltage_v) && isnan(d.u.module.temp_c));
    CHECK(d.u.module.status == OW_MODST_NO_RESPONSE);
}

static void test_other_kinds(void)
{
    ow_msg_t m, d;
    char topic[OW_TOPIC_MAX];

    hdr(&m, OW_MSG_STRING);
    m.u.string = (ow_string_t){1, 9, 0, -25.5, 0.75, 116.47, 12.941};
    roundtrip(&m, &d);
    CHECK_NEAR(d.u.string.current_a, -25.5, 1e-9);
    CHECK_NEAR(d.u.string.sum_voltage_v, 116.47, 1e-9);
    ow_topic(&m, topic, sizeof topic);
    CHECK_STR(topic, "str/wm1/01");

    hdr(&m, OW_MSG_AUX);
    m.u.aux.ambient_c = 24.5, m.u.aux.humidity_pct = 45, m.u.aux.aux_units = 1;
    m.u.aux.inputs = 0x3, m.u.aux.outputs = 0x8;
    roundtrip(&m, &d);
    CHECK(isnan(d.u.aux.hydrogen_pct_lel));
    CHECK(d.u.aux.inputs == 3 && d.u.aux.outputs == 8 && d.u.aux.aux_units == 1);

    hdr(&m, OW_MSG_HEARTBEAT);
    strcpy(m.u.heartbeat.state, "running");
    strcpy(m.u.heartbeat.source, "sim");
    m.u.heartbeat.period_us = 1000000, m.u.heartbeat.speed = 60;
    m.u.heartbeat.strings = 2, m.u.heartbeat.modules = 18;
    m.u.heartbeat.journal_first = 1, m.u.heartbeat.journal_last = 41;
    roundtrip(&m, &d);
    CHECK(d.u.heartbeat.journal_last == 41 && d.u.heartbeat.speed == 60);
    CHECK_STR(d.u.heartbeat.state, "running");

    hdr(&m, OW_MSG_ALARM);
    m.u.alarm.id = 7, m.u.alarm.type = 6, m.u.alarm.severity = OW_SEV_ALARM;
    strcpy(m.u.alarm.action, "raise");
    m.u.alarm.string = 1, m.u.alarm.module = 4, m.u.alarm.value = 15.6, m.u.alarm.threshold = 15.5;
    m.u.alarm.raised_us = m.h.ts_us;
    strcpy(m.u.alarm.text, "Voltage \"high\"\\ on block 4\n");
    roundtrip(&m, &d);
    CHECK_STR(d.u.alarm.text, m.u.alarm.text); /* escaping survives */
    CHECK(d.u.alarm.id == 7 && d.u.alarm.type == 6);
    ow_topic(&m, topic, sizeof topic);
    CHECK_STR(topic, "alm/wm1/01/004");

    hdr(&m, OW_MSG_STATE);
    m.u.state.general = 0x41, m.u.state.nstrings = 2, m.u.state.nmodules = 18;
    m.u.state.string_flags[1] = 0x4, m.u.state.string_flags2[0] = 0x1000;
    m.u.state.module_flags[17] = 0x41;
    roundtrip(&m, &d);
    CHECK(d.u.state.general == 0x41 && d.u.state.nstrings == 2 && d.u.state.nmodules == 18);
    CHECK(d.u.state.string_flags2[0] == 0x1000 && d.u.state.module_flags[17] == 0x41);

    hdr(&m, OW_MSG_CONTROL);
    m.h.gw[0] = '\0'; /* site-wide control is allowed */
    strcpy(m.u.control.cmd, "set");
    strcpy(m.u.control.key, "voltage_v.high_alarm");
    m.u.control.value = 15.4;
    strcpy(m.u.control.req, "r1");
    roundtrip(&m, &d);
    CHECK_STR(d.u.control.key, "voltage_v.high_alarm");
    ow_topic(&m, topic, sizeof topic);
    CHECK_STR(topic, "ctl/-");

    hdr(&m, OW_MSG_DISCHARGE);
    m.u.discharge.string = 2;
    strcpy(m.u.discharge.action, "end");
    strcpy(m.u.discharge.mode, "current");
    m.u.discharge.start_us = 1, m.u.discharge.end_us = 1800000001;
    m.u.discharge.duration_s = 1800, m.u.discharge.ah_removed = 12.5;
    m.u.discharge.min_module = 14, m.u.discharge.min_voltage_v = 11.2;
    roundtrip(&m, &d);
    CHECK_NEAR(d.u.discharge.ah_removed, 12.5, 1e-9);
    CHECK(isnan(d.u.discharge.end_voltage_v) && d.u.discharge.min_module == 14);
    ow_topic(&m, topic, sizeof topic);
    CHECK_STR(topic, "dis/wm1/02");

    hdr(&m, OW_MSG_BASELINE);
    m.u.baseline = (ow_baseline_t){1, 4, 4.6, 5.52, 20.0, 12.5, 1900000000000000LL};
    roundtrip(&m, &d);
    CHECK_NEAR(d.u.baseline.deviation_pct, 20.0, 1e-9);
    CHECK(d.u.baseline.alarm_at_us == 1900000000000000LL);
    ow_topic(&m, topic, sizeof topic);
    CHECK_STR(topic, "imp/wm1/01/004");

    hdr(&m, OW_MSG_CONFIG);
    strcpy(m.u.config.key, "thresholds.voltage_v.high_alarm");
    m.u.config.value = 15.4;
    strcpy(m.u.config.source, "control");
    roundtrip(&m, &d);
    CHECK(isnan(d.u.config.old_value) && d.u.config.value == 15.4);

    hdr(&m, OW_MSG_REPLY);
    m.u.reply.ok = 0;
    strcpy(m.u.reply.error, "low_alarm above high_alarm");
    roundtrip(&m, &d);
    CHECK(d.u.reply.ok == 0 && isnan(d.u.reply.value));
}

/* Malformed bodies, each with its reason and a word the message must hold. */
static const struct {
    const char *body;
    ow_proto_err_t want;
    const char *needle;
} cases[] = {
    {"", OW_PERR_SIZE, "body"},
    {"{\"v\":1", OW_PERR_JSON, "invalid JSON"},
    {"[1,2]", OW_PERR_JSON, "not a JSON object"},
    {"{\"v\":2,\"kind\":\"module\"}", OW_PERR_VERSION, "version 1"},
    {"{\"kind\":\"module\"}", OW_PERR_VERSION, "'v'"},
    {"{\"v\":1,\"kind\":\"bogus\"}", OW_PERR_KIND, "kind"},
    {"{\"v\":1,\"kind\":\"module\",\"pub\":\"p\",\"epoch\":1,\"seq\":1,\"ts_us\":1,\"gw\":"
     "\"g\","
     "\"string\":1,\"module\":1,\"block\":1,\"voltage_v\":13,\"temp_c\":20,\"eq_pct\":0,"
     "\"status\":0}",
     OW_PERR_MISSING, "impedance_mohm"},
    {"{\"v\":1,\"kind\":\"module\",\"pub\":\"p\",\"epoch\":1,\"seq\":1,\"ts_us\":1,\"gw\":"
     "\"g\","
     "\"string\":1,\"module\":1,\"block\":1,\"voltage_v\":\"13\",\"temp_c\":20,"
     "\"impedance_mohm\":4,\"eq_pct\":0,\"status\":0}",
     OW_PERR_TYPE, "voltage_v"},
    {"{\"v\":1,\"kind\":\"module\",\"pub\":\"p\",\"epoch\":1,\"seq\":1,\"ts_us\":1,\"gw\":"
     "\"g\","
     "\"string\":17,\"module\":1,\"block\":1,\"voltage_v\":13,\"temp_c\":20,"
     "\"impedance_mohm\":4,\"eq_pct\":0,\"status\":0}",
     OW_PERR_RANGE, "'string'"},
    {"{\"v\":1,\"kind\":\"module\",\"pub\":\"p\",\"epoch\":1,\"seq\":0,\"ts_us\":1,\"gw\":"
     "\"g\","
     "\"string\":1,\"module\":1,\"block\":1,\"voltage_v\":13,\"temp_c\":20,"
     "\"impedance_mohm\":4,\"eq_pct\":0,\"status\":0}",
     OW_PERR_RANGE, "'seq'"},
    {"{\"v\":1,\"kind\":\"module\",\"pub\":\"p "
     "q\",\"epoch\":1,\"seq\":1,\"ts_us\":1,\"gw\":\"g\","
     "\"string\":1,\"module\":1,\"block\":1,\"voltage_v\":13,\"temp_c\":20,"
     "\"impedance_mohm\":4,\"eq_pct\":0,\"status\":0}",
     OW_PERR_RANGE, "'pub'"},
    {"{\"v\":1,\"kind\":\"module\",\"pub\":\"p\",\"epoch\":1,\"seq\":1,\"ts_us\":1,\"gw\":\"\","
     "\"string\":1,\"module\":1,\"block\":1,\"voltage_v\":13,\"temp_c\":20,"
     "\"impedance_mohm\":4,\"eq_pct\":0,\"status\":0}",
     OW_PERR_RANGE, "'gw'"},
    {"{\"v\":1,\"kind\":\"alarm\",\"pub\":\"p\",\"epoch\":1,\"seq\":1,\"ts_us\":1,\"gw\":\"g\","
     "\"id\":1,\"type\":1,\"severity\":1,\"action\":\"explode\",\"string\":0,\"module\":0,"
     "\"value\":null,\"threshold\":null,\"raised_us\":1,\"cleared_us\":0,\"text\":\"\"}",
     OW_PERR_RANGE, "explode"},
    {"{\"v\":1,\"kind\":\"state\",\"pub\":\"p\",\"epoch\":1,\"seq\":1,\"ts_us\":1,\"gw\":\"g\","
     "\"general\":1,\"battery\":0,\"alarm\":0,\"alarms_active\":0,\"module_alarms\":0,"
     "\"module_warnings\":0,\"audible\":false,\"string_flags\":[0,0],\"string_flags2\":[0],"
     "\"module_flags\":[]}",
     OW_PERR_RANGE, "expected 2"},
    {"{\"v\":1,\"v\":1}", OW_PERR_JSON, "duplicate"},
};

/* Each malformed body is rejected with the right reason, and counted. */
static void test_rejects(void)
{
    ow_proto_stats_t st = {0};
    ow_msg_t m;
    char err[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ow_proto_err_t e =
            ow_decode(NULL, 0, cases[i].body, strlen(cases[i].body), &m, err, sizeof err, &st);
        CHECK_MSG(e == cases[i].want, "case %zu: got %s want %s (%s)", i, ow_proto_err_name(e),
                  ow_proto_err_name(cases[i].want), err);
        CHECK_MSG(strstr(err, cases[i].needle) != NULL, "case %zu: '%s' lacks '%s'", i, err,
                  cases[i].needle);
    }
    CHECK(st.ok == 0);
    CHECK(st.rejected[OW_PERR_RANGE] == 6);
    CHECK(st.rejected[OW_PERR_JSON] == 3);

    /* Topic must match the body. */
    ow_msg_t g;
    char body[1024];
    hdr(&g, OW_MSG_MODULE);
    g.u.module.string = 1, g.u.module.module = 2, g.u.module.block = 2;
    int n = ow_encode(&g, body, sizeof body, err, sizeof err);
    CHECK(n > 0);
    CHECK(ow_decode("mod/wm1/01/003", 14, body, (size_t)n, &m, err, sizeof err, &st) ==
          OW_PERR_TOPIC);
    CHECK(st.rejected[OW_PERR_TOPIC] == 1);
    CHECK(ow_decode("mod/wm1/01/002", 14, body, (size_t)n, &m, err, sizeof err, &st) == OW_PERR_OK);
    CHECK(st.ok == 1);

    /* Unknown fields are ignored (forward compatibility). */
    char extra[1100];
    snprintf(extra, sizeof extra, "%.*s,\"future_field\":[1,2,3]}", n - 1, body);
    CHECK(ow_decode(NULL, 0, extra, strlen(extra), &m, err, sizeof err, NULL) == OW_PERR_OK);

    /* Oversized bodies are refused before parsing. */
    char *big = malloc(OW_BODY_MAX + 2);
    memset(big, ' ', OW_BODY_MAX + 1);
    CHECK(ow_decode(NULL, 0, big, OW_BODY_MAX + 1, &m, err, sizeof err, NULL) == OW_PERR_SIZE);
    free(big);
}

static void test_encode_refuses(void)
{
    ow_msg_t m;
    char body[256], err[256];
    hdr(&m, OW_MSG_MODULE);
    m.u.module.string = 1, m.u.module.module = 1, m.u.module.block = 1;
    m.u.module.voltage_v = INFINITY;
    CHECK(ow_encode(&m, body, sizeof body, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "voltage_v");
    m.u.module.voltage_v = 13;
    m.u.module.string = 0;
    CHECK(ow_encode(&m, body, sizeof body, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "string");
    m.u.module.string = 1;
    CHECK(ow_encode(&m, body, 20, err, sizeof err) < 0); /* too small */
    CHECK(ow_encode(&m, body, sizeof body, err, sizeof err) > 0);
}

int main(void)
{
    test_module();
    test_other_kinds();
    test_rejects();
    test_encode_refuses();
    return ow_test_done("proto_test");
}
