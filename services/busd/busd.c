/* busd's engine; see busd.h. One gateway per process, so a webmanager that
 * hangs or a driver that crashes takes only its own gateway down. */
#include "busd.h"

#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "field.h"
#include "ow_auth.h"
#include "ow_clock.h"
#include "ow_cmd.h"
#include "ow_ctl.h"
#include "ow_daemon.h"
#include "ow_log.h"
#include "ow_pub.h"
#include "ow_zsock.h"
#include "scenario.h"
#include "sim.h"

/* Below this a deadline loop spends its time waking up; faster simulated
 * time then takes bigger simulated steps instead of more of them. */
#define MIN_REAL_PERIOD_US 10000

struct ow_busd {
    ow_site_t *site; /* ow_busd_open's, else the caller's (NULL) */
    const ow_gateway_cfg_t *gw;
    volatile sig_atomic_t *reload; /* SIGHUP, refused between polls */
    ow_busd_opts_t opts;
    ow_scenario_t *scenario;
    ow_sim_t *sim;     /* source "sim" */
    ow_field_t *field; /* source "modbus-tcp" / "modbus-rtu" */
    ow_field_reading_t *reading;
    ow_pub_t *pub;
    zsock_t *cmd; /* SUB to alarmd's commands (ctl/GW) and settings (cfg/GW) */
    uint64_t commands, bad_commands;
    ow_ctl_async_t *ask;    /* alarmd's settings at start, never waited for */
    int asked;              /* 1 while the start's request is unanswered */
    int64_t step_us;        /* simulated time per poll cycle */
    int64_t real_period_us; /* wall time per poll cycle */
    double speed;
    int64_t last_cycle_us;
    int modules_lost;
    ow_busd_stats_t st;
};

const ow_gateway_cfg_t *ow_busd_gateway(const ow_site_t *site, const char *id, char *err,
                                        size_t errlen)
{
    const ow_gateway_cfg_t *gw = NULL;
    if (id)
        gw = ow_site_gateway(site, id);
    else if (site->ngateways == 1)
        gw = &site->gateways[0];
    if (!gw)
        snprintf(err, errlen, "%s: %s", site->path,
                 id ? "no such gateway" : "several gateways: choose one with -g");
    return gw;
}

int ow_busd_check(const ow_site_t *site, const ow_gateway_cfg_t *gw, const ow_busd_opts_t *o,
                  char *err, size_t errlen)
{
    /* Loading the scenario is part of the check; binding is not. */
    const char *scen = o && o->scenario ? o->scenario : gw->sim.scenario;
    if (scen && *scen) {
        char path[1024];
        const char *p = o && o->scenario ? scen : ow_site_path(site, scen, path, sizeof path);
        ow_scenario_t *sc = ow_scenario_load(p, err, errlen);
        if (!sc) return -1;
        ow_scenario_destroy(&sc);
    }
    /* A field device's map is part of the configuration too. */
    if (strcmp(gw->source, "sim") != 0 && ow_field_check(site, gw, err, errlen) < 0) return -1;
    return 0;
}

