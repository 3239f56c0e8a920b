/* The live event ring the SSE stream reads (GET /api/events). One writer
 * (live.c, on the main thread) publishes; every open stream reads from its
 * own position on an HTTP pool thread. A stream with nothing to send parks
 * (its connection suspended) and a publish wakes every parked one, so an
 * idle page costs no thread and no polling. */
#ifndef OW_WEB_HUB_H
#define OW_WEB_HUB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "web.h"

#define OW_WEB_HUB_EVENTS   512        /* events held */
#define OW_WEB_HUB_BYTES    (8u << 20) /* and at most these bytes of data */
#define OW_WEB_KEEPALIVE_US 15000000   /* a comment this often on an idle stream */

typedef struct ow_web_hub ow_web_hub_t;
typedef struct ow_web_stream ow_web_stream_t;

/* park(conn) suspends a stream's connection, wake(conn) resumes it
 * (MHD_suspend_connection / MHD_resume_connection; a test's counters). */
ow_web_hub_t *ow_web_hub_new(size_t max_events, size_t max_bytes, void (*park)(void *conn),
                             void (*wake)(void *conn));
/* Wakes every stream to end (before the HTTP server stops), then frees. */
void ow_web_hub_close(ow_web_hub_t *h);
void ow_web_hub_destroy(ow_web_hub_t **h);

/* A new event (name <= 15 bytes, data one JSON text); its sequence number.
 * An event whose data is an object with a string "gw" holds that gateway's
 * whole state of its kind: a stream too far behind (the ring wrapped past
 * it) gets a comment saying how many it skipped, then only the newest held
 * event of each (name, gw) and the events without one. */
uint64_t ow_web_hub_publish(ow_web_hub_t *h, const char *event, const char *data);
/* The main loop's clock: a keep-alive to every stream idle 15 s. */
void ow_web_hub_tick(ow_web_hub_t *h, int64_t now_us);
uint64_t ow_web_hub_last(ow_web_hub_t *h);

/* A stream that starts after event last_id (Last-Event-ID), or with the
 * next event published when from_last is 0. conn is what park and wake get;
 * token the session it was opened for (NULL: none, a test's). */
ow_web_stream_t *ow_web_hub_open(ow_web_hub_t *h, int from_last, uint64_t last_id,
                                 const char *token, void *conn);
/* How a stream learns that its session ended (logout, expiry, a deleted
 * user): asked at every keep-alive, 0 ends the stream. It must not take
 * the hub's lock (it runs under it). */
void ow_web_hub_set_alive(ow_web_hub_t *h, int (*alive)(void *ctx, const char *token), void *ctx);
/* Up to max bytes of the stream into buf: > 0 bytes, 0 nothing now (the
 * connection is parked: return 0 to the server), -1 the end (closing). */
ssize_t ow_web_hub_read(ow_web_stream_t *s, char *buf, size_t max);
void ow_web_hub_stream_free(ow_web_stream_t *s);

typedef struct {
    uint64_t published, streams, open, skipped, keepalives, ended; /* ended: session gone */
} ow_web_hub_stats_t;
ow_web_hub_stats_t ow_web_hub_stats(ow_web_hub_t *h);

/* GET /api/events: the hub as text/event-stream (routes.c). */
int ow_api_events(ow_web_req_t *rq, ow_web_resp_t *rs);

#endif
