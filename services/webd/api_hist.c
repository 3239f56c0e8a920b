/* The History routes (WEBD.md): query arguments checked here, the queries
 * and their JSON in history.c; and GET /api/health. Every argument that does
 * not parse is refused with 400 naming it, before the database is asked. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "history.h"
#include "live.h"
#include "ow_clock.h"
#include "webd.h"

/* ---- the part: the pool ---- */

/* The password when the site file names no file: a credential of the
 * systemd unit, then a compose secret (the order initial_password_file's
 * lookup uses too). */
static void default_password_file(char *out, size_t len)
{
    const char *cred = getenv("CREDENTIALS_DIRECTORY");
    out[0] = '\0';
    if (cred && cred[0]) {
        snprintf(out, len, "%s/pg_webd", cred);
        if (access(out, R_OK) == 0) return;
    }
    snprintf(out, len, "/run/secrets/pg_webd");
    if (access(out, R_OK) != 0) out[0] = '\0';
}

int ow_api_hist_open(ow_webd_t *d, char *err, size_t errlen)
{
    char pwf[OW_WEBD_PATH_MAX + 32], conninfo[1024];
    snprintf(pwf, sizeof pwf, "%s", d->cfg.history.password_file);
    if (!pwf[0]) default_password_file(pwf, sizeof pwf);
    if (ow_hist_conninfo(conninfo, sizeof conninfo, d->cfg.history.host, d->cfg.history.port,
                         d->cfg.history.dbname, d->cfg.history.user, pwf, err, errlen) < 0)
        return -1;
    d->history = ow_hist_new(conninfo, d->cfg.history.pool, err, errlen);
    memset(conninfo, 0, sizeof conninfo);
    return d->history ? 0 : -1;
}

void ow_api_hist_close(ow_webd_t *d)
{
    ow_hist_destroy(&d->history);
}

/* ---- arguments ---- */

/* An integer argument within [min, max]: 0 absent (*v untouched), 1 read,
 * -1 refused (the response is written). */
static int arg_int(ow_web_req_t *rq, ow_web_resp_t *rs, const char *name, int64_t min, int64_t max,
                   int64_t *v)
{
    const char *s = ow_web_arg(rq, name);
    if (!s || !s[0]) return 0;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end || x < min || x > max) {
        ow_web_error(rs, 400, name, "%s: an integer %" PRId64 "..%" PRId64 " is required", name,
                     min, max);
        return -1;
    }
    *v = x;
    return 1;
}

/* What every history route reads: the gateway (the site's only one when
 * not named), a module, a range. */
typedef struct {
    const char *gw;
    int64_t module;
    ow_hist_range_t r;
} args_t;

/* The gateway a request means: the named one if the site has it; with
 * none named, a site's only gateway. */
static const char *site_gateway(const ow_site_t *site, const char *gw)
{
    if (gw && gw[0]) {
        const ow_gateway_cfg_t *g = ow_site_gateway(site, gw);
        return g ? g->id : NULL;
    }
    return site->ngateways == 1 ? site->gateways[0].id : NULL;
}

#define US_MAX        4102444800000000LL
#define LIST_AHEAD_US (86400 * 1000000LL) /* 2100-01-01: a bound, not a date anyone means */

static int read_args(ow_web_req_t *rq, ow_web_resp_t *rs, args_t *a, int need_module,
                     int64_t default_span_us)
{
    memset(a, 0, sizeof *a);
    const char *gw = ow_web_arg(rq, "gw");
    a->gw = site_gateway(rq->d->site, gw);
    if (!a->gw) {
        ow_web_error(rs, gw && gw[0] ? 404 : 400, "gw", gw && gw[0] ? "no gateway '%s'" : "%s",
                     gw && gw[0] ? gw : "gw: which gateway");
        return -1;
    }
    if (arg_int(rq, rs, "from_us", 1, US_MAX, &a->r.from_us) < 0 ||
        arg_int(rq, rs, "to_us", 1, US_MAX, &a->r.to_us) < 0)
        return -1;
    /* Lists (discharges, tests, a trend) look back further by default than
     * a chart of readings, and a day ahead: readings carry the gateway's
     * time, and a gateway's clock ahead of ours (or a simulation faster than
     * real time) must not hide its newest discharge. */
    if (!a->r.to_us)
        a->r.to_us = ow_now_us() + (default_span_us > OW_HIST_SPAN_DEFAULT_US ? LIST_AHEAD_US : 0);
    if (!a->r.from_us) a->r.from_us = a->r.to_us - default_span_us;
    if (need_module) {
        int r = arg_int(rq, rs, "module", 1, 32767, &a->module);
        if (r < 0) return -1;
        if (r == 0) {
            ow_web_error(rs, 400, "module", "module: which block (its address)");
            return -1;
        }
    }
    return 0;
}

/* The query's JSON, or its refusal. */
static int answer(ow_web_resp_t *rs, int rc, json_t *j, const ow_hist_err_t *e)
{
    if (rc == 0) return ow_web_json(rs, 200, j);
    return ow_web_error(rs, e->status, e->field[0] ? e->field : NULL, "%s", e->msg);
}

