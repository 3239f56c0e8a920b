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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "ow_clock.h"
#include "ow_ctl.h"
#include "ow_log.h"
#include "ow_sub.h"

#define MAX_CLIENTS_CAP 1024
#define BUF_MAX         300 /* MBAP header (7) + the largest PDU (253) */

/* ---- configuration: services.modbusd ---- */

typedef struct {
    const char *key;
    char type; /* 's' listen, 'i' integer at off, 'o' scale, 'a' allow, 'u' units, 'r' rtu */
    long min, max;
    size_t off; /* 'i': where the integer goes */
} mkey_t;

static const mkey_t mkeys[] = {
    {"listen", 's', 0, 0, 0},
    {"idle_timeout_ms", 'i', 100, 3600000, offsetof(ow_modbusd_cfg_t, idle_timeout_ms)},
    {"max_clients", 'i', 1, MAX_CLIENTS_CAP, offsetof(ow_modbusd_cfg_t, max_clients)},
    {"scale", 'o', 0, 0, 0},
    {"allow", 'a', 0, 0, 0}, /* ["10.0.0.0/8", "192.168.1.20"] */
    {"units", 'u', 0, 0, 0}, /* {"1": "wm1", "2": "wm2"} */
    {"rtu", 'r', 0, 0, 0},   /* {"device": "/dev/ttyS0", "baud": 19200, "parity": "E"} */
};

static int parse_rtu(const ow_site_t *site, json_t *v, ow_modbusd_cfg_t *out, char *err,
                     size_t errlen)
{
    json_t *dev = json_object_get(v, "device"), *baud = json_object_get(v, "baud"),
           *par = json_object_get(v, "parity");
    const char *p = par && json_is_string(par) ? json_string_value(par) : "N";
    if (!json_is_object(v) || !json_is_string(dev) || (baud && !json_is_integer(baud)) ||
        (baud && (json_integer_value(baud) < 50 || json_integer_value(baud) > 4000000)) ||
        (par && !json_is_string(par)) || strlen(p) != 1 || !strchr("NEO", p[0]) ||
        strlen(json_string_value(dev)) >= sizeof out->rtu_device || !json_string_value(dev)[0] ||
        json_object_size(v) > (size_t)(1 + !!baud + !!par)) {
        ow_jpos_error(
            site->positions, site->path, "services.modbusd.rtu", err, errlen,
            "expected {\"device\": PATH (1..%zu bytes), \"baud\": 50..4000000, \"parity\": "
            "\"N\"|\"E\"|\"O\"}",
            sizeof out->rtu_device - 1);
        return -1;
    }
    snprintf(out->rtu_device, sizeof out->rtu_device, "%s", json_string_value(dev));
    out->rtu_baud = baud ? (int)json_integer_value(baud) : 19200;
    out->rtu_parity = p[0];
    return 0;
}

static int parse_cidr(const char *s, uint32_t *net, uint32_t *mask)
{
    char buf[64];
    int bits = 32;
    /* Cut short, a long string could pass on its first 63 bytes. */
    if (strlen(s) >= sizeof buf) return -1;
    snprintf(buf, sizeof buf, "%s", s);
    char *slash = strchr(buf, '/');
    if (slash) {
        char *end;
        *slash = 0;
        /* digits only: strtol would also take " 8" and "+8" */
        if (!isdigit((unsigned char)slash[1])) return -1;
        long b = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || b < 0 || b > 32) return -1;
        bits = (int)b;
    }
    struct in_addr a;
    if (inet_pton(AF_INET, buf, &a) != 1) return -1;
    *mask = bits ? 0xFFFFFFFFu << (32 - bits) : 0;
    *net = ntohl(a.s_addr) & *mask;
    return 0;
}

static int parse_allow(const ow_site_t *site, json_t *v, ow_modbusd_cfg_t *out, char *err,
                       size_t errlen)
{
    size_t i;
    json_t *e;
    char path[128];
    if (!json_is_array(v) || json_array_size(v) > 32) {
        ow_jpos_error(site->positions, site->path, "services.modbusd.allow", err, errlen,
                      "expected an array of at most 32 addresses or CIDR blocks");
        return -1;
    }
    json_array_foreach(v, i, e)
    {
        snprintf(path, sizeof path, "services.modbusd.allow[%zu]", i);
        if (!json_is_string(e) ||
            parse_cidr(json_string_value(e), &out->allow_net[i], &out->allow_mask[i]) < 0) {
            ow_jpos_error(site->positions, site->path, path, err, errlen,
                          "expected an IPv4 address or CIDR block such as \"10.0.0.0/8\"");
            return -1;
        }
    }
    out->nallow = (int)json_array_size(v);
    return 0;
}

