/* Battery diagnostics of one gateway, fed with its readings in order:
 * - the battery state of each string (float, charging, discharging,
 *   discharge stopped, equalisation), detected from the string current when a
 *   current sensor is fitted and from block voltages alone when it is not;
 * - discharge events (start, end, duration, Ah removed, lowest block);
 * - whether a string is on settled float (the conditions the float rules and
 *   the impedance comparisons need), its learned float current;
 * - the thermal runaway rule per string, judged on settled float only;
 * - the float conditions: loss of float / open string, float voltage out of
 *   the chemistry's band, high float current, high ripple;
 * - impedance against a per-module baseline (IEEE 1188), from settled-float
 *   readings normalised to 25 degC, with a trend shown only when it is known.
 * docs/battery.md states each rule, its numbers and its source.
 * Time is the readings' ts_us, never the wall clock, so replayed or
 * accelerated readings give the same results. Library code: no I/O. */
#ifndef OW_DIAG_H
#define OW_DIAG_H

#include <jansson.h>
#include <stdint.h>

#include "ow_config.h"
#include "ow_proto.h"

typedef enum {
    OW_BAT_UNKNOWN = 0,
    OW_BAT_FLOAT,
    OW_BAT_CHARGING,
    OW_BAT_DISCHARGING,
    OW_BAT_DISCHARGE_STOPPED, /* a discharge ended, float not reached again (charging on) */
} ow_bat_state_t;

/* Float conditions, each held for its delay before it shows (docs/battery.md). */
typedef enum {
    OW_COND_OPEN_STRING = 0, /* lost float while another string of the gateway is held */
    OW_COND_LOSS_OF_FLOAT,   /* lost float, and no string of the gateway is held */
    OW_COND_FLOAT_BAND,      /* settled float voltage outside the chemistry's band */
    OW_COND_FLOAT_CURRENT,   /* settled float current above its learned level */
    OW_COND_RIPPLE,          /* AC ripple current above the limit, off discharge */
    OW_COND_COUNT
} ow_diag_cond_t;

typedef struct {
    int on;       /* held for its delay (clears at once when the condition ends) */
    double value; /* the measured value (V/cell, A) */
    double level; /* the level it was judged against */
} ow_diag_flag_t;

typedef struct {
    ow_bat_state_t state[OW_MAX_STRINGS + 1];   /* per string, 1-based */
    int settled[OW_MAX_STRINGS + 1];            /* on float long enough for the float rules */
    double float_current_a[OW_MAX_STRINGS + 1]; /* learned float current, NAN until known */
    ow_diag_flag_t cond[OW_MAX_STRINGS + 1][OW_COND_COUNT];
    int equalizing[OW_MAX_STRINGS + 1];      /* a block of the string has eq_pct > 0 */
    int thermal_runaway[OW_MAX_STRINGS + 1]; /* rule held for tr_sustain_s (latched until the
                                                differences are 1 degC below their thresholds) */
    double tr_value[OW_MAX_STRINGS + 1];     /* the temperature difference that triggered */
    int discharges; /* discharges of the gateway's battery (strings together count once) */
    int eq_paused;  /* a string is discharging: the equalizers are off */
} ow_diag_status_t;

typedef struct {
    void (*discharge)(void *ctx, const ow_discharge_t *d, int64_t ts_us);
    void (*baseline)(void *ctx, const ow_baseline_t *b, int64_t ts_us);
    /* a discharge's "progress" (time-to-go), every minute; NULL: not wanted */
    void (*progress)(void *ctx, const ow_discharge_t *d, int64_t ts_us);
} ow_diag_sink_t;

typedef struct ow_diag ow_diag_t;

/* gw must outlive the diag (thresholds are read from it at every cycle, so
 * a change through ow_engine takes effect at once). */
ow_diag_t *ow_diag_new(const ow_gateway_cfg_t *gw);
void ow_diag_destroy(ow_diag_t **d);

void ow_diag_module(ow_diag_t *d, int64_t ts_us, const ow_module_t *m);
void ow_diag_string(ow_diag_t *d, int64_t ts_us, const ow_string_t *s);
void ow_diag_aux(ow_diag_t *d, int64_t ts_us, const ow_aux_t *a);
/* End of a poll cycle (the heartbeat): evaluate states, thermal runaway,
 * discharge start/end, then the fresh impedance measurements the cycle's
 * module readings brought (baseline learning needs the string's state of
 * this cycle; baseline events carry the measurement's ts_us). */
void ow_diag_cycle(ow_diag_t *d, int64_t ts_us, const ow_diag_sink_t *sink, void *ctx);
void ow_diag_status(const ow_diag_t *d, ow_diag_status_t *out);

/* Baseline of a module (address): set explicitly (mohm > 0) or forget it so
 * it is learnt again (mohm NAN). 0, or -1 for an unknown module. */
int ow_diag_set_baseline(ow_diag_t *d, int module, double mohm);
/* Current baseline deviation of a module in %, NAN if no baseline yet. */
double ow_diag_deviation_pct(const ow_diag_t *d, int module);
/* A module's baseline in mOhm (set or learnt), NAN while there is none. */
double ow_diag_baseline(const ow_diag_t *d, int module);

/* Tag the string's next discharge (or the one under way) as a capacity test
 * (IEEE 450): its "end" then carries capacity_pct by the time-adjusted
 * method. 0, or -1 for a bad string or parameter. */
int ow_diag_captest(ow_diag_t *d, int string, double rated_h, double end_v_per_cell);

/* Everything needed to continue after a restart, as JSON; and back. */
json_t *ow_diag_save(const ow_diag_t *d);
int ow_diag_load(ow_diag_t *d, const json_t *j, char *err, size_t errlen);

#endif
