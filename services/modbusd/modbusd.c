/* ohmwatch-modbusd: one poll() loop over the Modbus TCP server (tcp.c) and
 * the RTU line (rtu.c), both answering from the gateways' register images
 * (pdu.c, regmap.c); the ZeroMQ subscriber that fills the images is drained
 * between polls, and alarmd's snapshot is fetched on a thread of its own.
 * Configuration: modbusd_keys.c. */
#include "modbusd.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ow_clock.h"
#include "ow_cmd.h"
#include "ow_ctl.h"
#include "ow_log.h"
#include "ow_quiet.h"
#include "ow_sub.h"
#include "pdu.h"
#include "rtu.h"
#include "tcp.h"

#define SNAP_RETRY_US 10000000 /* no snapshot yet: ask alarmd again this often */

/* A snapshot fetched on a thread of its own, so a master's requests never
 * wait for alarmd (the call blocks up to its timeout when alarmd is down). */
typedef struct {
    pthread_t th;
    atomic_int done; /* the thread has finished: join, then read */
    int running;
    const char *endpoint;
    ow_msg_t *msgs; /* the state messages of the answer */
    size_t n, cap;
    int ok;
    char err[256];
} snapjob_t;

struct ow_modbusd {
    ow_site_t *site;
    ow_modbusd_cfg_t cfg;
    ow_alarmd_cfg_t acfg;
    ow_mb_image_t *img; /* per gateway, unit id = index + 1 */
    ow_quiet_t *quiet;  /* per gateway: its busd's silence */
    int *quiet_src;     /* per gateway: its busd's source index in sub (-1: none) */
    uint64_t quiet_events;
    ow_sub_t *sub;
    int alarmd_src;        /* alarmd's source index in sub */
    uint64_t alarmd_epoch; /* epoch of the snapshot in force (0 none) */
    uint64_t heard_epoch;  /* epoch of alarmd's last published message */
    int64_t snap_next_us;  /* next periodic refresh */
    uint64_t live_states;  /* state messages from alarmd's stream */
    uint64_t job_states;   /* live_states when the running job started */
    snapjob_t job;
    uint64_t snapshots, snap_failed, snap_discarded;
    int snap_warned;
    ow_mb_units_t units; /* cfg.unit_gw and img, for both transports */
    ow_mb_tcp_t *tcp;
    ow_mb_rtu_t *rtu; /* NULL: no rtu.device */
};

/* Fold a message of a gateway of the site into that gateway's image; the
 * snapshot at start and the subscriber both come through here. */
static void apply(ow_modbusd_t *d, const ow_msg_t *m)
{
    const ow_gateway_cfg_t *g = ow_site_gateway(d->site, m->h.gw);
    if (g) ow_mb_apply(&d->img[g - d->site->gateways], m);
}

static void snap_msg(void *ctx, const ow_msg_t *m)
{
    ow_modbusd_t *d = ctx;
    if (m->kind == OW_MSG_STATE) d->alarmd_epoch = m->h.epoch;
    const ow_gateway_cfg_t *g = ow_site_gateway(d->site, m->h.gw);
    if (g && ow_quiet_alarm_active(m)) ow_quiet_set(&d->quiet[g - d->site->gateways]);
    apply(d, m);
}

/* ---- settings refresh from alarmd ---- */

static void job_msg(void *ctx, const ow_msg_t *m)
{
    snapjob_t *j = ctx;
    /* Only the flag words: readings come from busd's stream itself, and an
     * answer's copy of one may be older than what the stream delivered. */
    if (m->kind != OW_MSG_STATE) return;
    if (j->n == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 8;
        ow_msg_t *p = realloc(j->msgs, cap * sizeof *p);
        if (!p) return;
        j->msgs = p;
        j->cap = cap;
    }
    j->msgs[j->n++] = *m;
}

static void *job_run(void *arg)
{
    snapjob_t *j = arg;
    ow_control_t req = ow_cmd_control(OW_CMD_SNAPSHOT, "", NAN, 0, "modbusd");
    ow_reply_t r;
    j->ok = ow_ctl_call(j->endpoint, NULL, &req, 2000, &r, job_msg, j, j->err, sizeof j->err) == 0;
    if (j->ok && !r.ok) {
        snprintf(j->err, sizeof j->err, "refused: %s", r.error);
        j->ok = 0;
    }
    atomic_store(&j->done, 1);
    return NULL;
}

