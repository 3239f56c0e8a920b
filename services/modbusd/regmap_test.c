/* regmap: every register the guide lists against the table's rows, the
 * sections' bounds, encodings of a known reading (the guide's own examples),
 * clamping, the request handler's exceptions. */
#include <ctype.h>
#include <string.h>

#include "modbusd.h"
#include "ow_gbms.h"
#include "ow_test.h"
#include "regmap.h"

/* The guide's "Modbus Read Registers" tables, as printed (user guide pages
 * 38-43): register, name, and the item it belongs to. The guide's last
 * module is "520" at 3645-3649; by its own addresses it is 512 (regmap.c). */
static const struct {
    int addr;
    const char *name;
    int item;
} guide[] = {
    {1000, "BACS_ALARM", 1},
    {1001, "BACS_ALARM", 1},
    {1002, "BACS_ALARM", 1},
    {1003, "BACS_NUMSTRINGS", 1},
    {1004, "BACS_NUMMODULES", 1},
    {1010, "STRING_01_CUR", 1},
    {1011, "BACS_StrSumVolt", 1},
    {1012, "BACS_StrAvgVolt", 1},
    {1013, "BACS_Str_CurrAC", 1},
    {1015, "STRING_02_CUR", 2},
    {1016, "BACS_StrSumVolt", 2},
    {1017, "BACS_StrAvgVolt", 2},
    {1018, "BACS_Str_CurrAC", 2},
    {1055, "STRING_10_CUR", 10},
    {1056, "BACS_StrSumVolt", 10},
    {1057, "BACS_StrAvgVolt", 10},
    {1058, "BACS_Str_CurrAC", 10},
    {2710, "STRING_11_CUR", 11},
    {2713, "BACS_Str_CurrAC", 11},
    {2715, "STRING_12_CUR", 12},
    {2718, "BACS_Str_CurrAC", 12},
    {2735, "STRING_16_CUR", 16},
    {2738, "BACS_Str_CurrAC", 16},
    {1060, "MODULE_001_TEMP", 1},
    {1061, "MODULE_001_VOLT", 1},
    {1062, "MODULE_001_IMPC", 1},
    {1063, "MODULE_001_ALARM", 1},
    {1064, "Module_001_ModByPVoltPc", 1},
    {1065, "MODULE_002_TEMP", 2},
    {1066, "MODULE_002_VOLT", 2},
    {1067, "MODULE_002_IMPC", 2},
    {1068, "MODULE_002_ALARM", 2},
    {1069, "Module_002_ModByPVoltPc", 2},
    {2705, "MODULE_330_TEMP", 330},
    {2706, "MODULE_330_VOLT", 330},
    {2707, "MODULE_330_IMPC", 330},
    {2708, "MODULE_330_ALARM", 330},
    {2709, "Module_330_ModBypVoltPc", 330},
    {2740, "MODULE_331_TEMP", 331},
    {2741, "MODULE_331_VOLT", 331},
    {2742, "MODULE_331_IMPC", 331},
    {2743, "MODULE_331_ALARM", 331},
    {2744, "Module_331_ModBypVoltPc", 331},
    {2745, "MODULE_332_TEMP", 332},
    {2746, "MODULE_332_VOLT", 332},
    {2747, "MODULE_332_IMPC", 332},
    {2748, "MODULE_332_ALARM", 332},
    {2749, "Module_332_ModBypVoltPc", 332},
    {3645, "MODULE_520_TEMP", 512},
    {3646, "MODULE_520_VOLT", 512},
    {3647, "MODULE_520_IMPC", 512},
    {3648, "MODULE_520_ALARM", 512},
    {3649, "Module_520_ModByPVoltPc", 512},
    {3650, "BACSGXRAuxAlarm(0)", 1},
    {3651, "BACSGXRAuxAlarm(1)", 2},
    {3652, "BACSGXRAuxAlarm(2)", 3},
    {3653, "BACSGXRAuxAlarm(3)", 4},
    {3654, "BACSGXRAuxAlarm(4)", 5},
    {3655, "BACSGXRAuxAlarm(5)", 6},
    {3656, "BACSGXRAuxAlarm(6)", 7},
    {3657, "BACSGXRAuxAlarm(7)", 8},
    {3658, "BACSGXRAuxAlarm(8)", 9},
    {3659, "BACSGXRAuxAlarm(9)", 10},
    {3660, "BACSGXRAuxAlarm(10)", 11},
    {3661, "BACSGXRAuxAlarm(11)", 12},
    {3662, "BACSGXRAuxAlarm(12)", 13},
    {3663, "BACSGXRAuxAlarm(13)", 14},
    {3664, "BACSGXRAuxAlarm(14)", 15},
    {3665, "BACSGXRAuxAlarm(15)", 16},
    {3666, "BACSGXRAuxOutputStatus(0)", 1},
    {3667, "BACSGXRAuxOutputStatus(1)", 2},
    {3668, "BACSGXRAuxOutputStatus(2)", 3},
    {3669, "BACSGXRAuxOutputStatus(3)", 4},
    {3670, "BACSGXRAuxOutputStatus(4)", 5},
    {3671, "BACSGXRAuxOutputStatus(5)", 6},
    {3672, "BACSGXRAuxOutputStatus(6)", 7},
    {3673, "BACSGXRAuxOutputStatus(7)", 8},
    {3674, "BACSGXRAuxOutputStatus(8)", 9},
    {3675, "BACSGXRAuxOutputStatus(9)", 10},
    {3676, "BACSGXRAuxOutputStatus (10)", 11},
    {3677, "BACSGXRAuxOutputStatus (11)", 12},
    {3678, "BACSGXRAuxOutputStatus (12)", 13},
    {3679, "BACSGXRAuxOutputStatus (13)", 14},
    {3680, "BACSGXRAuxOutputStatus (14)", 15},
    {3681, "BACSGXRAuxOutputStatus (15)", 16},
};

