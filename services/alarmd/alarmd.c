/* alarmd's service loop; see alarmd.h. */
#include "alarmd.h"

#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "ow_auth.h"
#include "ow_clock.h"
#include "ow_cmd.h"
#include "ow_config.h"
#include "ow_digest.h"
#include "ow_log.h"
#include "ow_pub.h"
#include "ow_sub.h"
#include "ow_zsock.h"

/* Changes kept for `ohmwatch audit` without the historian (PostgreSQL's
 * audit_log keeps them all): a few months of an operator's work. */
#define AUDIT_KEEP 1000

/* Raw frames of the latest reading of one kind/source, for snapshots. */
typedef struct {
    char *topic, *body;
    size_t topic_len, body_len;
} frames_t;

typedef struct {
    frames_t mod[OW_MAX_MODULES + 1];
    frames_t str[OW_MAX_STRINGS + 1];
    frames_t aux, hb;
    /* GX_R_AUX outputs we commanded: level-triggered, so a command busd
     * missed (it was restarting) is sent again until its readings agree. */
    uint32_t out_mask, out_want;
    int64_t out_sent_mono;
} latest_t;

struct ow_alarmd {
    char site_path[512];
    ow_site_t *site;
    ow_alarmd_cfg_t cfg;
    ow_engine_t *engine;
    ow_pub_t *pub;
    ow_sub_t *sub;
    zsock_t *control;
    uint64_t refused_role; /* control requests beyond the key's roles */
    latest_t *latest;      /* one per gateway, site order */
    json_t *overrides;     /* {gw: {key: value}} set at runtime, persisted */
    json_t *audit;         /* the last AUDIT_KEEP changes, oldest first, persisted */
    int dirty;
    int must_save; /* an accepted setting waits for the state file before its reply */
    /* Audit records of changes not yet on disk: published by commit() after
     * the save that keeps them, so nobody hears of a change a crash loses. */
    struct pending_audit {
        ow_msg_t m;
        char gw[OW_ID_MAX];
    } * pending;
    size_t npending, pending_cap;
    int64_t last_save_mono;
    uint64_t requests, bad_requests, replies_dropped;
};

static int gw_index(const ow_alarmd_t *a, const char *gw)
{
    for (int i = 0; i < a->site->ngateways; i++)
        if (strcmp(a->site->gateways[i].id, gw) == 0) return i;
    return -1;
}

/* ---- engine sink: everything it reports is published ---- */

static void publish(ow_alarmd_t *a, ow_msg_t *m, const char *gw, int64_t ts_us)
{
    snprintf(m->h.gw, sizeof m->h.gw, "%s", gw);
    m->h.ts_us = ts_us;
    ow_pub_send(a->pub, m);
    a->dirty = 1;
}

/* ---- the audit trail: every change made through alarmd ---- */

static int save_state(ow_alarmd_t *a);

/* Who made a change: the requester's identity (ow_auth.h), and after it
 * the person a front-end says it acts for ("snmpd/nms"): the identity is
 * what authenticated, the user what it claims on someone's behalf, so
 * both are kept and neither replaces the other. */
static void who_of(const ow_peer_t *peer, const ow_control_t *c, char *out, size_t len)
{
    snprintf(out, len, "%s%s%s", peer->who, c->user[0] ? "/" : "", c->user);
}

static void fmt_num(char *out, size_t len, double v)
{
    if (isnan(v))
        out[0] = '\0';
    else
        snprintf(out, len, "%g", v);
}

/* Keep the change, persist it, then publish it as a config message (the
 * audit record): an accepted change and its record survive a crash, and
 * nobody hears of a change that could be lost. old/new are the values as
 * text, value/old_value the numbers if any. */
static void audit(ow_alarmd_t *a, const char *gw, const char *who, const char *source,
                  const char *key, double value, double old_value, const char *old_txt,
                  const char *new_txt)
{
    ow_msg_t m;
    ow_msg_init(&m, OW_MSG_CONFIG);
    snprintf(m.u.config.key, sizeof m.u.config.key, "%s", key);
    m.u.config.value = value;
    m.u.config.old_value = old_value;
    snprintf(m.u.config.source, sizeof m.u.config.source, "%s", source);
    snprintf(m.u.config.who, sizeof m.u.config.who, "%s", who);
    snprintf(m.u.config.old, sizeof m.u.config.old, "%s", old_txt);
    snprintf(m.u.config.new_, sizeof m.u.config.new_, "%s", new_txt);
    m.h.ts_us = ow_now_us();
    json_t *e = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "ts_us", (json_int_t)m.h.ts_us, "gw", gw,
                          "who", m.u.config.who, "key", m.u.config.key, "source", m.u.config.source,
                          "old", m.u.config.old, "new", m.u.config.new_);
    if (e) {
        json_object_set_new(e, "value", isnan(value) ? json_null() : json_real(value));
        json_object_set_new(e, "old_value", isnan(old_value) ? json_null() : json_real(old_value));
        json_array_append_new(a->audit, e);
        while (json_array_size(a->audit) > AUDIT_KEEP)
            json_array_remove(a->audit, 0);
    }
    a->must_save = 1;
    if (a->npending == a->pending_cap) {
        size_t cap = a->pending_cap ? a->pending_cap * 2 : 16;
        struct pending_audit *np = realloc(a->pending, cap * sizeof *np);
        if (np) {
            a->pending = np;
            a->pending_cap = cap;
        }
    }
    if (a->npending < a->pending_cap) {
        a->pending[a->npending].m = m;
        snprintf(a->pending[a->npending].gw, sizeof a->pending[0].gw, "%s", gw);
        a->npending++;
    } else {
        save_state(a); /* out of memory: the old way, one save per record */
        publish(a, &m, gw, m.h.ts_us);
    }
    log_info("%s %s: %s %s -> %s (%s)", gw, who, key, old_txt[0] ? old_txt : "-",
             new_txt[0] ? new_txt : "-", source);
}

/* One save for every change of a batch (group commit), then their audit
 * records go out: a burst of settings costs one fsync, and each is on disk
 * before anyone hears of it or gets its yes. */
static void commit(ow_alarmd_t *a)
{
    if (!a->must_save) return;
    a->must_save = 0;
    save_state(a);
    for (size_t i = 0; i < a->npending; i++)
        publish(a, &a->pending[i].m, a->pending[i].gw, a->pending[i].m.h.ts_us);
    a->npending = 0;
}

