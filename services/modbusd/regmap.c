/* The G.BMS Modbus read map as one table (see regmap.h).
 *
 * Decisions, also in docs/modbus.md:
 * - Secondary modules: the guide labels the section "331-520", but its own
 *   addresses end at 3645-3649 for the last module and GX_R_AUX starts at
 *   3650. 2740 + 181*5 = 3645 holds modules 331..512 exactly, which matches
 *   the webmanager's 512-module maximum, so the last module is 512 and "520"
 *   is a typo.
 * - String registers have no scale in the guide: current 0.1 A, sum voltage
 *   0.1 V, average voltage 1 mV, AC current 0.1 A, all signed (configurable).
 * - Values clamp to the 16-bit range; an unmeasured string value (NAN)
 *   reads 0. Unconfigured modules and never-read strings read 0.
 * - A module without a value (configured but not read yet, not answering,
 *   or that value not measured: NAN) reads 0x8000 = -32768 in TEMP, VOLT,
 *   IMPC and equalizing, never 0: TEMP 0 decodes as -39 degC by the guide's
 *   (x - 78) / 2 and trips a master's low-temperature alarm. The guide calls
 *   the four signed 16-bit, and 0x8000 is the usual "not available" of a
 *   signed 16-bit register (SunSpec's int16 "not implemented"); the guide
 *   names no value of its own. So they are signed as the guide says, and a
 *   real reading clamps to -32767..32767: no measurement reads 0x8000.
 *   (Unsigned, as before, a master following the guide read 40 V as -25.5 V.)
 * - Communication lost in a module's ALARM register follows busd's latest
 *   reading of it: set from the first poll it missed (and until it is first
 *   read), cleared at its first answer. alarmd's word gives the other bits;
 *   its own Communication lost comes with bacsAlarmSystemError after
 *   comm_lost_polls polls, so taken as is it would hide a silent module for
 *   the first polls.
 * - A gateway whose busd has gone quiet (lib/ow_quiet.h) reads as if every
 *   module did not answer and no string value were measured
 *   (ow_mb_image_quiet), not the last values heard, until readings come.
 * - Reserved registers read 0, including 1005-1009, the one gap between
 *   sections (the asserts below leave no other): SCADA masters read the map
 *   in blocks such as 1000-1059, and one reserved register must not fail
 *   the whole request. Only an address outside 1000-3681 is illegal (02).
 * - No settings registers: the guide's Modbus map is read registers only,
 *   so bacsImpcPollRate and bacsTemperatureUnit are set through SNMP or the
 *   CLI (alarmd's runtime settings), and TEMP stays the guide's degC
 *   formula whatever temperature_unit says: a master decodes it as the
 *   guide tells it to. */
#include "regmap.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "ow_gbms.h"

/* Where each section starts and how many items it holds (the guide's
 * addresses). The asserts below tie them together, so that a wrong count
 * cannot overlap two sections or leave a gap the guide does not have. */
#define GEN_FIRST  1000
#define STR1_FIRST 1010
#define STR1_N     10
#define MOD1_FIRST 1060
#define MOD1_N     330
#define STR2_FIRST 2710
#define MOD2_FIRST 2740
#define AUXI_FIRST 3650
#define AUXO_FIRST 3666
#define BLOCK      5 /* registers per string and per module */

_Static_assert(GEN_FIRST == OW_MB_FIRST, "the map starts with the general section");
_Static_assert(STR1_FIRST + STR1_N * BLOCK == MOD1_FIRST, "strings 1-10 end where modules start");
_Static_assert(MOD1_FIRST + MOD1_N * BLOCK == STR2_FIRST, "modules 1-330 end at 2709");
_Static_assert(STR2_FIRST + (OW_MAX_STRINGS - STR1_N) * BLOCK == MOD2_FIRST,
               "strings 11-16 end at 2739");
_Static_assert(MOD2_FIRST + (OW_MB_MODULES - MOD1_N) * BLOCK == AUXI_FIRST,
               "modules 331-512 end where GX_R_AUX starts (the guide's '520' is a typo)");
_Static_assert(AUXI_FIRST + OW_AUX_POINTS == AUXO_FIRST, "16 inputs, then the outputs");
_Static_assert(AUXO_FIRST + OW_AUX_POINTS - 1 == OW_MB_LAST, "the outputs end the map");
_Static_assert(OW_MB_MODULES <= OW_MAX_MODULES, "module_flags holds every mapped module");
_Static_assert(OW_MB_MODULES == OW_GW_MAX_MODULES, "the site check allows what the map holds");

/* The blocks, a register row per offset as the guide lists them; strings
 * 11-16 have currents only. */
#define GENERAL                                                                                    \
    OW_MB_REG_GENERAL_STATUS, OW_MB_REG_BATTERY_STATUS, OW_MB_REG_ALARM_FLAGS,                     \
        OW_MB_REG_NUM_STRINGS, OW_MB_REG_NUM_MODULES
