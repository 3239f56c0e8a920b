/* services.snmpd from its key table (snmpd_keys.c): the section read from
 * site texts (every default, every key of the section, of a v3 user and of
 * a notification target; secrets from env: and file:), the refusals with
 * their exact key path and position, the net-snmp lines snmpcfg.c makes of
 * the result, the generated docs/config.md tables, then one new integer row
 * parsed, range-checked, documented and settable with no other code
 * (ow_test_schema.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ow_test.h"
#include "ow_test_schema.h"
#include "snmpcfg.h"

#define GW(id, port, n)                                                                            \
    "{\"id\": \"" id "\", \"publish\": \"tcp://127.0.0.1:" port "1\", \"replay\": "                \
    "\"tcp://127.0.0.1:" port                                                                      \
    "2\", \"module_type\": \"C20\", \"battery\": {\"capacity_ah\": 100}, "                         \
    "\"strings\": [{\"modules\": " n "}]}"
#define SITE_HEAD                                                                                  \
    "{\"site\": {\"name\": \"t\"}, \"gateways\": [" GW("wm1", "791", "4") ", " GW(                 \
        "wm2", "792", "2") "], \"services\": {\"alarmd\": {\"state_file\": \"/tmp/a.json\"}, "     \
                           "\"security\": {\"keys_dir\": \"/tmp/keys\"}, \"snmpd\": "

static char text[16384];

/* The site text with section as services.snmpd, read by sec (NULL:
 * ow_site_snmpd into an ow_snmpd_cfg_t); section NULL: no snmpd key. */
static int parse_with(const ow_schema_section_t *sec, const char *file, const char *section,
                      void *out, char *err, size_t errlen)
{
    if (section)
        snprintf(text, sizeof text, "%s%s}}", SITE_HEAD, section);
    else
        snprintf(text, sizeof text, "%s{}}}", SITE_HEAD);
    if (!section) memcpy(strstr(text, "\"snmpd\": "), "\"other\": ", 9);
    ow_site_t *site = ow_site_parse(text, strlen(text), file, err, errlen);
    CHECK_MSG(site != NULL, "%s", err);
    if (!site) return -2;
    int rc =
        sec ? ow_site_section(site, sec, out, err, errlen) : ow_site_snmpd(site, out, err, errlen);
    ow_site_destroy(&site);
    return rc;
}

static int parse(const char *file, const char *section, ow_snmpd_cfg_t *out, char *err,
                 size_t errlen)
{
    return parse_with(NULL, file, section, out, err, errlen);
}

/* err without its "FILE:LINE:COL: " (checked to be there). */
static const char *reason(const char *err, const char *file)
{
    size_t n = strlen(file);
    CHECK_MSG(strncmp(err, file, n) == 0 && err[n] == ':', "%s", err);
    const char *p = strchr(err + n + 1, ':');
    p = p ? strchr(p + 1, ':') : NULL;
    return p && p[1] == ' ' ? p + 2 : err;
}

static void defaults(void)
{
    static ow_snmpd_cfg_t c;
    char err[1024];
    /* No services.snmpd at all, and an empty one: the same defaults. */
    for (int i = 0; i < 2; i++) {
        memset(&c, 0x5a, sizeof c);
        CHECK_MSG(parse("/etc/ohmwatch/site.json", i ? "{}" : NULL, &c, err, sizeof err) == 0, "%s",
                  err);
        CHECK_STR(c.listen, "udp:161");
        CHECK_STR(c.agentx, "");
        CHECK_STR(c.community, "");
        CHECK_STR(c.source, "127.0.0.1");
        CHECK_STR(c.state_dir, "/etc/ohmwatch/snmpd-state");
        CHECK_STR(c.sys_object_id, "1.3.6.1.2.1.33.5");
        CHECK(strstr(c.sys_descr, "BACS") != NULL);
        CHECK_STR(c.default_gateway, "");
        CHECK(c.default_gw == 0 && c.nusers == 0 && c.nsinks == 0);
    }
}

