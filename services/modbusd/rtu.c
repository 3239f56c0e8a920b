/* modbusd's Modbus RTU server (rtu.h). */
#include "rtu.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame.h"
#include "ow_log.h"

static const struct {
    int baud;
    speed_t speed;
} bauds[] = {
    {.baud = 1200, .speed = B1200},   {.baud = 2400, .speed = B2400},
    {.baud = 4800, .speed = B4800},   {.baud = 9600, .speed = B9600},
    {.baud = 19200, .speed = B19200}, {.baud = 38400, .speed = B38400},
    {.baud = 57600, .speed = B57600}, {.baud = 115200, .speed = B115200},
};

speed_t ow_mb_baud_speed(int baud)
{
    for (size_t i = 0; i < sizeof bauds / sizeof bauds[0]; i++)
        if (bauds[i].baud == baud) return bauds[i].speed;
    return 0;
}

struct ow_mb_rtu {
    char device[128];
    int baud;
    char parity;
    const ow_mb_units_t *units;
    int fd; /* -1 while lost */
    /* The frame being received: room past the longest (256), so that one
     * ends by silence and only more than that is rejected as overlong. */
    uint8_t buf[OW_MB_RTU_MAX + 4];
    size_t n;
    int64_t last_us, gap_us; /* last byte, inter-frame silence (3.5 characters) */
    int down;                /* lost: logged once, reopened with backoff */
    int64_t retry_us, backoff_us, lost_us, up_us, check_us;
    int attempts;
    dev_t rdev; /* of the open line, to notice the path now names another */
    ow_mb_rtu_stats_t st;
};

