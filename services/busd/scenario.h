/* Scenario files: a timeline of faults and operating events that drives the
 * simulator (discharge, impedance rise, dry-out, lost module, thermal runaway,
 * hydrogen alarm, breaker, ambient change). The event kinds are a table in
 * scenario.c, which the parser walks and which documents the format. */
#ifndef OW_SCENARIO_H
#define OW_SCENARIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    OW_EV_DISCHARGE = 0,   /* string(s) discharge at current_a for duration_s */
    OW_EV_IMPEDANCE_RISE,  /* a block's impedance grows by pct_per_day */
    OW_EV_DRY_OUT,         /* a block dries out: impedance up, capacity down, float V up */
    OW_EV_MODULE_LOST,     /* a module stops answering for duration_s (0 = for good) */
    OW_EV_THERMAL_RUNAWAY, /* a string's float current and temperature run away */
    OW_EV_HYDROGEN,        /* hydrogen rises to pct_lel, GX_R_AUX input in alarm */
    OW_EV_BREAKER_OPEN,    /* a string's breaker opens (input reports it), for duration_s */
    OW_EV_AUX_INPUT,       /* a GX_R_AUX input goes to alarm for duration_s */
    OW_EV_AMBIENT,         /* ambient temperature steps to temp_c */
    OW_EV_CHARGER_OFF,     /* charger off: the string floats on open circuit */
    OW_EV_KINDS
} ow_event_kind_t;

typedef struct {
    ow_event_kind_t kind;
    double at_s;           /* seconds of simulated time after the start */
    double duration_s;     /* 0: until the end */
    int string;            /* 1-based; 0 = all strings */
    int block;             /* 1-based within the string; 0 = n/a */
    int input;             /* GX_R_AUX input 1..16 (hydrogen, breaker, aux_input) */
    double current_a;      /* discharge current per string (positive number) */
    double rate;           /* impedance_rise/dry_out: % per day; thermal_runaway: severity factor */
    double value;          /* hydrogen: % LEL; ambient: degC */
    double end_v_per_cell; /* discharge: the load's end voltage; 0 = by the rate */
} ow_event_t;

typedef struct {
    char name[64];
    uint64_t seed; /* 0: use the site's seed */
    /* simulated time of day at the start, s after UTC midnight; -1: the wall
     * clock's (then two runs of one seed differ by the daily swing) */
    int time_of_day_s;
    int nevents;
    ow_event_t *events; /* sorted by at_s */
} ow_scenario_t;

/* Load a scenario; NULL with "FILE:LINE:COL: KEY: reason" in err. */
ow_scenario_t *ow_scenario_load(const char *path, char *err, size_t errlen);
/* Same from a string (name is used in messages). */
ow_scenario_t *ow_scenario_parse(const char *text, const char *name, char *err, size_t errlen);
void ow_scenario_destroy(ow_scenario_t **sc);
const char *ow_event_kind_name(ow_event_kind_t k);
int ow_scenario_doc(FILE *out);

#endif