/* Every key of the section, of a user and of a target, read. */
static void every_key(void)
{
    static ow_snmpd_cfg_t c;
    char err[1024];
    setenv("OW_SNMPD_KEYS_TEST_COMM", "fromenv", 1);
    setenv("OW_SNMPD_KEYS_TEST_PRIV", "privfromenv", 1);
    CHECK_MSG(parse("/srv/site.json",
                    "{\"listen\": \"udp:1161,tcp:1161\", \"agentx\": \"tcp:master:705\", "
                    "\"community\": \"env:OW_SNMPD_KEYS_TEST_COMM\", \"source\": \"10.0.0.0/8\", "
                    "\"default_gateway\": \"wm2\", \"state_dir\": "
                    "\"var/snmp\", \"users\": [{\"name\": \"ops.1-a_b\", \"auth\": \"SHA-512\", "
                    "\"auth_pass\": \"opsauth12\", \"priv\": \"DES\", \"priv_pass\": "
                    "\"env:OW_SNMPD_KEYS_TEST_PRIV\", \"write\": true}, {\"name\": \"ro\", "
                    "\"auth_pass\": \"roauth123\", \"priv_pass\": \"ropriv123\", \"write\": "
                    "false}], \"notify\": [{\"host\": \"10.0.0.9\", \"user\": \"ops.1-a_b\"}, "
                    "{\"host\": \"nms:1162\", \"community\": \"traps\"}]}",
                    &c, err, sizeof err) == 0,
              "%s", err);
    CHECK_STR(c.listen, "udp:1161,tcp:1161");
    CHECK_STR(c.agentx, "tcp:master:705");
    CHECK_STR(c.community, "fromenv");
    CHECK_STR(c.source, "10.0.0.0/8");
    CHECK_STR(c.default_gateway, "wm2");
    CHECK(c.default_gw == 1);
    CHECK_STR(c.state_dir, "/srv/var/snmp");
    CHECK(c.nusers == 2 && c.nsinks == 2);
    CHECK_STR(c.users[0].name, "ops.1-a_b");
    CHECK_STR(c.users[0].auth, "SHA-512");
    CHECK_STR(c.users[0].auth_pass, "opsauth12");
    CHECK_STR(c.users[0].priv, "DES");
    CHECK_STR(c.users[0].priv_pass, "privfromenv");
    CHECK(c.users[0].write == 1);
    /* a user's defaults */
    CHECK_STR(c.users[1].auth, "SHA");
    CHECK_STR(c.users[1].priv, "AES");
    CHECK(c.users[1].write == 0);
    CHECK_STR(c.sinks[0].host, "10.0.0.9");
    CHECK_STR(c.sinks[0].user, "ops.1-a_b");
    CHECK_STR(c.sinks[0].community, "");
    CHECK_STR(c.sinks[1].host, "nms:1162");
    CHECK_STR(c.sinks[1].community, "traps");
    CHECK_STR(c.sinks[1].user, "");
    CHECK(parse("site.json", "{\"state_dir\": \"/var/lib/snmpd\"}", &c, err, sizeof err) == 0);
    CHECK_STR(c.state_dir, "/var/lib/snmpd");
    CHECK(parse("site.json", "{\"users\": [], \"notify\": []}", &c, err, sizeof err) == 0);
    CHECK(c.nusers == 0 && c.nsinks == 0);

    /* 16 users fit. */
    static char sec[8192];
    size_t n = (size_t)snprintf(sec, sizeof sec, "{\"users\": [");
    for (int i = 0; i < OW_SNMP_MAX_USERS; i++)
        n += (size_t)snprintf(sec + n, sizeof sec - n,
                              "%s{\"name\": \"u%d\", \"auth_pass\": \"12345678\", \"priv_pass\": "
                              "\"abcdefgh\"}",
                              i ? ", " : "", i);
    snprintf(sec + n, sizeof sec - n, "]}");
    CHECK_MSG(parse("site.json", sec, &c, err, sizeof err) == 0, "%s", err);
    CHECK(c.nusers == 16);
    CHECK_STR(c.users[15].name, "u15");
}