static int parse_units(const ow_site_t *site, json_t *v, ow_modbusd_cfg_t *out, char *err,
                       size_t errlen)
{
    const char *key;
    json_t *e;
    char path[128];
    if (!json_is_object(v)) {
        ow_jpos_error(site->positions, site->path, "services.modbusd.units", err, errlen,
                      "expected an object of unit id: gateway id");
        return -1;
    }
    for (int u = 0; u < 256; u++)
        out->unit_gw[u] = -1; /* explicit map replaces the default */
    json_object_foreach(v, key, e)
    {
        char *end;
        long u = strtol(key, &end, 10);
        snprintf(path, sizeof path, "services.modbusd.units.%s", key);
        int gi = -1;
        for (int i = 0; json_is_string(e) && i < site->ngateways; i++)
            if (strcmp(site->gateways[i].id, json_string_value(e)) == 0) gi = i;
        if (*end || end == key || u < 1 || u > 247) {
            ow_jpos_error(site->positions, site->path, path, err, errlen, "unit id must be 1..247");
            return -1;
        }
        if (gi < 0) {
            ow_jpos_error(site->positions, site->path, path, err, errlen,
                          "expected the id of a gateway of this site");
            return -1;
        }
        out->unit_gw[u] = gi;
    }
    return 0;
}

/* Scale keys and where they go (docs/modbus.md lists the same four). */
static const struct {
    const char *key;
    size_t off;
} skeys[] = {
    {"string_current", offsetof(ow_mb_scale_t, string_current)},
    {"string_sum_v", offsetof(ow_mb_scale_t, string_sum_v)},
    {"string_avg_v", offsetof(ow_mb_scale_t, string_avg_v)},
    {"string_ac", offsetof(ow_mb_scale_t, string_ac)},
};

static int parse_scale(const ow_site_t *site, json_t *sec, ow_mb_scale_t *s, char *err,
                       size_t errlen)
{
    const char *key;
    json_t *v;
    char path[128];
    if (!json_is_object(sec)) {
        ow_jpos_error(site->positions, site->path, "services.modbusd.scale", err, errlen,
                      "expected an object");
        return -1;
    }
    json_object_foreach(sec, key, v)
    {
        size_t i;
        snprintf(path, sizeof path, "services.modbusd.scale.%s", key);
        for (i = 0; i < sizeof skeys / sizeof skeys[0]; i++)
            if (strcmp(skeys[i].key, key) == 0) break;
        if (i == sizeof skeys / sizeof skeys[0]) {
            ow_jpos_error(site->positions, site->path, path, err, errlen, "unknown key");
            return -1;
        }
        if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1e6) {
            ow_jpos_error(site->positions, site->path, path, err, errlen,
                          "expected a number in (0, 1e6]");
            return -1;
        }
        *(double *)((char *)s + skeys[i].off) = json_number_value(v);
    }
    return 0;
}

int ow_site_modbusd(const ow_site_t *site, ow_modbusd_cfg_t *out, char *err, size_t errlen)
{
    json_t *sec = json_object_get((json_t *)site->services, "modbusd"), *v;
    const char *key;
    char path[128];

    memset(out, 0, sizeof *out);
    snprintf(out->listen, sizeof out->listen, "0.0.0.0:502");
    out->idle_timeout_ms = 10000;
    out->max_clients = 64;
    ow_mb_scale_default(&out->scale);
    for (int u = 0; u < 256; u++)
        out->unit_gw[u] = u >= 1 && u <= site->ngateways ? u - 1 : -1;
    if (!sec) return 0;
    if (!json_is_object(sec)) {
        ow_jpos_error(site->positions, site->path, "services.modbusd", err, errlen,
                      "expected an object");
        return -1;
    }
    json_object_foreach(sec, key, v)
    {
        const mkey_t *k = NULL;
        for (size_t i = 0; i < sizeof mkeys / sizeof mkeys[0]; i++)
            if (strcmp(mkeys[i].key, key) == 0) k = &mkeys[i];
        snprintf(path, sizeof path, "services.modbusd.%s", key);
        if (!k) {
            ow_jpos_error(site->positions, site->path, path, err, errlen, "unknown key");
            return -1;
        }
        if (k->type == 'o') {
            if (parse_scale(site, v, &out->scale, err, errlen) < 0) return -1;
        } else if (k->type == 'a') {
            if (parse_allow(site, v, out, err, errlen) < 0) return -1;
        } else if (k->type == 'r') {
            if (parse_rtu(site, v, out, err, errlen) < 0) return -1;
        } else if (k->type == 'u') {
            if (parse_units(site, v, out, err, errlen) < 0) return -1;
        } else if (k->type == 's') {
            const char *s = json_is_string(v) ? json_string_value(v) : NULL;
            if (!s || !strrchr(s, ':') || strlen(s) >= sizeof out->listen) {
                ow_jpos_error(site->positions, site->path, path, err, errlen,
                              "expected \"ADDR:PORT\"");
                return -1;
            }
            snprintf(out->listen, sizeof out->listen, "%s", s);
        } else {
            if (!json_is_integer(v) || json_integer_value(v) < k->min ||
                json_integer_value(v) > k->max) {
                ow_jpos_error(site->positions, site->path, path, err, errlen,
                              "expected an integer in %ld..%ld", k->min, k->max);
                return -1;
            }
            *(int *)((char *)out + k->off) = (int)json_integer_value(v);
        }
    }
    return 0;
}

