/* ohmwatch-snmpd: one net-snmp handler at 1.3.6.1.2.1.33.5 per gateway
 * context answers GET/GETNEXT from the gateway's sorted image (view.c) and
 * turns SETs of settings (the levels, the temperature unit, the impedance
 * interval: all alarmd's) into alarmd control requests.
 * net-snmp's own select loop is driven by hand so that the ZeroMQ
 * subscriber (readings, alarms, settings) is drained between requests.
 *
 * Access control is net-snmp's VACM, configured from services.snmpd
 * (snmpcfg.c); in AgentX mode the master decides who may do what. */
#include "agent.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "oidtab.h"
#include "ow_clock.h"
#include "ow_cmd.h"
#include "ow_ctl.h"
#include "ow_daemon.h"
#include "ow_log.h"
#include "ow_quiet.h"
#include "ow_sub.h"
#include "snmpcfg.h"
#include "view.h"

#define MAX_SET 64 /* varbinds in one SET */
/* net-snmp handles one PDU at a time: while a SET waits for alarmd, every
 * other manager waits too. So a SET is forwarded only to an alarmd known
 * to answer, and waits at most SET_WAIT_MS (alarmd answers in a few ms,
 * its fsync included); a probe in the loop, that never waits, says when
 * alarmd is up, and when it restarted (its epoch), to fetch its settings. */
#define SET_WAIT_MS     500
#define PROBE_EVERY_MS  1000
#define PROBE_LATE_MS   1500 /* no answer by then: alarmd is down */
#define PROBE_RESEND_MS 5000 /* a probe lost with a dying alarmd is sent again */

/* In libnetsnmpagent (mibgroup/mibII/vacm_conf.c) but its header is not
 * installed: registers the VACM directives (com2sec, group, access, view)
 * and the access check callback. */
void init_vacm_conf(void);
/* libnetsnmpmibs (mibgroup/mibII/system_mib.c), header not installed either:
 * the system group, so sysUpTime (bacsAlarmTime's clock) can be read. */
void init_system_mib(void);

typedef struct {
    ow_snmpd_t *d;
    int gi;
} regctx_t;

struct ow_snmpd {
    ow_site_t *site;
    ow_snmpd_cfg_t cfg;
    ow_alarmd_cfg_t acfg;
    ow_snmp_view_t *views;
    regctx_t *regs;
    ow_sub_t *sub;
    int started; /* net-snmp initialised */
    /* alarmd's liveness (the probe) */
    ow_ctl_async_t *probe;
    int alarmd_up, probe_out, link;
    uint64_t alarmd_epoch;
    int64_t probe_sent_us, probe_due_us;
    uint64_t refreshes;
    int64_t *cfg_ts;   /* per gateway: alarmd's time of the newest setting applied */
    ow_quiet_t *quiet; /* per gateway: its busd's silence */
    int *quiet_src;    /* per gateway: its busd's source index in sub */
    uint64_t quiet_events;
    char set_user[OW_ID_MAX]; /* the SNMPv3 user of the SET in progress */
    /* a SET between RESERVE2 and COMMIT/FREE */
    ow_snmp_set_t set[MAX_SET];
    int nset, set_applied;
    uint64_t gets, sets_ok, sets_refused, traps;
};

static const char *const appname = "ohmwatch-snmpd";

/* ---- GET / GETNEXT ---- */

static int to_u32(const oid *o, size_t len, uint32_t *out)
{
    int n = len > OW_SNMP_OIDMAX ? OW_SNMP_OIDMAX : (int)len;
    for (int i = 0; i < n; i++)
        out[i] = o[i] > UINT32_MAX ? UINT32_MAX : (uint32_t)o[i];
    return n;
}

