/* The site loader: the key tables of the gateways, the site, alarmd and
 * security (rows of the schema engine, ow_schema.h), the defaults the
 * battery decides, and the rules across keys. The engine walks the tables
 * to read and check a site file, to change thresholds at run time and to
 * write docs/config.md, so the three cannot drift. Errors name
 * FILE:LINE:COL and the full key path (positions from ow_jpos). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ow_config.h"
#include "ow_num.h"
#include "ow_schema.h"

/* ---------------------------------------------------------------------------
 * Module types, from the guide's "Module Parts" table.
 *
 * bacsModuleType codes: the guide says "0 = C20, 1 = C21, 10 = C30, 20 = C40,
 * 20 = C41", which contradicts itself twice: C21 is not in the parts table
 * (the 16 V module there is C23), and C40 and C41 share 20. Decision:
 *   C20 = 0, C23 = 1 (the guide's "C21" read as C23), C30 = 10, C40 = 20,
 *   C41 = 21 (the next free code in the 20s family).
 * "C21" is still accepted as a name and means C23, so a configuration copied
 * from a webmanager that calls it C21 loads. A real C41 reporting 20 over SNMP
 * would be indistinguishable from a C40; the field drivers must use the
 * configured type, not the code, to tell them apart.
 * ------------------------------------------------------------------------- */
/* clang-format off */
const ow_module_type_t ow_module_types[] = {
    {.name = "C40", .code = 20, .nominal_v =  2.0, .v_min = 1.25, .v_max =  3.2,
     .r_min = 0.02, .r_max =  6.0, .eq_current_a = 0.9,  .part = "950-6500"},
    {.name = "C41", .code = 21, .nominal_v =  4.0, .v_min = 2.4,  .v_max =  5.0,
     .r_min = 0.5,  .r_max = 30.0, .eq_current_a = 0.3,  .part = "950-6501"},
    {.name = "C30", .code = 10, .nominal_v =  6.0, .v_min = 4.8,  .v_max =  8.0,
     .r_min = 0.5,  .r_max = 60.0, .eq_current_a = 0.3,  .part = "950-6502"},
    {.name = "C20", .code = 0,  .nominal_v = 12.0, .v_min = 9.7,  .v_max = 17.0,
     .r_min = 0.5,  .r_max = 60.0, .eq_current_a = 0.15, .part = "950-6503"},
    {.name = "C23", .code = 1,  .nominal_v = 16.0, .v_min = 9.7,  .v_max = 21.0,
     .r_min = 0.5,  .r_max = 60.0, .eq_current_a = 0.12, .part = "950-6504"},
};
/* clang-format on */
const size_t ow_module_types_count = sizeof(ow_module_types) / sizeof(ow_module_types[0]);

static const struct {
    const char *alias, *name;
} module_aliases[] = {
    {.alias = "C21", .name = "C23"},
};

const ow_module_type_t *ow_module_type_find(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof(module_aliases) / sizeof(module_aliases[0]); i++)
        if (strcasecmp(name, module_aliases[i].alias) == 0) name = module_aliases[i].name;
    for (size_t i = 0; i < ow_module_types_count; i++)
        if (strcasecmp(name, ow_module_types[i].name) == 0) return &ow_module_types[i];
    return NULL;
}

/* ---------------------------------------------------------------------------
 * The schema.
 * ------------------------------------------------------------------------- */

/* The gateway table's own flags (the engine's are OW_KEY_*). A default that
 * follows from other keys (.derive: the battery) is read in the second pass,
 * with the gateway holding what the first one read; F_LATE in the third. */
#define F_NOM         (OW_KEY_OWNER << 0) /* built-in default x module type nominal_v / 12 */
#define F_C10         (OW_KEY_OWNER << 1) /* built-in default x battery.capacity_ah */
#define F_NO_DEFAULTS (OW_KEY_OWNER << 2) /* may not appear in "defaults" */
#define F_LATE        (OW_KEY_OWNER << 3) /* derived from derived keys or the strings */
#define F_RUNTIME     (OW_KEY_OWNER << 4) /* a runtime setting besides thresholds.* */

/* The schema tables read better with one entry packed per key than one field
 * a line, so clang-format leaves them alone. */
/* clang-format off */
#define AT(T, m) OW_AT(T, m)
#define GW(m)    AT(ow_gateway_cfg_t, m)

/* The module type's names for the documentation, in the parts table's
 * order (a static assertion checks the count). */
static const char *const module_type_names[] = {"C40", "C41", "C30", "C20", "C23", NULL};
_Static_assert(sizeof module_type_names / sizeof module_type_names[0] ==
                   sizeof ow_module_types / sizeof ow_module_types[0] + 1,
               "module_type_names lists every module type");

static int module_type_parse(ow_schema_ctx_t *c, const ow_key_t *k, json_t *v, const char *jp,
                             void *base)
{
    if (!json_is_string(v)) return ow_schema_fail(c, jp, "expected a string");
    const ow_module_type_t *t = ow_module_type_find(json_string_value(v));
    if (!t || strlen(json_string_value(v)) != json_string_length(v)) {
        char list[128];
        size_t used = 0;
        for (size_t i = 0; i < ow_module_types_count && used < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                     ow_module_types[i].name);
        return ow_schema_fail(c, jp, "unknown module type \"%s\" (one of %s)",
                              json_string_value(v), list);
    }
    *(const ow_module_type_t **)((char *)base + k->off) = t;
    return 0;
}

static int module_type_fill(ow_schema_ctx_t *c, const ow_key_t *k, const char *jp, void *base)
{
    (void)c, (void)jp;
    *(const ow_module_type_t **)((char *)base + k->off) = ow_module_type_find(k->sdef);
    return 0;
}

static const char *const sources[] = {"sim", "modbus-tcp", "modbus-rtu", NULL};
static const char *const parities[] = {"N", "E", "O", NULL};
static const char *const chemistries[] = {"vrla", "flooded", NULL};
/* bacsTemperatureUnit's order: celsius(0), fahrenheit(1). */
static const char *const temp_units[] = {"C", "F", NULL};

/* Defaults the battery decides (docs/battery.md, "Defaults"). */
static const char *chemistry_of(const ow_key_t *k, const void *base)
{
    const ow_gateway_cfg_t *g = base;
    (void)k;
    return ow_chemistry_default(g->module_type->nominal_v);
}

static const ow_chemistry_t *chem_of(const ow_gateway_cfg_t *g)
{
    const ow_chemistry_t *c = ow_chemistry_find(g->battery.chemistry);
    return c ? c : &ow_chemistries[0];
}

const ow_chemistry_t *ow_gateway_chemistry(const ow_gateway_cfg_t *g)
{
    if (g && g->battery.chem) return g->battery.chem;
    return g ? chem_of(g) : &ow_chemistries[0];
}

static int cells_of(const ow_gateway_cfg_t *g)
{
    int n = (int)(g->module_type->nominal_v / 2 + 0.5);
    return n < 1 ? 1 : n;
}

static double block_mohm_of(const ow_key_t *k, const void *base)
{
    const ow_gateway_cfg_t *g = base;
    (void)k;
    return ow_chemistry_block_mohm(chem_of(g), cells_of(g), g->battery.capacity_ah);
}

static double float_v_of(const ow_key_t *k, const void *base)
{
    const ow_gateway_cfg_t *g = base;
    (void)k;
    return chem_of(g)->float_v;
}

/* Block voltage levels per 2 V cell, by chemistry; a block gets them x its
 * cells. Chosen so that a healthy battery on float, on charge (a recharge at
 * the charger's current limit ends at the float voltage; a flooded battery's
 * equalize charge reaches 2.33-2.40 V/cell) or at the start of a C10
 * discharge raises nothing, while the end of a C10 discharge (1.75 V/cell)
 * passes both low levels. docs/battery.md gives the reasoning. */
static const struct cell_levels {
    const char *chem;
    double low_alarm, low_warn, high_warn, high_alarm;
    double eq_min, eq_max; /* equalizing range */
} cell_levels[] = {
    /* The guide's 12 V VRLA values, per cell: low alarm near the open circuit
     * of a discharged cell, low warning at about half charge, high warning
     * 0.05 V above the float band (2.25-2.30), high alarm a charger fault. */
    {.chem = "vrla", .low_alarm = 12.00 / 6, .low_warn = 12.40 / 6, .high_warn = 14.10 / 6,
     .high_alarm = 15.50 / 6, .eq_min = 12.495 / 6, .eq_max = 14.70 / 6},
    /* Flooded lead-calcium (1.215): the low levels keep VRLA's distance below
     * the full-charge open circuit (2.06 instead of 2.15 V, IEEE 450:
     * SG + 0.845), so they mean the same state of charge; the high warning
     * sits at the top of the equalize charge (IEEE 450: 2.33 V typical, 2.40
     * the usual ceiling), the alarm where a cell gasses hard; the equalizing
     * range keeps VRLA's margins below the open circuit and above the
     * highest charge voltage. */
    {.chem = "flooded", .low_alarm = 1.91, .low_warn = 1.98, .high_warn = 2.40,
     .high_alarm = 2.50, .eq_min = 1.99, .eq_max = 2.45},
};

static const struct cell_levels *levels_of(const ow_gateway_cfg_t *g)
{
    const char *name = chem_of(g)->name;
    for (size_t i = 0; i < sizeof cell_levels / sizeof cell_levels[0]; i++)
        if (strcmp(cell_levels[i].chem, name) == 0) return &cell_levels[i];
    return &cell_levels[0];
}

/* To 0.1 mV: 6 x (12.40 / 6) is then the guide's 12.40 exactly. */
static double tenth_mv(double v)
{
    return round(v * 1e4) / 1e4;
}

#define CELL_LEVEL(f)                                                                              \
    static double block_##f##_of(const ow_key_t *k, const void *base) \
    { \
        const ow_gateway_cfg_t *g = base; \
        (void)k; \
        return tenth_mv(levels_of(g)->f * cells_of(g));                                            \
    }
CELL_LEVEL(low_alarm)
CELL_LEVEL(low_warn)
CELL_LEVEL(high_warn)
CELL_LEVEL(high_alarm)
CELL_LEVEL(eq_min)
CELL_LEVEL(eq_max)

/* Impedance levels as multiples of the nominal (battery.impedance_mohm).
 * The rise of one block against its own baseline (IEEE 1188: +20 % warn,
 * +50 % act) is thresholds.baseline_*_pct; these absolute levels are the
 * backstop for a block without a baseline yet, so they are wider: a healthy
 * block reads up to 1.5x its full-charge impedance when measured just after
 * a deep discharge (and a few % more for spread and age), so the warning is
 * at 2x and the alarm at 3x (a block that far above a new one has lost most
 * of its capacity or has a bad connection); below, 0.7x and 0.5x (no healthy
 * block reads that low, even warm: a shorted cell, a measuring lead across
 * the wrong posts, battery data that is wrong). Inside the module type's
 * measuring range when the nominal is (a level beyond the range is never
 * measured); a nominal outside it keeps the plain multiples, and -n warns
 * that the module cannot measure this battery. */
