/* services.webd from its key table (webd_keys.c): the defaults, values
 * read and resolved against the site file, and the refusals, each naming
 * its key (a listen address that is not one, a port out of range, TLS
 * without its certificate, a number out of range, an unknown key). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ow_test.h"
#include "webd.h"

#define SITE_HEAD                                                                                  \
    "{\"gateways\": [{\"id\": \"wm1\", \"publish\": \"tcp://127.0.0.1:7941\", \"replay\": "        \
    "\"tcp://127.0.0.1:7942\", \"module_type\": \"C20\", \"battery\": {\"capacity_ah\": 100}, "    \
    "\"strings\": [{\"modules\": 4}]}], \"services\": {\"webd\": "

static int parse(const char *section, ow_webd_cfg_t *out, char *err, size_t errlen)
{
    static char text[8192];
    snprintf(text, sizeof text, "%s%s}}", SITE_HEAD, section);
    ow_site_t *site = ow_site_parse(text, strlen(text), "/etc/ow/site.json", err, errlen);
    CHECK_MSG(site != NULL, "%s", err);
    if (!site) return -2;
    int rc = ow_site_webd(site, out, err, errlen);
    ow_site_destroy(&site);
    return rc;
}

int main(void)
{
    ow_webd_cfg_t c;
    char err[512];
    unsetenv("OHMWATCH_WWW");
    unsetenv("OHMWATCH_WEBD_USERS");

    /* Defaults (TLS needs its pair, so plain HTTP here). */
    CHECK_MSG(parse("{\"tls\": false}", &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.listen, "0.0.0.0:8443");
    CHECK(c.listen_addr == 0 && c.listen_port == 8443);
    CHECK(c.tls == 0);
    CHECK(c.session_idle_s == 1800 && c.session_max_s == 43200);
    CHECK(c.login_failures == 5 && c.login_lock_s == 60);
    CHECK(c.max_clients == 200 && c.timeout_s == 60);
    CHECK_STR(c.users_file, "/var/lib/ohmwatch/webd-users.json");
    CHECK_STR(c.initial_password_file, "");
    CHECK_STR(c.history.host, "localhost");
    CHECK(c.history.port == 5432 && c.history.pool == 4);
    CHECK_STR(c.history.user, "webd_reader");

    /* Values, relative paths against the site file's directory. */
    CHECK_MSG(parse("{\"listen\": \"127.0.0.1:9443\", \"cert_file\": \"tls/c.pem\", \"key_file\": "
                    "\"/k.pem\", \"www_dir\": \"www\", \"users_file\": \"u.json\", "
                    "\"initial_password_file\": \"pw\", \"login_failures\": 3, "
                    "\"history\": {\"port\": 6543, \"password_file\": \"ro.pw\"}}",
                    &c, err, sizeof err) == 0,
              "%s", err);
    CHECK(c.listen_addr == 0x7f000001 && c.listen_port == 9443);
    CHECK(c.tls == 1);
    CHECK_STR(c.cert_file, "/etc/ow/tls/c.pem");
    CHECK_STR(c.key_file, "/k.pem");
    CHECK_STR(c.www_dir, "/etc/ow/www");
    CHECK_STR(c.users_file, "/etc/ow/u.json");
    CHECK_STR(c.initial_password_file, "/etc/ow/pw");
    CHECK_STR(c.history.password_file, "/etc/ow/ro.pw");
    CHECK(c.login_failures == 3 && c.history.port == 6543);

    /* The environment's defaults. */
    setenv("OHMWATCH_WWW", "/srv/www", 1);
    CHECK_MSG(parse("{\"tls\": false}", &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.www_dir, "/srv/www");
    unsetenv("OHMWATCH_WWW");

    /* Refusals, each at its key. */
    static const struct {
        const char *section, *want;
    } bad[] = {
        {"{\"tls\": false, \"listen\": \"8443\"}",
         "services.webd.listen: \"8443\": expected ADDR:PORT"},
        {"{\"tls\": false, \"listen\": \"localhost:8443\"}", "is not an IPv4 address"},
        {"{\"tls\": false, \"listen\": \"0.0.0.0:99999\"}", "must be a number 1..65535"},
        {"{\"tls\": false, \"listen\": \"0.0.0.0:08443\"}", "must be a number 1..65535"},
        {"{\"tls\": false, \"listen\": \"0.0.0.0:0\"}", "must be a number 1..65535"},
        {"{}", "services.webd.cert_file: required when tls is true"},
        {"{\"cert_file\": \"c.pem\"}", "services.webd.key_file: required when tls is true"},
        {"{\"tls\": false, \"login_failures\": 0}", "services.webd.login_failures"},
        {"{\"tls\": false, \"login_lock_s\": 901}", "services.webd.login_lock_s"},
        {"{\"tls\": false, \"session_idle_s\": 5}", "services.webd.session_idle_s"},
        {"{\"tls\": false, \"listn\": \"0.0.0.0:1\"}", "listn"},
        {"{\"tls\": \"no\"}", "services.webd.tls"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(bad[i].section, &c, err, sizeof err);
        CHECK_MSG(rc == -1, "%s accepted", bad[i].section);
        CHECK_CONTAINS(err, bad[i].want);
    }

    uint32_t a;
    uint16_t p;
    CHECK(ow_webd_parse_listen("*:1", &a, &p, err, sizeof err) == 0 && a == 0 && p == 1);
    CHECK(ow_webd_parse_listen("10.1.2.3:65535", &a, &p, err, sizeof err) == 0 && a == 0x0a010203 &&
          p == 65535);
    CHECK(ow_webd_parse_listen("10.1.2.3:+80", &a, &p, err, sizeof err) < 0);
    CHECK(ow_webd_parse_listen("10.1.2:80", &a, &p, err, sizeof err) < 0);

    /* docs/config.md's table from the same rows. */
    char *doc = NULL;
    size_t dlen = 0;
    FILE *f = open_memstream(&doc, &dlen);
    CHECK(ow_webd_doc_config(f) == 0);
    fclose(f);
    CHECK_CONTAINS(doc, "`login_lock_s`");
    CHECK_CONTAINS(doc, "`history.pool`");
    free(doc);
    return ow_test_done("webd_keys_test");
}
