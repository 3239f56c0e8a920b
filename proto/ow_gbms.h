/* The G.BMS / BACS compatibility contract as data: the flag words of the
 * guide's "Alarm Flag Descriptions" and the alarm catalogue built on the
 * guide's bacsWellKnownAlarms (1.3.6.1.2.1.33.5.3.3.N). alarmd computes the
 * words and raises the alarms; modbusd and snmpd serve them; the docs
 * (docs/alarms.md) are generated from these tables. */
#ifndef OW_GBMS_H
#define OW_GBMS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* General Status Flags (Modbus 1000, bacsStatus). */
#define GBMS_ST_NONE                   0x0000u
#define GBMS_ST_RUNNING                0x0001u
#define GBMS_ST_CONNECTED              0x0002u
#define GBMS_ST_MODULE_LOST            0x0004u
#define GBMS_ST_DISCHARGING            0x0008u
#define GBMS_ST_CHARGING               0x0010u
#define GBMS_ST_DISCHARGING_STOPPED    0x0020u
#define GBMS_ST_FLOAT_CHARGING         0x0040u
#define GBMS_ST_EQUALISATION           0x0080u
#define GBMS_ST_SYSTEM_FAILURE         0x0100u
#define GBMS_ST_VOLTAGE_OUTOFRANGE     0x0200u
#define GBMS_ST_TEMPERATURE_OUTOFRANGE 0x0400u
#define GBMS_ST_RESISTOR_OUTOFRANGE    0x0800u
#define GBMS_ST_MODULE_ADDRESSING      0x1000u
#define GBMS_ST_MODULE_SEARCHING       0x2000u
#define GBMS_ST_MODULE_INITIALIZING    0x4000u
#define GBMS_ST_MODULE_POLLING         0x8000u

/* Battery Status Flags (Modbus 1001). */
#define GBMS_BAT_GENERAL_ALARM     0x0001u
#define GBMS_BAT_VOLTAGE_DIFF_HIGH 0x0002u
#define GBMS_BAT_BREAKER_OPEN      0x0004u
#define GBMS_BAT_THERMAL_RUNAWAY   0x0008u

/* Alarm Flags (Modbus 1002, MODULE_nnn_ALARM, bacsModuleState, bacsStringAlarm). */
#define GBMS_AL_GENERAL_ALARM      0x0001u
#define GBMS_AL_COMMUNICATION_LOST 0x0002u
#define GBMS_AL_VOLTAGE_HIGH       0x0004u
#define GBMS_AL_VOLTAGE_LOW        0x0008u
#define GBMS_AL_TEMPERATURE_HIGH   0x0010u
#define GBMS_AL_TEMPERATURE_LOW    0x0020u
#define GBMS_AL_RESISTOR_HIGH      0x0040u
#define GBMS_AL_RESISTOR_LOW       0x0080u

/* Battery String Alarm Flags (bacsStringAlarm2). The guide gives the last one
 * as 0x1000 / 4096 where the sequence would suggest 0x0100; hex and decimal
 * agree, so a master configured from the guide expects 0x1000: kept. */
#define GBMS_STR_CURRENT_HIGH       0x0001u
#define GBMS_STR_CURRENT_LOW        0x0002u
#define GBMS_STR_CURRENT_HIGH_WARN  0x0004u
#define GBMS_STR_CURRENT_LOW_WARN   0x0008u
#define GBMS_STR_EQUALIZING_CUT_OFF 0x0010u
#define GBMS_STR_DEV_DISCHARGE      0x0020u
#define GBMS_STR_DEV_CHARGE         0x0040u
#define GBMS_STR_DEV_DISCHARGE_WARN 0x0080u
#define GBMS_STR_DEV_CHARGE_WARN    0x1000u

typedef struct {
    const char *name; /* as in the guide */
    uint32_t value;
    const char *doc;
} gbms_flag_t;

typedef struct {
    const char *title; /* the guide's table name */
    const char *where; /* Modbus register / OID that carries it */
    const gbms_flag_t *flags;
    size_t count;
} gbms_flag_table_t;

extern const gbms_flag_table_t gbms_flag_tables[];
extern const size_t gbms_flag_tables_count;

/* Alarm catalogue. Codes 1..39 are the guide's bacsWellKnownAlarms index;
 * 100+ are ohmwatch additions (documented, outside the guide's OID range). */
enum gbms_scope { GBMS_SCOPE_MODULE = 0, GBMS_SCOPE_STRING, GBMS_SCOPE_GATEWAY };

