/* Capacity test arithmetic (IEEE 450 / IEEE 1188) and time-to-go. The table
 * is data the code walks and docs/battery.md reproduces; the
 * formulas are the standard's, named at each function. */
#include "capacity.h"

#include <math.h>
#include <stddef.h>

/* Temperature correction factors for lead-acid cells referenced to 77 F /
 * 25 C: IEEE Std 485 Table 1, the same factor IEEE 450 calls K_c for the
 * rate-adjusted method (IEEE 1188 points to it for VRLA). Rows by whole
 * degrees F so that each row is exact; -3.9 .. 51.7 C is the table's range
 * (confirmed by ETAP's battery sizing note, which interpolates the same
 * table). K_c > 1 below 25 C: a cold cell delivers 1/K_c of its rating.
 * VERIFY against the purchased standard: the values were transcribed from
 * secondary sources, not from the standard's own page. */
typedef struct {
    double temp_f;
    double k_c;
} k_row_t;

static const k_row_t k_table[] = {
    {.temp_f = 25, .k_c = 1.520},  {.temp_f = 30, .k_c = 1.430},  {.temp_f = 35, .k_c = 1.350},
    {.temp_f = 40, .k_c = 1.300},  {.temp_f = 45, .k_c = 1.250},  {.temp_f = 50, .k_c = 1.190},
    {.temp_f = 55, .k_c = 1.150},  {.temp_f = 60, .k_c = 1.110},  {.temp_f = 65, .k_c = 1.080},
    {.temp_f = 70, .k_c = 1.045},  {.temp_f = 75, .k_c = 1.014},  {.temp_f = 77, .k_c = 1.000},
    {.temp_f = 80, .k_c = 0.980},  {.temp_f = 85, .k_c = 0.956},  {.temp_f = 90, .k_c = 0.933},
    {.temp_f = 95, .k_c = 0.913},  {.temp_f = 100, .k_c = 0.894}, {.temp_f = 105, .k_c = 0.876},
    {.temp_f = 110, .k_c = 0.859}, {.temp_f = 115, .k_c = 0.843}, {.temp_f = 120, .k_c = 0.828},
    {.temp_f = 125, .k_c = 0.813},
};
#define K_ROWS (sizeof(k_table) / sizeof(k_table[0]))

double ow_cap_temp_factor(double temp_c)
{
    if (!isfinite(temp_c)) return NAN;
    double f = temp_c * 9.0 / 5.0 + 32.0;
    /* a hair of slack so that -3.9 C (24.98 F) and 51.7 C (125.06 F) count */
    if (f < k_table[0].temp_f - 0.1 || f > k_table[K_ROWS - 1].temp_f + 0.1) return NAN;
    if (f <= k_table[0].temp_f) return k_table[0].k_c;
    for (size_t i = 1; i < K_ROWS; i++) {
        const k_row_t *a = &k_table[i - 1], *b = &k_table[i];
        if (f <= b->temp_f)
            return a->k_c + (b->k_c - a->k_c) * (f - a->temp_f) / (b->temp_f - a->temp_f);
    }
    return k_table[K_ROWS - 1].k_c;
}

/* IEEE 450 time-adjusted: % = t_a / (t_s x K_t) x 100 with K_t the time
 * factor; a cold cell runs short by 1/K_c, so K_t = 1 / K_c. */
double ow_cap_time_adjusted_pct(double actual_h, double rated_h, double temp_c)
{
    double kc = ow_cap_temp_factor(temp_c);
    if (!(actual_h >= 0) || !(rated_h > 0) || !isfinite(kc)) return NAN;
    return actual_h / (rated_h * (1.0 / kc)) * 100.0;
}

/* IEEE 450 rate-adjusted: test current = rated current / K_c (a cold string
 * is discharged more gently), then % = t_a / t_s x 100 without correction. */
double ow_cap_rate_adjusted_current_a(double rated_current_a, double temp_c)
{
    double kc = ow_cap_temp_factor(temp_c);
    if (!(rated_current_a > 0) || !isfinite(kc)) return NAN;
    return rated_current_a / kc;
}

double ow_cap_rate_adjusted_pct(double actual_h, double rated_h)
{
    if (!(actual_h >= 0) || !(rated_h > 0)) return NAN;
    return actual_h / rated_h * 100.0;
}

int ow_cap_replace(double capacity_pct)
{
    return isfinite(capacity_pct) && capacity_pct < OW_CAP_REPLACE_PCT;
}

double ow_cap_dod_pct(double ah_removed, double c10_ah)
{
    if (!isfinite(ah_removed) || !(c10_ah > 0)) return NAN;
    return ah_removed / c10_ah * 100.0;
}

double ow_cap_available_ah(const ow_cap_model_t *m, double current_a, double temp_c)
{
    if (!m || !(m->c10_ah > 0) || !(current_a > 0)) return NAN;
    double k = m->peukert > 1.0 ? m->peukert : OW_CAP_PEUKERT_DEFAULT;
    double i10 = m->c10_ah / 10.0;
    double kc = ow_cap_temp_factor(isfinite(temp_c) ? temp_c : 25.0);
    if (!isfinite(kc)) kc = 1.0; /* outside the table: no correction rather than no answer */
    /* below the 10 h rate Peukert would promise more than C10; lead-acid
     * gives little more, so cap it there (pessimistic on a light load) */
    double c = current_a <= i10 ? m->c10_ah : m->c10_ah * pow(i10 / current_a, k - 1.0);
    return c / kc;
}

double ow_cap_time_to_go_s(const ow_cap_model_t *m, const ow_cap_now_t *now)
{
    if (!m || !now || !(now->current_a > 0)) return NAN;
    double avail = ow_cap_available_ah(m, now->current_a, now->temp_c);
    if (!isfinite(avail)) return NAN;
    double removed = isfinite(now->ah_removed) ? now->ah_removed : 0.0;
    /* The weakest block is ahead of the average one by its voltage deficit
     * over the average block's volts per Ah: at the same current a smaller
     * block is deeper discharged (a block of higher resistance also reads
     * low: that errs short, the safe side). At most a third of what is
     * available, so a block that reads low for another reason (a bad
     * connection) cannot make the answer zero. */
    double lead = 0;
    if (isfinite(now->avg_block_v) && isfinite(now->low_block_v) && isfinite(now->avg_dv_dah) &&
        now->avg_dv_dah < 0)
        lead = fmin(fmax((now->avg_block_v - now->low_block_v) / -now->avg_dv_dah, 0), avail / 3);
    double ttg = fmax(avail - removed - lead, 0.0) / now->current_a * 3600.0;

    /* The weakest block ends the discharge. A straight line through its
     * present slope overestimates the time near the knee (the voltage falls
     * ever faster), so it can only make the answer more pessimistic, never
     * less: take the smaller of the two. */
    if (m->cells_per_block > 0 && m->end_v_per_cell > 0 && isfinite(now->low_block_v) &&
        isfinite(now->low_block_dvdt) && now->low_block_dvdt < 0) {
        double end_v = m->end_v_per_cell * m->cells_per_block;
        double tv = fmax(now->low_block_v - end_v, 0.0) / -now->low_block_dvdt;
        ttg = fmin(ttg, tv);
    }
    return ttg;
}
