/* The "services.webd" section of the site file: its key table. The schema
 * engine (lib/ow_schema.h) reads, checks and documents every key from these
 * rows (docs/config.md); a new key is one row here and a field in
 * ow_webd_cfg_t. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ow_schema.h"
#include "webd.h"

#ifndef OW_WEBD_WWW
#define OW_WEBD_WWW "/usr/local/share/ohmwatch/www"
#endif

/* listen: "A.B.C.D:PORT" or "*:PORT", the port in plain decimal. */
int ow_webd_parse_listen(const char *s, uint32_t *addr, uint16_t *port, char *why, size_t len)
{
    const char *colon = strrchr(s, ':');
    char host[64];
    struct in_addr a = {0};
    if (!colon || (size_t)(colon - s) >= sizeof host) {
        snprintf(why, len, "\"%.64s\": expected ADDR:PORT (e.g. \"0.0.0.0:8443\")", s);
        return -1;
    }
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    if (strcmp(host, "*") != 0 && inet_pton(AF_INET, host, &a) != 1) {
        snprintf(why, len, "\"%.64s\": \"%s\" is not an IPv4 address or *", s, host);
        return -1;
    }
    const char *p = colon + 1;
    long v = 0;
    size_t n = strspn(p, "0123456789");
    if (n == 0 || n > 5 || p[n] || (n > 1 && p[0] == '0') || (v = strtol(p, NULL, 10)) < 1 ||
        v > 65535) {
        snprintf(why, len, "\"%.64s\": port \"%.10s\" must be a number 1..65535", s, p);
        return -1;
    }
    *addr = ntohl(a.s_addr);
    *port = (uint16_t)v;
    return 0;
}

static int listen_check(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base)
{
    ow_webd_cfg_t *w = base;
    char why[160];
    (void)k;
    if (ow_webd_parse_listen(w->listen, &w->listen_addr, &w->listen_port, why, sizeof why) < 0)
        return ow_schema_fail(c, path, "%s", why);
    return 0;
}

static int listen_fill(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base)
{
    snprintf((char *)base + k->off, k->size, "%s", k->sdef);
    return listen_check(c, k, path, base);
}

#define WK(m) OW_AT(ow_webd_cfg_t, m)