static int open_line(ow_mb_rtu_t *r, char *err, size_t errlen)
{
    speed_t sp = ow_mb_baud_speed(r->baud);
    if (!sp) {
        snprintf(err, errlen, "unsupported baud rate %d", r->baud);
        return -1;
    }
    int fd = open(r->device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
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
    if (r->parity != 'N') tio.c_cflag |= PARENB;
    if (r->parity == 'O') tio.c_cflag |= PARODD;
    if (tcsetattr(fd, TCSANOW, &tio) < 0) {
        snprintf(err, errlen, "tcsetattr: %s", strerror(errno));
        close(fd);
        return -1;
    }
    /* What waited in the line's buffer before we (re)opened it is a master's
     * request that timed out long ago, or half of one: not a frame to answer. */
    tcflush(fd, TCIFLUSH);
    r->fd = fd;
    r->n = 0;
    r->rdev = st.st_rdev;
    /* 3.5 characters of 11 bits; the spec fixes 1.75 ms above 19200 baud.
     * modbusd's loop wakes every 10 ms, so in practice a frame ends after
     * ~10 ms of silence, still far below any master's response timeout. */
    r->gap_us = r->baud > 19200 ? 1750 : 38500000 / r->baud;
    return 0;
}

/* The line went away (read error, hang-up, the device node gone): close it,
 * log once, and reopen with backoff. A line that was up a while starts again
 * at the shortest delay; one that drops right after reopening keeps
 * doubling, so a flapping adapter costs a log line per backoff at most. */
static void lost(ow_mb_rtu_t *r, const char *why, int64_t now)
{
    if (r->fd >= 0) close(r->fd);
    r->fd = -1;
    r->n = 0;
    r->st.losses++;
    r->down = 1;
    r->lost_us = now;
    r->attempts = 0;
    if (r->backoff_us == 0 || now - r->up_us > 2 * OW_MB_RTU_BACKOFF_MAX)
        r->backoff_us = OW_MB_RTU_BACKOFF_MIN;
    r->retry_us = now + r->backoff_us;
    log_warnx("rtu %s: line lost (%s), loss %llu: reopening in %.1f s, backoff doubling to %d s",
              r->device, why, (unsigned long long)r->st.losses, (double)r->backoff_us / 1e6,
              OW_MB_RTU_BACKOFF_MAX / 1000000);
}

static void retry(ow_mb_rtu_t *r, int64_t now)
{
    char err[256];
    if (!r->down || now < r->retry_us) return;
    r->attempts++;
    if (open_line(r, err, sizeof err) == 0) {
        r->down = 0;
        r->st.reopens++;
        r->up_us = now;
        log_info("rtu %s: reopened after %.1f s (%d attempt(s))", r->device,
                 (double)(now - r->lost_us) / 1e6, r->attempts);
        return;
    }
    r->backoff_us =
        r->backoff_us * 2 > OW_MB_RTU_BACKOFF_MAX ? OW_MB_RTU_BACKOFF_MAX : r->backoff_us * 2;
    r->retry_us = now + r->backoff_us;
    log_debug("rtu %s: reopen attempt %d: %s; next in %.1f s", r->device, r->attempts, err,
              (double)r->backoff_us / 1e6);
}

/* Once a second: is the path still the device we hold open? A USB adapter
 * unplugged and a pty whose other side went away can leave an fd that
 * neither errors nor hangs up on some drivers. */
static void check(ow_mb_rtu_t *r, int64_t now)
{
    struct stat st;
    if (r->fd < 0 || now < r->check_us) return;
    r->check_us = now + 1000000;
    if (stat(r->device, &st) < 0)
        lost(r, strerror(errno), now);
    else if (st.st_rdev != r->rdev)
        lost(r, "the path names another device now", now);
}

/* A complete frame (silence seen): check CRC, answer if the unit is ours. */
static void frame(ow_mb_rtu_t *r, int64_t now)
{
    uint8_t out[OW_MB_RTU_MAX];
    char why[128];
    ow_mb_frame_t f;
    size_t n = r->n;
    r->n = 0;
    if (ow_mb_rtu_frame(r->buf, n, &f, why, sizeof why) < 0) {
        r->st.bad_frames++;
        log_warnx("rtu %s: bad frame (%s): ignored", r->device, why);
        return;
    }
    const ow_mb_image_t *img = ow_mb_unit_image(r->units, f.unit);
    /* Another slave's request on a shared line, or broadcast: no answer. */
    if (f.unit == 0 || !img) return;
    size_t rl = ow_mb_handle(img, f.pdu, f.pdulen, out + 1);
    out[0] = f.unit;
    uint16_t crc = ow_mb_crc16(out, rl + 1);
    out[rl + 1] = (uint8_t)crc;
    out[rl + 2] = (uint8_t)(crc >> 8);
    r->st.requests++;
    ssize_t w = write(r->fd, out, rl + 3);
    if (w < 0 && errno != EAGAIN)
        lost(r, strerror(errno), now);
    else if (w != (ssize_t)(rl + 3))
        log_warnx("rtu %s: answer cut short (%zd of %zu bytes)", r->device, w, rl + 3);
}

/* Read what the line has; a hang-up, an error or end of file is a loss. */
static void input(ow_mb_rtu_t *r, short revents, int64_t now)
{
    ssize_t n = 0;
    if (revents & POLLIN) {
        n = read(r->fd, r->buf + r->n, sizeof r->buf - r->n);
        if (n > 0) {
            r->n += (size_t)n;
            r->last_us = now;
            if (r->n == sizeof r->buf) frame(r, now); /* overlong: rejected there */
            return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    }
    char why[128];
    if (n < 0)
        snprintf(why, sizeof why, "read: %s", strerror(errno));
    else if (revents & POLLIN)
        snprintf(why, sizeof why, "end of file");
    else
        snprintf(why, sizeof why, "%s",
                 revents & POLLNVAL  ? "invalid descriptor"
                 : revents & POLLERR ? "error on the line"
                                     : "hang-up");
    lost(r, why, now);
}

ow_mb_rtu_t *ow_mb_rtu_new(const char *device, int baud, char parity, const ow_mb_units_t *units,
                           int64_t now_us)
{
    ow_mb_rtu_t *r = calloc(1, sizeof *r);
    char err[256];
    if (!r) return NULL;
    snprintf(r->device, sizeof r->device, "%s", device);
    r->baud = baud;
    r->parity = parity;
    r->units = units;
    r->fd = -1;
    /* A USB adapter may enumerate after we start: retried like a loss. */
    if (open_line(r, err, sizeof err) < 0)
        lost(r, err, now_us);
    else
        log_info("RTU on %s, %d baud, parity %c", r->device, r->baud, r->parity);
    r->up_us = now_us;
    return r;
}

int ow_mb_rtu_fd(const ow_mb_rtu_t *r)
{
    return r ? r->fd : -1;
}

int ow_mb_rtu_pending(const ow_mb_rtu_t *r)
{
    return r && r->n > 0;
}

void ow_mb_rtu_step(ow_mb_rtu_t *r, short revents, int64_t now_us)
{
    if (!r) return;
    if (r->fd >= 0 && revents)
        input(r, revents, now_us);
    else if (r->n && now_us - r->last_us >= r->gap_us)
        frame(r, now_us);
    check(r, now_us);
    retry(r, now_us);
}

const ow_mb_rtu_stats_t *ow_mb_rtu_stats(const ow_mb_rtu_t *r)
{
    static const ow_mb_rtu_stats_t none;
    return r ? &r->st : &none;
}

void ow_mb_rtu_destroy(ow_mb_rtu_t **rp)
{
    ow_mb_rtu_t *r = *rp;
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    free(r);
    *rp = NULL;
}
