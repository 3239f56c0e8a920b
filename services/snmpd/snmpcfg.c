/* services.snmpd: the net-snmp lines it becomes; see snmpcfg.h (the
 * section itself is read by its key table, snmpd_keys.c).
 *
 * Security model (the "no write access by default"):
 * - v2c is off unless a community is given, and then read-only, from
 *   `source` only (default 127.0.0.1). "COMMUNITY@GW" reads gateway GW.
 * - SNMPv3 users need authPriv; they read, and SET only with "write": true.
 * - Each gateway is an SNMP context named by its id; the default context
 *   "" is `default_gateway` (the first gateway unless set). */
#include "snmpcfg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