ow_busd_t *ow_busd_open(const char *site_path, const char *gw_id, const ow_busd_opts_t *o,
                        char *err, size_t errlen)
{
    ow_site_t *site = ow_site_load(site_path, err, errlen);
    const ow_gateway_cfg_t *gw = site ? ow_busd_gateway(site, gw_id, err, errlen) : NULL;
    ow_busd_t *b = gw ? ow_busd_new(site, gw, o, err, errlen) : NULL;
    if (!b) {
        ow_site_destroy(&site);
        return NULL;
    }
    b->site = site;
    return b;
}

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
    if (o) b->opts = *o;
    if (strcmp(gw->source, "sim") != 0) {
        /* A field device runs in real time; the simulator's options do not apply. */
        b->field = ow_field_new(site, gw, err, errlen);
        b->reading = malloc(sizeof *b->reading);
        if (!b->field) goto fail;
        if (!b->reading) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        b->speed = 1;
        b->step_us = b->real_period_us = (int64_t)gw->poll_ms * 1000;
    }
    scen = b->opts.scenario ? b->opts.scenario : gw->sim.scenario;
    if (!b->field && scen && *scen) {
        /* A scenario named on the command line is relative to the cwd, one in
         * the site file relative to the site file. */
        const char *p = b->opts.scenario ? scen : ow_site_path(site, scen, path, sizeof path);
        b->scenario = ow_scenario_load(p, err, errlen);
        if (!b->scenario) goto fail;
    }
    if (!b->field) {
        b->speed = b->opts.speed > 0 ? b->opts.speed : gw->sim.speed;
        b->step_us = (int64_t)gw->poll_ms * 1000;
        b->real_period_us = (int64_t)((double)b->step_us / b->speed);
    }
    if (!b->field && b->real_period_us < MIN_REAL_PERIOD_US) {
        b->real_period_us = MIN_REAL_PERIOD_US;
        b->step_us = (int64_t)(MIN_REAL_PERIOD_US * b->speed);
    }
    uint64_t seed = b->opts.seed                         ? b->opts.seed
                    : (b->scenario && b->scenario->seed) ? b->scenario->seed
                                                         : gw->sim.seed;
    char pub_id[OW_ID_MAX + 8];
    snprintf(pub_id, sizeof pub_id, "busd.%s", gw->id);
    b->pub = ow_pub_new(pub_id, gw->publish, gw->replay, (size_t)gw->journal_messages, err, errlen);
    if (!b->pub) goto fail;
    /* Commands (GX_R_AUX outputs, e.g. the breaker on thermal runaway) come
     * from alarmd's publisher. */
    ow_alarmd_cfg_t acfg;
    if (ow_site_alarmd(site, &acfg, err, errlen) < 0) goto fail;
    b->cmd = zsock_new(ZMQ_SUB);
    if (b->cmd) ow_zsock_limit(b->cmd, OW_ZSOCK_SUB);
    /* Only the authenticated alarmd: a rogue publisher that binds alarmd's
     * port while alarmd is down fails the handshake (it lacks alarmd's
     * secret key) and is never heard. */
    if (b->cmd && ow_auth_client_keep(b->cmd, acfg.publish_connect, err, errlen) < 0) goto fail;
    if (!b->cmd || zsock_connect(b->cmd, "%s", acfg.publish_connect) < 0) {
        snprintf(err, errlen, "cannot connect to alarmd at %s", acfg.publish_connect);
        goto fail;
    }
    char topic[OW_TOPIC_MAX];
    snprintf(topic, sizeof topic, "ctl/%s", gw->id);
    zsock_set_subscribe(b->cmd, topic);
    /* The runtime settings that change what busd measures (the impedance
     * period) are alarmd's: its config events while it runs, and, since a
     * change made while busd was down is no event for us, one request at
     * start. ZeroMQ holds the request until alarmd answers; meanwhile the
     * site file's value applies. */
    snprintf(topic, sizeof topic, "cfg/%s", gw->id);
    zsock_set_subscribe(b->cmd, topic);
    b->ask = ow_ctl_async_new(acfg.control_connect, err, errlen);
    if (!b->ask) goto fail;
    if (b->field) return b;
    /* Simulated time starts at the wall clock of this boot (the epoch). */
    b->sim = ow_sim_new(gw, b->scenario, seed, (int64_t)ow_pub_epoch(b->pub));
    if (!b->sim) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return b;
fail:
    ow_busd_destroy(&b);
    return NULL;
}

void ow_busd_destroy(ow_busd_t **bp)
{
    ow_busd_t *b = *bp;
    if (!b) return;
    ow_pub_destroy(&b->pub);
    ow_auth_forget(b->cmd);
    zsock_destroy(&b->cmd);
    ow_ctl_async_destroy(&b->ask);
    ow_sim_destroy(&b->sim);
    ow_field_destroy(&b->field);
    free(b->reading);
    ow_scenario_destroy(&b->scenario);
    ow_site_destroy(&b->site); /* last: gw points into it */
    free(b);
    *bp = NULL;
}