static void put_value(netsnmp_variable_list *vb, const ow_snmp_vb_t *e)
{
    switch (e->type) {
    case OW_T_GAUGE:
    case OW_T_TICKS: {
        u_long u = e->val < 0 ? 0 : (u_long)e->val;
        snmp_set_var_typed_value(vb, e->type == OW_T_GAUGE ? ASN_GAUGE : ASN_TIMETICKS, &u,
                                 sizeof u);
        break;
    }
    case OW_T_OID: {
        oid o[OW_SNMP_ROOTN + 3];
        for (int i = 0; i < OW_SNMP_ROOTN; i++)
            o[i] = ow_snmp_root[i];
        o[OW_SNMP_ROOTN] = 3;
        o[OW_SNMP_ROOTN + 1] = 3;
        o[OW_SNMP_ROOTN + 2] = (oid)e->val;
        snmp_set_var_typed_value(vb, ASN_OBJECT_ID, o, sizeof o);
        break;
    }
    default: {
        long l = e->val;
        snmp_set_var_typed_value(vb, ASN_INTEGER, &l, sizeof l);
    }
    }
}

static void answer_get(ow_snmp_view_t *v, netsnmp_agent_request_info *ri, netsnmp_request_info *r,
                       int next)
{
    uint32_t o[OW_SNMP_OIDMAX];
    int len = to_u32(r->requestvb->name, r->requestvb->name_length, o);
    const ow_snmp_vb_t *e = NULL;
    if (!next || r->inclusive) e = ow_snmp_view_get(v, o, len);
    if (next && !e) e = ow_snmp_view_next(v, o, len);
    if (!e) {
        /* GETNEXT past our last instance: left unanswered, net-snmp moves on
         * to the next registration. */
        if (!next)
            netsnmp_set_request_error(
                ri, r, ow_snmp_row_of(o, len) >= 0 ? SNMP_NOSUCHINSTANCE : SNMP_NOSUCHOBJECT);
        return;
    }
    if (next) {
        oid name[OW_SNMP_OIDMAX];
        for (int i = 0; i < e->len; i++)
            name[i] = e->o[i];
        snmp_set_var_objid(r->requestvb, name, e->len);
    }
    put_value(r->requestvb, e);
}

/* ---- SET ---- */

static int set_error(int code)
{
    static const int map[] = {[OW_SET_OK] = SNMP_ERR_NOERROR,
                              [OW_SET_NOT_WRITABLE] = SNMP_ERR_NOTWRITABLE,
                              [OW_SET_WRONG_VALUE] = SNMP_ERR_WRONGVALUE,
                              [OW_SET_INCONSISTENT] = SNMP_ERR_INCONSISTENTVALUE};
    return map[code];
}

static void alarmd_down(ow_snmpd_t *d, const char *why)
{
    if (d->alarmd_up) log_warnx("alarmd is not answering (%s): SETs refused until it is back", why);
    d->alarmd_up = 0;
}

/* One "set KEY VALUE" to alarmd on behalf of the SET's user (the audit
 * trail's "snmpd/USER"); 0 accepted, 1 refused, -1 no answer. */
static int alarmd_set(ow_snmpd_t *d, int gi, const char *key, double value, char *why, size_t len)
{
    ow_control_t req = ow_cmd_control(OW_CMD_SET, key, value, 0, "snmpd");
    ow_reply_t rep;
    snprintf(req.user, sizeof req.user, "%s", d->set_user);
    if (!d->alarmd_up) {
        snprintf(why, len, "alarmd is not answering");
        return -1;
    }
    if (ow_ctl_call(d->acfg.control_connect, d->site->gateways[gi].id, &req, SET_WAIT_MS, &rep,
                    NULL, NULL, why, len) < 0) {
        alarmd_down(d, why);
        return -1;
    }
    if (!rep.ok) snprintf(why, len, "%s", rep.error);
    return rep.ok ? 0 : 1;
}

static void refuse(ow_snmpd_t *d, netsnmp_agent_request_info *ri, netsnmp_request_info *r, int err,
                   const char *why)
{
    char name[256];
    snprint_objid(name, sizeof name, r->requestvb->name, r->requestvb->name_length);
    log_warnx("SET %s from %s refused (%s): %s", name,
              ri->asp && ri->asp->pdu && ri->asp->pdu->securityName ? ri->asp->pdu->securityName
                                                                    : "?",
              snmp_errstring(err), why);
    d->sets_refused++;
    netsnmp_set_request_error(ri, r, err);
}

/* Undo the first n settings of the SET in progress, last first. */
static void put_back(ow_snmpd_t *d, int gi, int n)
{
    char why[256];
    for (int k = n - 1; k >= 0; k--) {
        const char *key = ow_snmp_oids[d->set[k].row].key;
        if (alarmd_set(d, gi, key, d->set[k].old, why, sizeof why) != 0)
            log_warnx("undo of %s failed: %s", key, why);
    }
}

