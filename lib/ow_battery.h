/* Lead-acid chemistries: the per-cell figures every judgement and the
 * simulator start from (open-circuit and float voltages, the manufacturer's
 * float band, float current, end voltage, internal resistance per Ah, float
 * temperature compensation). One row per chemistry; each number names its
 * source in ow_battery.c and in docs/battery.md. Per 2 V cell throughout:
 * multiply by the block's cells (nominal_v / 2). */
#ifndef OW_BATTERY_H
#define OW_BATTERY_H

#include <stddef.h>

typedef struct {
    const char *name;       /* "vrla", "flooded": battery.chemistry */
    const char *title;      /* for documents */
    double ocv_full_v;      /* open circuit at full charge, 25 degC */
    double float_v;         /* recommended float voltage, 25 degC */
    double float_min_v;     /* manufacturer's float band, 25 degC ... */
    double float_max_v;     /* ... (a charger outside it is mis-set) */
    double float_ma_per_ah; /* float current of a new, full cell, 25 degC, mA per Ah C10 */
    double end_v;           /* end voltage of a C10 discharge */
    double mohm_ah;         /* internal resistance x C10 of one cell, mOhm*Ah */
    double tcomp_mv_per_c;  /* float temperature compensation per cell, mV/degC */
    /* The simulator's discharge model (services/busd/sim.c, docs/scenarios.md),
     * per cell, with x = Ah removed / C10 and r = I / I10: */
    double emf_span_v;     /* EMF drop from full to x = 1 (acid dilution) */
    double tafel_v;        /* activation polarisation b ln(1 + r / r0), V per e-fold */
    double tafel_r0;       /* r0, in units of I10 */
    double knee_v;         /* concentration polarisation knee_v x / (x_acc - x) */
    double acc_max;        /* accessible charge at r -> 0, in C10 */
    double acc_rc;         /* x_acc(r) = acc_max / (1 + (r / acc_rc)^acc_n) */
    double acc_n;          /* rate exponent of the accessible charge */
    double cap_per_c;      /* capacity change per degC around 25 degC (IEEE 450) */
    double charge_eff;     /* Ah stored per Ah charged below full */
    double kg_per_cell_ah; /* block mass per cell and Ah C10 (thermal mass) */
    double heat_j_per_gk;  /* specific heat of the cell */
    const char *source;    /* where the numbers come from */
} ow_chemistry_t;

extern const ow_chemistry_t ow_chemistries[];
extern const size_t ow_chemistries_count;

const ow_chemistry_t *ow_chemistry_find(const char *name); /* NULL if unknown */
/* The chemistry a module type's cells usually are: flooded for 2 V cells
 * (C40: substation and telecom cells), VRLA blocks otherwise. */
const char *ow_chemistry_default(double nominal_v);
/* Typical internal resistance of a new block of `cells` cells of C10 Ah. */
double ow_chemistry_block_mohm(const ow_chemistry_t *c, int cells, double c10_ah);

#endif