typedef struct {
    int code;
    const char *name;      /* bacsWellKnownAlarms name, or ours */
    int severity;          /* enum ow_severity */
    int scope;             /* enum gbms_scope */
    uint32_t alarm_flag;   /* bit in Alarm Flags (module word, string word, 1002) */
    uint32_t string_flag;  /* bit in Battery String Alarm Flags */
    uint32_t battery_flag; /* bit in Battery Status Flags */
    uint32_t status_flag;  /* bit in General Status Flags */
    int raised;            /* 1 if ohmwatch raises it; 0 reserved (see doc) */
    int generic;           /* the guide's generic alarm (2-5, 12) this one joins; 0 none */
    const char *doc;
} gbms_alarm_t;

extern const gbms_alarm_t gbms_alarms[];
extern const size_t gbms_alarms_count;
const gbms_alarm_t *gbms_alarm_find(int code); /* NULL if unknown */
/* 1 if code is a generic alarm: some row names it in .generic. */
int gbms_alarm_is_generic(int code);

/* Codes used by alarmd (each is a row of the catalogue). */
enum {
    GBMS_A_SYSTEM_ERROR = 1,
    GBMS_A_RESIST_WARN = 2,
    GBMS_A_RESIST_ALARM = 3,
    GBMS_A_VOLTAGE = 4,
    GBMS_A_TEMPERATURE = 5,
    GBMS_A_VOLTAGE_HIGH = 6,
    GBMS_A_VOLTAGE_LOW = 7,
    GBMS_A_TEMPERATURE_HIGH = 8,
    GBMS_A_TEMPERATURE_LOW = 9,
    GBMS_A_RESIST_ALARM_HIGH = 10,
    GBMS_A_RESIST_ALARM_LOW = 11,
    GBMS_A_EQUALIZING = 12,
    GBMS_A_VOLTAGE_WARN_HIGH = 13,
    GBMS_A_VOLTAGE_WARN_LOW = 14,
    GBMS_A_TEMPERATURE_WARN_HIGH = 15,
    GBMS_A_TEMPERATURE_WARN_LOW = 16,
    GBMS_A_RESIST_WARN_HIGH = 17,
    GBMS_A_RESIST_WARN_LOW = 18,
    GBMS_A_INITIALIZING = 19,
    GBMS_A_COMMUNICATION_LOST = 20,
    GBMS_A_BREAKER_OPEN = 21,
    GBMS_A_THERMAL_RUNAWAY = 22,
    GBMS_A_SENSOR_COMM_LOST = 23,
    GBMS_A_DISCHARGING = 24,
    GBMS_A_DISCHARGING_STOPPED = 25,
    GBMS_A_MAX_VOLTAGE_DIFF = 26,
    GBMS_A_STRING_VOLT_HIGH = 27,
    GBMS_A_STRING_VOLT_LOW = 28,
    GBMS_A_STRING_VOLT_HIGH_WARN = 29,
    GBMS_A_STRING_VOLT_LOW_WARN = 30,
    GBMS_A_STRING_CURRENT_HIGH = 31,
    GBMS_A_STRING_CURRENT_LOW = 32,
    GBMS_A_STRING_CURRENT_HIGH_WARN = 33,
    GBMS_A_STRING_CURRENT_LOW_WARN = 34,
    GBMS_A_STRING_EQUALIZING_DISABLED = 35,
    GBMS_A_DEV_CHARGE = 36,
    GBMS_A_DEV_DISCHARGE = 37,
    GBMS_A_DEV_CHARGE_WARN = 38,
    GBMS_A_DEV_DISCHARGE_WARN = 39,
    /* ohmwatch additions */
    GBMS_A_BASELINE_WARN = 101,
    GBMS_A_BASELINE_ALARM = 102,
    GBMS_A_HYDROGEN = 103,
    GBMS_A_AUX_INPUT = 104,
    GBMS_A_OPEN_STRING = 105,
    GBMS_A_LOSS_OF_FLOAT = 106,
    GBMS_A_FLOAT_VOLTAGE_BAND = 107,
    GBMS_A_FLOAT_CURRENT_HIGH = 108,
    GBMS_A_RIPPLE_HIGH = 109,
    GBMS_A_HYDROGEN_WARN = 110,
    GBMS_A_AMBIENT_HIGH = 111,
    GBMS_A_AMBIENT_LOW = 112,
    GBMS_A_AMBIENT_WARN_HIGH = 113,
    GBMS_A_AMBIENT_WARN_LOW = 114,
    GBMS_A_HUMIDITY_HIGH = 115,
    GBMS_A_HUMIDITY_WARN_HIGH = 116,
    GBMS_A_LAST = GBMS_A_HUMIDITY_WARN_HIGH,
};

int gbms_doc(FILE *out); /* Markdown of the flag tables and the catalogue */

#endif
