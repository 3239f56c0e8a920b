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
    m.u.string = (ow_string_t){1, 9, 0, -25.5, 0.75, 116.47, 12.941, -2.97, 0.1};
    roundtrip(&m, &d);
    CHECK_NEAR(d.u.string.current_a, -25.5, 1e-9);
    CHECK_NEAR(d.u.string.sum_voltage_v, 116.47, 1e-9);
    CHECK_NEAR(d.u.string.power_kw, -2.97, 1e-9);
    CHECK_NEAR(d.u.string.ripple_v, 0.1, 1e-9);
    ow_topic(&m, topic, sizeof topic);
    CHECK_STR(topic, "str/wm1/01");
    m.u.string.power_kw = m.u.string.ripple_v = NAN;
    roundtrip(&m, &d);
    CHECK(isnan(d.u.string.power_kw) && isnan(d.u.string.ripple_v));
    {
        /* power_kw and ripple_v came later: an older busd's reading (a
         * journal replayed, a spool drained) decodes with both unknown */
        const char *old = "{\"v\":1,\"kind\":\"string\",\"pub\":\"t\",\"epoch\":1,\"seq\":1,"
                          "\"ts_us\":1,\"gw\":\"wm1\",\"string\":1,\"modules\":9,"
                          "\"modules_lost\":0,\"current_a\":0,\"ac_current_a\":0,"
                          "\"sum_voltage_v\":116.47,\"avg_voltage_v\":12.941}";
        char err[256];
        CHECK(ow_decode(NULL, 0, old, strlen(old), &d, err, sizeof err, NULL) == OW_PERR_OK);
        CHECK(isnan(d.u.string.power_kw) && isnan(d.u.string.ripple_v));
        CHECK(ow_decode_ref(NULL, 0, old, strlen(old), &d, err, sizeof err, NULL) == OW_PERR_OK);
        CHECK(isnan(d.u.string.power_kw) && isnan(d.u.string.ripple_v));
    }

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
    m.u.state.discharges = 84, m.u.state.eq_paused = 1;
    roundtrip(&m, &d);
    CHECK(d.u.state.general == 0x41 && d.u.state.nstrings == 2 && d.u.state.nmodules == 18);
    CHECK(d.u.state.string_flags2[0] == 0x1000 && d.u.state.module_flags[17] == 0x41);
    CHECK(d.u.state.discharges == 84 && d.u.state.eq_paused == 1);

    hdr(&m, OW_MSG_DEVICE);
    strcpy(m.u.device.link, "partial");
    m.u.device.general = 0x8001, m.u.device.alarm = 0x40, m.u.device.strings_reported = 2;
    m.u.device.modules_reported = 18, m.u.device.cycle_requests = 4, m.u.device.requests = 99;
    m.u.device.exceptions = 3, m.u.device.timeouts = 2, m.u.device.malformed = 1;
    m.u.device.nmodules = 18, m.u.device.module_flags[4] = 0x2;
    roundtrip(&m, &d);
    CHECK_STR(d.u.device.link, "partial");
    CHECK(d.u.device.general == 0x8001 && d.u.device.alarm == 0x40 && d.u.device.battery == 0);
    CHECK(d.u.device.nmodules == 18 && d.u.device.module_flags[4] == 2);
    CHECK(d.u.device.exceptions == 3 && d.u.device.timeouts == 2 && d.u.device.malformed == 1);
    ow_topic(&m, topic, sizeof topic);
    CHECK_STR(topic, "dev/wm1");
    strcpy(m.u.device.link, "lost"); /* not one of up/partial/down */
    {
        char body[OW_BODY_MAX], err[256];
        CHECK(ow_encode(&m, body, sizeof body, err, sizeof err) < 0);
    }

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
    strcpy(m.u.control.user, "nms");
    roundtrip(&m, &d);
    CHECK_STR(d.u.control.user, "nms");
    {
        /* "user" came later: a request without it is still a request */
        const char *old = "{\"v\":1,\"kind\":\"control\",\"pub\":\"t\",\"epoch\":1,\"seq\":1,"
                          "\"ts_us\":1,\"gw\":\"\",\"cmd\":\"ack\",\"key\":\"\",\"value\":null,"
                          "\"index\":3,\"req\":\"r\"}";
        char err[256];
        CHECK(ow_decode(NULL, 0, old, strlen(old), &d, err, sizeof err, NULL) == OW_PERR_OK);
        CHECK(d.u.control.index == 3 && d.u.control.user[0] == '\0');
        CHECK(ow_decode_ref(NULL, 0, old, strlen(old), &d, err, sizeof err, NULL) == OW_PERR_OK);
        CHECK(d.u.control.user[0] == '\0');
        /* ... but a user that is not an id is refused, naming the field */
        const char *bad = "{\"v\":1,\"kind\":\"control\",\"pub\":\"t\",\"epoch\":1,\"seq\":1,"
                          "\"ts_us\":1,\"gw\":\"\",\"cmd\":\"ack\",\"key\":\"\",\"value\":null,"
                          "\"index\":3,\"req\":\"r\",\"user\":\"a b\"}";
        CHECK(ow_decode(NULL, 0, bad, strlen(bad), &d, err, sizeof err, NULL) != OW_PERR_OK);
        CHECK(strstr(err, "user") != NULL);
    }

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
    CHECK(!d.u.discharge.test && isnan(d.u.discharge.capacity_pct));
    /* a capacity test's end carries its result; an outage only its depth */
    m.u.discharge.test = 1, m.u.discharge.rated_h = 10, m.u.discharge.end_v_per_cell = 1.75;
    m.u.discharge.temp_c = 25, m.u.discharge.capacity_pct = 90, m.u.discharge.dod_pct = 25;
    strcpy(m.u.discharge.method, "time-adjusted");
    roundtrip(&m, &d);
    CHECK(d.u.discharge.test == 1 && isnan(d.u.discharge.time_to_go_s));
    CHECK_NEAR(d.u.discharge.capacity_pct, 90, 1e-9);
    CHECK_NEAR(d.u.discharge.rated_h, 10, 1e-9);
    CHECK_STR(d.u.discharge.method, "time-adjusted");
    strcpy(m.u.discharge.action, "progress");
    m.u.discharge.time_to_go_s = 16200;
    roundtrip(&m, &d);
    CHECK_NEAR(d.u.discharge.time_to_go_s, 16200, 1e-9);
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
    /* the audit record: who, old and new as text; a command may have no number */
    strcpy(m.u.config.key, "baseline.module.4");
    strcpy(m.u.config.source, "command");
    strcpy(m.u.config.who, "snmpd/nms");
    strcpy(m.u.config.old, "4.6");
    strcpy(m.u.config.new_, "reset");
    m.u.config.value = NAN, m.u.config.old_value = 4.6;
    roundtrip(&m, &d);
    CHECK_STR(d.u.config.who, "snmpd/nms");
    CHECK_STR(d.u.config.old, "4.6");
    CHECK_STR(d.u.config.new_, "reset");
    CHECK(isnan(d.u.config.value) && d.u.config.old_value == 4.6);

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