/* The guide spells a name with stray spaces and in two cases
 * (ModByPVoltPc, ModBypVoltPc), and the last module "520". */
static int same_name(const char *guide_name, const char *ours)
{
    char g[48];
    size_t n = 0;
    for (const char *p = guide_name; *p && n + 1 < sizeof g; p++)
        if (*p != ' ') g[n++] = (char)tolower((unsigned char)*p);
    g[n] = 0;
    char *t = strstr(g, "_520_");
    if (t) memcpy(t, "_512_", 5);
    for (n = 0; g[n] && ours[n]; n++)
        if (g[n] != tolower((unsigned char)ours[n])) return 0;
    return g[n] == 0 && ours[n] == 0;
}

static void check_guide(void)
{
    for (size_t i = 0; i < sizeof guide / sizeof guide[0]; i++) {
        int item = -1;
        const ow_mb_section_t *sec = NULL;
        const ow_mb_reg_t *r = ow_mb_at(guide[i].addr, &item, &sec);
        CHECK_MSG(r != NULL, "%d has no row", guide[i].addr);
        if (!r) continue;
        char name[48];
        ow_mb_reg_name(r, item, name, sizeof name);
        CHECK_MSG(item == guide[i].item && same_name(guide[i].name, name), "%d: %s item %d, not %s",
                  guide[i].addr, name, item, guide[i].name);
        /* and back: the row and item give the guide's address */
        int id = (int)(r - ow_mb_regs);
        CHECK_MSG(ow_mb_addr((ow_mb_reg_id_t)id, item) == guide[i].addr, "%s %d", name, item);
    }

    /* The sections' bounds, as the guide prints them. */
    static const int bounds[OW_MB_NSECTIONS][2] = {
        [OW_MB_SEC_GENERAL] = {1000, 1004},         [OW_MB_SEC_STRINGS_1_10] = {1010, 1059},
        [OW_MB_SEC_MODULES_1_330] = {1060, 2709},   [OW_MB_SEC_STRINGS_11_16] = {2710, 2739},
        [OW_MB_SEC_MODULES_331_512] = {2740, 3649}, [OW_MB_SEC_AUX_INPUTS] = {3650, 3665},
        [OW_MB_SEC_AUX_OUTPUTS] = {3666, 3681},
    };
    CHECK(ow_mb_nsections == OW_MB_NSECTIONS && ow_mb_nregs == OW_MB_NREGS);
    for (int i = 0; i < OW_MB_NSECTIONS; i++)
        CHECK_MSG(ow_mb_sections[i].first == bounds[i][0] &&
                      ow_mb_section_last(&ow_mb_sections[i]) == bounds[i][1],
                  "%s", ow_mb_sections[i].name);

    /* Every register row is in some block, and every block entry is a row. */
    int used[OW_MB_NREGS] = {0};
    for (int i = 0; i < OW_MB_NSECTIONS; i++)
        for (int off = 0; off < ow_mb_sections[i].stride; off++) {
            int id = (int)ow_mb_sections[i].layout[off];
            CHECK_MSG(id >= 0 && id < OW_MB_NREGS, "%s +%d", ow_mb_sections[i].name, off);
            if (id >= 0 && id < OW_MB_NREGS) used[id]++;
        }
    for (int r = 0; r < OW_MB_NREGS; r++)
        CHECK_MSG(used[r] > 0 && ow_mb_regs[r].name, "row %d is in no block", r);
    CHECK(ow_mb_sections[OW_MB_SEC_MODULES_331_512].stride == 5 &&
          ow_mb_sections[OW_MB_SEC_AUX_INPUTS].stride == 1);
    /* Every mapped address has a row, and nothing outside the sections. */
    int rows = 0;
    for (int a = 0; a < 70000; a++) {
        const ow_mb_reg_t *r = ow_mb_at(a, NULL, NULL);
        CHECK_MSG((r != NULL) == ow_mb_mapped(a), "%d", a);
        rows += r != NULL;
    }
    CHECK(rows == 5 + 16 * 5 + 512 * 5 + 32);
    CHECK(ow_mb_addr(OW_MB_REG_STR_SUM_V, 11) == -1); /* strings 11-16 have no voltage */
    CHECK(ow_mb_addr(OW_MB_REG_MOD_TEMP, 0) == -1 && ow_mb_addr(OW_MB_NREGS, 1) == -1);
}