/* ---- request handling: one table of function codes ---- */

static size_t exc(uint8_t fc, uint8_t code, uint8_t *rsp)
{
    rsp[0] = fc | 0x80;
    rsp[1] = code;
    return 2;
}

static size_t read_regs(const ow_mb_image_t *img, const uint8_t *pdu, size_t len, uint8_t *rsp)
{
    uint16_t regs[125];
    if (len != 5) return exc(pdu[0], 3, rsp);
    int addr = pdu[1] << 8 | pdu[2], count = pdu[3] << 8 | pdu[4];
    if (count < 1 || count > 125) return exc(pdu[0], 3, rsp);
    int e = ow_mb_read(img, addr, count, regs);
    if (e) return exc(pdu[0], (uint8_t)e, rsp);
    rsp[0] = pdu[0];
    rsp[1] = (uint8_t)(count * 2);
    for (int i = 0; i < count; i++) {
        rsp[2 + 2 * i] = (uint8_t)(regs[i] >> 8);
        rsp[3 + 2 * i] = (uint8_t)regs[i];
    }
    return 2 + 2 * (size_t)count;
}

static const struct {
    uint8_t fc;
    size_t (*fn)(const ow_mb_image_t *, const uint8_t *, size_t, uint8_t *);
} handlers[] = {
    {0x03, read_regs}, /* read holding registers */
    {0x04, read_regs}, /* read input registers: the same map */
};

size_t ow_mb_handle(const ow_mb_image_t *img, const uint8_t *pdu, size_t len, uint8_t *rsp)
{
    if (len < 1) return exc(0, 1, rsp);
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (handlers[i].fc == pdu[0]) {
            if (!img) return exc(pdu[0], 0x0B, rsp);
            return handlers[i].fn(img, pdu, len, rsp);
        }
    return exc(pdu[0], 1, rsp);
}

/* ---- the daemon ---- */

typedef struct {
    int fd;
    uint8_t buf[BUF_MAX];
    size_t n;
    int64_t last_us; /* last complete frame or connect */
    char peer[64];
} client_t;

struct ow_modbusd {
    ow_site_t *site;
    ow_modbusd_cfg_t cfg;
    ow_alarmd_cfg_t acfg;
    ow_mb_image_t *img; /* per gateway, unit id = index + 1 */
    ow_sub_t *sub;
    int lfd;
    client_t *cl;
    int ncl;
    uint64_t requests, bad_frames, dropped_idle, refused;
    int rfd;               /* RTU serial line, -1 none */
    uint8_t rbuf[BUF_MAX]; /* RTU frame being received */
    size_t rn;
    int64_t rlast_us, rgap_us; /* last byte, inter-frame silence (3.5 characters) */
};

/* Modbus RTU CRC-16 (polynomial 0xA001, initial 0xFFFF), sent low byte first. */
static uint16_t crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = crc & 1 ? (uint16_t)((crc >> 1) ^ 0xA001) : crc >> 1;
    }
    return crc;
}

static const struct {
    int baud;
    speed_t speed;
} bauds[] = {{1200, B1200},   {2400, B2400},   {4800, B4800},   {9600, B9600},
             {19200, B19200}, {38400, B38400}, {57600, B57600}, {115200, B115200}};