/* clang-format off */
static const ow_key_t webd_keys[] = {
    {.key = "listen", .type = OW_KEY_STRING, WK(listen), .sdef = "0.0.0.0:8443",
     .range_doc = "`A.B.C.D:PORT`, `*:PORT`", .check = listen_check, .fill = listen_fill,
     .doc = "Where the pages and the API are served (HTTPS unless `tls` is false)."},
    {.key = "tls", .type = OW_KEY_BOOL, WK(tls), .def = 1,
     .doc = "false serves plain HTTP: an explicit choice (behind a TLS proxy on the same "
            "host), warned at every start. Session cookies stay `Secure`, so a browser only "
            "logs in over HTTPS."},
    {.key = "cert_file", .type = OW_KEY_STRING, WK(cert_file), .ddoc = "none",
     .doc = "The server certificate chain, PEM (deploy/make-secrets.sh makes a self-signed "
            "one). Required when `tls` is true; relative to the site file."},
    {.key = "key_file", .type = OW_KEY_STRING, WK(key_file), .ddoc = "none",
     .doc = "Its private key, PEM. Required when `tls` is true; relative to the site file."},
    {.key = "www_dir", .type = OW_KEY_STRING, WK(www_dir), .sdef = OW_WEBD_WWW,
     .flags = OW_KEY_PATH, .env = "OHMWATCH_WWW",
     .ddoc = "`$OHMWATCH_WWW`, else the installed `share/ohmwatch/www`",
     .doc = "The pages (index.html, app.js, ...), served at `/`."},
    {.key = "users_file", .type = OW_KEY_STRING, WK(users_file),
     .sdef = "/var/lib/ohmwatch/webd-users.json", .flags = OW_KEY_PATH,
     .env = "OHMWATCH_WEBD_USERS",
     .ddoc = "`$OHMWATCH_WEBD_USERS`, else `/var/lib/ohmwatch/webd-users.json`",
     .doc = "The web users: names, Argon2id password hashes, roles. Written by webd (0600, "
            "replaced atomically). When it does not exist, webd creates it with the user "
            "`admin` holding every role and the initial password, to be changed at first "
            "login."},
    {.key = "initial_password_file", .type = OW_KEY_STRING, WK(initial_password_file),
     .ddoc = "`$CREDENTIALS_DIRECTORY/webd.admin_password`, else "
             "`/run/secrets/webd.admin_password`",
     .doc = "The first admin's password (its first line, at least 10 characters), read only "
            "when `users_file` does not exist; without it webd refuses to start."},
    {.key = "session_idle_s", .type = OW_KEY_INT, WK(session_idle_s), .min = 60, .max = 86400,
     .def = 1800, .doc = "A session unused this long is logged out, s."},
    {.key = "session_max_s", .type = OW_KEY_INT, WK(session_max_s), .min = 60,
     .max = 30 * 86400, .def = 43200, .doc = "A session ends this long after its login, s."},
    {.key = "login_failures", .type = OW_KEY_INT, WK(login_failures), .min = 1, .max = 100,
     .def = 5,
     .doc = "Failed logins from one address, or for one user name, before further attempts are "
            "refused (429) for `login_lock_s`."},
    {.key = "login_lock_s", .type = OW_KEY_INT, WK(login_lock_s), .min = 1, .max = 900, .def = 60,
     .doc = "The first lock, s; it doubles with every further failure, up to 900 s. A "
            "successful login clears the user name's count."},
    {.key = "max_clients", .type = OW_KEY_INT, WK(max_clients), .min = 1, .max = 10000,
     .def = 200, .doc = "Connections at once (each open page holds one for its event stream)."},
    {.key = "timeout_s", .type = OW_KEY_INT, WK(timeout_s), .min = 5, .max = 3600, .def = 60,
     .doc = "A connection idle this long is closed (event streams send a keep-alive every "
            "15 s)."},
    {.key = "history.host", .type = OW_KEY_STRING, WK(history.host), .sdef = "localhost",
     .flags = OW_KEY_HOST,
     .doc = "PostgreSQL (the historian's database) for the history pages."},
    {.key = "history.port", .type = OW_KEY_INT, WK(history.port), .min = 1, .max = 65535,
     .def = 5432, .doc = "Its port."},
    {.key = "history.dbname", .type = OW_KEY_STRING, WK(history.dbname), .sdef = "ohmwatch",
     .flags = OW_KEY_NONEMPTY, .doc = "The database."},
    {.key = "history.user", .type = OW_KEY_STRING, WK(history.user), .sdef = "webd_reader",
     .flags = OW_KEY_NONEMPTY,
     .doc = "A read-only role (SELECT only): webd_reader, which the historian's migration 007 "
            "grants SELECT on every table."},
    {.key = "history.password_file", .type = OW_KEY_STRING, WK(history.password_file),
     .ddoc = "none (no password)", .doc = "Its password (first line); relative to the site file."},
    {.key = "history.pool", .type = OW_KEY_INT, WK(history.pool), .min = 1, .max = 32, .def = 4,
     .doc = "Connections kept open: history requests at once."},
};
/* clang-format on */

/* The file names without a default: relative to the site file like the
 * others, and the certificate pair required when serving TLS. */
static int webd_finish(ow_schema_ctx_t *c, const json_t *obj, void *base)
{
    ow_webd_cfg_t *w = base;
    (void)obj;
    struct {
        char *v;
        size_t size;
        const char *key;
    } files[] = {
        {w->cert_file, sizeof w->cert_file, "cert_file"},
        {w->key_file, sizeof w->key_file, "key_file"},
        {w->initial_password_file, sizeof w->initial_password_file, "initial_password_file"},
        {w->history.password_file, sizeof w->history.password_file, "history.password_file"},
    };
    char full[1024], path[160];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "services.webd.%s", files[i].key);
        if (!files[i].v[0]) {
            if (w->tls && i < 2)
                return ow_schema_fail(c, path, "required when tls is true (a PEM file)");
            continue;
        }
        const char *p = ow_schema_resolve(c->dir, files[i].v, full, sizeof full);
        if (!p || strlen(p) >= files[i].size)
            return ow_schema_fail(c, path, "too long once resolved (at most %zu bytes)",
                                  files[i].size - 1);
        memmove(files[i].v, p, strlen(p) + 1);
    }
    return 0;
}

const ow_schema_section_t ow_webd_section = {
    .path = "services.webd",
    .keys = webd_keys,
    .nkeys = sizeof webd_keys / sizeof webd_keys[0],
    .size = sizeof(ow_webd_cfg_t),
    .finish = webd_finish,
    .doc = "webd (services/webd): the web pages and their JSON API over HTTPS (docs/web.md).\n"
           "Read at start; a change needs a restart.",
};

int ow_site_webd(const ow_site_t *site, ow_webd_cfg_t *out, char *err, size_t errlen)
{
    return ow_site_section(site, &ow_webd_section, out, err, errlen);
}

int ow_webd_doc_config(FILE *out)
{
    ow_schema_doc_table(out, webd_keys, sizeof webd_keys / sizeof webd_keys[0], "");
    return ferror(out) ? -1 : 0;
}
