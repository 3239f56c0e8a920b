/* modbusd's Modbus TCP server (tcp.h). */
#define _GNU_SOURCE /* accept4 */
#include "tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"
#include "ow_clock.h"
#include "ow_log.h"
#include "slots.h"

typedef struct {
    int fd;
    uint8_t buf[OW_MB_TCP_MAX];
    size_t n;
    int64_t last_us; /* last complete frame or connect */
    uint32_t addr;   /* peer address, host order */
    char peer[64];
} client_t;

/* Log lines a flood could multiply: at most one a second per kind, with
 * how many were held back since. */
typedef struct {
    int64_t last_us;
    uint64_t held_back;
} ratelog_t;

struct ow_mb_tcp {
    const ow_modbusd_cfg_t *cfg;
    const ow_mb_units_t *units;
    int lfd;
    client_t *cl; /* max_clients of them, the first ncl in use */
    int ncl;
    uint32_t *scr_addr; /* reclaim's scratch, max_clients each */
    int64_t *scr_last;
    uint64_t *scratch;
    ow_mb_tcp_stats_t st;
    ratelog_t log_denied, log_full, log_reclaim;
};

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

static void drop(ow_mb_tcp_t *t, int i, const char *why)
{
    log_info("client %s: %s", t->cl[i].peer, why);
    close(t->cl[i].fd);
    t->cl[i] = t->cl[--t->ncl];
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
static int reclaim(ow_mb_tcp_t *t, uint32_t from, const char *who, int64_t now)
{
    for (int i = 0; i < t->ncl; i++) {
        t->scr_addr[i] = t->cl[i].addr;
        t->scr_last[i] = t->cl[i].last_us;
    }
    int held = 0, v = ow_mb_reclaim_pick(t->scr_addr, t->scr_last, t->ncl, from, t->scratch, &held);
    uint64_t more;
    if (v < 0) {
        t->st.refused++;
        if (ratelog(&t->log_full, now, &more))
            log_warnx("refused %s: all %d slots taken, %d by its own address (%llu more "
                      "refused in the last second)",
                      who, t->cfg->max_clients, held, (unsigned long long)more);
        return -1;
    }
    t->st.reclaimed++;
    char why[256];
    snprintf(why, sizeof why, "slot reclaimed for %s (idle %lld ms, its address held %d of %d)",
             who, (long long)((now - t->cl[v].last_us) / 1000), held, t->cfg->max_clients);
    if (ratelog(&t->log_reclaim, now, &more))
        log_warnx("client %s: %s; %llu reclaimed in all", t->cl[v].peer, why,
                  (unsigned long long)t->st.reclaimed);
    log_debug("client %s: %s", t->cl[v].peer, why);
    close(t->cl[v].fd);
    t->cl[v] = t->cl[--t->ncl];
    return 0;
}

static void accept_all(ow_mb_tcp_t *t, int64_t now)
{
    for (;;) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(t->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        uint32_t addr = ntohl(sa.sin_addr.s_addr);
        uint64_t more;
        if (!allowed(t->cfg, addr)) {
            t->st.refused++;
            if (ratelog(&t->log_denied, now, &more))
                log_warnx("refused %s: not in services.modbusd.allow (%llu more in the last "
                          "second)",
                          inet_ntoa(sa.sin_addr), (unsigned long long)more);
            close(fd);
            continue;
        }
        char peer[64];
        snprintf(peer, sizeof peer, "%s:%d", inet_ntoa(sa.sin_addr), ntohs(sa.sin_port));
        if (t->ncl >= t->cfg->max_clients && reclaim(t, addr, peer, now) < 0) {
            close(fd);
            continue;
        }
        int one = 1;
        /* Masters poll request by request: Nagle would hold every answer. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        client_t *c = &t->cl[t->ncl++];
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->last_us = now;
        c->addr = addr;
        snprintf(c->peer, sizeof c->peer, "%s", peer);
        log_debug("client %s connected", c->peer);
    }
}

/* Answer every complete frame in the buffer; -1 if the stream is garbage. */
static int serve(ow_mb_tcp_t *t, client_t *c)
{
    for (;;) {
        ow_mb_frame_t f;
        char why[128];
        int len = ow_mb_tcp_frame(c->buf, c->n, &f, why, sizeof why);
        if (len == 0) return 0;
        if (len < 0) {
            t->st.bad_frames++;
            log_warnx("client %s: bad frame (%s): dropped", c->peer, why);
            return -1;
        }
        uint8_t out[OW_MB_TCP_MAX];
        size_t rl = ow_mb_handle(ow_mb_unit_image(t->units, f.unit), f.pdu, f.pdulen, out + 7);
        memcpy(out, c->buf, 4);
        out[4] = (uint8_t)((rl + 1) >> 8);
        out[5] = (uint8_t)(rl + 1);
        out[6] = f.unit;
        t->st.requests++;
        if (send(c->fd, out, 7 + rl, MSG_NOSIGNAL) != (ssize_t)(7 + rl)) return -1;
        memmove(c->buf, c->buf + len, c->n - (size_t)len);
        c->n -= (size_t)len;
        c->last_us = ow_mono_us();
    }
}

ow_mb_tcp_t *ow_mb_tcp_new(const ow_modbusd_cfg_t *cfg, const ow_mb_units_t *units, char *err,
                           size_t errlen)
{
    ow_mb_tcp_t *t = calloc(1, sizeof *t);
    size_t mc = (size_t)cfg->max_clients;
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->cfg = cfg;
    t->units = units;
    t->cl = calloc(mc, sizeof *t->cl);
    t->scr_addr = calloc(mc, sizeof *t->scr_addr);
    t->scr_last = calloc(mc, sizeof *t->scr_last);
    t->scratch = calloc(mc, sizeof *t->scratch);
    t->lfd = -1;
    if (!t->cl || !t->scr_addr || !t->scr_last || !t->scratch) {
        snprintf(err, errlen, "out of memory");
        ow_mb_tcp_destroy(&t);
        return NULL;
    }
    t->lfd = listen_on(cfg, err, errlen);
    if (t->lfd < 0) ow_mb_tcp_destroy(&t);
    return t;
}

int ow_mb_tcp_port(const ow_mb_tcp_t *t)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    if (getsockname(t->lfd, (struct sockaddr *)&sa, &sl) < 0) return -1;
    return ntohs(sa.sin_port);
}

int ow_mb_tcp_pollfds(const ow_mb_tcp_t *t, struct pollfd *pf)
{
    pf[0] = (struct pollfd){.fd = t->lfd, .events = POLLIN};
    for (int i = 0; i < t->ncl; i++)
        pf[i + 1] = (struct pollfd){.fd = t->cl[i].fd, .events = POLLIN};
    return t->ncl + 1;
}

void ow_mb_tcp_step(ow_mb_tcp_t *t, const struct pollfd *pf, int n, int64_t now)
{
    /* Backwards so drop()'s swap with the last entry skips nothing. */
    for (int i = n - 2; i >= 0; i--) {
        client_t *c = &t->cl[i];
        if (pf[i + 1].revents) {
            ssize_t r = recv(c->fd, c->buf + c->n, sizeof c->buf - c->n, 0);
            if (r <= 0) {
                drop(t, i, r == 0 ? "closed" : "read error");
                continue;
            }
            c->n += (size_t)r;
            if (serve(t, c) < 0) {
                drop(t, i, "bad frame");
                continue;
            }
        }
        if (now - c->last_us > (int64_t)t->cfg->idle_timeout_ms * 1000) {
            t->st.dropped_idle++;
            drop(t, i, c->n ? "idle timeout mid-frame" : "idle timeout");
        }
    }
    if (n > 0 && pf[0].revents) accept_all(t, now);
}

void ow_mb_tcp_enforce_allow(ow_mb_tcp_t *t)
{
    for (int i = t->ncl - 1; i >= 0; i--)
        if (!allowed(t->cfg, t->cl[i].addr)) drop(t, i, "no longer in services.modbusd.allow");
}

int ow_mb_tcp_clients(const ow_mb_tcp_t *t)
{
    return t->ncl;
}

const ow_mb_tcp_stats_t *ow_mb_tcp_stats(const ow_mb_tcp_t *t)
{
    return &t->st;
}

void ow_mb_tcp_destroy(ow_mb_tcp_t **tp)
{
    ow_mb_tcp_t *t = *tp;
    if (!t) return;
    for (int i = 0; i < t->ncl; i++)
        close(t->cl[i].fd);
    if (t->lfd >= 0) close(t->lfd);
    free(t->cl);
    free(t->scr_addr);
    free(t->scr_last);
    free(t->scratch);
    free(t);
    *tp = NULL;
}