static void jstr(const json_t *e, const char *name, char *dst, size_t len)
{
    const char *v = json_string_value(json_object_get(e, name));
    snprintf(dst, len, "%s", v ? v : "");
}

/* An audit entry back into a config message (the "audit" request). */
static int audit_msg(const json_t *e, ow_msg_t *m, char *gw, size_t gwlen)
{
    ow_config_t *c = &m->u.config;
    ow_msg_init(m, OW_MSG_CONFIG);
    if (!json_is_string(json_object_get(e, "gw"))) return -1;
    jstr(e, "gw", gw, gwlen);
    jstr(e, "who", c->who, sizeof c->who);
    jstr(e, "key", c->key, sizeof c->key);
    jstr(e, "source", c->source, sizeof c->source);
    jstr(e, "old", c->old, sizeof c->old);
    jstr(e, "new", c->new_, sizeof c->new_);
    json_t *v = json_object_get(e, "value"), *o = json_object_get(e, "old_value");
    c->value = json_is_number(v) ? json_number_value(v) : NAN;
    c->old_value = json_is_number(o) ? json_number_value(o) : NAN;
    m->h.ts_us = json_integer_value(json_object_get(e, "ts_us"));
    return 0;
}

static void on_alarm(void *ctx, const char *gw, const ow_alarm_t *al, int64_t ts_us)
{
    ow_msg_t m;
    ow_msg_init(&m, OW_MSG_ALARM);
    m.u.alarm = *al;
    log_info("%s %s alarm %llu type %d string %d module %d: %s", gw, al->action,
             (unsigned long long)al->id, al->type, al->string, al->module, al->text);
    publish(ctx, &m, gw, ts_us);
}

static void on_state(void *ctx, const char *gw, const ow_state_t *s, int64_t ts_us)
{
    ow_msg_t m;
    ow_msg_init(&m, OW_MSG_STATE);
    m.u.state = *s;
    publish(ctx, &m, gw, ts_us);
}

static void on_discharge(void *ctx, const char *gw, const ow_discharge_t *d, int64_t ts_us)
{
    ow_msg_t m;
    ow_msg_init(&m, OW_MSG_DISCHARGE);
    m.u.discharge = *d;
    if (strcmp(d->action, "progress") == 0)
        log_debug("%s string %d discharge progress (%.0f s, time to go %.0f s)", gw, d->string,
                  d->duration_s, d->time_to_go_s);
    else
        log_info("%s string %d discharge %s (%.0f s, %.2f Ah, DoD %.1f %%%s)", gw, d->string,
                 d->action, d->duration_s, d->ah_removed, d->dod_pct,
                 d->test ? ", capacity test" : "");
    publish(ctx, &m, gw, ts_us);
}

static void on_baseline(void *ctx, const char *gw, const ow_baseline_t *b, int64_t ts_us)
{
    ow_msg_t m;
    ow_msg_init(&m, OW_MSG_BASELINE);
    m.u.baseline = *b;
    publish(ctx, &m, gw, ts_us);
}

static void on_command(void *ctx, const char *gw, const ow_control_t *c, int64_t ts_us)
{
    ow_alarmd_t *a = ctx;
    int gi = gw_index(a, gw);
    ow_msg_t m;
    if (gi >= 0 && strcmp(c->cmd, ow_cmd_name(OW_CMD_OUTPUT)) == 0 && c->index >= 1 &&
        c->index <= OW_AUX_POINTS) {
        uint32_t bit = 1u << (c->index - 1);
        a->latest[gi].out_mask |= bit;
        if (c->value != 0)
            a->latest[gi].out_want |= bit;
        else
            a->latest[gi].out_want &= ~bit;
        a->latest[gi].out_sent_mono = ow_mono_us();
    }
    ow_msg_init(&m, OW_MSG_CONTROL);
    m.u.control = *c;
    log_info("%s command %s %s index %d value %g", gw, c->cmd, c->key, c->index, c->value);
    publish(ctx, &m, gw, ts_us);
}

static const ow_engine_sink_t sink = {on_alarm, on_state, on_discharge, on_baseline, on_command};

/* ---- persistence: one JSON file, replaced atomically ---- */

static int save_state(ow_alarmd_t *a)
{
    json_t *root = json_object(), *pos = json_array();
    char tmp[600];

    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "engine", ow_engine_save(a->engine));
    json_object_set(root, "overrides", a->overrides);
    json_object_set(root, "audit", a->audit);
    for (int i = 0; i < a->site->ngateways; i++) {
        char pub[OW_ID_MAX];
        uint64_t epoch, seq;
        if (ow_sub_position(a->sub, i, pub, sizeof pub, &epoch, &seq) == 0)
            json_array_append_new(pos, json_pack("{s:s,s:I,s:I}", "pub", pub, "epoch",
                                                 (json_int_t)epoch, "seq", (json_int_t)seq));
    }
    json_object_set_new(root, "positions", pos);
    snprintf(tmp, sizeof tmp, "%s.tmp", a->cfg.state_file);
    int rc = json_dump_file(root, tmp, JSON_COMPACT);
    json_decref(root);
    if (rc == 0) {
        FILE *f = fopen(tmp, "r+");
        if (f) {
            fflush(f);
            fsync(fileno(f));
            fclose(f);
        }
        rc = rename(tmp, a->cfg.state_file);
    }
    if (rc != 0) {
        log_warn("cannot write state file %s", a->cfg.state_file);
        return -1;
    }
    a->dirty = 0;
    a->last_save_mono = ow_mono_us();
    return 0;
}

/* Apply persisted threshold overrides of one gateway on top of the site
 * file's values. Each key must pass the cross-key rules alone, so the order
 * matters (low_warn 14.5 may need its high_warn 15 applied first): retry the
 * refused ones until a pass changes nothing; what still fails under the
 * current file is dropped, with a warning. */
