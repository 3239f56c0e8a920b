/* Socket limits by role; see ow_zsock.h. */
#include "ow_zsock.h"

#include <czmq.h>
#include <errno.h>

/* Every body the codec accepts is at most OW_BODY_MAX (and a topic at most
 * OW_TOPIC_MAX), so twice that is never reached by a message of the
 * contract; a request a little over still reaches the codec and gets a
 * "too large" answer rather than a silent disconnect. */
#define FRAME_MAX ((int64_t)OW_BODY_MAX * 2)

static const ow_zsock_limits_t rows[] = {
    [OW_ZSOCK_CONTROL] = {.name = "control",
                          .max_frame = FRAME_MAX,
                          .sndhwm = 100,
                          .rcvhwm = 100,
                          .mandatory = 1,
                          .why = "a request is one body; a peer that does not read its answers "
                                 "holds at most 100 of them (then its answers are dropped)"},
    [OW_ZSOCK_REPLAY] = {.name = "replay",
                         .max_frame = 4096,
                         .sndhwm = 2 * (OW_REPLAY_CHUNK + 2),
                         .rcvhwm = 100,
                         .mandatory = 1,
                         .why = "a request is ~60 bytes of JSON; a peer holds at most two "
                                "answers of OW_REPLAY_CHUNK messages"},
    [OW_ZSOCK_SUB] = {.name = "sub",
                      .max_frame = FRAME_MAX,
                      .sndhwm = -1,
                      .rcvhwm = 200000,
                      .why = "a poll cycle is a burst of 500+ messages; a subscriber a few "
                             "cycles behind must not lose any"},
    [OW_ZSOCK_REPLAY_CLIENT] = {.name = "replay client",
                                .max_frame = FRAME_MAX,
                                .sndhwm = -1,
                                .rcvhwm = 0,
                                .why = "an answer is bounded by the publisher's chunk; none is "
                                       "cut short on our side"},
    [OW_ZSOCK_CTL_CLIENT] = {.name = "control client",
                             .max_frame = FRAME_MAX,
                             .sndhwm = -1,
                             .rcvhwm = -1,
                             .why = "a reply and its messages are each one body"},
};
_Static_assert(sizeof rows / sizeof rows[0] == OW_ZSOCK_ROLES, "one row per ow_zsock_role_t");

const ow_zsock_limits_t *ow_zsock_limits(ow_zsock_role_t role)
{
    return (int)role >= 0 && role < OW_ZSOCK_ROLES ? &rows[role] : NULL;
}

int ow_zsock_limit(void *sock, ow_zsock_role_t role)
{
    const ow_zsock_limits_t *l = ow_zsock_limits(role);
    void *raw = sock ? zsock_resolve(sock) : NULL;
    int one = 1;
    if (!l || !raw) {
        errno = EINVAL;
        return -1;
    }
    if (zmq_setsockopt(raw, ZMQ_MAXMSGSIZE, &l->max_frame, sizeof l->max_frame) < 0) return -1;
    if (l->sndhwm >= 0 && zmq_setsockopt(raw, ZMQ_SNDHWM, &l->sndhwm, sizeof l->sndhwm) < 0)
        return -1;
    if (l->rcvhwm >= 0 && zmq_setsockopt(raw, ZMQ_RCVHWM, &l->rcvhwm, sizeof l->rcvhwm) < 0)
        return -1;
    if (l->mandatory && zmq_setsockopt(raw, ZMQ_ROUTER_MANDATORY, &one, sizeof one) < 0) return -1;
    return 0;
}
