/* busd's engine: polls the bus (the simulator for source "sim") on absolute
 * deadlines, publishes every module, string and aux reading plus a heartbeat,
 * journals what it published and answers replay requests between polls. */
#ifndef OW_BUSD_H
#define OW_BUSD_H

#include <signal.h>
#include <stdint.h>

#include "ow_config.h"

typedef struct {
    double speed;         /* > 0 overrides the gateway's sim.speed */
    const char *scenario; /* overrides the gateway's sim.scenario */
    uint64_t seed;        /* != 0 overrides the seed */
    uint64_t max_cycles;  /* stop after this many cycles, 0 = run until stopped */
    int no_wait;          /* poll back-to-back, no deadlines (benchmarks) */
    double linger_s;      /* after max_cycles, keep answering replay this long */
} ow_busd_opts_t;

typedef struct {
    uint64_t cycles, overruns;
} ow_busd_stats_t;

typedef struct ow_busd ow_busd_t;

/* The gateway a busd serves: the one named id, or with id NULL the site's
 * only one; NULL with the reason in err. */
const ow_gateway_cfg_t *ow_busd_gateway(const ow_site_t *site, const char *id, char *err,
                                        size_t errlen);
/* -n beyond the site: the scenario loads (a command-line one relative to
 * the cwd, the site's relative to the site file) and a field device's map
 * fits the gateway. 0, or -1 with err. */
int ow_busd_check(const ow_site_t *site, const ow_gateway_cfg_t *gw, const ow_busd_opts_t *o,
                  char *err, size_t errlen);
/* NULL on error with the reason in err. site must outlive the engine. */
ow_busd_t *ow_busd_new(const ow_site_t *site, const ow_gateway_cfg_t *gw, const ow_busd_opts_t *o,
                       char *err, size_t errlen);
/* The same from the site file, which the engine then owns (the daemon's
 * create): gw_id as for ow_busd_gateway. */
ow_busd_t *ow_busd_open(const char *site_path, const char *gw_id, const ow_busd_opts_t *o,
                        char *err, size_t errlen);
/* Runs until *stop is set (SIGTERM) or max_cycles; 0 on a clean stop. busd
 * does not reload: a SIGHUP (*reload) is logged as refused. */
int ow_busd_run(ow_busd_t *b, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);
const ow_busd_stats_t *ow_busd_stats(const ow_busd_t *b);
void ow_busd_destroy(ow_busd_t **b);

#endif