static void apply_overrides(ow_alarmd_t *a, const char *gw, const char *source)
{
    const ow_gateway_cfg_t *cur = ow_engine_gateway(a->engine, gw);
    json_t *o = json_object_get(a->overrides, gw), *v;
    const char *key;
    char err[256];
    if (!cur || !o) return;
    ow_gateway_cfg_t g = *cur;
    json_t *pending = json_copy(o);
    void *it;
    /* A hand-edited or damaged file: a value that is not a number is not
     * read as 0 (which disables some rules), it is dropped. */
    json_object_foreach_safe(pending, it, key, v)
    {
        if (json_is_number(v)) continue;
        log_warnx("%s: dropping saved setting %s: not a number", gw, key);
        json_object_del(o, key);
        json_object_del(pending, key);
    }
    for (int progress = 1; progress && json_object_size(pending);) {
        progress = 0;
        void *tmpit;
        json_object_foreach_safe(pending, tmpit, key, v)
        {
            if (ow_gateway_set(&g, key, json_number_value(v), err, sizeof err) == 0) {
                json_object_del(pending, key);
                progress = 1;
            }
        }
    }
    json_object_foreach(pending, key, v)
    {
        ow_gateway_set(&g, key, json_number_value(v), err, sizeof err);
        log_warnx("%s: dropping saved setting %s = %g: %s", gw, key, json_number_value(v), err);
        json_object_del(o, key);
    }
    json_decref(pending);
    json_object_foreach(o, key, v)
        log_info("%s: %s = %g (saved setting, %s)", gw, key, json_number_value(v), source);
    ow_engine_set_settings(a->engine, gw, &g);
}

static int load_state(ow_alarmd_t *a, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root;

    if (access(a->cfg.state_file, F_OK) != 0) return 0; /* first start */
    root = json_load_file(a->cfg.state_file, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        snprintf(err, errlen, "%s:%d:%d: %s", a->cfg.state_file, jerr.line, jerr.column,
                 root ? "not an object" : jerr.text);
        json_decref(root);
        return -1;
    }
    char eerr[400]; /* the engine names the place, we name the file */
    if (ow_engine_load(a->engine, json_object_get(root, "engine"), eerr, sizeof eerr) < 0) {
        snprintf(err, errlen, "%s: %s", a->cfg.state_file, eerr);
        json_decref(root);
        return -1;
    }
    json_t *ov = json_object_get(root, "overrides");
    if (json_is_object(ov)) {
        json_decref(a->overrides);
        a->overrides = json_deep_copy(ov);
    }
    json_t *au = json_object_get(root, "audit");
    if (json_is_array(au)) {
        json_decref(a->audit);
        a->audit = json_deep_copy(au);
    }
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(root, "positions"), i, p)
    {
        const char *pub = json_string_value(json_object_get(p, "pub"));
        json_int_t epoch = json_integer_value(json_object_get(p, "epoch"));
        json_int_t seq = json_integer_value(json_object_get(p, "seq"));
        /* A negative or missing number would become a huge position, and
         * every later message of that publisher a "duplicate": dropped. */
        if (!pub || !json_is_integer(json_object_get(p, "epoch")) ||
            !json_is_integer(json_object_get(p, "seq")) || epoch < 0 || seq < 0) {
            log_warnx("%s: positions[%zu] is not {pub, epoch >= 0, seq >= 0}: ignored, "
                      "that publisher is caught up from its journal",
                      a->cfg.state_file, i);
            continue;
        }
        ow_sub_resume(a->sub, pub, (uint64_t)epoch, (uint64_t)seq);
    }
    json_decref(root);
    for (int g = 0; g < a->site->ngateways; g++)
        apply_overrides(a, a->site->gateways[g].id, "state");
    log_info("state restored from %s", a->cfg.state_file);
    return 0;
}

/* ---- construction ---- */

ow_alarmd_t *ow_alarmd_new(const char *site_path, char *err, size_t errlen)
{
    ow_alarmd_t *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(a->site_path, sizeof a->site_path, "%s", site_path);
    a->overrides = json_object();
    a->audit = json_array();
    a->site = ow_site_load(site_path, err, errlen);
    if (!a->site || ow_site_alarmd(a->site, &a->cfg, err, errlen) < 0) goto fail;
    a->latest = calloc((size_t)a->site->ngateways, sizeof *a->latest);
    a->engine = ow_engine_new(a->site, &sink, a);
    a->sub = ow_sub_new();
    if (!a->latest || !a->engine || !a->sub) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int i = 0; i < a->site->ngateways; i++) {
        const ow_gateway_cfg_t *g = &a->site->gateways[i];
        if (ow_sub_add(a->sub, g->publish_connect, g->replay_connect) != i) {
            snprintf(err, errlen, "gateway %s: cannot connect to %s", g->id, g->publish_connect);
            goto fail;
        }
    }
    ow_sub_subscribe(a->sub, "");
    /* From a fresh start, take what busd still holds: alarms raised from
     * readings published before we ran are still alarms. */
    ow_sub_from_start(a->sub, 1);
    if (load_state(a, err, errlen) < 0) goto fail;
    a->pub = ow_pub_new("alarmd", a->cfg.publish, a->cfg.replay, (size_t)a->cfg.journal_messages,
                        err, errlen);
    if (!a->pub) goto fail;
    a->control = zsock_new(ZMQ_ROUTER);
    if (a->control) ow_zsock_limit(a->control, OW_ZSOCK_CONTROL);
    if (a->control && ow_auth_server(a->control, a->cfg.control, err, errlen) < 0) goto fail;
    if (!a->control || zsock_bind(a->control, "%s", a->cfg.control) < 0) {
        snprintf(err, errlen, "cannot bind control endpoint %s: %s", a->cfg.control,
                 zmq_strerror(errno));
        goto fail;
    }
    return a;
fail:
    ow_alarmd_destroy(&a);
    return NULL;
}

static void frames_free(frames_t *f)
{
    free(f->topic);
    free(f->body);
    memset(f, 0, sizeof *f);
}

void ow_alarmd_destroy(ow_alarmd_t **ap)
{
    ow_alarmd_t *a = *ap;
    if (!a) return;
    if (a->latest) {
        for (int i = 0; i < a->site->ngateways; i++) {
            latest_t *l = &a->latest[i];
            for (int m = 0; m <= OW_MAX_MODULES; m++)
                frames_free(&l->mod[m]);
            for (int s = 0; s <= OW_MAX_STRINGS; s++)
                frames_free(&l->str[s]);
            frames_free(&l->aux);
            frames_free(&l->hb);
        }
        free(a->latest);
    }
    zsock_destroy(&a->control);
    ow_pub_destroy(&a->pub);
    ow_sub_destroy(&a->sub);
    ow_engine_destroy(&a->engine);
    ow_site_destroy(&a->site);
    json_decref(a->overrides);
    json_decref(a->audit);
    free(a->pending);
    free(a);
    *ap = NULL;
}

