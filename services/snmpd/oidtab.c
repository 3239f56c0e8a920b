/* The guide's OID tables as data, with the function that reads each value
 * from the view; see oidtab.h.
 *
 * Decisions where the guide contradicts itself or is silent (also in
 * docs/snmp.md and the MIB, both generated from here):
 * - bacsModuleType lists "20 = C40, 20 = C41": C41 gets 21 (the site
 *   schema's code table, lib/ow_config.c); C21 is read as C23 (code 1).
 * - bacsImpcHighAlarm is given scale "1" but its example reads 5000 -> 50 mOhm,
 *   and every other impedance OID is 0.01 mOhm: we use 0.01 mOhm.
 * - bacsNumStrings appears as both bacsSettings.2 and bacsObjects.6; a MIB
 *   cannot hold one descriptor twice, so bacsObjects.6 is bacsNumStringsObj
 *   (same value). Hyphens in the guide's names (bacsStringVoltage-LowWarn)
 *   are typesetting and dropped.
 * - bacsModuleIndex.1 reads 0 in the guide's example: the index column is
 *   the module number minus one while the instance is the module number.
 *   Kept, since managers configured from the guide expect it.
 * - bacsImpcPollRate and bacsTemperatureUnit are read-write, as in the
 *   guide: runtime settings of the gateway (impedance_poll_min,
 *   temperature_unit) that alarmd holds, persists and audits like every
 *   alarm and warning level, so a SET goes to alarmd's set as the SNMPv3
 *   user, and what is served is alarmd's value (its snapshot and config
 *   events): the unit survives an snmpd restart and every snmpd serves the
 *   same. temperature_unit is an enum set by its choice's index, C = 0,
 *   F = 1, bacsTemperatureUnit's own numbers. It switches the context's
 *   temperature objects between 0.1 degC and 0.1 degF; the levels are
 *   stored in degC whatever it says. busd's simulator measures impedance at
 *   impedance_poll_min as alarmd holds it (busd asks at start, follows its
 *   config events); a field device measures on its own schedule, which the
 *   guide's Modbus map cannot set (docs/modbus.md). A value out of the
 *   schema's range (0..1, 1..44640 min) is wrongValue with the reason.
 * - gxRAUX inputs read normal(1) as in the guide's example and alarm(2);
 *   outputs off(0) / on(1). Only fitted units (aux_units) have instances.
 * - A block without a value (configured but not read yet, not answering,
 *   or that value not measured) reads -2147483648 in bacsModuleVoltage,
 *   Temperature, Bypass and Resistance: the lowest value of their Integer32,
 *   as Modbus serves the lowest of its signed 16 bits (0x8000, regmap.c).
 *   The guide declares no range and names no "not available" value; a
 *   sentinel keeps every row of the table present (a manager that walks the
 *   columns and zips them by position, or alarms on a missing instance,
 *   gets nothing shifted), and no reading is served as it (they clamp to
 *   -2147483647). It is never a plausible value: -21474836.48 V.
 *   bacsModuleState carries Communication lost (0x0002) from the first poll
 *   not answered (and until first read) to the first answer, whatever
 *   alarmd's word says meanwhile (it raises its alarm after comm_lost_polls).
 * - A gateway whose busd has gone quiet (lib/ow_quiet.h) serves all its
 *   blocks as not answering and its strings as unmeasured (view.c), not
 *   the last values heard, until its readings come again.
 * - Alarm codes above 39 (ohmwatch's additions, docs/alarms.md) get
 *   identities under bacsWellKnownAlarms with their own numbers (101...). */
#include "oidtab.h"

#include <math.h>
#include <string.h>

#include "ow_gbms.h"

const uint32_t ow_snmp_root[OW_SNMP_ROOTN] = {1, 3, 6, 1, 2, 1, 33, 5};

/* ---- getters ---- */

static int g_modtype(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r, (void)i;
    *out = v->cfg.module_type ? v->cfg.module_type->code : 0;
    return 1;
}

static int g_nstrings(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r, (void)i;
    *out = v->cfg.nstrings;
    return 1;
}

static int g_nmodules(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r, (void)i;
    *out = v->cfg.nmodules;
    return 1;
}

static int g_capacity(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r, (void)i;
    *out = v->cfg.battery.capacity_ah;
    return 1;
}

static int g_lograte1(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r, (void)i;
    *out = v->cfg.log_rate_s;
    return 1;
}

static int g_lograte2(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r, (void)i;
    *out = v->cfg.log_rate_charge_s;
    return 1;
}

static int g_setting(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)i;
    return ow_gateway_get(&v->cfg, r->key, out) == 0;
}

static int g_status(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r, (void)i;
    *out = v->st.general;
    return 1;
}

/* Mean or sum of the answering blocks. */
static int volt_agg(const ow_snmp_view_t *v, int mean, double *out)
{
    double sum = 0;
    int n = 0;
    for (int m = 1; m <= v->cfg.nmodules; m++)
        if (isfinite(v->mod[m].v)) sum += v->mod[m].v, n++;
    if (!n) return 0;
    *out = mean ? sum / n : sum;
    return 1;
}

static int g_avvolt(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r, (void)i;
    return volt_agg(v, 1, out);
}

static int g_totvolt(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r, (void)i;
    return volt_agg(v, 0, out);
}

static int g_index0(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)v, (void)r;
    *out = i - 1;
    return 1;
}

static int present(double x, double *out)
{
    *out = x;
    return isfinite(x);
}

