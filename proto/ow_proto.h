/* The ohmwatch wire contract: message kinds, topics and their JSON bodies.
 * Every message travels as two ZeroMQ frames, [topic, body]. The body is one
 * JSON object; the fields of each kind are described by a table in proto.c,
 * which the encoder, the strict decoder and proto/README.md all follow.
 *
 * Units are SI on the wire (V, A, degC, mOhm, %), values are doubles, and
 * timestamps are integer microseconds since the Unix epoch, UTC. A value a
 * device could not measure is JSON null and NAN in C. */
#ifndef OW_PROTO_H
#define OW_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OW_PROTO_VERSION 1
#define OW_ID_MAX        32 /* ids: 1..31 of [A-Za-z0-9_.-] */
#define OW_MAX_STRINGS   16 /* G.BMS: up to 16 strings per webmanager */
/* A module address on the wire (and module_flags' length) goes to 520, the
 * guide's label for its last section, so that the message format stays as
 * it is; but the map's addresses end at module 512 (GX_R_AUX starts at 3650,
 * see the asserts in services/modbusd/regmap.c; "520" is a typo) and the
 * site check refuses a gateway of more than OW_GW_MAX_MODULES. */
#define OW_MAX_MODULES    520
#define OW_GW_MAX_MODULES 512 /* G.BMS: 512 modules in 16 strings per webmanager */
#define OW_AUX_UNITS      4   /* GX_R_AUX units per webmanager */
#define OW_AUX_POINTS     16  /* 4 units x 4 inputs (and 4 outputs) */
#define OW_TOPIC_MAX      96
#define OW_BODY_MAX       16384 /* a state message with 520 module words fits */

typedef enum {
    OW_MSG_MODULE = 0, /* one block's measurements */
    OW_MSG_STRING,     /* one string's current and voltages */
    OW_MSG_AUX,        /* ambient/humidity/hydrogen and GX_R_AUX I/O */
    OW_MSG_HEARTBEAT,  /* publisher status, once per poll cycle */
    OW_MSG_ALARM,      /* alarm raised / cleared / acknowledged (alarmd) */
    OW_MSG_STATE,      /* flag words of one gateway (alarmd) */
    OW_MSG_CONTROL,    /* a command or a control request */
    OW_MSG_REPLY,      /* the answer to a control request */
    OW_MSG_DISCHARGE,  /* a discharge started / ended (alarmd) */
    OW_MSG_BASELINE,   /* a module's impedance against its baseline, with trend (alarmd) */
    OW_MSG_CONFIG,     /* a setting changed at runtime (alarmd) */
    OW_MSG_DEVICE,     /* a field device's own words and link, per poll cycle (busd) */
    OW_MSG_KINDS
} ow_kind_t;

/* Module status bits (ow_module_t.status). */
#define OW_MODST_NO_RESPONSE 0x0001u /* module did not answer: values are null */
#define OW_MODST_EQUALIZING  0x0002u /* equalizer (bypass) active */
#define OW_MODST_IMPC_FRESH  0x0004u /* impedance measured in this poll */

/* Severity of an alarm event. */
enum ow_severity { OW_SEV_INFO = 0, OW_SEV_WARNING = 1, OW_SEV_ALARM = 2 };

/* Fields every message carries. pub+epoch+seq identify a message uniquely:
 * seq starts at 1 and grows by exactly one per message of that publisher, so
 * a subscriber sees a gap as a jump; epoch changes when the publisher restarts. */
typedef struct {
    char pub[OW_ID_MAX]; /* publisher id, e.g. "busd.wm1" */
    uint64_t epoch;      /* boot id: µs wall clock when the publisher started */
    uint64_t seq;        /* 1, 2, 3 ... per publisher and epoch */
    int64_t ts_us;       /* when the value was measured / the event happened */
    char gw[OW_ID_MAX];  /* gateway (webmanager) id; "" for site-wide messages */
} ow_hdr_t;

typedef struct {
    int string;            /* 1..16 */
    int module;            /* 1..512, the webmanager's module address */
    int block;             /* 1.., position of the block within its string */
    double voltage_v;      /* block voltage; NAN if no response */
    double temp_c;         /* block temperature */
    double impedance_mohm; /* last measured internal impedance */
    double eq_pct;         /* equalizer bypass, % of the module's maximum */
    uint32_t status;       /* OW_MODST_* */
} ow_module_t;

