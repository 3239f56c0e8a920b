/* The command table (ow_cmd.h): one row per command, read by the services
 * that take commands, by those that send them and by the doc printer. */
#include "ow_cmd.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "ow_auth.h"

#define ONE_GW "the gateway named, or the only one"
#define ALL_GW "the gateway named, or every gateway"

static const ow_cmd_t cmds[] = {
    [OW_CMD_GET] =
        {
            .name = "get",
            .services = OW_CMD_ALARMD,
            .role = OW_ROLE_READ,
            .key = "a threshold key (docs/config.md)",
            .gw = ONE_GW,
            .doc = "the threshold's value in force, in the reply's value",
        },
    [OW_CMD_LIST] =
        {
            .name = "list",
            .services = OW_CMD_ALARMD,
            .role = OW_ROLE_READ,
            .gw = ONE_GW,
            .doc = "every threshold of the gateway, one `config` message each after the reply",
        },
    [OW_CMD_SET] =
        {
            .name = "set",
            .services = OW_CMD_ALARMD,
            .role = OW_ROLE_CONFIGURE,
            .key = "a threshold key (docs/config.md)",
            .value = "the new value (needed)",
            .gw = ONE_GW,
            .doc = "changes a threshold at runtime; saved and audited before the yes; the "
                   "reply's value is the one in force",
        },
    [OW_CMD_ACK] =
        {
            .name = "ack",
            .services = OW_CMD_ALARMD,
            .role = OW_ROLE_OPERATE,
            .index = "an alarm id; 0 every active alarm",
            .gw = ALL_GW,
            .doc = "acknowledges (mutes) active alarms, audited per gateway; the reply's value "
                   "is how many; an id that is not active is refused",
        },
    [OW_CMD_BASELINE] =
        {
            .name = "baseline",
            .services = OW_CMD_ALARMD,
            .role = OW_ROLE_CONFIGURE,
            .index = "a module address",
            .value = "the impedance baseline in mOhm (> 0); null resets it",
            .gw = ONE_GW,
            .doc = "sets a module's impedance baseline (a replaced block restarts its trend); "
                   "audited",
        },
    [OW_CMD_CAPTEST] =
        {
            .name = "captest",
            .services = OW_CMD_ALARMD,
            .role = OW_ROLE_OPERATE,
            .index = "a string of the gateway",
            .key = "`end_v_per_cell=V` (0-5); empty for 1.75 V/cell",
            .value = "the rated time in h (0-1000); null for 10",
            .gw = ONE_GW,
            .doc = "takes the string's next discharge as a capacity test (docs/battery.md); "
                   "audited",
        },
    [OW_CMD_OUTPUT] =
        {
            .name = "output",
            .services = OW_CMD_ALARMD | OW_CMD_BUSD,
            .role = OW_ROLE_BREAKER,
            .index = "a GX_R_AUX output, 1-16",
            .value = "0 off, 1 on",
            .gw = ONE_GW,
            .doc = "switches an output (the battery breaker): alarmd audits it and sends it on "
                   "to the gateway's busd (`ctl/GW`), which switches a simulated gateway's "
                   "output and counts it as bad from a field driver (read-only maps)",
        },
    [OW_CMD_AUDIT] =
        {
            .name = "audit",
            .services = OW_CMD_ALARMD,
            .role = OW_ROLE_READ,
            .index = "at most that many records; 0 all",
            .gw = ALL_GW,
            .doc = "the last audit records (docs/audit.md), oldest first, as `config` messages "
                   "after the reply; the reply's value is how many",
        },
    [OW_CMD_SNAPSHOT] =
        {
            .name = "snapshot",
            .services = OW_CMD_ALARMD,
            .role = OW_ROLE_READ,
            .gw = ALL_GW,
            .doc = "each gateway's state, active alarms and latest readings, as messages "
                   "after the reply",
        },
    [OW_CMD_RELOAD] =
        {
            .name = "reload",
            .services = OW_CMD_ALARMD,
            .role = OW_ROLE_CONFIGURE,
            .index = "0 reload; 1 only check that the file is the one named and loads",
            .key = "the first 16-63 hex digits of the SHA-256 of the file the sender means "
                   "(refused if alarmd runs from another); empty for any",
            .gw = "the whole site file, whatever is named",
            .doc = "re-reads the site file as SIGHUP does, and answers whether it loaded (a "
                   "file that does not is refused, the running configuration kept); each "
                   "changed setting audited under the sender; the reply's value is how many "
                   "(`ohmwatch restore`)",
        },
    [OW_CMD_UNSET] =
        {
            .name = "unset",
            .services = OW_CMD_ALARMD,
            .role = OW_ROLE_CONFIGURE,
            .key = "a threshold key (docs/config.md)",
            .gw = ONE_GW,
            .doc = "drops a runtime setting: the site file's value is in force again (and "
                   "follows the file's later edits); refused if that breaks a rule across keys "
                   "with the other settings in force; audited; the reply's value is the one in "
                   "force",
        },
};

