/* Inside alarmd's engine, shared by engine.c (evaluation) and engine_state.c
 * (the state file's save and load): a gateway's runtime state and the slot
 * helpers both build it with. Not for the rest of alarmd: use engine.h. */
#ifndef OW_ENGINE_INT_H
#define OW_ENGINE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "engine.h"

/* One (code, string, module) of a gateway: an active alarm, a pending delay
 * timer, or both never (a raise ends the timer). */
typedef struct {
    uint64_t key; /* code << 32 | string << 16 | module: sorted, binary searched */
    int active, pending, acked;
    int64_t since_us; /* pending: ts of the first reading of the violation */
    ow_alarm_t a;     /* active: the raise event */
} slot_t;

/* Everything that changes at runtime; one struct so that a load can build a
 * new one aside and swap it in only when the whole file was good. */
typedef struct {
    slot_t *v;
    size_t n, cap;
    int *lost;               /* per module: consecutive polls without an answer */
    double *cyc_v;           /* per module: block voltage this cycle, NAN if none */
    unsigned char *cyc_seen; /* per module: a reading arrived this cycle */
    int cyc_nseen;
    double cyc_i[OW_MAX_STRINGS + 1]; /* string currents this cycle, NAN if none */
    int seen;                         /* a reading arrived since the start */
    uint64_t heartbeats;
    int complete; /* a complete poll cycle was seen */
    int64_t last_ts_us;
    int64_t period_us; /* from the last heartbeat */
    double speed;
    int breaker_cmd; /* we opened the breaker; 21 stays until aux shows it off */
    int64_t breaker_cmd_us;
    ow_state_t st; /* the words last computed (and emitted) */
    int dirty;
    /* What the common and audible alarm outputs were last told: -1 nothing
     * yet (after a start or load they are told once whatever they show;
     * alarmd.c sends a command again while an aux reading disagrees). */
    int out_told[2];
    /* Wall clock of this process, not persisted. */
    int fresh; /* a reading arrived since the last tick */
    /* The generic alarms were checked against their families since this
     * state was built (a state file written before they existed has the
     * members only: the first reading after the load raises them). */
    int generics_synced;
    int watched; /* last_wall_us is set */
    int64_t last_wall_us;
} rt_t;

typedef struct {
    ow_engine_t *e;
    ow_gateway_cfg_t cfg;
    int *mod_string; /* module address - 1 -> string 1.. */
    ow_diag_t *diag;
    rt_t rt;
} gw_t;

struct ow_engine {
    ow_engine_sink_t sink;
    void *ctx;
    int ngw;
    gw_t *gw;
    uint64_t next_id;
};

/* A slot's key: code << 32 | string << 16 | module. */
static inline uint64_t ow_engine_key(int code, int s, int m)
{
    return (uint64_t)(unsigned)code << 32 | (uint64_t)(unsigned)s << 16 | (unsigned)m;
}

/* The slot of key, created if needed; NULL only when out of memory.
 * Invalidates other slot pointers. */
slot_t *ow_engine_slot_get(rt_t *r, uint64_t key);
/* A fresh runtime state for cfg (-1: out of memory; free it anyway). */
int ow_engine_rt_init(rt_t *r, const ow_gateway_cfg_t *cfg);
void ow_engine_rt_free(rt_t *r);
/* An alarm's text, cut to fit. */
void ow_engine_set_text(ow_alarm_t *a, const char *text);

#endif
