/* See ow_clock.h. */
#include "ow_clock.h"

#include <stdio.h>
#include <time.h>

int64_t ow_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ow_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *ow_fmt_ts(int64_t ts_us, char *buf, unsigned len)
{
    time_t s = (time_t)(ts_us / 1000000);
    struct tm tm;
    char tmp[32];
    gmtime_r(&s, &tm);
    strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", tmp, (int)((ts_us % 1000000) / 1000));
    return buf;
}

void ow_deadline_init(ow_deadline_t *d, int64_t period_us)
{
    d->period_us = period_us;
    d->next_us = ow_mono_us() + period_us;
}

int64_t ow_deadline_wait_us(const ow_deadline_t *d)
{
    int64_t w = d->next_us - ow_mono_us();
    return w > 0 ? w : 0;
}

int ow_deadline_tick(ow_deadline_t *d)
{
    int64_t now = ow_mono_us();
    int skipped = 0;
    d->next_us += d->period_us;
    /* Behind by more than a whole period: skip the missed ticks rather than
     * bursting to catch up, and let the caller warn. */
    if (d->next_us < now) {
        skipped = (int)((now - d->next_us) / d->period_us) + 1;
        d->next_us += (int64_t)skipped * d->period_us;
    }
    return skipped;
}