/* A module that stops answering, as a master sees it poll by poll: busd's
 * reading says "no answer" at once, alarmd raises bacsAlarmSystemError (and
 * its Communication lost) only after comm_lost_polls, and its state words in
 * between say nothing. */
static void silent_module(const ow_mb_scale_t *sc)
{
    static ow_mb_image_t img;
    ow_mb_image_init(&img, sc, 1, 4);
    const int b = ow_mb_module_base(3);
    ow_msg_t rd, st;
    ow_msg_init(&rd, OW_MSG_MODULE);
    ow_msg_init(&st, OW_MSG_STATE);
    st.u.state.nmodules = 4;
    rd.u.module = (ow_module_t){.string = 1,
                                .module = 3,
                                .block = 3,
                                .voltage_v = 13.1,
                                .temp_c = 22,
                                .impedance_mohm = 5.5,
                                .eq_pct = 4};
    ow_mb_apply(&img, &rd);
    ow_mb_apply(&img, &st);
    CHECK(img.r[b - 1000] == 122 && img.r[b + 1 - 1000] == 13100 && img.r[b + 2 - 1000] == 550 &&
          img.r[b + 3 - 1000] == 0 && img.r[b + 4 - 1000] == 4);
    /* Poll 1 missed: busd's values are null. */
    rd.u.module = (ow_module_t){.string = 1,
                                .module = 3,
                                .block = 3,
                                .voltage_v = NAN,
                                .temp_c = NAN,
                                .impedance_mohm = NAN,
                                .eq_pct = NAN,
                                .status = OW_MODST_NO_RESPONSE};
    for (int poll = 1; poll <= 3; poll++) {
        ow_mb_apply(&img, &rd);
        /* alarmd's word for that cycle: nothing yet, then its alarm. */
        st.u.state.module_flags[2] = poll < 3 ? 0 : GBMS_AL_COMMUNICATION_LOST | 0x0001;
        ow_mb_apply(&img, &st);
        uint16_t r[5];
        CHECK(ow_mb_read(&img, b, 5, r) == 0);
        CHECK_MSG(r[0] == OW_MB_NO_READING && r[1] == OW_MB_NO_READING &&
                      r[2] == OW_MB_NO_READING && r[4] == OW_MB_NO_READING,
                  "poll %d: %04x %04x %04x %04x", poll, r[0], r[1], r[2], r[4]);
        CHECK_MSG(
            r[3] == (poll < 3 ? GBMS_AL_COMMUNICATION_LOST : (GBMS_AL_COMMUNICATION_LOST | 0x0001)),
            "poll %d: ALARM %04x", poll, r[3]);
    }
    /* Only some values null while it answers: those read 0x8000, no Communication lost. */
    rd.u.module = (ow_module_t){.string = 1,
                                .module = 3,
                                .block = 3,
                                .voltage_v = 13.0,
                                .temp_c = 21,
                                .impedance_mohm = NAN,
                                .eq_pct = 0};
    ow_mb_apply(&img, &rd);
    CHECK(img.r[b - 1000] == 120 && img.r[b + 1 - 1000] == 13000 &&
          img.r[b + 2 - 1000] == OW_MB_NO_READING && img.r[b + 4 - 1000] == 0);
    CHECK(img.r[b + 3 - 1000] == 0x0001); /* alarmd's other bit stays */
    /* alarmd's word from before the answer does not bring the bit back. */
    ow_mb_apply(&img, &st);
    CHECK(img.r[b + 3 - 1000] == 0x0001);
    /* Readings never encode to 0x8000: they clamp to -32767..32767. */
    rd.u.module.voltage_v = -40;
    rd.u.module.temp_c = -20000;
    rd.u.module.impedance_mohm = 400;
    ow_mb_apply(&img, &rd);
    CHECK((int16_t)img.r[b - 1000] == -32767 && (int16_t)img.r[b + 1 - 1000] == -32767 &&
          img.r[b + 2 - 1000] == 32767);
    /* Other modules: 1, 2, 4 never read. */
    CHECK(img.r[ow_mb_module_base(4) - 1000] == OW_MB_NO_READING &&
          img.r[ow_mb_module_base(4) + 3 - 1000] == GBMS_AL_COMMUNICATION_LOST);
}

