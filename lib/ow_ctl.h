/* Client side of alarmd's control requests (the CLI, snmpd): send one
 * control message, wait for the reply and the messages that come with it. */
#ifndef OW_CTL_H
#define OW_CTL_H

#include <stddef.h>

#include "ow_proto.h"

/* Called for each [topic, body] that follows the reply (snapshot, list). */
typedef void (*ow_ctl_msg_fn)(void *ctx, const ow_msg_t *m);

/* 0 with *reply filled (reply->ok tells accepted or refused), or -1 when
 * no answer came within timeout_ms or it was malformed (err says which). */
int ow_ctl_call(const char *endpoint, const char *gw, const ow_control_t *req, int timeout_ms,
                ow_reply_t *reply, ow_ctl_msg_fn fn, void *ctx, char *err, size_t errlen);

/* A standing request socket for a daemon that must never wait on alarmd
 * (snmpd answers other managers meanwhile): send now, collect the answer
 * when the loop finds it ready. ZeroMQ keeps a request sent while alarmd is
 * down and delivers it when alarmd binds again, so a probe sent once finds
 * out when alarmd is back. */
typedef struct ow_ctl_async ow_ctl_async_t;

ow_ctl_async_t *ow_ctl_async_new(const char *endpoint, char *err, size_t errlen);
void ow_ctl_async_destroy(ow_ctl_async_t **c);
/* Queue one request; 0, or -1 (err) when it cannot be encoded or sent. */
int ow_ctl_async_send(ow_ctl_async_t *c, const char *gw, const ow_control_t *req, char *err,
                      size_t errlen);
/* 1 with *reply (and *epoch, the answering alarmd's epoch: a new one means
 * it restarted) and fn called for each message that came with it; 0 when
 * nothing is waiting; -1 for a malformed answer (dropped). Never waits. */
int ow_ctl_async_recv(ow_ctl_async_t *c, ow_reply_t *reply, uint64_t *epoch, ow_ctl_msg_fn fn,
                      void *ctx);
/* The link to alarmd as ZeroMQ last reported it: 1 connected, 0 the
 * connection closed (alarmd stopped or died), -1 nothing reported yet.
 * Never waits. */
int ow_ctl_async_link(ow_ctl_async_t *c);

#endif
