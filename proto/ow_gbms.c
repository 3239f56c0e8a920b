/* The guide's flag tables and the alarm catalogue; see ow_gbms.h. Where the
 * guide is silent or contradicts itself the choice is written beside the row
 * and shows in docs/alarms.md. */
#include "ow_gbms.h"

#include "ow_proto.h"

#define NF(a) (sizeof(a) / sizeof((a)[0]))

/* The tables read better with a row's fields packed by meaning than one
 * field a line, so clang-format leaves them alone. */
/* clang-format off */
static const gbms_flag_t general_flags[] = {
    {.name = "BACS_STATE_NONE", .value = GBMS_ST_NONE,
     .doc = "no bit set: alarmd has no data from the gateway"},
    {.name = "BACS_STATE_RUNNING", .value = GBMS_ST_RUNNING,
     .doc = "readings arrive from the gateway's busd"},
    {.name = "BACS_STATE_CONNECTED", .value = GBMS_ST_CONNECTED,
     .doc = "starting up: connected, first complete poll cycle not yet seen"},
    {.name = "BACS_STATE_MODULE_LOST", .value = GBMS_ST_MODULE_LOST,
     .doc = "one or more modules do not answer"},
    {.name = "BACS_STATE_DISCHARGING", .value = GBMS_ST_DISCHARGING,
     .doc = "a string is discharging"},
    {.name = "BACS_STATE_CHARGING", .value = GBMS_ST_CHARGING,
     .doc = "a string is charging (above float current)"},
    {.name = "BACS_STATE_DISCHARGING_STOPPED", .value = GBMS_ST_DISCHARGING_STOPPED,
     .doc = "a discharge ended and float has not been reached again"},
    {.name = "BACS_STATE_FLOAT_CHARGING", .value = GBMS_ST_FLOAT_CHARGING,
     .doc = "all strings on float"},
    {.name = "BACS_STATE_EQUALISATION", .value = GBMS_ST_EQUALISATION,
     .doc = "one or more modules are equalizing"},
    {.name = "BACS_STATE_SYSTEM_FAILURE", .value = GBMS_ST_SYSTEM_FAILURE,
     .doc = "the gateway's bus communication is lost (alarm 20)"},
    {.name = "BACS_STATE_VOLTAGE_OUTOFRANGE", .value = GBMS_ST_VOLTAGE_OUTOFRANGE,
     .doc = "a block voltage alarm (6, 7) is active"},
    {.name = "BACS_STATE_TEMPERATURE_OUTOFRANGE", .value = GBMS_ST_TEMPERATURE_OUTOFRANGE,
     .doc = "a block temperature alarm (8, 9) is active"},
    {.name = "BACS_STATE_RESISTOR_OUTOFRANGE", .value = GBMS_ST_RESISTOR_OUTOFRANGE,
     .doc = "a block impedance alarm (10, 11) is active"},
    {.name = "BACS_STATE_MODULE_ADDRESSING", .value = GBMS_ST_MODULE_ADDRESSING,
     .doc = "never set: addressing is done on the webmanager itself"},
    {.name = "BACS_STATE_MODULE_SEARCHING", .value = GBMS_ST_MODULE_SEARCHING,
     .doc = "never set (as above)"},
    {.name = "BACS_STATE_MODULE-INITIALIZING", .value = GBMS_ST_MODULE_INITIALIZING,
     .doc = "set with CONNECTED until the first complete poll cycle"},
    {.name = "BACS_STATE_MODULE-POLLING", .value = GBMS_ST_MODULE_POLLING,
     .doc = "never set: ohmwatch's Modbus server answers from an image, no poll is ever pending"},
};
/* Each bit of the 16-bit word has a row, and "no bit set" one more. */
_Static_assert(NF(general_flags) == 1 + 16, "general_flags: NONE and each of the 16 bits");