/* A module column: the value, or OW_SNMP_NONE (see the top of the file). */
static int reading(double x, double *out)
{
    *out = x;
    return isfinite(x) ? 1 : OW_SNMP_NONE;
}

static int g_mvolt(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r;
    return reading(v->mod[i].v, out);
}

static int g_mtemp(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r;
    return reading(v->mod[i].t, out);
}

static int g_mbypass(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r;
    return reading(v->mod[i].eq, out);
}

static int g_mres(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r;
    return reading(v->mod[i].r, out);
}

/* alarmd's module flags, but Communication lost follows busd's latest
 * reading of the block (see the top of the file). */
static int g_mstate(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r;
    uint16_t f = v->st.module_flags[i - 1];
    if (!v->mod[i].read || (v->mod[i].status & OW_MODST_NO_RESPONSE))
        f |= GBMS_AL_COMMUNICATION_LOST;
    else
        f &= (uint16_t)~GBMS_AL_COMMUNICATION_LOST;
    *out = f;
    return 1;
}

static int g_scur(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r;
    return present(v->str[i].cur, out);
}

static int g_ssum(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r;
    return present(v->str[i].sum, out);
}

static int g_savg(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r;
    return present(v->str[i].avg, out);
}

static int g_sac(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r;
    return present(v->str[i].ac, out);
}

static int g_sflags(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r;
    *out = v->st.string_flags[i - 1];
    return 1;
}

static int g_sflags2(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r;
    *out = v->st.string_flags2[i - 1];
    return 1;
}

static int g_nalarms(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r, (void)i;
    *out = v->nalarms;
    return 1;
}

static int g_alid(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r;
    *out = (double)v->alarms[i].id;
    return 1;
}

static int g_aldescr(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r;
    *out = v->alarms[i].type;
    return 1;
}

static int g_altime(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r;
    *out = v->alarms[i].ticks;
    return 1;
}

static int g_modalarms(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r, (void)i;
    *out = v->st.module_alarms;
    return 1;
}

static int g_modwarns(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int i, double *out)
{
    (void)r, (void)i;
    *out = v->st.module_warnings;
    return 1;
}

/* gxRAUX.N: unit (N-1)/8 + 1; within it 4 inputs then 4 outputs. */
static int g_aux(const ow_snmp_view_t *v, const ow_snmp_oid_t *r, int n, double *out)
{
    (void)r;
    int unit = (n - 1) / 8, k = (n - 1) % 8;
    if (unit >= v->cfg.aux_units) return 0;
    if (k < 4)
        *out = (v->aux_in >> (unit * 4 + k)) & 1u ? 2 : 1;
    else
        *out = (v->aux_out >> (unit * 4 + k - 4)) & 1u;
    return 1;
}

/* ---- the table ---- */

#define S(...)                                                                                     \
    {                                                                                              \
        __VA_ARGS__, 0                                                                             \
    }
/* Shorthands for the common kinds of row: each fixes the members its kind
 * always has, the row names the rest. */
/* A read-write alarm or warning level: the site file's key, alarmd applies it. */
#define SET(n_, nm_, ...)                                                                          \
    {                                                                                              \
        .sub = S(1, n_), .name = nm_, .type = OW_T_INT, .access = OW_A_RW, .inst = OW_I_SCALAR,    \
        .get = g_setting, __VA_ARGS__                                                              \
    }
/* A read-only scalar. */
#define RO(s_, nm_, ...)                                                                           \
    {                                                                                              \
        .sub = s_, .name = nm_, .type = OW_T_INT, .access = OW_A_RO, .inst = OW_I_SCALAR,          \
        __VA_ARGS__                                                                                \
    }
/* A read-only column of a table (.inst says which). */
#define COL(s_, nm_, ...)                                                                          \
    {                                                                                              \
        .sub = s_, .name = nm_, .type = OW_T_INT, .access = OW_A_RO, __VA_ARGS__                   \
    }
/* Structure: a node, table, entry or notification, no value. */
#define NODE(s_, nm_, ty_, d_)                                                                     \
    {                                                                                              \
        .sub = s_, .name = nm_, .type = ty_, .access = OW_A_NA, .inst = OW_I_SCALAR, .unit = "",   \
        .descr = d_                                                                                \
    }
#define AUXIN(n, u, i)                                                                             \
    {                                                                                              \
        .sub = S(5, n), .name = "gxRAUX" #u "Input" #i, .type = OW_T_INT, .access = OW_A_RO,       \
        .inst = OW_I_AUX, .scale = 1, .unit = "", .get = g_aux,                                    \
        .syntax = "INTEGER { normal(1), alarm(2) }",                                               \
        .descr = "Status of input " #i " on GX_R_AUX " #u "."                                      \
    }
#define AUXOUT(n, u, o)                                                                            \
    {                                                                                              \
        .sub = S(5, n), .name = "gxRAUX" #u "Output" #o, .type = OW_T_INT, .access = OW_A_RO,      \
        .inst = OW_I_AUX, .scale = 1, .unit = "", .get = g_aux,                                    \
        .syntax = "INTEGER { off(0), on(1) }",                                                     \
        .descr = "Status of output " #o " on GX_R_AUX " #u "."                                     \
    }
#define AUXUNIT(u, b)                                                                              \
    AUXIN(b + 1, u, 1), AUXIN(b + 2, u, 2), AUXIN(b + 3, u, 3), AUXIN(b + 4, u, 4),                \
        AUXOUT(b + 5, u, 1), AUXOUT(b + 6, u, 2), AUXOUT(b + 7, u, 3), AUXOUT(b + 8, u, 4)

