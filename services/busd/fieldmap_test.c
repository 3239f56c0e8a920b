/* fieldmap: the G.BMS map reads back what modbusd's encoders write (every
 * quantity, within a register's resolution, negative temperatures, modules
 * 331 and 512), the planner's request counts, the value types and word
 * orders, and each kind of map mistake reported as "file:line:col: key:
 * reason". Run from the repository root (CTest does). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fieldmap.h"
#include "ow_gbms.h"
#include "ow_test.h"
#include "regmap.h"

/* Parse text where '@' marks the expected error position. */
static ow_fm_t *parse_marked(const char *text, char *err, size_t errlen, int *line, int *col)
{
    char buf[4096];
    size_t n = 0;
    int l = 1, c = 1;
    *line = *col = 0;
    for (const char *p = text; *p && n < sizeof buf - 1; p++) {
        if (*p == '@') {
            *line = l, *col = c;
            continue;
        }
        buf[n++] = *p;
        if (*p == '\n')
            l++, c = 1;
        else
            c++;
    }
    return ow_fm_parse(buf, n, "t.json", err, errlen);
}

static void expect_error(const char *text, const char *what)
{
    char err[512], want[700];
    int l, c;
    ow_fm_t *m = parse_marked(text, err, sizeof err, &l, &c);
    CHECK_MSG(m == NULL, "parsed, expected \"%s\"", what);
    ow_fm_destroy(&m);
    snprintf(want, sizeof want, "t.json:%d:%d: %s", l, c, what);
    CHECK_STR(err, want);
}

/* Read a plan's requests out of a modbusd image, as a device would answer. */
static int read_image(const ow_fm_plan_t *p, const ow_mb_image_t *img, ow_fm_values_t *v)
{
    uint16_t regs[125];
    ow_fm_values_clear(v);
    for (int i = 0; i < ow_fm_plan_nreqs(p); i++) {
        const ow_fm_req_t *r = ow_fm_plan_req(p, i);
        if (r->count > 125 || ow_mb_read(img, r->addr, r->count, regs) != 0) return -1;
        ow_fm_plan_decode(p, i, regs, NULL, v);
    }
    return 0;
}

