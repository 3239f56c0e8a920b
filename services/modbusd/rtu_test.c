/* rtu: the baud table; a serial line played by a pseudo-terminal (the
 * test holds the master side, modbusd's RTU server opens the slave through
 * a symlink): a request answered with the right registers and CRC once its
 * silence has passed, a bad CRC and a unit that is not ours unanswered, the
 * line lost when its path goes away and reopened with backoff when it
 * comes back, and a device missing at start retried the same way. */
#define _GNU_SOURCE /* ptsname_r */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "ow_log.h"
#include "ow_test.h"
#include "rtu.h"

static int mfd;

/* Send bytes as the master, let the server read them and see the silence. */
static void send_frame(ow_mb_rtu_t *r, const uint8_t *q, size_t n, int64_t *now)
{
    CHECK(write(mfd, q, n) == (ssize_t)n);
    struct pollfd p = {.fd = ow_mb_rtu_fd(r), .events = POLLIN};
    CHECK(poll(&p, 1, 2000) == 1);
    ow_mb_rtu_step(r, p.revents, *now);
    CHECK(ow_mb_rtu_pending(r));
    *now += 40000; /* 38.5 ms: 3.5 characters at 1200 baud */
    ow_mb_rtu_step(r, 0, *now);
}

/* What the server wrote back, waiting up to ms. */
static ssize_t answer(uint8_t *buf, size_t len, int ms)
{
    struct pollfd p = {.fd = mfd, .events = POLLIN};
    if (poll(&p, 1, ms) != 1) return 0;
    usleep(20000); /* the rest of it */
    return read(mfd, buf, len);
}

static size_t request(uint8_t unit, uint8_t fc, int addr, int count, uint8_t *q, int bad_crc)
{
    q[0] = unit, q[1] = fc, q[2] = (uint8_t)(addr >> 8), q[3] = (uint8_t)addr;
    q[4] = (uint8_t)(count >> 8), q[5] = (uint8_t)count;
    uint16_t crc = ow_mb_crc16(q, 6) ^ (bad_crc ? 1 : 0);
    q[6] = (uint8_t)crc, q[7] = (uint8_t)(crc >> 8);
    return 8;
}