const ow_busd_stats_t *ow_busd_stats(const ow_busd_t *b)
{
    return &b->st;
}

static int publish(ow_busd_t *b, ow_msg_t *m)
{
    snprintf(m->h.gw, sizeof m->h.gw, "%s", b->gw->id);
    return ow_pub_send(b->pub, m);
}

static void heartbeat(ow_busd_t *b, const char *state)
{
    ow_msg_t m;
    ow_msg_init(&m, OW_MSG_HEARTBEAT);
    m.h.ts_us = b->sim ? ow_sim_time_us(b->sim) : ow_now_us();
    snprintf(m.u.heartbeat.state, sizeof m.u.heartbeat.state, "%s", state);
    snprintf(m.u.heartbeat.source, sizeof m.u.heartbeat.source, "%s", b->gw->source);
    m.u.heartbeat.period_us = b->step_us;
    m.u.heartbeat.speed = b->speed;
    m.u.heartbeat.strings = b->gw->nstrings;
    m.u.heartbeat.modules = b->gw->nmodules;
    m.u.heartbeat.modules_lost = b->modules_lost;
    m.u.heartbeat.journal_first = ow_pub_journal_first(b->pub);
    m.u.heartbeat.journal_last = ow_pub_journal_last(b->pub);
    m.u.heartbeat.cycle_us = b->last_cycle_us;
    m.u.heartbeat.cycles = b->st.cycles;
    m.u.heartbeat.overruns = b->st.overruns;
    publish(b, &m);
}

/* One poll cycle's readings come from the simulator or from what the field
 * driver read this cycle; either way the same messages go out. */
static int read_module(ow_busd_t *b, int s, int blk, ow_module_t *out)
{
    if (!b->sim) {
        *out = b->reading->mod[b->gw->strings[s - 1].first_module - 1 + blk - 1];
        return out->status & OW_MODST_NO_RESPONSE ? -1 : 0;
    }
    return ow_sim_read_module(b->sim, s, blk, out);
}

static void read_string(ow_busd_t *b, int s, ow_string_t *out)
{
    if (b->sim)
        ow_sim_read_string(b->sim, s, out);
    else
        *out = b->reading->str[s - 1];
    /* Real Power here, for both sources, so that every consumer shows the
     * same number: the string's voltage times its current, signed as the
     * current (a discharge is negative), null when either is unknown. */
    out->power_kw = isfinite(out->sum_voltage_v) && isfinite(out->current_a)
                        ? round(out->sum_voltage_v * out->current_a) / 1000
                        : NAN;
}

/* 0 when there is no aux reading this cycle (a field request failed). */
static int read_aux(ow_busd_t *b, ow_aux_t *out)
{
    if (b->sim)
        ow_sim_read_aux(b->sim, out);
    else
        *out = b->reading->aux;
    return b->sim || b->reading->aux_valid;
}

/* One poll of the whole bus: every module, every string, the aux sensors,
 * and for a field device what it says about itself. */
static void poll_cycle(ow_busd_t *b)
{
    int64_t t0 = ow_mono_us(), ts;
    ow_msg_t m;
    int lost = 0;

    if (b->sim) {
        ow_sim_step(b->sim, b->step_us);
        ts = ow_sim_time_us(b->sim);
    } else {
        ts = ow_now_us();
        ow_field_poll(b->field, b->reading);
    }
    for (int s = 1; s <= b->gw->nstrings; s++) {
        for (int blk = 1; blk <= b->gw->strings[s - 1].modules; blk++) {
            ow_msg_init(&m, OW_MSG_MODULE);
            m.h.ts_us = ts;
            if (read_module(b, s, blk, &m.u.module) < 0) lost++;
            publish(b, &m);
        }
        ow_msg_init(&m, OW_MSG_STRING);
        m.h.ts_us = ts;
        read_string(b, s, &m.u.string);
        publish(b, &m);
    }
    ow_msg_init(&m, OW_MSG_AUX);
    m.h.ts_us = ts;
    if (read_aux(b, &m.u.aux)) publish(b, &m);
    if (b->field) {
        ow_msg_init(&m, OW_MSG_DEVICE);
        m.h.ts_us = ts;
        m.u.device = b->reading->dev;
        publish(b, &m);
    }
    b->modules_lost = lost;
    b->st.cycles++;
    b->last_cycle_us = ow_mono_us() - t0;
    heartbeat(b, "running");
}