/* Secrets from files beside the site file: the first line only. */
static void secrets_from_files(void)
{
    static ow_snmpd_cfg_t c;
    char err[1024], dir[] = "/tmp/snmpd_keys_test.XXXXXX", fp[600], cp[600], site_path[600];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(fp, sizeof fp, "%s/auth", dir);
    snprintf(cp, sizeof cp, "%s/comm", dir);
    FILE *f = fopen(fp, "w");
    CHECK(f && fputs("fromfile123\nsecond line\n", f) >= 0 && fclose(f) == 0);
    f = fopen(cp, "w");
    CHECK(f && fputs("filecomm\r\n", f) >= 0 && fclose(f) == 0);
    snprintf(site_path, sizeof site_path, "%s/site.json", dir);
    CHECK_MSG(parse(site_path,
                    "{\"community\": \"file:comm\", \"users\": [{\"name\": \"ops\", \"auth\": "
                    "\"SHA-256\", \"auth_pass\": \"file:auth\", \"priv_pass\": \"opspriv123\"}]}",
                    &c, err, sizeof err) == 0,
              "%s", err);
    CHECK_STR(c.users[0].auth_pass, "fromfile123");
    CHECK_STR(c.users[0].priv_pass, "opspriv123");
    CHECK_STR(c.community, "filecomm");
    /* absolute, too */
    static char sec[2048];
    snprintf(sec, sizeof sec,
             "{\"users\": [{\"name\": \"ops\", \"auth_pass\": \"file:%s\", \"priv_pass\": "
             "\"file:%s\"}]}",
             fp, fp);
    CHECK_MSG(parse("elsewhere/site.json", sec, &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.users[0].priv_pass, "fromfile123");
    /* A missing file is named, its would-be contents never are. */
    CHECK(parse(site_path,
                "{\"users\": [{\"name\": \"ops\", \"auth_pass\": \"file:nofile\", \"priv_pass\": "
                "\"opspriv123\"}]}",
                &c, err, sizeof err) == -1);
    CHECK_STR(reason(err, site_path), "services.snmpd.users[0].auth_pass: cannot read nofile");
    /* A file whose first line is too short is refused like a short value. */
    f = fopen(fp, "w");
    CHECK(f && fputs("short\n", f) >= 0 && fclose(f) == 0);
    CHECK(parse(site_path,
                "{\"users\": [{\"name\": \"ops\", \"auth_pass\": \"opsauth123\", \"priv_pass\": "
                "\"file:auth\"}]}",
                &c, err, sizeof err) == -1);
    CHECK_STR(reason(err, site_path),
              "services.snmpd.users[0].priv_pass: a pass phrase needs at least 8 characters");
    unlink(fp);
    unlink(cp);
    rmdir(dir);
}

/* Refusals: the whole message after FILE:LINE:COL, key path included. */
static void refusals(void)
{
    static ow_snmpd_cfg_t c;
    static char err[2048], s_long[1024], s_17[8192], s_longref[1024];
    char longcomm[80];
    memset(longcomm, 'c', 64);
    longcomm[64] = '\0';
    snprintf(s_long, sizeof s_long, "{\"community\": \"%s\"}", longcomm);
    char longname[600];
    memset(longname, 'a', 520);
    longname[520] = '\0';
    snprintf(s_longref, sizeof s_longref, "{\"community\": \"file:%s\"}", longname);
    size_t n = (size_t)snprintf(s_17, sizeof s_17, "{\"users\": [");
    for (int i = 0; i <= OW_SNMP_MAX_USERS; i++)
        n += (size_t)snprintf(s_17 + n, sizeof s_17 - n,
                              "%s{\"name\": \"u%d\", \"auth_pass\": \"12345678\", \"priv_pass\": "
                              "\"abcdefgh\"}",
                              i ? ", " : "", i);
    snprintf(s_17 + n, sizeof s_17 - n, "]}");
    unsetenv("OW_SNMPD_KEYS_TEST_UNSET");
#define U(rest) "{\"users\": [{\"name\": \"x\", \"auth_pass\": \"longenough\"" rest "}]}"
    static const struct {
        const char *section, *want;
    } bad[] = {
        /* wrong types */
        {"[]", "services.snmpd: expected an object"},
        {"{\"listen\": 161}", "services.snmpd.listen: expected a string"},
        {"{\"agentx\": true}", "services.snmpd.agentx: expected a string"},
        {"{\"source\": [\"a\"]}", "services.snmpd.source: expected a string"},
        {"{\"users\": {}}", "services.snmpd.users: expected an array of at most 16 users"},
        {"{\"users\": [5]}", "services.snmpd.users[0]: expected an object"},
        {U(", \"priv_pass\": \"longenough\", \"write\": \"yes\""),
         "services.snmpd.users[0].write: expected true or false"},
        {U(", \"priv_pass\": 12345678"), "services.snmpd.users[0].priv_pass: expected a string"},
        {"{\"notify\": \"h\"}", "services.snmpd.notify: expected an array of at most 16 targets"},
        {"{\"notify\": [{\"host\": 162}]}", "services.snmpd.notify[0].host: expected a string"},
        /* out of range */
        /* the unit is the gateway's runtime setting now, no snmpd key */
        {"{\"temperature_unit\": \"F\"}", "services.snmpd.temperature_unit: unknown key"},
        {"{\"sys_object_id\": \"1.3.x\"}",
         "services.snmpd.sys_object_id: a dotted OID is expected, as 1.3.6.1.4.1.N"},
        {"{\"sys_object_id\": \"1.3.\"}",
         "services.snmpd.sys_object_id: a dotted OID is expected, as 1.3.6.1.4.1.N"},
        {"{\"sys_object_id\": \"1\"}",
         "services.snmpd.sys_object_id: a dotted OID is expected, as 1.3.6.1.4.1.N"},
        {"{\"sys_descr\": \"two\\nlines\"}",
         "services.snmpd.sys_descr: one line of printable text"},
        {U(", \"priv_pass\": \"longenough\", \"auth\": \"SHA-1\""),
         "services.snmpd.users[0].auth: must be one of: SHA, SHA-256, SHA-512, MD5"},
        {U(", \"priv_pass\": \"longenough\", \"priv\": \"3DES\""),
         "services.snmpd.users[0].priv: must be one of: AES, DES"},
        {s_17, "services.snmpd.users: expected an array of at most 16 users"},
        {s_long, "services.snmpd.community: too long (at most 63 bytes)"},
        {s_longref, "services.snmpd.community: file name too long (at most 511 bytes)"},
        {"{\"default_gateway\": \"wm9\"}", "services.snmpd.default_gateway: no gateway 'wm9'"},
        {"{\"default_gateway\": \"\"}", "services.snmpd.default_gateway: no gateway ''"},
        {"{\"community\": \"a b\"}",
         "services.snmpd.community: no spaces, quotes or '@' in a community"},
        {"{\"community\": \"pub@wm1\"}",
         "services.snmpd.community: no spaces, quotes or '@' in a community"},
        {"{\"community\": \"env:OW_SNMPD_KEYS_TEST_UNSET\"}",
         "services.snmpd.community: environment variable OW_SNMPD_KEYS_TEST_UNSET is not set"},
        {"{\"state_dir\": \"\"}", "services.snmpd.state_dir: must not be empty"},
        {U(", \"priv_pass\": \"short\""),
         "services.snmpd.users[0].priv_pass: a pass phrase needs at least 8 characters"},
        {U(", \"priv_pass\": \"has\\\"quote\""),
         "services.snmpd.users[0].priv_pass: unusable pass phrase"},
        {"{\"users\": [{\"name\": \"a b\", \"auth_pass\": \"longenough\", \"priv_pass\": "
         "\"longenough\"}]}",
         "services.snmpd.users[0].name: letters, digits, '_', '-', '.' only"},
        {"{\"users\": [{\"auth_pass\": \"longenough\", \"priv_pass\": \"longenough\"}]}",
         "services.snmpd.users[0]: a user needs a name"},
        {U(""), "services.snmpd.users[0]: a user needs auth_pass and priv_pass (authPriv only)"},
        {"{\"notify\": [{\"host\": \"h\", \"user\": \"nobody\"}]}",
         "services.snmpd.notify[0].user: no user 'nobody' in services.snmpd.users"},
        {"{\"notify\": [{\"host\": \"h\"}]}",
         "services.snmpd.notify[0]: give a community (v2c trap) or a user (v3 inform)"},
        {"{\"notify\": [{\"host\": \"h\", \"community\": \"c\", \"user\": \"x\"}]}",
         "services.snmpd.notify[0]: give a community (v2c trap) or a user (v3 inform)"},
        {"{\"notify\": [{\"community\": \"c\"}]}",
         "services.snmpd.notify[0]: a notification target needs a host"},
        /* unknown keys, at every level */
        {"{\"bogus\": 1}", "services.snmpd.bogus: unknown key"},
        {"{\"comunity\": \"public\"}",
         "services.snmpd.comunity: unknown key (did you mean community?)"},
        {U(", \"priv_pass\": \"longenough\", \"group\": \"x\""),
         "services.snmpd.users[0].group: unknown key"},
        {"{\"notify\": [{\"host\": \"h\", \"community\": \"c\", \"timeout\": 5}]}",
         "services.snmpd.notify[0].timeout: unknown key"},
    };
#undef U
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK_MSG(parse("site.json", bad[i].section, &c, err, sizeof err) == -1, "%s",
                  bad[i].section);
        CHECK_STR(reason(err, "site.json"), bad[i].want);
    }

    /* The position is the value's: line 1, the column of 161. */
    CHECK(parse("site.json", "{\"listen\": 161}", &c, err, sizeof err) == -1);
    char want[64];
    snprintf(want, sizeof want, "site.json:1:%d: ", (int)(strstr(text, "161") - text) + 1);
    CHECK_MSG(strncmp(err, want, strlen(want)) == 0, "'%s' vs '%s'", err, want);
}