/* A module value column's word on the sentinel (OW_SNMP_NO_READING). */
#define NOVAL " -2147483648: no value (the block not read yet, not answering, or not measured)."

/* The rows read better packed, one row per OID, than one member a line, so
 * clang-format leaves them alone. */
/* clang-format off */
const ow_snmp_oid_t ow_snmp_oids[] = {
    NODE(S(1), "bacsSettings", OW_T_NODE, "Configured settings and alarm thresholds."),
    {.sub = S(1, 1), .name = "bacsModuleType", .type = OW_T_INT, .access = OW_A_RO,
     .inst = OW_I_SCALAR, .scale = 1, .unit = "", .get = g_modtype,
     .syntax = "INTEGER { c20(0), c23(1), c30(10), c40(20), c41(21) }",
     .descr = "Module type. The guide gives 20 for both C40 and C41: C41 reads 21; C21 is read as "
              "C23 (1)."},
    RO(S(1, 2), "bacsNumStrings", .scale = 1, .unit = "", .get = g_nstrings,
       .descr = "Number of battery strings."),
    RO(S(1, 3), "bacsNumBatteries", .scale = 1, .unit = "", .get = g_nmodules,
       .descr = "Total number of batteries."),
    RO(S(1, 4), "bacsBattCap", .scale = 1, .unit = "Ah", .get = g_capacity,
       .descr = "Capacity of installed batteries (C10)."),
    RO(S(1, 5), "bacsLogRate1", .scale = 1, .unit = "s", .get = g_lograte1,
       .descr = "Period between log recordings during normal operation."),
    RO(S(1, 6), "bacsLogRate2", .scale = 1, .unit = "s", .get = g_lograte2,
       .descr = "Period between log recordings during charge or discharge; 0 = every reading."),
    SET(7, "bacsImpcPollRate", .scale = 1, .unit = "min", .key = "impedance_poll_min",
        .descr = "Period between internal impedance polls. Writable, through alarmd (busd's "
                 "simulator follows it)."),
    SET(8, "bacsImpcLowAlarm", .scale = 0.01, .unit = "mOhm",
        .key = "thresholds.impedance_mohm.low_alarm", .descr = "Impedance low alarm level."),
    SET(9, "bacsImpcHighAlarm", .scale = 0.01, .unit = "mOhm",
        .key = "thresholds.impedance_mohm.high_alarm",
        .descr = "Impedance high alarm level (the guide's scale 1 contradicts its example; 0.01 "
                 "mOhm)."),
    SET(10, "bacsTemperatureLowAlarm", .scale = 0.1, .temp = 1, .unit = "",
        .key = "thresholds.temp_c.low_alarm",
        .descr = "Temperature alarm below this level (unit: bacsTemperatureUnit)."),
    SET(11, "bacsTemperatureHighAlarm", .scale = 0.1, .temp = 1, .unit = "",
        .key = "thresholds.temp_c.high_alarm",
        .descr = "Temperature alarm above this level (unit: bacsTemperatureUnit)."),
    SET(12, "bacsVoltageLowAlarm", .scale = 0.01, .unit = "V",
        .key = "thresholds.voltage_v.low_alarm", .descr = "Voltage alarm below this level."),
    SET(13, "bacsVoltageHighAlarm", .scale = 0.01, .unit = "V",
        .key = "thresholds.voltage_v.high_alarm", .descr = "Voltage alarm above this level."),
    SET(14, "bacsImpcLowWarn", .scale = 0.01, .unit = "mOhm",
        .key = "thresholds.impedance_mohm.low_warn", .descr = "Impedance low warning level."),
    SET(15, "bacsImpcHighWarn", .scale = 0.01, .unit = "mOhm",
        .key = "thresholds.impedance_mohm.high_warn", .descr = "Impedance high warning level."),
    SET(16, "bacsTemperatureLowWarn", .scale = 0.1, .temp = 1, .unit = "",
        .key = "thresholds.temp_c.low_warn",
        .descr = "Temperature warning below this level (unit: bacsTemperatureUnit)."),
    SET(17, "bacsTemperatureHighWarn", .scale = 0.1, .temp = 1, .unit = "",
        .key = "thresholds.temp_c.high_warn",
        .descr = "Temperature warning above this level (unit: bacsTemperatureUnit)."),
    SET(18, "bacsVoltageLowWarn", .scale = 0.01, .unit = "V",
        .key = "thresholds.voltage_v.low_warn", .descr = "Voltage warning below this level."),
    SET(19, "bacsVoltageHighWarn", .scale = 0.01, .unit = "V",
        .key = "thresholds.voltage_v.high_warn", .descr = "Voltage warning above this level."),
    SET(20, "bacsTemperatureUnit", .scale = 1, .unit = "", .key = "temperature_unit",
        .syntax = "INTEGER { celsius(0), fahrenheit(1) }",
        .descr = "Temperature unit of every temperature object of this context. Writable, "
                 "through alarmd, which keeps it: every snmpd and ohmwatch status show the same "
                 "unit, after restarts too."),
    SET(21, "bacsStringVoltageLowAlarm", .scale = 0.01, .unit = "V",
        .key = "thresholds.string_voltage_v.low_alarm",
        .descr = "Battery string voltage low alarm threshold."),
    SET(22, "bacsStringVoltageHighAlarm", .scale = 0.01, .unit = "V",
        .key = "thresholds.string_voltage_v.high_alarm",
        .descr = "Battery string voltage high alarm threshold."),
    SET(23, "bacsStringVoltageLowWarn", .scale = 0.01, .unit = "V",
        .key = "thresholds.string_voltage_v.low_warn",
        .descr = "Battery string voltage low warning threshold."),
    SET(24, "bacsStringVoltageHighWarn", .scale = 0.01, .unit = "V",
        .key = "thresholds.string_voltage_v.high_warn",
        .descr = "Battery string voltage high warning threshold."),
    SET(25, "bacsStringCurrentDeviationDischargeAlarm", .scale = 0.01, .unit = "A",
        .key = "thresholds.current_deviation.discharge_alarm_a",
        .descr = "Alarm threshold for the discharge current difference between strings."),
    SET(26, "bacsStringCurrentDeviationChargeAlarm", .scale = 0.01, .unit = "A",
        .key = "thresholds.current_deviation.charge_alarm_a",
        .descr = "Alarm threshold for the charge current difference between strings."),
    SET(27, "bacsStringCurrentDeviationDischargeWarn", .scale = 0.01, .unit = "A",
        .key = "thresholds.current_deviation.discharge_warn_a",
        .descr = "Warning threshold for the discharge current difference between strings."),
    SET(28, "bacsStringCurrentDeviationChargeWarn", .scale = 0.01, .unit = "A",
        .key = "thresholds.current_deviation.charge_warn_a",
        .descr = "Warning threshold for the charge current difference between strings."),
    NODE(S(2), "bacsObjects", OW_T_NODE, "Measurements and status."),
    RO(S(2, 1), "bacsStatus", .scale = 1, .unit = "flags", .get = g_status,
       .descr = "General Status Flags (docs/alarms.md), as Modbus register 1000."),
    RO(S(2, 2), "bacsAvModuleVolt", .scale = 0.01, .unit = "V", .get = g_avvolt,
       .descr = "Average voltage of answering modules."),
    RO(S(2, 3), "bacsTotalVolt", .scale = 0.01, .unit = "V", .get = g_totvolt,
       .descr = "Total voltage of answering modules."),
    RO(S(2, 4), "bacsNumModules", .scale = 1, .unit = "", .get = g_nmodules,
       .descr = "Number of installed battery modules."),
    NODE(S(2, 5), "bacsModuleTable", OW_T_TABLE, "The battery modules, by module address."),
    NODE(S(2, 5, 1), "bacsModuleEntry", OW_T_ENTRY, "One battery module."),
    {.sub = S(2, 5, 1, 1), .name = "bacsModuleIndex", .type = OW_T_INT, .access = OW_A_RO,
     .inst = OW_I_MODULE, .scale = 1, .unit = "", .get = g_index0, .syntax = "Integer32 (0..519)",
     .descr = "Module identifier: module address minus one (the guide's example)."},
    COL(S(2, 5, 1, 2), "bacsModuleVoltage", .inst = OW_I_MODULE, .scale = 0.01, .unit = "V",
        .get = g_mvolt, .descr = "Measured block voltage." NOVAL),
    COL(S(2, 5, 1, 3), "bacsModuleTemperature", .inst = OW_I_MODULE, .scale = 0.1, .temp = 1,
        .unit = "", .get = g_mtemp,
        .descr = "Measured block temperature (unit: bacsTemperatureUnit)." NOVAL),
    COL(S(2, 5, 1, 4), "bacsModuleBypass", .inst = OW_I_MODULE, .scale = 0.1, .unit = "%",
        .get = g_mbypass, .descr = "Equalization bypass." NOVAL),
    COL(S(2, 5, 1, 5), "bacsModuleResistance", .inst = OW_I_MODULE, .scale = 0.01, .unit = "mOhm",
        .get = g_mres, .descr = "Measured internal impedance." NOVAL),
    COL(S(2, 5, 1, 6), "bacsModuleState", .inst = OW_I_MODULE, .scale = 1, .unit = "flags",
        .get = g_mstate,
        .descr = "Module Alarm Flags (docs/alarms.md). Communication lost (2) is set from the first "
                 "poll the block does not answer (and until it is first read) to its next answer."),
    RO(S(2, 6), "bacsNumStringsObj", .scale = 1, .unit = "", .get = g_nstrings,
       .descr = "Number of battery strings (the guide's second bacsNumStrings)."),
    NODE(S(2, 7), "bacsStringTable", OW_T_TABLE, "The battery strings."),
    NODE(S(2, 7, 1), "bacsStringEntry", OW_T_ENTRY, "One battery string."),
    {.sub = S(2, 7, 1, 1), .name = "bacsStringIndex", .type = OW_T_INT, .access = OW_A_RO,
     .inst = OW_I_STRING, .scale = 1, .unit = "", .get = g_index0, .syntax = "Integer32 (0..15)",
     .descr = "String identifier: string number minus one (the guide's example)."},
    COL(S(2, 7, 1, 2), "bacsStringCurrent", .inst = OW_I_STRING, .scale = 0.01, .unit = "A",
        .get = g_scur, .descr = "String DC current, positive charging, negative discharging."),
    COL(S(2, 7, 1, 3), "bacsStringTotalVolt", .inst = OW_I_STRING, .scale = 0.01, .unit = "V",
        .get = g_ssum, .descr = "String total voltage."),
    COL(S(2, 7, 1, 4), "bacsStringAverageVol", .inst = OW_I_STRING, .scale = 0.01, .unit = "V",
        .get = g_savg, .descr = "String average voltage per battery."),
    COL(S(2, 7, 1, 5), "bacsStringCurrentAC", .inst = OW_I_STRING, .scale = 0.01, .unit = "A",
        .get = g_sac, .descr = "String AC (ripple) current."),
    COL(S(2, 7, 1, 6), "bacsStringAlarm", .inst = OW_I_STRING, .scale = 1, .unit = "flags",
        .get = g_sflags, .descr = "String Alarm Flags (docs/alarms.md)."),
    COL(S(2, 7, 1, 7), "bacsStringAlarm2", .inst = OW_I_STRING, .scale = 1, .unit = "flags",
        .get = g_sflags2, .descr = "Battery String Alarm Flags (docs/alarms.md)."),
    NODE(S(3), "bacsAlarms", OW_T_NODE, "Active alarms."),
    {.sub = S(3, 1), .name = "bacsAlarmsPresent", .type = OW_T_GAUGE, .access = OW_A_RO,
     .inst = OW_I_SCALAR, .scale = 1, .unit = "", .get = g_nalarms,
     .descr = "The present number of active alarm conditions (rows of bacsAlarmTable)."},
    NODE(S(3, 2), "bacsAlarmTable", OW_T_TABLE, "The active alarms."),
    NODE(S(3, 2, 1), "bacsAlarmEntry", OW_T_ENTRY, "One active alarm."),
    {.sub = S(3, 2, 1, 1), .name = "bacsAlarmId", .type = OW_T_INT, .access = OW_A_RO,
     .inst = OW_I_ALARM, .scale = 1, .unit = "", .get = g_alid,
     .syntax = "Integer32 (1..2147483647)",
     .descr = "Unique identifier of the alarm condition (alarmd's alarm id; never reused)."},
    {.sub = S(3, 2, 1, 2), .name = "bacsAlarmDescr", .type = OW_T_OID, .access = OW_A_RO,
     .inst = OW_I_ALARM, .scale = 1, .unit = "", .get = g_aldescr,
     .descr = "The alarm's type: a bacsWellKnownAlarms identity."},
    {.sub = S(3, 2, 1, 3), .name = "bacsAlarmTime", .type = OW_T_TICKS, .access = OW_A_RO,
     .inst = OW_I_ALARM, .scale = 1, .unit = "", .get = g_altime,
     .descr = "sysUpTime when the agent learnt of the alarm; 0 if it was active before the agent "
              "started."},
    NODE(S(3, 3), "bacsWellKnownAlarms", OW_T_NODE,
         "Alarm types; identities generated from the alarm catalogue."),
    {.sub = S(3, 4), .name = "bacsModuleAlarmsPresent", .type = OW_T_GAUGE, .access = OW_A_RO,
     .inst = OW_I_SCALAR, .scale = 1, .unit = "", .get = g_modalarms,
     .descr = "Number of modules currently in an alarm state."},
    {.sub = S(3, 5), .name = "bacsModuleWarningsPresent", .type = OW_T_GAUGE, .access = OW_A_RO,
     .inst = OW_I_SCALAR, .scale = 1, .unit = "", .get = g_modwarns,
     .descr = "Number of modules currently in a warning state."},
    NODE(S(4), "bacstraps", OW_T_NODE, "Notifications."),
    NODE(S(4, 1), "bacsTrapAlarmEntryAdded", OW_T_NOTIF,
         "Sent when an alarm appears in bacsAlarmTable."),
    NODE(S(4, 2), "bacsTrapAlarmEntryRemoved", OW_T_NOTIF,
         "Sent when an alarm leaves bacsAlarmTable."),
    NODE(S(5), "gxRAUX", OW_T_NODE, "GX_R_AUX dry-contact inputs and relay outputs."),
    AUXUNIT(1, 0),
    AUXUNIT(2, 8),
    AUXUNIT(3, 16),
    AUXUNIT(4, 24),
};
/* clang-format on */
const int ow_snmp_noids = (int)(sizeof ow_snmp_oids / sizeof ow_snmp_oids[0]);