/* ---- differential test: ow_decode against the jansson reference ---- */

static struct {
    long cases, accepted, mismatches;
} dt;

static void show(const char *b, size_t n)
{
    for (size_t i = 0; i < n && i < 400; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c >= 0x20 && c < 0x7f)
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    if (n > 400) fprintf(stderr, "... (%zu bytes)", n);
    fputc('\n', stderr);
}

/* Both decoders on one body: the same reason, and when accepted the same
 * message, byte for byte. A raw NUL byte is never JSON: jansson drops one
 * right after a number or literal, the scanner refuses it, so on such
 * bodies the scanner must say "json" and the reference is not asked. */
static void diff1(const char *topic, size_t tlen, const char *b, size_t n)
{
    static ow_msg_t x, y;
    char ex[256], ey[256] = "";
    ow_proto_err_t a, r;

    memset(&x, 0, sizeof x);
    memset(&y, 0, sizeof y);
    a = ow_decode(topic, tlen, b, n, &x, ex, sizeof ex, NULL);
    dt.cases++;
    dt.accepted += a == OW_PERR_OK;
    if (n > 0 && n <= OW_BODY_MAX && memchr(b, 0, n)) {
        r = OW_PERR_JSON;
    } else {
        r = ow_decode_ref(topic, tlen, b, n, &y, ey, sizeof ey, NULL);
        if (a == OW_PERR_OK && r == OW_PERR_OK && memcmp(&x, &y, sizeof x) != 0) r = OW_PERR_COUNT;
    }
    if (a != r && dt.mismatches++ < 10) {
        fprintf(stderr, "differential: scanner %s (%s), reference %s (%s), topic '%.*s', body: ",
                ow_proto_err_name(a), ex,
                r == OW_PERR_COUNT ? "another message" : ow_proto_err_name(r), ey, (int)tlen,
                topic ? topic : "");
        show(b, n);
    }
}

static const char *cur_topic; /* topic of the body the variants come from */

static void diff(const char *b, size_t n)
{
    diff1(cur_topic, cur_topic ? strlen(cur_topic) : 0, b, n);
}

typedef struct {
    char b[4 * OW_BODY_MAX];
    size_t n;
} sbuf_t;

static void sb_put(sbuf_t *s, const char *p, size_t n)
{
    if (s->n + n > sizeof s->b) n = sizeof s->b - s->n;
    memcpy(s->b + s->n, p, n);
    s->n += n;
}

static void sb_puts(sbuf_t *s, const char *p)
{
    sb_put(s, p, strlen(p));
}

static uint64_t rng = 88172645463325252ULL;

static unsigned rnd(unsigned n) /* xorshift64: the same cases every run */
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (unsigned)(rng >> 33) % n;
}

/* Top-level members [mb, me) of an object body as the encoder writes it. */
static int members(const char *b, size_t n, size_t *mb, size_t *me, int max)
{
    int k = 0, depth = 0, str = 0;
    size_t start = 1;
    for (size_t i = 1; i + 1 < n; i++) {
        char c = b[i];
        if (str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                str = 0;
        } else if (c == '"') {
            str = 1;
        } else if (c == '[' || c == '{') {
            depth++;
        } else if (c == ']' || c == '}') {
            depth--;
        } else if (c == ',' && depth == 0 && k < max - 1) {
            mb[k] = start, me[k++] = i;
            start = i + 1;
        }
    }
    if (n > 2) mb[k] = start, me[k++] = n - 1;
    return k;
}

/* Where member [b0, b1)'s value starts: after the ':' that ends its key. */
static size_t value_at(const char *b, size_t b0)
{
    size_t i = b0 + 1;
    while (b[i] != '"')
        i += b[i] == '\\' ? 2 : 1;
    return i + 2;
}

