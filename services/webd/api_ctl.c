/* The pages' changes, each one control request to alarmd as the web user
 * (req.user: alarmd's audit then reads "webd/alice"): acknowledge,
 * thresholds, the GX_R_AUX outputs (two steps), and the audit log. webd
 * checks the user's roles first (the route table); alarmd checks webd's
 * key. alarmd down is a 503 that says so, never a hang: 2 s per call. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "live.h"
#include "ow_clock.h"
#include "ow_cmd.h"
#include "ow_ctl.h"
#include "web.h"
#include "webd.h"

/* ---- the call ---- */

/* The web user as the protocol carries a person: an id of up to 31 of
 * [A-Za-z0-9_.-] (auth.c's names are the same). */
static int carried(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n < OW_ID_MAX &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_.-") == n;
}

/* One request to alarmd as the user of rq: 0 with *r (r->ok says whether
 * alarmd accepted), or -1 with the response already an error (503). */
static int call(ow_web_req_t *rq, ow_web_resp_t *rs, const char *gw, ow_control_t *req,
                ow_reply_t *r, ow_ctl_msg_fn fn, void *ctx)
{
    char err[300];
    if (!rq->d->live) return ow_web_error(rs, 503, NULL, "the live model is not ready"), -1;
    if (!rq->who || !carried(rq->who->name))
        return ow_web_error(rs, 403, NULL,
                            "user name cannot be named in alarmd's audit (1-31 of A-Z a-z 0-9 _ . "
                            "-): not sent"),
               -1;
    snprintf(req->user, sizeof req->user, "%.31s", rq->who->name); /* carried(): <= 31 */
    snprintf(req->req, sizeof req->req, "web.%.24s", rq->who->name);
    if (ow_ctl_call(ow_web_live_alarmd(rq->d->live), gw, req, OW_WEB_CTL_TIMEOUT_MS, r, fn, ctx,
                    err, sizeof err) < 0)
        return ow_web_error(rs, 503, NULL, "alarmd did not answer: %s", err), -1;
    return 0;
}

static int refused(ow_web_resp_t *rs, int status, const char *field, const ow_reply_t *r)
{
    return ow_web_error(rs, status, field, "alarmd refused: %s", r->error);
}

static int json_int_field(json_t *j, const char *k, json_int_t lo, json_int_t hi, json_int_t *out)
{
    json_t *v = json_object_get(j, k);
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) return -1;
    *out = json_integer_value(v);
    return 1;
}

/* ---- POST /api/ack ---- */

/* {gw, all:true} | {gw, id} | {gw, code, string?, module?}: an id is
 * what alarmd acknowledges by; code/string/module name the alarm as the
 * page shows it, looked up among the active ones. */
int ow_api_ack(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    json_t *j = rq->json;
    if (!json_is_object(j)) return ow_web_error(rs, 400, NULL, "a JSON object is needed");
    const char *given = json_string_value(json_object_get(j, "gw"));
    int all = json_is_true(json_object_get(j, "all"));
    const char *gw = NULL;
    if (!all || given) {
        gw = ow_web_req_gateway(rq, rs, given ? given : "");
        if (!gw) return 0;
    }
    json_int_t id = 0, code = 0, s = 0, m = 0;
    if (!all) {
        int hid = json_int_field(j, "id", 1, 2147483647, &id);
        int hc = json_int_field(j, "code", 1, 1000, &code);
        if (hid < 0) return ow_web_error(rs, 400, "id", "id: an alarm id (a positive integer)");
        if (hc < 0) return ow_web_error(rs, 400, "code", "code: an alarm code (1-1000)");
        if (json_int_field(j, "string", 0, OW_MAX_STRINGS, &s) < 0)
            return ow_web_error(rs, 400, "string", "string: 0-%d", OW_MAX_STRINGS);
        if (json_int_field(j, "module", 0, OW_MAX_MODULES, &m) < 0)
            return ow_web_error(rs, 400, "module", "module: 0-%d", OW_MAX_MODULES);
        if (!hid && !hc)
            return ow_web_error(rs, 400, "code",
                                "name the alarm (id, or code with string and "
                                "module) or give all: true");
        if (!hid) {
            uint64_t found;
            if (ow_web_live_alarm_id(rq->d->live, gw, (int)code, (int)s, (int)m, &found) < 0)
                return ow_web_error(rs, 404, "code",
                                    "no active alarm %d on string %d module %d of %s", (int)code,
                                    (int)s, (int)m, gw);
            id = (json_int_t)found;
        }
    }
    ow_control_t req = ow_cmd_control(OW_CMD_ACK, "", NAN, all ? 0 : (int)id, NULL);
    ow_reply_t r;
    if (call(rq, rs, gw, &req, &r, NULL, NULL) < 0) return 0;
    if (!r.ok) return refused(rs, 409, all ? NULL : "id", &r);
    return ow_web_json(rs, 200,
                       json_pack("{s:i}", "acknowledged", isnan(r.value) ? 0 : (int)r.value));
}