static double impedance_level(const ow_gateway_cfg_t *g, double factor)
{
    double z = g->battery.impedance_mohm, lo = g->module_type->r_min, hi = g->module_type->r_max;
    if (z < lo || z > hi) return z * factor;
    return fmin(fmax(z * factor, lo), hi);
}

#define IMPEDANCE_LEVEL(f, factor)                                                                 \
    static double impedance_##f##_of(const ow_key_t *k, const void *base) \
    { \
        const ow_gateway_cfg_t *g = base; \
        (void)k; \
        return impedance_level(g, factor);                                                         \
    }
IMPEDANCE_LEVEL(low_alarm, 0.5)
IMPEDANCE_LEVEL(low_warn, 0.7)
IMPEDANCE_LEVEL(high_warn, 2.0)
IMPEDANCE_LEVEL(high_alarm, 3.0)

/* An eighth of the nominal, at most the guide's 0.5 mOhm (which is more than
 * the whole alarm band of a 0.24 mOhm flooded cell). */
static double impedance_hysteresis_of(const ow_key_t *k, const void *base)
{
    const ow_gateway_cfg_t *g = base;
    (void)k;
    return fmin(0.5, g->battery.impedance_mohm / 8);
}

/* String voltage levels: the block levels x the blocks in the string (the
 * keys go to 20000 V, so that 520 blocks of 16 V at their high alarm stay in
 * range and a derived level is never clamped into disorder). The thresholds
 * are the gateway's, one set for all its strings; when the strings differ in
 * length the low levels follow the shortest and the high levels the longest,
 * so that no healthy string is judged against another's length (the block
 * levels still judge every block; -n warns). F_LATE: after the strings. */
static int string_blocks(const ow_gateway_cfg_t *g, int longest)
{
    int n = g->nstrings > 0 ? g->strings[0].modules : 1;
    for (int i = 1; i < g->nstrings; i++)
        if (longest ? g->strings[i].modules > n : g->strings[i].modules < n)
            n = g->strings[i].modules;
    return n;
}

#define STRING_LEVEL(f, longest)                                                                   \
    static double string_##f##_of(const ow_key_t *k, const void *base) \
    { \
        const ow_gateway_cfg_t *g = base; \
        (void)k; \
        return tenth_mv(g->thr.voltage_v.f * string_blocks(g, longest));                           \
    }
STRING_LEVEL(low_alarm, 0)
STRING_LEVEL(low_warn, 0)
STRING_LEVEL(high_warn, 1)
STRING_LEVEL(high_alarm, 1)

int ow_gateway_cells(const ow_gateway_cfg_t *g)
{
    return g && g->module_type ? cells_of(g) : 6;
}

/* A fixed default, or one scaled by the module type or the capacity. */
static double scaled(const ow_key_t *k, const void *base)
{
    const ow_gateway_cfg_t *g = base;
    double d = k->def;
    if (k->flags & F_NOM) d *= g->module_type->nominal_v / 12.0;
    if (k->flags & F_C10) d *= g->battery.capacity_ah;
    return d;
}
#define FIXED  .flags = 0
#define BY_NOM .flags = F_NOM, .derive = scaled, .def_suffix = " x nominal_v/12"
#define BY_C10 .flags = F_C10, .derive = scaled, .def_suffix = " x capacity_ah"

/* One quantity with four levels, a hysteresis and a delay; sc is FIXED,
 * BY_NOM or BY_C10. */
#define LIM(q, lvl, lo, hi, d, sc, text)                                                           \
    {.key = "thresholds." #q "." #lvl, .type = OW_KEY_DOUBLE, GW(thr.q.lvl), .min = lo,            \
     .max = hi, .def = d, sc, .doc = text}
/* The same with a default the battery decides (fn) and documented as dd. */
#define LIMD(q, lvl, lo, hi, fn, fl, dd, text)                                                     \
    {.key = "thresholds." #q "." #lvl, .type = OW_KEY_DOUBLE, GW(thr.q.lvl), .min = lo,            \
     .max = hi, .derive = fn, .flags = fl, .ddoc = dd, .doc = text}

/* Block voltage defaults follow the cells and the chemistry (cell_levels);
 * a 12 V VRLA block gets the guide's example values (bacsSettings). The
 * guide's example has low warning = low alarm = 12.00 V, which makes the
 * warning useless (it could never come first); we keep the alarm at 12.00 V
 * and put the warning at 12.40 V, i.e. about 2.07 V/cell, below any float
 * voltage. String voltage defaults are the block levels x the string's
 * blocks (the guide's 105/110/125/135 V fit its 9 x 12 V strings only).
 * String current defaults follow the capacity: warnings at 0.2 C10 charging
 * and 1 C10 discharging, alarms at 0.3 C10 and 2 C10 (a VRLA charger limits
 * near 0.1 C10, so a higher charge current means a fault; a discharge above
 * 2 C10 empties the battery within minutes). */
