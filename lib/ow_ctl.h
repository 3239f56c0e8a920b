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

#endif