/* ---- thresholds ---- */

/* A key's unit from the suffix of its quantity, the naming rule of the key
 * table (STYLE.md: units in names), the last path part first:
 * thresholds.voltage_v.delay_s is in s, thresholds.voltage_v.high_alarm in V. */
static const struct {
    const char *suffix, *unit;
} units[] = {
    {.suffix = "_v_per_cell", .unit = "V/cell"},
    {.suffix = "_pct_lel", .unit = "% LEL"},
    {.suffix = "_mohm", .unit = "mOhm"},
    {.suffix = "_pct", .unit = "%"},
    {.suffix = "_polls", .unit = "polls"},
    {.suffix = "_min", .unit = "min"},
    {.suffix = "_v", .unit = "V"},
    {.suffix = "_a", .unit = "A"},
    {.suffix = "_c", .unit = "degC"},
    {.suffix = "_s", .unit = "s"},
    {.suffix = "_x", .unit = "x"},
};

const char *ow_web_key_unit(const char *key)
{
    const char *end = key + strlen(key);
    while (end > key) {
        const char *start = end;
        while (start > key && start[-1] != '.')
            start--;
        size_t n = (size_t)(end - start);
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t k = strlen(units[i].suffix);
            if (n > k && memcmp(start + n - k, units[i].suffix, k) == 0) return units[i].unit;
        }
        end = start > key ? start - 1 : key;
    }
    return "";
}

static json_t *threshold_json(const char *key, double value)
{
    const ow_key_t *k = ow_gateway_setting(key);
    double lo = NAN, hi = NAN;
    char text[32];
    ow_gateway_range(key, &lo, &hi);
    json_t *o = json_object();
    json_object_set_new(o, "key", json_string(key));
    json_object_set_new(o, "value", isnan(value) ? json_null() : json_real(value));
    json_object_set_new(o, "text", json_string(ow_gateway_value_text(key, value, text, 32)));
    json_object_set_new(o, "unit", json_string(ow_web_key_unit(key)));
    json_object_set_new(o, "min", isnan(lo) || isinf(lo) ? json_null() : json_real(lo));
    json_object_set_new(o, "max", isnan(hi) || isinf(hi) ? json_null() : json_real(hi));
    json_object_set_new(o, "doc", json_string(k && k->doc ? k->doc : ""));
    json_object_set_new(o, "type",
                        json_string(!k                       ? ""
                                    : k->type == OW_KEY_ENUM ? "enum"
                                    : k->type == OW_KEY_INT  ? "int"
                                                             : "number"));
    if (k && k->type == OW_KEY_ENUM && k->choices) {
        json_t *c = json_array();
        for (size_t i = 0; k->choices[i]; i++)
            json_array_append_new(c, json_string(k->choices[i]));
        json_object_set_new(o, "choices", c);
    }
    return o;
}

static void collect_config(void *ctx, const ow_msg_t *m)
{
    if (m->kind == OW_MSG_CONFIG)
        json_array_append_new(ctx, threshold_json(m->u.config.key, m->u.config.value));
}

int ow_api_thresholds_get(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    const char *gw = ow_web_req_gateway(rq, rs, NULL);
    if (!gw) return 0;
    ow_control_t req = ow_cmd_control(OW_CMD_LIST, "", NAN, 0, NULL);
    ow_reply_t r;
    json_t *list = json_array();
    if (call(rq, rs, gw, &req, &r, collect_config, list) < 0) {
        json_decref(list);
        return 0;
    }
    if (!r.ok) {
        json_decref(list);
        return refused(rs, 502, NULL, &r);
    }
    return ow_web_json(rs, 200, json_pack("{s:s,s:o}", "gw", gw, "thresholds", list));
}