static const ow_key_t gw_keys[] = {
    {.key = "id", .type = OW_KEY_STRING, GW(id),
     .flags = OW_KEY_REQUIRED | OW_KEY_ID | F_NO_DEFAULTS,
     .doc = "Gateway (webmanager) id, unique in the site; names topics and publishers."},
    {.key = "name", .type = OW_KEY_STRING, GW(name), .ddoc = "the id",
     .doc = "Human name shown in dashboards."},
    {.key = "source", .type = OW_KEY_ENUM, GW(source), .sdef = "sim", .choices = sources,
     .doc = "Where readings come from: `sim` is the built-in simulator; `modbus-tcp` and "
            "`modbus-rtu` poll a field device (a G.BMS/BACS webmanager or another monitor) "
            "described by `modbus.map`."},
    {.key = "publish", .type = OW_KEY_STRING, GW(publish),
     .flags = OW_KEY_REQUIRED | OW_KEY_ENDPOINT,
     .doc = "ZMQ endpoint busd binds to publish readings; distinct across the site."},
    {.key = "replay", .type = OW_KEY_STRING, GW(replay), .flags = OW_KEY_REQUIRED | OW_KEY_ENDPOINT,
     .doc = "ZMQ endpoint busd binds to answer replay requests; distinct across the site."},
    {.key = "connect_host", .type = OW_KEY_STRING, GW(connect_host),
     .flags = OW_KEY_HOST | F_NO_DEFAULTS,
     .ddoc = "the endpoints' host; `*`, `0.0.0.0`: 127.0.0.1",
     .doc = "Host the other services connect to for `publish` and `replay` (tcp:// only), "
            "when busd binds a wildcard or runs elsewhere, e.g. its compose service name."},
    {.key = "poll_ms", .type = OW_KEY_INT, GW(poll_ms), .min = 100, .max = 3600000, .def = 1000,
     .doc = "Bus poll period, ms."},
    {.key = "log_rate_s", .type = OW_KEY_INT, GW(log_rate_s), .min = 1, .max = 86400, .def = 1200,
     .doc = "History period in normal operation, s (bacsLogRate1)."},
    {.key = "log_rate_charge_s", .type = OW_KEY_INT, GW(log_rate_charge_s), .min = 0, .max = 86400,
     .def = 0, .doc = "History period during charge or discharge, s; 0 = every reading "
                      "(bacsLogRate2)."},
    {.key = "impedance_poll_min", .type = OW_KEY_INT, GW(impedance_poll_min), .min = 1,
     .max = 44640, .def = 720, .flags = F_RUNTIME,
     .doc = "Period between impedance measurements, min (bacsImpcPollRate; the guide's "
            "example 720). A runtime setting: busd's simulator measures at the value alarmd "
            "holds; a field device measures on its own schedule."},
    {.key = "temperature_unit", .type = OW_KEY_ENUM, GW(temperature_unit), .sdef = "C",
     .choices = temp_units, .flags = F_RUNTIME,
     .doc = "Unit temperatures are shown and served in: `C` Celsius, `F` Fahrenheit "
            "(bacsTemperatureUnit 0 / 1, the order of the choices). A runtime setting, set "
            "as 0 or 1; stored and judged in degC whatever it says."},
    {.key = "journal_messages", .type = OW_KEY_INT, GW(journal_messages), .min = 1000,
     .max = 10000000, .def = 200000, .doc = "Messages busd keeps for replay."},
    {.key = "module_type", .type = OW_KEY_CUSTOM, GW(module_type), .sdef = "C20",
     .parse = module_type_parse, .fill = module_type_fill, .choices = module_type_names,
     .type_doc = "enum",
     .doc = "BACS module type (see the module types table); `C21` means C23."},
    {.key = "current_sensor", .type = OW_KEY_BOOL, GW(current_sensor), .def = 1,
     .doc = "String current sensors are fitted."},
    {.key = "aux_units", .type = OW_KEY_INT, GW(aux_units), .min = 0, .max = 4, .def = 1,
     .doc = "GX_R_AUX units fitted (4 inputs and 4 outputs each)."},
    {.key = "ambient_sensor", .type = OW_KEY_BOOL, GW(ambient_sensor), .def = 1,
     .doc = "Stand-alone temperature/humidity sensor is fitted."},
    {.key = "hydrogen_sensor", .type = OW_KEY_BOOL, GW(hydrogen_sensor), .def = 0,
     .doc = "Hydrogen sensor is fitted."},

    {.key = "battery.manufacturer", .type = OW_KEY_STRING, GW(battery.manufacturer),
     .doc = "Battery manufacturer."},
    {.key = "battery.type", .type = OW_KEY_STRING, GW(battery.type), .doc = "Battery type."},
    {.key = "battery.capacity_ah", .type = OW_KEY_DOUBLE, GW(battery.capacity_ah), .min = 1,
     .max = 20000, .def = 100, .doc = "Capacity C10, Ah; scales the current defaults."},
    {.key = "battery.installed", .type = OW_KEY_DATE, GW(battery.installed), .ddoc = "none",
     .doc = "Installation date, YYYY-MM-DD (UTC midnight)."},
    {.key = "battery.location", .type = OW_KEY_STRING, GW(battery.location),
     .doc = "Where the battery stands."},
    /* The webmanager dashboard's Contact info (ohmwatch status shows it). */
    {.key = "contact.person", .type = OW_KEY_STRING, GW(contact.person), .ddoc = "none",
     .doc = "Who to call about this battery (the dashboard's Contact Person)."},
    {.key = "contact.phone", .type = OW_KEY_STRING, GW(contact.phone), .ddoc = "none",
     .doc = "Their phone number (the dashboard's Phone Number), as it should be dialled."},
    {.key = "battery.chemistry", .type = OW_KEY_ENUM, GW(battery.chemistry), .choices = chemistries,
     .sderive = chemistry_of, .ddoc = "`flooded` for C40 modules (2 V cells), else `vrla`",
     .doc = "Cell chemistry (docs/battery.md): float voltage and band, float current, "
            "typical impedance."},
    {.key = "battery.impedance_mohm", .type = OW_KEY_DOUBLE, GW(battery.impedance_mohm),
     .min = 0.01,
     .max = 1000, .derive = block_mohm_of,
     .ddoc = "the chemistry's mOhm*Ah per cell x cells / capacity_ah",
     .doc = "Typical impedance of a new block, mOhm (simulator, baselines): 38.3 mOhm*Ah per "
            "VRLA cell (4.6 mOhm for 12 V 50 Ah), 240 per flooded cell (0.24 mOhm for "
            "2 V 1000 Ah)."},

    LIMD(voltage_v, low_alarm, 0, 100, block_low_alarm_of, 0,
         "per cell x cells: VRLA 2.00 (12 V: 12.00), flooded 1.91",
         "Block voltage low alarm, V."),
    LIMD(voltage_v, low_warn, 0, 100, block_low_warn_of, 0,
         "per cell x cells: VRLA 2.067 (12 V: 12.40), flooded 1.98",
         "Block voltage low warning, V (the guide's example equals the alarm; see the notes)."),
    LIMD(voltage_v, high_warn, 0, 100, block_high_warn_of, 0,
         "per cell x cells: VRLA 2.35 (12 V: 14.10), flooded 2.40",
         "Block voltage high warning, V."),
    LIMD(voltage_v, high_alarm, 0, 100, block_high_alarm_of, 0,
         "per cell x cells: VRLA 2.583 (12 V: 15.50), flooded 2.50",
         "Block voltage high alarm, V."),
    LIM(voltage_v, hysteresis, 0, 10, 0.05, BY_NOM, "Block voltage hysteresis, V."),
    LIM(voltage_v, delay_s, 0, 86400, 10, FIXED,
        "Block voltage must stay beyond a level this long before it is raised, s."),

    LIM(temp_c, low_alarm, -50, 150, 5, FIXED, "Block temperature low alarm, degC."),
    LIM(temp_c, low_warn, -50, 150, 10, FIXED, "Block temperature low warning, degC."),
    LIM(temp_c, high_warn, -50, 150, 30, FIXED, "Block temperature high warning, degC."),
    LIM(temp_c, high_alarm, -50, 150, 35, FIXED, "Block temperature high alarm, degC."),
    LIM(temp_c, hysteresis, 0, 20, 1.0, FIXED, "Block temperature hysteresis, degC."),
    LIM(temp_c, delay_s, 0, 86400, 0, FIXED, "Block temperature delay, s."),

    LIMD(impedance_mohm, low_alarm, 0, 1000, impedance_low_alarm_of, F_LATE,
         "0.5 x battery.impedance_mohm, in the module's range",
         "Block impedance low alarm, mOhm."),
    LIMD(impedance_mohm, low_warn, 0, 1000, impedance_low_warn_of, F_LATE,
         "0.7 x battery.impedance_mohm, in the module's range",
         "Block impedance low warning, mOhm."),
    LIMD(impedance_mohm, high_warn, 0, 1000, impedance_high_warn_of, F_LATE,
         "2 x battery.impedance_mohm, in the module's range",
         "Block impedance high warning, mOhm."),
    LIMD(impedance_mohm, high_alarm, 0, 1000, impedance_high_alarm_of, F_LATE,
         "3 x battery.impedance_mohm, in the module's range",
         "Block impedance high alarm, mOhm."),
    LIMD(impedance_mohm, hysteresis, 0, 100, impedance_hysteresis_of, F_LATE,
         "battery.impedance_mohm / 8, at most 0.5",
         "Block impedance hysteresis, mOhm."),
    LIM(impedance_mohm, delay_s, 0, 86400, 0, FIXED, "Block impedance delay, s."),

    LIMD(string_voltage_v, low_alarm, 0, 20000, string_low_alarm_of, F_LATE,
         "`voltage_v.low_alarm` x blocks of the shortest string",
         "String voltage low alarm, V."),
    LIMD(string_voltage_v, low_warn, 0, 20000, string_low_warn_of, F_LATE,
         "`voltage_v.low_warn` x blocks of the shortest string",
         "String voltage low warning, V."),
    LIMD(string_voltage_v, high_warn, 0, 20000, string_high_warn_of, F_LATE,
         "`voltage_v.high_warn` x blocks of the longest string",
         "String voltage high warning, V."),
    LIMD(string_voltage_v, high_alarm, 0, 20000, string_high_alarm_of, F_LATE,
         "`voltage_v.high_alarm` x blocks of the longest string",
         "String voltage high alarm, V."),
    LIM(string_voltage_v, hysteresis, 0, 100, 0.5, FIXED, "String voltage hysteresis, V."),
    LIM(string_voltage_v, delay_s, 0, 86400, 0, FIXED, "String voltage delay, s."),

    LIM(string_current_a, low_alarm, -100000, 100000, -2.0, BY_C10,
        "String current low alarm, A (negative: discharging)."),
    LIM(string_current_a, low_warn, -100000, 100000, -1.0, BY_C10,
        "String current low warning, A (negative: discharging)."),
    LIM(string_current_a, high_warn, -100000, 100000, 0.2, BY_C10,
        "String current high warning, A (charging)."),
    LIM(string_current_a, high_alarm, -100000, 100000, 0.3, BY_C10,
        "String current high alarm, A (charging)."),
    LIM(string_current_a, hysteresis, 0, 1000, 1.0, FIXED, "String current hysteresis, A."),
    LIM(string_current_a, delay_s, 0, 86400, 0, FIXED, "String current delay, s."),

    {.key = "thresholds.current_deviation.discharge_alarm_a", .type = OW_KEY_DOUBLE,
     GW(thr.dev_discharge_alarm_a), .min = 0, .max = 100000, .def = 10,
     .doc = "Alarm when string discharge currents differ by more, A."},
    {.key = "thresholds.current_deviation.discharge_warn_a", .type = OW_KEY_DOUBLE,
     GW(thr.dev_discharge_warn_a), .min = 0, .max = 100000, .def = 5,
     .doc = "Warning when string discharge currents differ by more, A."},
    {.key = "thresholds.current_deviation.charge_alarm_a", .type = OW_KEY_DOUBLE,
     GW(thr.dev_charge_alarm_a), .min = 0, .max = 100000, .def = 10,
     .doc = "Alarm when string charge currents differ by more, A."},
    {.key = "thresholds.current_deviation.charge_warn_a", .type = OW_KEY_DOUBLE,
     GW(thr.dev_charge_warn_a), .min = 0, .max = 100000, .def = 5,
     .doc = "Warning when string charge currents differ by more, A."},
    {.key = "thresholds.max_voltage_diff_v", .type = OW_KEY_DOUBLE, GW(thr.max_voltage_diff_v),
     .min = 0, .max = 100, .def = 0,
     .doc = "Warning when a block differs from its string's average by more, V; 0 disables."},
    {.key = "thresholds.comm_lost_polls", .type = OW_KEY_INT, GW(thr.comm_lost_polls), .min = 1,
     .max = 1000, .def = 3, .doc = "Missed polls before a module counts as lost."},
    {.key = "thresholds.baseline_warn_pct", .type = OW_KEY_DOUBLE, GW(thr.baseline_warn_pct),
     .min = 1, .max = 1000, .def = 20,
     .doc = "Warning when impedance rises this far above its baseline, % (IEEE 1188)."},
    {.key = "thresholds.baseline_alarm_pct", .type = OW_KEY_DOUBLE, GW(thr.baseline_alarm_pct),
     .min = 1, .max = 1000, .def = 50,
     .doc = "Alarm when impedance rises this far above its baseline, %."},
    {.key = "thresholds.equalizing_min_v", .type = OW_KEY_DOUBLE, GW(thr.equalizing_min_v),
     .min = 0,
     .max = 100, .derive = block_eq_min_of,
     .ddoc = "per cell x cells: VRLA 2.0825 (12 V: 12.495), flooded 1.99",
     .doc = "Equalizing range low end per block, V (guide's dashboard: 12.495 V)."},
    {.key = "thresholds.equalizing_max_v", .type = OW_KEY_DOUBLE, GW(thr.equalizing_max_v),
     .min = 0,
     .max = 100, .derive = block_eq_max_of,
     .ddoc = "per cell x cells: 2.45 (12 V: 14.7)",
     .doc = "Equalizing range high end per block, V (guide's dashboard: 14.7 V)."},
    /* Battery state detection (alarmd's diag.c) and the hydrogen level. */
    {.key = "thresholds.discharge_detect_a", .type = OW_KEY_DOUBLE, GW(thr.discharge_detect_a),
     .min = 0.2, .max = 100000, .def = 0.01, BY_C10,
     .doc = "Battery state: a string is discharging while its current is below minus this, A "
            "(0.2 A at least: current sensor offset)."},
    {.key = "thresholds.charge_detect_a", .type = OW_KEY_DOUBLE, GW(thr.charge_detect_a),
     .min = 0.2, .max = 100000, .def = 0.02, BY_C10,
     .doc = "Battery state: a string is charging, not floating, while its current is above "
            "this, A (0.2 A at least)."},
    {.key = "thresholds.float_band_v_per_cell", .type = OW_KEY_DOUBLE,
     GW(thr.float_band_v_per_cell), .min = 0.005, .max = 0.5, .def = 0.03,
     .doc = "Battery state from voltages (no current sensor): floating while no more than "
            "this below the float voltage, V per 2 V cell."},
    /* Hydrogen in two stages, the guide's hydrogen sensor's 20 % and 40 % LEL
     * (LEL: 4 % H2 by volume). 20 % LEL is 0.8 % H2, the concentration IEC
     * 62485-2's ventilation formula designs for (4 % with its safety factor
     * 5); 1 % H2 (25 % LEL) is the room limit of the International Fire
     * Code (IFC 1206) and NFPA 1, passed between the stages (docs/battery.md). */
    {.key = "thresholds.hydrogen_warn_pct_lel", .type = OW_KEY_DOUBLE,
     GW(thr.hydrogen_warn_pct_lel), .min = 0, .max = 100, .def = 20,
     .doc = "Hydrogen warning at or above this, % of the lower explosive limit (the guide's "
            "sensor's first stage; 20 % LEL is 0.8 % H2, the design dilution of IEC 62485-2); "
            "0 disables."},
    {.key = "thresholds.hydrogen_alarm_pct_lel", .type = OW_KEY_DOUBLE,
     GW(thr.hydrogen_alarm_pct_lel), .min = 0, .max = 100, .def = 40,
     .doc = "Hydrogen alarm at or above this, % LEL (the guide's sensor's second stage; "
            "40 % LEL is 1.6 % H2, above the 1 % room limit of IFC 1206 / NFPA 1); 0 disables."},
    /* The room around the battery (the stand-alone sensor). Capacity and
     * life are rated at 25 degC (IEEE 450, IEEE 1188, IEEE 485's temperature
     * correction); VRLA service life halves about every 8-10 K above it
     * (Arrhenius; IEEE 1188 Annex, manufacturers' data), and a discharged
     * cell's electrolyte can freeze below 0 degC. The delay keeps an open
     * door or an HVAC cycle from raising: what matters is a room that stays
     * out of range (docs/battery.md). */
    LIM(ambient_c, low_alarm, -50, 100, 0, FIXED,
        "Room temperature low alarm, degC (a discharged cell's electrolyte can freeze)."),
    LIM(ambient_c, low_warn, -50, 100, 10, FIXED,
        "Room temperature low warning, degC (IEEE 485: about 84 % of rated capacity at 10 degC)."),
    LIM(ambient_c, high_warn, -50, 100, 30, FIXED,
        "Room temperature high warning, degC (VRLA life about 70 % of its 25 degC rating)."),
    LIM(ambient_c, high_alarm, -50, 100, 35, FIXED,
        "Room temperature high alarm, degC (VRLA life about half of its 25 degC rating)."),
    LIM(ambient_c, hysteresis, 0, 20, 1.0, FIXED, "Room temperature hysteresis, degC."),
    LIM(ambient_c, delay_s, 0, 86400, 300, FIXED,
        "Room temperature must stay beyond a level this long before it is raised, s."),
    /* Humidity: condensation tracks leakage paths over cell tops and corrodes
     * terminals (IEEE 450 and IEEE 1188 inspections look for both); the
     * guide's equipment is rated to 90 % RH not condensing. */
    LIM(humidity_pct, high_warn, 0, 100, 80, FIXED, "Relative humidity high warning, %RH."),
    LIM(humidity_pct, high_alarm, 0, 100, 90, FIXED,
        "Relative humidity high alarm, %RH (the guide's equipment limit, not condensing)."),
    LIM(humidity_pct, hysteresis, 0, 20, 2.0, FIXED, "Relative humidity hysteresis, %RH."),
    LIM(humidity_pct, delay_s, 0, 86400, 300, FIXED,
        "Relative humidity must stay beyond a level this long before it is raised, s."),
    /* The float rules (docs/battery.md). */
    {.key = "thresholds.loss_of_float_v_per_cell", .type = OW_KEY_DOUBLE,
     GW(thr.loss_of_float_v_per_cell), .min = 0.005, .max = 0.5, .def = 0.02,
     .doc = "Loss of float / open string: a string not charging and not discharging whose "
            "voltage is this far below the float voltage has no charger holding it, V per "
            "cell (a charger regulates float within about 0.01 V/cell)."},
    {.key = "thresholds.float_current_high_x", .type = OW_KEY_DOUBLE, GW(thr.float_current_high_x),
     .min = 1.5, .max = 100, .def = 3,
     .doc = "High float current (a runaway precursor): settled float current above this "
            "multiple of the string's learned float current (of the chemistry's typical "
            "float current until learned), 0.2 A at least."},
    {.key = "thresholds.ripple_current_a", .type = OW_KEY_DOUBLE, GW(thr.ripple_current_a),
     .min = 0,
     .max = 100000, .def = 0.05, BY_C10,
     .doc = "High ripple: AC ripple current on float or charge above this, A RMS (5 A per "
            "100 Ah C10, the VRLA makers' limit); 0 disables."},
    {.key = "thresholds.thermal_runaway.module_delta_c", .type = OW_KEY_DOUBLE,
     GW(thr.tr_module_delta_c), .min = 0, .max = 100, .def = 5,
     .doc = "Thermal runaway: hottest minus coldest block of a string above this, degC."},
    {.key = "thresholds.thermal_runaway.ambient_delta_c", .type = OW_KEY_DOUBLE,
     GW(thr.tr_ambient_delta_c), .min = 0, .max = 100, .def = 10,
     .doc = "Thermal runaway: hottest block minus ambient above this, degC."},
    {.key = "thresholds.thermal_runaway.float_current_a", .type = OW_KEY_DOUBLE,
     GW(thr.tr_float_current_a), .min = 0, .max = 100000, .def = 0.01, BY_C10,
     .doc = "Thermal runaway: float current above this, A (default 10x the typical 1 mA/Ah)."},
    {.key = "thresholds.thermal_runaway.sustain_s", .type = OW_KEY_DOUBLE, GW(thr.tr_sustain_s),
     .min = 0, .max = 86400, .def = 600, .doc = "Thermal runaway: conditions held this long, s."},
    {.key = "thresholds.thermal_runaway.breaker_output", .type = OW_KEY_INT,
     GW(thr.tr_breaker_output), .min = 0, .max = OW_AUX_POINTS, .def = 0,
     .doc = "GX_R_AUX output 4 x (unit - 1) + n that opens the battery breaker; 0 none."},
    {.key = "thresholds.common_alarm_output", .type = OW_KEY_INT, GW(thr.common_alarm_output),
     .min = 0, .max = OW_AUX_POINTS, .def = 0,
     .doc = "GX_R_AUX output wired as the webmanager's common alarm contact: on while an alarm "
            "(not a warning) is active, acknowledged or not; 0 none."},
    {.key = "thresholds.audible_alarm_output", .type = OW_KEY_INT, GW(thr.audible_alarm_output),
     .min = 0, .max = OW_AUX_POINTS, .def = 0,
     .doc = "GX_R_AUX output for a horn or buzzer: on while an alarm is not acknowledged "
            "(`ohmwatch ack`, the webmanager's mute button); 0 none."},

    {.key = "sim.seed", .type = OW_KEY_U64, GW(sim.seed), .def = 1,
     .doc = "Simulator random seed (same seed, same readings)."},
    {.key = "sim.scenario", .type = OW_KEY_STRING, GW(sim.scenario), .ddoc = "none",
     .doc = "Scenario file, relative to the site file; empty for none."},
    {.key = "sim.speed", .type = OW_KEY_DOUBLE, GW(sim.speed), .min = 0.001, .max = 100000,
     .def = 1,
     .doc = "Time acceleration; 1 = real time."},
    {.key = "sim.ambient_c", .type = OW_KEY_DOUBLE, GW(sim.ambient_c), .min = -40, .max = 80,
     .def = 25, .doc = "Simulated room temperature, degC."},
    {.key = "sim.float_v_per_cell", .type = OW_KEY_DOUBLE, GW(sim.float_v_per_cell), .min = 1.5,
     .max = 3.0, .derive = float_v_of, .ddoc = "the chemistry's: 2.27 VRLA, 2.23 flooded",
     .doc = "Simulated charger float voltage, V per 2 V cell."},
    {.key = "sim.charge_limit_c", .type = OW_KEY_DOUBLE, GW(sim.charge_limit_c), .min = 0, .max = 2,
     .def = 0.1, .doc = "Simulated charger current limit, fraction of C10."},

    {.key = "modbus.host", .type = OW_KEY_STRING, GW(modbus.host), .ddoc = "none",
     .doc = "`modbus-tcp`: the device's host name or address (required)."},
    {.key = "modbus.port", .type = OW_KEY_INT, GW(modbus.port), .min = 1, .max = 65535, .def = 502,
     .doc = "`modbus-tcp`: TCP port."},
    {.key = "modbus.unit", .type = OW_KEY_INT, GW(modbus.unit), .min = 0, .max = 255, .def = 1,
     .doc = "Unit id (slave address) the device answers to; 1-247 on a serial line."},
    {.key = "modbus.device", .type = OW_KEY_STRING, GW(modbus.device), .ddoc = "none",
     .doc = "`modbus-rtu`: serial device, e.g. `/dev/ttyUSB0` (required)."},
    {.key = "modbus.baud", .type = OW_KEY_INT, GW(modbus.baud), .min = 300, .max = 1000000,
     .def = 19200, .doc = "`modbus-rtu`: baud rate."},
    {.key = "modbus.parity", .type = OW_KEY_ENUM, GW(modbus.parity), .sdef = "N",
     .choices = parities,
     .doc = "`modbus-rtu`: parity, none, even or odd."},
    {.key = "modbus.data_bits", .type = OW_KEY_INT, GW(modbus.data_bits), .min = 7, .max = 8,
     .def = 8,
     .doc = "`modbus-rtu`: data bits."},
    {.key = "modbus.stop_bits", .type = OW_KEY_INT, GW(modbus.stop_bits), .min = 1, .max = 2,
     .def = 1,
     .doc = "`modbus-rtu`: stop bits."},
    {.key = "modbus.map", .type = OW_KEY_STRING, GW(modbus.map), .sdef = "gbms",
     .doc = "Register map: `gbms` is the built-in G.BMS/BACS map (`etc/maps/gbms.json`), "
            "anything else a map file relative to the site file (`docs/maps.md`)."},
    {.key = "modbus.timeout_ms", .type = OW_KEY_INT, GW(modbus.timeout_ms), .min = 10, .max = 60000,
     .def = 1000, .doc = "How long one request may take to be answered, ms."},
    {.key = "modbus.retries", .type = OW_KEY_INT, GW(modbus.retries), .min = 0, .max = 10, .def = 1,
     .doc = "Attempts after the first when a request times out or is garbled (not after an "
            "exception response: the device has answered)."},
    {.key = "modbus.backoff_max_ms", .type = OW_KEY_INT, GW(modbus.backoff_max_ms), .min = 100,
     .max = 3600000, .def = 30000,
     .doc = "While the device does not answer, reconnect attempts are spaced by the poll "
            "period, doubling up to this, ms; every poll period still publishes its readings "
            "as not answering."},
};
#define NKEYS (sizeof(gw_keys) / sizeof(gw_keys[0]))