typedef struct {
    int string;           /* 1..16 */
    int modules;          /* blocks in the string */
    int modules_lost;     /* blocks that did not answer this poll */
    double current_a;     /* DC current, + charging / - discharging; NAN: no sensor */
    double ac_current_a;  /* AC ripple current, RMS; NAN: no sensor */
    double sum_voltage_v; /* sum of the answering blocks */
    double avg_voltage_v; /* average of the answering blocks; the dashboard's Target Voltage */
    double power_kw;      /* real power sum_voltage_v x current_a / 1000, signed as current_a;
                             NAN without a current sensor */
    double ripple_v;      /* AC ripple voltage on the string, RMS; NAN: not measured */
} ow_string_t;

typedef struct {
    double ambient_c;        /* NAN: no sensor */
    double humidity_pct;     /* NAN: no sensor */
    double hydrogen_pct_lel; /* NAN: no sensor */
    int aux_units;           /* GX_R_AUX units fitted, 0..4 */
    uint32_t inputs;         /* bit (u*4+i): unit u+1 input i+1 in alarm */
    uint32_t outputs;        /* bit (u*4+o): unit u+1 output o+1 on */
} ow_aux_t;

typedef struct {
    char state[16];    /* "starting", "running", "stopping" */
    char source[16];   /* "sim", "gbms-tcp", ... */
    int64_t period_us; /* poll period in measurement time */
    double speed;      /* simulated-time acceleration (1 = real time) */
    int strings;
    int modules;
    int modules_lost;
    uint64_t journal_first; /* oldest seq still replayable */
    uint64_t journal_last;  /* newest seq published */
    int64_t cycle_us;       /* wall time the last poll cycle took */
    uint64_t cycles;        /* poll cycles since start */
    uint64_t overruns;      /* deadlines missed since start */
} ow_heartbeat_t;

typedef struct {
    uint64_t id;        /* unique per alarmd state, never reused */
    int type;           /* bacsWellKnownAlarms index (1..39) or an addition */
    int severity;       /* enum ow_severity */
    char action[8];     /* "raise", "clear", "ack" */
    int string;         /* 0 when not about a string */
    int module;         /* 0 when not about a module */
    double value;       /* measured value that raised it; NAN if none */
    double threshold;   /* threshold it crossed; NAN if none */
    int64_t raised_us;  /* when it was raised */
    int64_t cleared_us; /* 0 while active */
    char text[128];     /* human description */
} ow_alarm_t;

typedef struct {
    uint32_t general;    /* General Status Flags (Modbus 1000) */
    uint32_t battery;    /* Battery Status Flags (Modbus 1001) */
    uint32_t alarm;      /* Alarm Flags (Modbus 1002) */
    int alarms_active;   /* bacsAlarmsPresent */
    int module_alarms;   /* bacsModuleAlarmsPresent */
    int module_warnings; /* bacsModuleWarningsPresent */
    int audible;         /* common alarm relay/horn: 1 sounding, 0 quiet or muted */
    int discharges;      /* Discharge Counter: discharges detected since commissioning */
    int eq_paused;       /* Equalizing paused: a string of the gateway is discharging */
    int nstrings;
    uint16_t string_flags[OW_MAX_STRINGS];  /* per string, Alarm Flags */
    uint16_t string_flags2[OW_MAX_STRINGS]; /* per string, Battery String Alarm Flags */
    int nmodules;
    uint16_t module_flags[OW_MAX_MODULES]; /* per module, Alarm Flags */
} ow_state_t;

typedef struct {
    char cmd[24];         /* e.g. "set", "get", "ack", "output", "snapshot" */
    char key[64];         /* e.g. a threshold name */
    double value;         /* NAN when not used */
    int index;            /* e.g. an output number; 0 when not used */
    char req[OW_ID_MAX];  /* request id chosen by the requester, echoed back */
    char user[OW_ID_MAX]; /* optional: the person a front-end acts for ("" none) */
} ow_control_t;