/* {key, value[, gw]}: value a number, or an enum's choice by name ("F").
 * alarmd judges it (range, the rules across keys) and its reason is the
 * page's, beside the field. */
int ow_api_thresholds_post(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    json_t *j = rq->json;
    if (!json_is_object(j)) return ow_web_error(rs, 400, NULL, "a JSON object is needed");
    const char *gw = ow_web_req_gateway(rq, rs, json_string_value(json_object_get(j, "gw")));
    if (!gw) return 0;
    const char *key = json_string_value(json_object_get(j, "key"));
    json_t *v = json_object_get(j, "value");
    double value;
    if (!key || !key[0]) return ow_web_error(rs, 400, "key", "key: a threshold key is needed");
    if (strlen(key) >= sizeof((ow_control_t *)0)->key)
        return ow_web_error(rs, 400, "key", "key: too long");
    if (json_is_number(v))
        value = json_number_value(v);
    else if (!json_is_string(v) || ow_gateway_value_choice(key, json_string_value(v), &value) < 0)
        return ow_web_error(rs, 422, key, "%s: the value must be a number%s", key,
                            json_is_string(v) ? " or one of the setting's choices" : "");
    ow_control_t req = ow_cmd_control(OW_CMD_SET, key, value, 0, NULL);
    ow_reply_t r;
    if (call(rq, rs, gw, &req, &r, NULL, NULL) < 0) return 0;
    if (!r.ok) return ow_web_error(rs, 422, key, "%s", r.error);
    return ow_web_json(rs, 200, json_pack("{s:s,s:s,s:f}", "gw", gw, "key", key, "value", r.value));
}

/* ---- a capacity test, a baseline ---- */

static int json_real_field(json_t *j, const char *k, double *out)
{
    json_t *v = json_object_get(j, k);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_number(v)) return -1;
    *out = json_number_value(v);
    return 1;
}

/* {gw, string, rated_h?, end_v_per_cell?}: the string's next discharge is
 * a capacity test (an operator's, as on the webmanager). alarmd judges
 * the numbers (rated 0-1000 h, 0-5 V/cell); its reason is the answer. */
int ow_api_captest(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    json_t *j = rq->json;
    if (!json_is_object(j)) return ow_web_error(rs, 400, NULL, "a JSON object is needed");
    const char *gw = ow_web_req_gateway(rq, rs, json_string_value(json_object_get(j, "gw")));
    if (!gw) return 0;
    json_int_t string = 0;
    double rated_h = NAN, end_v = NAN;
    if (json_int_field(j, "string", 1, OW_MAX_STRINGS, &string) != 1)
        return ow_web_error(rs, 400, "string", "string: 1-%d", OW_MAX_STRINGS);
    if (json_real_field(j, "rated_h", &rated_h) < 0)
        return ow_web_error(rs, 400, "rated_h", "rated_h: hours, a number (10 if absent)");
    if (json_real_field(j, "end_v_per_cell", &end_v) < 0)
        return ow_web_error(rs, 400, "end_v_per_cell",
                            "end_v_per_cell: V per cell, a number (1.75 if absent)");
    char key[64] = "";
    if (!isnan(end_v)) snprintf(key, sizeof key, "end_v_per_cell=%.4f", end_v);
    ow_control_t req = ow_cmd_control(OW_CMD_CAPTEST, key, rated_h, (int)string, NULL);
    ow_reply_t r;
    if (call(rq, rs, gw, &req, &r, NULL, NULL) < 0) return 0;
    if (!r.ok) return ow_web_error(rs, 422, "string", "%s", r.error);
    return ow_web_json(
        rs, 200, json_pack("{s:s,s:i,s:f}", "gw", gw, "string", (int)string, "rated_h", r.value));
}

/* {gw, module, mohm}: a module's impedance baseline (a replaced block);
 * mohm null resets it to the next measurement. */