static const gbms_flag_t battery_flags[] = {
    {.name = "BACS_STATE-GENERAL-ALARM", .value = GBMS_BAT_GENERAL_ALARM,
     .doc = "an alarm of severity alarm is active (warnings do not set it)"},
    {.name = "BACS_STATE-VOLTAGE-DIFF-HIGH", .value = GBMS_BAT_VOLTAGE_DIFF_HIGH,
     .doc = "max voltage difference alarm (26) active; only when max_voltage_diff_v > 0"},
    {.name = "BACS_STATE-BATTERY-BREAKER-OPEN", .value = GBMS_BAT_BREAKER_OPEN,
     .doc = "the breaker output (thermal_runaway.breaker_output) is on (alarm 21)"},
    {.name = "BACS_STATE_THERMAL_RUNAWAY", .value = GBMS_BAT_THERMAL_RUNAWAY,
     .doc = "thermal runaway alarm (22) active"},
};

static const gbms_flag_t alarm_flags[] = {
    {.name = "BACS_ALARM_NONE", .value = 0, .doc = "no alarm of this type"},
    {.name = "BACS_ALARM_GENERAL_ALARM", .value = GBMS_AL_GENERAL_ALARM,
     .doc = "in 1002: the general alarm; in a module/string word: that module/string has an alarm"},
    {.name = "BACS_ALARM_COMMUNICATION_LOST", .value = GBMS_AL_COMMUNICATION_LOST,
     .doc = "module (1) or bus (20) communication lost; in a module's word as modbusd and snmpd "
            "serve it (ALARM register, bacsModuleState), from the first poll the module misses "
            "(and until first read) to its next answer, before alarm 1 after `comm_lost_polls`; "
            "its values then read 0x8000 / -2147483648 (docs/modbus.md, docs/snmp.md)"},
    {.name = "BACS_ALARM_VOLTAGE_HIGH", .value = GBMS_AL_VOLTAGE_HIGH,
     .doc = "block voltage high alarm (6)"},
    {.name = "BACS_ALARM_VOLTAGE_LOW", .value = GBMS_AL_VOLTAGE_LOW,
     .doc = "block voltage low alarm (7)"},
    {.name = "BACS_ALARM_TEMPERATURE_HIGH", .value = GBMS_AL_TEMPERATURE_HIGH,
     .doc = "block temperature high alarm (8)"},
    {.name = "BACS_ALARM_TEMPERATURE_LOW", .value = GBMS_AL_TEMPERATURE_LOW,
     .doc = "block temperature low alarm (9)"},
    {.name = "BACS_ALARM_RESISTOR_HIGH", .value = GBMS_AL_RESISTOR_HIGH,
     .doc = "block impedance high alarm (10)"},
    {.name = "BACS_ALARM_RESISTOR_LOW", .value = GBMS_AL_RESISTOR_LOW,
     .doc = "block impedance low alarm (11)"},
};
_Static_assert(NF(alarm_flags) == 1 + 8, "alarm_flags: NONE and each of the 8 bits");

static const gbms_flag_t string_flags[] = {
    {.name = "No Alarm", .value = 0, .doc = "no alarm of this type"},
    {.name = "Current Sensor High", .value = GBMS_STR_CURRENT_HIGH,
     .doc = "string current high alarm (31)"},
    {.name = "Current Sensor Low", .value = GBMS_STR_CURRENT_LOW,
     .doc = "string current low alarm (32)"},
    {.name = "Current Sensor High Warning", .value = GBMS_STR_CURRENT_HIGH_WARN,
     .doc = "string current high warning (33)"},
    {.name = "Current Sensor Low Warning", .value = GBMS_STR_CURRENT_LOW_WARN,
     .doc = "string current low warning (34)"},
    {.name = "Equalizing Cut Off", .value = GBMS_STR_EQUALIZING_CUT_OFF,
     .doc = "equalizing not operating (35)"},
    {.name = "Current Deviation Discharge", .value = GBMS_STR_DEV_DISCHARGE,
     .doc = "deviation alarm on discharge (37)"},
    {.name = "Current Deviation Charge", .value = GBMS_STR_DEV_CHARGE,
     .doc = "deviation alarm on charge (36)"},
    {.name = "Current Deviation Discharge Warning", .value = GBMS_STR_DEV_DISCHARGE_WARN,
     .doc = "deviation warning on discharge (39)"},
    {.name = "Current Deviation Charge Warning", .value = GBMS_STR_DEV_CHARGE_WARN,
     .doc = "deviation warning on charge (38). The guide gives 0x1000 / 4096 where the sequence "
            "suggests 0x0100; hex and decimal agree, so 0x1000 is kept"},
};

