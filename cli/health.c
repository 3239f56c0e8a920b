/* Health probes, one per service, each from the outside as a client sees
 * the service (the container health checks run them):
 *   busd       a heartbeat arrives on the gateway's publish endpoint
 *   alarmd     answers a snapshot request on its control endpoint and holds a
 *              heartbeat of every gateway no older than max_age
 *   historian  its position for every gateway's busd in PostgreSQL moved
 *              within max_age (it is storing, not only running)
 *   modbusd    answers a Modbus read of the general registers and module 1
 *              for every gateway's unit, module 1 has a voltage and is not
 *              flagged "communication lost"
 *   snmpd      answers an SNMP GET in every gateway's context, module 1 has a
 *              voltage (health_snmp.c)
 *   webd       answers /api/health over HTTPS with the configured certificate,
 *              and has heard every gateway's busd within max_age (health_webd.c)
 * "Current" depends on the producers: with busd stopped for longer than
 * max_age, alarmd, historian and modbusd report unhealthy too, which is what
 * an operator has to know (their data is stale), not a reason to restart them. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>
#include <libpq-fe.h>
#include <modbus.h>

#include "health.h"
#include "historian.h"
#include "modbusd.h"
#include "ow_clock.h"
#include "ow_cmd.h"
#include "ow_ctl.h"
#include "ow_gbms.h"
#include "ow_sub.h"

#define DEFAULT_MAX_AGE_S 60.0

static int gw_selected(const ow_gateway_cfg_t *g, const char *gw)
{
    return !gw || strcmp(gw, g->id) == 0;
}

/* busd: one heartbeat per poll cycle; wait three cycles (at least 5 s). */
static int health_busd(const ow_site_t *site, const char *gw, FILE *out)
{
    int bad = 0;
    for (int i = 0; i < site->ngateways; i++) {
        const ow_gateway_cfg_t *g = &site->gateways[i];
        if (!gw_selected(g, gw)) continue;
        ow_sub_t *sub = ow_sub_new();
        if (!sub || ow_sub_add(sub, g->publish_connect, NULL) < 0) {
            fprintf(out, "busd %s: cannot connect to %s\n", g->id, g->publish_connect);
            ow_sub_destroy(&sub);
            bad = 1;
            continue;
        }
        ow_sub_subscribe(sub, "hb/");
        int wait_ms = 3 * g->poll_ms < 5000 ? 5000 : 3 * g->poll_ms;
        int64_t deadline = ow_mono_us() + (int64_t)wait_ms * 1000;
        ow_delivery_t dv;
        int got = 0;
        while (!got && ow_mono_us() < deadline) {
            int r = ow_sub_recv(sub, &dv, 200);
            if (r < 0) break;
            if (r > 0 && dv.msg.kind == OW_MSG_HEARTBEAT && strcmp(dv.msg.h.gw, g->id) == 0)
                got = 1;
        }
        if (got)
            fprintf(out, "busd %s: healthy, publishing on %s (epoch %llu, seq %llu)\n", g->id,
                    g->publish_connect, (unsigned long long)dv.msg.h.epoch,
                    (unsigned long long)dv.msg.h.seq);
        else
            fprintf(out, "busd %s: no heartbeat on %s within %d ms\n", g->id, g->publish_connect,
                    wait_ms);
        bad |= !got;
        ow_sub_destroy(&sub);
    }
    return bad;
}

struct snap {
    const ow_site_t *site;
    int64_t hb_ts[OW_MAX_GATEWAYS]; /* per gateway index; 0 none */
};

static void snap_msg(void *ctx, const ow_msg_t *m)
{
    struct snap *s = ctx;
    if (m->kind != OW_MSG_HEARTBEAT) return;
    for (int i = 0; i < s->site->ngateways; i++)
        if (strcmp(s->site->gateways[i].id, m->h.gw) == 0) s->hb_ts[i] = m->h.ts_us;
}

/* alarmd: the snapshot carries the latest heartbeat it took from each
 * gateway. An accelerated simulation stamps heartbeats ahead of the clock,
 * which counts as current. */