typedef struct {
    char req[OW_ID_MAX]; /* the request's id */
    int ok;              /* 1 accepted, 0 refused */
    double value;        /* the value now in force, NAN if none */
    char error[160];     /* why it was refused */
} ow_reply_t;

typedef struct {
    int string;           /* 1..16 */
    char action[12];      /* "start", "progress", "end" */
    char mode[8];         /* "current" (sensor) or "voltage" (blocks only) */
    int64_t start_us;     /* when it started */
    int64_t end_us;       /* when it ended, 0 while it goes on */
    double duration_s;    /* end - start (so far) */
    double ah_removed;    /* integral of the discharge current; NAN without a sensor */
    double min_current_a; /* largest discharge current (most negative); NAN without a sensor */
    int min_module;       /* module address of the lowest block */
    double min_voltage_v; /* its lowest voltage during the discharge */
    double end_voltage_v; /* string voltage at the end (at the start for "start") */
    /* capacity test (IEEE 450 / 1188, docs/battery.md); an outage has
     * test 0 and reports only dod_pct */
    int test;              /* 1 tagged as a capacity test (captest), 0 an outage */
    double rated_h;        /* test: rated time to end voltage at this rate; NAN if untagged */
    double end_v_per_cell; /* test: end voltage per cell; NAN if untagged */
    double temp_c;         /* average block temperature at the start; NAN if none */
    double capacity_pct;   /* test "end" that reached end voltage: time-adjusted %; else NAN */
    char method[16];       /* "time-adjusted" for a test, "" otherwise */
    double dod_pct;        /* depth of discharge: Ah removed / C10 x 100; NAN without a sensor */
    double time_to_go_s;   /* "progress": estimated seconds to end voltage; NAN otherwise */
} ow_discharge_t;

typedef struct {
    int string;
    int module;
    double baseline_mohm;      /* commissioning baseline */
    double impedance_mohm;     /* this measurement */
    double deviation_pct;      /* (impedance - baseline) / baseline * 100 */
    double slope_pct_per_year; /* trend of deviation_pct; NAN until enough points */
    int64_t alarm_at_us;       /* projected crossing of the alarm level; 0 if not rising */
} ow_baseline_t;

/* A setting changed, or an operator command carried out: the audit record
 * (who, what = key, old and new as text) of every change made through
 * alarmd; docs/audit.md. */
typedef struct {
    char key[64];     /* e.g. "thresholds.voltage_v.high_alarm", "output.1", "ack.7" */
    double value;     /* now in force; NAN if the change has no number */
    double old_value; /* before; NAN if new */
    char source[16];  /* "control", "command", "reload", "state" */
    char who[128];    /* requester identity (ow_auth.h's 95) [/user (31)]; "" in a list */
    char old[64];     /* before, as text; "" if none */
    char new_[64];    /* after, as text ("new" on the wire) */
} ow_config_t;

/* What a field device (a webmanager or another monitor polled over Modbus)
 * says about itself, after each poll cycle: the link, its own flag words
 * and module alarm words as read, and the driver's counters. A word the map
 * does not have, or that was not read this cycle, is 0; module_flags is
 * empty when the map has no module alarm word or the device did not answer
 * at all (0 for a module whose word was not read). */
typedef struct {
    char link[8];          /* "up", "partial" (some requests failed), "down" */
    uint32_t general;      /* the device's General Status Flags (G.BMS 1000) */
    uint32_t battery;      /* Battery Status Flags (1001) */
    uint32_t alarm;        /* Alarm Flags (1002) */
    int strings_reported;  /* strings the device says it has (1003), 0 if unknown */
    int modules_reported;  /* modules the device says it has (1004), 0 if unknown */
    int cycle_requests;    /* requests sent in the last cycle (retries included) */
    uint64_t requests;     /* since start, retries included */
    uint64_t exceptions;   /* Modbus exception responses since start */
    uint64_t timeouts;     /* no answer in time, or connection lost, since start */
    uint64_t malformed;    /* replies that were not valid Modbus for the request */
    uint64_t out_of_range; /* values outside the wire's range, published as null */
    int nmodules;
    uint16_t module_flags[OW_MAX_MODULES]; /* per module: its alarm word as read */
} ow_device_t;

