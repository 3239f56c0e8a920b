/* Who is on the other end of a ZeroMQ link, and what they may do.
 * Every socket that takes commands or carries data authenticates its peers
 * with CURVE against an allow-list of public keys (docs/security.md); the
 * ZAP handler tells each accepted message its peer's identity and roles. */
#ifndef OW_AUTH_H
#define OW_AUTH_H

#include <stddef.h>

/* Roles a key can hold (a public key's "roles" metadata). Read is needed
 * to connect at all; the others are checked per control request. */
enum {
    OW_ROLE_READ = 1 << 0,      /* subscribe, replay, get, list, snapshot */
    OW_ROLE_OPERATE = 1 << 1,   /* ack, tag a capacity test */
    OW_ROLE_CONFIGURE = 1 << 2, /* thresholds, baselines */
    OW_ROLE_BREAKER = 1 << 3,   /* GX_R_AUX outputs (the battery breaker) */
};

#define OW_WHO_MAX 96

/* The authenticated sender of one request. who is what the audit trail
 * names: the key's name ("cli", "snmpd", "noc-ro"), with the person it acts
 * for when a front-end says so ("snmpd/nms"), or "plain:ADDRESS" when the
 * deployment chose unauthenticated links. */
typedef struct {
    char who[OW_WHO_MAX];
    unsigned roles;
} ow_peer_t;

#endif