/* Rebuild an object from members, in order ord, with extra members
 * inserted before position at (at < 0: none). */
static void rebuild(sbuf_t *v, const char *b, const size_t *mb, const size_t *me, const int *ord,
                    int nm, const char *extra, int at)
{
    v->n = 0;
    sb_puts(v, "{");
    for (int i = 0; i <= nm; i++) {
        if (i == at) {
            if (v->n > 1) sb_puts(v, ",");
            sb_puts(v, extra);
        }
        if (i == nm) break;
        if (v->n > 1) sb_puts(v, ",");
        sb_put(v, b + mb[ord[i]], me[ord[i]] - mb[ord[i]]);
    }
    sb_puts(v, "}");
}

/* Values put in place of each member's value: every type, numbers at the
 * edges of the ranges and of int64_t and double, JSON that is not valid. */
static const char *const values[] = {
    "0",
    "-0",
    "1",
    "-1",
    "2",
    "5.0",
    "1.0",
    "-0.0",
    "0.5",
    "1e2",
    "1E+2",
    "1e-2",
    "0.5e1",
    "100e-2",
    "1E0",
    "16",
    "17",
    "520",
    "521",
    "999",
    "1000",
    "65535",
    "65536",
    "1000000",
    "1000001",
    "1e12",
    "1000000000001",
    "7258118400000000",
    "7258118400000001",
    "1e18",
    "1000000000000000001",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "123456789012345678901234567890",
    "9223372036854775807.0",
    "9.3e18",
    "1e400",
    "-1e400",
    "1e-400",
    "4.9e-324",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "3.14159265358979323846264338327950288",
    "13.621",
    "0.1",
    "12.000000000000000000001",
    "00",
    "01",
    "-",
    "--1",
    "1.",
    ".5",
    "+1",
    "1e",
    "1e+",
    "1.e1",
    "0x10",
    "1_0",
    "Infinity",
    "NaN",
    "-Infinity",
    "nul",
    "True",
    "nulll",
    "null",
    "true",
    "false",
    "\"\"",
    "\"1\"",
    "\"busd.wm1\"",
    "\"a b\"",
    "\"running\"",
    "\"raise\"",
    "\"r\\u0061ise\"",
    "\"x\\u0000y\"",
    "\"\\/\"",
    "\"module\"",
    "\"heartbeat\"",
    "\"0123456789012345678901234567890\"",
    "\"01234567890123456789012345678901\"",
    "\"\\u00e9t\\u00E9\"",
    "\"\\ud83d\\ude00\"",
    "\"\\ud83d\"",
    "\"\\ude00\"",
    "\"\xc3\xa9\"",
    "\"\xed\xa0\x80\"",
    "[]",
    "[1]",
    "[1,2]",
    "[0,65535]",
    "[65536]",
    "[1.0,2e0]",
    "[-0]",
    "[\"1\"]",
    "[[1]]",
    "[null]",
    "[1,]",
    "[,1]",
    "[1 2]",
    "{}",
    "{\"a\":1}",
    "{\"a\":1,\"a\":2}",
    "",
};

/* Inserted at the start of a string token: valid and invalid UTF-8, escapes. */
static const char *const in_str[] = {
    "\xc3\xa9",
    "\xe2\x82\xac",
    "\xf0\x9f\x94\x8b",
    "\xf4\x8f\xbf\xbf",
    "\xc0\x80",
    "\xc1\xbf",
    "\xe0\x9f\xbf",
    "\xed\xa0\x80",
    "\xed\xbf\xbf",
    "\xf0\x8f\xbf\xbf",
    "\xf4\x90\x80\x80",
    "\xf5\x80\x80\x80",
    "\xff",
    "\xfe",
    "\x80",
    "\xbf",
    "\xc3",
    "\xe2\x82",
    "\xf0\x9f\x94",
    "\xc3\x28",
    "\x7f",
    "\x01",
    "\x1f",
    "\t",
    "\n",
    "\\u0000",
    "\\u0001",
    "\\ud800",
    "\\udc00",
    "\\ud800\\udc00",
    "\\udbff\\udfff",
    "\\ud800\\u0041",
    "\\ud800\\ud800",
    "\\ud800x",
    "\\U0041",
    "\\u12",
    "\\u12g4",
    "\\x41",
    "\\a",
    "\\'",
    "\\\\",
    "\\\"",
    "\\/",
    "\\b\\f\\n\\r\\t",
    "\\uFFFF",
    "\\uFEFF",
    "\\u00",
    "\\",
};

/* Inserted between tokens: none of these is JSON whitespace. */
static const char *const between[] = {"\xef\xbb\xbf", "\xc2\xa0", "\f", "\v", "//", "/**/", "x"};