static void job_start(ow_modbusd_t *d, const char *why)
{
    snapjob_t *j = &d->job;
    if (j->running) return;
    j->n = 0;
    j->ok = 0;
    j->err[0] = 0;
    j->endpoint = d->acfg.control_connect;
    atomic_store(&j->done, 0);
    d->job_states = d->live_states;
    if (pthread_create(&j->th, NULL, job_run, j) != 0) {
        log_warn("snapshot refresh (%s): cannot start a thread", why);
        return;
    }
    j->running = 1;
    log_debug("snapshot refresh: %s", why);
}

/* A finished refresh: its flag words replace ours unless alarmd's stream
 * delivered a state meanwhile (then that is at least as new; ask again in
 * a second). */
static void job_finish(ow_modbusd_t *d, int64_t now)
{
    snapjob_t *j = &d->job;
    if (!j->running || !atomic_load(&j->done)) return;
    pthread_join(j->th, NULL);
    j->running = 0;
    if (!j->ok) {
        d->snap_failed++;
        if (!d->snap_warned)
            log_warnx("snapshot refresh from alarmd failed (%s): retrying every %d s", j->err,
                      SNAP_RETRY_US / 1000000);
        d->snap_warned = 1;
        return;
    }
    if (d->live_states != d->job_states) {
        d->snap_discarded++;
        d->snap_next_us = now + 1000000; /* again soon, not in a loop with a busy alarmd */
        return;
    }
    uint64_t was = d->alarmd_epoch;
    for (size_t i = 0; i < j->n; i++) {
        apply(d, &j->msgs[i]);
        d->alarmd_epoch = j->msgs[i].h.epoch;
    }
    d->snapshots++;
    if (d->snap_warned || was != d->alarmd_epoch)
        log_info("settings refreshed from alarmd (epoch %llu, %zu gateway state(s))",
                 (unsigned long long)d->alarmd_epoch, j->n);
    d->snap_warned = 0;
}

ow_modbusd_t *ow_modbusd_new(const char *site_path, char *err, size_t errlen)
{
    ow_modbusd_t *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->site = ow_site_load(site_path, err, errlen);
    if (!d->site || ow_site_modbusd(d->site, &d->cfg, err, errlen) < 0 ||
        ow_site_alarmd(d->site, &d->acfg, err, errlen) < 0)
        goto fail;
    d->img = calloc((size_t)d->site->ngateways, sizeof *d->img);
    d->quiet = calloc((size_t)d->site->ngateways, sizeof *d->quiet);
    d->quiet_src = calloc((size_t)d->site->ngateways, sizeof *d->quiet_src);
    d->sub = ow_sub_new();
    if (!d->img || !d->quiet || !d->quiet_src || !d->sub) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int i = 0; i < d->site->ngateways; i++) {
        const ow_gateway_cfg_t *g = &d->site->gateways[i];
        ow_mb_image_init(&d->img[i], &d->cfg.scale, g->nstrings, g->nmodules);
        ow_quiet_init(&d->quiet[i], ow_mono_us());
        d->quiet_src[i] = ow_sub_add(d->sub, g->publish_connect, g->replay_connect);
    }
    d->alarmd_src = ow_sub_add(d->sub, d->acfg.publish_connect, d->acfg.replay_connect);
    ow_sub_from_start(d->sub, 1);
    ow_sub_subscribe(d->sub, "");
    /* Fill the image from alarmd before answering: a master's first poll
     * must not see every flag word clear. */
    ow_control_t req = ow_cmd_control(OW_CMD_SNAPSHOT, "", NAN, 0, "modbusd");
    ow_reply_t r;
    char cerr[256];
    if (ow_ctl_call(d->acfg.control_connect, NULL, &req, 2000, &r, snap_msg, d, cerr, sizeof cerr) <
        0)
        log_warnx("no snapshot from alarmd (%s): flags fill in as alarmd publishes", cerr);
    /* A gateway alarmd holds as lost: its readings in the snapshot are from
     * before the loss, not to be served as current (after them: they came
     * last in the answer). */
    for (int i = 0; i < d->site->ngateways; i++)
        if (d->quiet[i].quiet) {
            ow_mb_image_quiet(&d->img[i]);
            log_warnx("gateway %s: alarmd has its Communication lost: its modules read no "
                      "reading until its busd publishes",
                      d->site->gateways[i].id);
        }
    d->snap_next_us = ow_mono_us() + SNAP_RETRY_US;
    d->units = (ow_mb_units_t){.unit_gw = d->cfg.unit_gw, .img = d->img};
    d->tcp = ow_mb_tcp_new(&d->cfg, &d->units, err, errlen);
    if (!d->tcp) goto fail;
    if (d->cfg.rtu_device[0]) {
        d->rtu = ow_mb_rtu_new(d->cfg.rtu_device, d->cfg.rtu_baud, d->cfg.rtu_parity[0], &d->units,
                               ow_mono_us());
        if (!d->rtu) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    for (int u = 1; u < 256; u++)
        if (d->cfg.unit_gw[u] >= 0)
            log_info("unit %d: gateway %s", u, d->site->gateways[d->cfg.unit_gw[u]].id);
    if (d->cfg.nallow == 0)
        log_warnx("services.modbusd.allow not set: every address may connect to %s", d->cfg.listen);
    log_info("listening on %s, %d client slots", d->cfg.listen, d->cfg.max_clients);
    return d;
fail:
    ow_modbusd_destroy(&d);
    return NULL;
}