int ow_snmp_sublen(const ow_snmp_oid_t *o)
{
    int n = 0;
    while (n < OW_SNMP_MAXSUB && o->sub[n])
        n++;
    return n;
}

int ow_snmp_row_cmp(const ow_snmp_oid_t *a, const ow_snmp_oid_t *b)
{
    for (int i = 0; i < OW_SNMP_MAXSUB; i++) {
        if (a->sub[i] != b->sub[i]) return a->sub[i] < b->sub[i] ? -1 : 1;
        if (!a->sub[i]) return 0;
    }
    return 0;
}

int ow_snmp_find(const char *name)
{
    for (int i = 0; i < ow_snmp_noids; i++)
        if (strcmp(ow_snmp_oids[i].name, name) == 0) return i;
    return -1;
}

/* The row an instance OID belongs to (its OID minus the instance), or -1. */
int ow_snmp_row_of(const uint32_t *o, int len)
{
    if (len <= OW_SNMP_ROOTN + 1 || memcmp(o, ow_snmp_root, sizeof ow_snmp_root) != 0) return -1;
    int n = len - OW_SNMP_ROOTN - 1;
    if (n > OW_SNMP_MAXSUB - 1) return -1;
    for (int r = 0; r < ow_snmp_noids; r++) {
        const ow_snmp_oid_t *row = &ow_snmp_oids[r];
        if (!row->get || ow_snmp_sublen(row) != n) continue;
        int k = 0;
        while (k < n && (uint32_t)row->sub[k] == o[OW_SNMP_ROOTN + k])
            k++;
        if (k == n) return r;
    }
    return -1;
}

