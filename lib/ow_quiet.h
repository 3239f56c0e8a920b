/* When a gateway's publisher (its busd) counts as gone quiet: one rule for
 * alarmd, which raises the gateway's Communication lost, and for the
 * front-ends (modbusd, snmpd), which then stop serving the last values they
 * heard as if they were current. A busd that is killed, hangs, or loses its
 * link to the bus publishes nothing at all, not even "no answer" readings,
 * so each of them must notice the silence itself. */
#ifndef OW_QUIET_H
#define OW_QUIET_H

#include <stdint.h>

#include "ow_proto.h"

#define OW_QUIET_POLLS  3       /* poll periods without a message: gone quiet */
#define OW_QUIET_MIN_US 3000000 /* ... but never less than this much wall time */

/* Wall time without a message after which a publisher polling every
 * period_us of measurement time at speed (simulated-time acceleration)
 * counts as quiet. period_us <= 0 or speed <= 0: 1 s and 1. */
int64_t ow_quiet_after_us(int64_t period_us, double speed);

typedef struct {
    int64_t heard_us;  /* monotonic µs of the last message (or of the start) */
    int64_t period_us; /* from the publisher's heartbeat; 0 until one comes */
    double speed;
    int quiet; /* 1 from the check that found it quiet to the next message */
} ow_quiet_t;

void ow_quiet_init(ow_quiet_t *q, int64_t now_us);
/* A message from the publisher at now_us (monotonic): 1 if it had been
 * quiet (it speaks again), else 0. A heartbeat also gives the period. */
int ow_quiet_heard(ow_quiet_t *q, const ow_msg_t *m, int64_t now_us);
/* 1 once, at the first check that finds the publisher quiet; 0 before, and
 * after until it speaks again and falls quiet once more. */
int ow_quiet_check(ow_quiet_t *q, int64_t now_us);
/* 1 if m (from alarmd) says the gateway's Communication lost is active:
 * alarmd found its publisher quiet by this rule, so what alarmd holds of
 * its readings (a snapshot's) is from before the loss. */
int ow_quiet_alarm_active(const ow_msg_t *m);
/* Take the publisher as quiet now (alarmd said so), without waiting. */
void ow_quiet_set(ow_quiet_t *q);
/* How long it has been silent (µs), for the log. */
int64_t ow_quiet_for_us(const ow_quiet_t *q, int64_t now_us);

#endif
