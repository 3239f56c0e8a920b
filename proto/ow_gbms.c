/* The guide's flag tables and the alarm catalogue; see ow_gbms.h. Where the
 * guide is silent or contradicts itself the choice is written beside the row
 * and shows in docs/alarms.md. */
#include "ow_gbms.h"

#include "ow_proto.h"

#define NF(a) (sizeof(a) / sizeof((a)[0]))

static const gbms_flag_t general_flags[] = {
    {"BACS_STATE_NONE", GBMS_ST_NONE, "no bit set: alarmd has no data from the gateway"},
    {"BACS_STATE_RUNNING", GBMS_ST_RUNNING, "readings arrive from the gateway's busd"},
    {"BACS_STATE_CONNECTED", GBMS_ST_CONNECTED,
     "starting up: connected, first complete poll cycle not yet seen"},
    {"BACS_STATE_MODULE_LOST", GBMS_ST_MODULE_LOST, "one or more modules do not answer"},
    {"BACS_STATE_DISCHARGING", GBMS_ST_DISCHARGING, "a string is discharging"},
    {"BACS_STATE_CHARGING", GBMS_ST_CHARGING, "a string is charging (above float current)"},
    {"BACS_STATE_DISCHARGING_STOPPED", GBMS_ST_DISCHARGING_STOPPED,
     "a discharge ended and float has not been reached again"},
    {"BACS_STATE_FLOAT_CHARGING", GBMS_ST_FLOAT_CHARGING, "all strings on float"},
    {"BACS_STATE_EQUALISATION", GBMS_ST_EQUALISATION, "one or more modules are equalizing"},
    {"BACS_STATE_SYSTEM_FAILURE", GBMS_ST_SYSTEM_FAILURE,
     "the gateway's bus communication is lost (alarm 20)"},
    {"BACS_STATE_VOLTAGE_OUTOFRANGE", GBMS_ST_VOLTAGE_OUTOFRANGE,
     "a block voltage alarm (6, 7) is active"},
    {"BACS_STATE_TEMPERATURE_OUTOFRANGE", GBMS_ST_TEMPERATURE_OUTOFRANGE,
     "a block temperature alarm (8, 9) is active"},
    {"BACS_STATE_RESISTOR_OUTOFRANGE", GBMS_ST_RESISTOR_OUTOFRANGE,
     "a block impedance alarm (10, 11) is active"},
    {"BACS_STATE_MODULE_ADDRESSING", GBMS_ST_MODULE_ADDRESSING,
     "never set: addressing is done on the webmanager itself"},
    {"BACS_STATE_MODULE_SEARCHING", GBMS_ST_MODULE_SEARCHING, "never set (as above)"},
    {"BACS_STATE_MODULE-INITIALIZING", GBMS_ST_MODULE_INITIALIZING,
     "set with CONNECTED until the first complete poll cycle"},
    {"BACS_STATE_MODULE-POLLING", GBMS_ST_MODULE_POLLING,
     "never set: ohmwatch's Modbus server answers from an image, no poll is ever pending"},
};

static const gbms_flag_t battery_flags[] = {
    {"BACS_STATE-GENERAL-ALARM", GBMS_BAT_GENERAL_ALARM,
     "an alarm of severity alarm is active (warnings do not set it)"},
    {"BACS_STATE-VOLTAGE-DIFF-HIGH", GBMS_BAT_VOLTAGE_DIFF_HIGH,
     "max voltage difference alarm (26) active; only when max_voltage_diff_v > 0"},
    {"BACS_STATE-BATTERY-BREAKER-OPEN", GBMS_BAT_BREAKER_OPEN,
     "the breaker output (thermal_runaway.breaker_output) is on (alarm 21)"},
    {"BACS_STATE_THERMAL_RUNAWAY", GBMS_BAT_THERMAL_RUNAWAY, "thermal runaway alarm (22) active"},
};