/* The SET's SNMPv3 user (securityName), if it is an id the protocol can
 * carry (snmpcfg.c allows only such names); a v2c community never SETs. */
static void set_user(ow_snmpd_t *d, netsnmp_agent_request_info *ri)
{
    const char *u = ri->asp && ri->asp->pdu ? ri->asp->pdu->securityName : NULL;
    d->set_user[0] = '\0';
    if (!u || strlen(u) >= sizeof d->set_user) return;
    for (const char *p = u; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.-", *p)) return;
    snprintf(d->set_user, sizeof d->set_user, "%s", u);
}

static void handle_set(ow_snmpd_t *d, int gi, netsnmp_agent_request_info *ri,
                       netsnmp_request_info *reqs)
{
    ow_snmp_view_t *v = &d->views[gi];
    char why[256];
    netsnmp_request_info *r;
    int i;

    switch (ri->mode) {
    case MODE_SET_RESERVE1: {
        int n = 0;
        for (r = reqs; r; r = r->next)
            n++;
        if (n > MAX_SET) {
            snprintf(why, sizeof why, "%d varbinds in one SET, at most %d", n, MAX_SET);
            refuse(d, ri, reqs, SNMP_ERR_RESOURCEUNAVAILABLE, why);
            return;
        }
        for (r = reqs; r; r = r->next) {
            uint32_t o[OW_SNMP_OIDMAX];
            int len = to_u32(r->requestvb->name, r->requestvb->name_length, o);
            int row = ow_snmp_row_of(o, len);
            if (row < 0 || !ow_snmp_view_get(v, o, len)) {
                refuse(d, ri, r, row < 0 ? SNMP_ERR_NOCREATION : SNMP_ERR_NOTWRITABLE,
                       "no such object instance");
                return;
            }
            if (ow_snmp_oids[row].access == OW_A_RW && r->requestvb->type != ASN_INTEGER) {
                refuse(d, ri, r, SNMP_ERR_WRONGTYPE, "an INTEGER is expected");
                return;
            }
            ow_snmp_set_t s = {.row = row};
            if (r->requestvb->type == ASN_INTEGER) s.wire = (int32_t)*r->requestvb->val.integer;
            int rc = ow_snmp_set_check(v, &s, why, sizeof why);
            if (rc != OW_SET_OK) {
                refuse(d, ri, r, set_error(rc), why);
                return;
            }
        }
        break;
    }
    case MODE_SET_RESERVE2:
        d->nset = 0;
        d->set_applied = 0;
        set_user(d, ri);
        for (r = reqs; r; r = r->next) { /* at most MAX_SET: RESERVE1 */
            uint32_t o[OW_SNMP_OIDMAX];
            int len = to_u32(r->requestvb->name, r->requestvb->name_length, o);
            int row = ow_snmp_row_of(o, len);
            ow_snmp_set_t *s = &d->set[d->nset++];
            *s = (ow_snmp_set_t){.row = row, .wire = (int32_t)*r->requestvb->val.integer};
            ow_snmp_set_check(v, s, why, sizeof why);
        }
        if (ow_snmp_set_plan(v, d->set, d->nset, why, sizeof why) != OW_SET_OK) {
            refuse(d, ri, reqs, SNMP_ERR_INCONSISTENTVALUE, why);
            d->nset = 0;
        }
        break;
    case MODE_SET_ACTION:
        /* alarmd applies one key at a time, in the planned order; on a refusal
         * (alarmd's settings moved under us) what was applied is put back. */
        for (i = 0; i < d->nset; i++) {
            const char *key = ow_snmp_oids[d->set[i].row].key;
            int rc = alarmd_set(d, gi, key, d->set[i].value, why, sizeof why);
            if (rc != 0) {
                put_back(d, gi, i);
                refuse(d, ri, reqs,
                       rc < 0 ? SNMP_ERR_RESOURCEUNAVAILABLE : SNMP_ERR_INCONSISTENTVALUE, why);
                d->nset = 0;
                return;
            }
        }
        d->set_applied = 1;
        break;
    case MODE_SET_COMMIT:
        /* alarmd took them: served at once, before its config event comes */
        for (i = 0; i < d->nset; i++) {
            ow_snmp_view_setting(v, ow_snmp_oids[d->set[i].row].key, d->set[i].value);
            log_info("SET %s.0 = %d by %s: %s = %g (was %g)", ow_snmp_oids[d->set[i].row].name,
                     d->set[i].wire, d->set_user[0] ? d->set_user : "?",
                     ow_snmp_oids[d->set[i].row].key, d->set[i].value, d->set[i].old);
        }
        if (d->nset) d->sets_ok++;
        v->reshaped = 1; /* the next GET sees it */
        d->nset = 0;
        break;
    case MODE_SET_UNDO:
        /* Another handler in the same PDU failed after our ACTION. */
        if (d->set_applied) put_back(d, gi, d->nset);
        d->nset = 0;
        break;
    default: /* FREE */
        d->nset = 0;
        break;
    }
}

static int handler(netsnmp_mib_handler *h, netsnmp_handler_registration *reg,
                   netsnmp_agent_request_info *ri, netsnmp_request_info *reqs)
{
    (void)reg;
    regctx_t *rc = h->myvoid;
    ow_snmpd_t *d = rc->d;
    ow_snmp_view_t *v = &d->views[rc->gi];

    if (ri->mode == MODE_GET || ri->mode == MODE_GETNEXT) {
        ow_snmp_view_refresh(v, ow_mono_us());
        for (netsnmp_request_info *r = reqs; r; r = r->next) {
            if (r->processed) continue;
            answer_get(v, ri, r, ri->mode == MODE_GETNEXT);
            d->gets++;
        }
        return SNMP_ERR_NOERROR;
    }
    handle_set(d, rc->gi, ri, reqs);
    return SNMP_ERR_NOERROR;
}

/* ---- notifications ---- */

static const oid snmptrap_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};

