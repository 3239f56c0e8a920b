/* Time helpers: wall clock in microseconds UTC for timestamps on the wire,
 * monotonic microseconds for deadlines (periodic work runs against absolute
 * deadlines, collectd-style, so it never drifts). */
#ifndef OW_CLOCK_H
#define OW_CLOCK_H

#include <stdint.h>

int64_t ow_now_us(void);  /* CLOCK_REALTIME, µs since the Unix epoch */
int64_t ow_mono_us(void); /* CLOCK_MONOTONIC, µs */

/* Format a UTC µs timestamp as ISO-8601 with milliseconds into buf. */
const char *ow_fmt_ts(int64_t ts_us, char *buf, unsigned len);

/* A periodic deadline: next() returns how long to wait (µs, >= 0) before the
 * next tick; tick() advances it by one period and reports how many periods
 * were skipped when we fell behind by more than one. */
typedef struct {
    int64_t period_us;
    int64_t next_us; /* monotonic */
} ow_deadline_t;

void ow_deadline_init(ow_deadline_t *d, int64_t period_us);
int64_t ow_deadline_wait_us(const ow_deadline_t *d);
int ow_deadline_tick(ow_deadline_t *d);

#endif