/* Unknown members: ignored when they are valid JSON, refused when not. */
static const char *const extras[] = {
    "\"future\":1",
    ("\"future\":{\"a\":[1,2.5,-0,1e2,{\"b\":null,\"c\":[true,false]}],\"d\":"
     "\"\\u00e9\\ud83d\\ude00\\n\"}"),
    "\"x\":[]",
    "\"y\":{}",
    "\"z\":\"\"",
    "\"\":0",
    "\"V\":2",
    "\"v \":2",
    "\"w\":[{\"a\":1},{\"a\":1}]",
    "\"w\":{\"a\":{\"a\":1}}",
    "\"w\":{\"a\":1,\"a\":2}",
    "\"w\":{\"\\u0061\":1,\"a\":2}",
    "\"\\u0076\":1",
    "\"k\\u0069nd\":\"module\"",
    "\"w\":1e400",
    "\"w\":1e-400",
    "\"w\":9223372036854775808",
    "\"w\":-",
    "\"w\":[1,2",
    "\"w\":{\"a\"}",
    "\"w\":{\"a\":}",
    "\"w\":{1:2}",
    "\"w\":[1 2]",
    "\"w\":nulll",
    "\"w\":\"\\ud800\"",
    "\"w\":\"\xed\xa0\x80\"",
    "\"w\":[\"\\u0000\"]",
    "\"w\":{\"\\u0000\":1}",
    "\"w\":[1,{\"a\":[{\"b\":[\"}\",\"]\",\"\\\"\"]}]}]",
};

/* Each string token in turn escaped: style 0 every ASCII character as
 * \u00xx, 1 as \u00XX, 2 only the first one. */
static void escape_token(sbuf_t *v, const char *b, size_t n, int which, int style)
{
    int tok = -1, str = 0, first = 0;
    v->n = 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!str) {
            sb_put(v, &c, 1);
            if (c == '"') str = 1, tok++, first = 1;
            continue;
        }
        if (c == '"') {
            str = 0;
            sb_put(v, &c, 1);
        } else if (c == '\\') {
            size_t k = b[i + 1] == 'u' ? 6 : 2;
            sb_put(v, b + i, k);
            i += k - 1;
            first = 0;
        } else if (tok == which && (unsigned char)c < 0x80 && (style < 2 || first)) {
            char e[8];
            snprintf(e, sizeof e, style == 1 ? "\\u%04X" : "\\u%04x", (unsigned char)c);
            sb_puts(v, e);
            first = 0;
        } else {
            sb_put(v, &c, 1);
            first = 0;
        }
    }
}

/* Insert ins right after the opening quote of string token which (or, with
 * which < 0, after every structural character outside strings). */
static void insert_at_tokens(sbuf_t *v, const char *b, size_t n, int which, const char *ins)
{
    int tok = -1, str = 0;
    v->n = 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (str) {
            sb_put(v, &c, 1);
            if (c == '\\')
                sb_put(v, &b[++i], 1);
            else if (c == '"')
                str = 0;
            continue;
        }
        if (which < 0 && (c == '}' || c == ']')) sb_puts(v, ins);
        sb_put(v, &c, 1);
        if (c == '"') {
            str = 1;
            if (++tok == which) sb_puts(v, ins);
        } else if (which < 0 && (c == '{' || c == '[' || c == ',' || c == ':')) {
            sb_puts(v, ins);
        }
    }
}

static int count_strings(const char *b, size_t n)
{
    int k = 0, str = 0;
    for (size_t i = 0; i < n; i++) {
        if (str && b[i] == '\\')
            i++;
        else if (b[i] == '"')
            k += !str, str = !str;
    }
    return k;
}

/* A member "name":VALUE with VALUE nested `depth` arrays or objects deep. */
static void deep_member(sbuf_t *e, int depth, int objects, const char *inner)
{
    e->n = 0;
    sb_puts(e, "\"deep\":");
    for (int i = 0; i < depth; i++)
        sb_puts(e, objects ? "{\"a\":" : "[");
    sb_puts(e, inner);
    for (int i = 0; i < depth; i++)
        sb_puts(e, objects ? "}" : "]");
    sb_put(e, "", 1);
    e->n--;
}

/* n unknown members k0..k(n-1), inside an object ("w":{...}) or at the top
 * level; dup: the last one repeats an earlier key (-1: none). */
static void many_keys(sbuf_t *e, int n, int nested, int dup)
{
    char k[32];
    e->n = 0;
    if (nested) sb_puts(e, "\"w\":{");
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof k, "%s\"k%d\":%d", i ? "," : "", i == n - 1 && dup >= 0 ? dup : i, i);
        sb_puts(e, k);
    }
    if (nested) sb_puts(e, "}");
    sb_put(e, "", 1);
    e->n--;
}

