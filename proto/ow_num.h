/* Small exact number helpers shared by the codec, the scanner, the config
 * loader and the historian's formatter: the powers of ten that are exact
 * doubles, and Howard Hinnant's civil-date algorithms. One copy each, here in
 * proto/ because lib/ and the services all link owproto. */
#ifndef OW_NUM_H
#define OW_NUM_H

#include <stdint.h>

/* 10^0 .. 10^22: every power of ten up to 1e22 is an exact double (5^22 <
 * 2^53), which is what Clinger's fast path and the fixed-point formatters
 * rely on. */
#define OW_NUM_POW10_EXACT_MAX 22
extern const double ow_num_pow10_exact[OW_NUM_POW10_EXACT_MAX + 1];

/* 10^e: exact from the table for |e| <= 22 (a division for e < 0), pow()
 * beyond. */
double ow_num_pow10(int e);

/* a / b rounded toward minus infinity (b > 0 or b < 0, never 0). */
int64_t ow_num_floor_div(int64_t a, int64_t b);

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12). */
int64_t ow_num_days_from_civil(int y, int m, int d);

/* The inverse: the date of a day count since 1970-01-01. */
void ow_num_civil_from_days(int64_t days, int *y, unsigned *m, unsigned *d);

#endif