/* The whole gateway's busd gone quiet: the last values heard must not be
 * served as current (a master would keep trending a dead bus), and the
 * registers come back with the first readings after it. */
static void quiet_gateway(const ow_mb_scale_t *sc)
{
    static ow_mb_image_t img;
    ow_mb_image_init(&img, sc, 2, 18);
    ow_msg_t rd, sr, st;
    ow_msg_init(&rd, OW_MSG_MODULE);
    ow_msg_init(&sr, OW_MSG_STRING);
    ow_msg_init(&st, OW_MSG_STATE);
    for (int m = 1; m <= 18; m++) {
        rd.u.module = (ow_module_t){.string = m <= 9 ? 1 : 2,
                                    .module = m,
                                    .block = (m - 1) % 9 + 1,
                                    .voltage_v = 13.5,
                                    .temp_c = 25,
                                    .impedance_mohm = 4.52,
                                    .eq_pct = 0};
        ow_mb_apply(&img, &rd);
    }
    sr.u.string = (ow_string_t){.string = 2,
                                .modules = 9,
                                .current_a = -12.5,
                                .ac_current_a = 0.4,
                                .sum_voltage_v = 116.47,
                                .avg_voltage_v = 12.941};
    ow_mb_apply(&img, &sr);
    st.u.state.nmodules = 18;
    st.u.state.module_flags[6] = 0x0001;
    ow_mb_apply(&img, &st);
    const int m7 = ow_mb_module_base(7) - 1000, s2 = ow_mb_string_base(2) - 1000;
    CHECK(img.r[m7] == 128 && img.r[m7 + 1] == 13500 && img.r[m7 + 2] == 452 &&
          img.r[m7 + 3] == 0x0001);
    CHECK((int16_t)img.r[s2] == -125 && img.r[s2 + 1] == 1165 && img.r[s2 + 2] == 12941 &&
          img.r[s2 + 3] == 4);

    ow_mb_image_quiet(&img);
    for (int m = 1; m <= 18; m++) {
        const int b = ow_mb_module_base(m) - 1000;
        CHECK_MSG(img.r[b] == OW_MB_NO_READING && img.r[b + 1] == OW_MB_NO_READING &&
                      img.r[b + 2] == OW_MB_NO_READING && img.r[b + 4] == OW_MB_NO_READING,
                  "module %d after the quiet: %04x %04x %04x %04x", m, img.r[b], img.r[b + 1],
                  img.r[b + 2], img.r[b + 4]);
        CHECK_MSG(img.r[b + 3] & GBMS_AL_COMMUNICATION_LOST, "module %d: Communication lost", m);
    }
    CHECK(img.r[m7 + 3] == (GBMS_AL_COMMUNICATION_LOST | 0x0001)); /* alarmd's bit stays */
    CHECK(img.r[s2] == 0 && img.r[s2 + 1] == 0 && img.r[s2 + 2] == 0 && img.r[s2 + 3] == 0);
    CHECK(img.r[ow_mb_module_base(19) - 1000] == 0); /* not configured: untouched */
    CHECK(img.r[1003 - 1000] == 2 && img.r[1004 - 1000] == 18);

    /* busd speaks again: module 7's next reading is served, the others
     * still read no reading until their own. */
    rd.u.module = (ow_module_t){.string = 1,
                                .module = 7,
                                .block = 7,
                                .voltage_v = 13.4,
                                .temp_c = 25.5,
                                .impedance_mohm = 4.6,
                                .eq_pct = 0};
    ow_mb_apply(&img, &rd);
    CHECK(img.r[m7] == 129 && img.r[m7 + 1] == 13400 && img.r[m7 + 3] == 0x0001);
    CHECK(img.r[ow_mb_module_base(8) - 1000] == OW_MB_NO_READING);
}