#define STRING                                                                                     \
    OW_MB_REG_STR_CURRENT, OW_MB_REG_STR_SUM_V, OW_MB_REG_STR_AVG_V, OW_MB_REG_STR_AC,             \
        OW_MB_REG_STR_RESERVED_4
#define STRING_CURRENTS                                                                            \
    OW_MB_REG_STR_CURRENT, OW_MB_REG_STR_RESERVED_1, OW_MB_REG_STR_RESERVED_2, OW_MB_REG_STR_AC,   \
        OW_MB_REG_STR_RESERVED_4
#define MODULE                                                                                     \
    OW_MB_REG_MOD_TEMP, OW_MB_REG_MOD_VOLT, OW_MB_REG_MOD_IMPC, OW_MB_REG_MOD_ALARM,               \
        OW_MB_REG_MOD_EQ
#define AUX_INPUT  OW_MB_REG_AUX_INPUT
#define AUX_OUTPUT OW_MB_REG_AUX_OUTPUT
#define NREGS(...) ((int)(sizeof((const ow_mb_reg_id_t[]){__VA_ARGS__}) / sizeof(ow_mb_reg_id_t)))
/* A section's layout and, from its length, its stride. */
#define LAYOUT(...) .layout = (const ow_mb_reg_id_t[]){__VA_ARGS__}, .stride = NREGS(__VA_ARGS__)
_Static_assert(NREGS(STRING) == BLOCK && NREGS(STRING_CURRENTS) == BLOCK && NREGS(MODULE) == BLOCK,
               "five registers per string and per module");
_Static_assert(NREGS(GENERAL) == 5, "the general section is 1000-1004");

/* The tables read better packed, one row per section or register, than one
 * member a line, so clang-format leaves them alone. */
/* clang-format off */
const ow_mb_section_t ow_mb_sections[] = {
    [OW_MB_SEC_GENERAL] = {.name = "general", .per = OW_MB_PER_GATEWAY, .first = GEN_FIRST,
                           .first_item = 1, .nitems = 1, LAYOUT(GENERAL),
                           .guide = "General Modbus Registers",
                           .what = "1000 General Status Flags, 1001 Battery Status Flags, 1002 "
                                   "Alarm Flags, 1003 number of strings, 1004 number of modules "
                                   "(unsigned)"},
    [OW_MB_SEC_STRINGS_1_10] = {.name = "strings 1-10", .per = OW_MB_PER_STRING,
                                .first = STR1_FIRST, .first_item = 1, .nitems = STR1_N,
                                LAYOUT(STRING), .guide = "Main Register Section for Strings",
                                .what = "1010+5*(s-1): +0 current (0.1 A), +1 sum voltage (0.1 "
                                        "V), +2 average voltage (1 mV), +3 AC current (0.1 A), +4 "
                                        "reserved (0); signed"},
    [OW_MB_SEC_MODULES_1_330] = {.name = "modules 1-330", .per = OW_MB_PER_MODULE,
                                 .first = MOD1_FIRST, .first_item = 1, .nitems = MOD1_N,
                                 LAYOUT(MODULE), .guide = "Main Register Section for Modules",
                                 .what = "1060+5*(m-1): +0 TEMP (2*T+78, T in degC), +1 VOLT "
                                         "(mV), +2 IMPC (0.01 mOhm), +3 ALARM (Alarm Flags), +4 "
                                         "equalizing (%, signed)"},
    [OW_MB_SEC_STRINGS_11_16] = {.name = "strings 11-16", .per = OW_MB_PER_STRING,
                                 .first = STR2_FIRST, .first_item = STR1_N + 1,
                                 .nitems = OW_MAX_STRINGS - STR1_N, LAYOUT(STRING_CURRENTS),
                                 .guide = "Secondary Register Section for Strings",
                                 .what = "2710+5*(s-11): +0 current (0.1 A), +3 AC current (0.1 "
                                         "A), +1 +2 +4 reserved (0); signed"},
    [OW_MB_SEC_MODULES_331_512] = {.name = "modules 331-512", .per = OW_MB_PER_MODULE,
                                   .first = MOD2_FIRST, .first_item = MOD1_N + 1,
                                   .nitems = OW_MB_MODULES - MOD1_N, LAYOUT(MODULE),
                                   .guide = "Secondary Register Section for Modules",
                                   .what = "2740+5*(m-331), same layout as modules 1-330; the "
                                           "guide's label says 331-520, its addresses end at 3649 "
                                           "= module 512"},
    [OW_MB_SEC_AUX_INPUTS] = {.name = "GX_R_AUX inputs", .per = OW_MB_PER_POINT,
                              .first = AUXI_FIRST, .first_item = 1, .nitems = OW_AUX_POINTS,
                              LAYOUT(AUX_INPUT), .guide = "GXR_AUX Alarm Modbus Registers",
                              .what = "3650+4*(u-1)+(i-1): input i of unit u, 1 in alarm, 0 not"},
    [OW_MB_SEC_AUX_OUTPUTS] = {.name = "GX_R_AUX outputs", .per = OW_MB_PER_POINT,
                               .first = AUXO_FIRST, .first_item = 1, .nitems = OW_AUX_POINTS,
                               LAYOUT(AUX_OUTPUT), .guide = "GXR_AUX Output Modbus Registers",
                               .what = "3666+4*(u-1)+(o-1): output o of unit u, 1 on, 0 off"},
};
const int ow_mb_nsections = sizeof ow_mb_sections / sizeof ow_mb_sections[0];
_Static_assert(sizeof ow_mb_sections / sizeof ow_mb_sections[0] == OW_MB_NSECTIONS,
               "one section row per ow_mb_sec_t");