/* The elements of "strings". */
static const ow_key_t string_keys[] = {
    {.key = "name", .type = OW_KEY_STRING, AT(ow_string_cfg_t, name), .ddoc = "`String N`",
     .doc = "String name (the guide's dashboard shows \"UPS A\")."},
    {.key = "modules", .type = OW_KEY_INT, AT(ow_string_cfg_t, modules), .min = 1,
     .max = OW_GW_MAX_MODULES, .flags = OW_KEY_REQUIRED, .doc = "Blocks (modules) in the string."},
};
#define NSKEYS (sizeof(string_keys) / sizeof(string_keys[0]))

static const ow_key_t site_keys[] = {
    {.key = "name", .type = OW_KEY_STRING, AT(ow_site_t, name), .sdef = "site",
     .doc = "Site name, shown in dashboards."},
};
#define NSITEKEYS (sizeof(site_keys) / sizeof(site_keys[0]))

/* "services.alarmd" (ow_site_alarmd); its endpoints are distinct from each
 * other and from every gateway's. */
#define AD(m) AT(ow_alarmd_cfg_t, m)
static const ow_key_t alarmd_keys[] = {
    {.key = "publish", .type = OW_KEY_STRING, AD(publish), .sdef = "tcp://127.0.0.1:7710",
     .flags = OW_KEY_ENDPOINT,
     .doc = "ZMQ endpoint alarmd binds to publish alarms, flag words, discharges, baselines "
            "and commands for busd."},
    {.key = "replay", .type = OW_KEY_STRING, AD(replay), .sdef = "tcp://127.0.0.1:7712",
     .flags = OW_KEY_ENDPOINT, .doc = "ZMQ endpoint alarmd binds to answer replay requests."},
    {.key = "control", .type = OW_KEY_STRING, AD(control), .sdef = "tcp://127.0.0.1:7711",
     .flags = OW_KEY_ENDPOINT,
     .doc = "ZMQ endpoint alarmd binds for control requests (acknowledge, thresholds, "
            "baselines)."},
    {.key = "connect_host", .type = OW_KEY_STRING, AD(connect_host), .flags = OW_KEY_HOST,
     .ddoc = "the endpoints' host; `*`, `0.0.0.0`: 127.0.0.1",
     .doc = "Host the other services and the CLI connect to for alarmd's three endpoints "
            "(tcp:// only), e.g. its compose service name."},
    {.key = "state_file", .type = OW_KEY_STRING, AD(state_file), .sdef = "alarmd-state.json",
     .flags = OW_KEY_PATH | OW_KEY_NONEMPTY,
     .doc = "Where alarmd keeps its state across restarts; relative to the site file's "
            "directory unless absolute."},
    {.key = "journal_messages", .type = OW_KEY_INT, AD(journal_messages), .min = 1000,
     .max = 10000000, .def = 100000, .doc = "Messages alarmd keeps for replay."},
    {.key = "save_interval_ms", .type = OW_KEY_INT, AD(save_interval_ms), .min = 0, .max = 600000,
     .def = 1000, .doc = "The state file is rewritten at most this often, ms."},
};
#define NALARMDKEYS (sizeof(alarmd_keys) / sizeof(alarmd_keys[0]))