static int health_alarmd(const ow_site_t *site, const char *gw, double max_age_s, FILE *out)
{
    ow_alarmd_cfg_t a;
    char err[512];
    if (ow_site_alarmd(site, &a, err, sizeof err) < 0) {
        fprintf(out, "alarmd: %s\n", err);
        return 1;
    }
    static struct snap s; /* 8 KB: off the stack */
    memset(&s, 0, sizeof s);
    s.site = site;
    ow_control_t req = ow_cmd_control(OW_CMD_SNAPSHOT, "", NAN, 0, "health");
    ow_reply_t r;
    if (ow_ctl_call(a.control_connect, NULL, &req, 3000, &r, snap_msg, &s, err, sizeof err) < 0 ||
        !r.ok) {
        fprintf(out, "alarmd: no answer on %s (%s)\n", a.control_connect, err[0] ? err : "refused");
        return 1;
    }
    int bad = 0;
    int64_t now = ow_now_us();
    for (int i = 0; i < site->ngateways; i++) {
        const ow_gateway_cfg_t *g = &site->gateways[i];
        if (!gw_selected(g, gw)) continue;
        double age_s = (double)(now - s.hb_ts[i]) / 1e6;
        if (!s.hb_ts[i]) {
            fprintf(out, "alarmd %s: answers, but has no data from the gateway yet\n", g->id);
            bad = 1;
        } else if (age_s > max_age_s) {
            fprintf(out, "alarmd %s: answers, but its newest data is %.0f s old (max %.0f s)\n",
                    g->id, age_s, max_age_s);
            bad = 1;
        } else
            fprintf(out, "alarmd %s: healthy, newest data %.1f s old\n", g->id,
                    age_s > 0 ? age_s : 0);
    }
    return bad;
}

/* historian: ingest_positions is committed with the rows it covers, so its
 * updated_at says when rows from that publisher were last stored. */
static int health_historian(const ow_site_t *site, const char *gw, double max_age_s, FILE *out)
{
    ow_historian_cfg_t cfg;
    char err[512];
    if (ow_site_historian(site, &cfg, err, sizeof err) < 0) {
        fprintf(out, "historian: %s\n", err);
        return 1;
    }
    if (!cfg.dsn[0]) {
        fprintf(out, "historian: no database (services.historian.dsn or $OHMWATCH_PG_DSN)\n");
        return 1;
    }
    char conninfo[640];
    snprintf(conninfo, sizeof conninfo, "%s connect_timeout=5", cfg.dsn);
    PGconn *db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(out, "historian: PostgreSQL not reachable: %s", PQerrorMessage(db));
        PQfinish(db);
        return 1;
    }
    int bad = 0;
    for (int i = 0; i < site->ngateways; i++) {
        const ow_gateway_cfg_t *g = &site->gateways[i];
        if (!gw_selected(g, gw)) continue;
        char pub[OW_ID_MAX + 8];
        snprintf(pub, sizeof pub, "busd.%s", g->id);
        const char *params[1] = {pub};
        PGresult *res = PQexecParams(db,
                                     "SELECT extract(epoch FROM now() - updated_at), seq "
                                     "FROM ingest_positions WHERE pub = $1",
                                     1, NULL, params, NULL, NULL, 0);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (state && strcmp(state, "42P01") == 0) { /* undefined_table */
            fprintf(out, "historian %s: nothing stored yet (no schema: it never ran here)\n",
                    g->id);
            bad = 1;
        } else if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            fprintf(out, "historian %s: %s", g->id, PQerrorMessage(db));
            bad = 1;
        } else if (PQntuples(res) == 0) {
            fprintf(out, "historian %s: nothing stored from %s yet\n", g->id, pub);
            bad = 1;
        } else {
            double age_s = atof(PQgetvalue(res, 0, 0));
            if (age_s > max_age_s) {
                fprintf(out, "historian %s: last stored %.0f s ago (max %.0f s)\n", g->id, age_s,
                        max_age_s);
                bad = 1;
            } else
                fprintf(out, "historian %s: healthy, stored %.1f s ago up to seq %s\n", g->id,
                        age_s > 0 ? age_s : 0, PQgetvalue(res, 0, 1));
        }
        PQclear(res);
    }
    PQfinish(db);
    return bad;
}