#define SCALE(key) .scale_key = #key, .scale_off = offsetof(ow_mb_scale_t, key)

/* The guide's registers. Its string registers have no scale; the module
 * values are signed, as the guide says, and read OW_MB_NO_READING without a
 * value (see the top of the file). */
const ow_mb_reg_t ow_mb_regs[] = {
    [OW_MB_REG_GENERAL_STATUS] = {.name = "BACS_ALARM", .unit = "",
                                  .meaning = "General Status Flags", .enc = OW_MB_ENC_WORD,
                                  .kind = OW_MSG_STATE, .src = offsetof(ow_state_t, general)},
    [OW_MB_REG_BATTERY_STATUS] = {.name = "BACS_ALARM", .unit = "",
                                  .meaning = "Battery Status Flags", .enc = OW_MB_ENC_WORD,
                                  .kind = OW_MSG_STATE, .src = offsetof(ow_state_t, battery)},
    [OW_MB_REG_ALARM_FLAGS] = {.name = "BACS_ALARM", .unit = "", .meaning = "Alarm Flags",
                               .enc = OW_MB_ENC_WORD, .kind = OW_MSG_STATE,
                               .src = offsetof(ow_state_t, alarm)},
    [OW_MB_REG_NUM_STRINGS] = {.name = "BACS_NUMSTRINGS", .unit = "",
                               .meaning = "The number of strings in the setup",
                               .enc = OW_MB_ENC_NSTRINGS},
    [OW_MB_REG_NUM_MODULES] = {.name = "BACS_NUMMODULES", .unit = "",
                               .meaning = "The total number of modules in the setup",
                               .enc = OW_MB_ENC_NMODULES},
    [OW_MB_REG_STR_CURRENT] = {.name = "STRING_%02d_CUR", .unit = "A",
                               .meaning = "The DC current in the string", .enc = OW_MB_ENC_VALUE,
                               .kind = OW_MSG_STRING, .src = offsetof(ow_string_t, current_a),
                               SCALE(string_current), .is_signed = 1},
    [OW_MB_REG_STR_SUM_V] = {.name = "BACS_StrSumVolt", .unit = "V",
                             .meaning = "The total voltage in the string", .enc = OW_MB_ENC_VALUE,
                             .kind = OW_MSG_STRING, .src = offsetof(ow_string_t, sum_voltage_v),
                             SCALE(string_sum_v), .is_signed = 1},
    [OW_MB_REG_STR_AVG_V] = {.name = "BACS_StrAvgVolt", .unit = "V",
                             .meaning = "The average voltage in the string", .enc = OW_MB_ENC_VALUE,
                             .kind = OW_MSG_STRING, .src = offsetof(ow_string_t, avg_voltage_v),
                             SCALE(string_avg_v), .is_signed = 1},
    [OW_MB_REG_STR_AC] = {.name = "BACS_Str_CurrAC", .unit = "A",
                          .meaning = "The AC current (RMS value) in the string",
                          .enc = OW_MB_ENC_VALUE, .kind = OW_MSG_STRING,
                          .src = offsetof(ow_string_t, ac_current_a), SCALE(string_ac),
                          .is_signed = 1},
    [OW_MB_REG_STR_RESERVED_1] = {.name = "(reserved)", .unit = "",
                                  .meaning = "Reserved and not used (no voltage for strings 11-16)",
                                  .enc = OW_MB_ENC_RESERVED},
    [OW_MB_REG_STR_RESERVED_2] = {.name = "(reserved)", .unit = "",
                                  .meaning = "Reserved and not used (no voltage for strings 11-16)",
                                  .enc = OW_MB_ENC_RESERVED},
    [OW_MB_REG_STR_RESERVED_4] = {.name = "(reserved)", .unit = "",
                                  .meaning = "The fifth register of each string is reserved",
                                  .enc = OW_MB_ENC_RESERVED},
    [OW_MB_REG_MOD_TEMP] = {.name = "MODULE_%03d_TEMP", .unit = "degC",
                            .meaning = "The battery temperature; T = (x - 78) / 2",
                            .enc = OW_MB_ENC_VALUE, .kind = OW_MSG_MODULE,
                            .src = offsetof(ow_module_t, temp_c), .scale = 2, .bias = 78,
                            .is_signed = 1, .no_reading = 1},
    [OW_MB_REG_MOD_VOLT] = {.name = "MODULE_%03d_VOLT", .unit = "V",
                            .meaning = "The battery voltage; factor 1000", .enc = OW_MB_ENC_VALUE,
                            .kind = OW_MSG_MODULE, .src = offsetof(ow_module_t, voltage_v),
                            .scale = 1000, .is_signed = 1, .no_reading = 1},
    [OW_MB_REG_MOD_IMPC] = {.name = "MODULE_%03d_IMPC", .unit = "mOhm",
                            .meaning = "The battery impedance; factor 100", .enc = OW_MB_ENC_VALUE,
                            .kind = OW_MSG_MODULE, .src = offsetof(ow_module_t, impedance_mohm),
                            .scale = 100, .is_signed = 1, .no_reading = 1},
    [OW_MB_REG_MOD_ALARM] = {.name = "MODULE_%03d_ALARM", .unit = "",
                             .meaning = "Alarms and status for the module (Alarm Flags)",
                             .enc = OW_MB_ENC_ALARM, .kind = OW_MSG_STATE,
                             .src = offsetof(ow_state_t, module_flags)},
    [OW_MB_REG_MOD_EQ] = {.name = "Module_%03d_ModByPVoltPc", .unit = "%",
                          .meaning = "How much of the equalizing is active", .enc = OW_MB_ENC_VALUE,
                          .kind = OW_MSG_MODULE, .src = offsetof(ow_module_t, eq_pct), .scale = 1,
                          .is_signed = 1, .no_reading = 1},
    [OW_MB_REG_AUX_INPUT] = {.name = "BACSGXRAuxAlarm(%d)", .name_bias = -1, .unit = "",
                             .meaning = "Status of input i on GX_R_AUX u: 1 in alarm, 0 not",
                             .enc = OW_MB_ENC_BIT, .kind = OW_MSG_AUX,
                             .src = offsetof(ow_aux_t, inputs)},
    [OW_MB_REG_AUX_OUTPUT] = {.name = "BACSGXRAuxOutputStatus(%d)", .name_bias = -1, .unit = "",
                              .meaning = "Status of output o on GX_R_AUX u: 1 on, 0 off",
                              .enc = OW_MB_ENC_BIT, .kind = OW_MSG_AUX,
                              .src = offsetof(ow_aux_t, outputs)},
};
/* clang-format on */
const int ow_mb_nregs = sizeof ow_mb_regs / sizeof ow_mb_regs[0];
_Static_assert(sizeof ow_mb_regs / sizeof ow_mb_regs[0] == OW_MB_NREGS,
               "one register row per ow_mb_reg_id_t");