static const gbms_flag_t alarm_flags[] = {
    {"BACS_ALARM_NONE", 0, "no alarm of this type"},
    {"BACS_ALARM_GENERAL_ALARM", GBMS_AL_GENERAL_ALARM,
     "in 1002: the general alarm; in a module/string word: that module/string has an alarm"},
    {"BACS_ALARM_COMMUNICATION_LOST", GBMS_AL_COMMUNICATION_LOST,
     "module (1) or bus (20) communication lost"},
    {"BACS_ALARM_VOLTAGE_HIGH", GBMS_AL_VOLTAGE_HIGH, "block voltage high alarm (6)"},
    {"BACS_ALARM_VOLTAGE_LOW", GBMS_AL_VOLTAGE_LOW, "block voltage low alarm (7)"},
    {"BACS_ALARM_TEMPERATURE_HIGH", GBMS_AL_TEMPERATURE_HIGH, "block temperature high alarm (8)"},
    {"BACS_ALARM_TEMPERATURE_LOW", GBMS_AL_TEMPERATURE_LOW, "block temperature low alarm (9)"},
    {"BACS_ALARM_RESISTOR_HIGH", GBMS_AL_RESISTOR_HIGH, "block impedance high alarm (10)"},
    {"BACS_ALARM_RESISTOR_LOW", GBMS_AL_RESISTOR_LOW, "block impedance low alarm (11)"},
};

static const gbms_flag_t string_flags[] = {
    {"No Alarm", 0, "no alarm of this type"},
    {"Current Sensor High", GBMS_STR_CURRENT_HIGH, "string current high alarm (31)"},
    {"Current Sensor Low", GBMS_STR_CURRENT_LOW, "string current low alarm (32)"},
    {"Current Sensor High Warning", GBMS_STR_CURRENT_HIGH_WARN, "string current high warning (33)"},
    {"Current Sensor Low Warning", GBMS_STR_CURRENT_LOW_WARN, "string current low warning (34)"},
    {"Equalizing Cut Off", GBMS_STR_EQUALIZING_CUT_OFF, "equalizing not operating (35)"},
    {"Current Deviation Discharge", GBMS_STR_DEV_DISCHARGE, "deviation alarm on discharge (37)"},
    {"Current Deviation Charge", GBMS_STR_DEV_CHARGE, "deviation alarm on charge (36)"},
    {"Current Deviation Discharge Warning", GBMS_STR_DEV_DISCHARGE_WARN,
     "deviation warning on discharge (39)"},
    {"Current Deviation Charge Warning", GBMS_STR_DEV_CHARGE_WARN,
     "deviation warning on charge (38). The guide gives 0x1000 / 4096 where the sequence "
     "suggests 0x0100; hex and decimal agree, so 0x1000 is kept"},
};

const gbms_flag_table_t gbms_flag_tables[] = {
    {"General Status Flags", "Modbus 1000, bacsStatus", general_flags, NF(general_flags)},
    {"Battery Status Flags", "Modbus 1001", battery_flags, NF(battery_flags)},
    {"Alarm Flags", "Modbus 1002, MODULE_nnn_ALARM, bacsModuleState, bacsStringAlarm", alarm_flags,
     NF(alarm_flags)},
    {"Battery String Alarm Flags", "bacsStringAlarm2", string_flags, NF(string_flags)},
};
const size_t gbms_flag_tables_count = NF(gbms_flag_tables);

#define MOD GBMS_SCOPE_MODULE
#define STR GBMS_SCOPE_STRING
#define GW  GBMS_SCOPE_GATEWAY
#define W   OW_SEV_WARNING
#define A   OW_SEV_ALARM
#define I   OW_SEV_INFO