/* Every generated variant of one valid body. */
static void variants(const char *topic, const char *body, size_t n)
{
    static sbuf_t v, e;
    static const char subst[] = {'"', '\\', '{', '}', '[',  ']',  ',',  ':', ' ', '0',
                                 '9', '-',  '.', 'e', 'E',  '+',  'x',  'n', 't', '/',
                                 'u', '\0', 'a', 'Z', 0x1f, 0x7f, -128, -61, -1,  '\n'};
    static const char *const ws[] = {" ", "\t", "\n", "\r\n \t "};
    size_t mb[1024], me[1024];
    int ord[1024];
    int nm = members(body, n, mb, me, 1024), ns = count_strings(body, n);

    cur_topic = topic;
    for (int i = 0; i < nm; i++)
        ord[i] = i;
    diff(body, n);
    diff1(NULL, 0, body, n);
    diff1("mod/x/01/001", 12, body, n);

    /* truncated at every byte offset */
    for (size_t k = 0; k < n; k++)
        diff(body, k);

    /* each byte replaced, deleted, doubled (the head and tail of big bodies) */
    for (size_t k = 0; k < n; k++) {
        if (k == 300 && n > 500) k = n - 100;
        for (size_t c = 0; c < sizeof subst; c++) {
            memcpy(v.b, body, n);
            v.b[k] = subst[c];
            diff(v.b, n);
        }
        memcpy(v.b, body, k);
        memcpy(v.b + k, body + k + 1, n - k - 1);
        diff(v.b, n - 1);
        memcpy(v.b, body, k + 1);
        memcpy(v.b + k + 1, body + k, n - k);
        diff(v.b, n + 1);
    }

    /* members shuffled */
    for (int r = 0; r < 12; r++) {
        for (int i = nm - 1; i > 0; i--) {
            int j = (int)rnd((unsigned)i + 1), t = ord[i];
            ord[i] = ord[j], ord[j] = t;
        }
        rebuild(&v, body, mb, me, ord, nm, NULL, -1);
        diff(v.b, v.n);
    }
    for (int i = 0; i < nm; i++)
        ord[i] = i;

    /* whitespace wherever JSON allows it, and bytes where it does not */
    for (size_t w = 0; w < sizeof ws / sizeof ws[0]; w++) {
        insert_at_tokens(&e, body, n, -1, ws[w]);
        v.n = 0;
        sb_puts(&v, ws[w]);
        sb_put(&v, e.b, e.n);
        sb_puts(&v, ws[w]);
        diff(v.b, v.n);
    }
    for (size_t w = 0; w < sizeof between / sizeof between[0]; w++) {
        insert_at_tokens(&v, body, n, -1, between[w]);
        diff(v.b, v.n);
        memcpy(v.b, body, n);
        memcpy(v.b + n, between[w], strlen(between[w]));
        diff(v.b, n + strlen(between[w]));
    }

    /* each member's value replaced (the small bodies cover every kind) */
    for (int i = 0; i < nm && n < 2000; i++) {
        size_t va = value_at(body, mb[i]);
        for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
            v.n = 0;
            sb_put(&v, body, va);
            sb_puts(&v, values[k]);
            sb_put(&v, body + me[i], n - me[i]);
            diff(v.b, v.n);
        }
        /* strings of the lengths around each field's limit, plain and escaped */
        static const int lens[] = {0, 1, 7, 8, 15, 16, 23, 24, 31, 32, 63, 64, 127, 128, 159, 160};
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            for (int style = 0; style < 3; style++) {
                v.n = 0;
                sb_put(&v, body, va);
                sb_puts(&v, "\"");
                for (int c = 0; c < lens[k]; c++) {
                    if (style == 1)
                        sb_puts(&v, c % 2 ? "\\u0041" : "\\n");
                    else if (style == 2 && c == lens[k] - 1)
                        sb_puts(&v, "\xc3\xa9"); /* 2 bytes at the limit */
                    else
                        sb_puts(&v, "a");
                }
                sb_puts(&v, "\"");
                sb_put(&v, body + me[i], n - me[i]);
                diff(v.b, v.n);
            }
        }
        /* the member doubled, and doubled under an escaped key */
        v.n = 0;
        sb_put(&v, body, me[i]);
        sb_puts(&v, ",");
        sb_put(&v, body + mb[i], me[i] - mb[i]);
        sb_put(&v, body + me[i], n - me[i]);
        diff(v.b, v.n);
        escape_token(&e, body + mb[i], me[i] - mb[i], 0, 2);
        v.n = 0;
        sb_put(&v, body, n - 1);
        sb_puts(&v, ",");
        sb_put(&v, e.b, e.n);
        sb_puts(&v, "}");
        diff(v.b, v.n);
    }

    /* each string token escaped, and with bytes inserted */
    for (int t = 0; t < ns && n < 2000; t++) {
        for (int style = 0; style < 3; style++) {
            escape_token(&v, body, n, t, style);
            diff(v.b, v.n);
        }
        for (size_t k = 0; k < sizeof in_str / sizeof in_str[0]; k++) {
            insert_at_tokens(&v, body, n, t, in_str[k]);
            diff(v.b, v.n);
        }
    }

    /* unknown members at the start, in the middle, at the end */
    for (size_t k = 0; k < sizeof extras / sizeof extras[0]; k++) {
        for (int at = 0; at <= nm; at += nm / 2 ? nm / 2 : 1) {
            rebuild(&v, body, mb, me, ord, nm, extras[k], at);
            diff(v.b, v.n);
        }
    }
    /* nesting at jansson's depth limit (a member's value is at depth 2) */
    for (int depth = 2044; depth <= 2049; depth++) {
        for (int obj = 0; obj < 2; obj++) {
            deep_member(&e, depth, obj, obj ? "1" : "");
            rebuild(&v, body, mb, me, ord, nm, e.b, nm);
            diff(v.b, v.n);
            deep_member(&e, depth, obj, "\"x\"");
            rebuild(&v, body, mb, me, ord, nm, e.b, 1);
            diff(v.b, v.n);
        }
    }
    /* many keys: duplicates found by the table, pairwise, or by sorting */
    static const int counts[] = {2, 15, 16, 17, 40, 57, 58, 63, 64, 65, 100, 300};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        for (int nested = 0; nested < 2; nested++) {
            int dups[] = {-1, 0, counts[k] / 2, counts[k] - 2};
            for (size_t d = 0; d < sizeof dups / sizeof dups[0]; d++) {
                many_keys(&e, counts[k], nested, dups[d]);
                rebuild(&v, body, mb, me, ord, nm, e.b, nm / 2);
                diff(v.b, v.n);
            }
        }
    }
}