void ow_mb_scale_default(ow_mb_scale_t *s)
{
    s->string_current = 10;
    s->string_sum_v = 10;
    s->string_avg_v = 1000;
    s->string_ac = 10;
}

int ow_mb_section_last(const ow_mb_section_t *s)
{
    return s->first + s->nitems * s->stride - 1;
}

int ow_mb_mapped(int addr)
{
    for (int i = 0; i < ow_mb_nsections; i++)
        if (addr >= ow_mb_sections[i].first && addr <= ow_mb_section_last(&ow_mb_sections[i]))
            return 1;
    return 0;
}

uint16_t ow_mb_clamp(double v, int is_signed)
{
    if (isnan(v)) return 0;
    v = round(v);
    double lo = is_signed ? -32768 : 0, hi = is_signed ? 32767 : 65535;
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    return (uint16_t)(int32_t)v;
}

/* Address of item's block in section i, -1 if the section does not hold it. */
static int block_base(int i, int item)
{
    const ow_mb_section_t *s = &ow_mb_sections[i];
    if (item < s->first_item || item >= s->first_item + s->nitems) return -1;
    return s->first + (item - s->first_item) * s->stride;
}

int ow_mb_addr(ow_mb_reg_id_t reg, int item)
{
    for (int i = 0; i < ow_mb_nsections; i++) {
        int b = block_base(i, item);
        if (b < 0) continue;
        for (int off = 0; off < ow_mb_sections[i].stride; off++)
            if (ow_mb_sections[i].layout[off] == reg) return b + off;
    }
    return -1;
}