static_assert(sizeof cmds / sizeof cmds[0] == OW_CMD_COUNT, "one row per OW_CMD_*");

const ow_cmd_t *ow_cmd_find(const char *name)
{
    for (size_t i = 0; i < OW_CMD_COUNT; i++)
        if (strcmp(cmds[i].name, name) == 0) return &cmds[i];
    return NULL;
}

const ow_cmd_t *ow_cmd_get(ow_cmd_id_t id)
{
    return (unsigned)id < OW_CMD_COUNT ? &cmds[id] : NULL;
}

ow_cmd_id_t ow_cmd_id(const ow_cmd_t *c)
{
    return (ow_cmd_id_t)(c - cmds);
}

const char *ow_cmd_name(ow_cmd_id_t id)
{
    return (unsigned)id < OW_CMD_COUNT ? cmds[id].name : "";
}

/* The keys' own spelling is ow_auth.c's (ow_auth_roles_format); cmd_test
 * holds the two to each other, since owproto does not link lib/. */
const char *ow_cmd_role_name(unsigned role)
{
    switch (role) {
    case OW_ROLE_READ:
        return "read";
    case OW_ROLE_OPERATE:
        return "operate";
    case OW_ROLE_CONFIGURE:
        return "configure";
    case OW_ROLE_BREAKER:
        return "breaker";
    default:
        return "?";
    }
}

ow_control_t ow_cmd_control(ow_cmd_id_t id, const char *key, double value, int index,
                            const char *req)
{
    ow_control_t c;
    memset(&c, 0, sizeof c);
    snprintf(c.cmd, sizeof c.cmd, "%s", ow_cmd_name(id));
    snprintf(c.key, sizeof c.key, "%s", key ? key : "");
    c.value = value;
    c.index = index;
    snprintf(c.req, sizeof c.req, "%s", req ? req : "");
    return c;
}

void ow_cmd_names(unsigned services, char *buf, size_t n)
{
    size_t len = 0;
    if (n) buf[0] = '\0';
    for (size_t i = 0; i < OW_CMD_COUNT && len < n; i++)
        if (cmds[i].services & services)
            len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", cmds[i].name);
}

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

int ow_cmd_doc(FILE *out)
{
    fprintf(out, "| command | taken by | role | gateway | index | key | value | what it does |\n"
                 "|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < OW_CMD_COUNT; i++) {
        const ow_cmd_t *c = &cmds[i];
        fprintf(out, "| `%s` | %s%s%s | %s | %s | %s | %s | %s | %s |\n", c->name,
                c->services & OW_CMD_ALARMD ? "alarmd" : "",
                (c->services & OW_CMD_ALARMD) && (c->services & OW_CMD_BUSD) ? ", " : "",
                c->services & OW_CMD_BUSD ? "busd" : "", ow_cmd_role_name(c->role), c->gw,
                or_dash(c->index), or_dash(c->key), or_dash(c->value), c->doc);
    }
    return ferror(out) ? -1 : 0;
}

/* What a role allows besides its commands, for docs/security.md. */
static const struct {
    unsigned role;
    const char *also; /* before the commands; NULL for none */
} role_rows[] = {
    {.role = OW_ROLE_READ, .also = "connect at all; subscribe, replay"},
    {.role = OW_ROLE_OPERATE, .also = NULL},
    {.role = OW_ROLE_CONFIGURE, .also = NULL},
    {.role = OW_ROLE_BREAKER, .also = NULL},
};

int ow_cmd_roles_doc(FILE *out)
{
    fprintf(out, "| Role | Allows (alarmd's control socket) |\n|------|------|\n");
    for (size_t r = 0; r < sizeof role_rows / sizeof role_rows[0]; r++) {
        int n = 0;
        fprintf(out, "| `%s` | ", ow_cmd_role_name(role_rows[r].role));
        if (role_rows[r].also) n = fprintf(out, "%s", role_rows[r].also) > 0;
        for (size_t i = 0; i < OW_CMD_COUNT; i++)
            if (cmds[i].role == role_rows[r].role) {
                fprintf(out, "%s`%s`", n ? ", " : "", cmds[i].name);
                n = 1;
            }
        fprintf(out, " |\n");
    }
    return ferror(out) ? -1 : 0;
}