int main(void)
{
    ow_log_set_verbosity(OW_LOG_DEBUG); /* what the line did, should a check fail */
    CHECK(ow_mb_baud_speed(19200) == B19200 && ow_mb_baud_speed(115200) == B115200);
    CHECK(ow_mb_baud_speed(12345) == 0 && ow_mb_baud_speed(0) == 0);

    ow_mb_scale_t sc;
    ow_mb_scale_default(&sc);
    static ow_mb_image_t img[1];
    ow_mb_image_init(&img[0], &sc, 1, 4);
    int unit_gw[256];
    for (int u = 0; u < 256; u++)
        unit_gw[u] = -1;
    unit_gw[3] = 0;
    ow_mb_units_t units = {.unit_gw = unit_gw, .img = img};

    char pts[128], dir[] = "/tmp/ow-rtu-test-XXXXXX", link[256];
    mfd = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(mfd >= 0 && grantpt(mfd) == 0 && unlockpt(mfd) == 0 &&
          ptsname_r(mfd, pts, sizeof pts) == 0);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(link, sizeof link, "%s/ttyRTU", dir);
    CHECK(symlink(pts, link) == 0);
    /* The master side raw too: bytes pass unchanged both ways. */
    struct termios tio;
    if (tcgetattr(mfd, &tio) == 0) {
        cfmakeraw(&tio);
        tcsetattr(mfd, TCSANOW, &tio);
    }

    int64_t now = 1000000000;
    /* Parity N: a pty takes PARENB once, but refuses it (EINVAL) when the
     * slave is opened again, which the reopen below does. */
    ow_mb_rtu_t *r = ow_mb_rtu_new(link, 1200, 'N', &units, now);
    CHECK(r != NULL && ow_mb_rtu_fd(r) >= 0);
    if (!r) return ow_test_done("rtu");

    /* Unit 3: registers 1003..1004 = 1 string, 4 modules, with the CRC. */
    uint8_t q[8], a[64];
    send_frame(r, q, request(3, 0x04, 1003, 2, q, 0), &now);
    ssize_t n = answer(a, sizeof a, 2000);
    CHECK_MSG(n == 9, "%zd bytes", n);
    CHECK(a[0] == 3 && a[1] == 0x04 && a[2] == 4 && a[3] == 0 && a[4] == 1 && a[5] == 0 &&
          a[6] == 4);
    CHECK(n == 9 && ow_mb_crc16(a, 7) == (uint16_t)(a[7] | a[8] << 8));
    /* An exception travels the same way: 02 outside the map. */
    send_frame(r, q, request(3, 0x03, 999, 1, q, 0), &now);
    n = answer(a, sizeof a, 2000);
    CHECK(n == 5 && a[0] == 3 && a[1] == 0x83 && a[2] == 0x02);
    CHECK(ow_mb_rtu_stats(r)->requests == 2);

    /* A bad CRC is counted and ignored; another unit's request, and a
     * broadcast, get no answer. */
    send_frame(r, q, request(3, 0x04, 1003, 2, q, 1), &now);
    CHECK(answer(a, sizeof a, 200) == 0 && ow_mb_rtu_stats(r)->bad_frames == 1);
    send_frame(r, q, request(9, 0x04, 1003, 2, q, 0), &now);
    CHECK(answer(a, sizeof a, 200) == 0);
    send_frame(r, q, request(0, 0x04, 1003, 2, q, 0), &now);
    CHECK(answer(a, sizeof a, 200) == 0 && ow_mb_rtu_stats(r)->requests == 2);

    /* The path goes away: lost at the next check (once a second). */
    CHECK(unlink(link) == 0);
    now += 1100000;
    ow_mb_rtu_step(r, 0, now);
    CHECK(ow_mb_rtu_fd(r) < 0 && ow_mb_rtu_stats(r)->losses == 1);
    /* Not before its backoff; then reopened, once the path is back. */
    CHECK(symlink(pts, link) == 0);
    ow_mb_rtu_step(r, 0, now + OW_MB_RTU_BACKOFF_MIN - 1);
    CHECK(ow_mb_rtu_fd(r) < 0);
    now += OW_MB_RTU_BACKOFF_MIN;
    ow_mb_rtu_step(r, 0, now);
    CHECK(ow_mb_rtu_fd(r) >= 0 && ow_mb_rtu_stats(r)->reopens == 1);
    send_frame(r, q, request(3, 0x04, 1003, 2, q, 0), &now);
    CHECK(answer(a, sizeof a, 2000) == 9);
    ow_mb_rtu_destroy(&r);
    CHECK(r == NULL);

    /* Missing at start: a loss, retried with backoff doubling. */
    CHECK(unlink(link) == 0);
    r = ow_mb_rtu_new(link, 9600, 'N', &units, now);
    CHECK(r != NULL && ow_mb_rtu_fd(r) < 0 && ow_mb_rtu_stats(r)->losses == 1);
    ow_mb_rtu_step(r, 0, now + OW_MB_RTU_BACKOFF_MIN);
    CHECK(ow_mb_rtu_fd(r) < 0 && ow_mb_rtu_stats(r)->reopens == 0);
    CHECK(symlink(pts, link) == 0);
    ow_mb_rtu_step(r, 0, now + 2 * OW_MB_RTU_BACKOFF_MIN); /* the doubled delay not yet over */
    CHECK(ow_mb_rtu_fd(r) < 0);
    ow_mb_rtu_step(r, 0, now + 3 * OW_MB_RTU_BACKOFF_MIN);
    CHECK(ow_mb_rtu_fd(r) >= 0 && ow_mb_rtu_stats(r)->reopens == 1);
    ow_mb_rtu_destroy(&r);

    unlink(link);
    rmdir(dir);
    close(mfd);
    return ow_test_done("rtu");
}