/* ---- docs and MIB ---- */

static const char *tname[] = {"INTEGER", "Gauge32", "TimeTicks", "OBJECT IDENTIFIER",
                              "table",   "entry",   "node",      "notification"};
static const char *aname[] = {"n/a", "RO", "RW"};
_Static_assert(sizeof tname / sizeof tname[0] == OW_T_NOTIF + 1, "a name for every type");
_Static_assert(sizeof aname / sizeof aname[0] == OW_A_RW + 1, "a name for every access");

static void put_oid(FILE *f, const ow_snmp_oid_t *o)
{
    fprintf(f, "%s", OW_SNMP_ROOT);
    for (int k = 0; k < ow_snmp_sublen(o); k++)
        fprintf(f, ".%d", o->sub[k]);
}

int ow_snmp_doc(FILE *f)
{
    fprintf(f,
            "# SNMP OID map\n\nGenerated from services/snmpd/oidtab.c by "
            "scripts/gen-docs.sh; do not edit. Root: %s. The MIB module "
            "`mibs/OHMWATCH-BACS-MIB.txt` is generated from the same table.\n\n",
            OW_SNMP_ROOT);
    fprintf(f, "Wire value = round(value / scale). Where the guide contradicts itself or is "
               "silent:\n\n"
               "- bacsModuleType lists 20 for both C40 and C41: C41 reads 21; C21 reads as C23 "
               "(1).\n"
               "- bacsImpcHighAlarm says scale 1 but its example (5000 -> 50 mOhm) and its "
               "siblings say 0.01 mOhm: 0.01 mOhm.\n"
               "- bacsNumStrings is both bacsSettings.2 and bacsObjects.6: the second is "
               "bacsNumStringsObj (same value); hyphens in the guide's names are dropped.\n"
               "- bacsModuleIndex / bacsStringIndex read the number minus one, as in the guide's "
               "example, while the instance is the number.\n"
               "- bacsTemperatureUnit and bacsImpcPollRate are writable (SNMPv3 user with "
               "`write`), as in the guide: they are the gateway's runtime settings "
               "`temperature_unit` and `impedance_poll_min` (docs/config.md), which alarmd "
               "holds, persists and audits with the SNMP user like every alarm and warning "
               "level; what is served is alarmd's value, so the unit survives an snmpd restart "
               "and every snmpd (and `ohmwatch status`) shows the same. A SET of 0 (celsius) "
               "or 1 (fahrenheit) switches every temperature object of that context; "
               "temperature levels in the same SET are read in the unit before it, and are "
               "stored in degC whatever the unit. busd's simulator measures impedance at "
               "bacsImpcPollRate (it asks alarmd at start and follows its changes); a field "
               "device measures on its own schedule, which the guide's Modbus map cannot set. "
               "A value out of range (unit 0..1, rate 1..44640 min) gets wrongValue, with the "
               "reason in snmpd's log. Every alarm and warning level is writable, through "
               "alarmd, and persisted.\n"
               "- Temperatures (T) are 0.1 of the unit selected by bacsTemperatureUnit.\n"
               "- NMS discovery: sysObjectID.0 is 1.3.6.1.2.1.33.5, the tree's root "
               "(`services.snmpd.sys_object_id`). Checkmk's BACS plugins (bacs_battery, "
               "bacs_string) and its generic UPS detection take a device whose sysObjectID "
               "starts with .1.3.6.1.2.1.33 for a BACS / UPS webmanager; Schneider's Generex "
               "BACS2 device definition wants the tree 1.3.6.1.2.1.33.5 to exist. Their reading "
               "of the module table (index plus one when the first reads 0, V / 100, T / 10, "
               "mOhm / 100) is tests/test_snmpd_nms.py's.\n"
               "- gxRAUX inputs: normal(1), alarm(2); outputs: off(0), on(1); only fitted units.\n"
               "- A block without a value (not read yet, not answering, or that value not "
               "measured) reads -2147483648, Integer32's lowest, in bacsModuleVoltage, "
               "bacsModuleTemperature, bacsModuleBypass and bacsModuleResistance, as Modbus "
               "serves 0x8000 (-32768), its signed 16 bits' lowest (docs/modbus.md). The guide "
               "declares no range and no \"not available\" value; a value keeps every row of "
               "the table present (no column shifted for a manager that zips columns), no "
               "reading is served as it (they clamp to -2147483647), and it is never "
               "plausible (-21474836.48 V). The history stores NULL for it (services/historian: "
               "module_readings' value columns "
               "are nullable; status keeps the no-answer bit 0x0001). bacsModuleState "
               "carries Communication lost (0x0002) from the first poll not answered (and "
               "until the block is first read) to its first answer, whatever alarmd's word "
               "says meanwhile: alarmd raises bacsAlarmSystemError only after "
               "`comm_lost_polls` polls.\n"
               "- A gateway whose busd has gone quiet (no message for three poll periods, "
               "3 s at least: killed, hung, cut off; lib/ow_quiet.h, the rule alarmd raises "
               "the gateway's Communication lost by) serves every block as not answering "
               "(-2147483648, Communication lost) and its strings as unmeasured (the "
               "bacsString value rows absent, the flag rows alarmd's), never the last values "
               "heard; its next readings are served as they come.\n"
               "- bacsAlarmTime is sysUpTime when the agent learnt of the alarm, 0 if the alarm "
               "was active before the agent started.\n"
               "- Alarm types above 39 (ohmwatch additions) are bacsWellKnownAlarms.101 ... "
               "(below).\n"
               "- The webmanager dashboard's values: Target Voltage is bacsStringAverageVol "
               "(the average block voltage the equalizers aim at, proto/README.md); Real "
               "Power, Ripple Voltage, the Discharge Counter, Equalizing paused and the "
               "info panel have no object in the guide's MIB, so none is served (no OID "
               "invented): `ohmwatch status` shows them, the history stores power and "
               "ripple.\n\n");
    fprintf(f, "| OID | Name | Type | Access | Scale | Unit | Setting |\n"
               "|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < ow_snmp_noids; i++) {
        const ow_snmp_oid_t *o = &ow_snmp_oids[i];
        fprintf(f, "| ");
        put_oid(f, o);
        fprintf(f, " | %s | %s | %s | %g | %s | %s |\n", o->name,
                o->syntax ? o->syntax : tname[o->type], aname[o->access], o->scale,
                o->temp ? "T" : o->unit, o->key ? o->key : "");
    }
    fprintf(f, "\n## bacsWellKnownAlarms (%s.3.3.N)\n\n| N | Name | Severity |\n|---|---|---|\n",
            OW_SNMP_ROOT);
    for (size_t i = 0; i < gbms_alarms_count; i++)
        fprintf(f, "| %d | %s | %s |\n", gbms_alarms[i].code, gbms_alarms[i].name,
                gbms_alarms[i].severity == OW_SEV_ALARM ? "alarm" : "warning");
    return ferror(f) ? -1 : 0;
}