/* modbusd: listen is "ADDR:PORT"; a wildcard address is reached on loopback. */
static int health_modbusd(const ow_site_t *site, const char *gw, FILE *out)
{
    static ow_modbusd_cfg_t cfg;
    char err[512], host[128];
    if (ow_site_modbusd(site, &cfg, err, sizeof err) < 0) {
        fprintf(out, "modbusd: %s\n", err);
        return 1;
    }
    /* ow_site_modbusd has parsed listen strictly (netparse.h). */
    int port = cfg.listen_port;
    uint32_t a = cfg.listen_addr ? cfg.listen_addr : 0x7F000001u;
    snprintf(host, sizeof host, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
    modbus_t *mb = modbus_new_tcp(host, port);
    if (!mb || modbus_connect(mb) < 0) {
        fprintf(out, "modbusd: cannot connect to %s:%d: %s\n", host, port, modbus_strerror(errno));
        if (mb) modbus_free(mb);
        return 1;
    }
    modbus_set_response_timeout(mb, 3, 0);
    int bad = 0, seen = 0;
    for (int unit = 1; unit < 256; unit++) {
        int gi = cfg.unit_gw[unit];
        if (gi < 0 || gi >= site->ngateways || !gw_selected(&site->gateways[gi], gw)) continue;
        const ow_gateway_cfg_t *g = &site->gateways[gi];
        uint16_t gen[5], mod[5]; /* the general section; module 1: TEMP VOLT IMPC ALARM EQ */
        seen++;
        modbus_set_slave(mb, unit);
        if (modbus_read_registers(mb, OW_MB_FIRST, 5, gen) != 5 ||
            modbus_read_registers(mb, ow_mb_module_base(1), 5, mod) != 5) {
            fprintf(out, "modbusd %s: unit %d does not answer: %s\n", g->id, unit,
                    modbus_strerror(errno));
            bad = 1;
        } else if (mod[1] == OW_MB_NO_READING || (mod[3] & GBMS_AL_COMMUNICATION_LOST)) {
            fprintf(out, "modbusd %s: unit %d answers, but module 1 has no current reading\n",
                    g->id, unit);
            bad = 1;
        } else
            fprintf(out, "modbusd %s: healthy, unit %d, %u modules, module 1 at %d mV\n", g->id,
                    unit, gen[4], (int16_t)mod[1]);
    }
    if (!seen) {
        fprintf(out, "modbusd: no unit serves %s\n", gw ? gw : "any gateway");
        bad = 1;
    }
    modbus_close(mb);
    modbus_free(mb);
    return bad;
}

int ow_health(const ow_site_t *site, const char *service, const char *gw, double max_age_s,
              FILE *out)
{
    if (max_age_s <= 0) max_age_s = DEFAULT_MAX_AGE_S;
    if (gw && !ow_site_gateway(site, gw)) {
        fprintf(out, "no gateway '%s' in the site\n", gw);
        return 2;
    }
    if (strcmp(service, "busd") == 0) return health_busd(site, gw, out);
    if (strcmp(service, "alarmd") == 0) return health_alarmd(site, gw, max_age_s, out);
    if (strcmp(service, "historian") == 0) return health_historian(site, gw, max_age_s, out);
    if (strcmp(service, "modbusd") == 0) return health_modbusd(site, gw, out);
    if (strcmp(service, "snmpd") == 0) return ow_health_snmpd(site, gw, out);
    if (strcmp(service, "webd") == 0) return ow_health_webd(site, gw, max_age_s, out);
    fprintf(out, "unknown service '%s' (busd, alarmd, historian, modbusd, snmpd, webd)\n", service);
    return 2;
}