static void add_col(netsnmp_variable_list **vars, int col, const ow_snmp_vb_t *val, uint64_t id)
{
    oid name[OW_SNMP_ROOTN + 4];
    for (int i = 0; i < OW_SNMP_ROOTN; i++)
        name[i] = ow_snmp_root[i];
    name[OW_SNMP_ROOTN] = 3;
    name[OW_SNMP_ROOTN + 1] = 2;
    name[OW_SNMP_ROOTN + 2] = 1;
    name[OW_SNMP_ROOTN + 3] = (oid)col;
    netsnmp_variable_list *vb =
        snmp_varlist_add_variable(vars, name, OW_SNMP_ROOTN + 4, ASN_NULL, NULL, 0);
    if (!vb) return;
    oid full[OW_SNMP_ROOTN + 5];
    memcpy(full, name, sizeof name);
    full[OW_SNMP_ROOTN + 4] = (oid)id;
    snmp_set_var_objid(vb, full, OW_SNMP_ROOTN + 5);
    put_value(vb, val);
}

/* bacsTrapAlarmEntryAdded / Removed with the alarm's row, in the gateway's
 * context (SNMPv3 informs carry it; v2c traps cannot). */
static void notify(ow_snmpd_t *d, int gi, const ow_snmp_change_t *ch)
{
    netsnmp_variable_list *vars = NULL;
    oid trap[OW_SNMP_ROOTN + 2];
    for (int i = 0; i < OW_SNMP_ROOTN; i++)
        trap[i] = ow_snmp_root[i];
    trap[OW_SNMP_ROOTN] = 4;
    trap[OW_SNMP_ROOTN + 1] = ch->what == 1 ? 1 : 2;
    snmp_varlist_add_variable(&vars, snmptrap_oid, OID_LENGTH(snmptrap_oid), ASN_OBJECT_ID, trap,
                              sizeof trap);
    ow_snmp_vb_t id = {.type = OW_T_INT, .val = (int32_t)ch->alarm.id};
    ow_snmp_vb_t descr = {.type = OW_T_OID, .val = ch->alarm.type};
    ow_snmp_vb_t when = {.type = OW_T_TICKS, .val = (int32_t)ch->alarm.ticks};
    add_col(&vars, 1, &id, ch->alarm.id);
    add_col(&vars, 2, &descr, ch->alarm.id);
    add_col(&vars, 3, &when, ch->alarm.id);
    send_trap_vars_with_context(-1, -1, vars,
                                gi == d->cfg.default_gw ? "" : d->site->gateways[gi].id);
    snmp_free_varbind(vars);
    d->traps++;
    log_info("%s: alarm %llu (type %d) %s: notification sent", d->site->gateways[gi].id,
             (unsigned long long)ch->alarm.id, ch->alarm.type, ch->what == 1 ? "added" : "removed");
}

