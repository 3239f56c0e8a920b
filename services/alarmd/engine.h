/* alarmd's engine: turns readings into alarms and the G.BMS flag words.
 * For every gateway of the site it evaluates the guide's thresholds (module
 * voltage, temperature, impedance; string voltage, current, current deviation
 * between parallel strings, maximum voltage difference, equalizing), module
 * and bus communication, hydrogen and GX_R_AUX inputs, and the diagnostics of
 * diag.h (battery state, thermal runaway, impedance baseline, discharges),
 * with delay and hysteresis, and reports what changes through a sink. The
 * alarm catalogue and flag words are the tables of proto/ow_gbms.h.
 * Time is the readings' ts_us (except bus silence, which needs a clock and
 * uses ow_engine_tick). Library code: no I/O, no sockets. */
#ifndef OW_ENGINE_H
#define OW_ENGINE_H

#include <jansson.h>
#include <stdint.h>

#include "ow_config.h"
#include "ow_proto.h"

typedef struct {
    /* An alarm was raised, cleared or acknowledged; a->action says which. */
    void (*alarm)(void *ctx, const char *gw, const ow_alarm_t *a, int64_t ts_us);
    /* The flag words of a gateway changed. */
    void (*state)(void *ctx, const char *gw, const ow_state_t *s, int64_t ts_us);
    void (*discharge)(void *ctx, const char *gw, const ow_discharge_t *d, int64_t ts_us);
    void (*baseline)(void *ctx, const char *gw, const ow_baseline_t *b, int64_t ts_us);
    /* A command for busd, e.g. {cmd "output", index N, value 1} to open the
     * battery breaker through a GX_R_AUX output on thermal runaway. */
    void (*command)(void *ctx, const char *gw, const ow_control_t *c, int64_t ts_us);
} ow_engine_sink_t;

typedef struct ow_engine ow_engine_t;

/* The engine keeps its own copy of each gateway's configuration (thresholds
 * change at runtime). */
ow_engine_t *ow_engine_new(const ow_site_t *site, const ow_engine_sink_t *sink, void *ctx);
void ow_engine_destroy(ow_engine_t **e);

/* Feed one message from a busd: module, string, aux or heartbeat (the
 * heartbeat closes a poll cycle: cycle-level checks run then). Other kinds
 * and unknown gateways are ignored. */
void ow_engine_feed(ow_engine_t *e, const ow_msg_t *m);

/* Wall-clock checks: a gateway silent for 3 poll periods (at least 3 s)
 * raises bus communication lost (20); its next reading clears it. */
void ow_engine_tick(ow_engine_t *e, int64_t now_wall_us);

/* Replace a gateway's thresholds (already validated by the caller). */
int ow_engine_set_thresholds(ow_engine_t *e, const char *gw, const ow_thresholds_t *thr);
/* Replace every runtime setting of a gateway (ow_gateway_keys: the
 * thresholds and the others, already validated) with src's. */
int ow_engine_set_settings(ow_engine_t *e, const char *gw, const ow_gateway_cfg_t *src);
const ow_gateway_cfg_t *ow_engine_gateway(const ow_engine_t *e, const char *gw);

/* Acknowledge (mute): alarm id, or 0 for all active alarms of gw (gw "" =
 * every gateway). Emits "ack" events; silences the audible alarm until a
 * new alarm is raised. Returns how many were acknowledged. */
int ow_engine_ack(ow_engine_t *e, const char *gw, uint64_t id, int64_t ts_us);

/* Set (mohm > 0) or re-learn (NAN) a module's impedance baseline. */
int ow_engine_set_baseline(ow_engine_t *e, const char *gw, int module, double mohm);

/* A module's baseline in mOhm, NAN if none yet or no such module (the
 * audit trail's old value). */
double ow_engine_baseline(const ow_engine_t *e, const char *gw, int module);

/* Tag string's next (or present) discharge as an IEEE 450 capacity test. */
int ow_engine_captest(ow_engine_t *e, const char *gw, int string, double rated_h,
                      double end_v_per_cell);

/* Active alarms of gw ("" = all), up to max; returns the total count. */
int ow_engine_active(const ow_engine_t *e, const char *gw, ow_alarm_t *out, int max);
/* Flag words of a gateway; NULL if unknown. */
const ow_state_t *ow_engine_state(const ow_engine_t *e, const char *gw);

/* Everything needed to continue after a restart without raising again what
 * is active or forgetting what was pending: next alarm id, active alarms,
 * delay timers, counters, diagnostics. And back (NULL-safe on a fresh start). */
json_t *ow_engine_save(const ow_engine_t *e);
int ow_engine_load(ow_engine_t *e, const json_t *j, char *err, size_t errlen);

#endif
