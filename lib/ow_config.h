/* Site configuration: one declarative JSON file describes a site's gateways
 * (webmanagers), their strings and modules, module type, battery data,
 * thresholds, poll/log rates and service endpoints. Every service loads the
 * same file. The schema is tables of rows (ow_config.c for the gateways, the
 * site, alarmd and security; each service's own in its folder) that the
 * engine (ow_schema.h) walks to load, to set at run time and to generate
 * docs/config.md; errors name file:line:column and the key. */
#ifndef OW_CONFIG_H
#define OW_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ow_battery.h"
#include "ow_proto.h"
#include "ow_schema.h"

/* Bind and connect: a service binds its endpoints as written in the site
 * file (a wildcard host binds every interface); the others connect to the
 * same endpoint with the host replaced by the service's connect_host (a
 * compose service name, a host name), or, without one, by 127.0.0.1 for a
 * wildcard host (`*`, `0.0.0.0`; `[::1]` for `[::]`). ipc:// and inproc:// endpoints
 * are connected to as written and take no connect_host. */
#define OW_ENDPOINT_MAX 272
/* The endpoint to connect to for bind endpoint `bind` and connect host
 * `host` ("" or NULL: none): 0, or -1 if host is given for an endpoint that
 * is not tcp://, or the result does not fit in len. */
int ow_endpoint_connect(const char *bind, const char *host, char *out, size_t len);

/* The guide's module parts table (BACS types), see config.c for the codes. */
typedef struct {
    const char *name;    /* "C20" */
    int code;            /* bacsModuleType value */
    double nominal_v;    /* battery block nominal voltage */
    double v_min, v_max; /* measuring range, V */
    double r_min, r_max; /* impedance range, mOhm */
    double eq_current_a; /* equalization (bypass) current */
    const char *part;    /* part number */
} ow_module_type_t;

extern const ow_module_type_t ow_module_types[];
extern const size_t ow_module_types_count;
const ow_module_type_t *ow_module_type_find(const char *name); /* NULL if unknown */

/* A quantity with four levels; low_alarm <= low_warn < high_warn <= high_alarm. */
typedef struct {
    double low_alarm, low_warn, high_warn, high_alarm;
    double hysteresis; /* a raised level clears only this far back inside */
    double delay_s;    /* condition must hold this long before raising */
} ow_limits_t;

typedef struct {
    ow_limits_t voltage_v;                              /* per block */
    ow_limits_t temp_c;                                 /* per block */
    ow_limits_t impedance_mohm;                         /* per block */
    ow_limits_t string_voltage_v;                       /* per string */
    ow_limits_t string_current_a;                       /* per string, + charge / - discharge */
    double dev_discharge_alarm_a, dev_discharge_warn_a; /* current deviation between strings */
    double dev_charge_alarm_a, dev_charge_warn_a;
    double max_voltage_diff_v; /* block vs string average; 0 disables */
    int comm_lost_polls;       /* missed polls before "communication lost" */
    double baseline_warn_pct;  /* impedance above baseline (IEEE 1188) */
    double baseline_alarm_pct;
    double equalizing_min_v, equalizing_max_v; /* equalizing range per block */
    /* Thermal runaway rule inputs (alarmd documents the rule). */
    double tr_module_delta_c;  /* hottest - coldest block in a string */
    double tr_ambient_delta_c; /* hottest block - ambient */
    double tr_float_current_a; /* float current above this */
    double tr_sustain_s;       /* for this long */
    int tr_breaker_output;     /* GX_R_AUX output (1..16) that opens the breaker; 0 none */
    /* The webmanager's alarm contact and buzzer on GX_R_AUX outputs (alarmd). */
    int common_alarm_output;  /* on while an alarm is active, muted or not; 0 none */
    int audible_alarm_output; /* on while an alarm is not acknowledged; 0 none */
    /* Battery state detection (alarmd's diag.c). */
    double discharge_detect_a;     /* current below minus this: discharging (sensor mode) */
    double charge_detect_a;        /* current above this: charging rather than float */
    double float_band_v_per_cell;  /* no sensor: within this below float voltage is float */
    double hydrogen_warn_pct_lel;  /* hydrogen warning level (first stage); 0 disables */
    double hydrogen_alarm_pct_lel; /* hydrogen alarm level (second stage); 0 disables */
    /* The stand-alone temperature/humidity sensor (ambient_sensor). Humidity
     * has high levels only: its low_* stay 0, which no reading is below. */
    ow_limits_t ambient_c;
    ow_limits_t humidity_pct;
    /* Float rules (alarmd's diag.c, docs/battery.md). */
    double loss_of_float_v_per_cell; /* below float voltage by this, not charging: lost */
    double float_current_high_x;     /* settled float current above this x its learned level */
    double ripple_current_a;         /* AC ripple current above this, A RMS; 0 disables */
} ow_thresholds_t;