/* A representative message of each kind, some with nulls, escapes, UTF-8. */
static int sample(int i, ow_msg_t *m)
{
    switch (i) {
    case 0:
        hdr(m, OW_MSG_MODULE);
        m->u.module = (ow_module_t){2, 14, 5, 13.621, 27.5, 4.69, 12, OW_MODST_EQUALIZING};
        return 1;
    case 1:
        hdr(m, OW_MSG_MODULE);
        m->u.module.string = 16, m->u.module.module = 520, m->u.module.block = 1;
        m->u.module.status = OW_MODST_NO_RESPONSE;
        return 1;
    case 2:
        hdr(m, OW_MSG_STRING);
        m->u.string = (ow_string_t){1, 9, 0, -25.5, 0.75, 116.47, 12.941, -2.967, NAN};
        return 1;
    case 3:
        hdr(m, OW_MSG_AUX);
        m->u.aux.ambient_c = -4.25, m->u.aux.humidity_pct = 45, m->u.aux.aux_units = 4;
        m->u.aux.inputs = 0xffff, m->u.aux.outputs = 0x8;
        return 1;
    case 4:
        hdr(m, OW_MSG_HEARTBEAT);
        strcpy(m->u.heartbeat.state, "running");
        strcpy(m->u.heartbeat.source, "gbms-tcp");
        m->u.heartbeat.period_us = 1000000, m->u.heartbeat.speed = 0.5;
        m->u.heartbeat.strings = 2, m->u.heartbeat.modules = 18;
        m->u.heartbeat.journal_first = 1, m->u.heartbeat.journal_last = 9007199254740993ULL;
        m->u.heartbeat.cycle_us = 1234, m->u.heartbeat.cycles = 77, m->u.heartbeat.overruns = 2;
        return 1;
    case 5:
        hdr(m, OW_MSG_ALARM);
        m->u.alarm.id = 7, m->u.alarm.type = 6, m->u.alarm.severity = OW_SEV_ALARM;
        strcpy(m->u.alarm.action, "raise");
        m->u.alarm.string = 1, m->u.alarm.module = 4, m->u.alarm.value = 15.6;
        m->u.alarm.raised_us = m->h.ts_us;
        strcpy(m->u.alarm.text, "Spannung \"hoch\"\\ \xe2\x80\x93 Block 4 \xe2\x89\xa5 15,5 V "
                                "\xf0\x9f\x94\x8b\n\t/\x01");
        return 1;
    case 6:
        hdr(m, OW_MSG_STATE);
        m->u.state.general = 0x41, m->u.state.nstrings = 2, m->u.state.nmodules = 18;
        m->u.state.string_flags[1] = 0x4, m->u.state.string_flags2[0] = 0x1000;
        m->u.state.module_flags[17] = 0x41, m->u.state.audible = 1;
        m->u.state.discharges = 3, m->u.state.eq_paused = 1;
        return 1;
    case 7:
        hdr(m, OW_MSG_CONTROL);
        m->h.gw[0] = '\0';
        strcpy(m->u.control.cmd, "set");
        strcpy(m->u.control.key, "voltage_v.high_alarm");
        m->u.control.value = 15.4, m->u.control.index = 3;
        strcpy(m->u.control.req, "r1");
        return 1;
    case 8:
        hdr(m, OW_MSG_REPLY);
        strcpy(m->u.reply.req, "r1");
        strcpy(m->u.reply.error, "low_alarm above high_alarm");
        return 1;
    case 9:
        hdr(m, OW_MSG_DISCHARGE);
        m->u.discharge.string = 2;
        strcpy(m->u.discharge.action, "end");
        strcpy(m->u.discharge.mode, "current");
        m->u.discharge.start_us = 1, m->u.discharge.end_us = 1800000001;
        m->u.discharge.duration_s = 1800, m->u.discharge.ah_removed = 12.5;
        m->u.discharge.min_current_a = -99.75, m->u.discharge.min_module = 14;
        m->u.discharge.min_voltage_v = 11.2;
        return 1;
    case 10:
        hdr(m, OW_MSG_BASELINE);
        m->u.baseline = (ow_baseline_t){1, 4, 4.6, 5.52, 20.0, -12.5, 1900000000000000LL};
        return 1;
    case 11:
        hdr(m, OW_MSG_CONFIG);
        strcpy(m->u.config.key, "thresholds.voltage_v.high_alarm");
        m->u.config.value = 15.4, m->u.config.old_value = -1e-7;
        strcpy(m->u.config.source, "reload");
        return 1;
    case 12:
        hdr(m, OW_MSG_STATE);
        m->u.state.nstrings = 16, m->u.state.nmodules = OW_MAX_MODULES;
        for (int k = 0; k < OW_MAX_MODULES; k++)
            m->u.state.module_flags[k] = (uint16_t)(k * 2654435761u >> 16);
        m->u.state.string_flags[15] = 0xffff;
        return 1;
    case 13:
        hdr(m, OW_MSG_DEVICE);
        strcpy(m->u.device.link, "down");
        m->u.device.timeouts = 9007199254740993ULL, m->u.device.cycle_requests = 3;
        return 1;
    case 14:
        hdr(m, OW_MSG_DEVICE);
        strcpy(m->u.device.link, "up");
        m->u.device.general = 0xffff, m->u.device.modules_reported = 512;
        m->u.device.nmodules = OW_MAX_MODULES;
        for (int k = 0; k < OW_MAX_MODULES; k++)
            m->u.device.module_flags[k] = (uint16_t)(k * 40503u);
        return 1;
    }
    return 0;
}

