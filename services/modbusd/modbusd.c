/* ohmwatch-modbusd: a poll() loop over a listening TCP socket and up to
 * max_clients connections, each with its own receive buffer parsed as MBAP
 * frames; the ZeroMQ subscriber is drained between polls. A raw MBAP parser
 * rather than libmodbus's blocking modbus_receive lets one thread serve every
 * client and drop one that stalls mid-frame without blocking the others. */
#define _GNU_SOURCE /* accept4 */
#include "modbusd.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "frame.h"
#include "netparse.h"
#include "ow_clock.h"
#include "ow_ctl.h"
#include "ow_log.h"
#include "ow_sub.h"
#include "rtu.h"
#include "slots.h"

/* Receive buffers and answers: the largest frame either way (TCP 260: 7 + 253). */
#define BUF_MAX         (OW_MB_TCP_MAX > OW_MB_RTU_MAX ? OW_MB_TCP_MAX : OW_MB_RTU_MAX)
#define RTU_BACKOFF_MIN 500000   /* us: first reopen of a lost serial line */
#define RTU_BACKOFF_MAX 30000000 /* us: doubling up to this */
#define SNAP_RETRY_US   10000000 /* no snapshot yet: ask alarmd again this often */

/* ---- request handling: one table of function codes ---- */

static size_t exc(uint8_t fc, uint8_t code, uint8_t *rsp)
{
    rsp[0] = fc | 0x80;
    rsp[1] = code;
    return 2;
}

/* A request frame.c has checked (ow_mb_check_pdu): count is 1..125. */
static size_t read_regs(const ow_mb_image_t *img, const ow_mb_req_t *q, uint8_t *rsp)
{
    uint16_t regs[125];
    int count = q->count;
    int e = ow_mb_read(img, q->addr, count, regs);
    if (e) return exc(q->fc, (uint8_t)e, rsp);
    rsp[0] = q->fc;
    rsp[1] = (uint8_t)(count * 2);
    for (int i = 0; i < count; i++) {
        rsp[2 + 2 * i] = (uint8_t)(regs[i] >> 8);
        rsp[3 + 2 * i] = (uint8_t)regs[i];
    }
    return 2 + 2 * (size_t)count;
}

static const struct {
    uint8_t fc;
    size_t (*fn)(const ow_mb_image_t *, const ow_mb_req_t *, uint8_t *);
} handlers[] = {
    {0x03, read_regs}, /* read holding registers */
    {0x04, read_regs}, /* read input registers: the same map */
};

size_t ow_mb_handle(const ow_mb_image_t *img, const uint8_t *pdu, size_t len, uint8_t *rsp)
{
    ow_mb_req_t q;
    int e = ow_mb_check_pdu(pdu, len, &q);
    /* Function not served first (01), then the unit (0B), then the shape. */
    if (e == 1) return exc(q.fc, 1, rsp);
    if (!img) return exc(q.fc, 0x0B, rsp);
    if (e) return exc(q.fc, (uint8_t)e, rsp);
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (handlers[i].fc == q.fc) return handlers[i].fn(img, &q, rsp);
    return exc(q.fc, 1, rsp); /* frame.c's table and this one disagree */
}

/* ---- the daemon ---- */

typedef struct {
    int fd;
    uint8_t buf[BUF_MAX];
    size_t n;
    int64_t last_us; /* last complete frame or connect */
    uint32_t addr;   /* peer address, host order */
    char peer[64];
} client_t;

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

/* Log lines a flood could multiply: at most one a second per kind, with
 * how many were held back since. */
typedef struct {
    int64_t last_us;
    uint64_t held_back;
} ratelog_t;