const ow_mb_reg_t *ow_mb_at(int addr, int *item, const ow_mb_section_t **sec)
{
    for (int i = 0; i < ow_mb_nsections; i++) {
        const ow_mb_section_t *s = &ow_mb_sections[i];
        if (addr < s->first || addr > ow_mb_section_last(s)) continue;
        if (item) *item = s->first_item + (addr - s->first) / s->stride;
        if (sec) *sec = s;
        return &ow_mb_regs[s->layout[(addr - s->first) % s->stride]];
    }
    return NULL;
}

/* The name's one conversion, "%d" or "%0Nd", filled in by hand: the names
 * are data, and a format string that is data is what -Wformat=2 refuses. */
void ow_mb_reg_name(const ow_mb_reg_t *r, int item, char *buf, size_t len)
{
    const char *pc = strchr(r->name, '%');
    if (!pc) {
        snprintf(buf, len, "%s", r->name);
        return;
    }
    const char *q = pc + 1;
    int width = 0;
    while (*q >= '0' && *q <= '9')
        width = width * 10 + (*q++ - '0');
    if (*q == 'd') q++;
    snprintf(buf, len, "%.*s%0*d%s", (int)(pc - r->name), r->name, width, item + r->name_bias, q);
}

int ow_mb_module_base(int m)
{
    return ow_mb_addr(OW_MB_REG_MOD_TEMP, m);
}

int ow_mb_string_base(int s)
{
    return ow_mb_addr(OW_MB_REG_STR_CURRENT, s);
}

static void put(ow_mb_image_t *img, int addr, uint16_t v)
{
    if (addr >= OW_MB_FIRST && addr <= OW_MB_LAST) img->r[addr - OW_MB_FIRST] = v;
}

static uint16_t get(const ow_mb_image_t *img, int addr)
{
    return img->r[addr - OW_MB_FIRST];
}

/* What one message (or the image's setup) brings to the encoders. */
#define SETUP (-1) /* feed_t.kind of ow_mb_image_init: no OW_MSG_* is negative */
typedef struct {
    int kind;      /* OW_MSG_*, or SETUP */
    const void *p; /* that kind's payload */
    int nstrings, nmodules;
} feed_t;

static double src_double(const feed_t *f, const ow_mb_reg_t *r)
{
    double v;
    memcpy(&v, (const char *)f->p + r->src, sizeof v);
    return v;
}

static uint32_t src_u32(const feed_t *f, const ow_mb_reg_t *r)
{
    uint32_t v;
    memcpy(&v, (const char *)f->p + r->src, sizeof v);
    return v;
}

/* A module reading that says the module did not answer. */
static int silent(const feed_t *f)
{
    return f->kind == OW_MSG_MODULE &&
           (((const ow_module_t *)f->p)->status & OW_MODST_NO_RESPONSE) != 0;
}

static uint16_t comm_lost(uint16_t flags, int lost)
{
    return lost ? (uint16_t)(flags | GBMS_AL_COMMUNICATION_LOST)
                : (uint16_t)(flags & ~GBMS_AL_COMMUNICATION_LOST);
}

/* An ENC_VALUE register from its row and this feed. A module value without
 * a reading is OW_MB_NO_READING, which no reading may encode to. */
static uint16_t value(const ow_mb_image_t *img, const ow_mb_reg_t *r, const feed_t *f)
{
    double sc = r->scale, x = src_double(f, r);
    if (r->scale_key) memcpy(&sc, (const char *)&img->scale + r->scale_off, sizeof sc);
    if (r->no_reading && (isnan(x) || silent(f))) return OW_MB_NO_READING;
    uint16_t v = ow_mb_clamp(x * sc + r->bias, r->is_signed);
    return r->no_reading && v == OW_MB_NO_READING ? (uint16_t)(OW_MB_NO_READING + 1) : v;
}

/* Write the registers of item's block in section i that this feed fills. */
static void encode(ow_mb_image_t *img, int i, int item, const feed_t *f)
{
    int b = block_base(i, item);
    if (b < 0) return;
    for (int off = 0; off < ow_mb_sections[i].stride; off++) {
        const ow_mb_reg_t *r = &ow_mb_regs[ow_mb_sections[i].layout[off]];
        int a = b + off;
        switch (r->enc) {
        case OW_MB_ENC_RESERVED:
            break;
        case OW_MB_ENC_NSTRINGS:
            if (f->kind == SETUP) put(img, a, (uint16_t)f->nstrings);
            break;
        case OW_MB_ENC_NMODULES:
            if (f->kind == SETUP) put(img, a, (uint16_t)f->nmodules);
            break;
        case OW_MB_ENC_VALUE:
            if (f->kind == SETUP && r->no_reading) put(img, a, OW_MB_NO_READING);
            if (f->kind != r->kind) break;
            put(img, a, value(img, r, f));
            break;
        case OW_MB_ENC_WORD:
            if (f->kind == r->kind) put(img, a, (uint16_t)src_u32(f, r));
            break;
        case OW_MB_ENC_BIT:
            if (f->kind == r->kind) put(img, a, (src_u32(f, r) >> (item - 1)) & 1u);
            break;
        case OW_MB_ENC_ALARM:
            /* The flags are alarmd's but Communication lost, which follows
             * the module's latest reading (see the top of the file); not
             * read yet counts as not answering. */
            if (f->kind == SETUP) {
                img->silent[item] = 1;
                put(img, a, comm_lost(0, 1));
            } else if (f->kind == r->kind) {
                const uint16_t *w = (const uint16_t *)((const char *)f->p + r->src);
                put(img, a, comm_lost(w[item - 1], img->silent[item]));
            } else if (f->kind == OW_MSG_MODULE) {
                img->silent[item] = silent(f);
                put(img, a, comm_lost(get(img, a), img->silent[item]));
            }
            break;
        }
    }
}