/* code, name, severity, scope, alarm flag, string flag, battery flag, status flag, raised, doc */
const gbms_alarm_t gbms_alarms[] = {
    {1, "bacsAlarmSystemError", A, MOD, GBMS_AL_COMMUNICATION_LOST, 0, 0, GBMS_ST_MODULE_LOST, 1,
     "a module did not answer `comm_lost_polls` polls in a row; clears at its next answer"},
    {2, "bacsAlarmResistWarn", W, MOD, 0, 0, 0, 0, 0,
     "reserved: the specific 17 (high) / 18 (low) are raised instead"},
    {3, "bacsAlarmResistAlarm", A, MOD, 0, 0, 0, 0, 0,
     "reserved: the specific 10 (high) / 11 (low) are raised instead"},
    {4, "bacsAlarmVoltage", A, MOD, 0, 0, 0, 0, 0,
     "reserved: the specific 6 (high) / 7 (low) are raised instead"},
    {5, "bacsAlarmTemperature", A, MOD, 0, 0, 0, 0, 0,
     "reserved: the specific 8 (high) / 9 (low) are raised instead"},
    {6, "bacsAlarmVoltageHigh", A, MOD, GBMS_AL_VOLTAGE_HIGH, 0, 0, GBMS_ST_VOLTAGE_OUTOFRANGE, 1,
     "block voltage above `voltage_v.high_alarm`"},
    {7, "bacsAlarmVoltageLow", A, MOD, GBMS_AL_VOLTAGE_LOW, 0, 0, GBMS_ST_VOLTAGE_OUTOFRANGE, 1,
     "block voltage below `voltage_v.low_alarm`"},
    {8, "bacsAlarmTemperatureHigh", A, MOD, GBMS_AL_TEMPERATURE_HIGH, 0, 0,
     GBMS_ST_TEMPERATURE_OUTOFRANGE, 1, "block temperature above `temp_c.high_alarm`"},
    {9, "bacsAlarmTemperatureLow", A, MOD, GBMS_AL_TEMPERATURE_LOW, 0, 0,
     GBMS_ST_TEMPERATURE_OUTOFRANGE, 1, "block temperature below `temp_c.low_alarm`"},
    {10, "bacsAlarmResistAlarmHigh", A, MOD, GBMS_AL_RESISTOR_HIGH, 0, 0,
     GBMS_ST_RESISTOR_OUTOFRANGE, 1, "block impedance above `impedance_mohm.high_alarm`"},
    {11, "bacsAlarmResistAlarmLow", A, MOD, GBMS_AL_RESISTOR_LOW, 0, 0, GBMS_ST_RESISTOR_OUTOFRANGE,
     1, "block impedance below `impedance_mohm.low_alarm`"},
    {12, "bacsAlarmEqualizing", W, MOD, 0, 0, 0, 0, 0,
     "reserved: equalizing not operating is raised per string (35), naming the block"},
    {13, "bacsAlarmVoltageWarnHigh", W, MOD, 0, 0, 0, 0, 1,
     "block voltage above `voltage_v.high_warn`"},
    {14, "bacsAlarmVoltageWarnLow", W, MOD, 0, 0, 0, 0, 1,
     "block voltage below `voltage_v.low_warn`"},
    {15, "bacsAlarmTemperatureWarnHigh", W, MOD, 0, 0, 0, 0, 1,
     "block temperature above `temp_c.high_warn`"},
    {16, "bacsAlarmTemperatureWarnLow", W, MOD, 0, 0, 0, 0, 1,
     "block temperature below `temp_c.low_warn`"},
    {17, "bacsAlarmResistWarnHigh", W, MOD, 0, 0, 0, 0, 1,
     "block impedance above `impedance_mohm.high_warn`"},
    {18, "bacsAlarmResistWarnLow", W, MOD, 0, 0, 0, 0, 1,
     "block impedance below `impedance_mohm.low_warn`"},
    {19, "bacsAlarmInitializing", I, GW, 0, 0, 0, GBMS_ST_MODULE_INITIALIZING, 0,
     "not raised as an alarm: start-up shows as CONNECTED + MODULE-INITIALIZING in the status"},
    {20, "bacsAlarmCommunicationLost", A, GW, GBMS_AL_COMMUNICATION_LOST, 0, 0,
     GBMS_ST_SYSTEM_FAILURE, 1,
     "no reading from the gateway for 3 poll periods (at least 3 s of wall time)"},
    {21, "bacsAlarmBatteryBreakerOpen", A, GW, 0, 0, GBMS_BAT_BREAKER_OPEN, 0, 1,
     "the breaker output `thermal_runaway.breaker_output` is on"},
    {22, "bacsAlarmThermalRunaway", A, STR, 0, 0, GBMS_BAT_THERMAL_RUNAWAY, 0, 1,
     "the thermal runaway rule holds for the string (see alarmd's README)"},
    {23, "bacsAlarmSensorCommunicationLost", W, GW, 0, 0, 0, 0, 1,
     "a fitted ambient or hydrogen sensor reads nothing"},
    {24, "bacsAlarmDischarging", I, STR, 0, 0, 0, GBMS_ST_DISCHARGING, 1,
     "the string is discharging; cleared when the discharge ends"},
    {25, "bacsAlarmDischargingStopped", I, STR, 0, 0, 0, GBMS_ST_DISCHARGING_STOPPED, 1,
     "a discharge of the string ended; cleared when it is back on float"},
    {26, "bacsAlarmMaxVoltageDiff", W, STR, 0, 0, GBMS_BAT_VOLTAGE_DIFF_HIGH, 0, 1,
     "a block differs from its string's average by more than `max_voltage_diff_v`"},
    {27, "bacsAlarmStringVoltHigh", A, STR, 0, 0, 0, 0, 1,
     "string voltage above `string_voltage_v.high_alarm`"},
    {28, "bacsAlarmStringVoltLow", A, STR, 0, 0, 0, 0, 1,
     "string voltage below `string_voltage_v.low_alarm`"},
    {29, "bacsAlarmStringVoltHighWarn", W, STR, 0, 0, 0, 0, 1,
     "string voltage above `string_voltage_v.high_warn`"},
    {30, "bacsAlarmStringVoltLowWarn", W, STR, 0, 0, 0, 0, 1,
     "string voltage below `string_voltage_v.low_warn`"},
    {31, "bacsAlarmStringCurrentHigh", A, STR, 0, GBMS_STR_CURRENT_HIGH, 0, 0, 1,
     "string current above `string_current_a.high_alarm`"},
    {32, "bacsAlarmStringCurrentLow", A, STR, 0, GBMS_STR_CURRENT_LOW, 0, 0, 1,
     "string current below `string_current_a.low_alarm`"},
    {33, "bacsAlarmStringCurrentHighWarn", W, STR, 0, GBMS_STR_CURRENT_HIGH_WARN, 0, 0, 1,
     "string current above `string_current_a.high_warn`"},
    {34, "bacsAlarmStringCurrentLowWarn", W, STR, 0, GBMS_STR_CURRENT_LOW_WARN, 0, 0, 1,
     "string current below `string_current_a.low_warn`"},
    {35, "bacsAlarmStringEqualizingDisabled", W, STR, 0, GBMS_STR_EQUALIZING_CUT_OFF, 0, 0, 1,
     "equalizing cannot operate: on charge/float a block is outside the equalizing range "
     "(`equalizing_min_v`..`equalizing_max_v`); the text names the block"},
    {36, "bacsAlarmStringCurrDeviationCharge", A, STR, 0, GBMS_STR_DEV_CHARGE, 0, 0, 1,
     "on charge, the string's current differs from the mean of the parallel strings by more than "
     "`current_deviation.charge_alarm_a`"},
    {37, "bacsAlarmStringCurrDeviationDischarge", A, STR, 0, GBMS_STR_DEV_DISCHARGE, 0, 0, 1,
     "the same on discharge, `current_deviation.discharge_alarm_a`"},
    {38, "bacsAlarmStringCurrDeviationChargeWarn", W, STR, 0, GBMS_STR_DEV_CHARGE_WARN, 0, 0, 1,
     "the same on charge, `current_deviation.charge_warn_a`"},
    {39, "bacsAlarmStringCurrDeviationDischargeWarn", W, STR, 0, GBMS_STR_DEV_DISCHARGE_WARN, 0, 0,
     1, "the same on discharge, `current_deviation.discharge_warn_a`"},
    {101, "ohmwatchImpedanceBaselineWarn", W, MOD, 0, 0, 0, 0, 1,
     "impedance above its baseline by `baseline_warn_pct` (IEEE 1188)"},
    {102, "ohmwatchImpedanceBaselineAlarm", A, MOD, 0, 0, 0, 0, 1,
     "impedance above its baseline by `baseline_alarm_pct` (IEEE 1188)"},
    {103, "ohmwatchHydrogen", A, GW, 0, 0, 0, 0, 1,
     "hydrogen at or above `hydrogen_alarm_pct_lel`"},
    {104, "ohmwatchAuxInput", W, GW, 0, 0, 0, 0, 1,
     "a GX_R_AUX input is in alarm; the event's `module` field carries the input number 1-16"},
    {105, "ohmwatchOpenString", A, STR, 0, 0, GBMS_BAT_BREAKER_OPEN, 0, 1,
     "open string: no current and below float by `loss_of_float_v_per_cell` while another "
     "string is held (a breaker, fuse or connector open; docs/battery.md)"},
    {106, "ohmwatchLossOfFloat", A, STR, 0, 0, 0, 0, 1,
     "loss of float: below float by `loss_of_float_v_per_cell`, not charging, and no string of "
     "the gateway held (charger failure, mains lost with the load off)"},
    {107, "ohmwatchFloatVoltageBand", W, STR, 0, 0, 0, 0, 1,
     "settled float voltage outside the chemistry's band, temperature compensated (charger "
     "mis-set)"},
    {108, "ohmwatchFloatCurrentHigh", W, STR, 0, 0, 0, 0, 1,
     "settled float current above `float_current_high_x` x its learned level (runaway "
     "precursor, a shorted cell, a charger set high)"},
    {109, "ohmwatchRippleHigh", W, STR, 0, 0, 0, 0, 1,
     "AC ripple current above `ripple_current_a` on float or charge (heats VRLA cells)"},
};
const size_t gbms_alarms_count = NF(gbms_alarms);

