/* Clock and deadline helpers. */
#include "ow_clock.h"
#include "ow_test.h"

#include <unistd.h>

int main(void)
{
    char buf[40];
    CHECK_STR(ow_fmt_ts(1590969600123456LL, buf, sizeof buf), "2020-06-01T00:00:00.123Z");
    int64_t a = ow_now_us(), m = ow_mono_us();
    CHECK(a > 1600000000000000LL); /* after 2020 */
    CHECK(m > 0);

    ow_deadline_t d;
    ow_deadline_init(&d, 20000);
    CHECK(ow_deadline_wait_us(&d) > 0 && ow_deadline_wait_us(&d) <= 20000);
    usleep(25000);
    CHECK(ow_deadline_wait_us(&d) == 0);
    /* 25 ms into a 20 ms period: the tick lands on 40 ms, nothing skipped. */
    CHECK(ow_deadline_tick(&d) == 0);
    CHECK(ow_deadline_wait_us(&d) > 0);
    /* Fall behind by three periods: they are skipped, not burst through. */
    usleep(75000);
    int skipped = ow_deadline_tick(&d);
    CHECK_MSG(skipped >= 2 && skipped <= 4, "skipped %d", skipped);
    CHECK(ow_deadline_wait_us(&d) > 0);
    return ow_test_done("clock_test");
}