/* Encode item in whichever section of this kind holds it. */
static void encode_item(ow_mb_image_t *img, ow_mb_per_t per, int item, const feed_t *f)
{
    for (int i = 0; i < ow_mb_nsections; i++)
        if (ow_mb_sections[i].per == per) encode(img, i, item, f);
}

void ow_mb_image_init(ow_mb_image_t *img, const ow_mb_scale_t *scale, int nstrings, int nmodules)
{
    memset(img->r, 0, sizeof img->r);
    memset(img->silent, 0, sizeof img->silent);
    img->scale = *scale;
    img->nstrings = nstrings;
    img->nmodules = nmodules;
    feed_t f = {.kind = SETUP, .nstrings = nstrings, .nmodules = nmodules};
    encode_item(img, OW_MB_PER_GATEWAY, 1, &f);
    for (int m = 1; m <= nmodules && m <= OW_MB_MODULES; m++)
        encode_item(img, OW_MB_PER_MODULE, m, &f);
}

/* Through the encoders, as readings that say so: what a silent busd's
 * registers read is then by construction what a silent module's and an
 * unmeasured string's read, with no second encoding to drift. */
void ow_mb_image_quiet(ow_mb_image_t *img)
{
    ow_msg_t m = {.kind = OW_MSG_MODULE};
    for (int i = 1; i <= img->nmodules && i <= OW_MB_MODULES; i++) {
        m.u.module = (ow_module_t){.module = i,
                                   .voltage_v = NAN,
                                   .temp_c = NAN,
                                   .impedance_mohm = NAN,
                                   .eq_pct = NAN,
                                   .status = OW_MODST_NO_RESPONSE};
        ow_mb_apply(img, &m);
    }
    m.kind = OW_MSG_STRING;
    for (int s = 1; s <= img->nstrings && s <= OW_MAX_STRINGS; s++) {
        m.u.string = (ow_string_t){.string = s,
                                   .current_a = NAN,
                                   .ac_current_a = NAN,
                                   .sum_voltage_v = NAN,
                                   .avg_voltage_v = NAN,
                                   .power_kw = NAN,
                                   .ripple_v = NAN};
        ow_mb_apply(img, &m);
    }
}

int ow_mb_apply(ow_mb_image_t *img, const ow_msg_t *m)
{
    feed_t f = {.kind = m->kind};
    switch (m->kind) {
    case OW_MSG_MODULE:
        f.p = &m->u.module;
        encode_item(img, OW_MB_PER_MODULE, m->u.module.module, &f);
        return 1;
    case OW_MSG_STRING:
        f.p = &m->u.string;
        encode_item(img, OW_MB_PER_STRING, m->u.string.string, &f);
        return 1;
    case OW_MSG_AUX:
        f.p = &m->u.aux;
        for (int i = 1; i <= OW_AUX_POINTS; i++)
            encode_item(img, OW_MB_PER_POINT, i, &f);
        return 1;
    case OW_MSG_STATE:
        f.p = &m->u.state;
        encode_item(img, OW_MB_PER_GATEWAY, 1, &f);
        for (int i = 1; i <= m->u.state.nmodules && i <= OW_MB_MODULES; i++)
            encode_item(img, OW_MB_PER_MODULE, i, &f);
        return 1;
    default:
        return 0;
    }
}

int ow_mb_read(const ow_mb_image_t *img, int addr, int count, uint16_t *out)
{
    /* The whole map range, gaps included: no encoder writes a gap, so it
     * reads the 0 of ow_mb_image_init (see the decision at the top). */
    if (count < 0 || addr < OW_MB_FIRST || addr + count - 1 > OW_MB_LAST) return 2;
    memcpy(out, &img->r[addr - OW_MB_FIRST], (size_t)count * sizeof *out);
    return 0;
}

