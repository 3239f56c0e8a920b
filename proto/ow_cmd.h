/* The command vocabulary of control messages (kind "control"): each
 * command's name, the service that takes it, the role its sender's key
 * needs (lib/ow_auth.h) and what its index, key and value mean. alarmd and
 * busd dispatch through these rows, the CLI and snmpd send their names, and
 * proto/README.md's Commands table is printed from them (ow_cmd_doc). */
#ifndef OW_CMD_H
#define OW_CMD_H

#include <stdio.h>

#include "ow_proto.h"

/* In the order alarmd lists them when it refuses an unknown command. */
typedef enum {
    OW_CMD_GET,
    OW_CMD_LIST,
    OW_CMD_SET,
    OW_CMD_ACK,
    OW_CMD_BASELINE,
    OW_CMD_CAPTEST,
    OW_CMD_OUTPUT,
    OW_CMD_AUDIT,
    OW_CMD_SNAPSHOT,
    OW_CMD_RELOAD,
    OW_CMD_UNSET,
    OW_CMD_COUNT
} ow_cmd_id_t;

/* Who takes a command (bits: alarmd forwards "output" to busd). */
enum {
    OW_CMD_ALARMD = 1 << 0, /* the control socket (services.alarmd.control) */
    OW_CMD_BUSD = 1 << 1,   /* busd's command subscription, from alarmd */
};

typedef struct {
    const char *name;  /* on the wire: the control message's cmd */
    unsigned services; /* OW_CMD_ALARMD | OW_CMD_BUSD */
    unsigned role;     /* the one OW_ROLE_* bit its sender's key needs */
    const char *index; /* what index means; NULL when unused */
    const char *key;   /* what key means; NULL when unused */
    const char *value; /* what value means; NULL when unused */
    const char *gw;    /* which gateways it is about (the topic's GW) */
    const char *doc;   /* what it does and what the reply carries */
} ow_cmd_t;

/* The row of a name, or NULL for a command nobody takes. */
const ow_cmd_t *ow_cmd_find(const char *name);
/* The row of an id (OW_CMD_GET..OW_CMD_COUNT-1), its position, its name. */
const ow_cmd_t *ow_cmd_get(ow_cmd_id_t id);
ow_cmd_id_t ow_cmd_id(const ow_cmd_t *c);
const char *ow_cmd_name(ow_cmd_id_t id);
/* The name of a single OW_ROLE_* bit ("read", "operate", "configure",
 * "breaker"), as ow_auth_roles_format spells it; "?" for anything else. */
const char *ow_cmd_role_name(unsigned role);

/* A request for command id: key, value (NAN none), index, req as given
 * (NULL for ""), no user. */
ow_control_t ow_cmd_control(ow_cmd_id_t id, const char *key, double value, int index,
                            const char *req);

/* "get, list, ..." of the commands a service takes (OW_CMD_ALARMD...),
 * in table order, into buf (cut short if it must). */
void ow_cmd_names(unsigned services, char *buf, size_t n);

/* proto/README.md's Commands table, Markdown. 0, or -1 on a write error. */
int ow_cmd_doc(FILE *out);
/* docs/security.md's table of roles: per OW_ROLE_* bit, the commands it
 * allows. 0, or -1 on a write error. */
int ow_cmd_roles_doc(FILE *out);

#endif
