/* services.snmpd: parsing and the net-snmp lines it becomes; see snmpcfg.h.
 *
 * Security model (the issue's "no write access by default"):
 * - v2c is off unless a community is given, and then read-only, from
 *   `source` only (default 127.0.0.1). "COMMUNITY@GW" reads gateway GW.
 * - SNMPv3 users need authPriv; they read, and SET only with "write": true.
 * - Each gateway is an SNMP context named by its id; the default context
 *   "" is `default_gateway` (the first gateway unless set). */
#include "snmpcfg.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

typedef struct {
    const ow_site_t *site;
    char *err;
    size_t errlen;
} pctx_t;

/* The error at path; -1. */
#define fail(c, where, ...)                                                                        \
    ow_jpos_error((c)->site->positions, (c)->site->path, where, (c)->err, (c)->errlen, __VA_ARGS__)

/* A string value into dst; NULL arg for the error: "expected a string ...". */
static int str(pctx_t *c, json_t *v, const char *path, char *dst, size_t len)
{
    if (!json_is_string(v)) return fail(c, path, "expected a string");
    if (strlen(json_string_value(v)) >= len) return fail(c, path, "too long");
    snprintf(dst, len, "%s", json_string_value(v));
    return 0;
}

/* raw is "file:PATH" or "env:NAME" (replaced by what it names) or the
 * secret itself. */
static int resolve(pctx_t *c, const char *path, char *raw, size_t rawlen)
{
    if (strncmp(raw, "env:", 4) == 0) {
        const char *e = getenv(raw + 4);
        if (!e) return fail(c, path, "environment variable %s is not set", raw + 4);
        snprintf(raw, rawlen, "%s", e);
    } else if (strncmp(raw, "file:", 5) == 0) {
        char fp[512];
        snprintf(fp, sizeof fp, "%s", raw + 5);
        /* Resolved against the site file's directory, a long name may not
         * fit: say so rather than open nothing (fopen(NULL) is undefined). */
        const char *full = ow_site_path(c->site, fp, raw, rawlen);
        if (!full)
            return fail(c, path, "file name too long once resolved against \"%s\"", c->site->dir);
        FILE *f = fopen(full, "r");
        if (!f) return fail(c, path, "cannot read %s", fp);
        if (!fgets(raw, (int)rawlen, f)) raw[0] = 0;
        fclose(f);
        raw[strcspn(raw, "\r\n")] = 0;
    }
    return 0;
}

/* A pass phrase, resolved; net-snmp wants >= 8 characters. */
static int secret(pctx_t *c, json_t *v, const char *path, char *dst, size_t len)
{
    char raw[512];
    if (str(c, v, path, raw, sizeof raw) < 0 || resolve(c, path, raw, sizeof raw) < 0) return -1;
    if (strlen(raw) < 8) return fail(c, path, "a pass phrase needs at least 8 characters");
    if (strlen(raw) >= len || strpbrk(raw, "\"\n")) return fail(c, path, "unusable pass phrase");
    snprintf(dst, len, "%s", raw);
    return 0;
}

static int oneof(pctx_t *c, const char *path, const char *val, const char *const *choices)
{
    for (const char *const *p = choices; *p; p++)
        if (strcmp(*p, val) == 0) return 0;
    return fail(c, path, "must be one of the documented choices, not '%s'", val);
}

static const char *const auths[] = {"SHA", "SHA-256", "SHA-512", "MD5", NULL};
static const char *const privs[] = {"AES", "DES", NULL};