typedef struct {
    char manufacturer[48];
    char type[48];
    double capacity_ah;   /* C10 */
    char installed[11];   /* YYYY-MM-DD */
    int64_t installed_us; /* same, µs UTC midnight */
    char location[96];
    double impedance_mohm;      /* typical impedance of a new block (simulator, baselines) */
    char chemistry[16];         /* "vrla", "flooded" (ow_battery.h) */
    const ow_chemistry_t *chem; /* derived from chemistry, never NULL after loading */
} ow_battery_t;

typedef struct {
    char name[48];
    int modules;      /* blocks in this string */
    int first_module; /* webmanager address of its first block (1-based); derived */
} ow_string_cfg_t;

/* Simulator settings for a gateway whose source is "sim". */
typedef struct {
    uint64_t seed;
    char scenario[256]; /* path, "" for none; relative to the site file */
    double speed;       /* time acceleration, 1 = real time */
    double ambient_c;
    double float_v_per_cell; /* charger float voltage */
    double charge_limit_c;   /* charger current limit as a fraction of C10 */
} ow_sim_cfg_t;

/* A field device polled over Modbus (source "modbus-tcp" or "modbus-rtu"):
 * where it is, which register map describes it, how patiently to ask. */
typedef struct {
    char host[128];     /* modbus-tcp: name or address */
    int port;           /* modbus-tcp */
    int unit;           /* unit id (slave address) */
    char device[256];   /* modbus-rtu: serial device */
    int baud;           /* modbus-rtu */
    char parity[2];     /* modbus-rtu: "N", "E", "O" */
    int data_bits;      /* modbus-rtu */
    int stop_bits;      /* modbus-rtu */
    char map[256];      /* "gbms" (built in) or a map file, relative to the site file */
    int timeout_ms;     /* per request */
    int retries;        /* per request, after the first attempt */
    int backoff_max_ms; /* reconnect attempts back off up to this */
} ow_modbus_cfg_t;

typedef struct {
    char id[OW_ID_MAX];
    char name[64];
    char source[16];                       /* "sim", "modbus-tcp", "modbus-rtu" */
    char publish[128];                     /* ZMQ endpoint busd binds for readings */
    char replay[128];                      /* ZMQ endpoint busd binds for replay requests */
    char connect_host[128];                /* host the others reach busd at ("" = the endpoint's) */
    char publish_connect[OW_ENDPOINT_MAX]; /* derived: what subscribers connect to */
    char replay_connect[OW_ENDPOINT_MAX];  /* derived */
    int poll_ms;                           /* bus poll period */
    int log_rate_s;                        /* bacsLogRate1: history period in normal operation */
    int log_rate_charge_s;  /* bacsLogRate2: during charge/discharge, 0 = every reading */
    int impedance_poll_min; /* bacsImpcPollRate, a runtime setting */
    /* bacsTemperatureUnit, a runtime setting: "C" or "F" */
    char temperature_unit[2];
    int journal_messages; /* replay journal bound */
    const ow_module_type_t *module_type;
    int current_sensor;  /* 1 if string current sensors are fitted */
    int aux_units;       /* GX_R_AUX units fitted, 0..4 */
    int ambient_sensor;  /* 1 if the stand-alone temperature/humidity sensor is fitted */
    int hydrogen_sensor; /* 1 if a hydrogen sensor is fitted */
    ow_battery_t battery;
    struct {
        char person[64]; /* the webmanager's Contact Person ("" none) */
        char phone[32];  /* its Phone Number ("" none) */
    } contact;
    ow_thresholds_t thr;
    int nstrings;
    ow_string_cfg_t strings[OW_MAX_STRINGS];
    int nmodules; /* total blocks, <= OW_MAX_MODULES */
    ow_sim_cfg_t sim;
    ow_modbus_cfg_t modbus;
} ow_gateway_cfg_t;