/* Bodies written by hand: what other encoders might send. */
static const char *const hand[] = {
    " {\"v\":1.0,\"kind\":\"m\\u006fdule\",\"pub\":\"busd.wm1\",\"epoch\":1.763700000e15,"
    "\"seq\":42,\"ts_us\":1763700001234567.0,\"gw\":\"wm1\",\"string\":2E0,\"module\":1.4e1,"
    "\"block\":5,\"voltage_v\":13.621,\"temp_c\":-0,\"impedance_mohm\":0.469e1,\"eq_pct\":1e-320,"
    "\"status\":2,\"extra\":[{\"a\":[]},{}]} \n",
    "{\"v\":1,\"kind\":\"state\",\"pub\":\"p\",\"epoch\":1,\"seq\":1,\"ts_us\":1,\"gw\":\"g\","
    "\"general\":1,\"battery\":0,\"alarm\":0,\"alarms_active\":0,\"module_alarms\":0,"
    "\"module_warnings\":0,\"audible\":false,\"string_flags\":[],\"string_flags2\":[ 1 , 2.0 ],"
    "\"module_flags\":[ ]}",
    "{\"v\":1,\"kind\":\"state\",\"pub\":\"p\",\"epoch\":1,\"seq\":1,\"ts_us\":1,\"gw\":\"g\","
    "\"general\":1,\"battery\":0,\"alarm\":0,\"alarms_active\":0,\"module_alarms\":0,"
    "\"module_warnings\":0,\"audible\":true,\"string_flags\":[1,2],\"string_flags2\":[1,[2]],"
    "\"module_flags\":[]}",
    "{\"v\":1,\"kind\":\"heartbeat\",\"pub\":\"b\",\"epoch\":9223372036854775807,\"seq\":"
    "9223372036854775807,\"ts_us\":0,\"gw\":\"g\",\"state\":\"stopping\",\"source\":\"sim\","
    "\"period_us\":1e12,\"speed\":1e6,\"strings\":0,\"modules\":0,\"modules_lost\":0,"
    "\"journal_first\":0,\"journal_last\":9.2233720368547758e18,\"cycle_us\":0,\"cycles\":0,"
    "\"overruns\":0}",
};

static void test_differential(void)
{
    char body[OW_BODY_MAX], topic[OW_TOPIC_MAX], err[256];
    ow_msg_t m;

    for (int i = 0; sample(i, &m); i++) {
        int n = ow_encode(&m, body, sizeof body, err, sizeof err);
        int tn = ow_topic(&m, topic, sizeof topic);
        CHECK_MSG(n > 0 && tn > 0, "sample %d: %s", i, err);
        if (n > 0 && tn > 0) variants(topic, body, (size_t)n);
    }
    for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++)
        variants(NULL, hand[i], strlen(hand[i]));
    cur_topic = NULL;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        diff(cases[i].body, strlen(cases[i].body));

    /* random edits of the samples, from a fixed seed */
    static const char *const dict[] = {
        "{",    "}",  "[",     "]",   ",",   ":", "\"",      "\\",   "\\u",          "null",
        "true", "1",  "-0",    "1e9", "0.5", " ", "\"v\":1", "\xc3", "\xe2\x82\xac", "\"\\ud800\"",
        "{}",   "[]", "\"a\":"};
    static sbuf_t v;
    for (int it = 0; it < 40000; it++) {
        int i = (int)rnd(12);
        sample(i, &m);
        int n = ow_encode(&m, v.b, sizeof v.b, err, sizeof err);
        v.n = (size_t)n;
        ow_topic(&m, topic, sizeof topic);
        for (int edits = 1 + (int)rnd(4); edits > 0 && v.n > 0; edits--) {
            size_t at = rnd((unsigned)v.n), len = 1 + rnd(8);
            if (at + len > v.n) len = v.n - at;
            switch (rnd(4)) {
            case 0: { /* insert a token */
                const char *t = dict[rnd(sizeof dict / sizeof dict[0])];
                size_t tl = strlen(t);
                memmove(v.b + at + tl, v.b + at, v.n - at);
                memcpy(v.b + at, t, tl);
                v.n += tl;
                break;
            }
            case 1: /* delete a range */
                memmove(v.b + at, v.b + at + len, v.n - at - len);
                v.n -= len;
                break;
            case 2: /* overwrite a byte */
                v.b[at] = (char)rnd(256);
                break;
            default: /* double a range */
                memmove(v.b + at + len, v.b + at, v.n - at);
                v.n += len;
                break;
            }
        }
        diff1(rnd(2) ? topic : NULL, strlen(topic), v.b, v.n);
    }

    printf("differential: %ld bodies, %ld accepted, %ld disagreements\n", dt.cases, dt.accepted,
           dt.mismatches);
    CHECK_MSG(dt.mismatches == 0, "%ld bodies decoded differently by the scanner and jansson",
              dt.mismatches);
    CHECK(dt.accepted > 1000 && dt.cases - dt.accepted > 100000);
}

