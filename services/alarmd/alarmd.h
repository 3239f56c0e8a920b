/* alarmd as a service: subscribes to every gateway's busd (catching up
 * through replay), runs the engine, publishes alarm events, flag words,
 * discharges, baselines and commands, answers control requests (thresholds,
 * acknowledge, baselines, snapshot) and keeps its state in a file so that a
 * restart neither re-raises nor loses anything. */
#ifndef OW_ALARMD_H
#define OW_ALARMD_H

#include <czmq.h>
#include <signal.h>
#include <stddef.h>

#include "ow_auth.h"

typedef struct ow_alarmd ow_alarmd_t;

/* Load the site and the state file, bind sockets. NULL with err. */
ow_alarmd_t *ow_alarmd_new(const char *site_path, char *err, size_t errlen);
/* Run until *stop; *reload (SIGHUP) re-reads the site file. */
int ow_alarmd_run(ow_alarmd_t *a, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);
void ow_alarmd_destroy(ow_alarmd_t **a);

/* Answer one control request body as the control socket does, without the
 * envelope: [reply body, topic, body, ...], after saving the state file if
 * the request changed a setting. For tests and the fuzzer (control_fuzz.c). */
zmsg_t *ow_alarmd_control(ow_alarmd_t *a, const void *body, size_t len, const ow_peer_t *peer);

/* Control requests (ROUTER at services.alarmd.control). A request is one
 * frame, an ow_msg control body (after an empty delimiter frame for REQ
 * clients); the answer is a reply body, followed for "snapshot", "list" and
 * "audit" by [topic, body] pairs of the messages that make up the answer.
 * The commands, their arguments and the role each needs are the table in
 * proto/ow_cmd.h (proto/README.md, "Commands"). */

#endif
