/* libFuzzer target: a register map file. Any input must be refused with a
 * message or loaded; of a loaded map, the plan for any gateway size must
 * stay within the protocol (1..125 registers, 1..2000 bits, addresses below
 * 65536) and decoding any answer must stay inside the value table. The
 * register values of the answers come from the input too. */
#include "fieldmap.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void plan_and_decode(const ow_fm_t *map, int ns, int nm, int na, const uint8_t *data,
                            size_t size)
{
    static ow_fm_values_t v;
    static uint16_t regs[2000];
    static uint8_t bits[2000];
    ow_fm_plan_t *plan = ow_fm_plan_new(map, ns, nm, na);
    if (!plan) abort(); /* only on out of memory */
    ow_fm_values_clear(&v);
    for (int i = 0; i < ow_fm_plan_nreqs(plan); i++) {
        const ow_fm_req_t *r = ow_fm_plan_req(plan, i);
        if (!r || r->fc < 1 || r->fc > 4 || r->addr < 0 || r->count < 1) abort();
        if (r->count > (r->fc <= 2 ? 2000 : 125) || r->addr + r->count > 65536) abort();
        for (int k = 0; k < r->count; k++) {
            size_t j = size ? ((size_t)i * 131 + (size_t)k * 2) % size : 0;
            regs[k] = size ? (uint16_t)(data[j] << 8 | data[(j + 1) % size]) : 0;
            bits[k] = regs[k] & 1;
        }
        ow_fm_plan_decode(plan, i, regs, bits, &v);
    }
    if (ow_fm_plan_req(plan, ow_fm_plan_nreqs(plan)) != NULL) abort();
    ow_fm_plan_destroy(&plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    ow_fm_t *map = ow_fm_parse((const char *)data, size, "fuzz.json", err, sizeof err);
    if (!map) {
        if (!err[0]) abort();
        return 0;
    }
    if (!ow_fm_name(map)) abort();
    (void)ow_fm_lost_mask(map);
    for (int q = 0; q < OW_FM_NQ; q++)
        for (int idx = 0; idx < OW_FM_IDX; idx += 37)
            (void)ow_fm_has(map, (ow_fm_qty_t)q, idx);

    /* The smallest gateway, a typical one and the largest the wire has. */
    plan_and_decode(map, 1, 1, 0, data, size);
    plan_and_decode(map, 2, 48, 8, data, size);
    plan_and_decode(map, OW_MAX_STRINGS, OW_MAX_MODULES, 16, data, size);

    /* Does a gateway fit? Either answer, with a key and a reason for no. */
    static ow_gateway_cfg_t g;
    memset(&g, 0, sizeof g);
    g.nstrings = 2;
    g.strings[0].modules = g.strings[1].modules = 24;
    g.strings[0].first_module = 1;
    g.strings[1].first_module = 25;
    g.nmodules = 48;
    g.aux_units = 1;
    g.current_sensor = g.ambient_sensor = g.hydrogen_sensor = 1;
    const char *key = NULL;
    char why[256] = "";
    if (ow_fm_fits(map, &g, &key, why, sizeof why) < 0 && (!key || !why[0])) abort();
    ow_fm_destroy(&map);
    if (map) abort();
    return 0;
}