#define SD(m) AT(ow_security_cfg_t, m)
static const ow_key_t security_keys[] = {
    {.key = "curve", .type = OW_KEY_BOOL, SD(curve), .def = 1,
     .doc = "Authenticate and encrypt every ZeroMQ link with CURVE against the public keys in "
            "`keys_dir` (docs/security.md). `false` runs plain TCP: anyone who reaches a port "
            "can read, and alarmd's control socket obeys anyone; every daemon logs a warning."},
    {.key = "keys_dir", .type = OW_KEY_STRING, SD(keys_dir), .sdef = "/etc/ohmwatch/keys",
     .flags = OW_KEY_PATH | OW_KEY_NONEMPTY | OW_KEY_ENV_WINS, .env = "OHMWATCH_KEYS_DIR",
     .doc = "Directory of public keys (`NAME.key`, with their roles: the allow-list) and, in "
            "`private/`, each service's secret key `NAME.key_secret` (or from the systemd "
            "credential of that name); made by `ohmwatch keygen`. Relative to the site file's "
            "directory unless absolute; the environment's `OHMWATCH_KEYS_DIR` overrides it."},
};
#define NSECURITYKEYS (sizeof(security_keys) / sizeof(security_keys[0]))

/* clang-format on */

/* The four-level objects, checked for low_alarm <= low_warn < high_warn <= high_alarm. */
static const struct {
    const char *key;
    size_t off;
} limit_objs[] = {
    {.key = "thresholds.voltage_v", .off = offsetof(ow_gateway_cfg_t, thr.voltage_v)},
    {.key = "thresholds.temp_c", .off = offsetof(ow_gateway_cfg_t, thr.temp_c)},
    {.key = "thresholds.impedance_mohm", .off = offsetof(ow_gateway_cfg_t, thr.impedance_mohm)},
    {.key = "thresholds.string_voltage_v", .off = offsetof(ow_gateway_cfg_t, thr.string_voltage_v)},
    {.key = "thresholds.string_current_a", .off = offsetof(ow_gateway_cfg_t, thr.string_current_a)},
    {.key = "thresholds.ambient_c", .off = offsetof(ow_gateway_cfg_t, thr.ambient_c)},
    {.key = "thresholds.humidity_pct", .off = offsetof(ow_gateway_cfg_t, thr.humidity_pct)},
};

/* Pairs that must be ordered: lo <= hi, or lo < hi when strict. */
#define THR(m) offsetof(ow_gateway_cfg_t, thr.m)
/* clang-format off */
static const struct {
    const char *lo_key, *hi_key;
    size_t lo, hi;
    int strict;
    int zero_off; /* 0 on either side switches that level off: not ordered then */
} ordered_pairs[] = {
    {.lo_key = "thresholds.current_deviation.discharge_warn_a",
     .hi_key = "thresholds.current_deviation.discharge_alarm_a",
     .lo = THR(dev_discharge_warn_a), .hi = THR(dev_discharge_alarm_a), .strict = 0},
    {.lo_key = "thresholds.current_deviation.charge_warn_a",
     .hi_key = "thresholds.current_deviation.charge_alarm_a",
     .lo = THR(dev_charge_warn_a), .hi = THR(dev_charge_alarm_a), .strict = 0},
    {.lo_key = "thresholds.baseline_warn_pct", .hi_key = "thresholds.baseline_alarm_pct",
     .lo = THR(baseline_warn_pct), .hi = THR(baseline_alarm_pct), .strict = 0},
    {.lo_key = "thresholds.equalizing_min_v", .hi_key = "thresholds.equalizing_max_v",
     .lo = THR(equalizing_min_v), .hi = THR(equalizing_max_v), .strict = 1},
    {.lo_key = "thresholds.hydrogen_warn_pct_lel", .hi_key = "thresholds.hydrogen_alarm_pct_lel",
     .lo = THR(hydrogen_warn_pct_lel), .hi = THR(hydrogen_alarm_pct_lel), .strict = 1,
     .zero_off = 1},
};
/* clang-format on */

/* ---------------------------------------------------------------------------
 * Loader.
 * ------------------------------------------------------------------------- */

#define PATH_MAX_LEN 1024

/* The engine's context, and the file's "defaults" for the gateways. */
typedef struct {
    ow_schema_ctx_t s;
    json_t *defaults; /* NULL when the file has none */
} ctx_t;

int ow_endpoint_connect(const char *bind, const char *host, char *out, size_t len)
{
    const char *colon = strncmp(bind, "tcp://", 6) == 0 ? strrchr(bind + 6, ':') : NULL;
    int n;
    if (!colon) { /* ipc://, inproc:// (or a tcp:// endpoint without a port) */
        if (host && host[0]) return -1;
        n = snprintf(out, len, "%s", bind);
    } else {
        const char *h = bind + 6;
        size_t hl = (size_t)(colon - h);
        if (host && host[0])
            n = snprintf(out, len, "tcp://%s%s", host, colon);
        else if ((hl == 1 && h[0] == '*') || (hl == 7 && strncmp(h, "0.0.0.0", 7) == 0))
            n = snprintf(out, len, "tcp://127.0.0.1%s", colon);
        else if (hl == 4 && strncmp(h, "[::]", 4) == 0)
            n = snprintf(out, len, "tcp://[::1]%s", colon);
        else
            n = snprintf(out, len, "%s", bind);
    }
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* µs UTC midnight of a "YYYY-MM-DD" the engine has checked. */
static int64_t date_us(const char *s)
{
    return ow_num_days_from_civil(atoi(s), atoi(s + 5), atoi(s + 8)) * 86400 * INT64_C(1000000);
}

static int is_derived(const ow_key_t *k)
{
    return k->derive || k->sderive;
}

/* The JSON path a gateway key is (or would be) read from: the gateway's own
 * value, else the defaults' one, else the gateway's (for a built-in default). */
static void origin(const ctx_t *c, json_t *gw, const char *gwp, const char *key, char *out,
                   size_t len)
{
    if (!ow_schema_get_json(gw, key) && c->defaults && ow_schema_get_json(c->defaults, key))
        ow_schema_join(out, len, "defaults", key);
    else
        ow_schema_join(out, len, gwp, key);
}

static int parse_strings(ctx_t *c, json_t *arr, const char *jp, ow_gateway_cfg_t *g)
{
    if (!json_is_array(arr)) return ow_schema_fail(&c->s, jp, "expected an array");
    size_t n = json_array_size(arr);
    if (n < 1 || n > OW_MAX_STRINGS)
        return ow_schema_fail(&c->s, jp, "needs 1 to %d strings, has %zu", OW_MAX_STRINGS, n);
    int total = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        ow_string_cfg_t *s = &g->strings[i];
        char ep[PATH_MAX_LEN];
        snprintf(ep, sizeof(ep), "%s[%zu]", jp, i);
        if (!json_is_object(e)) return ow_schema_fail(&c->s, ep, "expected an object");
        if (ow_schema_load(&c->s, string_keys, NSKEYS, e, ep, s) < 0) return -1;
        if (!s->name[0]) snprintf(s->name, sizeof(s->name), "String %zu", i + 1);
        s->first_module = total + 1;
        total += s->modules;
    }
    /* The guide's maximum: modbusd serves every gateway in the G.BMS map,
     * whose addresses end at module 512, so a module past it would have no
     * register, silently, while 1004 counted it. */
    if (total > OW_GW_MAX_MODULES)
        return ow_schema_fail(&c->s, jp,
                              "%d modules in all; the G.BMS map addresses at most %d (guide: %d "
                              "modules in %d strings)",
                              total, OW_GW_MAX_MODULES, OW_GW_MAX_MODULES, OW_MAX_STRINGS);
    g->nstrings = (int)n;
    g->nmodules = total;
    return 0;
}

static const char *leaf(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : path;
}

/* The rules across keys, after defaults are applied: 0, or -1 with the schema
 * path of what is at fault in *key and why (both values) in why. The loader
 * and ow_gateway_set judge by this one function. */
