/* busd's engine; see busd.h. One gateway per process, so a webmanager that
 * hangs or a driver that crashes takes only its own gateway down. */
#include "busd.h"

#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "journal.h"
#include "ow_clock.h"
#include "ow_log.h"
#include "scenario.h"
#include "sim.h"

/* Below this a deadline loop spends its time waking up; faster simulated
 * time then takes bigger simulated steps instead of more of them. */
#define MIN_REAL_PERIOD_US 10000

struct ow_busd {
    const ow_gateway_cfg_t *gw;
    ow_busd_opts_t opts;
    ow_scenario_t *scenario;
    ow_sim_t *sim;
    ow_journal_t *journal;
    zsock_t *pub, *router;
    void *pub_raw;
    char pub_id[OW_ID_MAX];
    uint64_t epoch, seq;
    int64_t step_us;        /* simulated time per poll cycle */
    int64_t real_period_us; /* wall time per poll cycle */
    double speed;
    int64_t last_cycle_us;
    int modules_lost;
    ow_busd_stats_t st;
};

ow_busd_t *ow_busd_new(const ow_site_t *site, const ow_gateway_cfg_t *gw, const ow_busd_opts_t *o,
                       char *err, size_t errlen)
{
    ow_busd_t *b = calloc(1, sizeof *b);
    char path[1024];
    const char *scen;

    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->gw = gw;
    if (o)
        b->opts = *o;
    if (strcmp(gw->source, "sim") != 0) {
        snprintf(err, errlen, "gateway %s: source '%s' is not supported by this busd", gw->id,
                 gw->source);
        goto fail;
    }
    if (snprintf(b->pub_id, sizeof b->pub_id, "busd.%s", gw->id) >= (int)sizeof b->pub_id) {
        snprintf(err, errlen, "gateway id '%s' too long for a publisher id (26 characters max)",
                 gw->id);
        goto fail;
    }
    scen = b->opts.scenario ? b->opts.scenario : gw->sim.scenario;
    if (scen && *scen) {
        /* A scenario named on the command line is relative to the cwd, one in
         * the site file relative to the site file. */
        const char *p = b->opts.scenario ? scen : ow_site_path(site, scen, path, sizeof path);
        b->scenario = ow_scenario_load(p, err, errlen);
        if (!b->scenario)
            goto fail;
    }
    b->speed = b->opts.speed > 0 ? b->opts.speed : gw->sim.speed;
    b->step_us = (int64_t)gw->poll_ms * 1000;
    b->real_period_us = (int64_t)((double)b->step_us / b->speed);
    if (b->real_period_us < MIN_REAL_PERIOD_US) {
        b->real_period_us = MIN_REAL_PERIOD_US;
        b->step_us = (int64_t)(MIN_REAL_PERIOD_US * b->speed);
    }
    uint64_t seed = b->opts.seed ? b->opts.seed
                    : (b->scenario && b->scenario->seed) ? b->scenario->seed
                                                         : gw->sim.seed;
    b->epoch = (uint64_t)ow_now_us();
    b->sim = ow_sim_new(gw, b->scenario, seed, (int64_t)b->epoch);
    b->journal = ow_journal_new((size_t)gw->journal_messages);
    if (!b->sim || !b->journal) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    b->pub = zsock_new(ZMQ_PUB);
    b->router = zsock_new(ZMQ_ROUTER);
    if (!b->pub || !b->router) {
        snprintf(err, errlen, "cannot create sockets: %s", zmq_strerror(errno));
        goto fail;
    }
    /* A whole cycle is a burst of 500+ messages; a subscriber that is a few
     * cycles behind must not lose any (it can still replay what it does). */
    zsock_set_sndhwm(b->pub, 200000);
    zsock_set_sndhwm(b->router, OW_REPLAY_MAX * 4);
    zsock_set_linger(b->pub, 200);
    zsock_set_linger(b->router, 0);
    if (zsock_bind(b->pub, "%s", gw->publish) < 0) {
        snprintf(err, errlen, "gateway %s: cannot bind publish endpoint %s: %s", gw->id,
                 gw->publish, zmq_strerror(errno));
        goto fail;
    }
    if (zsock_bind(b->router, "%s", gw->replay) < 0) {
        snprintf(err, errlen, "gateway %s: cannot bind replay endpoint %s: %s", gw->id,
                 gw->replay, zmq_strerror(errno));
        goto fail;
    }
    b->pub_raw = zsock_resolve(b->pub);
    return b;
fail:
    ow_busd_destroy(&b);
    return NULL;
}

void ow_busd_destroy(ow_busd_t **bp)
{
    ow_busd_t *b = *bp;
    if (!b)
        return;
    zsock_destroy(&b->pub);
    zsock_destroy(&b->router);
    ow_sim_destroy(&b->sim);
    ow_journal_destroy(&b->journal);
    ow_scenario_destroy(&b->scenario);
    free(b);
    *bp = NULL;
}