static void test_gbms_roundtrip(void)
{
    char err[512];
    ow_fm_t *m = ow_fm_load("gbms", err, sizeof err);
    CHECK_MSG(m != NULL, "built-in map: %s", err);
    ow_fm_t *f = ow_fm_load("etc/maps/gbms.json", err, sizeof err);
    CHECK_MSG(f != NULL, "etc/maps/gbms.json: %s", err);
    if (!m || !f) return;
    CHECK(ow_fm_lost_mask(m) == GBMS_AL_COMMUNICATION_LOST);
    CHECK(ow_fm_has(m, OW_FM_MOD_VOLT, 512) && !ow_fm_has(m, OW_FM_MOD_VOLT, 513));
    CHECK(ow_fm_has(m, OW_FM_STR_SUM, 10) && !ow_fm_has(m, OW_FM_STR_SUM, 11));

    /* The whole map: 1000-1004, then 1010-3681 (2672 registers) in 22. */
    ow_fm_plan_t *p = ow_fm_plan_new(m, 16, 512, 16);
    CHECK(p && ow_fm_plan_nreqs(p) == 23);
    int next = 1010;
    for (int i = 1; p && i < ow_fm_plan_nreqs(p); i++) {
        const ow_fm_req_t *r = ow_fm_plan_req(p, i);
        CHECK_MSG(r->addr == next && r->count <= 125 && r->fc == 3, "request %d: %d+%d", i, r->addr,
                  r->count);
        next = r->addr + r->count;
    }
    CHECK(next == 3682);
    CHECK(p && ow_fm_plan_req(p, 0)->addr == 1000 && ow_fm_plan_req(p, 0)->count == 5);

    /* Every quantity through modbusd's encoders and back, within half a
     * register step (its resolution). */
    static ow_mb_image_t img;
    ow_mb_scale_t sc;
    ow_mb_scale_default(&sc);
    ow_mb_image_init(&img, &sc, 16, 512);
    ow_msg_t msg;
    for (int mod = 1; mod <= 512; mod++) {
        ow_msg_init(&msg, OW_MSG_MODULE);
        double t = -39 + (mod % 180) * 0.5; /* -39 .. +50.5 degC, negatives included */
        msg.u.module = (ow_module_t){1 + (mod - 1) / 32, mod,       1, 10 + mod * 0.007, t,
                                     0.5 + mod * 0.013,  mod % 101, 0};
        if (mod == 331) /* not answering: modbusd's 0x8000 comes back as no value */
            msg.u.module.status = OW_MODST_NO_RESPONSE;
        ow_mb_apply(&img, &msg);
    }
    for (int s = 1; s <= 16; s++) {
        ow_msg_init(&msg, OW_MSG_STRING);
        msg.u.string =
            (ow_string_t){s, 32, 0, -250.5 + s * 20.3, 0.2 * s, 400 + s, 12.5 + s * 0.01, NAN, NAN};
        ow_mb_apply(&img, &msg);
    }
    ow_msg_init(&msg, OW_MSG_AUX);
    msg.u.aux.inputs = 0x8421, msg.u.aux.outputs = 0x0102;
    ow_mb_apply(&img, &msg);
    ow_msg_init(&msg, OW_MSG_STATE);
    msg.u.state.general = 0x8041, msg.u.state.battery = 0x12, msg.u.state.alarm = 0x4;
    msg.u.state.nmodules = 512;
    msg.u.state.module_flags[330] = GBMS_AL_COMMUNICATION_LOST | 0x40;
    ow_mb_apply(&img, &msg);

    static ow_fm_values_t v;
    CHECK(p && read_image(p, &img, &v) == 0);
    CHECK(v.val[OW_FM_GENERAL][0] == 0x8041 && v.val[OW_FM_BATTERY][0] == 0x12);
    CHECK(v.val[OW_FM_ALARM][0] == 4 && v.val[OW_FM_NSTRINGS][0] == 16 &&
          v.val[OW_FM_NMODULES][0] == 512);
    int bad = 0;
    for (int mod = 1; mod <= 512; mod++) {
        double t = -39 + (mod % 180) * 0.5;
        if (mod == 331) {
            bad += !v.ok[OW_FM_MOD_VOLT][mod] || !isnan(v.val[OW_FM_MOD_VOLT][mod]) ||
                   !isnan(v.val[OW_FM_MOD_TEMP][mod]) || !isnan(v.val[OW_FM_MOD_IMPC][mod]) ||
                   !isnan(v.val[OW_FM_MOD_EQ][mod]) ||
                   v.val[OW_FM_MOD_FLAGS][mod] != (GBMS_AL_COMMUNICATION_LOST | 0x40);
            continue;
        }
        bad += !v.ok[OW_FM_MOD_VOLT][mod] ||
               fabs(v.val[OW_FM_MOD_VOLT][mod] - (10 + mod * 0.007)) > 5e-4 + 1e-9;
        bad += fabs(v.val[OW_FM_MOD_TEMP][mod] - t) > 0.25 + 1e-9;
        bad += fabs(v.val[OW_FM_MOD_IMPC][mod] - (0.5 + mod * 0.013)) > 5e-3 + 1e-9;
        bad += v.val[OW_FM_MOD_EQ][mod] != mod % 101;
        bad +=
            v.val[OW_FM_MOD_FLAGS][mod] != (mod == 331 ? (GBMS_AL_COMMUNICATION_LOST | 0x40) : 0);
    }
    CHECK_MSG(bad == 0, "%d module values differ", bad);
    CHECK(v.val[OW_FM_MOD_TEMP][1] == -38.5 && v.val[OW_FM_MOD_TEMP][180] == -39);
    for (int s = 1; s <= 16; s++) {
        CHECK_NEAR(v.val[OW_FM_STR_CURRENT][s], -250.5 + s * 20.3, 0.05 + 1e-9);
        CHECK_NEAR(v.val[OW_FM_STR_AC][s], 0.2 * s, 0.05 + 1e-9);
        if (s <= 10) {
            CHECK_NEAR(v.val[OW_FM_STR_SUM][s], 400 + s, 0.05 + 1e-9);
            CHECK_NEAR(v.val[OW_FM_STR_AVG][s], 12.5 + s * 0.01, 5e-4 + 1e-9);
        } else
            CHECK(!v.ok[OW_FM_STR_SUM][s] && isnan(v.val[OW_FM_STR_SUM][s]));
    }
    for (int i = 1; i <= 16; i++) {
        CHECK(v.val[OW_FM_AUX_IN][i] == ((0x8421 >> (i - 1)) & 1));
        CHECK(v.val[OW_FM_AUX_OUT][i] == ((0x0102 >> (i - 1)) & 1));
    }
    ow_fm_plan_destroy(&p);

    /* The sample site (2 x 9 modules, one GX_R_AUX): general, strings and
     * modules 1010-1149 in two, GX_R_AUX 3650-3669 in one. */
    p = ow_fm_plan_new(m, 2, 18, 4);
    CHECK(p && ow_fm_plan_nreqs(p) == 4);
    CHECK(p && ow_fm_plan_req(p, 3)->addr == 3650 && ow_fm_plan_req(p, 3)->count == 20);
    ow_fm_plan_destroy(&p);

    /* What fits: 520 modules do not (the map ends at 512), sensors the map
     * cannot read neither. */
    static ow_gateway_cfg_t gw;
    const char *key;
    char why[300];
    memset(&gw, 0, sizeof gw);
    gw.nstrings = 16, gw.nmodules = 512, gw.aux_units = 4, gw.current_sensor = 1;
    CHECK_MSG(ow_fm_fits(m, &gw, &key, why, sizeof why) == 0, "%s", why);
    gw.nmodules = 520;
    CHECK(ow_fm_fits(m, &gw, &key, why, sizeof why) < 0 && strcmp(key, "strings") == 0);
    CHECK_STR(why, "module 513 is not in the map \"G.BMS / BACS webmanager\" (its modules: 1-330, "
                   "331-512)");
    gw.nmodules = 18, gw.ambient_sensor = 1;
    CHECK(ow_fm_fits(m, &gw, &key, why, sizeof why) < 0 && strcmp(key, "ambient_sensor") == 0);
    ow_fm_destroy(&m);
    ow_fm_destroy(&f);
}