/* The "register" column: how the value is made, from the row. */
static void doc_encoding(FILE *out, const ow_mb_reg_t *r)
{
    ow_mb_scale_t def;
    ow_mb_scale_default(&def);
    switch (r->enc) {
    case OW_MB_ENC_RESERVED:
        fprintf(out, "0");
        break;
    case OW_MB_ENC_NSTRINGS:
        fprintf(out, "strings configured for the gateway");
        break;
    case OW_MB_ENC_NMODULES:
        fprintf(out, "modules configured for the gateway");
        break;
    case OW_MB_ENC_VALUE:
        if (r->scale_key) {
            double d;
            memcpy(&d, (const char *)&def + r->scale_off, sizeof d);
            fprintf(out, "round(x * `scale.%s`), default %g", r->scale_key, d);
        } else if (r->scale == 1 && r->bias == 0) {
            fprintf(out, "round(x)");
        } else {
            fprintf(out, "round(x * %g", r->scale);
            if (r->bias != 0) fprintf(out, " + %g", r->bias);
            fprintf(out, ")");
        }
        if (r->no_reading) fprintf(out, "; 0x%04X (-32768) without a value", OW_MB_NO_READING);
        break;
    case OW_MB_ENC_WORD:
        fprintf(out, "alarmd's flag word");
        break;
    case OW_MB_ENC_ALARM:
        fprintf(out,
                "alarmd's module flags, but Communication lost (0x%04X) is set until read "
                "and from the first poll not answered, cleared at an answer",
                GBMS_AL_COMMUNICATION_LOST);
        break;
    case OW_MB_ENC_BIT:
        fprintf(out, "1 or 0");
        break;
    }
}

/* One line per register of each section's first item, in address order. */
static int doc_registers(FILE *out)
{
    fprintf(out, "\n## Registers\n\n"
                 "Generated from the register rows in `services/modbusd/regmap.c`, the rows the "
                 "encoders walk to fill the image. *register* is the address for the section's "
                 "first item, *name* the guide's name for it; item n's register is that plus "
                 "stride x (n - first item). x is the ohmwatch value in the unit shown; "
                 "values clamp to the type's 16-bit range. A module's TEMP, VOLT, IMPC and "
                 "equalizing read 0x8000 (-32768) when it has no value (below, *No reading*); "
                 "a reading clamps to -32767..32767.\n\n"
                 "| register | section | offset | name | unit | guide | value | type |\n"
                 "|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < ow_mb_nsections; i++) {
        const ow_mb_section_t *s = &ow_mb_sections[i];
        for (int off = 0; off < s->stride; off++) {
            int item;
            const ow_mb_reg_t *r = ow_mb_at(s->first + off, &item, NULL);
            if (!r) return -1; /* a hole in a block: the test finds it first */
            char name[48];
            ow_mb_reg_name(r, item, name, sizeof name);
            fprintf(out, "| %d | %s | +%d of %d | %s | %s | %s | ", s->first + off, s->name, off,
                    s->stride, name, r->unit, r->meaning);
            doc_encoding(out, r);
            fprintf(out, " | %s |\n",
                    r->enc == OW_MB_ENC_RESERVED ? "-"
                    : r->is_signed               ? "signed"
                                                 : "unsigned");
        }
    }
    return 0;
}