/* ---- input ---- */

static int gw_index(const ow_snmpd_t *d, const char *gw)
{
    for (int i = 0; i < d->site->ngateways; i++)
        if (strcmp(d->site->gateways[i].id, gw) == 0) return i;
    return -1;
}

/* Settings come two ways: alarmd's config events, and the answers to our
 * list requests, which may be older than an event already applied (a
 * refresh's answer still queued while a SET went through). A setting
 * older than the newest one applied (alarmd's clock) is not taken. */
static int settings_newer(ow_snmpd_t *d, int gi, const ow_msg_t *m)
{
    if (m->kind != OW_MSG_CONFIG) return 1;
    if (m->h.ts_us < d->cfg_ts[gi]) return 0;
    d->cfg_ts[gi] = m->h.ts_us;
    return 1;
}

static void snap_msg(void *ctx, const ow_msg_t *m)
{
    ow_snmpd_t *d = ctx;
    int gi = gw_index(d, m->h.gw);
    /* alarmd's copy of a silent gateway's readings is as old as ours was. */
    if (gi >= 0 && d->quiet[gi].quiet && (m->kind == OW_MSG_MODULE || m->kind == OW_MSG_STRING))
        return;
    /* alarmd holds the gateway as lost: the readings after it in the answer
     * are from before the loss. */
    if (gi >= 0 && ow_quiet_alarm_active(m) && !d->quiet[gi].quiet) {
        ow_quiet_set(&d->quiet[gi]);
        ow_snmp_view_quiet(&d->views[gi]);
        log_warnx("gateway %s: alarmd has its Communication lost: its blocks read no value "
                  "until its busd publishes",
                  d->site->gateways[gi].id);
    }
    if (gi >= 0 && settings_newer(d, gi, m)) ow_snmp_view_apply(&d->views[gi], m, 0);
}

/* A gateway whose busd fell silent publishes nothing, not even "no
 * answer": without this its rows would serve the last values heard as
 * current. alarmd raises Communication lost on the same rule (ow_quiet.h). */
static void heard(ow_snmpd_t *d, int gi, const ow_msg_t *m)
{
    int64_t now = ow_mono_us();
    double silent_s = (double)ow_quiet_for_us(&d->quiet[gi], now) / 1e6;
    if (ow_quiet_heard(&d->quiet[gi], m, now))
        log_info("gateway %s: its busd publishes again after %.1f s: rows follow its readings",
                 d->site->gateways[gi].id, silent_s);
}

static void check_quiet(ow_snmpd_t *d, int64_t now)
{
    for (int g = 0; g < d->site->ngateways; g++) {
        if (!ow_quiet_check(&d->quiet[g], now)) continue;
        ow_snmp_view_quiet(&d->views[g]);
        d->quiet_events++;
        log_warnx("gateway %s: no message from its busd for %.1f s: its blocks read no value "
                  "(-2147483648, Communication lost) and its string rows are absent until it "
                  "publishes again",
                  d->site->gateways[g].id, (double)ow_quiet_for_us(&d->quiet[g], now) / 1e6);
    }
}

static void drain(ow_snmpd_t *d)
{
    ow_delivery_t dv;
    /* One sysUpTime for the batch (at most 10 ms old): not a clock read per reading. */
    uint32_t ticks = d->started ? (uint32_t)netsnmp_get_agent_uptime() : 0;
    for (int k = 0; k < 2000 && ow_sub_recv(d->sub, &dv, 1) == 1; k++) {
        int gi = gw_index(d, dv.msg.h.gw);
        if (gi < 0) continue;
        if (dv.source == d->quiet_src[gi]) heard(d, gi, &dv.msg);
        if (!settings_newer(d, gi, &dv.msg)) continue;
        ow_snmp_change_t ch = ow_snmp_view_apply(&d->views[gi], &dv.msg, ticks);
        /* Alarms that came and went while snmpd was down (replayed) are in
         * the table already or gone: a manager resyncs by walking it. */
        if (ch.what && !dv.replayed && d->started) notify(d, gi, &ch);
    }
}