typedef struct {
    ow_kind_t kind;
    ow_hdr_t h;
    union {
        ow_module_t module;
        ow_string_t string;
        ow_aux_t aux;
        ow_heartbeat_t heartbeat;
        ow_alarm_t alarm;
        ow_state_t state;
        ow_control_t control;
        ow_reply_t reply;
        ow_discharge_t discharge;
        ow_baseline_t baseline;
        ow_config_t config;
        ow_device_t device;
    } u;
} ow_msg_t;

/* Why a decode failed; each has a counter in ow_proto_stats_t. */
typedef enum {
    OW_PERR_OK = 0,
    OW_PERR_SIZE,    /* empty or larger than OW_BODY_MAX */
    OW_PERR_JSON,    /* not valid JSON / not an object */
    OW_PERR_VERSION, /* "v" missing or not OW_PROTO_VERSION */
    OW_PERR_KIND,    /* "kind" missing or unknown */
    OW_PERR_MISSING, /* a required field is missing */
    OW_PERR_TYPE,    /* a field has the wrong JSON type */
    OW_PERR_RANGE,   /* a value is outside its documented range */
    OW_PERR_TOPIC,   /* the topic frame does not match the body */
    OW_PERR_COUNT
} ow_proto_err_t;

typedef struct {
    uint64_t ok;
    uint64_t rejected[OW_PERR_COUNT];
} ow_proto_stats_t;

const char *ow_kind_name(ow_kind_t kind);  /* "module", "string", ... */
const char *ow_kind_topic(ow_kind_t kind); /* "mod", "str", ... (topic prefix) */
int ow_kind_from_name(const char *name);   /* -1 if unknown */
const char *ow_proto_err_name(ow_proto_err_t err);

/* Fill a message with defaults: kind set, every nullable value NAN. */
void ow_msg_init(ow_msg_t *m, ow_kind_t kind);

/* Topic of a message: "<kind>/<gw>/<string:02d>/<module:03d>" for module
 * readings, "<kind>/<gw>/<string:02d>" for strings, "<kind>/<gw>" for the
 * rest; site-wide messages use "-" as gateway. Returns the length, or -1 if
 * it does not fit. */
int ow_topic(const ow_msg_t *m, char *buf, size_t len);

/* Encode m as compact JSON into buf. Returns the length (excluding NUL), or
 * -1 if m is invalid (reason in err) or does not fit. */
int ow_encode(const ow_msg_t *m, char *buf, size_t len, char *err, size_t errlen);

/* printf's "%.7g" of v into out (len >= 32), without printf in the common
 * case; the encoder's real numbers. Returns the length. */
int ow_fmt_g7(double v, char *out, size_t len);

/* Strictly decode a body (and, if topic is non-NULL, check it matches).
 * Returns OW_PERR_OK or the reason, with a sentence naming the field in err.
 * stats, if non-NULL, counts the outcome. Unknown fields are ignored (forward
 * compatibility), everything documented is checked for type and range. */
ow_proto_err_t ow_decode(const char *topic, size_t topic_len, const char *body, size_t body_len,
                         ow_msg_t *m, char *err, size_t errlen, ow_proto_stats_t *stats);

/* Replay (zguide's Clone pattern). A publisher binds a ROUTER beside its PUB;
 * a subscriber's DEALER sends [OW_REPLAY_REQ, {"epoch":E,"from":N,"max":M}]
 * and gets [OW_REPLAY_BEGIN, {"epoch":E,"first":F,"last":L,"pub":P}], then up to M
 * [OW_REPLAY_MSG, topic, body] in sequence order starting at max(N, F), then
 * [OW_REPLAY_END, {"epoch":E,"next":X,"more":bool}]. A request for another
 * epoch than the publisher's gets BEGIN with its epoch and END at once. */
#define OW_REPLAY_REQ   "replay"
#define OW_REPLAY_BEGIN "begin"
#define OW_REPLAY_MSG   "msg"
#define OW_REPLAY_END   "end"
/* What a subscriber asks for; a publisher answers at most OW_REPLAY_CHUNK
 * (lib/ow_zsock.h) and says "more". */
#define OW_REPLAY_MAX 5000

/* Write the Markdown field reference (used to generate proto/README.md's
 * tables; the same table drives the codec). */
int ow_proto_doc(FILE *out);

#endif