/* Another monitor: input registers, 32-bit values both ways round, floats,
 * discrete inputs, "not measured" markers, 520 modules in one section. */
static const char *generic =
    "{\"name\": \"generic\", \"fc\": 4, \"word_order\": \"little\", \"max_registers\": 100,\n"
    " \"points\": {\"ambient_c\": {\"address\": 10, \"type\": \"float32\", \"word_order\": "
    "\"big\"},\n"
    "   \"general_flags\": {\"address\": 12, \"type\": \"u16\", \"fc\": 3}},\n"
    " \"strings\": [{\"first\": 1, \"last\": 2, \"address\": 100, \"stride\": 4, \"values\": {\n"
    "   \"current_a\": {\"at\": 0, \"type\": \"s32\", \"scale\": 0.001},\n"
    "   \"sum_voltage_v\": {\"at\": 2, \"type\": \"u32\", \"scale\": 0.01}}}],\n"
    " \"modules\": [{\"first\": 1, \"last\": 520, \"address\": 1000, \"stride\": 2, \"values\": {\n"
    "   \"voltage_v\": {\"at\": 0, \"type\": \"u16\", \"scale\": 0.001, \"invalid\": [65535]},\n"
    "   \"temp_c\": {\"at\": 1, \"type\": \"s16\", \"scale\": 0.1}}}],\n"
    " \"aux_inputs\": [{\"first\": 1, \"last\": 4, \"address\": 0, \"stride\": 1, \"fc\": 2,\n"
    "   \"values\": {\"state\": {\"at\": 0, \"type\": \"bit\"}}}]}";

