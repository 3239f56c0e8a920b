/* A physically plausible battery string simulator standing in for a BACS bus,
 * calibrated to a real block's constant-current table (docs/scenarios.md):
 * per-block EMF against the Ah removed, a rate- and temperature-dependent
 * accessible charge, Tafel and concentration polarisation giving the
 * end-of-discharge knee, the chemistry's figures (lib/ow_battery.h),
 * ohmic sag I*R, charger CC/CV recharge with temperature-dependent float
 * current, lumped thermal model per block (I^2R, bypass and float heat
 * against ambient), impedance ageing, passive equalisation reacting to
 * voltage spread, AC ripple and an ambient sensor. Scenario events drive
 * faults. Deterministic for a given seed. */
#ifndef OW_SIM_H
#define OW_SIM_H

#include <stdint.h>

#include "ow_config.h"
#include "ow_proto.h"
#include "scenario.h"

typedef struct ow_sim ow_sim_t;

/* gw and sc must outlive the simulator; sc may be NULL. start_us is the
 * simulated wall-clock time at t = 0 (ts_us of the first readings). */
ow_sim_t *ow_sim_new(const ow_gateway_cfg_t *gw, const ow_scenario_t *sc, uint64_t seed,
                     int64_t start_us);
void ow_sim_destroy(ow_sim_t **sim);

/* Advance the physics by dt_us of simulated time (sub-stepped internally). */
void ow_sim_step(ow_sim_t *sim, int64_t dt_us);
int64_t ow_sim_time_us(const ow_sim_t *sim); /* current simulated time, µs UTC */

/* Read the bus like a webmanager poll does, with measurement noise and the
 * modules' resolution. string is 1-based, block 1-based within the string.
 * read_module returns 0, or -1 when the module does not answer (then the
 * values are NAN and status has OW_MODST_NO_RESPONSE). module/string/block
 * numbers in out are filled in. */
int ow_sim_read_module(ow_sim_t *sim, int string, int block, ow_module_t *out);
void ow_sim_read_string(ow_sim_t *sim, int string, ow_string_t *out);
void ow_sim_read_aux(ow_sim_t *sim, ow_aux_t *out);

/* Switch a GX_R_AUX output (1..16) on or off; it shows in ow_aux_t.outputs.
 * While the output configured as thr.tr_breaker_output is on, the breaker of
 * every string is open (no current); switching it off recloses them. */
void ow_sim_set_output(ow_sim_t *sim, int output, int on);

/* The impedance measurement period, min (bacsImpcPollRate: alarmd's
 * runtime setting impedance_poll_min; the gateway's value at start). A new
 * one counts from each block's last measurement. 0, or -1 below 1. */
int ow_sim_set_impedance_poll(ow_sim_t *sim, int minutes);
int ow_sim_impedance_poll(const ow_sim_t *sim);

/* Ground truth for tests (no noise). */
double ow_sim_true_soc(const ow_sim_t *sim, int string, int block); /* 0..1 */
double ow_sim_true_current_a(const ow_sim_t *sim, int string);      /* + charge */
double ow_sim_true_voltage_v(const ow_sim_t *sim, int string, int block);
double ow_sim_true_temp_c(const ow_sim_t *sim, int string, int block);
double ow_sim_true_impedance_mohm(const ow_sim_t *sim, int string, int block);
double ow_sim_true_capacity_ah(const ow_sim_t *sim, int string, int block); /* now, C10 */

#endif
