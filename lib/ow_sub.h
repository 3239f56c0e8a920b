/* A subscriber that loses nothing it can recover: one SUB socket per
 * publisher (so each message's source is known) and a DEALER to the same
 * publisher's replay socket. It tracks (epoch, seq) per publisher; on a gap,
 * a publisher restart or a resume point it asks for the missing range, holds
 * live messages meanwhile and then delivers everything in sequence order,
 * each message once. What the publisher no longer holds is reported as lost.
 *
 * Sequence tracking needs the whole stream: with a topic filter other than
 * "" the subscriber only delivers and de-duplicates (see proto/README.md). */
#ifndef OW_SUB_H
#define OW_SUB_H

#include <stddef.h>
#include <stdint.h>

#include "ow_proto.h"

typedef struct ow_sub ow_sub_t;

typedef struct {
    uint64_t received;   /* frames read from SUB sockets */
    uint64_t delivered;  /* messages handed to the caller */
    uint64_t replayed;   /* of which came from replay */
    uint64_t duplicates; /* dropped as already delivered */
    uint64_t gaps;       /* gaps detected (each triggers a replay) */
    uint64_t lost;       /* messages that could not be recovered */
    uint64_t restarts;   /* publisher epoch changes seen */
    uint64_t deferred;   /* live messages dropped while far behind, fetched by replay later */
    uint64_t malformed;  /* frames rejected by the codec */
    ow_proto_stats_t proto;
} ow_sub_stats_t;

/* A delivered message: decoded, with its raw frames (valid until next recv). */
typedef struct {
    ow_msg_t msg;
    const char *topic;
    size_t topic_len;
    const char *body;
    size_t body_len;
    int replayed; /* 1 if it came through replay */
    int source;   /* index of the publisher (order of ow_sub_add) */
} ow_delivery_t;

ow_sub_t *ow_sub_new(void);
void ow_sub_destroy(ow_sub_t **sub);

/* Add a publisher: its PUB endpoint and (optionally, NULL) replay endpoint.
 * Returns the source index or -1. */
int ow_sub_add(ow_sub_t *sub, const char *pub_endpoint, const char *replay_endpoint);

/* Subscribe every source to a topic prefix (default: nothing until called;
 * "" is everything and enables sequence tracking). */
int ow_sub_subscribe(ow_sub_t *sub, const char *prefix);

/* Where a previous run stopped: on first contact with publisher pub in epoch
 * epoch, everything after last_seq is replayed first. */
int ow_sub_resume(ow_sub_t *sub, const char *pub, uint64_t epoch, uint64_t last_seq);

/* On first contact with a publisher we have no resume point for, replay its
 * whole journal (1) or start with the live stream (0, default). */
void ow_sub_from_start(ow_sub_t *sub, int on);

/* How long to wait for a replay answer before declaring the range lost. */
void ow_sub_replay_timeout(ow_sub_t *sub, int ms);

/* A socket of the caller (zsock_t or raw, up to 4) that ends ow_sub_recv's
 * wait when it is readable: a daemon waits for readings and requests in one
 * poll, and a request is answered at once, not after the timeout. 0 or -1. */
int ow_sub_wake_on(ow_sub_t *sub, void *socket);

/* Next message in order. 1 delivered, 0 timeout, -1 interrupted/error.
 * timeout_ms < 0 waits forever; 0 takes what has already arrived. A wake
 * socket that is readable returns 0 once nothing is ready to deliver. */
int ow_sub_recv(ow_sub_t *sub, ow_delivery_t *out, int timeout_ms);

const ow_sub_stats_t *ow_sub_stats(const ow_sub_t *sub);

/* Last delivered (epoch, seq) of a source, for persisting a resume point. */
int ow_sub_position(const ow_sub_t *sub, int source, char *pub, size_t publen, uint64_t *epoch,
                    uint64_t *seq);

#endif
