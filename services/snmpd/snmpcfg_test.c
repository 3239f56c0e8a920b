/* snmpcfg: services.snmpd read from site texts (ow_site_parse): defaults,
 * users and notification targets, secrets from files, and the refusals,
 * each naming the key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ow_test.h"
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

/* services.snmpd = section, in a site file at path; 0 or -1 with err. */
static int parse(const char *path, const char *section, ow_snmpd_cfg_t *out, char *err,
                 size_t errlen)
{
    char text[8192];
    snprintf(text, sizeof text, "%s%s}}", SITE_HEAD, section);
    ow_site_t *site = ow_site_parse(text, strlen(text), path, err, errlen);
    CHECK_MSG(site != NULL, "%s", err);
    if (!site) return -2;
    int rc = ow_site_snmpd(site, out, err, errlen);
    ow_site_destroy(&site);
    return rc;
}

int main(void)
{
    static ow_snmpd_cfg_t c;
    char err[1024], sec[4096];

    /* Defaults: v2c off, standalone on udp:161, the first gateway. */
    CHECK(parse("/etc/ohmwatch/site.json", "{}", &c, err, sizeof err) == 0);
    CHECK_STR(c.listen, "udp:161");
    CHECK_STR(c.community, "");
    CHECK_STR(c.state_dir, "/etc/ohmwatch/snmpd-state");
    CHECK(c.default_gw == 0 && c.nusers == 0 && c.nsinks == 0 && !c.fahrenheit);

    /* A user with its pass phrases from a file next to the site file. */
    char dir[] = "/tmp/snmpcfg_test.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char fp[512], site_path[600];
    snprintf(fp, sizeof fp, "%s/auth", dir);
    FILE *f = fopen(fp, "w");
    CHECK(f && fputs("fromfile123\nsecond line\n", f) >= 0 && fclose(f) == 0);
    snprintf(site_path, sizeof site_path, "%s/site.json", dir);
    CHECK(parse(site_path,
                "{\"default_gateway\": \"wm2\", \"temperature_unit\": \"F\", \"users\": "
                "[{\"name\": \"ops\", \"auth\": \"SHA-256\", \"auth_pass\": \"file:auth\", "
                "\"priv_pass\": \"opspriv123\", \"write\": true}], \"notify\": [{\"host\": "
                "\"10.0.0.9\", \"user\": \"ops\"}, {\"host\": \"10.0.0.8:162\", \"community\": "
                "\"traps\"}]}",
                &c, err, sizeof err) == 0);
    CHECK_MSG(c.nusers == 1 && c.nsinks == 2, "%s", err);
    CHECK_STR(c.users[0].auth_pass, "fromfile123"); /* the first line only */
    CHECK_STR(c.users[0].auth, "SHA-256");
    CHECK_STR(c.users[0].priv, "AES");
    CHECK(c.users[0].write == 1 && c.default_gw == 1 && c.fahrenheit == 1);
    CHECK_STR(c.sinks[0].user, "ops");
    CHECK_STR(c.sinks[1].community, "traps");
    unlink(fp);
    rmdir(dir);

    /* Refusals, each at its key. */
    static const struct {
        const char *section, *want;
    } bad[] = {
        {"[]", "services.snmpd: expected an object"},
        {"{\"listen\": 161}", "services.snmpd.listen: expected a string"},
        {"{\"temperature_unit\": \"K\"}", "services.snmpd.temperature_unit"},
        {"{\"default_gateway\": \"wm9\"}", "no gateway 'wm9'"},
        {"{\"community\": \"a b\"}", "no spaces"},
        {"{\"community\": \"env:OW_SNMPCFG_TEST_UNSET\"}", "OW_SNMPCFG_TEST_UNSET is not set"},
        {"{\"users\": [{\"name\": \"x\", \"auth_pass\": \"short\", \"priv_pass\": "
         "\"longenough\"}]}",
         "services.snmpd.users[0].auth_pass: a pass phrase needs at least 8"},
        {"{\"users\": [{\"name\": \"x\", \"auth_pass\": \"longenough\"}]}", "authPriv only"},
        {"{\"notify\": [{\"host\": \"h\", \"user\": \"nobody\"}]}", "no user 'nobody'"},
        {"{\"notify\": [{\"host\": \"h\"}]}", "give a community"},
        {"{\"bogus\": 1}", "services.snmpd.bogus: unknown key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK_MSG(parse("site.json", bad[i].section, &c, err, sizeof err) == -1, "%s",
                  bad[i].section);
        CHECK_CONTAINS(err, bad[i].want);
    }

    /* A "file:" name that does not fit once resolved against the site's
     * directory is refused as too long (it used to fopen(NULL): undefined,
     * and "cannot read" named the wrong problem). Seen reading the parser for
     * site_fuzz. */
    char longname[600];
    memset(longname, 'a', 500);
    longname[500] = '\0';
    snprintf(sec, sizeof sec, "{\"community\": \"file:%s\"}", longname);
    err[0] = '\0';
    CHECK(parse("/nonexistent/ohmwatch-fuzz/site.json", sec, &c, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "services.snmpd.community: file name too long once resolved");

    /* state_dir: empty, or too long once resolved, is refused (it was cut
     * short: net-snmp would have kept its engine ID in another directory). */
    CHECK(parse("site.json", "{\"state_dir\": \"\"}", &c, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "services.snmpd.state_dir: must not be empty");
    char deep[512];
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
    return ow_test_done("snmpcfg");
}