/* ---- readings ---- */

static void keep(frames_t *f, const ow_delivery_t *d)
{
    char *t = realloc(f->topic, d->topic_len), *b = realloc(f->body, d->body_len);
    if (!t || !b) {
        f->topic = t ? t : f->topic;
        f->body = b ? b : f->body;
        return;
    }
    memcpy(t, d->topic, d->topic_len);
    memcpy(b, d->body, d->body_len);
    f->topic = t, f->body = b, f->topic_len = d->topic_len, f->body_len = d->body_len;
}

static void on_reading(ow_alarmd_t *a, const ow_delivery_t *d)
{
    int gi = gw_index(a, d->msg.h.gw);
    if (gi < 0) {
        log_debug("reading from unknown gateway %s", d->msg.h.gw);
        return;
    }
    latest_t *l = &a->latest[gi];
    switch (d->msg.kind) {
    case OW_MSG_MODULE:
        keep(&l->mod[d->msg.u.module.module], d);
        break;
    case OW_MSG_STRING:
        keep(&l->str[d->msg.u.string.string], d);
        break;
    case OW_MSG_AUX:
        keep(&l->aux, d);
        if (((d->msg.u.aux.outputs ^ l->out_want) & l->out_mask) &&
            ow_mono_us() - l->out_sent_mono > 1000000) {
            for (int o = 1; o <= OW_AUX_POINTS; o++) {
                uint32_t bit = 1u << (o - 1);
                if (!((d->msg.u.aux.outputs ^ l->out_want) & l->out_mask & bit)) continue;
                ow_control_t c =
                    ow_cmd_control(OW_CMD_OUTPUT, "", (l->out_want & bit) ? 1 : 0, o, "");
                log_warnx("%s: output %d still %s: sending the command again", d->msg.h.gw, o,
                          (l->out_want & bit) ? "off" : "on");
                on_command(a, d->msg.h.gw, &c, d->msg.h.ts_us);
            }
        }
        break;
    case OW_MSG_HEARTBEAT:
        keep(&l->hb, d);
        break;
    default:
        return;
    }
    ow_engine_feed(a->engine, &d->msg);
    a->dirty = 1;
}

/* ---- control requests ---- */

typedef struct {
    zmsg_t *extra; /* [topic, body] pairs appended to the reply */
    ow_reply_t r;
} answer_t;

/* Messages in an answer are copies of state, not part of the published
 * stream: they carry alarmd's epoch and seq 1. */
static void add_msg(ow_alarmd_t *a, answer_t *an, ow_msg_t *m, const char *gw)
{
    char topic[OW_TOPIC_MAX], body[OW_BODY_MAX], err[160];
    snprintf(m->h.gw, sizeof m->h.gw, "%s", gw);
    snprintf(m->h.pub, sizeof m->h.pub, "alarmd");
    m->h.epoch = ow_pub_epoch(a->pub);
    m->h.seq = 1;
    if (ow_topic(m, topic, sizeof topic) < 0 ||
        ow_encode(m, body, sizeof body, err, sizeof err) < 0)
        return;
    zmsg_addstr(an->extra, topic);
    zmsg_addstr(an->extra, body);
}

static void add_frames(answer_t *an, const frames_t *f)
{
    if (!f->topic) return;
    zmsg_addmem(an->extra, f->topic, f->topic_len);
    zmsg_addmem(an->extra, f->body, f->body_len);
}