static void test_generic(void)
{
    char err[512];
    int l, c;
    ow_fm_t *m = parse_marked(generic, err, sizeof err, &l, &c);
    CHECK_MSG(m != NULL, "%s", err);
    if (!m) return;
    ow_fm_plan_t *p = ow_fm_plan_new(m, 2, 520, 4);
    /* FC02 0-3; FC03 12; FC04 10-11, 100-107, and 1000-2039 in 100s (no
     * readable range joins 11 and 100, or 107 and 1000): 1 + 1 + 1 + 1 + 11. */
    CHECK_MSG(p && ow_fm_plan_nreqs(p) == 15, "%d requests", p ? ow_fm_plan_nreqs(p) : -1);
    static ow_fm_values_t v;
    ow_fm_values_clear(&v);
    uint16_t regs[100];
    uint8_t bits[4] = {1, 0, 0, 1};
    float amb = -7.25f;
    uint32_t w;
    memcpy(&w, &amb, sizeof w);
    for (int i = 0; p && i < ow_fm_plan_nreqs(p); i++) {
        const ow_fm_req_t *r = ow_fm_plan_req(p, i);
        for (int k = 0; k < r->count; k++) {
            int a = r->addr + k;
            uint16_t x = 0;
            if (a == 10) x = (uint16_t)(w >> 16);
            if (a == 11) x = (uint16_t)w;
            if (a == 12) x = 0x8001;
            if (a == 100) x = (uint16_t)(uint32_t)-12345; /* s32 -12345, low word first */
            if (a == 101) x = 0xffff;
            if (a == 102) x = 48000 & 0xffff; /* u32 48000 -> 480 V */
            if (a == 103) x = 0;
            if (a >= 1000 && a % 2 == 0) x = (uint16_t)(2000 + (a - 1000) / 2);
            if (a >= 1000 && a % 2 == 1) x = (uint16_t)(int16_t)-205;
            if (a == 1000 + 2 * 519) x = 0xffff; /* module 520 not measured */
            regs[k] = x;
        }
        ow_fm_plan_decode(p, i, regs, bits, &v);
    }
    CHECK_NEAR(v.val[OW_FM_AMBIENT][0], -7.25, 1e-9);
    CHECK(v.val[OW_FM_GENERAL][0] == 0x8001);
    CHECK_NEAR(v.val[OW_FM_STR_CURRENT][1], -12.345, 1e-9);
    CHECK_NEAR(v.val[OW_FM_STR_SUM][1], 480, 1e-9);
    CHECK_NEAR(v.val[OW_FM_MOD_VOLT][1], 2.0, 1e-9);
    CHECK_NEAR(v.val[OW_FM_MOD_VOLT][519], 2.518, 1e-9);
    CHECK(v.ok[OW_FM_MOD_VOLT][520] && isnan(v.val[OW_FM_MOD_VOLT][520]));
    CHECK_NEAR(v.val[OW_FM_MOD_TEMP][300], -20.5, 1e-9);
    CHECK(v.val[OW_FM_AUX_IN][1] == 1 && v.val[OW_FM_AUX_IN][2] == 0 &&
          v.val[OW_FM_AUX_IN][4] == 1);
    CHECK(v.out_of_range == 0);
    ow_fm_plan_destroy(&p);
    ow_fm_destroy(&m);

    /* The shipped example for another monitor loads and plans: points 0-5,
     * strings 100-163, 520 cells 1000-2559 in 13 of 120, bits in 2. */
    m = ow_fm_load("etc/maps/sentry-style.json", err, sizeof err);
    CHECK_MSG(m != NULL, "%s", err);
    p = m ? ow_fm_plan_new(m, 16, 520, 16) : NULL;
    CHECK_MSG(p && ow_fm_plan_nreqs(p) == 1 + 1 + 13 + 2, "%d requests",
              p ? ow_fm_plan_nreqs(p) : -1);
    ow_fm_plan_destroy(&p);
    ow_fm_destroy(&m);

    /* Types and word orders on their own; a value beyond the wire's range. */
    uint16_t r2[2] = {0x1234, 0x5678};
    CHECK(ow_fm_raw(OW_FM_U32, 0, r2) == 0x12345678);
    CHECK(ow_fm_raw(OW_FM_U32, 1, r2) == 0x56781234);
    uint16_t r3[2] = {0xffff, 0xfffe};
    CHECK(ow_fm_raw(OW_FM_S32, 0, r3) == -2);
    CHECK(ow_fm_raw(OW_FM_S16, 0, r3) == -1 && ow_fm_raw(OW_FM_U16, 0, r3) == 65535);
    uint16_t r4[2] = {0xc2f7, 0x0000}; /* -123.5f */
    CHECK(ow_fm_raw(OW_FM_F32, 0, r4) == -123.5);
}