static int open_rtu(ow_modbusd_t *d, char *err, size_t errlen)
{
    speed_t sp = 0;
    for (size_t i = 0; i < sizeof bauds / sizeof bauds[0]; i++)
        if (bauds[i].baud == d->cfg.rtu_baud) sp = bauds[i].speed;
    if (!sp) {
        snprintf(err, errlen, "rtu: unsupported baud rate %d", d->cfg.rtu_baud);
        return -1;
    }
    int fd = open(d->cfg.rtu_device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    struct termios tio;
    if (fd < 0 || tcgetattr(fd, &tio) < 0) {
        snprintf(err, errlen, "rtu: %s: %s", d->cfg.rtu_device, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    cfmakeraw(&tio);
    cfsetispeed(&tio, sp);
    cfsetospeed(&tio, sp);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cflag &= (tcflag_t) ~(PARENB | PARODD);
    if (d->cfg.rtu_parity != 'N') tio.c_cflag |= PARENB;
    if (d->cfg.rtu_parity == 'O') tio.c_cflag |= PARODD;
    tcsetattr(fd, TCSANOW, &tio);
    d->rfd = fd;
    /* 3.5 characters of 11 bits; the spec fixes 1.75 ms above 19200 baud.
     * Our loop wakes every 10 ms, so in practice a frame ends after ~10 ms
     * of silence, still far below any master's response timeout. */
    d->rgap_us = d->cfg.rtu_baud > 19200 ? 1750 : 38500000 / d->cfg.rtu_baud;
    return 0;
}

/* A complete RTU frame (silence seen): check CRC, answer if the unit is ours. */
static void rtu_frame(ow_modbusd_t *d)
{
    uint8_t out[BUF_MAX];
    size_t n = d->rn;
    d->rn = 0;
    if (n < 4 || crc16(d->rbuf, n - 2) != (uint16_t)(d->rbuf[n - 2] | d->rbuf[n - 1] << 8)) {
        d->bad_frames++;
        log_warnx("rtu %s: bad frame (%zu bytes, CRC or length): ignored", d->cfg.rtu_device, n);
        return;
    }
    int unit = d->rbuf[0];
    /* Another slave's request on a shared line, or broadcast: no answer. */
    if (unit == 0 || d->cfg.unit_gw[unit] < 0) return;
    size_t rl = ow_mb_handle(&d->img[d->cfg.unit_gw[unit]], d->rbuf + 1, n - 3, out + 1);
    out[0] = (uint8_t)unit;
    uint16_t crc = crc16(out, rl + 1);
    out[rl + 1] = (uint8_t)crc;
    out[rl + 2] = (uint8_t)(crc >> 8);
    d->requests++;
    if (write(d->rfd, out, rl + 3) != (ssize_t)(rl + 3))
        log_warn("rtu %s: write", d->cfg.rtu_device);
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
    apply(ctx, m);
}

static int listen_on(const char *spec, char *err, size_t errlen)
{
    char host[128];
    snprintf(host, sizeof host, "%s", spec);
    char *colon = strrchr(host, ':');
    *colon = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sa.sin_addr) != 1) {
        snprintf(err, errlen, "listen %s: not an IPv4 address", spec);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0) {
        snprintf(err, errlen, "listen %s: %s", spec, strerror(errno));
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
    d->img = calloc((size_t)d->site->ngateways, sizeof *d->img);
    d->cl = calloc((size_t)d->cfg.max_clients, sizeof *d->cl);
    d->sub = ow_sub_new();
    if (!d->img || !d->cl || !d->sub) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int i = 0; i < d->site->ngateways; i++) {
        const ow_gateway_cfg_t *g = &d->site->gateways[i];
        ow_mb_image_init(&d->img[i], &d->cfg.scale, g->nstrings, g->nmodules);
        ow_sub_add(d->sub, g->publish_connect, g->replay_connect);
    }
    ow_sub_add(d->sub, d->acfg.publish_connect, d->acfg.replay_connect);
    ow_sub_from_start(d->sub, 1);
    ow_sub_subscribe(d->sub, "");
    /* Fill the image from alarmd before answering: a master's first poll
     * must not see every flag word clear. */
    ow_control_t req = {"snapshot", "", NAN, 0, "modbusd"};
    ow_reply_t r;
    char cerr[256];
    if (ow_ctl_call(d->acfg.control_connect, NULL, &req, 2000, &r, snap_msg, d, cerr, sizeof cerr) <
        0)
        log_warnx("no snapshot from alarmd (%s): flags fill in as alarmd publishes", cerr);
    d->lfd = listen_on(d->cfg.listen, err, errlen);
    if (d->lfd < 0) goto fail;
    if (d->cfg.rtu_device[0] && open_rtu(d, err, errlen) < 0) goto fail;
    if (d->rfd >= 0)
        log_info("RTU on %s, %d baud, parity %c", d->cfg.rtu_device, d->cfg.rtu_baud,
                 d->cfg.rtu_parity);
    for (int u = 1; u < 256; u++)
        if (d->cfg.unit_gw[u] >= 0)
            log_info("unit %d: gateway %s", u, d->site->gateways[d->cfg.unit_gw[u]].id);
    log_info("listening on %s", d->cfg.listen);
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

static void accept_all(ow_modbusd_t *d)
{
    for (;;) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(d->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        int allowed = d->cfg.nallow == 0;
        for (int i = 0; i < d->cfg.nallow; i++)
            if ((ntohl(sa.sin_addr.s_addr) & d->cfg.allow_mask[i]) == d->cfg.allow_net[i])
                allowed = 1;
        if (!allowed) {
            d->refused++;
            log_warnx("refused %s: not in services.modbusd.allow", inet_ntoa(sa.sin_addr));
            close(fd);
            continue;
        }
        if (d->ncl >= d->cfg.max_clients) {
            d->refused++;
            log_warnx("refused %s: %d clients already", inet_ntoa(sa.sin_addr), d->ncl);
            close(fd);
            continue;
        }
        int one = 1;
        /* Masters poll request by request: Nagle would hold every answer. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        client_t *c = &d->cl[d->ncl++];
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->last_us = ow_mono_us();
        snprintf(c->peer, sizeof c->peer, "%s:%d", inet_ntoa(sa.sin_addr), ntohs(sa.sin_port));
        log_debug("client %s connected", c->peer);
    }
}

/* Answer every complete frame in the buffer; -1 if the stream is garbage. */
static int serve(ow_modbusd_t *d, client_t *c)
{
    while (c->n >= 7) {
        unsigned proto = (unsigned)(c->buf[2] << 8 | c->buf[3]);
        unsigned len = (unsigned)(c->buf[4] << 8 | c->buf[5]);
        if (proto != 0 || len < 2 || len > 254) {
            d->bad_frames++;
            log_warnx("client %s: bad MBAP header (protocol %u, length %u): dropped", c->peer,
                      proto, len);
            return -1;
        }
        if (c->n < 6 + len) return 0;
        uint8_t out[BUF_MAX];
        int unit = c->buf[6];
        const ow_mb_image_t *img = d->cfg.unit_gw[unit] >= 0 ? &d->img[d->cfg.unit_gw[unit]] : NULL;
        size_t rl = ow_mb_handle(img, c->buf + 7, len - 1, out + 7);
        memcpy(out, c->buf, 4);
        out[4] = (uint8_t)((rl + 1) >> 8);
        out[5] = (uint8_t)(rl + 1);
        out[6] = (uint8_t)unit;
        d->requests++;
        if (send(c->fd, out, 7 + rl, MSG_NOSIGNAL) != (ssize_t)(7 + rl)) return -1;
        memmove(c->buf, c->buf + 6 + len, c->n - (6 + len));
        c->n -= 6 + len;
        c->last_us = ow_mono_us();
    }
    return 0;
}

int ow_modbusd_run(ow_modbusd_t *d, volatile sig_atomic_t *stop)
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
        if (d->rfd >= 0 && pf[n + 1].revents) {
            ssize_t r = read(d->rfd, d->rbuf + d->rn, sizeof d->rbuf - d->rn);
            if (r > 0) {
                d->rn += (size_t)r;
                d->rlast_us = now;
                if (d->rn == sizeof d->rbuf) rtu_frame(d); /* overlong: rejected there */
            }
        } else if (d->rn && now - d->rlast_us >= d->rgap_us)
            rtu_frame(d);
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
        if (pf[0].revents) accept_all(d);
        /* The subscriber's sockets are not in our poll set, and ow_sub_recv
         * needs >= 1 ms (with 0 it returns before polling), so it is drained
         * every 10 ms: readings wait that long at most, requests never. */
        if (now - last_drain < 10000) continue;
        last_drain = now;
        ow_delivery_t dv;
        for (int k = 0; k < 2000 && ow_sub_recv(d->sub, &dv, 1) == 1; k++)
            apply(d, &dv.msg);
    }
    log_info("stopping: %llu requests, %llu bad frames, %llu idle drops, %llu refused",
             (unsigned long long)d->requests, (unsigned long long)d->bad_frames,
             (unsigned long long)d->dropped_idle, (unsigned long long)d->refused);
    free(pf);
    return 0;
}

void ow_modbusd_destroy(ow_modbusd_t **dp)
{
    ow_modbusd_t *d = *dp;
    if (!d) return;
    for (int i = 0; i < d->ncl; i++)
        close(d->cl[i].fd);
    if (d->lfd >= 0) close(d->lfd);
    if (d->rfd >= 0) close(d->rfd);
    ow_sub_destroy(&d->sub);
    ow_site_destroy(&d->site);
    free(d->img);
    free(d->cl);
    free(d);
    *dp = NULL;
}
