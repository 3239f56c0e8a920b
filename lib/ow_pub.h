/* A publisher that can be caught up with: a PUB socket for the live stream,
 * a journal of the last N messages, and a ROUTER answering replay requests
 * (proto/README.md, "Sequence numbers and delivery guarantees"). busd and
 * alarmd publish through it; lib/ow_sub.c is the other end. */
#ifndef OW_PUB_H
#define OW_PUB_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "ow_proto.h"

typedef struct ow_pub ow_pub_t;

typedef struct {
    uint64_t published, dropped, replay_requests, replay_sent, bad_requests;
    uint64_t replay_abandoned; /* answers cut off: the peer's queue was full or it left */
} ow_pub_stats_t;

/* Bind both endpoints; NULL with the reason in err. */
ow_pub_t *ow_pub_new(const char *pub_id, const char *publish_ep, const char *replay_ep,
                     size_t journal_messages, char *err, size_t errlen);
void ow_pub_destroy(ow_pub_t **p);

/* Stamp pub, epoch and the next seq on m (the caller sets gw and ts_us),
 * encode, journal and send. 0, or -1 if m is outside the contract (logged,
 * counted as dropped, and no sequence number is used up). */
int ow_pub_send(ow_pub_t *p, ow_msg_t *m);

uint64_t ow_pub_epoch(const ow_pub_t *p);
uint64_t ow_pub_journal_first(const ow_pub_t *p);
uint64_t ow_pub_journal_last(const ow_pub_t *p);
const ow_pub_stats_t *ow_pub_stats(const ow_pub_t *p);

/* The ROUTER's raw zmq socket, to poll together with others, and the
 * handler to call when it is readable. */
void *ow_pub_replay_socket(ow_pub_t *p);
void ow_pub_serve(ow_pub_t *p);
/* Answer replay requests until the monotonic time `until` (or *stop). */
void ow_pub_serve_until(ow_pub_t *p, int64_t until, volatile sig_atomic_t *stop);

#endif