/* A runtime setting of alarmd's (its config event, or the answer at
 * start). Only the simulator measures on busd's schedule: a field device
 * measures impedance on its own, and the guide's Modbus map has no
 * register to set it (busd reads what the device last measured). */
static void on_setting(ow_busd_t *b, const char *key, double value, const char *from)
{
    if (strcmp(key, "impedance_poll_min") != 0 || isnan(value)) return;
    if (!b->sim) {
        log_debug("impedance_poll_min %g (%s): the field device keeps its own schedule", value,
                  from);
        return;
    }
    int was = ow_sim_impedance_poll(b->sim);
    if (value < 1 || value > 1e6 || ow_sim_set_impedance_poll(b->sim, (int)value) < 0) {
        log_warnx("impedance_poll_min %g from %s ignored: not a period in minutes", value, from);
        return;
    }
    if (was != (int)value)
        log_info("impedance measured every %d min (was %d; %s)", (int)value, was, from);
}

/* The answer to the start's request, when it has come. */
static void check_asked(ow_busd_t *b)
{
    ow_reply_t r;
    uint64_t epoch;
    if (!b->asked || ow_ctl_async_recv(b->ask, &r, &epoch, NULL, NULL) != 1) return;
    b->asked = 0;
    if (r.ok)
        on_setting(b, "impedance_poll_min", r.value, "alarmd");
    else
        log_warnx("alarmd refused the impedance_poll_min request: %s", r.error);
}

/* The command a control message is, when the table says busd takes it;
 * OW_CMD_COUNT for anything else. */
static ow_cmd_id_t taken(const ow_control_t *c)
{
    const ow_cmd_t *cmd = ow_cmd_find(c->cmd);
    return cmd && (cmd->services & OW_CMD_BUSD) ? ow_cmd_id(cmd) : OW_CMD_COUNT;
}

static void on_command(ow_busd_t *b)
{
    zmsg_t *msg = zmsg_recv(b->cmd);
    ow_msg_t m;
    char err[200];
    if (!msg) return;
    zframe_t *t = zmsg_first(msg), *body = zmsg_next(msg);
    if (zmsg_size(msg) != 2 ||
        ow_decode((char *)zframe_data(t), zframe_size(t), (char *)zframe_data(body),
                  zframe_size(body), &m, err, sizeof err, NULL) != OW_PERR_OK ||
        (m.kind != OW_MSG_CONTROL && m.kind != OW_MSG_CONFIG)) {
        b->bad_commands++;
        log_warnx("dropping malformed command: %s", zmsg_size(msg) != 2 ? "not 2 frames" : err);
    } else if (m.kind == OW_MSG_CONFIG) {
        /* cfg/wm1 is also a prefix of cfg/wm10 */
        if (strcmp(m.h.gw, b->gw->id) == 0)
            on_setting(b, m.u.config.key, m.u.config.value, m.u.config.who);
    } else if (b->field && taken(&m.u.control) == OW_CMD_OUTPUT) {
        /* The register maps are read-only: switching a device's outputs
         * would need a write map and a reason to trust this path with it. */
        b->bad_commands++;
        log_warnx("GX_R_AUX output %d command from %s ignored: the field driver only reads",
                  m.u.control.index, m.h.pub);
    } else if (taken(&m.u.control) == OW_CMD_OUTPUT && m.u.control.index >= 1 &&
               m.u.control.index <= OW_AUX_POINTS && !isnan(m.u.control.value)) {
        b->commands++;
        log_info("GX_R_AUX output %d %s (from %s)", m.u.control.index,
                 m.u.control.value != 0 ? "on" : "off", m.h.pub);
        ow_sim_set_output(b->sim, m.u.control.index, m.u.control.value != 0);
    } else {
        b->bad_commands++;
        log_warnx("ignoring command '%s' index %d", m.u.control.cmd, m.u.control.index);
    }
    zmsg_destroy(&msg);
}