/* ---- alarmd's liveness: a probe that never waits ---- */

/* alarmd (re)started or came back: what it holds now (runtime settings
 * the site file does not have, active alarms) replaces what we served. */
static void refresh(ow_snmpd_t *d)
{
    char err[256];
    ow_control_t snap = ow_cmd_control(OW_CMD_SNAPSHOT, "", NAN, 0, "snmpd-refresh");
    if (ow_ctl_async_send(d->probe, NULL, &snap, err, sizeof err) < 0)
        log_warnx("refresh from alarmd: %s", err);
    for (int g = 0; g < d->site->ngateways; g++) {
        ow_control_t list = ow_cmd_control(OW_CMD_LIST, "", NAN, 0, "snmpd-refresh");
        if (ow_ctl_async_send(d->probe, d->site->gateways[g].id, &list, err, sizeof err) < 0)
            log_warnx("refresh from alarmd: %s", err);
    }
    d->refreshes++;
}

static void watch_alarmd(ow_snmpd_t *d, int64_t now)
{
    ow_reply_t r;
    uint64_t epoch = 0;
    char err[256];
    int got;
    /* every answer's messages (a refresh's settings and alarms) go to the
     * views; a probe's answer has none */
    int link = ow_ctl_async_link(d->probe);
    if (link == 0 && d->link != 0) {
        alarmd_down(d, "connection closed");
        d->probe_out = 0; /* a probe on the old connection is lost */
    } else if (link == 1 && d->link == 0)
        d->probe_due_us = now; /* back: ask at once */
    d->link = link;
    while ((got = ow_ctl_async_recv(d->probe, &r, &epoch, snap_msg, d)) != 0) {
        if (got < 0 || strcmp(r.req, "snmpd-probe") != 0) continue;
        d->probe_out = 0;
        if (!d->alarmd_up || (d->alarmd_epoch && epoch != d->alarmd_epoch)) {
            log_info("alarmd answers (epoch %llu%s): fetching its settings and alarms",
                     (unsigned long long)epoch,
                     d->alarmd_epoch && epoch != d->alarmd_epoch ? ", restarted" : "");
            d->alarmd_up = 1;
            refresh(d);
        }
        d->alarmd_epoch = epoch;
    }
    if (d->probe_out && now - d->probe_sent_us > PROBE_LATE_MS * 1000LL)
        alarmd_down(d, "no answer to the probe");
    if (d->probe_out && now - d->probe_sent_us > PROBE_RESEND_MS * 1000LL) d->probe_out = 0;
    if (!d->probe_out && now >= d->probe_due_us) {
        const char *key = ow_gateway_keys()[0];
        ow_control_t req = ow_cmd_control(OW_CMD_GET, key, NAN, 0, "snmpd-probe");
        if (ow_ctl_async_send(d->probe, d->site->gateways[0].id, &req, err, sizeof err) == 0) {
            d->probe_out = 1;
            d->probe_sent_us = now;
        }
        d->probe_due_us = now + PROBE_EVERY_MS * 1000LL;
    }
}

/* ---- setup ---- */

static void remember(void *ctx, const char *line)
{
    (void)ctx;
    netsnmp_config_remember((char *)line); /* net-snmp copies it */
}