static int check_rules(const ow_gateway_cfg_t *g, const char **key, char *why, size_t len)
{
    char a[32], b[32];
    for (size_t i = 0; i < sizeof(limit_objs) / sizeof(limit_objs[0]); i++) {
        const ow_limits_t *l = (const ow_limits_t *)((const char *)g + limit_objs[i].off);
        *key = limit_objs[i].key;
        if (l->low_alarm > l->low_warn) {
            snprintf(why, len, "low_alarm (%s) above low_warn (%s)",
                     ow_schema_num(l->low_alarm, a, 32), ow_schema_num(l->low_warn, b, 32));
            return -1;
        }
        if (l->low_warn >= l->high_warn) {
            snprintf(why, len, "low_warn (%s) %s high_warn (%s)", ow_schema_num(l->low_warn, a, 32),
                     l->low_warn > l->high_warn ? "above" : "equal to",
                     ow_schema_num(l->high_warn, b, 32));
            return -1;
        }
        if (l->high_warn > l->high_alarm) {
            snprintf(why, len, "high_warn (%s) above high_alarm (%s)",
                     ow_schema_num(l->high_warn, a, 32), ow_schema_num(l->high_alarm, b, 32));
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof(ordered_pairs) / sizeof(ordered_pairs[0]); i++) {
        double lo = *(const double *)((const char *)g + ordered_pairs[i].lo);
        double hi = *(const double *)((const char *)g + ordered_pairs[i].hi);
        if (ordered_pairs[i].zero_off && (lo == 0 || hi == 0)) continue;
        if (lo > hi || (ordered_pairs[i].strict && lo == hi)) {
            *key = ordered_pairs[i].lo_key;
            snprintf(why, len, "%s (%s) %s %s (%s)", leaf(ordered_pairs[i].lo_key),
                     ow_schema_num(lo, a, 32), lo > hi ? "above" : "equal to",
                     leaf(ordered_pairs[i].hi_key), ow_schema_num(hi, b, 32));
            return -1;
        }
    }
    /* The outputs alarmd drives: fitted, one job each; the alarm outputs
     * only through the simulator (field drivers read, they never write). */
    const struct {
        const char *key;
        int out;
    } outs[] = {
        {.key = "thresholds.thermal_runaway.breaker_output", .out = g->thr.tr_breaker_output},
        {.key = "thresholds.common_alarm_output", .out = g->thr.common_alarm_output},
        {.key = "thresholds.audible_alarm_output", .out = g->thr.audible_alarm_output},
    };
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        int out = outs[i].out;
        if (!out) continue;
        *key = outs[i].key;
        if (out > g->aux_units * 4) {
            snprintf(why, len, "output %d needs %d GX_R_AUX unit%s but aux_units is %d", out,
                     (out + 3) / 4, out > 4 ? "s" : "", g->aux_units);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (outs[j].out == out) {
                snprintf(why, len, "output %d is already %s", out, leaf(outs[j].key));
                return -1;
            }
        if (i > 0 && strcmp(g->source, "sim") != 0) {
            snprintf(why, len,
                     "alarm outputs are switched through the simulator only; "
                     "a %s gateway is read, never written",
                     g->source);
            return -1;
        }
    }
    return 0;
}

/* "defaults" on its own: known keys, right types, in range. Cross-field rules
 * wait for a gateway, because a partial defaults object cannot be judged. */
static int check_defaults(ctx_t *c)
{
    json_t *d = c->defaults;
    if (!json_is_object(d)) return ow_schema_fail(&c->s, "defaults", "expected an object");
    if (ow_schema_check_keys(&c->s, d, gw_keys, NKEYS, "", "defaults", "strings") < 0) return -1;
    ow_gateway_cfg_t *scratch = calloc(1, sizeof(*scratch));
    if (!scratch) return ow_schema_fail(&c->s, "defaults", "out of memory");
    int rc = 0;
    char jp[PATH_MAX_LEN];
    for (size_t i = 0; i < NKEYS && rc == 0; i++) {
        json_t *v = ow_schema_get_json(d, gw_keys[i].key);
        if (!v) continue;
        ow_schema_join(jp, sizeof(jp), "defaults", gw_keys[i].key);
        if (gw_keys[i].flags & F_NO_DEFAULTS)
            rc = ow_schema_fail(&c->s, jp, "not allowed in defaults (each gateway needs its own)");
        else
            rc = ow_schema_apply(&c->s, &gw_keys[i], v, jp, scratch);
    }
    json_t *strings = json_object_get(d, "strings");
    if (rc == 0 && strings) rc = parse_strings(c, strings, "defaults.strings", scratch);
    free(scratch);
    return rc;
}

/* The loader's last word on a gateway, at the gateway's or the defaults' copy
 * of the key at fault. */
static int check_limits(ctx_t *c, json_t *gw, const char *gwp, const ow_gateway_cfg_t *g)
{
    const char *key;
    char why[256], jp[PATH_MAX_LEN];
    if (check_rules(g, &key, why, sizeof(why)) == 0) return 0;
    origin(c, gw, gwp, key, jp, sizeof(jp));
    return ow_schema_fail(&c->s, jp, "%s", why);
}

/* A Modbus source needs to know where its device is; which keys that takes
 * depends on the source, so it is a rule rather than OW_KEY_REQUIRED. */
/* clang-format off */
static const struct {
    const char *source, *key;
    size_t off;
} source_needs[] = {
    {.source = "modbus-tcp", .key = "modbus.host",   .off = offsetof(ow_gateway_cfg_t, modbus.host)},
    {.source = "modbus-rtu", .key = "modbus.device", .off = offsetof(ow_gateway_cfg_t, modbus.device)},
    {.source = "modbus-tcp", .key = "modbus.map",    .off = offsetof(ow_gateway_cfg_t, modbus.map)},
    {.source = "modbus-rtu", .key = "modbus.map",    .off = offsetof(ow_gateway_cfg_t, modbus.map)},
};
/* clang-format on */

static int check_source(ctx_t *c, json_t *gw, const char *gwp, const ow_gateway_cfg_t *g)
{
    char jp[PATH_MAX_LEN];
    for (size_t i = 0; i < sizeof(source_needs) / sizeof(source_needs[0]); i++) {
        if (strcmp(g->source, source_needs[i].source) != 0) continue;
        if (((const char *)g + source_needs[i].off)[0]) continue;
        origin(c, gw, gwp, source_needs[i].key, jp, sizeof(jp));
        return ow_schema_fail(&c->s, jp, "required (not empty) when source is %s", g->source);
    }
    return 0;
}

static int pass_of(const ow_key_t *k)
{
    return (k->flags & F_LATE) ? 2 : is_derived(k);
}

/* One pass over the gateway keys: the gateway's value, else the defaults',
 * else the built-in or derived default. */
static int read_pass(ctx_t *c, json_t *gw, const char *gwp, ow_gateway_cfg_t *g, int pass)
{
    char jp[PATH_MAX_LEN];
    for (size_t i = 0; i < NKEYS; i++) {
        const ow_key_t *k = &gw_keys[i];
        if (pass_of(k) != pass) continue;
        json_t *v = ow_schema_get_json(gw, k->key);
        if (v)
            ow_schema_join(jp, sizeof(jp), gwp, k->key);
        else if (c->defaults && (v = ow_schema_get_json(c->defaults, k->key)) != NULL)
            ow_schema_join(jp, sizeof(jp), "defaults", k->key);
        if (v) {
            if (ow_schema_apply(&c->s, k, v, jp, g) < 0) return -1;
        } else if (k->flags & OW_KEY_REQUIRED) {
            ow_schema_join(jp, sizeof(jp), gwp, k->key);
            return ow_schema_fail(&c->s, jp, "required key missing");
        } else {
            ow_schema_join(jp, sizeof(jp), gwp, k->key);
            if (ow_schema_default(&c->s, k, jp, g) < 0) return -1;
        }
    }
    return 0;
}

static int load_gateway(ctx_t *c, json_t *gw, int idx, ow_gateway_cfg_t *g)
{
    char gwp[64], jp[PATH_MAX_LEN];
    snprintf(gwp, sizeof(gwp), "gateways[%d]", idx);
    if (!json_is_object(gw)) return ow_schema_fail(&c->s, gwp, "expected an object");
    if (ow_schema_check_keys(&c->s, gw, gw_keys, NKEYS, "", gwp, "strings") < 0) return -1;
    /* Pass 0 reads everything whose default is fixed (module type, capacity
     * among them); pass 1 the defaults derived from those two; pass 2, after
     * the strings, those derived from derived keys or from the strings. */
    for (int pass = 0; pass < 2; pass++)
        if (read_pass(c, gw, gwp, g, pass) < 0) return -1;
    json_t *strings = json_object_get(gw, "strings");
    if (strings)
        snprintf(jp, sizeof(jp), "%s.strings", gwp);
    else if (c->defaults && (strings = json_object_get(c->defaults, "strings")) != NULL)
        snprintf(jp, sizeof(jp), "defaults.strings");
    if (!strings) {
        snprintf(jp, sizeof(jp), "%s.strings", gwp);
        return ow_schema_fail(&c->s, jp, "required key missing");
    }
    if (parse_strings(c, strings, jp, g) < 0) return -1;
    if (read_pass(c, gw, gwp, g, 2) < 0) return -1;
    if (!g->name[0]) snprintf(g->name, sizeof(g->name), "%s", g->id);
    if (ow_endpoint_connect(g->publish, g->connect_host, g->publish_connect,
                            sizeof(g->publish_connect)) < 0 ||
        ow_endpoint_connect(g->replay, g->connect_host, g->replay_connect,
                            sizeof(g->replay_connect)) < 0) {
        ow_schema_join(jp, sizeof(jp), gwp, "connect_host");
        return ow_schema_fail(&c->s, jp, "only for tcp:// endpoints (publish and replay)");
    }
    if (g->battery.installed[0]) g->battery.installed_us = date_us(g->battery.installed);
    g->battery.chem = chem_of(g);
    if (check_source(c, gw, gwp, g) < 0) return -1;
    return check_limits(c, gw, gwp, g);
}

/* Ids and endpoints are unique across the site; the later one is at fault.
 * Endpoints are compared as the others connect to them: busd processes in
 * separate containers may all bind the same wildcard endpoint under distinct
 * connect_hosts, while a wildcard and 127.0.0.1 on one host are the same. */
static int check_unique(ctx_t *c, json_t *gws, const ow_site_t *site)
{
    static const char *const ep_keys[] = {"publish", "replay"};
    char jp[PATH_MAX_LEN], gwp[64];
    for (int j = 0; j < site->ngateways; j++) {
        const ow_gateway_cfg_t *gj = &site->gateways[j];
        json_t *gw = json_array_get(gws, (size_t)j);
        snprintf(gwp, sizeof(gwp), "gateways[%d]", j);
        for (int i = 0; i < j; i++)
            if (strcmp(site->gateways[i].id, gj->id) == 0) {
                origin(c, gw, gwp, "id", jp, sizeof(jp));
                return ow_schema_fail(&c->s, jp, "duplicate id \"%s\" (also gateways[%d])", gj->id,
                                      i);
            }
        /* Endpoint number e = 2*gateway + (0 publish, 1 replay); compare each
         * with every one before it, so publish == replay is caught too. */
        for (int ej = 2 * j; ej < 2 * j + 2; ej++) {
            const char *ep = ej % 2 ? gj->replay : gj->publish;
            const char *cep = ej % 2 ? gj->replay_connect : gj->publish_connect;
            for (int ei = 0; ei < ej; ei++) {
                const ow_gateway_cfg_t *gi = &site->gateways[ei / 2];
                if (strcmp(ei % 2 ? gi->replay_connect : gi->publish_connect, cep) != 0) continue;
                origin(c, gw, gwp, ep_keys[ej % 2], jp, sizeof(jp));
                return ow_schema_fail(&c->s, jp, "endpoint \"%s\" already used by gateways[%d].%s",
                                      ep, ei / 2, ep_keys[ei % 2]);
            }
        }
    }
    return 0;
}

static int load_site(ctx_t *c, json_t *root, ow_site_t *site)
{
    static const char *const top[] = {"site", "defaults", "gateways", "services"};
    if (!json_is_object(root))
        return ow_schema_fail(&c->s, "", "expected an object at the top level");
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        size_t i = 0;
        while (i < 4 && strcmp(k, top[i]) != 0)
            i++;
        if (i == 4) return ow_schema_fail(&c->s, k, "unknown key");
    }

    json_t *s = json_object_get(root, "site");
    if (ow_schema_load(&c->s, site_keys, NSITEKEYS, s, "site", site) < 0) return -1;

    c->defaults = json_object_get(root, "defaults");
    if (c->defaults && check_defaults(c) < 0) return -1;

    json_t *services = json_object_get(root, "services");
    if (services && !json_is_object(services))
        return ow_schema_fail(&c->s, "services", "expected an object");
    site->services = services ? json_incref(services) : json_object();
    if (!site->services) return ow_schema_fail(&c->s, "services", "out of memory");

    json_t *gws = json_object_get(root, "gateways");
    if (!gws) return ow_schema_fail(&c->s, "gateways", "required key missing");
    if (!json_is_array(gws)) return ow_schema_fail(&c->s, "gateways", "expected an array");
    if (json_array_size(gws) == 0)
        return ow_schema_fail(&c->s, "gateways", "needs at least one gateway");
    if (json_array_size(gws) > OW_MAX_GATEWAYS)
        return ow_schema_fail(&c->s, "gateways", "at most %d gateways", OW_MAX_GATEWAYS);
    site->ngateways = (int)json_array_size(gws);
    site->gateways = calloc((size_t)site->ngateways, sizeof(*site->gateways));
    if (!site->gateways) return ow_schema_fail(&c->s, "gateways", "out of memory");
    for (int i = 0; i < site->ngateways; i++)
        if (load_gateway(c, json_array_get(gws, (size_t)i), i, &site->gateways[i]) < 0) return -1;
    if (check_unique(c, gws, site) < 0) return -1;
    /* "services" is free-form, but alarmd's and security's parts are ours:
     * `-n` checks them too. */
    ow_alarmd_cfg_t alarmd;
    ow_security_cfg_t sec;
    if (ow_site_alarmd(site, &alarmd, c->s.err, c->s.errlen) < 0) return -1;
    return ow_site_security(site, &sec, c->s.err, c->s.errlen);
}