/* The keys a restart needs: what the sockets, the slots and the images were
 * made from. Named in the log when a reload finds them changed. */
static void restart_keys(const ow_modbusd_cfg_t *a, const ow_modbusd_cfg_t *b, char *out,
                         size_t len)
{
    out[0] = '\0';
    if (strcmp(a->listen, b->listen) != 0)
        snprintf(out + strlen(out), len - strlen(out), " listen");
    if (a->max_clients != b->max_clients)
        snprintf(out + strlen(out), len - strlen(out), " max_clients");
    if (strcmp(a->rtu_device, b->rtu_device) != 0 || a->rtu_baud != b->rtu_baud ||
        strcmp(a->rtu_parity, b->rtu_parity) != 0)
        snprintf(out + strlen(out), len - strlen(out), " rtu");
}

static int same_gateways(const ow_site_t *a, const ow_site_t *b)
{
    if (a->ngateways != b->ngateways) return 0;
    for (int i = 0; i < a->ngateways; i++)
        if (strcmp(a->gateways[i].id, b->gateways[i].id) != 0 ||
            a->gateways[i].nstrings != b->gateways[i].nstrings ||
            a->gateways[i].nmodules != b->gateways[i].nmodules)
            return 0;
    return 1;
}

/* SIGHUP: services.modbusd of the site file parsed aside, taken up only if
 * it loads. What open connections and the images can follow takes effect
 * (allow, idle_timeout_ms, scale, units); the rest keeps its running value
 * until a restart, and says so. A client the new allow-list leaves out is
 * dropped: an allow-list that narrows is meant to shut someone out. */
static void reload(ow_modbusd_t *d)
{
    char err[1024], later[64];
    ow_modbusd_cfg_t nc;
    ow_site_t *ns = ow_site_load(d->site->path, err, sizeof err);
    if (!ns || ow_site_modbusd(ns, &nc, err, sizeof err) < 0) {
        log_errx("reload refused, keeping the running configuration: %s", err);
        ow_site_destroy(&ns);
        return;
    }
    if (!same_gateways(d->site, ns)) {
        log_warnx("reload: the site's gateways changed: they need a restart of modbusd (unit "
                  "ids kept)");
        memcpy(nc.unit_gw, d->cfg.unit_gw, sizeof nc.unit_gw);
    }
    restart_keys(&d->cfg, &nc, later, sizeof later);
    if (later[0]) log_warnx("reload: changed, needs a restart of modbusd:%s", later);
    d->cfg.idle_timeout_ms = nc.idle_timeout_ms;
    d->cfg.scale = nc.scale;
    for (int i = 0; i < d->site->ngateways; i++)
        d->img[i].scale = nc.scale; /* the next reading is encoded with it */
    d->cfg.nallow = nc.nallow;
    memcpy(d->cfg.allow_net, nc.allow_net, sizeof nc.allow_net);
    memcpy(d->cfg.allow_mask, nc.allow_mask, sizeof nc.allow_mask);
    memcpy(d->cfg.unit_gw, nc.unit_gw, sizeof nc.unit_gw);
    ow_mb_tcp_enforce_allow(d->tcp);
    ow_site_destroy(&ns);
    log_info("reloaded %s: idle timeout %d ms, %d allow-list entr%s, units and scales as in "
             "the file",
             d->site->path, d->cfg.idle_timeout_ms, d->cfg.nallow,
             d->cfg.nallow == 1 ? "y" : "ies");
}

/* A gateway whose busd fell silent (killed, hung, cut off from the bus)
 * publishes nothing, not even "no answer": without this its registers
 * would serve the last values heard as current for as long as it is gone.
 * alarmd raises its Communication lost on the same rule (lib/ow_quiet.h). */
static void heard(ow_modbusd_t *d, int source, const ow_msg_t *m, int64_t now)
{
    int gi = 0;
    while (gi < d->site->ngateways && d->quiet_src[gi] != source)
        gi++;
    if (gi == d->site->ngateways) return; /* alarmd's */
    double silent_s = (double)ow_quiet_for_us(&d->quiet[gi], now) / 1e6;
    if (ow_quiet_heard(&d->quiet[gi], m, now))
        log_info("gateway %s: its busd publishes again after %.1f s: registers follow its readings",
                 d->site->gateways[gi].id, silent_s);
}