/* The descriptor of a row's parent (the row whose OID is this one's minus
 * its last sub-identifier), or the module identity. */
static const char *parent_name(const ow_snmp_oid_t *o)
{
    int n = ow_snmp_sublen(o);
    for (int i = 0; i < ow_snmp_noids; i++) {
        const ow_snmp_oid_t *p = &ow_snmp_oids[i];
        if (ow_snmp_sublen(p) == n - 1 &&
            memcmp(p->sub, o->sub, (size_t)(n - 1) * sizeof(int)) == 0)
            return p->name;
    }
    return "bacsMIB";
}

static const char *syntax_of(const ow_snmp_oid_t *o)
{
    if (o->syntax) return o->syntax;
    switch (o->type) {
    case OW_T_GAUGE:
        return "Gauge32";
    case OW_T_TICKS:
        return "TimeTicks";
    case OW_T_OID:
        return "OBJECT IDENTIFIER";
    default:
        return "Integer32";
    }
}

static void mib_descr(FILE *f, const ow_snmp_oid_t *o)
{
    fprintf(f, "    DESCRIPTION \"%s", o->descr);
    if (o->temp)
        fprintf(f, " Scale %g.", o->scale);
    else if (o->scale != 1)
        fprintf(f, " Scale %g %s.", o->scale, o->unit);
    else if (o->unit[0] && strcmp(o->unit, "flags") != 0)
        fprintf(f, " Unit %s.", o->unit);
    if (o->key) {
        double lo, hi;
        if (ow_gateway_range(o->key, &lo, &hi) == 0)
            fprintf(f, " Site setting %s, %g to %g before scaling%s.", o->key, lo, hi,
                    strncmp(o->key, "thresholds.", 11) == 0
                        ? "; a level above its counterpart is refused (inconsistentValue)"
                        : "");
    }
    fprintf(f, "\"\n");
}