static int no_pool(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    if (rq->d->history) return 0;
    ow_web_error(rs, 503, NULL, "history is not available (no database configured)");
    return 1;
}

/* ---- the routes ---- */

int ow_api_hist_blocks(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    args_t a;
    if (no_pool(rq, rs) || read_args(rq, rs, &a, 1, OW_HIST_SPAN_DEFAULT_US) < 0) return 0;
    const char *what = ow_web_arg(rq, "what");
    json_t *j = NULL;
    ow_hist_err_t e;
    int rc = ow_hist_blocks(rq->d->history, a.gw, (int)a.module, what && what[0] ? what : "v", a.r,
                            &j, &e);
    return answer(rs, rc, j, &e);
}

int ow_api_hist_alarms(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    if (no_pool(rq, rs)) return 0;
    /* Every gateway unless one is named. */
    const char *gw = ow_web_arg(rq, "gw");
    args_t a = {0};
    int64_t code = -1, severity = -1;
    if (gw && gw[0] && read_args(rq, rs, &a, 0, OW_HIST_SPAN_DEFAULT_US) < 0) return 0;
    if ((!gw || !gw[0]) && (arg_int(rq, rs, "from_us", 1, US_MAX, &a.r.from_us) < 0 ||
                            arg_int(rq, rs, "to_us", 1, US_MAX, &a.r.to_us) < 0))
        return 0;
    /* A severity by name (as the pages and /api/alarms say it) or number. */
    const char *sv = ow_web_arg(rq, "severity");
    if (sv && sv[0] && ow_hist_severity(sv) >= 0)
        severity = ow_hist_severity(sv);
    else if (arg_int(rq, rs, "severity", 0, 255, &severity) < 0)
        return 0;
    if (arg_int(rq, rs, "code", 0, 65535, &code) < 0) return 0;
    json_t *j = NULL;
    ow_hist_err_t e;
    int rc = ow_hist_alarms(rq->d->history, gw && gw[0] ? a.gw : NULL, a.r, (int)code,
                            (int)severity, &j, &e);
    return answer(rs, rc, j, &e);
}

int ow_api_hist_discharges(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    args_t a;
    if (no_pool(rq, rs) || read_args(rq, rs, &a, 0, OW_HIST_SPAN_MAX_US) < 0) return 0;
    json_t *j = NULL;
    ow_hist_err_t e;
    int rc = ow_hist_discharges(rq->d->history, a.gw, a.r, &j, &e);
    return answer(rs, rc, j, &e);
}

int ow_api_hist_curves(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    args_t a;
    if (no_pool(rq, rs) || read_args(rq, rs, &a, 0, OW_HIST_SPAN_MAX_US) < 0) return 0;
    json_t *j = NULL;
    ow_hist_err_t e;
    int rc = ow_hist_curves(rq->d->history, a.gw, ow_web_arg(rq, "id"), &j, &e);
    return answer(rs, rc, j, &e);
}

int ow_api_hist_impedance(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    args_t a;
    if (no_pool(rq, rs) || read_args(rq, rs, &a, 1, OW_HIST_SPAN_MAX_US) < 0) return 0;
    json_t *j = NULL;
    ow_hist_err_t e;
    int rc = ow_hist_impedance(rq->d->history, a.gw, (int)a.module, a.r, &j, &e);
    return answer(rs, rc, j, &e);
}

int ow_api_hist_captests(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    args_t a;
    if (no_pool(rq, rs) || read_args(rq, rs, &a, 0, OW_HIST_SPAN_MAX_US) < 0) return 0;
    json_t *j = NULL;
    ow_hist_err_t e;
    int rc = ow_hist_captests(rq->d->history, a.gw, a.r, &j, &e);
    return answer(rs, rc, j, &e);
}

/* ---- health ---- */

/* Answered without a session and without the database: a health check
 * must not depend on PostgreSQL (the history pages can be down while the
 * live ones serve). Per gateway what the live model says: its busd
 * answers, and how long ago its newest cycle was stamped. */
int ow_api_health(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    ow_webd_t *d = rq->d;
    json_t *gws = json_array();
    int64_t now = ow_now_us();
    for (int i = 0; d->site && i < d->site->ngateways; i++) {
        const char *id = d->site->gateways[i].id;
        char *model = d->live ? ow_web_live_json(d->live, id) : NULL;
        json_t *m = model ? json_loads(model, 0, NULL) : NULL;
        free(model);
        int answering = json_is_true(json_object_get(m, "answering"));
        json_t *t = json_object_get(m, "t_us"), *heard = json_null();
        if (answering && json_is_integer(t)) {
            double age_s = (double)(now - json_integer_value(t)) / 1e6;
            heard = json_real(age_s > 0 ? age_s : 0); /* an accelerated clock runs ahead */
        }
        json_array_append_new(
            gws, json_pack("{s:s,s:b,s:o}", "id", id, "answering", answering, "heard_s", heard));
        json_decref(m);
    }
    return ow_web_json(rs, 200,
                       json_pack("{s:b,s:s,s:o,s:s}", "ok", 1, "service", "webd", "gateways", gws,
                                 "history", d->history ? "configured" : "none"));
}