const ow_busd_stats_t *ow_busd_stats(const ow_busd_t *b)
{
    return &b->st;
}

/* Stamp, encode, journal and send one message. */
static int publish(ow_busd_t *b, ow_msg_t *m)
{
    char topic[OW_TOPIC_MAX], body[OW_BODY_MAX], err[200];
    int tn, bn;

    snprintf(m->h.pub, sizeof m->h.pub, "%s", b->pub_id);
    snprintf(m->h.gw, sizeof m->h.gw, "%s", b->gw->id);
    m->h.epoch = b->epoch;
    m->h.seq = b->seq + 1;
    tn = ow_topic(m, topic, sizeof topic);
    bn = ow_encode(m, body, sizeof body, err, sizeof err);
    if (tn < 0 || bn < 0) {
        /* Our own reading is out of the contract's range: a bug or a sensor
         * fault; dropping it keeps the sequence contiguous. */
        log_warnx("not publishing %s: %s", ow_kind_name(m->kind), err);
        return -1;
    }
    b->seq++;
    if (ow_journal_append(b->journal, b->seq, topic, (size_t)tn, body, (size_t)bn) < 0)
        log_warn("journal append of seq %llu", (unsigned long long)b->seq);
    if (zmq_send(b->pub_raw, topic, (size_t)tn, ZMQ_SNDMORE) < 0 ||
        zmq_send(b->pub_raw, body, (size_t)bn, 0) < 0)
        log_warn("publish seq %llu", (unsigned long long)b->seq);
    b->st.published++;
    return 0;
}

static void heartbeat(ow_busd_t *b, const char *state)
{
    ow_msg_t m;
    ow_msg_init(&m, OW_MSG_HEARTBEAT);
    m.h.ts_us = ow_sim_time_us(b->sim);
    snprintf(m.u.heartbeat.state, sizeof m.u.heartbeat.state, "%s", state);
    snprintf(m.u.heartbeat.source, sizeof m.u.heartbeat.source, "%s", b->gw->source);
    m.u.heartbeat.period_us = b->step_us;
    m.u.heartbeat.speed = b->speed;
    m.u.heartbeat.strings = b->gw->nstrings;
    m.u.heartbeat.modules = b->gw->nmodules;
    m.u.heartbeat.modules_lost = b->modules_lost;
    m.u.heartbeat.journal_first = ow_journal_first(b->journal);
    m.u.heartbeat.journal_last = ow_journal_last(b->journal);
    m.u.heartbeat.cycle_us = b->last_cycle_us;
    m.u.heartbeat.cycles = b->st.cycles;
    m.u.heartbeat.overruns = b->st.overruns;
    publish(b, &m);
}

/* One poll of the whole bus: every module, every string, the aux sensors. */
static void poll_cycle(ow_busd_t *b)
{
    int64_t t0 = ow_mono_us();
    ow_msg_t m;
    int lost = 0;

    ow_sim_step(b->sim, b->step_us);
    int64_t ts = ow_sim_time_us(b->sim);
    for (int s = 1; s <= b->gw->nstrings; s++) {
        for (int blk = 1; blk <= b->gw->strings[s - 1].modules; blk++) {
            ow_msg_init(&m, OW_MSG_MODULE);
            m.h.ts_us = ts;
            if (ow_sim_read_module(b->sim, s, blk, &m.u.module) < 0)
                lost++;
            publish(b, &m);
        }
        ow_msg_init(&m, OW_MSG_STRING);
        m.h.ts_us = ts;
        ow_sim_read_string(b->sim, s, &m.u.string);
        publish(b, &m);
    }
    ow_msg_init(&m, OW_MSG_AUX);
    m.h.ts_us = ts;
    ow_sim_read_aux(b->sim, &m.u.aux);
    publish(b, &m);
    b->modules_lost = lost;
    b->st.cycles++;
    b->last_cycle_us = ow_mono_us() - t0;
    heartbeat(b, "running");
}

static void send_ctl(ow_busd_t *b, zframe_t *id, const char *kind, const char *body)
{
    zframe_send(&id, b->router, ZFRAME_MORE | ZFRAME_REUSE);
    zstr_sendm(b->router, kind);
    zstr_send(b->router, body);
}