/* Answer replay requests and take commands until the monotonic time `until`. */
static void wait_until(ow_busd_t *b, int64_t until, volatile sig_atomic_t *stop)
{
    for (;;) {
        int64_t wait = until - ow_mono_us();
        zmq_pollitem_t it[2] = {{ow_pub_replay_socket(b->pub), 0, ZMQ_POLLIN, 0},
                                {zsock_resolve(b->cmd), 0, ZMQ_POLLIN, 0}};
        /* at least once a second: ow_auth_tick reconnects the command
         * socket after a failed handshake */
        ow_auth_tick();
        if (wait > 1000000) wait = 1000000;
        int rc = zmq_poll(it, 2, wait > 0 ? (long)(wait / 1000) : 0);
        if (rc < 0 && errno != EINTR) return;
        if (rc > 0 && (it[0].revents & ZMQ_POLLIN)) ow_pub_serve(b->pub);
        if (rc > 0 && (it[1].revents & ZMQ_POLLIN)) on_command(b);
        check_asked(b);
        ow_daemon_hup_refused(b->reload);
        if ((stop && *stop) || ow_mono_us() >= until) return;
    }
}

int ow_busd_run(ow_busd_t *b, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    ow_deadline_t dl;

    b->reload = reload;
    log_info("gateway %s: %d strings, %d modules, poll %lld ms %s every %lld ms, "
             "publishing on %s, replay on %s",
             b->gw->id, b->gw->nstrings, b->gw->nmodules, (long long)(b->step_us / 1000),
             b->field ? "of the device" : "simulated", (long long)(b->real_period_us / 1000),
             b->gw->publish, b->gw->replay);
    heartbeat(b, "starting");
    char err[256];
    ow_control_t req = ow_cmd_control(OW_CMD_GET, "impedance_poll_min", NAN, 0, "busd");
    if (ow_ctl_async_send(b->ask, b->gw->id, &req, err, sizeof err) == 0)
        b->asked = 1;
    else
        log_warnx("cannot ask alarmd for impedance_poll_min: %s", err);
    ow_deadline_init(&dl, b->real_period_us);
    while (!(stop && *stop)) {
        if (b->opts.max_cycles && b->st.cycles >= b->opts.max_cycles) break;
        if (b->opts.no_wait) {
            wait_until(b, 0, stop);
        } else {
            wait_until(b, ow_mono_us() + ow_deadline_wait_us(&dl), stop);
            if (stop && *stop) break;
            int skipped = ow_deadline_tick(&dl);
            if (skipped) {
                b->st.overruns += (uint64_t)skipped;
                log_warnx("poll cycle overran its deadline; %d cycle(s) skipped", skipped);
            }
        }
        poll_cycle(b);
    }
    heartbeat(b, "stopping");
    if (b->opts.linger_s > 0) wait_until(b, ow_mono_us() + (int64_t)(b->opts.linger_s * 1e6), stop);
    const ow_pub_stats_t *ps = ow_pub_stats(b->pub);
    log_info("stopped after %llu cycles, %llu messages, %llu replay requests, %llu bad requests",
             (unsigned long long)b->st.cycles, (unsigned long long)ps->published,
             (unsigned long long)ps->replay_requests, (unsigned long long)ps->bad_requests);
    return 0;
}
