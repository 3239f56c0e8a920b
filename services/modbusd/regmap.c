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
 * - Values clamp to the 16-bit range; an unmeasured value (NAN) reads 0.
 * - Never-read modules and strings read 0; a configured module that has not
 *   answered yet carries GBMS_AL_COMMUNICATION_LOST in its ALARM register so
 *   a master cannot mistake "not read" for "0 V, no alarm". */
#include "regmap.h"

#include <math.h>
#include <string.h>

#include "ow_gbms.h"

const ow_mb_section_t ow_mb_sections[] = {
    {1000, 1004, "general",
     "1000 General Status Flags, 1001 Battery Status Flags, 1002 Alarm Flags, "
     "1003 number of strings, 1004 number of modules (unsigned)"},
    {1010, 1059, "strings 1-10",
     "1010+5*(s-1): +0 current (0.1 A), +1 sum voltage (0.1 V), +2 average voltage "
     "(1 mV), +3 AC current (0.1 A), +4 reserved (0); signed"},
    {1060, 2709, "modules 1-330",
     "1060+5*(m-1): +0 TEMP (2*T+78, T in degC), +1 VOLT (mV), +2 IMPC (0.01 mOhm), "
     "+3 ALARM (Alarm Flags), +4 equalizing (%, signed)"},
    {2710, 2739, "strings 11-16",
     "2710+5*(s-11): +0 current (0.1 A), +3 AC current (0.1 A), +1 +2 +4 reserved (0); "
     "signed"},
    {2740, 3649, "modules 331-512",
     "2740+5*(m-331), same layout as modules 1-330; the guide's label says 331-520, its "
     "addresses end at 3649 = module 512"},
    {3650, 3665, "GX_R_AUX inputs", "3650+4*(u-1)+(i-1): input i of unit u, 1 in alarm, 0 not"},
    {3666, 3681, "GX_R_AUX outputs", "3666+4*(u-1)+(o-1): output o of unit u, 1 on, 0 off"},
};
const int ow_mb_nsections = sizeof ow_mb_sections / sizeof ow_mb_sections[0];

void ow_mb_scale_default(ow_mb_scale_t *s)
{
    s->string_current = 10;
    s->string_sum_v = 10;
    s->string_avg_v = 1000;
    s->string_ac = 10;
}

int ow_mb_mapped(int addr)
{
    for (int i = 0; i < ow_mb_nsections; i++)
        if (addr >= ow_mb_sections[i].first && addr <= ow_mb_sections[i].last) return 1;
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

int ow_mb_module_base(int m)
{
    if (m >= 1 && m <= 330) return 1060 + 5 * (m - 1);
    if (m >= 331 && m <= OW_MB_MODULES) return 2740 + 5 * (m - 331);
    return -1;
}

int ow_mb_string_base(int s)
{
    if (s >= 1 && s <= 10) return 1010 + 5 * (s - 1);
    if (s >= 11 && s <= OW_MAX_STRINGS) return 2710 + 5 * (s - 11);
    return -1;
}

static void put(ow_mb_image_t *img, int addr, uint16_t v)
{
    if (addr >= OW_MB_FIRST && addr <= OW_MB_LAST) img->r[addr - OW_MB_FIRST] = v;
}

void ow_mb_image_init(ow_mb_image_t *img, const ow_mb_scale_t *scale, int nstrings, int nmodules)
{
    memset(img->r, 0, sizeof img->r);
    img->scale = *scale;
    put(img, 1003, (uint16_t)nstrings);
    put(img, 1004, (uint16_t)nmodules);
    for (int m = 1; m <= nmodules && m <= OW_MB_MODULES; m++)
        put(img, ow_mb_module_base(m) + 3, GBMS_AL_COMMUNICATION_LOST);
}

static void apply_module(ow_mb_image_t *img, const ow_module_t *mo)
{
    int b = ow_mb_module_base(mo->module);
    if (b < 0) return;
    put(img, b + 0, ow_mb_clamp(2 * mo->temp_c + 78, 0));
    put(img, b + 1, ow_mb_clamp(mo->voltage_v * 1000, 0));
    put(img, b + 2, ow_mb_clamp(mo->impedance_mohm * 100, 0));
    /* The flags belong to alarmd's state; a reading only clears the "never
     * read" mark, and sets it again when the module did not answer. */
    uint16_t al = img->r[b + 3 - OW_MB_FIRST];
    if (mo->status & OW_MODST_NO_RESPONSE)
        al |= GBMS_AL_COMMUNICATION_LOST;
    else
        al &= (uint16_t)~GBMS_AL_COMMUNICATION_LOST;
    put(img, b + 3, al);
    put(img, b + 4, ow_mb_clamp(mo->eq_pct, 1));
}

static void apply_string(ow_mb_image_t *img, const ow_string_t *s)
{
    int b = ow_mb_string_base(s->string);
    if (b < 0) return;
    put(img, b + 0, ow_mb_clamp(s->current_a * img->scale.string_current, 1));
    put(img, b + 3, ow_mb_clamp(s->ac_current_a * img->scale.string_ac, 1));
    if (s->string <= 10) {
        put(img, b + 1, ow_mb_clamp(s->sum_voltage_v * img->scale.string_sum_v, 1));
        put(img, b + 2, ow_mb_clamp(s->avg_voltage_v * img->scale.string_avg_v, 1));
    }
}

static void apply_aux(ow_mb_image_t *img, const ow_aux_t *a)
{
    for (int i = 0; i < OW_AUX_POINTS; i++) {
        put(img, 3650 + i, (a->inputs >> i) & 1u);
        put(img, 3666 + i, (a->outputs >> i) & 1u);
    }
}

static void apply_state(ow_mb_image_t *img, const ow_state_t *st)
{
    put(img, 1000, (uint16_t)st->general);
    put(img, 1001, (uint16_t)st->battery);
    put(img, 1002, (uint16_t)st->alarm);
    for (int m = 1; m <= st->nmodules && m <= OW_MB_MODULES; m++)
        put(img, ow_mb_module_base(m) + 3, st->module_flags[m - 1]);
}

int ow_mb_apply(ow_mb_image_t *img, const ow_msg_t *m)
{
    switch (m->kind) {
    case OW_MSG_MODULE:
        apply_module(img, &m->u.module);
        return 1;
    case OW_MSG_STRING:
        apply_string(img, &m->u.string);
        return 1;
    case OW_MSG_AUX:
        apply_aux(img, &m->u.aux);
        return 1;
    case OW_MSG_STATE:
        apply_state(img, &m->u.state);
        return 1;
    default:
        return 0;
    }
}

int ow_mb_read(const ow_mb_image_t *img, int addr, int count, uint16_t *out)
{
    for (int i = 0; i < count; i++) {
        if (!ow_mb_mapped(addr + i)) return 2;
        out[i] = img->r[addr + i - OW_MB_FIRST];
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
        fprintf(out, "| %d | %d | %s | %s |\n", ow_mb_sections[i].first, ow_mb_sections[i].last,
                ow_mb_sections[i].name, ow_mb_sections[i].what);
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
                 "unsigned 0..65535). An unmeasured value reads 0.\n"
                 "- **Not read yet:** unconfigured or never-read modules and strings read 0; a "
                 "configured module not read yet (or not answering) has Communication lost "
                 "(0x0002) in its ALARM register.\n"
                 "- **Exceptions:** any function code other than 03/04: 01 illegal function; "
                 "a register of the request outside the sections above: 02 illegal data address "
                 "(reserved registers inside a section read 0); count 0 or above 125: 03 illegal "
                 "data value; unknown unit id: 0B gateway target device failed to respond.\n"
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
