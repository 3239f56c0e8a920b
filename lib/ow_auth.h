/* Who is on the other end of a ZeroMQ link, and what they may do.
 * Every socket that takes commands or carries data authenticates its peers
 * with CURVE against an allow-list of public keys (docs/security.md); the
 * ZAP handler tells each accepted message its peer's identity and roles.
 *
 * The state is process-wide (a process has one identity, its own key): a
 * daemon calls ow_auth_init once before it makes sockets, then every socket
 * it binds goes through ow_auth_server and every one it connects through
 * ow_auth_client. A process that never calls ow_auth_init (the unit tests)
 * makes plain sockets. */
#ifndef OW_AUTH_H
#define OW_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "ow_config.h"

/* Roles a key can hold (a public key's "roles" metadata). Read is needed
 * to connect at all; the others are checked per control request. */
enum {
    OW_ROLE_READ = 1 << 0,      /* subscribe, replay, get, list, snapshot */
    OW_ROLE_OPERATE = 1 << 1,   /* ack, tag a capacity test */
    OW_ROLE_CONFIGURE = 1 << 2, /* thresholds, baselines */
    OW_ROLE_BREAKER = 1 << 3,   /* GX_R_AUX outputs (the battery breaker) */
    OW_ROLE_ALL = (1 << 4) - 1,
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

typedef struct {
    uint64_t accepted;       /* ZAP: a known key */
    uint64_t refused;        /* ZAP: a key not in the allow-list */
    uint64_t handshake_fail; /* no CURVE, a wrong server key, garbage */
} ow_auth_stats_t;

/* Become `self` (the key name: "alarmd", "busd", "cli"): load its secret
 * key, the allow-list and start the ZAP handler (CURVE), or log that links
 * are plain (cfg->curve == 0). The secret comes from, in order: the file
 * named by OHMWATCH_KEY, $CREDENTIALS_DIRECTORY/SELF.key_secret (systemd),
 * /run/secrets/SELF.key_secret (compose), KEYS_DIR/private/SELF.key_secret.
 * Server endpoints of the site are remembered so that a client knows whose
 * public key to expect. 0, or -1 with the reason in err. */
int ow_auth_init(const ow_site_t *site, const ow_security_cfg_t *cfg, const char *self, char *err,
                 size_t errlen);
/* The same, reading services.security from the site. */
int ow_auth_init_site(const ow_site_t *site, const char *self, char *err, size_t errlen);
void ow_auth_shutdown(void);
/* 1 when links are CURVE, 0 when plain or not initialised. */
int ow_auth_curve(void);
const ow_auth_stats_t *ow_auth_stats(void);

/* Before bind: make s (a zsock_t *) a CURVE server that admits the
 * allow-list. Before connect: make s a CURVE client of the server whose
 * endpoint this is (the site names its key). Both do nothing on plain
 * links. 0, or -1 with the reason in err (and logged). */
int ow_auth_server(void *s, const char *what, char *err, size_t errlen);
int ow_auth_client(void *s, const char *endpoint, char *err, size_t errlen);
/* ow_auth_client for a socket that lives long (a subscription, busd's
 * commands): a failed handshake, after which libzmq would never connect
 * again, is followed by a new connect from ow_auth_tick, which the owner's
 * loop calls; ow_auth_forget before the socket is destroyed. */
int ow_auth_client_keep(void *s, const char *endpoint, char *err, size_t errlen);
void ow_auth_tick(void);
void ow_auth_forget(void *s);
/* Like ow_auth_client, naming the server key ("alarmd", "busd"). */
int ow_auth_client_of(void *s, const char *server, char *err, size_t errlen);

/* The name alarmd's audit trail gives this process: the allow-list entry
 * (KEYS_DIR/NAME.key) holding its own public key, else the key it was
 * initialised as; "plain" on plain links. A record that says who made a
 * file (a backup) names the same identity as the records of its changes. */
void ow_auth_self_name(char *out, size_t n);

/* The peer of a received frame (a zframe_t *): the key name and roles the
 * ZAP handler attached, or "plain:ADDRESS" with every role on plain links,
 * or "local" with every role when not initialised. */
void ow_auth_peer(void *frame, ow_peer_t *p);

/* "read,operate" <-> bits. parse: 0, or -1 naming the unknown role. */
int ow_auth_roles_parse(const char *s, unsigned *roles, char *err, size_t errlen);
void ow_auth_roles_format(unsigned roles, char *buf, size_t n);

/* Write DIR/NAME.key (public, with its roles, 0644) and
 * DIR/private/NAME.key_secret (0640). Refuses to overwrite unless force. */
int ow_auth_keygen(const char *dir, const char *name, unsigned roles, int force, char *err,
                   size_t errlen);

#endif