static int start_netsnmp(ow_snmpd_t *d, int verbose, char *err, size_t errlen)
{
    const ow_snmpd_cfg_t *c = &d->cfg;
    char confdir[600];
    snprintf(confdir, sizeof confdir, "%s/conf", c->state_dir);
    if ((mkdir(c->state_dir, 0700) < 0 && errno != EEXIST) ||
        (mkdir(confdir, 0700) < 0 && errno != EEXIST)) {
        snprintf(err, errlen, "state_dir %s: %s", c->state_dir, strerror(errno));
        return -1;
    }
    snmp_enable_stderrlog();
    /* The agent needs no MIB files (and Debian ships only net-snmp's own,
     * which then complain about every missing import). */
    setenv("MIBS", "", 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID,
                           NETSNMP_DS_AGENT_DONT_LOG_TCPWRAPPERS_CONNECTS, 1);
    if (verbose > 1) snmp_set_do_debugging(1);
    /* Our configuration only: the lines below, engineBoots and the engine
     * ID in state_dir; no /etc/snmp files. */
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_CONFIGURATION_DIR, confdir);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, c->state_dir);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 0);
    if (c->agentx[0]) {
        netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
        netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, c->agentx);
    } else {
        netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_PORTS, c->listen);
    }
    if (init_agent(appname) != 0) {
        snprintf(err, errlen, "net-snmp init_agent failed");
        return -1;
    }
    if (!c->agentx[0]) {
        init_vacm_conf();
        init_system_mib();
        /* sysObjectID and sysDescr: what an NMS's detection of a BACS
         * device reads (services.snmpd.sys_object_id, sys_descr). */
        char line[300];
        snprintf(line, sizeof line, "sysObjectID %s", c->sys_object_id);
        netsnmp_config_remember(line);
        snprintf(line, sizeof line, "sysDescr %s", c->sys_descr);
        netsnmp_config_remember(line);
        netsnmp_config_remember("sysServices 72");
        ow_snmpd_conf_lines(d->site, c, remember, NULL);
    }
    /* One registration per gateway context; the default context serves
     * default_gateway too. */
    oid root[OW_SNMP_ROOTN];
    for (int i = 0; i < OW_SNMP_ROOTN; i++)
        root[i] = ow_snmp_root[i];
    for (int g = -1; g < d->site->ngateways; g++) {
        int gi = g < 0 ? c->default_gw : g;
        netsnmp_handler_registration *reg = netsnmp_create_handler_registration(
            "bacs", handler, root, OW_SNMP_ROOTN, HANDLER_CAN_RWRITE);
        if (!reg) {
            snprintf(err, errlen, "net-snmp: cannot create a registration");
            return -1;
        }
        reg->handler->myvoid = &d->regs[gi];
        if (g >= 0) reg->contextName = strdup(d->site->gateways[g].id);
        if (netsnmp_register_handler(reg) != MIB_REGISTERED_OK) {
            snprintf(err, errlen, "net-snmp: cannot register %s in context '%s'", OW_SNMP_ROOT,
                     g >= 0 ? d->site->gateways[g].id : "");
            return -1;
        }
    }
    init_snmp(appname);
    if (!c->agentx[0] && init_master_agent() != 0) {
        snprintf(err, errlen, "cannot listen on %s (see the message above)", c->listen);
        return -1;
    }
    /* The engine ID and the engineBoots just counted up go to state_dir now,
     * as net-snmp's snmpd does, not only at a clean stop: after a crash or a
     * SIGKILL the agent keeps its engine ID (managers' cached keys stay
     * valid) and engineBoots still grows (USM's replay protection). */
    snmp_store(appname);
    d->started = 1;
    return 0;
}