#define OW_MAX_GATEWAYS 1024 /* per site file */

typedef struct ow_site ow_site_t;
struct ow_site {
    char path[512]; /* the file it came from */
    char dir[512];  /* its directory, for relative paths */
    char name[64];
    int ngateways; /* 1 .. OW_MAX_GATEWAYS */
    ow_gateway_cfg_t *gateways;
    void *services;  /* json_t* of "services" (each service parses its part) */
    void *positions; /* ow_jpos_t* of the file, for services' own errors */
};

/* Load and validate a site file. NULL on error with err filled as
 * "FILE:LINE:COL: KEY: reason". */
ow_site_t *ow_site_load(const char *path, char *err, size_t errlen);
/* The same from text already read (a fuzzer's input, a test's string); path
 * names it in errors and is what relative paths resolve against. */
ow_site_t *ow_site_parse(const char *text, size_t len, const char *path, char *err, size_t errlen);
void ow_site_destroy(ow_site_t **site);
const ow_gateway_cfg_t *ow_site_gateway(const ow_site_t *site, const char *id);
/* The gateway's chemistry; VRLA for a hand-built configuration without one. */
const ow_chemistry_t *ow_gateway_chemistry(const ow_gateway_cfg_t *g);
/* 2 V cells per block of the gateway's module type (6 for a 12 V block). */
int ow_gateway_cells(const ow_gateway_cfg_t *g);
/* Resolve a path relative to the site file's directory into buf. */
const char *ow_site_path(const ow_site_t *site, const char *rel, char *buf, size_t len);

/* Runtime settings (control requests, SNMP SET): the numeric keys under
 * "thresholds." of a gateway, by their path in the site file, e.g.
 * "thresholds.voltage_v.high_alarm", and the guide's other read-write
 * settings (impedance_poll_min, temperature_unit as 0 = C / 1 = F: an enum
 * by its choice's index). set validates the value against the
 * schema's range and the cross-key rules (low <= high ...) and changes g only
 * if everything holds; err says why not. get returns 0 or -1 (unknown key). */
int ow_gateway_set(ow_gateway_cfg_t *g, const char *key, double value, char *err, size_t errlen);
int ow_gateway_get(const ow_gateway_cfg_t *g, const char *key, double *value);
/* The schema range of a settable key (SNMP's wrongValue vs inconsistentValue:
 * out of range is wrong whatever else holds). 0, or -1 unknown key. */
int ow_gateway_range(const char *key, double *min, double *max);
/* The schema row of a settable key (its doc, type, enum choices), NULL if
 * key is none: what a front-end shows beside the value (webd's form). */
const ow_key_t *ow_gateway_setting(const char *key);
/* NULL-terminated list of the settable keys. */
const char *const *ow_gateway_keys(void);
/* Every settable key's value from src into dst, the rest of dst kept (a
 * holder of settings taking another's, e.g. alarmd's engine). */
