/* `ohmwatch health snmpd`: an SNMP GET through net-snmp's library, as an NMS
 * asks. Per gateway (its SNMP context) one request for bacsNumBatteries.0,
 * bacsStatus.0, bacsModuleVoltage.1 and bacsModuleState.1 (OIDs from the
 * agent's own table). Healthy when the agent answers and module 1 has a
 * voltage: the agent serves OW_SNMP_NO_READING while the block does not
 * answer and before any reading arrived (no instance in older agents).
 *
 * Credentials are the agent's own (services.snmpd): the v2c community if one
 * is set (COMMUNITY@GW for the gateway's context), else the first SNMPv3
 * user, authPriv, context GW. The address is the first entry of `listen`,
 * a wildcard or a bare port asked on loopback; in AgentX mode that is the
 * master's (default udp:161 on this host), which must know the same
 * credentials. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "health.h"
#include "oidtab.h"
#include "snmpcfg.h"

static const char *const appname = "ohmwatch-health";

/* The agent's listen (a net-snmp transport list) as an address to ask:
 * "udp:161" -> "udp:127.0.0.1:161", "udp6:[::]:1161" -> "udp6:[::1]:1161". */
void ow_health_snmp_peer(const char *listen, char *out, size_t len)
{
    char spec[256], domain[16] = "udp", host[128] = "", port[16] = "161";
    snprintf(spec, sizeof spec, "%.*s", (int)strcspn(listen, ","), listen);
    char *rest = spec, *colon = strchr(spec, ':');
    if (colon && colon > spec) {
        int alpha = 1;
        for (char *p = spec; p < colon; p++)
            alpha &= isalnum((unsigned char)*p) != 0;
        if (alpha && isalpha((unsigned char)spec[0])) {
            snprintf(domain, sizeof domain, "%.*s", (int)(colon - spec), spec);
            for (char *p = domain; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            rest = colon + 1;
        }
    }
    if (strcmp(domain, "unix") == 0) { /* a socket path: as it is */
        snprintf(out, len, "unix:%s", rest);
        return;
    }
    int v6 = strchr(domain, '6') != NULL;
    if (rest[0] == '[') { /* [ADDR]:PORT */
        char *end = strchr(rest, ']');
        if (end) {
            snprintf(host, sizeof host, "%.*s", (int)(end - rest - 1), rest + 1);
            if (end[1] == ':') snprintf(port, sizeof port, "%.15s", end + 2);
        }
        v6 = 1;
    } else if (rest[0] && strspn(rest, "0123456789") == strlen(rest)) {
        snprintf(port, sizeof port, "%.15s", rest); /* a port alone */
    } else {
        char *c = strrchr(rest, ':');
        if (c && c[1] && strspn(c + 1, "0123456789") == strlen(c + 1)) {
            snprintf(port, sizeof port, "%.15s", c + 1);
            *c = 0;
        }
        snprintf(host, sizeof host, "%.127s", rest);
    }
    if (!host[0] || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0 ||
        strcmp(host, "::") == 0)
        snprintf(host, sizeof host, "%s", v6 ? "::1" : "127.0.0.1");
    if (v6 || strchr(host, ':'))
        snprintf(out, len, "%s:[%s]:%s", domain, host, port);
    else
        snprintf(out, len, "%s:%s:%s", domain, host, port);
}

static int set_user(netsnmp_session *ss, const ow_snmp_user_t *u, char *err, size_t errlen)
{
    const oid *ap = usmHMACSHA1AuthProtocol;
    if (strcmp(u->auth, "MD5") == 0)
        ap = usmHMACMD5AuthProtocol;
    else if (strcmp(u->auth, "SHA-256") == 0)
        ap = usmHMAC192SHA256AuthProtocol;
    else if (strcmp(u->auth, "SHA-512") == 0)
        ap = usmHMAC384SHA512AuthProtocol;
    ss->version = SNMP_VERSION_3;
    ss->securityName = (char *)u->name;
    ss->securityNameLen = strlen(u->name);
    ss->securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
    ss->securityAuthProto = snmp_duplicate_objid(ap, USM_AUTH_PROTO_SHA_LEN);
    ss->securityAuthProtoLen = USM_AUTH_PROTO_SHA_LEN;
    ss->securityPrivProto =
        snmp_duplicate_objid(strcmp(u->priv, "DES") == 0 ? usmDESPrivProtocol : usmAESPrivProtocol,
                             USM_PRIV_PROTO_AES_LEN);
    ss->securityPrivProtoLen = USM_PRIV_PROTO_AES_LEN;
    ss->securityAuthKeyLen = USM_AUTH_KU_LEN;
    ss->securityPrivKeyLen = USM_PRIV_KU_LEN;
    /* The privacy key is made with the authentication hash, as
     * snmpcmd -X does. */
    if (generate_Ku(ap, USM_AUTH_PROTO_SHA_LEN, (const u_char *)u->auth_pass, strlen(u->auth_pass),
                    ss->securityAuthKey, &ss->securityAuthKeyLen) != SNMPERR_SUCCESS ||
        generate_Ku(ap, USM_AUTH_PROTO_SHA_LEN, (const u_char *)u->priv_pass, strlen(u->priv_pass),
                    ss->securityPrivKey, &ss->securityPrivKeyLen) != SNMPERR_SUCCESS) {
        snprintf(err, errlen, "cannot make the keys of user %s (%s)", u->name, u->auth);
        return -1;
    }
    return 0;
}

static int row_oid(const char *name, int inst, oid *o, size_t *len)
{
    int r = ow_snmp_find(name);
    if (r < 0) return -1;
    size_t n = 0;
    for (int i = 0; i < OW_SNMP_ROOTN; i++)
        o[n++] = ow_snmp_root[i];
    for (int i = 0; i < OW_SNMP_MAXSUB && ow_snmp_oids[r].sub[i]; i++)
        o[n++] = (oid)ow_snmp_oids[r].sub[i];
    o[n++] = (oid)inst;
    *len = n;
    return 0;
}

enum { Q_NUM, Q_STATUS, Q_VOLT, Q_STATE, NQ };
static const struct {
    const char *name;
    int inst;
} query[NQ] = {
    {"bacsNumBatteries", 0}, {"bacsStatus", 0}, {"bacsModuleVoltage", 1}, {"bacsModuleState", 1}};

/* One gateway: 0 healthy, 1 not; a line on out either way. */
static int ask(const ow_snmpd_cfg_t *cfg, const char *peer, const ow_gateway_cfg_t *g, FILE *out)
{
    netsnmp_session ss, *sp;
    char community[128], err[256];
    snmp_sess_init(&ss);
    ss.peername = (char *)peer;
    ss.timeout = 2000000; /* µs; one retry */
    ss.retries = 1;
    if (cfg->community[0]) {
        snprintf(community, sizeof community, "%s@%s", cfg->community, g->id);
        ss.version = SNMP_VERSION_2c;
        ss.community = (u_char *)community;
        ss.community_len = strlen(community);
    } else {
        if (set_user(&ss, &cfg->users[0], err, sizeof err) < 0) {
            fprintf(out, "snmpd %s: %s\n", g->id, err);
            free(ss.securityAuthProto);
            free(ss.securityPrivProto);
            return 1;
        }
        ss.contextName = (char *)g->id;
        ss.contextNameLen = strlen(g->id);
    }
    const char *how = cfg->community[0] ? "v2c" : "v3";
    sp = snmp_open(&ss);
    free(ss.securityAuthProto);
    free(ss.securityPrivProto);
    if (!sp) {
        /* v3: the engine ID is learnt when the session opens, so an agent
         * that does not answer (or refuses the user) fails here. */
        char *msg = NULL;
        snmp_error(&ss, NULL, NULL, &msg);
        fprintf(out, "snmpd %s: no %s answer from %s (%s)\n", g->id, how, peer,
                msg ? msg : "cannot open a session");
        free(msg);
        return 1;
    }
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET), *resp = NULL;
    for (int q = 0; q < NQ; q++) {
        oid o[MAX_OID_LEN];
        size_t n;
        if (row_oid(query[q].name, query[q].inst, o, &n) == 0) snmp_add_null_var(pdu, o, n);
    }
    int bad = 1, st = snmp_synch_response(sp, pdu, &resp);
    if (st != STAT_SUCCESS || !resp) {
        char *msg = NULL;
        snmp_error(sp, NULL, NULL, &msg);
        fprintf(out, "snmpd %s: no %s answer from %s (%s)\n", g->id, how, peer,
                st == STAT_TIMEOUT ? "timeout"
                : msg              ? msg
                                   : "error");
        free(msg);
    } else if (resp->errstat != SNMP_ERR_NOERROR) {
        fprintf(out, "snmpd %s: %s answers %s\n", g->id, peer, snmp_errstring((int)resp->errstat));
    } else {
        long val[NQ];
        int have[NQ] = {0};
        int q = 0;
        for (netsnmp_variable_list *v = resp->variables; v && q < NQ; v = v->next_variable, q++)
            if (v->type == ASN_INTEGER && v->val.integer) {
                val[q] = *v->val.integer;
                have[q] = 1;
            }
        if (!have[Q_NUM])
            fprintf(out, "snmpd %s: %s answers, but without bacsNumBatteries\n", g->id, peer);
        else if (!have[Q_VOLT] || val[Q_VOLT] == OW_SNMP_NO_READING)
            fprintf(out,
                    "snmpd %s: answers (%ld modules), but module 1 has no current reading "
                    "(bacsModuleState 0x%lx)\n",
                    g->id, val[Q_NUM], have[Q_STATE] ? (unsigned long)val[Q_STATE] : 0ul);
        else {
            fprintf(out, "snmpd %s: healthy, %s on %s, %ld modules, module 1 at %.2f V\n", g->id,
                    how, peer, val[Q_NUM], val[Q_VOLT] * 0.01);
            bad = 0;
        }
    }
    if (resp) snmp_free_pdu(resp);
    snmp_close(sp);
    return bad;
}

int ow_health_snmpd(const ow_site_t *site, const char *gw, FILE *out)
{
    static ow_snmpd_cfg_t cfg; /* 6 KB: off the stack */
    char err[512], peer[300];
    if (ow_site_snmpd(site, &cfg, err, sizeof err) < 0) {
        fprintf(out, "snmpd: %s\n", err);
        return 1;
    }
    if (!cfg.community[0] && cfg.nusers == 0) {
        fprintf(out, "snmpd: no v2c community and no SNMPv3 user in services.snmpd: nobody, "
                     "this check included, can read it\n");
        return 1;
    }
    ow_health_snmp_peer(cfg.listen, peer, sizeof peer);
    /* A client with no configuration files, MIBs or persistent state: it
     * runs in read-only containers and must not pick up ~/.snmp. */
    setenv("MIBS", "", 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    init_snmp(appname);
    int bad = 0;
    for (int i = 0; i < site->ngateways; i++)
        if (!gw || strcmp(gw, site->gateways[i].id) == 0)
            bad |= ask(&cfg, peer, &site->gateways[i], out);
    snmp_shutdown(appname);
    return bad;
}
