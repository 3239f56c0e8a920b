/* Socket limits by role; see ow_zsock.h. */
#include "ow_zsock.h"

#include <czmq.h>
#include <errno.h>

/* Every body the codec accepts is at most OW_BODY_MAX (and a topic at most
 * OW_TOPIC_MAX), so twice that is never reached by a message of the
 * contract; a request a little over still reaches the codec and gets a
 * "size" refusal rather than a silent disconnect. */
#define FRAME_MAX ((int64_t)OW_BODY_MAX * 2)

static const ow_zsock_limits_t rows[] = {
    [OW_ZSOCK_CONTROL] = {.name = "alarmd control ROUTER",
                          .max_frame = FRAME_MAX,
                          .sndhwm = 100,
                          .rcvhwm = 100,
                          .mandatory = 1,
                          .full = "its answers are dropped and counted",
                          .why = "a request is one body; a peer that does not read holds at most "
                                 "100 answers"},
    [OW_ZSOCK_REPLAY] = {.name = "replay ROUTER (busd, alarmd)",
                         .max_frame = 4096,
                         .sndhwm = 2 * (OW_REPLAY_CHUNK + 2),
                         .rcvhwm = 100,
                         .mandatory = 1,
                         .full = "its answer is abandoned and counted; it asks again",
                         .why = "a request is ~60 bytes of JSON; a peer holds at most two "
                                "answers of OW_REPLAY_CHUNK messages"},
    [OW_ZSOCK_PUB] = {.name = "publisher PUB (busd, alarmd)",
                      .max_frame = 4096,
                      .sndhwm = 200000,
                      .rcvhwm = -1,
                      .full = "libzmq drops for that subscriber; replay recovers",
                      .why = "what comes in is subscriptions (a topic prefix, at most 96 "
                             "bytes); a poll cycle is a burst of 500+ messages"},
    [OW_ZSOCK_SUB] = {.name = "subscriber SUB",
                      .max_frame = FRAME_MAX,
                      .sndhwm = -1,
                      .rcvhwm = 200000,
                      .full = "libzmq drops; replay recovers",
                      .why = "a poll cycle is a burst of 500+ messages; a subscriber a few "
                             "cycles behind must not lose any"},
    [OW_ZSOCK_REPLAY_CLIENT] = {.name = "subscriber's replay DEALER",
                                .max_frame = FRAME_MAX,
                                .sndhwm = -1,
                                .rcvhwm = 0,
                                .full = "-",
                                .why = "an answer is bounded by the publisher's chunk; none is "
                                       "cut short on our side"},
    [OW_ZSOCK_CTL_CLIENT] = {.name = "control client DEALER (CLI, snmpd, modbusd)",
                             .max_frame = FRAME_MAX,
                             .sndhwm = -1,
                             .rcvhwm = -1,
                             .full = "-",
                             .why = "a reply and each message with it is one body"},
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

static const char *hwm(int v, char *buf, size_t n)
{
    if (v < 0) return "libzmq's default";
    if (v == 0) return "unbounded";
    snprintf(buf, n, "%d", v);
    return buf;
}

int ow_zsock_doc(FILE *out)
{
    fprintf(out, "| socket | largest frame | messages queued per peer: in / out | a peer "
                 "that does not keep up | why |\n|---|---|---|---|---|\n");
    for (int r = 0; r < OW_ZSOCK_ROLES; r++) {
        const ow_zsock_limits_t *l = &rows[r];
        char in[16], o[16];
        fprintf(out, "| %s | %lld KiB | %s / %s | %s | %s |\n", l->name,
                (long long)(l->max_frame / 1024), hwm(l->rcvhwm, in, sizeof in),
                hwm(l->sndhwm, o, sizeof o), l->full, l->why);
    }
    return ferror(out) ? -1 : 0;
}