int ow_api_baseline(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    json_t *j = rq->json;
    if (!json_is_object(j)) return ow_web_error(rs, 400, NULL, "a JSON object is needed");
    const char *gw = ow_web_req_gateway(rq, rs, json_string_value(json_object_get(j, "gw")));
    if (!gw) return 0;
    json_int_t module = 0;
    double mohm = NAN;
    if (json_int_field(j, "module", 1, OW_MAX_MODULES, &module) != 1)
        return ow_web_error(rs, 400, "module", "module: a module address, 1-%d", OW_MAX_MODULES);
    if (!json_object_get(j, "mohm") || json_real_field(j, "mohm", &mohm) < 0)
        return ow_web_error(rs, 400, "mohm", "mohm: the baseline in mOhm, or null to reset it");
    ow_control_t req = ow_cmd_control(OW_CMD_BASELINE, "", mohm, (int)module, NULL);
    ow_reply_t r;
    if (call(rq, rs, gw, &req, &r, NULL, NULL) < 0) return 0;
    if (!r.ok) return ow_web_error(rs, 422, "mohm", "%s", r.error);
    json_t *o = json_pack("{s:s,s:i}", "gw", gw, "module", (int)module);
    json_object_set_new(o, "mohm", isnan(r.value) ? json_null() : json_real(r.value));
    return ow_web_json(rs, 200, o);
}

/* ---- outputs: arm, then confirm ---- */

#define ARM_MAX 64

typedef struct {
    char token[48];
    char session[48]; /* the session's CSRF token: what names a session to a handler */
    char gw[OW_ID_MAX];
    int output, state;
    int64_t expires_us; /* monotonic; 0: a free slot */
} arm_t;

static struct {
    pthread_mutex_t mu;
    arm_t a[ARM_MAX];
} arms = {.mu = PTHREAD_MUTEX_INITIALIZER};