int main(void)
{
    check_guide();

    ow_mb_scale_t sc;
    ow_mb_scale_default(&sc);
    quiet_gateway(&sc);
    static ow_mb_image_t img;
    ow_mb_image_init(&img, &sc, 2, 18);

    /* Addresses: the guide's first and last of each section. */
    CHECK(ow_mb_module_base(1) == 1060);
    CHECK(ow_mb_module_base(330) == 2705);
    CHECK(ow_mb_module_base(331) == 2740);
    CHECK(ow_mb_module_base(512) == 3645);
    CHECK(ow_mb_module_base(513) == -1);
    CHECK(ow_mb_string_base(1) == 1010);
    CHECK(ow_mb_string_base(10) == 1055);
    CHECK(ow_mb_string_base(11) == 2710);
    CHECK(ow_mb_string_base(16) == 2735);
    CHECK(ow_mb_string_base(17) == -1 && ow_mb_string_base(0) == -1);
    CHECK(ow_mb_mapped(1004) && !ow_mb_mapped(1005) && !ow_mb_mapped(1009));
    CHECK(ow_mb_mapped(3681) && !ow_mb_mapped(3682) && !ow_mb_mapped(999));
    /* Reads: the gap 1005-1009 reads 0 (in a block with its neighbours);
     * only addresses outside 1000-3681 are 02. */
    {
        uint16_t v[125];
        for (int i = 0; i < 125; i++)
            v[i] = 0xAAAA;
        CHECK(ow_mb_read(&img, 1005, 5, v) == 0 && v[0] == 0 && v[4] == 0 && v[5] == 0xAAAA);
        CHECK(ow_mb_read(&img, 1000, 60, v) == 0 && v[3] == 2 && v[4] == 18);
        for (int i = 5; i < 10; i++)
            CHECK_MSG(v[i] == 0, "reserved %d", 1000 + i);
        CHECK(ow_mb_read(&img, 1000, 125, v) == 0 && v[63] == img.r[63]);
        CHECK(ow_mb_read(&img, 3557, 125, v) == 0 && v[124] == img.r[3681 - 1000]);
        CHECK(ow_mb_read(&img, 999, 1, v) == 2 && ow_mb_read(&img, 999, 2, v) == 2);
        CHECK(ow_mb_read(&img, 3682, 1, v) == 2 && ow_mb_read(&img, 3681, 2, v) == 2);
        CHECK(ow_mb_read(&img, 3600, 125, v) == 2); /* runs past 3681 */
        CHECK(ow_mb_read(&img, 0, 1, v) == 2 && ow_mb_read(&img, 65535, 1, v) == 2);
    }

    /* Encodings. */
    uint16_t r[5];
    CHECK(ow_mb_read(&img, 1003, 2, r) == 0 && r[0] == 2 && r[1] == 18);
    CHECK(ow_mb_read(&img, 1060 + 3, 1, r) == 0 && r[0] == GBMS_AL_COMMUNICATION_LOST);
    CHECK(ow_mb_read(&img, 1060 + 5 * 17 + 3, 1, r) == 0 && r[0] == GBMS_AL_COMMUNICATION_LOST);
    CHECK(ow_mb_read(&img, 1060 + 5 * 18 + 3, 1, r) == 0 && r[0] == 0); /* module 19: none */
    /* Configured, not read yet: no value, never 0 (TEMP 0 reads -39 degC). */
    CHECK(ow_mb_read(&img, 1060 + 5 * 17, 5, r) == 0 && r[0] == OW_MB_NO_READING &&
          r[1] == OW_MB_NO_READING && r[2] == OW_MB_NO_READING && r[4] == OW_MB_NO_READING);
    CHECK((int16_t)OW_MB_NO_READING == -32768);
    CHECK(ow_mb_read(&img, 1060 + 5 * 18, 5, r) == 0 && r[0] == 0 && r[1] == 0 && r[4] == 0);
    ow_msg_t m;
    /* The guide's examples: 127 = 24.5 degC, 12825 = 12.825 V, 4372 = 43.72 mOhm. */
    ow_msg_init(&m, OW_MSG_MODULE);
    m.u.module = (ow_module_t){.string = 1,
                               .module = 1,
                               .block = 1,
                               .voltage_v = 12.825,
                               .temp_c = 24.5,
                               .impedance_mohm = 43.72,
                               .eq_pct = 12,
                               .status = 0};
    ow_mb_apply(&img, &m);
    CHECK(ow_mb_read(&img, 1060, 5, r) == 0);
    CHECK(r[0] == 127 && r[1] == 12825 && r[2] == 4372 && r[3] == 0 && r[4] == 12);
    m.u.module = (ow_module_t){1, 331, 1, 13.456, 25.5, 4.2, -3, 0};
    ow_mb_apply(&img, &m);
    CHECK(ow_mb_read(&img, 2740, 5, r) == 0);
    CHECK(r[0] == 129 && r[1] == 13456 && r[2] == 420 && r[3] == 0 && (int16_t)r[4] == -3);
    /* The last module, -20 degC, no answer: Communication lost comes back. */
    m.u.module = (ow_module_t){.string = 16,
                               .module = 512,
                               .block = 1,
                               .voltage_v = NAN,
                               .temp_c = -20,
                               .impedance_mohm = 1.25,
                               .eq_pct = 0,
                               .status = OW_MODST_NO_RESPONSE};
    ow_mb_apply(&img, &m);
    CHECK(ow_mb_read(&img, 3645, 5, r) == 0);
    CHECK(r[0] == OW_MB_NO_READING && r[1] == OW_MB_NO_READING && r[2] == OW_MB_NO_READING &&
          r[3] == GBMS_AL_COMMUNICATION_LOST && r[4] == OW_MB_NO_READING);
    m.u.module.module = 513; /* past the map: nothing changes */
    static ow_mb_image_t before;
    before = img;
    ow_mb_apply(&img, &m);
    CHECK(memcmp(&before, &img, sizeof img) == 0);

    ow_msg_init(&m, OW_MSG_STRING);
    m.u.string.string = 2;
    m.u.string.current_a = -2000;
    m.u.string.sum_voltage_v = 480.2;
    m.u.string.avg_voltage_v = 13.34;
    m.u.string.ac_current_a = 1.25;
    ow_mb_apply(&img, &m);
    CHECK(ow_mb_read(&img, 1015, 5, r) == 0);
    CHECK((int16_t)r[0] == -20000 && r[1] == 4802 && r[2] == 13340 && r[3] == 13 && r[4] == 0);
    m.u.string.string = 11; /* strings 11-16: currents only */
    ow_mb_apply(&img, &m);
    CHECK(ow_mb_read(&img, 2710, 5, r) == 0);
    CHECK((int16_t)r[0] == -20000 && r[1] == 0 && r[2] == 0 && r[3] == 13 && r[4] == 0);
    /* A configured scale: 1 mA current. */
    static ow_mb_image_t img2;
    ow_mb_scale_t sc2 = sc;
    sc2.string_current = 1000;
    ow_mb_image_init(&img2, &sc2, 1, 0);
    m.u.string.string = 1;
    m.u.string.current_a = 1.234;
    ow_mb_apply(&img2, &m);
    CHECK(img2.r[1010 - 1000] == 1234 && img2.r[1013 - 1000] == 13);

    /* Clamping and NAN. */
    CHECK(ow_mb_clamp(1e9, 1) == 32767 && (int16_t)ow_mb_clamp(-1e9, 1) == -32768);
    CHECK(ow_mb_clamp(-5, 0) == 0 && ow_mb_clamp(70000, 0) == 65535 && ow_mb_clamp(NAN, 1) == 0);
    ow_msg_init(&m, OW_MSG_AUX);
    m.u.aux.inputs = 0x8001;
    m.u.aux.outputs = 0x2;
    ow_mb_apply(&img, &m);
    CHECK(img.r[3650 - 1000] == 1 && img.r[3665 - 1000] == 1 && img.r[3667 - 1000] == 1);
    CHECK(img.r[3651 - 1000] == 0 && img.r[3666 - 1000] == 0 && img.r[3681 - 1000] == 0);

    /* alarmd's state: the flag words and every module's ALARM word. */
    ow_msg_init(&m, OW_MSG_STATE);
    m.u.state.general = 0x10005;
    m.u.state.battery = 0x0002;
    m.u.state.alarm = 0x0041;
    m.u.state.nmodules = 512;
    m.u.state.module_flags[0] = 0x0041;
    m.u.state.module_flags[511] = 0x0003;
    ow_mb_apply(&img, &m);
    CHECK(ow_mb_read(&img, 1000, 3, r) == 0 && r[0] == 5 && r[1] == 2 && r[2] == 0x41);
    /* Module 2 was never read: alarmd's 0 does not clear Communication lost. */
    CHECK(img.r[1063 - 1000] == 0x41 && img.r[3648 - 1000] == 3 &&
          img.r[1068 - 1000] == GBMS_AL_COMMUNICATION_LOST);
    CHECK(ow_mb_apply(&img, &(ow_msg_t){.kind = OW_MSG_ALARM}) == 0);
    silent_module(&sc);

    /* Handler: exceptions 01, 02, 03, 0B and a good read. */
    uint8_t rsp[300];
    uint8_t ok[] = {3, 0x03, 0xE8, 0, 5};
    CHECK(ow_mb_handle(&img, ok, 5, rsp) == 12 && rsp[0] == 3 && rsp[1] == 10);
    uint8_t fc6[] = {6, 0x03, 0xE8, 0, 5};
    CHECK(ow_mb_handle(&img, fc6, 5, rsp) == 2 && rsp[0] == 0x86 && rsp[1] == 1);
    uint8_t gap[] = {4, 0x03, 0xE8, 0, 10}; /* 1000..1009: 1005-1009 are reserved, 0 */
    CHECK(ow_mb_handle(&img, gap, 5, rsp) == 22 && rsp[0] == 4 && rsp[1] == 20 && rsp[20] == 0 &&
          rsp[21] == 0 && rsp[11] == 18);
    uint8_t past[] = {4, 0x0E, 0x10, 0, 125}; /* 3600..3724 runs past 3681 */
    CHECK(ow_mb_handle(&img, past, 5, rsp) == 2 && rsp[0] == 0x84 && rsp[1] == 2);
    uint8_t big[] = {3, 0x03, 0xE8, 0, 126};
    CHECK(ow_mb_handle(&img, big, 5, rsp) == 2 && rsp[1] == 3);
    uint8_t zero[] = {3, 0x03, 0xE8, 0, 0};
    CHECK(ow_mb_handle(&img, zero, 5, rsp) == 2 && rsp[1] == 3);
    CHECK(ow_mb_handle(NULL, ok, 5, rsp) == 2 && rsp[1] == 0x0B);
    return ow_test_done("regmap");
}