static void check_quiet(ow_modbusd_t *d, int64_t now)
{
    for (int i = 0; i < d->site->ngateways; i++) {
        if (!ow_quiet_check(&d->quiet[i], now)) continue;
        ow_mb_image_quiet(&d->img[i]);
        d->quiet_events++;
        log_warnx("gateway %s: no message from its busd for %.1f s: its modules read no "
                  "reading (0x8000, Communication lost) and its strings unmeasured until it "
                  "publishes again",
                  d->site->gateways[i].id, (double)ow_quiet_for_us(&d->quiet[i], now) / 1e6);
    }
}

int ow_modbusd_run(ow_modbusd_t *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload_flag)
{
    /* The listening socket, max_clients connections, the RTU line. */
    struct pollfd *pf = calloc((size_t)d->cfg.max_clients + 2, sizeof *pf);
    if (!pf) return -1;
    int64_t last_drain = 0;
    while (!*stop) {
        int n = ow_mb_tcp_pollfds(d->tcp, pf);
        pf[n] = (struct pollfd){.fd = ow_mb_rtu_fd(d->rtu), .events = POLLIN}; /* -1: ignored */
        /* A frame under way on the line: wake soon to see its silence. */
        if (poll(pf, (nfds_t)n + 1, ow_mb_rtu_pending(d->rtu) ? 1 : 10) < 0 && errno != EINTR)
            break;
        int64_t now = ow_mono_us();
        ow_mb_rtu_step(d->rtu, pf[n].fd >= 0 ? pf[n].revents : 0, now);
        ow_mb_tcp_step(d->tcp, pf, n, now);
        job_finish(d, now);
        if (reload_flag && *reload_flag) {
            *reload_flag = 0;
            reload(d);
        }
        /* The subscriber's sockets are not in our poll set, and ow_sub_recv
         * needs >= 1 ms (with 0 it returns before polling), so it is drained
         * every 10 ms: readings wait that long at most, requests never. */
        if (now - last_drain < 10000) continue;
        last_drain = now;
        ow_delivery_t dv;
        for (int k = 0; k < 2000 && ow_sub_recv(d->sub, &dv, 1) == 1; k++) {
            heard(d, dv.source, &dv.msg, now);
            apply(d, &dv.msg);
            if (dv.source != d->alarmd_src) continue;
            if (dv.msg.kind == OW_MSG_STATE) d->live_states++;
            /* alarmd (re)started: what it holds (runtime settings, restored
             * state) need not be in its stream, so ask for all of it. */
            if (dv.msg.h.epoch != d->heard_epoch) {
                d->heard_epoch = dv.msg.h.epoch;
                if (dv.msg.h.epoch != d->alarmd_epoch) d->snap_next_us = now;
            }
        }
        check_quiet(d, now);
        if (now >= d->snap_next_us && !d->job.running) {
            job_start(d, d->heard_epoch != d->alarmd_epoch ? "alarmd epoch changed" : "periodic");
            d->snap_next_us = now + SNAP_RETRY_US;
        }
    }
    const ow_mb_tcp_stats_t *ts = ow_mb_tcp_stats(d->tcp);
    const ow_mb_rtu_stats_t *rs = ow_mb_rtu_stats(d->rtu);
    log_info("stopping: %llu requests, %llu bad frames, %llu idle drops, %llu refused, %llu "
             "slots reclaimed, %llu RTU line losses (%llu reopened), %llu snapshot refreshes "
             "(%llu failed), %llu gateway silences",
             (unsigned long long)(ts->requests + rs->requests),
             (unsigned long long)(ts->bad_frames + rs->bad_frames),
             (unsigned long long)ts->dropped_idle, (unsigned long long)ts->refused,
             (unsigned long long)ts->reclaimed, (unsigned long long)rs->losses,
             (unsigned long long)rs->reopens, (unsigned long long)d->snapshots,
             (unsigned long long)d->snap_failed, (unsigned long long)d->quiet_events);
    free(pf);
    return 0;
}

void ow_modbusd_destroy(ow_modbusd_t **dp)
{
    ow_modbusd_t *d = *dp;
    if (!d) return;
    if (d->job.running) pthread_join(d->job.th, NULL);
    free(d->job.msgs);
    ow_mb_tcp_destroy(&d->tcp);
    ow_mb_rtu_destroy(&d->rtu);
    ow_sub_destroy(&d->sub);
    ow_site_destroy(&d->site);
    free(d->img);
    free(d->quiet);
    free(d->quiet_src);
    free(d);
    *dp = NULL;
}