/* state_dir: too long once resolved is refused (cut short, net-snmp would
 * keep its engine ID in another directory), the default too. */
static void state_dir(void)
{
    static ow_snmpd_cfg_t c;
    char err[2048], deep[512];
    memset(deep, 'd', sizeof deep);
    deep[0] = '/';
    memcpy(deep + 500, "/site.json", 11); /* a 500-byte directory */
    CHECK(parse(deep, "{\"state_dir\": \"snmpd-state-of-this-site\"}", &c, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "services.snmpd.state_dir: too long once resolved");
    CHECK(parse(deep, "{\"state_dir\": \"/var/lib/snmpd\"}", &c, err, sizeof err) == 0);
    CHECK_STR(c.state_dir, "/var/lib/snmpd");
    memcpy(deep + 497, "/site.json", 11); /* 497 + "/snmpd-state" = 509 fits */
    CHECK(parse(deep, "{}", &c, err, sizeof err) == 0);
    CHECK(strlen(c.state_dir) == 509);
    memcpy(deep + 500, "/site.json", 11); /* 500 + 12 = 512 does not */
    CHECK(parse(deep, "{}", &c, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "services.snmpd.state_dir: the default \"snmpd-state\" is too long");
}

static char lines[4096];
static void add_line(void *ctx, const char *line)
{
    (void)ctx;
    strncat(lines, line, sizeof lines - strlen(lines) - 2);
    strcat(lines, "\n");
}

/* What the agent is given (snmpcfg.c), from a section read by the rows. */
static void conf_lines(void)
{
    static ow_snmpd_cfg_t c;
    char err[1024];
    CHECK(parse("site.json",
                "{\"community\": \"pub\", \"source\": \"10.0.0.0/8\", \"users\": [{\"name\": "
                "\"ops\", \"auth_pass\": \"opsauth12\", \"priv_pass\": \"opspriv12\", \"write\": "
                "true}], \"notify\": [{\"host\": \"nms\", \"community\": \"traps\"}, {\"host\": "
                "\"nms2:162\", \"user\": \"ops\"}]}",
                &c, err, sizeof err) == 0);
    ow_site_t *site = ow_site_parse(text, strlen(text), "site.json", err, sizeof err);
    CHECK(site != NULL);
    if (!site) return;
    lines[0] = '\0';
    ow_snmpd_conf_lines(site, &c, add_line, NULL);
    CHECK_STR(lines, "view owAll included .1\n"
                     "com2sec owV2 10.0.0.0/8 pub\n"
                     "com2sec -Cn wm1 owV2 10.0.0.0/8 pub@wm1\n"
                     "com2sec -Cn wm2 owV2 10.0.0.0/8 pub@wm2\n"
                     "group owV2ro v2c owV2\n"
                     "access owV2ro \"\" v2c noauth prefix owAll none none\n"
                     "createUser ops SHA \"opsauth12\" AES \"opspriv12\"\n"
                     "group owV3rw usm ops\n"
                     "access owV3ro \"\" usm priv prefix owAll none owAll\n"
                     "access owV3rw \"\" usm priv prefix owAll owAll owAll\n"
                     "trap2sink nms traps\n"
                     "trapsess -Ci -v 3 -u ops -l authPriv -a SHA -A \"opsauth12\" -x AES -X "
                     "\"opspriv12\" nms2:162\n");
    ow_site_destroy(&site);
}

/* docs/config.md's services.snmpd part, from the same rows. */
static void doc(void)
{
    char *d = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&d, &n);
    CHECK(f != NULL);
    if (!f) return;
    ow_schema_doc_section(f, &ow_snmpd_section);
    fclose(f);
    CHECK_CONTAINS(d, "## services.snmpd\n");
    CHECK_CONTAINS(d, "| `services.snmpd.listen` | string | <= 255 bytes | `udp:161` |");
    CHECK_CONTAINS(d, "| `services.snmpd.community` | string | <= 63 bytes; `file:PATH`, "
                      "`env:NAME` | empty (v2c off) |");
    CHECK_CONTAINS(d, "| `services.snmpd.source` | string | <= 63 bytes | `127.0.0.1` |");
    CHECK_CONTAINS(d, "| `services.snmpd.state_dir` | string | 1..511 bytes | `snmpd-state` |");
    CHECK_CONTAINS(d, "| `services.snmpd.users` | array | 0..16 objects (below) | none |");
    CHECK_CONTAINS(d, "### services.snmpd.users[]\n");
    CHECK_CONTAINS(d, "| `auth` | enum | SHA, SHA-256, SHA-512, MD5 | `SHA` |");
    CHECK_CONTAINS(d, "| `auth_pass` | string | 8..127 bytes; `file:PATH`, `env:NAME` | "
                      "**required** |");
    CHECK_CONTAINS(d, "| `write` | boolean | true, false | false |");
    CHECK_CONTAINS(d, "### services.snmpd.notify[]\n");
    CHECK_CONTAINS(d, "| `host` | string | `HOST[:PORT]` | **required** |");
    free(d);
}

/* The configuration as it would be with one more field. */
typedef struct {
    ow_snmpd_cfg_t s; /* first: the real rows' offsets stay valid */
    int max_bulk;
} wide_cfg_t;

int main(void)
{
    defaults();
    every_key();
    secrets_from_files();
    refusals();
    state_dir();
    conf_lines();
    doc();
    static const ow_key_t extra = {.key = "max_bulk",
                                   .type = OW_KEY_INT,
                                   OW_AT(wide_cfg_t, max_bulk),
                                   .min = 1,
                                   .max = 512,
                                   .def = 64,
                                   .doc = "Most varbinds in a GETBULK answer."};
    ow_test_new_int_row(&ow_snmpd_section, &extra, sizeof(wide_cfg_t), "/srv/site.json",
                        parse_with);
    return ow_test_done("snmpd_keys");
}
