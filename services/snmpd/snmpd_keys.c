/* The "services.snmpd" section of the site file: its key table. The schema
 * engine (lib/ow_schema.h) reads, checks and documents every key from these
 * rows (docs/config.md); a new key is one row here and a field in
 * ow_snmpd_cfg_t. A v3 user and a notification target are objects read by
 * their own tables; the rules plain types cannot say (a community's
 * characters, a pass phrase's length, a gateway or user looked up) are
 * hooks. snmpcfg.c turns the result into net-snmp's lines. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ow_schema.h"
#include "snmpcfg.h"

/* ---- a v3 user ---- */

/* The name goes into createUser and group lines unquoted. */
static int name_check(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base)
{
    for (const char *s = (const char *)base + k->off; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return ow_schema_fail(c, path, "letters, digits, '_', '-', '.' only");
    return 0;
}

/* net-snmp wants >= 8 characters, and the phrase goes between quotes on
 * one line. */
static int pass_check(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base)
{
    const char *s = (const char *)base + k->off;
    if (strlen(s) < 8) return ow_schema_fail(c, path, "a pass phrase needs at least 8 characters");
    if (strpbrk(s, "\"\n")) return ow_schema_fail(c, path, "unusable pass phrase");
    return 0;
}

static const char *const auths[] = {"SHA", "SHA-256", "SHA-512", "MD5", NULL};
static const char *const privs[] = {"AES", "DES", NULL};

#define UK(m)      OW_AT(ow_snmp_user_t, m)
#define PASS_RANGE "8..127 bytes; `file:PATH`, `env:NAME`"

/* clang-format off */
const ow_key_t ow_snmpd_user_keys[] = {
    {.key = "name", .type = OW_KEY_STRING, UK(name), .check = name_check,
     .range_doc = "1..32 of `A-Za-z0-9_.-`", .ddoc = "**required**",
     .doc = "The USM user name."},
    {.key = "auth", .type = OW_KEY_ENUM, UK(auth), .sdef = "SHA", .choices = auths,
     .doc = "Authentication protocol."},
    {.key = "auth_pass", .type = OW_KEY_STRING, UK(auth_pass), .flags = OW_KEY_SECRET,
     .check = pass_check, .range_doc = PASS_RANGE, .ddoc = "**required**",
     .doc = "Authentication pass phrase."},
    {.key = "priv", .type = OW_KEY_ENUM, UK(priv), .sdef = "AES", .choices = privs,
     .doc = "Privacy (encryption) protocol."},
    {.key = "priv_pass", .type = OW_KEY_STRING, UK(priv_pass), .flags = OW_KEY_SECRET,
     .check = pass_check, .range_doc = PASS_RANGE, .ddoc = "**required**",
     .doc = "Privacy pass phrase (authPriv only: there is no user without one)."},
    {.key = "write", .type = OW_KEY_BOOL, UK(write), .def = 0,
     .doc = "May SET (thresholds, through alarmd); otherwise read-only."},
};
/* clang-format on */
const size_t ow_snmpd_user_nkeys = sizeof ow_snmpd_user_keys / sizeof ow_snmpd_user_keys[0];

#define SK(m) OW_AT(ow_snmp_sink_t, m)

/* clang-format off */
const ow_key_t ow_snmpd_sink_keys[] = {
    {.key = "host", .type = OW_KEY_STRING, SK(host), .range_doc = "`HOST[:PORT]`",
     .ddoc = "**required**", .doc = "Where notifications go (port 162 unless given)."},
    {.key = "community", .type = OW_KEY_STRING, SK(community), .ddoc = "empty",
     .doc = "Send v2c traps with this community; give this or `user`."},
    {.key = "user", .type = OW_KEY_STRING, SK(user), .range_doc = "a `name` of `users`",
     .ddoc = "empty", .doc = "Send v3 informs with this user's keys; give this or `community`."},
};
/* clang-format on */
const size_t ow_snmpd_sink_nkeys = sizeof ow_snmpd_sink_keys / sizeof ow_snmpd_sink_keys[0];

/* ---- the section's odd keys ---- */

/* The community is a word of com2sec lines, and "@" separates a gateway. */
static int community_check(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base)
{
    if (strpbrk((const char *)base + k->off, " \t\"@"))
        return ow_schema_fail(c, path, "no spaces, quotes or '@' in a community");
    return 0;
}

/* A dotted OID, "1.3.6..." or ".1.3.6...", that net-snmp's sysobjectid parses. */
static int oid_check(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base)
{
    const char *s = (const char *)base + k->off;
    int arcs = 0;
    if (*s == '.') s++;
    for (;;) {
        if (!isdigit((unsigned char)*s)) {
            arcs = 0; /* empty, an empty arc or a trailing dot */
            break;
        }
        while (isdigit((unsigned char)*s))
            s++;
        arcs++;
        if (*s != '.') break;
        s++;
    }
    if (*s || arcs < 2)
        return ow_schema_fail(c, path, "a dotted OID is expected, as 1.3.6.1.4.1.N");
    return 0;
}

/* One line of printable text (a config line to net-snmp). */
static int line_check(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base)
{
    for (const unsigned char *p = (const unsigned char *)base + k->off; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return ow_schema_fail(c, path, "one line of printable text");
    return 0;
}

static int gateway_check(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base)
{
    ow_snmpd_cfg_t *s = base;
    const ow_site_t *site = c->user;
    const char *id = (const char *)base + k->off;
    for (int g = 0; site && g < site->ngateways; g++)
        if (strcmp(site->gateways[g].id, id) == 0) {
            s->default_gw = g;
            return 0;
        }
    return ow_schema_fail(c, path, "no gateway '%s'", id);
}

/* An array of at most max objects, each read by its own rows into
 * items[i] (itemsize apart) and then judged by whole (0 or -1). */
static int read_array(ow_schema_ctx_t *c, json_t *v, const char *path, const char *what, int max,
                      const ow_key_t *keys, size_t nkeys, void *items, size_t itemsize, int *count,
                      int (*whole)(ow_schema_ctx_t *c, const char *path, const void *item))
{
    char ip[160];
    size_t i;
    json_t *e;
    if (!json_is_array(v) || json_array_size(v) > (size_t)max)
        return ow_schema_fail(c, path, "expected an array of at most %d %s", max, what);
    json_array_foreach(v, i, e)
    {
        void *item = (char *)items + i * itemsize;
        snprintf(ip, sizeof ip, "%s[%zu]", path, i);
        if (ow_schema_load(c, keys, nkeys, e, ip, item) < 0 || whole(c, ip, item) < 0) return -1;
        *count = (int)i + 1;
    }
    return 0;
}

static int user_whole(ow_schema_ctx_t *c, const char *path, const void *item)
{
    const ow_snmp_user_t *u = item;
    if (!u->name[0]) return ow_schema_fail(c, path, "a user needs a name");
    if (!u->auth_pass[0] || !u->priv_pass[0])
        return ow_schema_fail(c, path, "a user needs auth_pass and priv_pass (authPriv only)");
    return 0;
}

static int sink_whole(ow_schema_ctx_t *c, const char *path, const void *item)
{
    const ow_snmp_sink_t *s = item;
    if (!s->host[0]) return ow_schema_fail(c, path, "a notification target needs a host");
    if (!s->community[0] == !s->user[0])
        return ow_schema_fail(c, path, "give a community (v2c trap) or a user (v3 inform)");
    return 0;
}

static int users_parse(ow_schema_ctx_t *c, const ow_key_t *k, json_t *v, const char *path,
                       void *base)
{
    ow_snmpd_cfg_t *s = base;
    (void)k;
    return read_array(c, v, path, "users", OW_SNMP_MAX_USERS, ow_snmpd_user_keys,
                      ow_snmpd_user_nkeys, s->users, sizeof s->users[0], &s->nusers, user_whole);
}

static int notify_parse(ow_schema_ctx_t *c, const ow_key_t *k, json_t *v, const char *path,
                        void *base)
{
    ow_snmpd_cfg_t *s = base;
    (void)k;
    return read_array(c, v, path, "targets", OW_SNMP_MAX_SINKS, ow_snmpd_sink_keys,
                      ow_snmpd_sink_nkeys, s->sinks, sizeof s->sinks[0], &s->nsinks, sink_whole);
}

#define MK(m) OW_AT(ow_snmpd_cfg_t, m)

/* clang-format off */
const ow_key_t ow_snmpd_keys[] = {
    {.key = "listen", .type = OW_KEY_STRING, MK(listen), .sdef = "udp:161",
     .doc = "net-snmp transport list the standalone agent listens on."},
    {.key = "agentx", .type = OW_KEY_STRING, MK(agentx), .ddoc = "empty (standalone)",
     .doc = "The master's AgentX socket (`tcp:HOST:705`, `/var/agentx/master`): run as a "
            "subagent instead; the master does access control and sends the notifications."},
    {.key = "community", .type = OW_KEY_STRING, MK(community), .flags = OW_KEY_SECRET,
     .check = community_check, .ddoc = "empty (v2c off)",
     .doc = "v2c read-only community, no spaces, quotes or `@`; `COMMUNITY@GW` reads "
            "gateway GW."},
    {.key = "source", .type = OW_KEY_STRING, MK(source), .sdef = "127.0.0.1",
     .doc = "Where v2c requests may come from (address, `NET/BITS`, `default`)."},
    {.key = "users", .type = OW_KEY_CUSTOM, MK(users), .type_doc = "array",
     .range_doc = "0..16 objects (below)", .ddoc = "none", .parse = users_parse,
     .doc = "SNMPv3 users (authPriv only); they read, and SET only with `write`."},
    {.key = "notify", .type = OW_KEY_CUSTOM, MK(sinks), .type_doc = "array",
     .range_doc = "0..16 objects (below)", .ddoc = "none", .parse = notify_parse,
     .doc = "Notification targets: v2c traps or v3 informs."},
    {.key = "default_gateway", .type = OW_KEY_STRING, MK(default_gateway),
     .check = gateway_check, .range_doc = "a gateway `id`", .ddoc = "the first gateway",
     .doc = "The gateway of the default context `\"\"`; every gateway is also the context "
            "named by its id."},
    {.key = "sys_object_id", .type = OW_KEY_STRING, MK(sys_object_id), .sdef = "1.3.6.1.2.1.33.5",
     .check = oid_check, .range_doc = "a dotted OID",
     .doc = "sysObjectID.0. The default, the BACS MIB's root (under the UPS-MIB, 1.3.6.1.2.1.33), "
            "is what NMS checks written for BACS webmanagers detect (docs/snmp.md). Standalone only: "
            "as an AgentX subagent the master answers the system group."},
    {.key = "sys_descr", .type = OW_KEY_STRING, MK(sys_descr),
     .sdef = "ohmwatch-snmpd: G.BMS/BACS battery monitoring objects", .check = line_check,
     .doc = "sysDescr.0 (standalone only, as `sys_object_id`)."},
    {.key = "state_dir", .type = OW_KEY_STRING, MK(state_dir), .sdef = "snmpd-state",
     .flags = OW_KEY_PATH | OW_KEY_NONEMPTY,
     .doc = "net-snmp's persistent state (engine ID, engineBoots), written at every start and "
            "at a clean stop, so a crash keeps the engine ID and boots count on; relative to the "
            "site file's directory unless absolute."},
};
/* clang-format on */
const size_t ow_snmpd_nkeys = sizeof ow_snmpd_keys / sizeof ow_snmpd_keys[0];

/* A v3 target's user is one of users. (bacsTemperatureUnit is the
 * gateway's temperature_unit, a runtime setting alarmd holds.) */
int ow_snmpd_finish(ow_schema_ctx_t *c, const json_t *obj, void *base)
{
    ow_snmpd_cfg_t *s = base;
    char path[64];
    (void)obj;
    for (int i = 0; i < s->nsinks; i++) {
        int found = !s->sinks[i].user[0];
        for (int u = 0; u < s->nusers && !found; u++)
            found = strcmp(s->users[u].name, s->sinks[i].user) == 0;
        snprintf(path, sizeof path, "services.snmpd.notify[%d].user", i);
        if (!found)
            return ow_schema_fail(c, path, "no user '%s' in services.snmpd.users",
                                  s->sinks[i].user);
    }
    return 0;
}

static void subdoc(FILE *out)
{
    fprintf(out, "### services.snmpd.users[]\n\n");
    ow_schema_doc_table(out, ow_snmpd_user_keys, ow_snmpd_user_nkeys, "");
    fprintf(out, "\n### services.snmpd.notify[]\n\n");
    ow_schema_doc_table(out, ow_snmpd_sink_keys, ow_snmpd_sink_nkeys, "");
    fprintf(out, "\n");
}

const ow_schema_section_t ow_snmpd_section = {
    .path = "services.snmpd",
    .keys = ow_snmpd_keys,
    .nkeys = sizeof ow_snmpd_keys / sizeof ow_snmpd_keys[0],
    .size = sizeof(ow_snmpd_cfg_t),
    .finish = ow_snmpd_finish,
    .subdoc = subdoc,
    .doc = "snmpd (services/snmpd): the G.BMS BACS MIB of every gateway over SNMP (docs/snmp.md).\n"
           "All keys are optional; with none, v2c is off and no v3 user exists, so nobody can\n"
           "read it. v2c, when a community is given, is read-only and from `source` only.\n"
           "Each gateway is an SNMP context named by its id. snmpd reads the section at start\n"
           "only (SIGHUP is logged and ignored).",
    .more = "Pass phrases and the community may be `env:NAME` or `file:PATH` (its first line;\n"
            "relative to the site file), so that compose secrets and systemd credentials never\n"
            "sit in the site file.",
};

int ow_site_snmpd(const ow_site_t *site, ow_snmpd_cfg_t *out, char *err, size_t errlen)
{
    return ow_site_section(site, &ow_snmpd_section, out, err, errlen);
}