static void refuse(answer_t *an, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(answer_t *an, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(an->r.error, sizeof an->r.error, fmt, ap);
    va_end(ap);
    an->r.ok = 0;
}

/* Every runtime setting of a gateway as config messages: the list
 * request's answer, and part of a snapshot, so that a front-end that
 * starts (or alarmd that restarted under it) shows what alarmd holds, the
 * temperature unit for one, not the site file's. */
static void add_settings(ow_alarmd_t *a, answer_t *an, int gi)
{
    const ow_gateway_cfg_t *g = ow_engine_gateway(a->engine, a->site->gateways[gi].id);
    for (const char *const *k = ow_gateway_keys(); *k; k++) {
        ow_msg_t cm;
        ow_msg_init(&cm, OW_MSG_CONFIG);
        snprintf(cm.u.config.key, sizeof cm.u.config.key, "%s", *k);
        ow_gateway_get(g, *k, &cm.u.config.value);
        snprintf(cm.u.config.source, sizeof cm.u.config.source, "control");
        cm.h.ts_us = ow_now_us();
        add_msg(a, an, &cm, g->id);
    }
}

static void snapshot(ow_alarmd_t *a, answer_t *an, int gi)
{
    const ow_gateway_cfg_t *g = &a->site->gateways[gi];
    const ow_state_t *st = ow_engine_state(a->engine, g->id);
    ow_msg_t m;
    int64_t now = ow_now_us();
    add_settings(a, an, gi);
    if (st) {
        ow_msg_init(&m, OW_MSG_STATE);
        m.u.state = *st;
        m.h.ts_us = now;
        add_msg(a, an, &m, g->id);
    }
    int n = ow_engine_active(a->engine, g->id, NULL, 0);
    ow_alarm_t *act = n > 0 ? calloc((size_t)n, sizeof *act) : NULL;
    if (act) {
        n = ow_engine_active(a->engine, g->id, act, n);
        for (int i = 0; i < n; i++) {
            ow_msg_init(&m, OW_MSG_ALARM);
            m.u.alarm = act[i];
            m.h.ts_us = act[i].raised_us;
            add_msg(a, an, &m, g->id);
        }
        free(act);
    }
    latest_t *l = &a->latest[gi];
    for (int i = 1; i <= g->nmodules; i++)
        add_frames(an, &l->mod[i]);
    for (int s = 1; s <= g->nstrings; s++)
        add_frames(an, &l->str[s]);
    add_frames(an, &l->aux);
    add_frames(an, &l->hb);
}

/* The gateway a request is about: named, or the only one. */
static int request_gw(ow_alarmd_t *a, const ow_msg_t *m, answer_t *an, int allow_all)
{
    if (!m->h.gw[0]) {
        if (a->site->ngateways == 1) return 0;
        if (allow_all) return -2; /* all */
        refuse(an, "the site has %d gateways: name one", a->site->ngateways);
        return -1;
    }
    int gi = gw_index(a, m->h.gw);
    if (gi < 0) refuse(an, "no gateway '%s' in the site", m->h.gw);
    return gi;
}

static void set_key(ow_alarmd_t *a, int gi, const ow_control_t *c, answer_t *an, const char *who)
{
    const char *gw = a->site->gateways[gi].id;
    ow_gateway_cfg_t g = *ow_engine_gateway(a->engine, gw);
    double old = NAN;
    if (ow_gateway_get(&g, c->key, &old) < 0) {
        refuse(an, "unknown key '%s'", c->key);
        return;
    }
    if (isnan(c->value)) {
        refuse(an, "%s: a value is needed", c->key);
        return;
    }
    if (ow_gateway_set(&g, c->key, c->value, an->r.error, sizeof an->r.error) < 0) {
        an->r.ok = 0;
        return;
    }
    ow_engine_set_settings(a->engine, gw, &g);
    json_t *o = json_object_get(a->overrides, gw);
    if (!o) {
        o = json_object();
        json_object_set_new(a->overrides, gw, o);
    }
    json_object_set_new(o, c->key, json_real(c->value));
    char ot[32], nt[32];
    ow_gateway_value_text(c->key, old, ot, sizeof ot);
    ow_gateway_value_text(c->key, c->value, nt, sizeof nt);
    /* persisted before the answer: an accepted setting survives a crash */
    audit(a, gw, who, "control", c->key, c->value, old, ot, nt);
    an->r.value = c->value;
}

/* A runtime setting dropped: the site file's value applies again, so a
 * later edit of the file takes effect (an override would hide it forever).
 * Judged like a set of the file's value against the settings in force. */
static void unset_key(ow_alarmd_t *a, int gi, const ow_control_t *c, answer_t *an, const char *who)
{
    const char *gw = a->site->gateways[gi].id;
    ow_gateway_cfg_t g = *ow_engine_gateway(a->engine, gw);
    double old = NAN, file = NAN;
    if (ow_gateway_get(&g, c->key, &old) < 0 ||
        ow_gateway_get(&a->site->gateways[gi], c->key, &file) < 0) {
        refuse(an, "unknown key '%s'", c->key);
        return;
    }
    json_t *o = json_object_get(a->overrides, gw);
    an->r.value = old;
    if (!o || !json_object_get(o, c->key)) return; /* nothing set at runtime: nothing to do */
    if (ow_gateway_set(&g, c->key, file, an->r.error, sizeof an->r.error) < 0) {
        an->r.ok = 0;
        return;
    }
    ow_engine_set_settings(a->engine, gw, &g);
    json_object_del(o, c->key);
    char ot[32], ft[32], nt[48];
    ow_gateway_value_text(c->key, old, ot, sizeof ot);
    snprintf(nt, sizeof nt, "%s (site file)", ow_gateway_value_text(c->key, file, ft, sizeof ft));
    audit(a, gw, who, "control", c->key, file, old, ot, nt);
    an->r.value = file;
}

static void do_unset(ow_alarmd_t *a, const ow_msg_t *m, const char *who, answer_t *an)
{
    int gi;
    if ((gi = request_gw(a, m, an, 0)) < 0) return;
    unset_key(a, gi, &m->u.control, an, who);
}

/* One handler per command of the table (proto/ow_cmd.h) that alarmd
 * takes; who is the sender as the audit trail names it. */
typedef void handler_fn(ow_alarmd_t *a, const ow_msg_t *m, const char *who, answer_t *an);

static void do_get(ow_alarmd_t *a, const ow_msg_t *m, const char *who, answer_t *an)
{
    const ow_control_t *c = &m->u.control;
    int gi;
    (void)who;
    if ((gi = request_gw(a, m, an, 0)) < 0) return;
    if (ow_gateway_get(ow_engine_gateway(a->engine, a->site->gateways[gi].id), c->key,
                       &an->r.value) < 0)
        refuse(an, "unknown key '%s'", c->key);
}

static void do_list(ow_alarmd_t *a, const ow_msg_t *m, const char *who, answer_t *an)
{
    int gi;
    (void)who;
    if ((gi = request_gw(a, m, an, 0)) < 0) return;
    add_settings(a, an, gi);
}

static void do_set(ow_alarmd_t *a, const ow_msg_t *m, const char *who, answer_t *an)
{
    int gi;
    if ((gi = request_gw(a, m, an, 0)) < 0) return;
    set_key(a, gi, &m->u.control, an, who);
}

static void do_ack(ow_alarmd_t *a, const ow_msg_t *m, const char *who, answer_t *an)
{
    const ow_control_t *c = &m->u.control;
    int gi;
    char key[64], nt[64];
    if ((gi = request_gw(a, m, an, 1)) == -1) return;
    /* per gateway: each audit record names the gateway it muted */
    int total = 0;
    if (c->index)
        snprintf(key, sizeof key, "ack.%d", c->index);
    else
        snprintf(key, sizeof key, "ack.all");
    for (int i = 0; i < a->site->ngateways; i++) {
        if (gi != -2 && gi != i) continue;
        int n = ow_engine_ack(a->engine, a->site->gateways[i].id, (uint64_t)c->index, ow_now_us());
        total += n;
        snprintf(nt, sizeof nt, "%d acknowledged", n);
        if (n) audit(a, a->site->gateways[i].id, who, "command", key, n, NAN, "active", nt);
    }
    an->r.value = total;
    if (c->index && total == 0) refuse(an, "no active alarm with id %d", c->index);
}

static void do_baseline(ow_alarmd_t *a, const ow_msg_t *m, const char *who, answer_t *an)
{
    const ow_control_t *c = &m->u.control;
    int gi;
    char key[64], nt[64], ot[64];
    if ((gi = request_gw(a, m, an, 0)) < 0) return;
    const char *gw = a->site->gateways[gi].id;
    double was = ow_engine_baseline(a->engine, gw, c->index);
    if (ow_engine_set_baseline(a->engine, gw, c->index, c->value) < 0) {
        refuse(an, "no module %d (or a baseline must be > 0 mOhm)", c->index);
        return;
    }
    /* a baseline change restarts the block's trend (a replacement) */
    snprintf(key, sizeof key, "baseline.module.%d", c->index);
    fmt_num(ot, sizeof ot, was);
    fmt_num(nt, sizeof nt, c->value);
    audit(a, gw, who, "command", key, c->value, was, ot[0] ? ot : "none", nt[0] ? nt : "reset");
    an->r.value = c->value;
}

static void do_captest(ow_alarmd_t *a, const ow_msg_t *m, const char *who, answer_t *an)
{
    const ow_control_t *c = &m->u.control;
    int gi;
    char key[64], nt[64];
    /* index: the string; value: rated time in h (10 if null); key:
     * "end_v_per_cell=V" or empty for 1.75 V/cell (docs/battery.md) */
    if ((gi = request_gw(a, m, an, 0)) < 0) return;
    double rated_h = isnan(c->value) ? 10.0 : c->value, end_v = 1.75;
    if (c->key[0] && sscanf(c->key, "end_v_per_cell=%lf", &end_v) != 1) {
        refuse(an, "captest key wants end_v_per_cell=V, not '%s'", c->key);
        return;
    }
    if (ow_engine_captest(a->engine, a->site->gateways[gi].id, c->index, rated_h, end_v) < 0) {
        refuse(an, "captest wants a string of the gateway, rated hours 0-1000 and an end "
                   "voltage 0-5 V/cell");
        return;
    }
    snprintf(key, sizeof key, "captest.string.%d", c->index);
    snprintf(nt, sizeof nt, "%g h to %.3f V/cell", rated_h, end_v);
    audit(a, a->site->gateways[gi].id, who, "command", key, rated_h, NAN, "", nt);
    an->r.value = rated_h;
}

static void do_output(ow_alarmd_t *a, const ow_msg_t *m, const char *who, answer_t *an)
{
    const ow_control_t *c = &m->u.control;
    int gi;
    char key[64];
    if ((gi = request_gw(a, m, an, 0)) < 0) return;
    if (c->index < 1 || c->index > OW_AUX_POINTS || !(c->value == 0 || c->value == 1)) {
        refuse(an, "output wants index 1-16 and value 0 or 1");
        return;
    }
    /* the old state is what alarmd last commanded; before any command
     * it is not known here (busd's aux readings say what it is) */
    const latest_t *l = &a->latest[gi];
    uint32_t bit = 1u << (c->index - 1);
    int known = (l->out_mask & bit) != 0, was_on = (l->out_want & bit) != 0;
    on_command(a, a->site->gateways[gi].id, c, ow_now_us());
    snprintf(key, sizeof key, "output.%d", c->index);
    audit(a, a->site->gateways[gi].id, who, "command", key, c->value, known ? was_on : NAN,
          known ? (was_on ? "on" : "off") : "unknown", c->value ? "on" : "off");
    an->r.value = c->value;
}

static void do_audit(ow_alarmd_t *a, const ow_msg_t *m, const char *who, answer_t *an)
{
    const ow_control_t *c = &m->u.control;
    int gi;
    (void)who;
    /* the last changes, oldest first; index: at most that many (0 all);
     * the gateway named, or all of them */
    if ((gi = request_gw(a, m, an, 1)) == -1) return;
    if (gi >= 0 && !m->h.gw[0]) gi = -2; /* one gateway: all the same */
    size_t n = json_array_size(a->audit), first = 0, i, count = 0;
    json_t *e;
    for (i = n; i-- > 0 && (!c->index || count < (size_t)c->index);) {
        const char *g = json_string_value(json_object_get(json_array_get(a->audit, i), "gw"));
        if (gi == -2 || (g && strcmp(g, a->site->gateways[gi].id) == 0)) count++;
        first = i;
    }
    json_array_foreach(a->audit, i, e)
    {
        ow_msg_t am;
        char g[OW_ID_MAX];
        if (i < first || audit_msg(e, &am, g, sizeof g) < 0) continue;
        if (gi != -2 && strcmp(g, a->site->gateways[gi].id) != 0) continue;
        add_msg(a, an, &am, g);
    }
    an->r.value = (double)count;
}

static void do_snapshot(ow_alarmd_t *a, const ow_msg_t *m, const char *who, answer_t *an)
{
    int gi;
    (void)who;
    if ((gi = request_gw(a, m, an, 1)) == -1) return;
    for (int i = 0; i < a->site->ngateways; i++)
        if (gi == -2 || gi == i) snapshot(a, an, i);
}

static int reload_site(ow_alarmd_t *a, ow_site_t *ns, const char *who);

/* The site file alarmd runs from, loaded; with want (16-63 hex digits)
 * only if its SHA-256 begins so: a restore names the file it wrote, so a
 * CLI whose -f is another file than alarmd's is told so before anything
 * changes, not after. NULL with err. */
static ow_site_t *load_expected(ow_alarmd_t *a, const char *want, char *err, size_t errlen)
{
    size_t wl = strlen(want);
    if (!wl) return ow_site_load(a->site_path, err, errlen);
    if (wl < 16 || strspn(want, "0123456789abcdef") != wl) {
        snprintf(err, errlen,
                 "reload's key is 16 to 63 lowercase hex digits of the SHA-256 of "
                 "the site file (or empty)");
        return NULL;
    }
    FILE *f = fopen(a->site_path, "rb");
    struct stat st;
    char *text = NULL, hex[OW_SHA256_HEX];
    size_t n = 0;
    /* the bound of a backup's site file (cli/backup.h) */
    if (f && fstat(fileno(f), &st) == 0 && st.st_size <= 4 * 1024 * 1024 &&
        (text = malloc((size_t)st.st_size + 1)))
        n = fread(text, 1, (size_t)st.st_size, f);
    if (f) fclose(f);
    if (!text || n != (size_t)st.st_size) {
        snprintf(err, errlen, "%.120s: cannot read it", a->site_path);
        free(text);
        return NULL;
    }
    ow_sha256_hex(text, n, hex);
    ow_site_t *ns = NULL;
    if (strncmp(hex, want, wl) != 0)
        snprintf(err, errlen,
                 "alarmd runs from %.48s, not the file named (SHA-256 %.16s..., not %.16s...)",
                 a->site_path, hex, want);
    else
        ns = ow_site_parse(text, n, a->site_path, err, errlen);
    free(text);
    return ns;
}

/* A restore (`ohmwatch restore`) wrote the site file and needs it in force
 * before it sets what the file does not hold: a command rather than SIGHUP,
 * because the operator may be on another host or another user than alarmd,
 * and because its answer says whether the file loaded. index 1 only checks
 * (the file alarmd runs from is the one named and loads, the sender may
 * configure). */
static void do_reload(ow_alarmd_t *a, const ow_msg_t *m, const char *who, answer_t *an)
{
    const ow_control_t *c = &m->u.control;
    char err[sizeof an->r.error];
    if (c->index != 0 && c->index != 1) {
        refuse(an, "reload wants index 0 (reload) or 1 (check only)");
        return;
    }
    ow_site_t *ns = load_expected(a, c->key, err, sizeof err);
    if (!ns) {
        refuse(an, "%s", err);
        return;
    }
    if (c->index == 1) {
        ow_site_destroy(&ns);
        an->r.value = 0;
        return;
    }
    an->r.value = reload_site(a, ns, who);
}

static handler_fn *const handlers[] = {
    [OW_CMD_GET] = do_get,       [OW_CMD_LIST] = do_list,         [OW_CMD_SET] = do_set,
    [OW_CMD_ACK] = do_ack,       [OW_CMD_BASELINE] = do_baseline, [OW_CMD_CAPTEST] = do_captest,
    [OW_CMD_OUTPUT] = do_output, [OW_CMD_AUDIT] = do_audit,       [OW_CMD_SNAPSHOT] = do_snapshot,
    [OW_CMD_RELOAD] = do_reload, [OW_CMD_UNSET] = do_unset,
};

static_assert(sizeof handlers / sizeof handlers[0] == OW_CMD_COUNT, "a handler per OW_CMD_*");

/* What each command needs of its sender's key is the table's (docs/
 * security.md): reading is free to any admitted key, acknowledging is an
 * operator's, changing how the battery is judged is an engineer's, and the
 * breaker output has a role of its own so that it can be given to few. */
static int permitted(const ow_cmd_t *cmd, const ow_peer_t *peer, answer_t *an)
{
    if (peer->roles & cmd->role) return 1;
    refuse(an, "%s may not %s: the key lacks the %s role", peer->who, cmd->name,
           ow_cmd_role_name(cmd->role));
    return 0;
}

static void handle_control(ow_alarmd_t *a, const ow_msg_t *m, const ow_peer_t *peer, answer_t *an)
{
    const ow_control_t *c = &m->u.control;
    const ow_cmd_t *cmd = ow_cmd_find(c->cmd);
    char who[OW_WHO_MAX + OW_ID_MAX + 2];

    who_of(peer, c, who, sizeof who);
    an->r.ok = 1;
    an->r.value = NAN;
    snprintf(an->r.req, sizeof an->r.req, "%s", c->req);
    if (!cmd || !(cmd->services & OW_CMD_ALARMD) || !handlers[ow_cmd_id(cmd)]) {
        char names[160];
        ow_cmd_names(OW_CMD_ALARMD, names, sizeof names);
        refuse(an, "unknown command '%s' (%s)", c->cmd, names);
        return;
    }
    if (!permitted(cmd, peer, an)) {
        a->refused_role++;
        return;
    }
    handlers[ow_cmd_id(cmd)](a, m, who, an);
}

/* Who sent a request: the identity and roles the ZAP handler gave its
 * connection (lib/ow_auth.h). */
static void request_peer(zframe_t *body, ow_peer_t *p)
{
    ow_auth_peer(body, p);
}

/* The answer to one request body: [reply body, topic, body, ...]. */
static zmsg_t *answer_body(ow_alarmd_t *a, const void *data, size_t len, const ow_peer_t *peer,
                           const char *bad)
{
    answer_t an;
    memset(&an, 0, sizeof an);
    an.extra = zmsg_new();
    ow_msg_t m;
    char err[200];
    a->requests++;
    an.r.value = NAN;
    if (bad) {
        a->bad_requests++;
        refuse(&an, "%s", bad);
    } else if (ow_decode(NULL, 0, data, len, &m, err, sizeof err, NULL) != OW_PERR_OK) {
        a->bad_requests++;
        refuse(&an, "malformed request: %s", err);
    } else if (m.kind != OW_MSG_CONTROL) {
        a->bad_requests++;
        refuse(&an, "expected a control message, got %s", ow_kind_name(m.kind));
    } else {
        handle_control(a, &m, peer, &an);
    }
    if (!an.r.ok) log_warnx("control request refused: %s", an.r.error);

    ow_msg_t rm;
    char rbody[OW_BODY_MAX];
    ow_msg_init(&rm, OW_MSG_REPLY);
    rm.u.reply = an.r;
    snprintf(rm.h.pub, sizeof rm.h.pub, "alarmd");
    rm.h.epoch = ow_pub_epoch(a->pub);
    rm.h.seq = a->requests;
    rm.h.ts_us = ow_now_us();
    int n = ow_encode(&rm, rbody, sizeof rbody, err, sizeof err);
    zmsg_t *out = zmsg_new();
    zmsg_addmem(out, rbody, n > 0 ? (size_t)n : 0);
    zframe_t *f;
    while ((f = zmsg_pop(an.extra)))
        zmsg_append(out, &f);
    zmsg_destroy(&an.extra);
    return out;
}

zmsg_t *ow_alarmd_control(ow_alarmd_t *a, const void *body, size_t len, const ow_peer_t *peer)
{
    zmsg_t *out = answer_body(a, body, len, peer, NULL);
    commit(a);
    return out;
}

/* Read one request without waiting and build its answer, envelope first;
 * NULL when none is waiting. */
static zmsg_t *serve_control(ow_alarmd_t *a)
{
    zmsg_t *req = zmsg_recv(a->control); /* rcvtimeo 0: ow_alarmd_run */
    if (!req) return NULL;
    /* Envelope: identity, then an empty delimiter from REQ clients. */
    zframe_t *id = zmsg_pop(req), *delim = NULL;
    zframe_t *body = zmsg_pop(req);
    if (body && zframe_size(body) == 0) {
        delim = body;
        body = zmsg_pop(req);
    }
    zmsg_t *out;
    if (!body || zmsg_size(req) != 0) {
        out = answer_body(a, NULL, 0, NULL, "a request is one frame");
    } else {
        ow_peer_t peer;
        request_peer(body, &peer);
        out = answer_body(a, zframe_data(body), zframe_size(body), &peer, NULL);
    }
    if (delim) zmsg_prepend(out, &delim);
    zmsg_prepend(out, &id);
    zframe_destroy(&body);
    zframe_destroy(&delim);
    zmsg_destroy(&req);
    return out;
}

/* The ROUTER is mandatory (lib/ow_zsock.c): a peer that left, or holds 100
 * unread answers, gets nothing rather than a growing queue. */
static void send_reply(ow_alarmd_t *a, zmsg_t **out)
{
    if (zmsg_send(out, a->control) < 0) {
        if (a->replies_dropped++ % 1000 == 0)
            log_warnx("control reply dropped (#%llu): %s", (unsigned long long)a->replies_dropped,
                      zmq_strerror(errno));
        zmsg_destroy(out);
    }
}

/* Up to CONTROL_BATCH waiting requests per pass: a crowd is served at the
 * rate the engine answers, while readings still get their turn between
 * batches. A reply goes out as soon as it is built, except after a setting
 * was accepted: from then on the batch's replies wait for its one save
 * (set_key), in order, so none overtakes the yes it follows. */
#define CONTROL_BATCH 64

static int serve_batch(ow_alarmd_t *a)
{
    zmsg_t *held[CONTROL_BATCH], *out;
    int n = 0, nheld = 0;
    for (; n < CONTROL_BATCH && (out = serve_control(a)); n++) {
        if (a->must_save || nheld)
            held[nheld++] = out;
        else
            send_reply(a, &out);
    }
    commit(a);
    for (int i = 0; i < nheld; i++)
        send_reply(a, &held[i]);
    return n;
}

/* ---- SIGHUP and the reload command ---- */

/* A site file read again (build aside, then swap the thresholds; ns is
 * taken): how many settings changed. who is whom the audit records name:
 * "site-file" for SIGHUP (whoever edited the file), the requester for the
 * `reload` command (a restore). */
static int reload_site(ow_alarmd_t *a, ow_site_t *ns, const char *who)
{
    int changed = 0;
    for (int i = 0; i < ns->ngateways; i++) {
        const ow_gateway_cfg_t *ng = &ns->gateways[i];
        const ow_gateway_cfg_t *cur = ow_engine_gateway(a->engine, ng->id);
        if (!cur) {
            log_warnx("reload: new gateway %s needs a restart of alarmd", ng->id);
            continue;
        }
        if (cur->nstrings != ng->nstrings || cur->nmodules != ng->nmodules)
            log_warnx("reload: gateway %s changed its strings/modules: thresholds applied, the "
                      "topology needs a restart",
                      ng->id);
        ow_gateway_cfg_t old = *cur;
        ow_engine_set_settings(a->engine, ng->id, ng);
        apply_overrides(a, ng->id, "reload");
        const ow_gateway_cfg_t *now = ow_engine_gateway(a->engine, ng->id);
        for (const char *const *k = ow_gateway_keys(); *k; k++) {
            double ov = NAN, nv = NAN;
            ow_gateway_get(&old, *k, &ov);
            ow_gateway_get(now, *k, &nv);
            if (ov == nv) continue;
            char ot[32], nt[32];
            ow_gateway_value_text(*k, ov, ot, sizeof ot);
            ow_gateway_value_text(*k, nv, nt, sizeof nt);
            audit(a, ng->id, who, "reload", *k, nv, ov, ot, nt);
            changed++;
        }
    }
    ow_site_destroy(&ns);
    commit(a); /* the reload's records, after the save that keeps them */
    log_info("reloaded %s (%s)", a->site_path, who);
    return changed;
}

static void reload(ow_alarmd_t *a)
{
    char err[1024];
    ow_site_t *ns = ow_site_load(a->site_path, err, sizeof err);
    if (!ns) {
        log_errx("reload refused, keeping the running configuration: %s", err);
        return;
    }
    reload_site(a, ns, "site-file");
}

int ow_alarmd_run(ow_alarmd_t *a, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload_flag)
{
    log_info("%d gateway(s); publishing on %s, replay on %s, control on %s, state in %s",
             a->site->ngateways, a->cfg.publish, a->cfg.replay, a->cfg.control, a->cfg.state_file);
    void *rep = ow_pub_replay_socket(a->pub);
    /* One wait for readings, requests and replay: a request ends the wait
     * and is answered in this pass (ow_sub_wake_on). */
    ow_sub_wake_on(a->sub, a->control);
    ow_sub_wake_on(a->sub, rep);
    zsock_set_rcvtimeo(a->control, 0);
    zsock_set_sndtimeo(a->control, 0);
    while (!*stop) {
        ow_delivery_t d;
        /* Readings in bursts, then the sockets that answer people; the
         * wait (50 ms) only paces the engine's tick when all is quiet. */
        int got = 0, r;
        while (got < 2000 && (r = ow_sub_recv(a->sub, &d, got ? 0 : 50)) == 1) {
            on_reading(a, &d);
            got++;
        }
        serve_batch(a);
        zmq_pollitem_t it = {rep, 0, ZMQ_POLLIN, 0};
        for (int k = 0; k < 16 && zmq_poll(&it, 1, 0) > 0; k++)
            ow_pub_serve(a->pub);
        ow_engine_tick(a->engine, ow_now_us());
        if (reload_flag && *reload_flag) {
            *reload_flag = 0;
            reload(a);
        }
        if (a->dirty && ow_mono_us() - a->last_save_mono >= (int64_t)a->cfg.save_interval_ms * 1000)
            save_state(a);
    }
    commit(a);
    save_state(a);
    const ow_sub_stats_t *st = ow_sub_stats(a->sub);
    log_info("stopping: %llu readings (%llu replayed, %llu lost, %llu malformed), %llu requests",
             (unsigned long long)st->delivered, (unsigned long long)st->replayed,
             (unsigned long long)st->lost, (unsigned long long)st->malformed,
             (unsigned long long)a->requests);
    return 0;
}