/* A monitor that reports the string's ripple voltage (the webmanager's
 * Ripple Voltage; the guide's register map has none): decoded like the
 * rest, busd's string message carries it as ripple_v. */
static void test_ripple(void)
{
    const char *t =
        "{\"name\": \"ripple\", \"fc\": 3,\n"
        " \"strings\": [{\"first\": 1, \"last\": 2, \"address\": 40, \"stride\": 1,"
        " \"values\": {\"ripple_v\": {\"at\": 0, \"type\": \"u16\", \"scale\": 0.1}}}]}";
    char err[512];
    ow_fm_t *m = ow_fm_parse(t, strlen(t), "t.json", err, sizeof err);
    CHECK_MSG(m != NULL, "%s", err);
    if (!m) return;
    CHECK(ow_fm_has(m, OW_FM_STR_RIPPLE, 2) && !ow_fm_has(m, OW_FM_STR_AC, 1));
    ow_fm_plan_t *p = ow_fm_plan_new(m, 2, 0, 0);
    CHECK(p && ow_fm_plan_nreqs(p) == 1);
    static ow_fm_values_t v;
    ow_fm_values_clear(&v);
    uint16_t regs[2] = {3, 12};
    uint8_t bits[1] = {0};
    if (p) ow_fm_plan_decode(p, 0, regs, bits, &v);
    CHECK_NEAR(v.val[OW_FM_STR_RIPPLE][1], 0.3, 1e-9);
    CHECK_NEAR(v.val[OW_FM_STR_RIPPLE][2], 1.2, 1e-9);
    ow_fm_plan_destroy(&p);
    ow_fm_destroy(&m);
}

static void test_out_of_range(void)
{
    char err[512];
    const char *t = "{\"modules\": [{\"first\": 1, \"last\": 1, \"address\": 0, \"stride\": 1,"
                    "\"values\": {\"voltage_v\": {\"at\": 0, \"type\": \"s16\", \"scale\": "
                    "0.001}}}]}";
    ow_fm_t *m = ow_fm_parse(t, strlen(t), "t.json", err, sizeof err);
    CHECK_MSG(m != NULL, "%s", err);
    if (!m) return;
    ow_fm_plan_t *p = ow_fm_plan_new(m, 1, 1, 0);
    static ow_fm_values_t v;
    ow_fm_values_clear(&v);
    uint16_t neg = (uint16_t)(int16_t)-5;
    ow_fm_plan_decode(p, 0, &neg, NULL, &v);
    CHECK(v.ok[OW_FM_MOD_VOLT][1] && isnan(v.val[OW_FM_MOD_VOLT][1]) && v.out_of_range == 1);
    ow_fm_plan_destroy(&p);
    ow_fm_destroy(&m);
}