ow_snmpd_t *ow_snmpd_new(const char *site_path, int verbose, char *err, size_t errlen)
{
    ow_snmpd_t *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->site = ow_site_load(site_path, err, errlen);
    if (!d->site || ow_site_snmpd(d->site, &d->cfg, err, errlen) < 0 ||
        ow_site_alarmd(d->site, &d->acfg, err, errlen) < 0)
        goto fail;
    int ng = d->site->ngateways;
    d->views = calloc((size_t)ng, sizeof *d->views);
    d->regs = calloc((size_t)ng, sizeof *d->regs);
    d->cfg_ts = calloc((size_t)ng, sizeof *d->cfg_ts);
    d->quiet = calloc((size_t)ng, sizeof *d->quiet);
    d->quiet_src = calloc((size_t)ng, sizeof *d->quiet_src);
    d->sub = ow_sub_new();
    if (!d->views || !d->regs || !d->cfg_ts || !d->quiet || !d->quiet_src || !d->sub) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int g = 0; g < ng; g++) {
        ow_snmp_view_init(&d->views[g], &d->site->gateways[g]);
        d->regs[g] = (regctx_t){d, g};
        ow_quiet_init(&d->quiet[g], ow_mono_us());
        d->quiet_src[g] = ow_sub_add(d->sub, d->site->gateways[g].publish_connect,
                                     d->site->gateways[g].replay_connect);
    }
    ow_sub_add(d->sub, d->acfg.publish_connect, d->acfg.replay_connect);
    ow_sub_subscribe(d->sub, "");
    /* Fill the views before answering: the snapshot (state words, active
     * alarms, latest readings) and the settings in force at alarmd. */
    ow_control_t snap = ow_cmd_control(OW_CMD_SNAPSHOT, "", NAN, 0, "snmpd");
    ow_reply_t r;
    char cerr[256];
    d->probe = ow_ctl_async_new(d->acfg.control_connect, err, errlen);
    d->link = -1;
    if (!d->probe) goto fail;
    if (ow_ctl_call(d->acfg.control_connect, NULL, &snap, 2000, &r, snap_msg, d, cerr,
                    sizeof cerr) < 0)
        log_warnx("no snapshot from alarmd (%s): the site file's settings until it answers", cerr);
    else
        for (int g = 0; g < ng; g++) {
            ow_control_t list = ow_cmd_control(OW_CMD_LIST, "", NAN, 0, "snmpd");
            if (ow_ctl_call(d->acfg.control_connect, d->site->gateways[g].id, &list, 2000, &r,
                            snap_msg, d, cerr, sizeof cerr) < 0)
                log_warnx("%s: no settings from alarmd (%s)", d->site->gateways[g].id, cerr);
            else
                d->alarmd_up = 1;
        }
    for (int g = 0; g < ng; g++)
        ow_snmp_view_build(&d->views[g]);
    if (start_netsnmp(d, verbose, err, errlen) < 0) goto fail;
    log_info("%s %s; %d gateway(s), default context: %s; v2c %s; %d v3 user(s); %d "
             "notification target(s)",
             d->cfg.agentx[0] ? "AgentX subagent of" : "listening on",
             d->cfg.agentx[0] ? d->cfg.agentx : d->cfg.listen, ng,
             d->site->gateways[d->cfg.default_gw].id, d->cfg.community[0] ? "read-only" : "off",
             d->cfg.nusers, d->cfg.nsinks);
    return d;
fail:
    ow_snmpd_destroy(&d);
    return NULL;
}

int ow_snmpd_run(ow_snmpd_t *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    int64_t last_drain = 0;
    while (!*stop) {
        ow_daemon_hup_refused(reload);
        int nfds = 0, block = 0;
        fd_set fds;
        struct timeval tv = {0, 10000};
        FD_ZERO(&fds);
        snmp_select_info(&nfds, &fds, &tv, &block);
        if (tv.tv_sec > 0 || tv.tv_usec > 10000) tv = (struct timeval){0, 10000};
        int n = select(nfds, &fds, NULL, NULL, &tv);
        if (n > 0)
            snmp_read(&fds);
        else if (n == 0)
            snmp_timeout();
        else if (errno != EINTR)
            break;
        run_alarms();
        netsnmp_check_outstanding_agent_requests();
        /* ow_sub_recv waits >= 1 ms: drained every 10 ms, not per request. */
        int64_t now = ow_mono_us();
        if (now - last_drain >= 10000) {
            last_drain = now;
            drain(d);
            check_quiet(d, now);
            watch_alarmd(d, now);
        }
    }
    log_info("stopping: %llu varbinds answered, %llu SETs applied, %llu refused, %llu "
             "notifications, %llu refreshes from alarmd, %llu gateway silences",
             (unsigned long long)d->gets, (unsigned long long)d->sets_ok,
             (unsigned long long)d->sets_refused, (unsigned long long)d->traps,
             (unsigned long long)d->refreshes, (unsigned long long)d->quiet_events);
    return 0;
}

void ow_snmpd_destroy(ow_snmpd_t **dp)
{
    ow_snmpd_t *d = *dp;
    if (!d) return;
    if (d->started) snmp_shutdown(appname);
    if (d->views)
        for (int g = 0; g < d->site->ngateways; g++)
            ow_snmp_view_free(&d->views[g]);
    free(d->views);
    free(d->regs);
    free(d->cfg_ts);
    free(d->quiet);
    free(d->quiet_src);
    ow_sub_destroy(&d->sub);
    ow_ctl_async_destroy(&d->probe);
    ow_site_destroy(&d->site);
    free(d);
    *dp = NULL;
}
