/* libFuzzer target: what a scenario file's numbers do to the simulator.
 * scenario_fuzz checks the parser at full speed; here what loads drives the
 * simulator for two simulated hours on the guide's sample site
 * (etc/site-sample.json: 2 x 9 blocks, one GX_R_AUX), read like a poll every
 * ten minutes, the breaker opened halfway: the file's rates, currents and
 * temperatures reach the physics, and no value of theirs may crash it, make
 * a block's voltage NaN or negative, or be undefined behaviour (UBSan stops
 * the run). About a hundred times slower per input than the parser alone. */
#include "scenario_fuzz.h"
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void simulate(const ow_scenario_t *sc)
{
    static ow_site_t *site;
    if (!site) {
        char err[512];
        site = ow_site_load(OW_FUZZ_SITE, err, sizeof err);
        if (!site) {
            fprintf(stderr, "scenario_fuzz: %s\n", err);
            abort();
        }
    }
    const ow_gateway_cfg_t *gw = &site->gateways[0];
    ow_sim_t *sim = ow_sim_new(gw, sc, sc->seed ? sc->seed : 1, 1740787200000000LL);
    if (!sim) abort();
    for (int k = 0; k < 12; k++) {
        ow_sim_step(sim, 600 * 1000000LL);
        for (int st = 1; st <= gw->nstrings; st++) {
            ow_string_t str;
            ow_sim_read_string(sim, st, &str);
            for (int b = 1; b <= gw->strings[st - 1].modules; b++) {
                ow_module_t m;
                if (ow_sim_read_module(sim, st, b, &m) == 0 && !(m.voltage_v >= 0)) abort();
            }
        }
        ow_aux_t aux;
        ow_sim_read_aux(sim, &aux);
        if (k == 6) ow_sim_set_output(sim, gw->thr.tr_breaker_output, 1);
    }
    ow_sim_destroy(&sim);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ow_scenario_t *sc = fuzz_scenario(data, size);
    if (!sc) return 0;
    simulate(sc);
    ow_scenario_destroy(&sc);
    if (sc) abort();
    return 0;
}