static const char *const mib_head =
    "-- Generated from services/snmpd/oidtab.c by scripts/gen-docs.sh; do not edit.\n"
    "-- The G.BMS / BACS webmanager's SNMP objects (its user guide, \"SNMP OID\n"
    "-- List\") as served by ohmwatch-snmpd. Our own text of that tree.\n"
    "OHMWATCH-BACS-MIB DEFINITIONS ::= BEGIN\n\n"
    "IMPORTS\n"
    "    MODULE-IDENTITY, OBJECT-TYPE, NOTIFICATION-TYPE, OBJECT-IDENTITY,\n"
    "    Integer32, Gauge32, TimeTicks, mib-2\n"
    "        FROM SNMPv2-SMI\n"
    "    MODULE-COMPLIANCE, OBJECT-GROUP, NOTIFICATION-GROUP\n"
    "        FROM SNMPv2-CONF;\n\n"
    "bacsMIB MODULE-IDENTITY\n"
    "    LAST-UPDATED \"202611210000Z\"\n"
    "    ORGANIZATION \"ohmwatch\"\n"
    "    CONTACT-INFO \"ohmwatch developers; see the project's README.\"\n"
    "    DESCRIPTION \"Battery monitoring objects of the Gutor G.BMS / GENEREX BACS\n"
    "        webmanager under 1.3.6.1.2.1.33.5, as served by ohmwatch. Where the\n"
    "        vendor's guide contradicts itself the choices are in docs/snmp.md.\"\n"
    "    REVISION \"202611210000Z\"\n"
    "    DESCRIPTION \"First version.\"\n"
    "    ::= { mib-2 33 5 }\n\n";

