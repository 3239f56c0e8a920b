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
    const char *source;     /* where the numbers come from */
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