ow_site_t *ow_site_load(const char *path, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!path) {
        if (err && errlen) snprintf(err, errlen, "no site file given");
        return NULL;
    }
    char why[256] = "";
    size_t len = 0;
    /* A site file is kilobytes; refuse nonsense. */
    char *text = ow_file_read(path, (size_t)64 << 20, &len, why, sizeof(why));
    if (!text) {
        if (err && errlen) snprintf(err, errlen, "%s: %s", path, why);
        return NULL;
    }
    ow_site_t *site = ow_site_parse(text, len, path, err, errlen);
    free(text);
    return site;
}

ow_site_t *ow_site_parse(const char *text, size_t len, const char *path, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!text || !path) {
        if (err && errlen) snprintf(err, errlen, "no site text given");
        return NULL;
    }
    /* Cut short, the directory relative paths resolve against would be
     * another one. */
    if (strlen(path) >= sizeof(((ow_site_t *)0)->path)) {
        if (err && errlen)
            snprintf(err, errlen, "%.64s...: site file path too long (at most %zu bytes)", path,
                     sizeof(((ow_site_t *)0)->path) - 1);
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (err && errlen) snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return NULL;
    }
    ow_site_t *site = calloc(1, sizeof(*site));
    ow_jpos_t *pos = ow_jpos_build(text, len);
    if (!site || !pos) {
        if (err && errlen) snprintf(err, errlen, "%s: out of memory", path);
        free(site);
        ow_jpos_destroy(&pos);
        json_decref(root);
        return NULL;
    }
    site->positions = pos;
    snprintf(site->path, sizeof(site->path), "%s", path);
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(site->dir, sizeof(site->dir), ".");
    else if (slash == path)
        snprintf(site->dir, sizeof(site->dir), "/");
    else
        snprintf(site->dir, sizeof(site->dir), "%.*s", (int)(slash - path), path);

    ctx_t c = {.s = {.file = path,
                     .dir = site->dir,
                     .pos = pos,
                     .err = err,
                     .errlen = errlen,
                     .user = site}};
    int rc = load_site(&c, root, site);
    json_decref(root);
    if (rc < 0) ow_site_destroy(&site);
    return site;
}

void ow_site_destroy(ow_site_t **sitep)
{
    if (!sitep || !*sitep) return;
    ow_site_t *site = *sitep;
    free(site->gateways);
    if (site->services) json_decref((json_t *)site->services);
    ow_jpos_t *pos = site->positions;
    ow_jpos_destroy(&pos);
    free(site);
    *sitep = NULL;
}

const ow_gateway_cfg_t *ow_site_gateway(const ow_site_t *site, const char *id)
{
    if (!site || !id) return NULL;
    for (int i = 0; i < site->ngateways; i++)
        if (strcmp(site->gateways[i].id, id) == 0) return &site->gateways[i];
    return NULL;
}

const char *ow_site_path(const ow_site_t *site, const char *rel, char *buf, size_t len)
{
    return ow_schema_resolve(site ? site->dir : NULL, rel, buf, len);
}

int ow_site_section(const ow_site_t *site, const ow_schema_section_t *sec, void *out, char *err,
                    size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!site || !sec || !out) {
        if (err && errlen) snprintf(err, errlen, "no site");
        return -1;
    }
    ow_schema_ctx_t c = {.file = site->path,
                         .dir = site->dir,
                         .pos = site->positions,
                         .err = err,
                         .errlen = errlen,
                         .user = site};
    json_t *services = site->services, *obj = NULL;
    const char *name = strncmp(sec->path, "services.", 9) == 0 ? sec->path + 9 : sec->path;
    if (services && !json_is_object(services))
        return ow_schema_fail(&c, "services", "expected an object");
    if (services) obj = json_object_get(services, name);
    return ow_schema_load_section(&c, sec, obj, out);
}

/* ---------------------------------------------------------------------------
 * Runtime settings: the numeric thresholds, by their path in the site file,
 * judged by the loader's own table and rules.
 * ------------------------------------------------------------------------- */

#define THR_PREFIX "thresholds."

/* Every number under thresholds., and the rows flagged F_RUNTIME (the
 * guide's read-write settings that are no threshold); an enum one by the
 * index of its choice (ow_schema.h). */
static int is_setting(const ow_key_t *k)
{
    return (strncmp(k->key, THR_PREFIX, strlen(THR_PREFIX)) == 0 || (k->flags & F_RUNTIME)) &&
           (k->type == OW_KEY_INT || k->type == OW_KEY_DOUBLE || k->type == OW_KEY_ENUM);
}

static const ow_key_t *find_setting(const char *key)
{
    const ow_key_t *k = ow_schema_setting(gw_keys, NKEYS, key);
    return k && is_setting(k) ? k : NULL;
}

const ow_key_t *ow_gateway_setting(const char *key)
{
    return key ? find_setting(key) : NULL;
}

int ow_gateway_set(ow_gateway_cfg_t *g, const char *key, double value, char *err, size_t errlen)
{
    char why[256];
    if (err && errlen) err[0] = '\0';
    if (!find_setting(key)) {
        if (err && errlen) snprintf(err, errlen, "%s: unknown key", key ? key : "(null)");
        return -1;
    }
    if (!g) {
        if (err && errlen) snprintf(err, errlen, "%s: no gateway", key);
        return -1;
    }
    /* Judge the gateway as it would be, so that the rules between keys hold
     * after every single change. */
    ow_gateway_cfg_t next = *g;
    if (ow_schema_set(gw_keys, NKEYS, &next, key, value, err, errlen) < 0) return -1;
    const char *bad;
    if (check_rules(&next, &bad, why, sizeof(why)) < 0) {
        if (err && errlen) snprintf(err, errlen, "%s: %s", bad, why);
        return -1;
    }
    *g = next;
    return 0;
}

int ow_gateway_get(const ow_gateway_cfg_t *g, const char *key, double *value)
{
    return find_setting(key) ? ow_schema_get(gw_keys, NKEYS, g, key, value) : -1;
}

int ow_gateway_range(const char *key, double *min, double *max)
{
    return find_setting(key) ? ow_schema_range(gw_keys, NKEYS, key, min, max) : -1;
}

const char *ow_gateway_value_text(const char *key, double value, char *buf, size_t len)
{
    const ow_key_t *k = find_setting(key);
    if (len) buf[0] = '\0';
    if (!k || isnan(value)) return buf;
    if (k->type == OW_KEY_ENUM && value >= 0 && value == floor(value)) {
        for (size_t i = 0; k->choices[i]; i++)
            if ((double)i == value) {
                snprintf(buf, len, "%s", k->choices[i]);
                return buf;
            }
    }
    snprintf(buf, len, "%g", value);
    return buf;
}

int ow_gateway_value_choice(const char *key, const char *text, double *value)
{
    const ow_key_t *k = find_setting(key);
    if (!k || k->type != OW_KEY_ENUM || !text) return -1;
    for (size_t i = 0; k->choices[i]; i++)
        if (strcmp(text, k->choices[i]) == 0) {
            *value = (double)i;
            return 0;
        }
    return -1;
}

int ow_gateway_fahrenheit(const ow_gateway_cfg_t *g)
{
    return g && g->temperature_unit[0] == 'F';
}

void ow_gateway_copy_settings(ow_gateway_cfg_t *dst, const ow_gateway_cfg_t *src)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (is_setting(&gw_keys[i]))
            memcpy((char *)dst + gw_keys[i].off, (const char *)src + gw_keys[i].off,
                   gw_keys[i].size);
}

static const char *setting_keys[NKEYS + 1];
static pthread_once_t setting_keys_once = PTHREAD_ONCE_INIT;

static void setting_keys_init(void)
{
    size_t n = 0;
    for (size_t i = 0; i < NKEYS; i++)
        if (is_setting(&gw_keys[i])) setting_keys[n++] = gw_keys[i].key;
    setting_keys[n] = NULL;
}

const char *const *ow_gateway_keys(void)
{
    pthread_once(&setting_keys_once, setting_keys_init);
    return setting_keys;
}

/* ---------------------------------------------------------------------------
 * services.alarmd
 * ------------------------------------------------------------------------- */

/* alarmd's endpoints against every gateway's and each other, as they are
 * connected to; of two alike, the later one in the table is at fault. Then
 * the connect endpoints. */
static int alarmd_finish(ow_schema_ctx_t *c, const json_t *obj, void *base)
{
    const ow_site_t *site = c->user;
    ow_alarmd_cfg_t *a = base;
    const char *path = ow_alarmd_section.path;
    char jp[PATH_MAX_LEN], cep[OW_ENDPOINT_MAX], cother[OW_ENDPOINT_MAX];
    (void)obj;
    for (size_t i = 0; i < NALARMDKEYS; i++) {
        if (!(alarmd_keys[i].flags & OW_KEY_ENDPOINT)) continue;
        const char *ep = (const char *)a + alarmd_keys[i].off;
        ow_schema_join(jp, sizeof(jp), path, alarmd_keys[i].key);
        if (ow_endpoint_connect(ep, a->connect_host, cep, sizeof(cep)) < 0) {
            ow_schema_join(jp, sizeof(jp), path, "connect_host");
            return ow_schema_fail(c, jp, "only for tcp:// endpoints (publish, replay, control)");
        }
        for (int j = 0; site && j < site->ngateways; j++) {
            const ow_gateway_cfg_t *g = &site->gateways[j];
            int pub = strcmp(cep, g->publish_connect) == 0;
            if (pub || strcmp(cep, g->replay_connect) == 0)
                return ow_schema_fail(c, jp, "endpoint \"%s\" already used by gateways[%d].%s", ep,
                                      j, pub ? "publish" : "replay");
        }
        for (size_t j = 0; j < i; j++) {
            if (!(alarmd_keys[j].flags & OW_KEY_ENDPOINT)) continue;
            ow_endpoint_connect((const char *)a + alarmd_keys[j].off, a->connect_host, cother,
                                sizeof(cother));
            if (strcmp(cep, cother) == 0)
                return ow_schema_fail(c, jp, "endpoint \"%s\" already used by %s.%s", ep, path,
                                      alarmd_keys[j].key);
        }
    }
    ow_endpoint_connect(a->publish, a->connect_host, a->publish_connect,
                        sizeof(a->publish_connect));
    ow_endpoint_connect(a->replay, a->connect_host, a->replay_connect, sizeof(a->replay_connect));
    ow_endpoint_connect(a->control, a->connect_host, a->control_connect,
                        sizeof(a->control_connect));
    return 0;
}