const gbms_flag_table_t gbms_flag_tables[] = {
    {.title = "General Status Flags", .where = "Modbus 1000, bacsStatus", .flags = general_flags,
     .count = NF(general_flags)},
    {.title = "Battery Status Flags", .where = "Modbus 1001", .flags = battery_flags,
     .count = NF(battery_flags)},
    {.title = "Alarm Flags",
     .where = "Modbus 1002, MODULE_nnn_ALARM, bacsModuleState, bacsStringAlarm",
     .flags = alarm_flags, .count = NF(alarm_flags)},
    {.title = "Battery String Alarm Flags", .where = "bacsStringAlarm2", .flags = string_flags,
     .count = NF(string_flags)},
};
const size_t gbms_flag_tables_count = NF(gbms_flag_tables);

#define MOD GBMS_SCOPE_MODULE
#define STR GBMS_SCOPE_STRING
#define GW  GBMS_SCOPE_GATEWAY
#define W   OW_SEV_WARNING
#define A   OW_SEV_ALARM
#define I   OW_SEV_INFO

const gbms_alarm_t gbms_alarms[] = {
    {.code = GBMS_A_SYSTEM_ERROR, .name = "bacsAlarmSystemError",
     .severity = A, .scope = MOD, .raised = 1,
     .alarm_flag = GBMS_AL_COMMUNICATION_LOST, .status_flag = GBMS_ST_MODULE_LOST,
     .doc = "a module did not answer `comm_lost_polls` polls in a row; clears at its next answer"},
    /* The guide's generic alarms (2-5, 12) say "one or more batteries" and
     * its alarm table carries no module: each is the gateway's summary of
     * the specific alarms whose rows name it in .generic, raised with the
     * first of them and cleared with the last (see gbms_doc). */
    {.code = GBMS_A_RESIST_WARN, .name = "bacsAlarmResistWarn",
     .severity = W, .scope = GW, .raised = 1,
     .doc = "generic: while any block impedance warning (17, 18) is active"},
    {.code = GBMS_A_RESIST_ALARM, .name = "bacsAlarmResistAlarm",
     .severity = A, .scope = GW, .raised = 1,
     .doc = "generic: while any block impedance alarm (10, 11) is active"},
    {.code = GBMS_A_VOLTAGE, .name = "bacsAlarmVoltage",
     .severity = A, .scope = GW, .raised = 1,
     .doc = "generic: while any block voltage alarm (6, 7) is active; the guide's 'defined "
            "range' is the alarm range, as in 6/7 (13/14 say 'warning range')"},
    {.code = GBMS_A_TEMPERATURE, .name = "bacsAlarmTemperature",
     .severity = A, .scope = GW, .raised = 1,
     .doc = "generic: while any block temperature alarm (8, 9) is active (the alarm range, as "
            "for 4)"},
    {.code = GBMS_A_VOLTAGE_HIGH, .name = "bacsAlarmVoltageHigh",
     .severity = A, .scope = MOD, .raised = 1, .generic = GBMS_A_VOLTAGE,
     .alarm_flag = GBMS_AL_VOLTAGE_HIGH, .status_flag = GBMS_ST_VOLTAGE_OUTOFRANGE,
     .doc = "block voltage above `voltage_v.high_alarm`"},
    {.code = GBMS_A_VOLTAGE_LOW, .name = "bacsAlarmVoltageLow",
     .severity = A, .scope = MOD, .raised = 1, .generic = GBMS_A_VOLTAGE,
     .alarm_flag = GBMS_AL_VOLTAGE_LOW, .status_flag = GBMS_ST_VOLTAGE_OUTOFRANGE,
     .doc = "block voltage below `voltage_v.low_alarm`"},
    {.code = GBMS_A_TEMPERATURE_HIGH, .name = "bacsAlarmTemperatureHigh",
     .severity = A, .scope = MOD, .raised = 1, .generic = GBMS_A_TEMPERATURE,
     .alarm_flag = GBMS_AL_TEMPERATURE_HIGH, .status_flag = GBMS_ST_TEMPERATURE_OUTOFRANGE,
     .doc = "block temperature above `temp_c.high_alarm`"},
    {.code = GBMS_A_TEMPERATURE_LOW, .name = "bacsAlarmTemperatureLow",
     .severity = A, .scope = MOD, .raised = 1, .generic = GBMS_A_TEMPERATURE,
     .alarm_flag = GBMS_AL_TEMPERATURE_LOW, .status_flag = GBMS_ST_TEMPERATURE_OUTOFRANGE,
     .doc = "block temperature below `temp_c.low_alarm`"},
    {.code = GBMS_A_RESIST_ALARM_HIGH, .name = "bacsAlarmResistAlarmHigh",
     .severity = A, .scope = MOD, .raised = 1, .generic = GBMS_A_RESIST_ALARM,
     .alarm_flag = GBMS_AL_RESISTOR_HIGH, .status_flag = GBMS_ST_RESISTOR_OUTOFRANGE,
     .doc = "block impedance above `impedance_mohm.high_alarm`"},
    {.code = GBMS_A_RESIST_ALARM_LOW, .name = "bacsAlarmResistAlarmLow",
     .severity = A, .scope = MOD, .raised = 1, .generic = GBMS_A_RESIST_ALARM,
     .alarm_flag = GBMS_AL_RESISTOR_LOW, .status_flag = GBMS_ST_RESISTOR_OUTOFRANGE,
     .doc = "block impedance below `impedance_mohm.low_alarm`"},
    {.code = GBMS_A_EQUALIZING, .name = "bacsAlarmEqualizing",
     .severity = W, .scope = GW, .raised = 1,
     .doc = "generic: while equalizing is not operating on any string (35, which names the "
            "block)"},
    {.code = GBMS_A_VOLTAGE_WARN_HIGH, .name = "bacsAlarmVoltageWarnHigh",
     .severity = W, .scope = MOD, .raised = 1,
     .doc = "block voltage above `voltage_v.high_warn`"},
    {.code = GBMS_A_VOLTAGE_WARN_LOW, .name = "bacsAlarmVoltageWarnLow",
     .severity = W, .scope = MOD, .raised = 1,
     .doc = "block voltage below `voltage_v.low_warn`"},
    {.code = GBMS_A_TEMPERATURE_WARN_HIGH, .name = "bacsAlarmTemperatureWarnHigh",
     .severity = W, .scope = MOD, .raised = 1,
     .doc = "block temperature above `temp_c.high_warn`"},
    {.code = GBMS_A_TEMPERATURE_WARN_LOW, .name = "bacsAlarmTemperatureWarnLow",
     .severity = W, .scope = MOD, .raised = 1,
     .doc = "block temperature below `temp_c.low_warn`"},
    {.code = GBMS_A_RESIST_WARN_HIGH, .name = "bacsAlarmResistWarnHigh",
     .severity = W, .scope = MOD, .raised = 1, .generic = GBMS_A_RESIST_WARN,
     .doc = "block impedance above `impedance_mohm.high_warn`"},
    {.code = GBMS_A_RESIST_WARN_LOW, .name = "bacsAlarmResistWarnLow",
     .severity = W, .scope = MOD, .raised = 1, .generic = GBMS_A_RESIST_WARN,
     .doc = "block impedance below `impedance_mohm.low_warn`"},
    {.code = GBMS_A_INITIALIZING, .name = "bacsAlarmInitializing",
     .severity = I, .scope = GW, .raised = 0, .status_flag = GBMS_ST_MODULE_INITIALIZING,
     .doc = "not raised as an alarm: start-up shows as CONNECTED + MODULE-INITIALIZING in the "
            "status"},
    {.code = GBMS_A_COMMUNICATION_LOST, .name = "bacsAlarmCommunicationLost",
     .severity = A, .scope = GW, .raised = 1,
     .alarm_flag = GBMS_AL_COMMUNICATION_LOST, .status_flag = GBMS_ST_SYSTEM_FAILURE,
     .doc = "no reading from the gateway for 3 poll periods (at least 3 s of wall time)"},
    {.code = GBMS_A_BREAKER_OPEN, .name = "bacsAlarmBatteryBreakerOpen",
     .severity = A, .scope = GW, .raised = 1, .battery_flag = GBMS_BAT_BREAKER_OPEN,
     .doc = "the breaker output `thermal_runaway.breaker_output` is on"},
    {.code = GBMS_A_THERMAL_RUNAWAY, .name = "bacsAlarmThermalRunaway",
     .severity = A, .scope = STR, .raised = 1, .battery_flag = GBMS_BAT_THERMAL_RUNAWAY,
     .doc = "the thermal runaway rule holds for the string (see alarmd's README)"},
    {.code = GBMS_A_SENSOR_COMM_LOST, .name = "bacsAlarmSensorCommunicationLost",
     .severity = W, .scope = GW, .raised = 1,
     .doc = "a fitted ambient or hydrogen sensor reads nothing"},
    {.code = GBMS_A_DISCHARGING, .name = "bacsAlarmDischarging",
     .severity = I, .scope = STR, .raised = 1, .status_flag = GBMS_ST_DISCHARGING,
     .doc = "the string is discharging; cleared when the discharge ends"},
    {.code = GBMS_A_DISCHARGING_STOPPED, .name = "bacsAlarmDischargingStopped",
     .severity = I, .scope = STR, .raised = 1, .status_flag = GBMS_ST_DISCHARGING_STOPPED,
     .doc = "a discharge of the string ended; cleared when it is back on float"},
    {.code = GBMS_A_MAX_VOLTAGE_DIFF, .name = "bacsAlarmMaxVoltageDiff",
     .severity = W, .scope = STR, .raised = 1, .battery_flag = GBMS_BAT_VOLTAGE_DIFF_HIGH,
     .doc = "a block differs from its string's average by more than `max_voltage_diff_v`"},
    {.code = GBMS_A_STRING_VOLT_HIGH, .name = "bacsAlarmStringVoltHigh",
     .severity = A, .scope = STR, .raised = 1,
     .doc = "string voltage above `string_voltage_v.high_alarm`"},
    {.code = GBMS_A_STRING_VOLT_LOW, .name = "bacsAlarmStringVoltLow",
     .severity = A, .scope = STR, .raised = 1,
     .doc = "string voltage below `string_voltage_v.low_alarm`"},
    {.code = GBMS_A_STRING_VOLT_HIGH_WARN, .name = "bacsAlarmStringVoltHighWarn",
     .severity = W, .scope = STR, .raised = 1,
     .doc = "string voltage above `string_voltage_v.high_warn`"},
    {.code = GBMS_A_STRING_VOLT_LOW_WARN, .name = "bacsAlarmStringVoltLowWarn",
     .severity = W, .scope = STR, .raised = 1,
     .doc = "string voltage below `string_voltage_v.low_warn`"},
    {.code = GBMS_A_STRING_CURRENT_HIGH, .name = "bacsAlarmStringCurrentHigh",
     .severity = A, .scope = STR, .raised = 1, .string_flag = GBMS_STR_CURRENT_HIGH,
     .doc = "string current above `string_current_a.high_alarm`"},
    {.code = GBMS_A_STRING_CURRENT_LOW, .name = "bacsAlarmStringCurrentLow",
     .severity = A, .scope = STR, .raised = 1, .string_flag = GBMS_STR_CURRENT_LOW,
     .doc = "string current below `string_current_a.low_alarm`"},
    {.code = GBMS_A_STRING_CURRENT_HIGH_WARN, .name = "bacsAlarmStringCurrentHighWarn",
     .severity = W, .scope = STR, .raised = 1, .string_flag = GBMS_STR_CURRENT_HIGH_WARN,
     .doc = "string current above `string_current_a.high_warn`"},
    {.code = GBMS_A_STRING_CURRENT_LOW_WARN, .name = "bacsAlarmStringCurrentLowWarn",
     .severity = W, .scope = STR, .raised = 1, .string_flag = GBMS_STR_CURRENT_LOW_WARN,
     .doc = "string current below `string_current_a.low_warn`"},
    {.code = GBMS_A_STRING_EQUALIZING_DISABLED, .name = "bacsAlarmStringEqualizingDisabled",
     .severity = W, .scope = STR, .raised = 1, .string_flag = GBMS_STR_EQUALIZING_CUT_OFF,
     .generic = GBMS_A_EQUALIZING,
     .doc = "equalizing cannot operate: on charge/float a block is outside the equalizing range "
            "(`equalizing_min_v`..`equalizing_max_v`); the text names the block"},
    {.code = GBMS_A_DEV_CHARGE, .name = "bacsAlarmStringCurrDeviationCharge",
     .severity = A, .scope = STR, .raised = 1, .string_flag = GBMS_STR_DEV_CHARGE,
     .doc = "on charge, the string's current differs from the mean of the parallel strings by "
            "more than `current_deviation.charge_alarm_a`"},
    {.code = GBMS_A_DEV_DISCHARGE, .name = "bacsAlarmStringCurrDeviationDischarge",
     .severity = A, .scope = STR, .raised = 1, .string_flag = GBMS_STR_DEV_DISCHARGE,
     .doc = "the same on discharge, `current_deviation.discharge_alarm_a`"},
    {.code = GBMS_A_DEV_CHARGE_WARN, .name = "bacsAlarmStringCurrDeviationChargeWarn",
     .severity = W, .scope = STR, .raised = 1, .string_flag = GBMS_STR_DEV_CHARGE_WARN,
     .doc = "the same on charge, `current_deviation.charge_warn_a`"},
    {.code = GBMS_A_DEV_DISCHARGE_WARN, .name = "bacsAlarmStringCurrDeviationDischargeWarn",
     .severity = W, .scope = STR, .raised = 1, .string_flag = GBMS_STR_DEV_DISCHARGE_WARN,
     .doc = "the same on discharge, `current_deviation.discharge_warn_a`"},
    {.code = GBMS_A_BASELINE_WARN, .name = "ohmwatchImpedanceBaselineWarn",
     .severity = W, .scope = MOD, .raised = 1,
     .doc = "impedance above its baseline by `baseline_warn_pct` (IEEE 1188)"},
    {.code = GBMS_A_BASELINE_ALARM, .name = "ohmwatchImpedanceBaselineAlarm",
     .severity = A, .scope = MOD, .raised = 1,
     .doc = "impedance above its baseline by `baseline_alarm_pct` (IEEE 1188)"},
    {.code = GBMS_A_HYDROGEN, .name = "ohmwatchHydrogen",
     .severity = A, .scope = GW, .raised = 1,
     .doc = "hydrogen at or above `hydrogen_alarm_pct_lel` (the sensor's second stage, 40 % "
            "LEL)"},
    {.code = GBMS_A_AUX_INPUT, .name = "ohmwatchAuxInput",
     .severity = W, .scope = GW, .raised = 1,
     .doc = "a GX_R_AUX input is in alarm; the event's `module` field carries the input number "
            "1-16"},
    {.code = GBMS_A_OPEN_STRING, .name = "ohmwatchOpenString",
     .severity = A, .scope = STR, .raised = 1, .battery_flag = GBMS_BAT_BREAKER_OPEN,
     .doc = "open string: no current and below float by `loss_of_float_v_per_cell` while another "
            "string is held (a breaker, fuse or connector open; docs/battery.md)"},
    {.code = GBMS_A_LOSS_OF_FLOAT, .name = "ohmwatchLossOfFloat",
     .severity = A, .scope = STR, .raised = 1,
     .doc = "loss of float: below float by `loss_of_float_v_per_cell`, not charging, and no "
            "string of the gateway held (charger failure, mains lost with the load off)"},
    {.code = GBMS_A_FLOAT_VOLTAGE_BAND, .name = "ohmwatchFloatVoltageBand",
     .severity = W, .scope = STR, .raised = 1,
     .doc = "settled float voltage outside the chemistry's band, temperature compensated "
            "(charger mis-set)"},
    {.code = GBMS_A_FLOAT_CURRENT_HIGH, .name = "ohmwatchFloatCurrentHigh",
     .severity = W, .scope = STR, .raised = 1,
     .doc = "settled float current above `float_current_high_x` x its learned level (runaway "
            "precursor, a shorted cell, a charger set high)"},
    {.code = GBMS_A_RIPPLE_HIGH, .name = "ohmwatchRippleHigh",
     .severity = W, .scope = STR, .raised = 1,
     .doc = "AC ripple current above `ripple_current_a` on float or charge (heats VRLA cells)"},
    {.code = GBMS_A_HYDROGEN_WARN, .name = "ohmwatchHydrogenWarn",
     .severity = W, .scope = GW, .raised = 1,
     .doc = "hydrogen at or above `hydrogen_warn_pct_lel` (the sensor's first stage, 20 % LEL: "
            "ventilation no longer keeps the design dilution of IEC 62485-2)"},
    {.code = GBMS_A_AMBIENT_HIGH, .name = "ohmwatchAmbientTempHigh",
     .severity = A, .scope = GW, .raised = 1,
     .doc = "room temperature (stand-alone sensor) above `ambient_c.high_alarm`"},
    {.code = GBMS_A_AMBIENT_LOW, .name = "ohmwatchAmbientTempLow",
     .severity = A, .scope = GW, .raised = 1,
     .doc = "room temperature below `ambient_c.low_alarm`"},
    {.code = GBMS_A_AMBIENT_WARN_HIGH, .name = "ohmwatchAmbientTempWarnHigh",
     .severity = W, .scope = GW, .raised = 1,
     .doc = "room temperature above `ambient_c.high_warn`"},
    {.code = GBMS_A_AMBIENT_WARN_LOW, .name = "ohmwatchAmbientTempWarnLow",
     .severity = W, .scope = GW, .raised = 1,
     .doc = "room temperature below `ambient_c.low_warn`"},
    {.code = GBMS_A_HUMIDITY_HIGH, .name = "ohmwatchHumidityHigh",
     .severity = A, .scope = GW, .raised = 1,
     .doc = "relative humidity (stand-alone sensor) above `humidity_pct.high_alarm`"},
    {.code = GBMS_A_HUMIDITY_WARN_HIGH, .name = "ohmwatchHumidityWarnHigh",
     .severity = W, .scope = GW, .raised = 1,
     .doc = "relative humidity above `humidity_pct.high_warn`"},
};
/* clang-format on */
/* One row per code of the enum in ow_gbms.h: the guide's 1..39 and ours
 * from 101 (gbms_test checks each code is present once). */