/* A peer's bytes made safe for a log line: printable ASCII, at most 80. */
static const char *printable(char *s)
{
    size_t i;
    for (i = 0; s[i] && i < 80; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            s[i] = '?';
    s[i] = '\0';
    return s;
}

/* Answer one replay request: [id, "replay", {"epoch","from","max"}]. */
static void serve_replay(ow_busd_t *b)
{
    zmsg_t *req = zmsg_recv(b->router);
    zframe_t *id;
    char *kind = NULL, *body = NULL, buf[256];
    json_t *o = NULL;
    json_error_t jerr;

    if (!req)
        return;
    id = zmsg_pop(req);
    kind = zmsg_popstr(req);
    body = zmsg_popstr(req);
    if (!id || !kind || strcmp(kind, OW_REPLAY_REQ) != 0 || !body ||
        !(o = json_loads(body, 0, &jerr)) || !json_is_integer(json_object_get(o, "from")) ||
        !json_is_integer(json_object_get(o, "epoch"))) {
        char kb[84];
        snprintf(kb, sizeof kb, "%s", kind ? kind : "no command");
        b->st.bad_requests++;
        log_warnx("malformed replay request #%llu (%s%s%s)", (unsigned long long)b->st.bad_requests,
                  printable(kb), body ? ": " : "",
                  body ? printable(body) : "");
        goto out;
    }
    b->st.replay_requests++;
    uint64_t epoch = (uint64_t)json_integer_value(json_object_get(o, "epoch"));
    json_int_t from = json_integer_value(json_object_get(o, "from"));
    json_int_t max = json_is_integer(json_object_get(o, "max"))
                         ? json_integer_value(json_object_get(o, "max"))
                         : OW_REPLAY_MAX;
    uint64_t first = ow_journal_first(b->journal), last = ow_journal_last(b->journal);
    if (max <= 0 || max > OW_REPLAY_MAX)
        max = OW_REPLAY_MAX;
    if (from < 1)
        from = 1;
    snprintf(buf, sizeof buf, "{\"epoch\":%llu,\"first\":%llu,\"last\":%llu}",
             (unsigned long long)b->epoch, (unsigned long long)first, (unsigned long long)last);
    send_ctl(b, id, OW_REPLAY_BEGIN, buf);
    uint64_t next = (uint64_t)from < first ? first : (uint64_t)from;
    int sent = 0;
    if (epoch == b->epoch) {
        for (; next <= last && sent < max; next++, sent++) {
            const char *t, *bd;
            size_t tl, bl;
            if (ow_journal_get(b->journal, next, &t, &tl, &bd, &bl) < 0)
                break;
            zframe_send(&id, b->router, ZFRAME_MORE | ZFRAME_REUSE);
            zstr_sendm(b->router, OW_REPLAY_MSG);
            zmq_send(zsock_resolve(b->router), t, tl, ZMQ_SNDMORE);
            zmq_send(zsock_resolve(b->router), bd, bl, 0);
        }
    }
    b->st.replay_sent += (uint64_t)sent;
    snprintf(buf, sizeof buf, "{\"epoch\":%llu,\"next\":%llu,\"more\":%s}",
             (unsigned long long)b->epoch, (unsigned long long)next,
             epoch == b->epoch && next <= last ? "true" : "false");
    send_ctl(b, id, OW_REPLAY_END, buf);
    log_debug("replay from %lld: sent %d", (long long)from, sent);
out:
    json_decref(o);
    free(kind);
    free(body);
    zframe_destroy(&id);
    zmsg_destroy(&req);
}

/* Serve replay requests until the monotonic time `until`. */
static void serve_until(ow_busd_t *b, int64_t until, volatile sig_atomic_t *stop)
{
    void *r = zsock_resolve(b->router);
    for (;;) {
        int64_t wait = until - ow_mono_us();
        if (wait < 0)
            wait = 0;
        zmq_pollitem_t it = {r, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&it, 1, (long)(wait / 1000));
        if (rc < 0 && errno != EINTR)
            return;
        if (rc > 0)
            serve_replay(b);
        if ((stop && *stop) || ow_mono_us() >= until)
            return;
    }
}

int ow_busd_run(ow_busd_t *b, volatile sig_atomic_t *stop)
{
    ow_deadline_t dl;

    log_info("gateway %s: %d strings, %d modules, poll %lld ms simulated every %lld ms, "
             "publishing on %s, replay on %s",
             b->gw->id, b->gw->nstrings, b->gw->nmodules, (long long)(b->step_us / 1000),
             (long long)(b->real_period_us / 1000), b->gw->publish, b->gw->replay);
    heartbeat(b, "starting");
    ow_deadline_init(&dl, b->real_period_us);
    while (!(stop && *stop)) {
        if (b->opts.max_cycles && b->st.cycles >= b->opts.max_cycles)
            break;
        if (b->opts.no_wait) {
            serve_until(b, 0, stop);
        } else {
            serve_until(b, ow_mono_us() + ow_deadline_wait_us(&dl), stop);
            if (stop && *stop)
                break;
            int skipped = ow_deadline_tick(&dl);
            if (skipped) {
                b->st.overruns += (uint64_t)skipped;
                log_warnx("poll cycle overran its deadline; %d cycle(s) skipped", skipped);
            }
        }
        poll_cycle(b);
    }
    heartbeat(b, "stopping");
    if (b->opts.linger_s > 0)
        serve_until(b, ow_mono_us() + (int64_t)(b->opts.linger_s * 1e6), stop);
    log_info("stopped after %llu cycles, %llu messages, %llu replay requests",
             (unsigned long long)b->st.cycles, (unsigned long long)b->st.published,
             (unsigned long long)b->st.replay_requests);
    return 0;
}
