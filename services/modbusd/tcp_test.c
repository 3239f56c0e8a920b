/* tcp: the Modbus TCP server on a loopback port, driven step by step as
 * modbusd's loop drives it: a request answered with the transaction id
 * echoed and the unit's registers, an unknown unit answered 0B, a stream
 * that is not Modbus TCP dropped, an idle client dropped, an address
 * outside the allow-list closed unanswered, and a narrowed allow-list
 * (a reload) dropping a standing client. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ow_clock.h"
#include "ow_test.h"
#include "tcp.h"

static struct pollfd pf[16];

/* One turn of modbusd's loop, as far as TCP goes. */
static void turn(ow_mb_tcp_t *t, int64_t now)
{
    int n = ow_mb_tcp_pollfds(t, pf);
    poll(pf, (nfds_t)n, 20);
    ow_mb_tcp_step(t, pf, n, now);
}

static int connect_to(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A client connected and taken into a slot. */
static int accepted(ow_mb_tcp_t *t, int port, int64_t now)
{
    int fd = connect_to(port), before = ow_mb_tcp_clients(t);
    for (int i = 0; i < 20 && ow_mb_tcp_clients(t) == before; i++)
        turn(t, now);
    CHECK(fd >= 0 && ow_mb_tcp_clients(t) == before + 1);
    return fd;
}

/* Bytes the server sent (0: closed, -1: nothing), turning the loop meanwhile. */
static ssize_t reply(ow_mb_tcp_t *t, int fd, uint8_t *buf, size_t len, int64_t now)
{
    for (int i = 0; i < 50; i++) {
        turn(t, now);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) == 1) return recv(fd, buf, len, 0);
    }
    return -1;
}

int main(void)
{
    static ow_modbusd_cfg_t cfg;
    char err[256];
    cfg.listen_addr = INADDR_LOOPBACK;
    cfg.listen_port = 0; /* the kernel's choice */
    snprintf(cfg.listen, sizeof cfg.listen, "127.0.0.1:0");
    cfg.idle_timeout_ms = 10000;
    cfg.max_clients = 4;
    for (int u = 0; u < 256; u++)
        cfg.unit_gw[u] = -1;
    cfg.unit_gw[5] = 0;
    ow_mb_scale_t sc;
    ow_mb_scale_default(&sc);
    static ow_mb_image_t img[1];
    ow_mb_image_init(&img[0], &sc, 2, 9);
    ow_mb_units_t units = {.unit_gw = cfg.unit_gw, .img = img};

    ow_mb_tcp_t *t = ow_mb_tcp_new(&cfg, &units, err, sizeof err);
    CHECK_MSG(t != NULL, "%s", err);
    if (!t) return ow_test_done("tcp");
    int port = ow_mb_tcp_port(t);
    CHECK(port > 0);
    int64_t now = ow_mono_us();

    /* Unit 5, transaction 0x1234: registers 1003..1004 = 2 strings, 9 modules. */
    int fd = connect_to(port);
    CHECK(fd >= 0);
    uint8_t q[] = {0x12, 0x34, 0, 0, 0, 6, 5, 0x04, 0x03, 0xEB, 0, 2}, a[300];
    CHECK(send(fd, q, sizeof q, 0) == (ssize_t)sizeof q);
    ssize_t n = reply(t, fd, a, sizeof a, now);
    CHECK_MSG(n == 13, "%zd", n);
    CHECK(a[0] == 0x12 && a[1] == 0x34 && a[2] == 0 && a[3] == 0 && a[4] == 0 && a[5] == 7 &&
          a[6] == 5 && a[7] == 0x04 && a[8] == 4 && a[9] == 0 && a[10] == 2 && a[11] == 0 &&
          a[12] == 9);
    CHECK(ow_mb_tcp_clients(t) == 1 && ow_mb_tcp_stats(t)->requests == 1);
    /* Unit 6 has no gateway: 0B. */
    q[6] = 6;
    CHECK(send(fd, q, sizeof q, 0) == (ssize_t)sizeof q);
    n = reply(t, fd, a, sizeof a, now);
    CHECK(n == 9 && a[5] == 3 && a[6] == 6 && a[7] == 0x84 && a[8] == 0x0B);
    /* Protocol id 1 is not Modbus TCP: no way to resynchronise, dropped. */
    q[3] = 1;
    CHECK(send(fd, q, sizeof q, 0) == (ssize_t)sizeof q);
    CHECK(reply(t, fd, a, sizeof a, now) == 0);
    CHECK(ow_mb_tcp_clients(t) == 0 && ow_mb_tcp_stats(t)->bad_frames == 1);
    close(fd);

    /* Silent past idle_timeout_ms: dropped. */
    fd = accepted(t, port, now);
    CHECK(reply(t, fd, a, sizeof a, now + 10001000) == 0);
    CHECK(ow_mb_tcp_clients(t) == 0 && ow_mb_tcp_stats(t)->dropped_idle == 1);
    close(fd);

    /* A standing client, then the allow-list narrows (a reload): dropped. */
    fd = accepted(t, port, now);
    cfg.nallow = 1;
    cfg.allow_net[0] = 0x0A000000u;
    cfg.allow_mask[0] = 0xFF000000u;
    ow_mb_tcp_enforce_allow(t);
    CHECK(ow_mb_tcp_clients(t) == 0);
    CHECK(reply(t, fd, a, sizeof a, now) == 0);
    close(fd);
    /* And a newcomer from outside it is closed unanswered. */
    fd = connect_to(port);
    q[3] = 0;
    q[6] = 5;
    CHECK(send(fd, q, sizeof q, 0) == (ssize_t)sizeof q);
    CHECK(reply(t, fd, a, sizeof a, now) <= 0);
    CHECK(ow_mb_tcp_clients(t) == 0 && ow_mb_tcp_stats(t)->refused == 1);
    close(fd);

    ow_mb_tcp_destroy(&t);
    CHECK(t == NULL);
    return ow_test_done("tcp");
}
