/* See ow_num.h. The date algorithms are H. Hinnant's "chrono-compatible
 * low-level date algorithms" (days_from_civil / civil_from_days), valid for
 * every int64 day count a timestamp in microseconds can hold. */
#include "ow_num.h"

#include <math.h>

const double ow_num_pow10_exact[OW_NUM_POW10_EXACT_MAX + 1] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

double ow_num_pow10(int e)
{
    if (e >= 0 && e <= OW_NUM_POW10_EXACT_MAX) return ow_num_pow10_exact[e];
    if (e < 0 && e >= -OW_NUM_POW10_EXACT_MAX) return 1.0 / ow_num_pow10_exact[-e];
    return pow(10.0, e);
}

int64_t ow_num_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t ow_num_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void ow_num_civil_from_days(int64_t days, int *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = ow_num_floor_div(days, 146097);
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}