static void test_errors(void)
{
#define SEC(v) "{\"first\": 1, \"last\": 9, \"address\": 10, \"stride\": 2, \"values\": " v "}"
    expect_error("{\"name\": \"x\",\n \"fcc\": @3}", "fcc: unknown key");
    expect_error("{\"fc\": @5}", "fc: must be between 1 and 4");
    expect_error("{\"max_registers\": @126}", "max_registers: must be between 1 and 125");
    expect_error("{\"modules\": [" SEC("{\"voltage_v\": {\"at\": 0, \"type\": @\"u64\"}}") "]}",
                 "modules[0].values.voltage_v.type: must be one of u16, s16, u32, s32, float32, "
                 "bit");
    expect_error("{\"modules\": [" SEC("{\"voltage_v\": @{\"at\": 1, \"type\": \"u32\"}}") "]}",
                 "modules[0].values.voltage_v: registers 1..2 of an entry do not fit in its "
                 "stride 2");
    expect_error("{\"modules\": [" SEC("{\"voltage_v\": {\"at\": 0, \"type\": \"u16\", "
                                       "\"scale\": @0}}") "]}",
                 "modules[0].values.voltage_v.scale: must not be 0");
    expect_error("{\"modules\": [" SEC("{\"volts\": @{\"at\": 0, \"type\": \"u16\"}}") "]}",
                 "modules[0].values.volts: unknown quantity (modules has temp_c, voltage_v, "
                 "impedance_mohm, flags, eq_pct)");
    expect_error("{\"modules\": [" SEC("{\"voltage_v\": {\"at\": 0, \"type\": @\"bit\"}}") "]}",
                 "modules[0].values.voltage_v.type: bit with function code 3: bits are read "
                 "with FC 01/02, registers with FC 03/04");
    expect_error("{\"modules\": [" SEC("{\"voltage_v\": @{\"type\": \"u16\"}}") "]}",
                 "modules[0].values.voltage_v.at: required key missing");
    expect_error(
        "{\"modules\": [" SEC(
            "{\"voltage_v\": {\"at\": 0, \"type\": \"u16\"}}") ",\n "
                                                               "@{\"first\": 5, \"last\": 12, "
                                                               "\"address\": 900, \"stride\": 1, "
                                                               "\"values\": "
                                                               "{\"temp_c\": {\"at\": 0, \"type\": "
                                                               "\"u16\"}}}]}",
        "modules[1]: modules 5-12 overlap an earlier section's 1-9");
    expect_error("{\"modules\": [{\"first\": 3, \"last\": @2, \"address\": 0, \"stride\": 1, "
                 "\"values\": {}}]}",
                 "modules[0].last: 2 is below first (3)");
    expect_error("{\"strings\": [{\"first\": 1, \"last\": @17, \"address\": 0, \"stride\": 1, "
                 "\"values\": {}}]}",
                 "strings[0].last: must be between 1 and 16");
    expect_error("{\"readable\": [@[5, 4]]}",
                 "readable[0]: expected [first, last] with 0 <= first <= last <= 65535");
    expect_error("{\"module_lost_mask\": @2}", "module_lost_mask: needs a modules \"flags\" value "
                                               "to test");
    expect_error("{\"points\": {\"voltage_v\": @{\"address\": 1, \"type\": \"u16\"}}}",
                 "points.voltage_v: unknown quantity (points has general_flags, battery_flags, "
                 "alarm_flags, strings, modules, ambient_c, humidity_pct, hydrogen_pct_lel)");
    expect_error("{\"modules\": [@{\"first\": 1, \"last\": 2, \"address\": 65535, \"stride\": 1, "
                 "\"values\": {}}]}",
                 "modules[0]: runs past address 65535");
    char err[300];
    CHECK(ow_fm_parse("{\"fc\": 3,}", 10, "t.json", err, sizeof err) == NULL);
    CHECK_MSG(strncmp(err, "t.json:1:", 9) == 0, "syntax error position: %s", err);
    CHECK(ow_fm_load("/nonexistent/map.json", err, sizeof err) == NULL);
    CHECK_STR(err, "/nonexistent/map.json: No such file or directory");
#undef SEC
}

int main(void)
{
    test_gbms_roundtrip();
    test_generic();
    test_ripple();
    test_out_of_range();
    test_errors();
    return ow_test_done("fieldmap");
}