static int parse_user(pctx_t *c, json_t *u, int i, ow_snmp_user_t *out)
{
    char path[128], p2[160];
    const char *key;
    json_t *v;
    snprintf(path, sizeof path, "services.snmpd.users[%d]", i);
    if (!json_is_object(u)) return fail(c, path, "expected an object");
    snprintf(out->auth, sizeof out->auth, "SHA");
    snprintf(out->priv, sizeof out->priv, "AES");
    json_object_foreach(u, key, v)
    {
        snprintf(p2, sizeof p2, "%s.%s", path, key);
        if (strcmp(key, "name") == 0) {
            if (str(c, v, p2, out->name, sizeof out->name) < 0) return -1;
            for (const char *s = out->name; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
                    return fail(c, p2, "letters, digits, '_', '-', '.' only");
        } else if (strcmp(key, "auth") == 0) {
            if (str(c, v, p2, out->auth, sizeof out->auth) < 0 || oneof(c, p2, out->auth, auths))
                return -1;
        } else if (strcmp(key, "priv") == 0) {
            if (str(c, v, p2, out->priv, sizeof out->priv) < 0 || oneof(c, p2, out->priv, privs))
                return -1;
        } else if (strcmp(key, "auth_pass") == 0) {
            if (secret(c, v, p2, out->auth_pass, sizeof out->auth_pass) < 0) return -1;
        } else if (strcmp(key, "priv_pass") == 0) {
            if (secret(c, v, p2, out->priv_pass, sizeof out->priv_pass) < 0) return -1;
        } else if (strcmp(key, "write") == 0) {
            if (!json_is_boolean(v)) return fail(c, p2, "expected true or false");
            out->write = json_is_true(v);
        } else
            return fail(c, p2, "unknown key");
    }
    if (!out->name[0]) return fail(c, path, "a user needs a name");
    if (!out->auth_pass[0] || !out->priv_pass[0])
        return fail(c, path, "a user needs auth_pass and priv_pass (authPriv only)");
    return 0;
}

static int parse_sink(pctx_t *c, const ow_snmpd_cfg_t *cfg, json_t *s, int i, ow_snmp_sink_t *out)
{
    char path[128], p2[160];
    const char *key;
    json_t *v;
    snprintf(path, sizeof path, "services.snmpd.notify[%d]", i);
    if (!json_is_object(s)) return fail(c, path, "expected an object");
    json_object_foreach(s, key, v)
    {
        snprintf(p2, sizeof p2, "%s.%s", path, key);
        if (strcmp(key, "host") == 0) {
            if (str(c, v, p2, out->host, sizeof out->host) < 0) return -1;
        } else if (strcmp(key, "community") == 0) {
            if (str(c, v, p2, out->community, sizeof out->community) < 0) return -1;
        } else if (strcmp(key, "user") == 0) {
            if (str(c, v, p2, out->user, sizeof out->user) < 0) return -1;
            int found = 0;
            for (int u = 0; u < cfg->nusers; u++)
                found |= strcmp(cfg->users[u].name, out->user) == 0;
            if (!found) return fail(c, p2, "no user '%s' in services.snmpd.users", out->user);
        } else
            return fail(c, p2, "unknown key");
    }
    if (!out->host[0]) return fail(c, path, "a notification target needs a host");
    if (!out->community[0] == !out->user[0])
        return fail(c, path, "give a community (v2c trap) or a user (v3 inform)");
    return 0;
}

int ow_site_snmpd(const ow_site_t *site, ow_snmpd_cfg_t *out, char *err, size_t errlen)
{
    pctx_t c = {site, err, errlen};
    json_t *sec = json_object_get((json_t *)site->services, "snmpd"), *v, *users = NULL,
           *notify = NULL;
    const char *key;
    char path[128], buf[64];

    memset(out, 0, sizeof *out);
    snprintf(out->listen, sizeof out->listen, "udp:161");
    snprintf(out->source, sizeof out->source, "127.0.0.1");
    snprintf(out->state_dir, sizeof out->state_dir, "snmpd-state");
    if (sec && !json_is_object(sec)) return fail(&c, "services.snmpd", "expected an object");
    json_object_foreach(sec, key, v)
    {
        snprintf(path, sizeof path, "services.snmpd.%s", key);
        if (strcmp(key, "listen") == 0) {
            if (str(&c, v, path, out->listen, sizeof out->listen) < 0) return -1;
        } else if (strcmp(key, "agentx") == 0) {
            if (str(&c, v, path, out->agentx, sizeof out->agentx) < 0) return -1;
        } else if (strcmp(key, "community") == 0) {
            char raw[512];
            if (str(&c, v, path, raw, sizeof raw) < 0 || resolve(&c, path, raw, sizeof raw) < 0)
                return -1;
            size_t n = strlen(raw);
            if (n >= sizeof out->community) return fail(&c, path, "too long");
            memcpy(out->community, raw, n + 1);
            if (strpbrk(out->community, " \t\"@"))
                return fail(&c, path, "no spaces, quotes or '@' in a community");
        } else if (strcmp(key, "source") == 0) {
            if (str(&c, v, path, out->source, sizeof out->source) < 0) return -1;
        } else if (strcmp(key, "state_dir") == 0) {
            if (str(&c, v, path, buf, sizeof buf) < 0) return -1;
            if (!buf[0]) return fail(&c, path, "must not be empty");
            /* cut short, it would be another directory than the one named */
            if (!ow_site_path(site, buf, out->state_dir, sizeof out->state_dir))
                return fail(&c, path, "too long once resolved against \"%s\"", site->dir);
            continue;
        } else if (strcmp(key, "temperature_unit") == 0) {
            if (str(&c, v, path, buf, sizeof buf) < 0) return -1;
            if (strcmp(buf, "C") && strcmp(buf, "F")) return fail(&c, path, "\"C\" or \"F\"");
            out->fahrenheit = buf[0] == 'F';
        } else if (strcmp(key, "default_gateway") == 0) {
            if (str(&c, v, path, buf, sizeof buf) < 0) return -1;
            out->default_gw = -1;
            for (int g = 0; g < site->ngateways; g++)
                if (strcmp(site->gateways[g].id, buf) == 0) out->default_gw = g;
            if (out->default_gw < 0) return fail(&c, path, "no gateway '%s'", buf);
        } else if (strcmp(key, "users") == 0) {
            users = v;
        } else if (strcmp(key, "notify") == 0) {
            notify = v;
        } else
            return fail(&c, path, "unknown key");
    }
    if (strcmp(out->state_dir, "snmpd-state") == 0 &&
        !ow_site_path(site, "snmpd-state", out->state_dir, sizeof out->state_dir))
        return fail(&c, "services.snmpd.state_dir",
                    "the default \"snmpd-state\" is too long once resolved against \"%s\"",
                    site->dir);
    if (users) {
        if (!json_is_array(users) || json_array_size(users) > OW_SNMP_MAX_USERS)
            return fail(&c, "services.snmpd.users", "expected an array of at most 16 users");
        for (size_t i = 0; i < json_array_size(users); i++) {
            if (parse_user(&c, json_array_get(users, i), (int)i, &out->users[i]) < 0) return -1;
            out->nusers++;
        }
    }
    if (notify) {
        if (!json_is_array(notify) || json_array_size(notify) > OW_SNMP_MAX_SINKS)
            return fail(&c, "services.snmpd.notify", "expected an array of at most 16 targets");
        for (size_t i = 0; i < json_array_size(notify); i++) {
            if (parse_sink(&c, out, json_array_get(notify, i), (int)i, &out->sinks[i]) < 0)
                return -1;
            out->nsinks++;
        }
    }
    return 0;
}

static void linef(ow_snmp_line_fn fn, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void linef(ow_snmp_line_fn fn, void *ctx, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fn(ctx, line);
}

void ow_snmpd_conf_lines(const ow_site_t *site, const ow_snmpd_cfg_t *cfg, ow_snmp_line_fn fn,
                         void *ctx)
{
    linef(fn, ctx, "view owAll included .1");
    if (cfg->community[0]) {
        /* The plain community reads the default context, COMMUNITY@GW a gateway. */
        linef(fn, ctx, "com2sec owV2 %s %s", cfg->source, cfg->community);
        for (int g = 0; g < site->ngateways; g++)
            linef(fn, ctx, "com2sec -Cn %s owV2 %s %s@%s", site->gateways[g].id, cfg->source,
                  cfg->community, site->gateways[g].id);
        linef(fn, ctx, "group owV2ro v2c owV2");
        linef(fn, ctx, "access owV2ro \"\" v2c noauth prefix owAll none none");
    }
    for (int i = 0; i < cfg->nusers; i++) {
        const ow_snmp_user_t *u = &cfg->users[i];
        linef(fn, ctx, "createUser %s %s \"%s\" %s \"%s\"", u->name, u->auth, u->auth_pass, u->priv,
              u->priv_pass);
        linef(fn, ctx, "group %s usm %s", u->write ? "owV3rw" : "owV3ro", u->name);
    }
    linef(fn, ctx, "access owV3ro \"\" usm priv prefix owAll none owAll");
    linef(fn, ctx, "access owV3rw \"\" usm priv prefix owAll owAll owAll");
    for (int i = 0; i < cfg->nsinks; i++) {
        const ow_snmp_sink_t *s = &cfg->sinks[i];
        if (s->community[0]) {
            linef(fn, ctx, "trap2sink %s %s", s->host, s->community);
            continue;
        }
        for (int u = 0; u < cfg->nusers; u++) {
            const ow_snmp_user_t *us = &cfg->users[u];
            if (strcmp(us->name, s->user) == 0)
                linef(fn, ctx,
                      "trapsess -Ci -v 3 -u %s -l authPriv -a %s -A \"%s\" -x %s -X \"%s\" %s",
                      us->name, us->auth, us->auth_pass, us->priv, us->priv_pass, s->host);
        }
    }
}