const ow_schema_section_t ow_alarmd_section = {
    .path = "services.alarmd",
    .keys = alarmd_keys,
    .nkeys = NALARMDKEYS,
    .size = sizeof(ow_alarmd_cfg_t),
    .finish = alarmd_finish,
    .doc = "All keys are optional. The three endpoints are distinct from each other\n"
           "and from every gateway's `publish` and `replay` (as connected to).",
};

int ow_site_alarmd(const ow_site_t *site, ow_alarmd_cfg_t *out, char *err, size_t errlen)
{
    ow_alarmd_cfg_t a;
    if (ow_site_section(site, &ow_alarmd_section, &a, err, errlen) < 0) return -1;
    *out = a;
    return 0;
}

/* ---------------------------------------------------------------------------
 * services.security
 * ------------------------------------------------------------------------- */

const ow_schema_section_t ow_security_section = {
    .path = "services.security",
    .keys = security_keys,
    .nkeys = NSECURITYKEYS,
    .size = sizeof(ow_security_cfg_t),
    .doc = "How the ZeroMQ links between the services authenticate and encrypt\n"
           "(docs/security.md). All keys are optional: the default is CURVE with the\n"
           "keys in `/etc/ohmwatch/keys`.",
};

int ow_site_security(const ow_site_t *site, ow_security_cfg_t *out, char *err, size_t errlen)
{
    ow_security_cfg_t s;
    if (ow_site_section(site, &ow_security_section, &s, err, errlen) < 0) return -1;
    *out = s;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Documentation, from the same tables.
 * ------------------------------------------------------------------------- */

int ow_config_doc(FILE *out, const ow_schema_section_t *const *services)
{
    if (!out) return -1;
    fprintf(out, "# Site configuration\n\n"
                 "One JSON file describes a site: its webmanagers (gateways), their strings,\n"
                 "module type, battery, thresholds, rates and the services' endpoints. Every\n"
                 "service loads the same file (`-f FILE`; `-n` checks it and exits).\n\n"
                 "```json\n"
                 "{\n"
                 "  \"site\": {\"name\": \"Training Center\"},\n"
                 "  \"defaults\": {\"thresholds\": {\"temp_c\": {\"high_alarm\": 40}}},\n"
                 "  \"gateways\": [\n"
                 "    {\"id\": \"wm1\", \"publish\": \"tcp://127.0.0.1:7701\",\n"
                 "     \"replay\": \"tcp://127.0.0.1:7702\",\n"
                 "     \"strings\": [{\"name\": \"UPS A\", \"modules\": 9}]}\n"
                 "  ],\n"
                 "  \"services\": {\"alarmd\": {\"publish\": \"tcp://127.0.0.1:7710\"}}\n"
                 "}\n"
                 "```\n\n"
                 "- `site`: the site itself (keys below).\n"
                 "- `defaults`: any gateway key; a key a gateway does not give is taken from\n"
                 "  here (same path, nested objects merge key by key), then from the built-in\n"
                 "  default. `id` cannot be defaulted.\n"
                 "- `gateways`: one object per webmanager (keys below), at least one.\n"
                 "- `services`: one object per service; each service reads its own part.\n"
                 "  `services.alarmd` is checked when the site loads (keys below); other\n"
                 "  parts are left to their service.\n\n"
                 "Errors name the file, line and column, and the full key path, e.g.\n"
                 "`site.json:42:28: gateways[1].thresholds.voltage_v.low_alarm: must be between "
                 "0 and 100`.\n"
                 "Unknown keys are errors. A missing required key is reported at the object\n"
                 "that should hold it.\n\n");

    fprintf(out, "## Site keys\n\n");
    ow_schema_doc_table(out, site_keys, NSITEKEYS, "site.");

    fprintf(out, "\n## Gateway keys\n\n"
                 "Paths are below a gateway object (or `defaults`). Defaults marked\n"
                 "`x nominal_v/12` scale with the module type's nominal voltage, and\n"
                 "`x capacity_ah` with the battery capacity (C10); others follow the\n"
                 "battery as their rule says (`docs/battery.md`). A value given\n"
                 "in the file is used as is; `-n` warns when one contradicts the battery.\n\n");
    ow_schema_doc_table(out, gw_keys, NKEYS, "");

    fprintf(out,
            "\n### strings\n\n"
            "`strings` is an array of 1 to %d objects, required (in the gateway or in\n"
            "`defaults`). At most %d modules in total, the G.BMS maximum and where\n"
            "the Modbus map ends. String N's first module\n"
            "address is the sum of the modules before it plus one.\n\n",
            OW_MAX_STRINGS, OW_GW_MAX_MODULES);
    ow_schema_doc_table(out, string_keys, NSKEYS, "strings[].");

    fprintf(out, "\n### Threshold notes\n\n"
                 "- Block defaults are the guide's example values (bacsSettings) for a 12 V\n"
                 "  block. The guide's example low warning equals the low alarm (12 V), which\n"
                 "  would make the warning useless; the default low warning is 12.40 V.\n"
                 "- Block voltage is the only quantity with a default delay (10 s): the guide\n"
                 "  allows a delay on the voltage alarm.\n"
                 "- Block voltage, impedance, string voltage and equalizing defaults follow\n"
                 "  the battery (module type's cells, `battery.chemistry`,\n"
                 "  `battery.impedance_mohm`, the strings): `docs/battery.md` says\n"
                 "  why. A 12 V VRLA block gets the guide's 12.00/12.40/14.10/15.50 V. The\n"
                 "  guide's string example (105/110/125/135 V for 9 x 12 V) is not a default:\n"
                 "  string levels are the block levels x the blocks in the string (the\n"
                 "  shortest string for the low levels, the longest for the high ones).\n"
                 "- String current defaults: warnings at +0.2 C10 (charging) and -1 C10\n"
                 "  (discharging), alarms at +0.3 C10 and -2 C10.\n\n"
                 "Checks across keys, after defaults are applied:\n\n"
                 "- each of `voltage_v`, `temp_c`, `impedance_mohm`, `string_voltage_v`,\n"
                 "  `string_current_a`: low_alarm <= low_warn < high_warn <= high_alarm;\n"
                 "- current deviation and impedance baseline: warning <= alarm;\n"
                 "- equalizing_min_v < equalizing_max_v;\n"
                 "- `thermal_runaway.breaker_output` needs enough `aux_units` (4 outputs each);\n"
                 "- gateway ids are unique; all `publish` and `replay` endpoints are distinct\n"
                 "  as the other services connect to them (see below).\n\n"
                 "A default that scales with the module type or the capacity is kept inside\n"
                 "its key's range (a value given in the file must be in range).\n\n"
                 "### Runtime changes\n\n"
                 "Every number under `thresholds.` can be changed while alarmd runs (control\n"
                 "requests, SNMP SET), by its path as above, e.g.\n"
                 "`thresholds.voltage_v.high_alarm`. A change is judged by the same range and\n"
                 "the same checks across keys as the file, against the gateway as it would\n"
                 "be; if any fails, nothing changes. Integer keys take integral values only.\n\n"
                 "### Bind and connect addresses\n\n"
                 "A service binds its endpoints as written (`tcp://*:7701`: every interface);\n"
                 "the other services and the CLI connect to the same port on `connect_host`\n"
                 "(the gateway's for busd, `services.alarmd.connect_host` for alarmd), or,\n"
                 "without one, to the endpoint's own host, where the wildcards `*` and\n"
                 "`0.0.0.0` mean 127.0.0.1 (`[::]` means `[::1]`). In docker compose each\n"
                 "daemon binds `tcp://*:PORT` and `connect_host` is its service name:\n\n"
                 "```json\n"
                 "{\"id\": \"wm1\", \"publish\": \"tcp://*:7701\", \"replay\": \"tcp://*:7702\",\n"
                 " \"connect_host\": \"busd\", ...}\n"
                 "\"services\": {\"alarmd\": {\"publish\": \"tcp://*:7710\", \"connect_host\": "
                 "\"alarmd\"}}\n"
                 "```\n\n"
                 "`connect_host` is for `tcp://` endpoints only; `ipc://` and `inproc://` are\n"
                 "connected to as written. Endpoints must be distinct as they are connected\n"
                 "to, so several busd in separate containers may all bind `tcp://*:7701`.\n\n");

    fprintf(out, "### Field devices (Modbus)\n\n"
                 "With `source` `modbus-tcp` (needs `modbus.host`) or `modbus-rtu` (needs\n"
                 "`modbus.device`), busd polls a real device every `poll_ms` instead of\n"
                 "simulating one, and publishes the same readings plus a `device` message\n"
                 "(proto/README.md). `modbus.map` says where the values are: the built-in\n"
                 "`gbms` map is the webmanager's register map from the user guide; the map\n"
                 "format is in `docs/maps.md`. `ohmwatch-busd -n` also loads the map and\n"
                 "checks that the gateway's strings, modules and `aux_units` fit in it.\n\n");

    ow_schema_doc_section(out, &ow_alarmd_section);
    ow_schema_doc_section(out, &ow_security_section);
    for (size_t i = 0; services && services[i]; i++)
        ow_schema_doc_section(out, services[i]);

    fprintf(out, "## Module types\n\n"
                 "From the guide's module parts table.\n\n"
                 "| Type | Part | bacsModuleType | Nominal | Voltage range | Impedance range "
                 "| Equalization |\n"
                 "|------|------|----------------|---------|---------------|-----------------"
                 "|--------------|\n");
    for (size_t i = 0; i < ow_module_types_count; i++) {
        const ow_module_type_t *t = &ow_module_types[i];
        fprintf(out, "| %s | %s | %d | %g V | %g - %g V | %g - %g mOhm | %g A |\n", t->name,
                t->part, t->code, t->nominal_v, t->v_min, t->v_max, t->r_min, t->r_max,
                t->eq_current_a);
    }
    fprintf(out, "\nThe guide gives bacsModuleType as \"0 = C20, 1 = C21, 10 = C30, 20 = C40,\n"
                 "20 = C41\": C21 is not in the parts table and C40 and C41 share a code. We\n"
                 "read C21 as C23 (code 1) and give C41 the next free code, 21. `C21` is\n"
                 "accepted as a module type name and means C23.\n");
    return ferror(out) ? -1 : 0;
}