int ow_web_arm_issue(const char *session, const char *gw, int output, int state, int64_t now_us,
                     char *token, size_t len)
{
    unsigned char raw[24];
    char tok[48];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(tok, sizeof tok, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    pthread_mutex_lock(&arms.mu);
    /* a free or expired slot, else the one that expires first */
    arm_t *slot = &arms.a[0];
    for (int i = 0; i < ARM_MAX; i++) {
        arm_t *x = &arms.a[i];
        if (x->expires_us <= now_us) {
            slot = x;
            break;
        }
        if (x->expires_us < slot->expires_us) slot = x;
    }
    *slot = (arm_t){.output = output, .state = state, .expires_us = now_us + OW_WEB_ARM_TTL_US};
    snprintf(slot->token, sizeof slot->token, "%s", tok);
    snprintf(slot->session, sizeof slot->session, "%s", session);
    snprintf(slot->gw, sizeof slot->gw, "%s", gw);
    pthread_mutex_unlock(&arms.mu);
    snprintf(token, len, "%s", tok);
    return 0;
}

int ow_web_arm_take(const char *token, const char *session, int64_t now_us, char *gw, size_t gwlen,
                    int *output, int *state)
{
    int rc = OW_WEB_ARM_UNKNOWN;
    pthread_mutex_lock(&arms.mu);
    for (int i = 0; i < ARM_MAX; i++) {
        arm_t *x = &arms.a[i];
        if (!x->expires_us || !token[0] || strcmp(x->token, token) != 0) continue;
        /* another session's token is not spent by the attempt: its owner may
         * still confirm */
        if (strcmp(x->session, session) != 0) {
            rc = OW_WEB_ARM_OTHER_SESSION;
            break;
        }
        if (x->expires_us <= now_us) {
            rc = OW_WEB_ARM_EXPIRED;
        } else {
            rc = 0;
            snprintf(gw, gwlen, "%s", x->gw);
            *output = x->output;
            *state = x->state;
        }
        *x = (arm_t){0}; /* single use, whatever the outcome */
        break;
    }
    pthread_mutex_unlock(&arms.mu);
    return rc;
}

int ow_api_outputs_arm(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    json_t *j = rq->json;
    if (!json_is_object(j)) return ow_web_error(rs, 400, NULL, "a JSON object is needed");
    const char *gw = ow_web_req_gateway(rq, rs, json_string_value(json_object_get(j, "gw")));
    if (!gw) return 0;
    json_int_t out = 0, st = -1;
    int n = ow_web_live_noutputs(rq->d->live, gw);
    if (json_int_field(j, "output", 1, OW_AUX_POINTS, &out) != 1 || out > n)
        return ow_web_error(rs, 400, "output", "output: 1-%d (the gateway's GX_R_AUX outputs)", n);
    json_t *sv = json_object_get(j, "state");
    if (json_is_boolean(sv))
        st = json_is_true(sv);
    else if (json_int_field(j, "state", 0, 1, &st) != 1)
        return ow_web_error(rs, 400, "state", "state: 0 (off) or 1 (on)");
    char tok[48];
    ow_web_arm_issue(rq->who->csrf, gw, (int)out, (int)st, ow_mono_us(), tok, sizeof tok);
    return ow_web_json(rs, 200,
                       json_pack("{s:s,s:i,s:s,s:i,s:i}", "token", tok, "expires_in_s",
                                 (int)(OW_WEB_ARM_TTL_US / 1000000), "gw", gw, "output", (int)out,
                                 "state", (int)st));
}

int ow_api_outputs_confirm(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    static const struct {
        int rc, status;
        const char *why;
    } refusals[] = {
        {.rc = OW_WEB_ARM_UNKNOWN,
         .status = 409,
         .why = "no such token, or it was used: arm again"},
        {.rc = OW_WEB_ARM_EXPIRED, .status = 409, .why = "the token expired (30 s): arm again"},
        {.rc = OW_WEB_ARM_OTHER_SESSION,
         .status = 403,
         .why = "the token was armed by another session"},
    };
    json_t *j = rq->json;
    const char *tok = json_is_object(j) ? json_string_value(json_object_get(j, "token")) : NULL;
    if (!tok) return ow_web_error(rs, 400, "token", "token: the one /api/outputs/arm gave");
    char gw[OW_ID_MAX];
    int out, st;
    int rc = ow_web_arm_take(tok, rq->who->csrf, ow_mono_us(), gw, sizeof gw, &out, &st);
    for (size_t i = 0; rc && i < sizeof refusals / sizeof refusals[0]; i++)
        if (refusals[i].rc == rc)
            return ow_web_error(rs, refusals[i].status, "token", "%s", refusals[i].why);
    ow_control_t req = ow_cmd_control(OW_CMD_OUTPUT, "", st, out, NULL);
    ow_reply_t r;
    if (call(rq, rs, gw, &req, &r, NULL, NULL) < 0) return 0;
    if (!r.ok) return refused(rs, 409, NULL, &r);
    return ow_web_json(
        rs, 200, json_pack("{s:s,s:i,s:s}", "gw", gw, "output", out, "state", st ? "on" : "off"));
}

/* ---- GET /api/audit ---- */

static void collect_audit(void *ctx, const ow_msg_t *m)
{
    if (m->kind != OW_MSG_CONFIG) return;
    const ow_config_t *c = &m->u.config;
    json_t *o = json_object();
    json_object_set_new(o, "ts_us", json_integer(m->h.ts_us));
    json_object_set_new(o, "gw", json_string(m->h.gw));
    json_object_set_new(o, "who", json_string(c->who));
    json_object_set_new(o, "key", json_string(c->key));
    json_object_set_new(o, "source", json_string(c->source));
    json_object_set_new(o, "old", json_string(c->old));
    json_object_set_new(o, "new", json_string(c->new_));
    json_object_set_new(o, "value", isnan(c->value) ? json_null() : json_real(c->value));
    json_object_set_new(o, "old_value",
                        isnan(c->old_value) ? json_null() : json_real(c->old_value));
    json_array_append_new(ctx, o);
}

/* ?gw= (else every gateway) &n= (the last n; default 500, 0 all). */
int ow_api_audit(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    const char *given = ow_web_arg(rq, "gw"), *ns = ow_web_arg(rq, "n");
    const char *gw = NULL;
    if (given && given[0] && !(gw = ow_web_req_gateway(rq, rs, given))) return 0;
    long n = 500;
    if (ns) {
        char *end;
        n = strtol(ns, &end, 10);
        if (*end || n < 0 || n > 1000000) return ow_web_error(rs, 400, "n", "n: 0-1000000");
    }
    ow_control_t req = ow_cmd_control(OW_CMD_AUDIT, "", NAN, (int)n, NULL);
    ow_reply_t r;
    json_t *list = json_array();
    if (call(rq, rs, gw, &req, &r, collect_audit, list) < 0) {
        json_decref(list);
        return 0;
    }
    if (!r.ok) {
        json_decref(list);
        return refused(rs, 502, NULL, &r);
    }
    return ow_web_json(rs, 200, json_pack("{s:o}", "records", list));
}
