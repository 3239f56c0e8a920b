/* See lograte.h. */
#include "lograte.h"

#include <math.h>

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int ow_lograte_active(const ow_gateway_cfg_t *gw, const ow_string_t *s)
{
    const ow_thresholds_t *t = &gw->thr;
    if (gw->current_sensor && !isnan(s->current_a))
        return s->current_a < -t->discharge_detect_a || s->current_a > t->charge_detect_a;
    /* No current: away from float by more than the band means a discharge
     * or the recharge after it. */
    double cells = gw->module_type ? gw->module_type->nominal_v / 2 : 6;
    double fl = gw->sim.float_v_per_cell > 0 ? gw->sim.float_v_per_cell : 2.27;
    double band = t->float_band_v_per_cell > 0 ? t->float_band_v_per_cell : 0.03;
    if (isnan(s->avg_voltage_v) || cells <= 0) return 0;
    double v = s->avg_voltage_v / cells;
    return v < fl - band || v > fl + 0.05;
}

int ow_lograte_keep(const ow_gateway_cfg_t *gw, const ow_string_t *s, int64_t ts_us,
                    int64_t period_us)
{
    int rate_s = ow_lograte_active(gw, s) ? gw->log_rate_charge_s : gw->log_rate_s;
    if (rate_s <= 0 || period_us <= 0) return 1;
    int64_t rate_us = (int64_t)rate_s * 1000000;
    if (period_us >= rate_us) return 1;
    /* First reading of its window: the previous poll fell in another one. */
    return floordiv(ts_us, rate_us) != floordiv(ts_us - period_us, rate_us);
}