int ow_snmp_mib(FILE *f)
{
    fputs(mib_head, f);
    for (int i = 0; i < ow_snmp_noids; i++) {
        const ow_snmp_oid_t *o = &ow_snmp_oids[i];
        const char *par = parent_name(o);
        int last = o->sub[ow_snmp_sublen(o) - 1];
        switch (o->type) {
        case OW_T_NODE:
            fprintf(f, "%s OBJECT IDENTIFIER ::= { %s %d }\n\n", o->name, par, last);
            if (o->sub[0] == 3 && o->sub[1] == 3 && !o->sub[2])
                for (size_t a = 0; a < gbms_alarms_count; a++)
                    fprintf(f,
                            "%s OBJECT-IDENTITY\n    STATUS current\n    DESCRIPTION \"%s\"\n"
                            "    ::= { bacsWellKnownAlarms %d }\n\n",
                            gbms_alarms[a].name, gbms_alarms[a].doc, gbms_alarms[a].code);
            break;
        case OW_T_TABLE: {
            const ow_snmp_oid_t *e = &ow_snmp_oids[i + 1];
            fprintf(f,
                    "%s OBJECT-TYPE\n    SYNTAX SEQUENCE OF %c%s\n    MAX-ACCESS not-accessible\n"
                    "    STATUS current\n    DESCRIPTION \"%s\"\n    ::= { %s %d }\n\n",
                    o->name, e->name[0] - 'a' + 'A', e->name + 1, o->descr, par, last);
            break;
        }
        case OW_T_ENTRY: {
            fprintf(f,
                    "%s OBJECT-TYPE\n    SYNTAX %c%s\n    MAX-ACCESS not-accessible\n"
                    "    STATUS current\n    DESCRIPTION \"%s\"\n",
                    o->name, o->name[0] - 'a' + 'A', o->name + 1, o->descr);
            fprintf(f, "    INDEX { %s }\n    ::= { %s %d }\n\n", ow_snmp_oids[i + 1].name, par,
                    last);
            fprintf(f, "%c%s ::= SEQUENCE {", o->name[0] - 'a' + 'A', o->name + 1);
            int n = ow_snmp_sublen(o);
            for (int c = i + 1; c < ow_snmp_noids && ow_snmp_sublen(&ow_snmp_oids[c]) == n + 1 &&
                                memcmp(ow_snmp_oids[c].sub, o->sub, (size_t)n * sizeof(int)) == 0;
                 c++) {
                /* a SEQUENCE names the bare type: no ranges, no enumerations */
                const char *sy = syntax_of(&ow_snmp_oids[c]);
                int bare = (int)strcspn(sy, "({");
                while (bare > 0 && sy[bare - 1] == ' ')
                    bare--;
                fprintf(f, "%s\n    %s %.*s", c > i + 1 ? "," : "", ow_snmp_oids[c].name, bare, sy);
            }
            fprintf(f, "\n}\n\n");
            break;
        }
        case OW_T_NOTIF:
            fprintf(f,
                    "%s NOTIFICATION-TYPE\n    OBJECTS { bacsAlarmId, bacsAlarmDescr, "
                    "bacsAlarmTime }\n    STATUS current\n    DESCRIPTION \"%s\"\n"
                    "    ::= { %s %d }\n\n",
                    o->name, o->descr, par, last);
            break;
        default:
            fprintf(f, "%s OBJECT-TYPE\n    SYNTAX %s\n", o->name, syntax_of(o));
            if (o->scale != 1 && !o->temp && o->unit[0])
                fprintf(f, "    UNITS \"%g %s\"\n", o->scale, o->unit);
            fprintf(f, "    MAX-ACCESS %s\n    STATUS current\n",
                    o->access == OW_A_RW ? "read-write" : "read-only");
            mib_descr(f, o);
            fprintf(f, "    ::= { %s %d }\n\n", par, last);
        }
    }
    /* Conformance: every object and both notifications in a group. */
    fprintf(f, "bacsConformance OBJECT IDENTIFIER ::= { bacsMIB 6 }\n"
               "bacsGroups OBJECT IDENTIFIER ::= { bacsConformance 1 }\n"
               "bacsCompliances OBJECT IDENTIFIER ::= { bacsConformance 2 }\n\n"
               "bacsObjectGroup OBJECT-GROUP\n    OBJECTS {");
    int first = 1;
    for (int i = 0; i < ow_snmp_noids; i++) {
        const ow_snmp_oid_t *o = &ow_snmp_oids[i];
        if (o->type >= OW_T_TABLE) continue;
        fprintf(f, "%s\n        %s", first ? "" : ",", o->name);
        first = 0;
    }
    fprintf(f, "\n    }\n    STATUS current\n    DESCRIPTION \"The objects ohmwatch serves.\"\n"
               "    ::= { bacsGroups 1 }\n\n"
               "bacsNotificationGroup NOTIFICATION-GROUP\n"
               "    NOTIFICATIONS { bacsTrapAlarmEntryAdded, bacsTrapAlarmEntryRemoved }\n"
               "    STATUS current\n    DESCRIPTION \"Alarm table changes.\"\n"
               "    ::= { bacsGroups 2 }\n\n"
               "bacsCompliance MODULE-COMPLIANCE\n    STATUS current\n"
               "    DESCRIPTION \"An agent serving this tree.\"\n"
               "    MODULE\n        MANDATORY-GROUPS { bacsObjectGroup, bacsNotificationGroup }\n"
               "    ::= { bacsCompliances 1 }\n\nEND\n");
    return ferror(f) ? -1 : 0;
}
