/* Capacity test arithmetic (IEEE 450 / IEEE 1188) and time-to-go while a
 * string discharges. Pure functions: no state, no I/O, so that alarmd, the
 * CLI and the tests compute the same numbers. See docs/battery.md. */
#ifndef OW_CAPACITY_H
#define OW_CAPACITY_H

/* IEEE 450 replacement criterion: replace when capacity < 80 % of rated. */
#define OW_CAP_REPLACE_PCT 80.0

/* Peukert exponent used by time-to-go when the battery gives none. 1.25 puts
 * the 1 h rate at 10^(1/1.25 - 1) = 63 % of C10, inside the 55-65 % of a
 * typical VRLA datasheet (and of the recalibrated simulator). */
#define OW_CAP_PEUKERT_DEFAULT 1.25

/* End voltage per cell when none was given: IEEE 450's usual 1.75 V/cell. */
#define OW_CAP_END_V_DEFAULT 1.75

/* Temperature correction factor K for the electrolyte (average cell)
 * temperature temp_c, linear between the rows of IEEE 450 Table 1; 1.000 at
 * 25 C. NAN when temp_c is NAN or outside the table (-3.9 .. 51.7 C): the
 * standard gives no factor there, so neither do we. */
double ow_cap_temp_factor(double temp_c);

/* Time-adjusted method (IEEE 450): capacity % = actual time to end voltage /
 * (rated time x K) x 100. NAN on bad input. */
double ow_cap_time_adjusted_pct(double actual_h, double rated_h, double temp_c);

/* Rate-adjusted method (IEEE 450, tests longer than 1 h): discharge at the
 * rated current divided by K, then capacity % = actual / rated time x 100.
 * This returns that test current; NAN on bad input. */
double ow_cap_rate_adjusted_current_a(double rated_current_a, double temp_c);
double ow_cap_rate_adjusted_pct(double actual_h, double rated_h);

/* 1 when a capacity % calls for replacement (below 80 %), 0 otherwise or NAN. */
int ow_cap_replace(double capacity_pct);

/* Depth of discharge: Ah removed / C10 x 100 (what an outage reports). */
double ow_cap_dod_pct(double ah_removed, double c10_ah);

typedef struct {
    double c10_ah;         /* rated capacity at the 10 h rate, 25 C (battery.capacity_ah) */
    double peukert;        /* exponent, OW_CAP_PEUKERT_DEFAULT if <= 1 */
    double end_v_per_cell; /* end voltage of the discharge */
    int cells_per_block;   /* cells in the block whose voltage is given */
} ow_cap_model_t;

typedef struct {
    double current_a;      /* present discharge current, positive while discharging */
    double temp_c;         /* average block temperature; NAN counts as 25 C */
    double ah_removed;     /* Ah taken out since the discharge started */
    double low_block_v;    /* lowest block voltage now; NAN if unknown */
    double low_block_dvdt; /* its slope in V/s (negative while falling); NAN if unknown */
    double avg_block_v;    /* the string's average block voltage now; NAN if unknown */
    double avg_dv_dah;     /* its slope against Ah removed, V/Ah (negative); NAN/0 if unknown */
} ow_cap_now_t;

/* Capacity deliverable at a constant current (Peukert):
 * C_I = C10 x (I10 / I)^(k-1), I10 = C10/10, divided by K for temperature. */
double ow_cap_available_ah(const ow_cap_model_t *m, double current_a, double temp_c);

/* Seconds until the end voltage: the smaller of the Ah estimate
 * (C_I - removed - lead) / I and the weakest block's straight-line
 * extrapolation to the end voltage. lead is how far the weakest block is
 * ahead of the average one: its voltage deficit divided by the average
 * block's volts per Ah (a smaller block is deeper discharged at the same
 * current, and the weakest block ends the discharge). NAN when not
 * discharging or without a current. */
double ow_cap_time_to_go_s(const ow_cap_model_t *m, const ow_cap_now_t *now);

#endif