const gbms_alarm_t *gbms_alarm_find(int code)
{
    for (size_t i = 0; i < gbms_alarms_count; i++)
        if (gbms_alarms[i].code == code) return &gbms_alarms[i];
    return NULL;
}

static const char *sev_name(int s)
{
    return s == OW_SEV_ALARM ? "alarm" : s == OW_SEV_WARNING ? "warning" : "info";
}

static const char *scope_name(int s)
{
    return s == MOD ? "module" : s == STR ? "string" : "gateway";
}

int gbms_doc(FILE *out)
{
    fprintf(out, "# Alarms and flag words\n\n"
                 "Generated from `proto/ow_gbms.c` by `scripts/gen-docs.sh`; do not edit.\n\n"
                 "## Alarm catalogue\n\n"
                 "Codes 1-39 are the guide's bacsWellKnownAlarms (OID "
                 "1.3.6.1.2.1.33.5.3.3.N); 100 and above are ohmwatch additions. An alarm "
                 "event is identified by (`id`, `action`); one condition on one source "
                 "(gateway, string, module) is one alarm until it clears.\n\n"
                 "| code | name | severity | scope | flags | raised when |\n"
                 "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < gbms_alarms_count; i++) {
        const gbms_alarm_t *a = &gbms_alarms[i];
        char flags[160] = "";
        int n = 0;
        if (a->alarm_flag)
            n += snprintf(flags + n, sizeof flags - (size_t)n, "alarm 0x%04x ", a->alarm_flag);
        if (a->string_flag)
            n += snprintf(flags + n, sizeof flags - (size_t)n, "string2 0x%04x ", a->string_flag);
        if (a->battery_flag)
            n += snprintf(flags + n, sizeof flags - (size_t)n, "battery 0x%04x ", a->battery_flag);
        if (a->status_flag)
            snprintf(flags + n, sizeof flags - (size_t)n, "status 0x%04x", a->status_flag);
        fprintf(out, "| %d | %s | %s | %s | %s | %s%s |\n", a->code, a->name, sev_name(a->severity),
                scope_name(a->scope), flags, a->raised ? "" : "*not raised:* ", a->doc);
    }
    for (size_t t = 0; t < gbms_flag_tables_count; t++) {
        const gbms_flag_table_t *ft = &gbms_flag_tables[t];
        fprintf(out, "\n## %s (%s)\n\n| flag | value | set when |\n|---|---|---|\n", ft->title,
                ft->where);
        for (size_t i = 0; i < ft->count; i++)
            fprintf(out, "| %s | 0x%04x (%u) | %s |\n", ft->flags[i].name, ft->flags[i].value,
                    ft->flags[i].value, ft->flags[i].doc);
    }
    return ferror(out) ? -1 : 0;
}
