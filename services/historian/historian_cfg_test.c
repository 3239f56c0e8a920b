/* services.historian read from site texts: defaults, values, and the
 * refusals, each at its key; a dsn or spool_dir that would be cut short is
 * refused (it was truncated: another database, another directory). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "historian.h"
#include "ow_test.h"

#define SITE_HEAD                                                                                  \
    "{\"gateways\": [{\"id\": \"wm1\", \"publish\": \"tcp://127.0.0.1:7931\", \"replay\": "        \
    "\"tcp://127.0.0.1:7932\", \"module_type\": \"C20\", \"battery\": {\"capacity_ah\": 100}, "    \
    "\"strings\": [{\"modules\": 4}]}], \"services\": {\"alarmd\": {\"state_file\": "              \
    "\"/tmp/a.json\"}, \"security\": {\"keys_dir\": \"/tmp/keys\"}, \"historian\": "

static int parse(const char *path, const char *section, ow_historian_cfg_t *out, char *err,
                 size_t errlen)
{
    static char text[8192];
    snprintf(text, sizeof text, "%s%s}}", SITE_HEAD, section);
    ow_site_t *site = ow_site_parse(text, strlen(text), path, err, errlen);
    CHECK_MSG(site != NULL, "%s", err);
    if (!site) return -2;
    int rc = ow_site_historian(site, out, err, errlen);
    ow_site_destroy(&site);
    return rc;
}

int main(void)
{
    static ow_historian_cfg_t c;
    static char err[2048], sec[4096];
    unsetenv("OHMWATCH_PG_DSN");

    CHECK(parse("/srv/site.json", "{}", &c, err, sizeof err) == 0);
    CHECK_STR(c.dsn, "");
    CHECK_STR(c.spool_dir, "/srv/historian-spool");
    CHECK(c.spool_max_bytes == 1024ULL << 20 && c.batch_rows == 20000 && c.batch_ms == 200);
    CHECK(parse("/srv/site.json",
                "{\"dsn\": \"host=db\", \"spool_dir\": \"sp\", \"spool_max_mb\": 16, "
                "\"batch_rows\": 10, \"batch_ms\": 5, \"retention_days\": 30}",
                &c, err, sizeof err) == 0);
    CHECK_STR(c.dsn, "host=db");
    CHECK_STR(c.spool_dir, "/srv/sp");
    CHECK(c.spool_max_bytes == 16ULL << 20 && c.batch_rows == 10 && c.batch_ms == 5 &&
          c.retention_days == 30);

    static const struct {
        const char *section, *want;
    } bad[] = {
        {"[]", "services.historian: expected an object"},
        {"{\"bogus\": 1}", "services.historian.bogus: unknown key"},
        {"{\"dsn\": 5}", "services.historian.dsn: expected a string"},
        {"{\"batch_ms\": 0}", "services.historian.batch_ms: expected an integer between 1"},
        {"{\"spool_dir\": \"\"}", "services.historian.spool_dir: must not be empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK_MSG(parse("site.json", bad[i].section, &c, err, sizeof err) == -1, "%s",
                  bad[i].section);
        CHECK_CONTAINS(err, bad[i].want);
    }

    /* A dsn of 511 bytes fits; 512 is refused rather than cut short. */
    char dsn[600];
    memset(dsn, 'x', sizeof dsn);
    memcpy(dsn, "host=", 5);
    dsn[511] = '\0';
    snprintf(sec, sizeof sec, "{\"dsn\": \"%s\"}", dsn);
    CHECK(parse("site.json", sec, &c, err, sizeof err) == 0 && strlen(c.dsn) == 511);
    dsn[511] = 'x';
    dsn[512] = '\0';
    snprintf(sec, sizeof sec, "{\"dsn\": \"%s\"}", dsn);
    CHECK(parse("site.json", sec, &c, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "services.historian.dsn: too long (at most 511 bytes)");

    /* Under a 500-byte directory: a relative spool_dir does not fit, an
     * absolute one does, and the default is refused when it does not. */
    char deep[512];
    memset(deep, 'd', sizeof deep);
    deep[0] = '/';
    memcpy(deep + 500, "/site.json", 11);
    CHECK(parse(deep, "{\"spool_dir\": \"spool-of-this-site\"}", &c, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "services.historian.spool_dir: too long once resolved");
    CHECK(parse(deep, "{\"spool_dir\": \"/var/spool/h\"}", &c, err, sizeof err) == 0);
    CHECK_STR(c.spool_dir, "/var/spool/h");
    CHECK(parse(deep, "{}", &c, err, sizeof err) == -1);
    CHECK_CONTAINS(err,
                   "services.historian.spool_dir: the default \"historian-spool\" is too long");
    memcpy(deep + 490, "/site.json", 11); /* 490 + "/historian-spool" = 506 fits */
    CHECK(parse(deep, "{}", &c, err, sizeof err) == 0 && strlen(c.spool_dir) == 506);
    return ow_test_done("historian_cfg");
}