_Static_assert(NF(gbms_alarms) ==
                   GBMS_A_DEV_DISCHARGE_WARN + (GBMS_A_LAST - GBMS_A_BASELINE_WARN + 1),
               "gbms_alarms has a row for every GBMS_A_ code");
const size_t gbms_alarms_count = NF(gbms_alarms);

const gbms_alarm_t *gbms_alarm_find(int code)
{
    for (size_t i = 0; i < gbms_alarms_count; i++)
        if (gbms_alarms[i].code == code) return &gbms_alarms[i];
    return NULL;
}

int gbms_alarm_is_generic(int code)
{
    for (size_t i = 0; i < gbms_alarms_count; i++)
        if (code && gbms_alarms[i].generic == code) return 1;
    return 0;
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
        char joins[48] = "";
        if (a->generic) snprintf(joins, sizeof joins, "; joins generic %d", a->generic);
        fprintf(out, "| %d | %s | %s | %s | %s | %s%s%s |\n", a->code, a->name,
                sev_name(a->severity), scope_name(a->scope), flags,
                a->raised ? "" : "*not raised:* ", a->doc, joins);
    }
    fprintf(
        out,
        "\n### Generic alarms\n\n"
        "The guide's generic alarms 2-5 and 12 describe \"one or more batteries\" and its "
        "alarm table carries no module, so each is a gateway-wide summary of its family, the "
        "specific alarms marked \"joins generic N\" above: it is raised (string 0, module "
        "0) when the first member becomes active and cleared when the last one clears; a "
        "second member does not raise it again (a state file written before ohmwatch raised them "
        "has the members only: the first reading after the load raises it). It is an alarm like "
        "any other: its own id, "
        "raise/clear/ack events, SNMP traps and alarm table row, history and state file; "
        "`bacsAlarmsPresent` counts it, since it is a row of the alarm table. It has the "
        "severity of its members and sets no flag word, so the general alarm and the common "
        "alarm output are as without it; it does not sound the buzzer (the member that "
        "raised it does, and acknowledging the member mutes it). Families by the guide's "
        "wording: 4 and 5 are \"outside the defined range\", the alarm range of 6-9 (13-16 "
        "say \"warning range\" and join none); 2 and 3 are the impedance warning and alarm "
        "levels, high and low; 12, \"equalizing not operating correctly\", is 35. "
        "ohmwatch's own alarms (100 and above) join none.\n");
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
