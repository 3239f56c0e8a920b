/* Limits for every socket that reads from another process: the largest
 * frame it accepts (ZMQ_MAXMSGSIZE: a larger one drops the connection in
 * libzmq's I/O thread before any memory is taken for it) and how many
 * messages may queue each way per peer (HWMs). One row per role, so the
 * limits are read in one place and documented from it (proto/README.md,
 * "Limits"). */
#ifndef OW_ZSOCK_H
#define OW_ZSOCK_H

#include <stdint.h>
#include <stdio.h>

#include "ow_proto.h"

/* Messages a replay answer carries at most, whatever the request's max: a
 * peer that never reads holds one chunk, and one answer is a bounded piece
 * of the publisher's loop (the protocol already says "up to M, ask again"). */
#define OW_REPLAY_CHUNK 256

typedef enum {
    OW_ZSOCK_CONTROL,       /* alarmd's control ROUTER */
    OW_ZSOCK_REPLAY,        /* a publisher's replay ROUTER (busd, alarmd) */
    OW_ZSOCK_PUB,           /* a publisher's PUB socket (it reads subscriptions) */
    OW_ZSOCK_SUB,           /* a subscriber's SUB socket */
    OW_ZSOCK_REPLAY_CLIENT, /* a subscriber's DEALER to a replay ROUTER */
    OW_ZSOCK_CTL_CLIENT,    /* a control client's DEALER (CLI, snmpd, modbusd) */
    OW_ZSOCK_ROLES
} ow_zsock_role_t;

typedef struct {
    const char *name;   /* the socket, for the docs */
    int64_t max_frame;  /* bytes of one frame, ZMQ_MAXMSGSIZE */
    int sndhwm, rcvhwm; /* messages per peer; 0 = unbounded, -1 = libzmq's default */
    int mandatory;      /* ROUTER: a send to a full peer fails (EAGAIN) instead of vanishing */
    const char *full;   /* what happens to a peer that does not keep up */
    const char *why;
} ow_zsock_limits_t;

/* Apply role's limits to a zsock_t or a raw zmq socket, before bind or
 * connect. 0, or -1 with errno (a libzmq that lacks an option). */
int ow_zsock_limit(void *sock, ow_zsock_role_t role);
const ow_zsock_limits_t *ow_zsock_limits(ow_zsock_role_t role);

/* The rows as a Markdown table (proto/README.md, "Limits"; scripts/gen-docs.sh). */
int ow_zsock_doc(FILE *out);

#endif
