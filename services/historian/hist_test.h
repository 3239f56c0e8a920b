/* What the historian's tests build their messages from: a reference day
 * and epoch, a message of a kind with its header filled as busd would, and
 * an event as alarmd publishes it. Test-only (a header, so that the tests
 * that need no server link nothing more). */
#ifndef OW_HIST_TEST_H
#define OW_HIST_TEST_H

#include <stdio.h>

#include "ow_proto.h"

#define S_US   1000000LL
#define DAY_US (86400 * S_US)
#define D0     (19844 * DAY_US) /* 2024-05-01 00:00:00 UTC */
#define EPOCH  1714000000000000ULL

static inline ow_msg_t msg(ow_kind_t kind, const char *gw, int64_t ts_us, uint64_t seq)
{
    ow_msg_t m;
    ow_msg_init(&m, kind);
    snprintf(m.h.pub, sizeof m.h.pub, "busd.%s", gw);
    snprintf(m.h.gw, sizeof m.h.gw, "%s", gw);
    m.h.epoch = EPOCH;
    m.h.seq = seq;
    m.h.ts_us = ts_us;
    return m;
}

/* An event from alarmd. */
static inline ow_msg_t ev(ow_kind_t kind, int64_t ts_us, uint64_t seq)
{
    ow_msg_t m = msg(kind, "wm1", ts_us, seq);
    snprintf(m.h.pub, sizeof m.h.pub, "alarmd");
    return m;
}

#endif