struct ow_modbusd {
    ow_site_t *site;
    ow_modbusd_cfg_t cfg;
    ow_alarmd_cfg_t acfg;
    ow_mb_image_t *img; /* per gateway, unit id = index + 1 */
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
    int lfd;
    client_t *cl;
    int ncl;
    uint32_t *scr_addr; /* reclaim's scratch, max_clients each */
    int64_t *scr_last;
    uint64_t *scratch;
    uint64_t requests, bad_frames, dropped_idle, refused, reclaimed;
    ratelog_t log_denied, log_full, log_reclaim;
    int rfd;               /* RTU serial line, -1 none (or lost) */
    uint8_t rbuf[BUF_MAX]; /* RTU frame being received */
    size_t rn;
    int64_t rlast_us, rgap_us; /* last byte, inter-frame silence (3.5 characters) */
    int rtu_down;              /* lost: logged once, reopened with backoff */
    int64_t rtu_retry_us, rtu_backoff_us, rtu_lost_us, rtu_up_us, rtu_check_us;
    int rtu_attempts;
    dev_t rtu_rdev; /* of the open line, to notice the path now names another */
    uint64_t rtu_losses, rtu_reopens;
};

static int open_rtu(ow_modbusd_t *d, char *err, size_t errlen)
{
    speed_t sp = ow_mb_baud_speed(d->cfg.rtu_baud);
    if (!sp) {
        snprintf(err, errlen, "unsupported baud rate %d", d->cfg.rtu_baud);
        return -1;
    }
    int fd = open(d->cfg.rtu_device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    struct termios tio;
    struct stat st;
    if (fd < 0 || tcgetattr(fd, &tio) < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    cfmakeraw(&tio);
    cfsetispeed(&tio, sp);
    cfsetospeed(&tio, sp);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cflag &= (tcflag_t) ~(PARENB | PARODD);
    if (d->cfg.rtu_parity[0] != 'N') tio.c_cflag |= PARENB;
    if (d->cfg.rtu_parity[0] == 'O') tio.c_cflag |= PARODD;
    if (tcsetattr(fd, TCSANOW, &tio) < 0) {
        snprintf(err, errlen, "tcsetattr: %s", strerror(errno));
        close(fd);
        return -1;
    }
    /* What waited in the line's buffer before we (re)opened it is a master's
     * request that timed out long ago, or half of one: not a frame to answer. */
    tcflush(fd, TCIFLUSH);
    d->rfd = fd;
    d->rn = 0;
    d->rtu_rdev = st.st_rdev;
    /* 3.5 characters of 11 bits; the spec fixes 1.75 ms above 19200 baud.
     * Our loop wakes every 10 ms, so in practice a frame ends after ~10 ms
     * of silence, still far below any master's response timeout. */
    d->rgap_us = d->cfg.rtu_baud > 19200 ? 1750 : 38500000 / d->cfg.rtu_baud;
    return 0;
}

/* The line went away (read error, hang-up, the device node gone): close it,
 * log once, and reopen with backoff. A line that was up a while starts again
 * at the shortest delay; one that drops right after reopening keeps
 * doubling, so a flapping adapter costs a log line per backoff at most. */
static void rtu_lost(ow_modbusd_t *d, const char *why, int64_t now)
{
    if (d->rfd >= 0) close(d->rfd);
    d->rfd = -1;
    d->rn = 0;
    d->rtu_losses++;
    d->rtu_down = 1;
    d->rtu_lost_us = now;
    d->rtu_attempts = 0;
    if (d->rtu_backoff_us == 0 || now - d->rtu_up_us > 2 * RTU_BACKOFF_MAX)
        d->rtu_backoff_us = RTU_BACKOFF_MIN;
    d->rtu_retry_us = now + d->rtu_backoff_us;
    log_warnx("rtu %s: line lost (%s), loss %llu: reopening in %.1f s, backoff doubling to %d s",
              d->cfg.rtu_device, why, (unsigned long long)d->rtu_losses,
              (double)d->rtu_backoff_us / 1e6, RTU_BACKOFF_MAX / 1000000);
}

static void rtu_retry(ow_modbusd_t *d, int64_t now)
{
    char err[256];
    if (!d->rtu_down || now < d->rtu_retry_us) return;
    d->rtu_attempts++;
    if (open_rtu(d, err, sizeof err) == 0) {
        d->rtu_down = 0;
        d->rtu_reopens++;
        d->rtu_up_us = now;
        log_info("rtu %s: reopened after %.1f s (%d attempt(s))", d->cfg.rtu_device,
                 (double)(now - d->rtu_lost_us) / 1e6, d->rtu_attempts);
        return;
    }
    d->rtu_backoff_us =
        d->rtu_backoff_us * 2 > RTU_BACKOFF_MAX ? RTU_BACKOFF_MAX : d->rtu_backoff_us * 2;
    d->rtu_retry_us = now + d->rtu_backoff_us;
    log_debug("rtu %s: reopen attempt %d: %s; next in %.1f s", d->cfg.rtu_device, d->rtu_attempts,
              err, (double)d->rtu_backoff_us / 1e6);
}

/* Once a second: is the path still the device we hold open? A USB adapter
 * unplugged and a pty whose other side went away can leave an fd that
 * neither errors nor hangs up on some drivers. */
static void rtu_check(ow_modbusd_t *d, int64_t now)
{
    struct stat st;
    if (d->rfd < 0 || now < d->rtu_check_us) return;
    d->rtu_check_us = now + 1000000;
    if (stat(d->cfg.rtu_device, &st) < 0)
        rtu_lost(d, strerror(errno), now);
    else if (st.st_rdev != d->rtu_rdev)
        rtu_lost(d, "the path names another device now", now);
}

/* A complete RTU frame (silence seen): check CRC, answer if the unit is ours. */
static void rtu_frame(ow_modbusd_t *d, int64_t now)
{
    uint8_t out[BUF_MAX];
    char why[128];
    ow_mb_frame_t f;
    size_t n = d->rn;
    d->rn = 0;
    if (ow_mb_rtu_frame(d->rbuf, n, &f, why, sizeof why) < 0) {
        d->bad_frames++;
        log_warnx("rtu %s: bad frame (%s): ignored", d->cfg.rtu_device, why);
        return;
    }
    /* Another slave's request on a shared line, or broadcast: no answer. */
    if (f.unit == 0 || d->cfg.unit_gw[f.unit] < 0) return;
    size_t rl = ow_mb_handle(&d->img[d->cfg.unit_gw[f.unit]], f.pdu, f.pdulen, out + 1);
    out[0] = f.unit;
    uint16_t crc = ow_mb_crc16(out, rl + 1);
    out[rl + 1] = (uint8_t)crc;
    out[rl + 2] = (uint8_t)(crc >> 8);
    d->requests++;
    ssize_t w = write(d->rfd, out, rl + 3);
    if (w < 0 && errno != EAGAIN)
        rtu_lost(d, strerror(errno), now);
    else if (w != (ssize_t)(rl + 3))
        log_warnx("rtu %s: answer cut short (%zd of %zu bytes)", d->cfg.rtu_device, w, rl + 3);
}

/* Read what the line has; a hang-up, an error or end of file is a loss. */
static void rtu_read(ow_modbusd_t *d, short revents, int64_t now)
{
    ssize_t r = 0;
    if (revents & POLLIN) {
        r = read(d->rfd, d->rbuf + d->rn, sizeof d->rbuf - d->rn);
        if (r > 0) {
            d->rn += (size_t)r;
            d->rlast_us = now;
            if (d->rn == sizeof d->rbuf) rtu_frame(d, now); /* overlong: rejected there */
            return;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
    }
    char why[128];
    if (r < 0)
        snprintf(why, sizeof why, "read: %s", strerror(errno));
    else if (revents & POLLIN)
        snprintf(why, sizeof why, "end of file");
    else
        snprintf(why, sizeof why, "%s",
                 revents & POLLNVAL  ? "invalid descriptor"
                 : revents & POLLERR ? "error on the line"
                                     : "hang-up");
    rtu_lost(d, why, now);
}

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
    ow_control_t req = {"snapshot", "", NAN, 0, "modbusd", ""};
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

static int listen_on(const ow_modbusd_cfg_t *c, char *err, size_t errlen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(c->listen_port),
                             .sin_addr.s_addr = htonl(c->listen_addr)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0) {
        snprintf(err, errlen, "listen %s: %s", c->listen, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

ow_modbusd_t *ow_modbusd_new(const char *site_path, char *err, size_t errlen)
{
    ow_modbusd_t *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->lfd = -1;
    d->rfd = -1;
    d->site = ow_site_load(site_path, err, errlen);
    if (!d->site || ow_site_modbusd(d->site, &d->cfg, err, errlen) < 0 ||
        ow_site_alarmd(d->site, &d->acfg, err, errlen) < 0)
        goto fail;
    size_t mc = (size_t)d->cfg.max_clients;
    d->img = calloc((size_t)d->site->ngateways, sizeof *d->img);
    d->cl = calloc(mc, sizeof *d->cl);
    d->scr_addr = calloc(mc, sizeof *d->scr_addr);
    d->scr_last = calloc(mc, sizeof *d->scr_last);
    d->scratch = calloc(mc, sizeof *d->scratch);
    d->sub = ow_sub_new();
    if (!d->img || !d->cl || !d->scr_addr || !d->scr_last || !d->scratch || !d->sub) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int i = 0; i < d->site->ngateways; i++) {
        const ow_gateway_cfg_t *g = &d->site->gateways[i];
        ow_mb_image_init(&d->img[i], &d->cfg.scale, g->nstrings, g->nmodules);
        ow_sub_add(d->sub, g->publish_connect, g->replay_connect);
    }
    d->alarmd_src = ow_sub_add(d->sub, d->acfg.publish_connect, d->acfg.replay_connect);
    ow_sub_from_start(d->sub, 1);
    ow_sub_subscribe(d->sub, "");
    /* Fill the image from alarmd before answering: a master's first poll
     * must not see every flag word clear. */
    ow_control_t req = {"snapshot", "", NAN, 0, "modbusd", ""};
    ow_reply_t r;
    char cerr[256];
    if (ow_ctl_call(d->acfg.control_connect, NULL, &req, 2000, &r, snap_msg, d, cerr, sizeof cerr) <
        0)
        log_warnx("no snapshot from alarmd (%s): flags fill in as alarmd publishes", cerr);
    d->snap_next_us = ow_mono_us() + SNAP_RETRY_US;
    d->lfd = listen_on(&d->cfg, err, errlen);
    if (d->lfd < 0) goto fail;
    if (d->cfg.rtu_device[0]) {
        char rerr[256];
        /* A USB adapter may enumerate after we start: retried like a loss. */
        if (open_rtu(d, rerr, sizeof rerr) < 0)
            rtu_lost(d, rerr, ow_mono_us());
        else
            log_info("RTU on %s, %d baud, parity %s", d->cfg.rtu_device, d->cfg.rtu_baud,
                     d->cfg.rtu_parity);
        d->rtu_up_us = ow_mono_us();
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

static void drop(ow_modbusd_t *d, int i, const char *why)
{
    log_info("client %s: %s", d->cl[i].peer, why);
    close(d->cl[i].fd);
    d->cl[i] = d->cl[--d->ncl];
}

static int allowed(const ow_modbusd_cfg_t *c, uint32_t addr)
{
    int ok = c->nallow == 0;
    for (int i = 0; i < c->nallow; i++)
        if ((addr & c->allow_mask[i]) == c->allow_net[i]) ok = 1;
    return ok;
}

/* 1: log now (*held_back: lines held back since the last); 0: hold back. */
static int ratelog(ratelog_t *r, int64_t now, uint64_t *held_back)
{
    if (r->last_us && now - r->last_us < 1000000) {
        r->held_back++;
        return 0;
    }
    r->last_us = now;
    *held_back = r->held_back;
    r->held_back = 0;
    return 1;
}

/* Every slot taken: the address holding the most gives up its longest-idle
 * connection (slots.h says why), and the newcomer gets the slot; 0. Or -1:
 * the newcomer's address is that one, and it is refused. */
static int reclaim(ow_modbusd_t *d, uint32_t from, const char *who, int64_t now)
{
    for (int i = 0; i < d->ncl; i++) {
        d->scr_addr[i] = d->cl[i].addr;
        d->scr_last[i] = d->cl[i].last_us;
    }
    int held = 0, v = ow_mb_reclaim_pick(d->scr_addr, d->scr_last, d->ncl, from, d->scratch, &held);
    uint64_t more;
    if (v < 0) {
        d->refused++;
        if (ratelog(&d->log_full, now, &more))
            log_warnx("refused %s: all %d slots taken, %d by its own address (%llu more "
                      "refused in the last second)",
                      who, d->cfg.max_clients, held, (unsigned long long)more);
        return -1;
    }
    d->reclaimed++;
    char why[256];
    snprintf(why, sizeof why, "slot reclaimed for %s (idle %lld ms, its address held %d of %d)",
             who, (long long)((now - d->cl[v].last_us) / 1000), held, d->cfg.max_clients);
    if (ratelog(&d->log_reclaim, now, &more))
        log_warnx("client %s: %s; %llu reclaimed in all", d->cl[v].peer, why,
                  (unsigned long long)d->reclaimed);
    log_debug("client %s: %s", d->cl[v].peer, why);
    close(d->cl[v].fd);
    d->cl[v] = d->cl[--d->ncl];
    return 0;
}

static void accept_all(ow_modbusd_t *d, int64_t now)
{
    for (;;) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(d->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        uint32_t addr = ntohl(sa.sin_addr.s_addr);
        uint64_t more;
        if (!allowed(&d->cfg, addr)) {
            d->refused++;
            if (ratelog(&d->log_denied, now, &more))
                log_warnx("refused %s: not in services.modbusd.allow (%llu more in the last "
                          "second)",
                          inet_ntoa(sa.sin_addr), (unsigned long long)more);
            close(fd);
            continue;
        }
        char peer[64];
        snprintf(peer, sizeof peer, "%s:%d", inet_ntoa(sa.sin_addr), ntohs(sa.sin_port));
        if (d->ncl >= d->cfg.max_clients && reclaim(d, addr, peer, now) < 0) {
            close(fd);
            continue;
        }
        int one = 1;
        /* Masters poll request by request: Nagle would hold every answer. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        client_t *c = &d->cl[d->ncl++];
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->last_us = now;
        c->addr = addr;
        snprintf(c->peer, sizeof c->peer, "%s", peer);
        log_debug("client %s connected", c->peer);
    }
}

/* Answer every complete frame in the buffer; -1 if the stream is garbage. */
static int serve(ow_modbusd_t *d, client_t *c)
{
    for (;;) {
        ow_mb_frame_t f;
        char why[128];
        int len = ow_mb_tcp_frame(c->buf, c->n, &f, why, sizeof why);
        if (len == 0) return 0;
        if (len < 0) {
            d->bad_frames++;
            log_warnx("client %s: bad frame (%s): dropped", c->peer, why);
            return -1;
        }
        uint8_t out[BUF_MAX];
        const ow_mb_image_t *img =
            d->cfg.unit_gw[f.unit] >= 0 ? &d->img[d->cfg.unit_gw[f.unit]] : NULL;
        size_t rl = ow_mb_handle(img, f.pdu, f.pdulen, out + 7);
        memcpy(out, c->buf, 4);
        out[4] = (uint8_t)((rl + 1) >> 8);
        out[5] = (uint8_t)(rl + 1);
        out[6] = f.unit;
        d->requests++;
        if (send(c->fd, out, 7 + rl, MSG_NOSIGNAL) != (ssize_t)(7 + rl)) return -1;
        memmove(c->buf, c->buf + len, c->n - (size_t)len);
        c->n -= (size_t)len;
        c->last_us = ow_mono_us();
    }
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
    for (int i = d->ncl - 1; i >= 0; i--)
        if (!allowed(&d->cfg, d->cl[i].addr)) drop(d, i, "no longer in services.modbusd.allow");
    ow_site_destroy(&ns);
    log_info("reloaded %s: idle timeout %d ms, %d allow-list entr%s, units and scales as in "
             "the file",
             d->site->path, d->cfg.idle_timeout_ms, d->cfg.nallow,
             d->cfg.nallow == 1 ? "y" : "ies");
}

int ow_modbusd_run(ow_modbusd_t *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload_flag)
{
    struct pollfd *pf = calloc((size_t)d->cfg.max_clients + 2, sizeof *pf);
    if (!pf) return -1;
    int64_t last_drain = 0;
    while (!*stop) {
        pf[0] = (struct pollfd){.fd = d->lfd, .events = POLLIN};
        for (int i = 0; i < d->ncl; i++)
            pf[i + 1] = (struct pollfd){.fd = d->cl[i].fd, .events = POLLIN};
        int n = d->ncl;
        pf[n + 1] = (struct pollfd){.fd = d->rfd, .events = POLLIN}; /* -1: ignored */
        if (poll(pf, (nfds_t)n + 2, d->rn ? 1 : 10) < 0 && errno != EINTR) break;
        int64_t now = ow_mono_us();
        if (d->rfd >= 0 && pf[n + 1].revents)
            rtu_read(d, pf[n + 1].revents, now);
        else if (d->rn && now - d->rlast_us >= d->rgap_us)
            rtu_frame(d, now);
        rtu_check(d, now);
        rtu_retry(d, now);
        /* Backwards so drop()'s swap with the last entry skips nothing. */
        for (int i = n - 1; i >= 0; i--) {
            client_t *c = &d->cl[i];
            if (pf[i + 1].revents) {
                ssize_t r = recv(c->fd, c->buf + c->n, sizeof c->buf - c->n, 0);
                if (r <= 0) {
                    drop(d, i, r == 0 ? "closed" : "read error");
                    continue;
                }
                c->n += (size_t)r;
                if (serve(d, c) < 0) {
                    drop(d, i, "bad frame");
                    continue;
                }
            }
            if (now - c->last_us > (int64_t)d->cfg.idle_timeout_ms * 1000) {
                d->dropped_idle++;
                drop(d, i, c->n ? "idle timeout mid-frame" : "idle timeout");
            }
        }
        if (pf[0].revents) accept_all(d, now);
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
        if (now >= d->snap_next_us && !d->job.running) {
            job_start(d, d->heard_epoch != d->alarmd_epoch ? "alarmd epoch changed" : "periodic");
            d->snap_next_us = now + SNAP_RETRY_US;
        }
    }
    log_info("stopping: %llu requests, %llu bad frames, %llu idle drops, %llu refused, %llu "
             "slots reclaimed, %llu RTU line losses (%llu reopened), %llu snapshot refreshes "
             "(%llu failed)",
             (unsigned long long)d->requests, (unsigned long long)d->bad_frames,
             (unsigned long long)d->dropped_idle, (unsigned long long)d->refused,
             (unsigned long long)d->reclaimed, (unsigned long long)d->rtu_losses,
             (unsigned long long)d->rtu_reopens, (unsigned long long)d->snapshots,
             (unsigned long long)d->snap_failed);
    free(pf);
    return 0;
}

void ow_modbusd_destroy(ow_modbusd_t **dp)
{
    ow_modbusd_t *d = *dp;
    if (!d) return;
    if (d->job.running) pthread_join(d->job.th, NULL);
    free(d->job.msgs);
    for (int i = 0; i < d->ncl; i++)
        close(d->cl[i].fd);
    if (d->lfd >= 0) close(d->lfd);
    if (d->rfd >= 0) close(d->rfd);
    ow_sub_destroy(&d->sub);
    ow_site_destroy(&d->site);
    free(d->img);
    free(d->cl);
    free(d->scr_addr);
    free(d->scr_last);
    free(d->scratch);
    free(d);
    *dp = NULL;
}
