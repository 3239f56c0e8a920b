/* ow_num: the shared powers of ten and civil-date algorithms, checked
 * against real values (not against themselves). */
#include "ow_num.h"

#include <stdlib.h>

#include "ow_test.h"

static void test_pow10(void)
{
    /* Each entry is exactly the decimal power: compare with the literal
     * and with integer arithmetic as far as uint64_t reaches (1e19). */
    uint64_t p = 1;
    for (int e = 0; e <= 19; e++, p *= 10) {
        CHECK_MSG(ow_num_pow10_exact[e] == (double)p, "1e%d", e);
        CHECK_MSG((uint64_t)ow_num_pow10_exact[e] == p, "1e%d exact", e);
    }
    CHECK(ow_num_pow10_exact[20] == 1e20);
    CHECK(ow_num_pow10_exact[21] == 1e21);
    CHECK(ow_num_pow10_exact[22] == 1e22);
    CHECK(ow_num_pow10_exact[22] == strtod("10000000000000000000000", NULL));
    CHECK(ow_num_pow10(22) == 1e22);
    CHECK(ow_num_pow10(-3) == 1.0 / 1000.0);
    CHECK(ow_num_pow10(-22) == 1.0 / 1e22);
    CHECK_NEAR(ow_num_pow10(30), 1e30, 1e15);
    CHECK_NEAR(ow_num_pow10(-30), 1e-30, 1e-44);
}

static void test_dates(void)
{
    CHECK(ow_num_days_from_civil(1970, 1, 1) == 0);
    CHECK(ow_num_days_from_civil(2000, 3, 1) == 11017);
    CHECK(ow_num_days_from_civil(2024, 5, 1) == 19844);
    CHECK(ow_num_days_from_civil(2024, 3, 1) == 19783);
    CHECK(ow_num_days_from_civil(1969, 12, 31) == -1);
    CHECK(ow_num_days_from_civil(2000, 2, 29) == 11016);
    CHECK(ow_num_days_from_civil(1, 1, 1) == -719162);
    CHECK(ow_num_days_from_civil(9999, 12, 31) == 2932896);

    int y;
    unsigned m, d;
    ow_num_civil_from_days(0, &y, &m, &d);
    CHECK(y == 1970 && m == 1 && d == 1);
    ow_num_civil_from_days(11017, &y, &m, &d);
    CHECK(y == 2000 && m == 3 && d == 1);
    ow_num_civil_from_days(-1, &y, &m, &d);
    CHECK(y == 1969 && m == 12 && d == 31);
    ow_num_civil_from_days(-719162, &y, &m, &d);
    CHECK(y == 1 && m == 1 && d == 1);
    /* Round trip over four centuries around the epoch, leap days included. */
    int bad = 0;
    for (int64_t k = -73048; k <= 73048; k++) {
        ow_num_civil_from_days(k, &y, &m, &d);
        if (ow_num_days_from_civil(y, (int)m, (int)d) != k) bad++;
    }
    CHECK(bad == 0);

    CHECK(ow_num_floor_div(7, 2) == 3);
    CHECK(ow_num_floor_div(-7, 2) == -4);
    CHECK(ow_num_floor_div(-8, 2) == -4);
    CHECK(ow_num_floor_div(-1, 86400) == -1);
}

int main(void)
{
    test_pow10();
    test_dates();
    return ow_test_done("num_test");
}