int ow_mb_doc(FILE *out)
{
    fprintf(out, "# Modbus register map\n\n"
                 "Generated by `ohmwatch-modbusd --doc` from the table in "
                 "`services/modbusd/regmap.c`; do not edit.\n\n"
                 "The G.BMS webmanager's read registers, served unchanged over Modbus TCP "
                 "(function codes 03 and 04 read the same map). Each gateway answers under its "
                 "own unit id (default: its index in the site file + 1).\n\n"
                 "| first | last | section | layout |\n|---|---|---|---|\n");
    for (int i = 0; i < ow_mb_nsections; i++)
        fprintf(out, "| %d | %d | %s | %s |\n", ow_mb_sections[i].first,
                ow_mb_section_last(&ow_mb_sections[i]), ow_mb_sections[i].name,
                ow_mb_sections[i].what);
    if (doc_registers(out) < 0) return -1;
    fprintf(out, "\n## Decisions\n\n"
                 "- **Last module is 512.** The guide labels the secondary module section "
                 "331-520, but its own addresses end at 3645-3649 for the last module and "
                 "GX_R_AUX starts at 3650: 2740 + 181*5 = 3645 holds modules 331..512 exactly, "
                 "the webmanager's 512-module maximum. \"520\" is a typo.\n"
                 "- **String scales** (the guide gives none): current 0.1 A, sum voltage 0.1 V, "
                 "average voltage 1 mV, AC current 0.1 A, signed. Configurable in "
                 "`services.modbusd.scale` (`string_current`, `string_sum_v`, `string_avg_v`, "
                 "`string_ac`: register = round(value * scale)).\n"
                 "- **Clamping:** every value clamps to its 16-bit range (signed -32768..32767, "
                 "unsigned 0..65535); a module's values to -32767..32767. An unmeasured string "
                 "value reads 0; unconfigured modules and never-read strings read 0.\n"
                 "- **No reading:** a configured module without a value (not read yet, not "
                 "answering, or that value not measured) reads 0x8000 (-32768) in TEMP, VOLT, "
                 "IMPC and equalizing, never 0: TEMP 0 would decode as -39 degC by the guide's "
                 "(x - 78) / 2 and trip a master's low-temperature alarm. The guide calls the "
                 "four signed 16-bit and names no \"not available\" value; 0x8000 is the usual "
                 "one for a signed 16-bit register (SunSpec's int16 \"not implemented\"). So "
                 "they are signed, as the guide says, and no reading encodes to 0x8000. SNMP "
                 "serves the same case as -2147483648 (docs/snmp.md); the history stores NULL "
                 "(services/historian: a null value is NULL in module_readings, the status "
                 "column keeps the no-answer bit 0x0001).\n"
                 "- **Communication lost** (0x0002) in a module's ALARM register follows busd's "
                 "latest reading of the module: set until it is first read and from the first "
                 "poll it does not answer, cleared at its first answer. The other bits are "
                 "alarmd's module flags; alarmd raises bacsAlarmSystemError, with its own "
                 "Communication lost, only after `comm_lost_polls` missed polls, so its word "
                 "does not clear the bit meanwhile.\n"
                 "- **A gateway gone quiet:** when its busd publishes nothing for three poll "
                 "periods (3 s at least: busd killed, hung or cut off; lib/ow_quiet.h, the rule "
                 "by which alarmd raises the gateway's Communication lost), every configured "
                 "module reads as not answering (0x8000, Communication lost) and every string "
                 "value as unmeasured (0), never the last values heard; the flag words stay "
                 "alarmd's, and readings are served again as they come.\n"
                 "- **Exceptions:** any function code other than 03/04: 01 illegal function; "
                 "a register of the request outside 1000-3681: 02 illegal data address; "
                 "reserved registers inside that range read 0, the fifth of a block and the gap "
                 "1005-1009 alike, so that a master reading a block such as 1000-1059 in one "
                 "request gets it whole; count 0 or above 125: 03 illegal "
                 "data value; unknown unit id: 0B gateway target device failed to respond.\n"
                 "- **No settings registers:** the guide's map is read registers only, so the "
                 "impedance interval and the temperature unit (bacsImpcPollRate, "
                 "bacsTemperatureUnit) are set through SNMP or `ohmwatch thresholds set` "
                 "(alarmd's runtime settings `impedance_poll_min`, `temperature_unit`), and "
                 "TEMP stays the guide's (x - 78) / 2 degC whatever the unit: a master decodes "
                 "it as the guide says.\n"
                 "- **Dashboard values:** the webmanager's Target Voltage is the string's "
                 "average voltage (BACS_StrAvgVolt, the average block voltage the equalizers "
                 "aim at, proto/README.md). Its Real Power, Ripple Voltage, Discharge Counter, "
                 "Equalizing paused and info panel have no register in the guide's map, so "
                 "none is served (no register invented): `ohmwatch status` shows them.\n"
                 "\n## A master can always reach it\n\n"
                 "- **Slots.** When all `max_clients` slots are taken, the address holding the "
                 "most slots gives up its longest-idle connection to the newcomer (a newcomer "
                 "counts towards its own address, ties go to the longest idle). If that "
                 "address is the newcomer's own and holds more than one slot, the newcomer is "
                 "refused instead. So connections flooding from one address only ever displace "
                 "each other, and the configured master gets a slot every time it reconnects. "
                 "Reclaims and refusals are counted and logged (at most one line a second "
                 "each).\n"
                 "- **Allow-list.** The shipped site files name loopback and a placeholder "
                 "SCADA subnet, `192.0.2.0/24` (TEST-NET-1, which routes nowhere: replace it "
                 "with your master's address or subnet); the compose files add "
                 "`172.16.0.0/12`, Docker's default range for bridge networks, because a "
                 "connection to a published port arrives from the network's gateway. Narrow it "
                 "to your compose network's subnet (`docker network inspect`) if you can.\n"
                 "- **RTU line loss.** A read error, hang-up, end of file, or the device path "
                 "gone or naming another device is a loss: logged once with the reason, "
                 "counted, the line closed and reopened after 0.5 s, doubling to 30 s while "
                 "it fails (back to 0.5 s for a line that stayed up a minute). Nothing polls "
                 "the line meanwhile; bytes that waited in it are discarded on reopening. A "
                 "device missing at start is retried the same way.\n"
                 "- **Flag words after alarmd restarts.** alarmd's snapshot fills the image "
                 "before the port opens; it is asked for again when alarmd's publisher epoch "
                 "changes (a restart) and every 10 s, on a thread of its own, so a request "
                 "never waits for alarmd.\n");
    return ferror(out) ? -1 : 0;
}