void ow_gateway_copy_settings(ow_gateway_cfg_t *dst, const ow_gateway_cfg_t *src);
/* A setting's value as people read it: an enum's choice ("F"), else %g;
 * "" for NaN or an unknown key. Returns buf. */
const char *ow_gateway_value_text(const char *key, double value, char *buf, size_t len);
/* The index of an enum setting's choice ("F" -> 1): 0, or -1 when key is
 * no enum setting or text none of its choices. */
int ow_gateway_value_choice(const char *key, const char *text, double *value);
/* 1 when temperatures are to be shown in degF (temperature_unit "F"). */
int ow_gateway_fahrenheit(const ow_gateway_cfg_t *g);

/* The "services.alarmd" section. */
typedef struct {
    char publish[128];      /* alarmd's PUB (alarms, state, discharges, baselines, commands) */
    char replay[128];       /* its replay ROUTER */
    char control[128];      /* control requests ROUTER */
    char connect_host[128]; /* host the others reach alarmd at ("" = the endpoints') */
    /* derived: what the other services and the CLI connect to */
    char publish_connect[OW_ENDPOINT_MAX], replay_connect[OW_ENDPOINT_MAX];
    char control_connect[OW_ENDPOINT_MAX];
    char state_file[512]; /* persisted state, resolved against the site file's directory */
    int journal_messages;
    int save_interval_ms; /* how often the state file is rewritten at most */
} ow_alarmd_cfg_t;
/* Fill from the site (defaults for what is missing); -1 with
 * "FILE:LINE:COL: services.alarmd.KEY: reason" in err. */
int ow_site_alarmd(const ow_site_t *site, ow_alarmd_cfg_t *out, char *err, size_t errlen);

/* The "services.security" section: how the ZeroMQ links authenticate
 * (lib/ow_auth.h, docs/security.md). */
typedef struct {
    int curve;          /* 1: CURVE + an allow-list of keys; 0: plain TCP, an explicit choice */
    char keys_dir[512]; /* public keys (the allow-list) and, under private/, secret ones */
} ow_security_cfg_t;
/* Fill from the site (defaults for what is missing); OHMWATCH_KEYS_DIR in
 * the environment overrides keys_dir. -1 with the reason in err. */
int ow_site_security(const ow_site_t *site, ow_security_cfg_t *out, char *err, size_t errlen);

/* A section of the site's "services" (sec->path "services.NAME") read
 * through the engine into out, its hooks seeing the site as c->user: 0, or
 * -1 with "FILE:LINE:COL: services.NAME.KEY: reason" in err. */
int ow_site_section(const ow_site_t *site, const ow_schema_section_t *sec, void *out, char *err,
                    size_t errlen);
extern const ow_schema_section_t ow_alarmd_section, ow_security_section;

/* Markdown reference of every key, its type, range, default and meaning:
 * the site's own tables, then each section of services (NULL-terminated). */
int ow_config_doc(FILE *out, const ow_schema_section_t *const *services);

/* ---- the machinery, reusable by services for their own sections ---- */

/* Positions of values in a JSON text by path ("gateways[0].strings[1].modules"). */
typedef struct ow_jpos ow_jpos_t;
ow_jpos_t *ow_jpos_build(const char *text, size_t len);
int ow_jpos_find(const ow_jpos_t *p, const char *path, int *line, int *col); /* 0 found, -1 not */
void ow_jpos_destroy(ow_jpos_t **p);
/* Position of path, or of its nearest enclosing value the text has (a missing
 * key is reported at the object that should hold it); 1:1 if none. */
void ow_jpos_locate(const ow_jpos_t *p, const char *path, int *line, int *col);
/* Format "FILE:LINE:COL: PATH: reason" (no "PATH: " for the root) into err:
 * the one error format of every configuration file ohmwatch reads. Returns
 * -1, so a parser's error path is `return ow_jpos_error(...)`. */
int ow_jpos_error(const ow_jpos_t *p, const char *file, const char *path, char *err, size_t errlen,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