/* ow_topic formats like printf's "%02d" and "%03d", whatever the numbers. */
static void test_topic_format(void)
{
    static const int nums[] = {INT_MIN, INT_MIN + 1, -1000, -100, -99, -10, -9,   -1,    0,
                               1,       9,           10,    99,   100, 999, 1000, 12345, INT_MAX};
    ow_msg_t m;
    char got[OW_TOPIC_MAX], want[OW_TOPIC_MAX];
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        for (size_t j = 0; j < sizeof nums / sizeof nums[0]; j++) {
            hdr(&m, OW_MSG_ALARM);
            m.u.alarm.string = nums[i], m.u.alarm.module = nums[j];
            int n = ow_topic(&m, got, sizeof got);
            snprintf(want, sizeof want, "alm/wm1/%02d/%03d", nums[i], nums[j]);
            CHECK_MSG(n == (int)strlen(want) && strcmp(got, want) == 0, "'%s' vs '%s'", got, want);
        }
    }
    hdr(&m, OW_MSG_CONTROL);
    m.h.gw[0] = '\0';
    CHECK(ow_topic(&m, got, sizeof got) == 5 && strcmp(got, "ctl/-") == 0);
    CHECK(ow_topic(&m, got, 5) == -1 && strcmp(got, "ctl/") == 0); /* like snprintf */
    hdr(&m, OW_MSG_DISCHARGE);
    m.u.discharge.string = 3;
    CHECK(ow_topic(&m, got, sizeof got) == 10 && strcmp(got, "dis/wm1/03") == 0);
    m.kind = OW_MSG_KINDS;
    CHECK(ow_topic(&m, got, sizeof got) == -1);
}

/* What the scanner refuses beyond jansson: a raw NUL after a number. */
static void test_scanner_edges(void)
{
    static const char nul[] = "{\"v\":1\0}";
    ow_msg_t m;
    char err[256];
    CHECK(ow_decode(NULL, 0, nul, sizeof nul - 1, &m, err, sizeof err, NULL) == OW_PERR_JSON);
    CHECK_CONTAINS(err, "invalid JSON");
    /* Integers beyond int64_t are not JSON the codec reads (jansson neither). */
    static const char big[] = "{\"v\":1,\"x\":9223372036854775808}";
    CHECK(ow_decode(NULL, 0, big, sizeof big - 1, &m, err, sizeof err, NULL) == OW_PERR_JSON);
    CHECK_CONTAINS(err, "64 bits");
    static const char dup[] = "{\"v\":1,\"\\u0076\":1}";
    CHECK(ow_decode(NULL, 0, dup, sizeof dup - 1, &m, err, sizeof err, NULL) == OW_PERR_JSON);
    CHECK_CONTAINS(err, "duplicate");
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

/* The hand-written "%.7g" must equal printf's byte for byte: random values
 * over every decade, values of the kinds published (volts, degrees,
 * milliohms), decade edges, rounding ties and the cases it hands over. */
static void test_fmt_g7(void)
{
    char a[64], b[64];
    int bad = 0;
    unsigned long long x = 88172645463325252ull;
    for (int i = 0; i < 2000000 && bad < 5; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        switch (i % 4) {
        case 0: /* any decade from 1e-6 to 1e9 */
            v = (double)(x % 1000000007ull) / 1000000007.0 * pow(10.0, (double)(i / 4 % 16) - 6);
            break;
        case 1: /* readings with a few decimals: ties in binary */
            v = (double)(int64_t)(x % 20000000) / pow(10.0, (double)(i / 4 % 8));
            break;
        case 2: /* decade edges: 9.9999995 and its neighbours */
            v = (10.0 - 5e-7 * (double)(x % 3)) * pow(10.0, (double)(i / 4 % 14) - 6);
            break;
        default:
            v = (double)(int64_t)(x % 4000001) - 2000000.0;
        }
        if (i & 8) v = -v;
        int n = ow_fmt_g7(v, a, sizeof a);
        snprintf(b, sizeof b, "%.7g", v);
        if (strcmp(a, b) != 0 || n != (int)strlen(b)) {
            bad++;
            CHECK_MSG(0, "%%.7g of %.17g: '%s' vs printf '%s'", v, a, b);
        }
    }
    static const double edge[] = {0,     -0.0,   1e-4,      9.9999995e-5, 1e7,  9999999.5,
                                  0.5,   1.25,   2.0000005, 123456.75,    1e-5, 3.4e38,
                                  1e300, 12.345, 0.1,       2.2345};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        ow_fmt_g7(edge[i], a, sizeof a);
        snprintf(b, sizeof b, "%.7g", edge[i]);
        CHECK_STR(a, b);
    }
    CHECK(bad == 0);
}

/* Every kind has its row in the kind table: a designated row left out would
 * be all zeros, which no compile-time check sees. */
static void test_kind_rows(void)
{
    for (int k = 0; k < OW_MSG_KINDS; k++) {
        const char *name = ow_kind_name((ow_kind_t)k);
        CHECK_MSG(name != NULL && ow_kind_topic((ow_kind_t)k) != NULL, "kind %d has no row", k);
        if (name) CHECK_MSG(ow_kind_from_name(name) == k, "kind %d: %s", k, name);
    }
    CHECK_STR(ow_kind_name(OW_MSG_MODULE), "module");
    CHECK_STR(ow_kind_topic(OW_MSG_DEVICE), "dev");
}

int main(void)
{
    test_kind_rows();
    test_fmt_g7();
    test_module();
    test_other_kinds();
    test_rejects();
    test_encode_refuses();
    test_topic_format();
    test_scanner_edges();
    test_differential();
    return ow_test_done("proto_test");
}
