/* The event stream end to end on one real server (http.c + hub.c + auth.c,
 * plain HTTP on a kernel-chosen loopback port): 40 streams open at once
 * under one session, 300 events published one by one while they read, so
 * that parking and waking race on the pool's 4 threads; every stream must
 * get every id, in order, once. Then a stream that asks for Last-Event-ID
 * gets exactly what followed, and closing the hub ends every stream
 * before the server stops (it cannot stop with a connection suspended). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "http.h"
#include "hub.h"
#include "ow_test.h"

#define NSTREAMS 40
#define NEVENTS  300

typedef struct {
    int fd;
    char *buf;
    size_t len, cap;
} conn_t;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_stream(uint16_t port, const char *token, const char *extra)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) return -1;
    char req[512];
    /* HTTP/1.0: the stream comes unchunked, so ids can be read as sent. */
    int n =
        snprintf(req, sizeof req,
                 "GET /api/events HTTP/1.0\r\nHost: 127.0.0.1\r\nCookie: ow_session=%s\r\n%s\r\n",
                 token, extra);
    if (write(fd, req, (size_t)n) != n) return -1;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* Whatever has arrived on every connection; 1 if any closed. */
static int pump(conn_t *c, int n, int wait_ms)
{
    struct pollfd pf[NSTREAMS + 1];
    int closed = 0;
    for (int i = 0; i < n; i++)
        pf[i] = (struct pollfd){.fd = c[i].fd, .events = POLLIN};
    if (poll(pf, (nfds_t)n, wait_ms) <= 0) return 0;
    for (int i = 0; i < n; i++) {
        if (!(pf[i].revents & (POLLIN | POLLHUP))) continue;
        for (;;) {
            if (c[i].cap - c[i].len < 4096) {
                c[i].cap = c[i].cap ? c[i].cap * 2 : 65536;
                c[i].buf = realloc(c[i].buf, c[i].cap);
            }
            ssize_t k = read(c[i].fd, c[i].buf + c[i].len, c[i].cap - c[i].len - 1);
            if (k > 0) {
                c[i].len += (size_t)k;
                c[i].buf[c[i].len] = '\0';
                continue;
            }
            if (k == 0) closed = 1, pf[i].fd = -1;
            break;
        }
    }
    return closed;
}

/* The ids in a stream's text, checked to be first..last in order. */
static int ids_ok(const char *text, long first, long last)
{
    long want = first;
    for (const char *p = strstr(text, "\r\n\r\n"); p && (p = strstr(p, "\nid: "));) {
        p += 5;
        if (strtol(p, NULL, 10) != want) return 0;
        want++;
    }
    return want == last + 1;
}

static int has_id(const conn_t *c, long id)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\nid: %ld\n", id);
    return c->buf && strstr(c->buf, pat) != NULL;
}

int main(void)
{
    char dir[] = "/tmp/webd-sse-XXXXXX", users[256], pwf[256], err[512];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(users, sizeof users, "%s/users.json", dir);
    snprintf(pwf, sizeof pwf, "%s/pw", dir);
    FILE *f = fopen(pwf, "w");
    fputs("sse-initial-pw\n", f);
    fclose(f);

    static ow_webd_t d;
    d.cfg = (ow_webd_cfg_t){.listen = "127.0.0.1:0",
                            .listen_addr = 0x7f000001,
                            .tls = 0,
                            .max_clients = 100,
                            .timeout_s = 60};
    snprintf(d.cfg.www_dir, sizeof d.cfg.www_dir, "%s", dir);
    ow_web_auth_cfg_t ac = {.users_file = users,
                            .initial_password_file = pwf,
                            .session_idle_s = 600,
                            .session_max_s = 3600,
                            .login_failures = 5,
                            .login_lock_s = 60};
    d.auth = ow_web_auth_new(&ac, err, sizeof err);
    CHECK_MSG(d.auth != NULL, "%s", err);
    ow_web_login_t lg;
    char why[256];
    CHECK(ow_web_auth_login(d.auth, "admin", "sse-initial-pw", "127.0.0.1", &lg) == OW_LOGIN_OK);
    CHECK(ow_web_auth_password(d.auth, "admin", "sse-initial-pw", "sse-second-pw", lg.token, why,
                               sizeof why) == 0);
    d.hub = ow_web_hub_new(OW_WEB_HUB_EVENTS, OW_WEB_HUB_BYTES, ow_web_http_park, ow_web_http_wake);
    ow_web_hub_set_alive(d.hub, ow_web_auth_alive, d.auth);
    d.http = ow_web_http_new(&d, err, sizeof err);
    CHECK_MSG(d.http != NULL, "%s", err);
    uint16_t port = ow_web_http_port(d.http);
    CHECK(port != 0);

    static conn_t c[NSTREAMS + 1];
    for (int i = 0; i < NSTREAMS; i++)
        CHECK((c[i].fd = open_stream(port, lg.token, "")) >= 0);
    /* Every stream open (its response started) before the first event. */
    int64_t end = mono_ms() + 20000;
    while (ow_web_hub_stats(d.hub).open < NSTREAMS && mono_ms() < end)
        pump(c, NSTREAMS, 10);
    CHECK_MSG(ow_web_hub_stats(d.hub).open == NSTREAMS, "%llu open",
              (unsigned long long)ow_web_hub_stats(d.hub).open);

    char data[128];
    for (int e = 1; e <= NEVENTS; e++) {
        snprintf(data, sizeof data, "{\"gw\":\"g%d\",\"n\":%d}", e % 3, e);
        CHECK(ow_web_hub_publish(d.hub, "gw", data) == (uint64_t)e);
        pump(c, NSTREAMS, 0);
    }
    end = mono_ms() + 20000;
    int all = 0;
    while (!all && mono_ms() < end) {
        pump(c, NSTREAMS, 20);
        all = 1;
        for (int i = 0; i < NSTREAMS; i++)
            all &= has_id(&c[i], NEVENTS);
    }
    CHECK_MSG(all, "not every stream got id %d", NEVENTS);
    int good = 0;
    for (int i = 0; i < NSTREAMS; i++)
        good += c[i].buf && ids_ok(c[i].buf, 1, NEVENTS);
    CHECK_MSG(good == NSTREAMS, "%d of %d streams got 1..%d in order once", good, NSTREAMS,
              NEVENTS);
    CHECK(c[0].buf && strstr(c[0].buf, "Content-Type: text/event-stream") != NULL);

    /* Last-Event-ID 290: exactly 291..300, then what is published next. */
    conn_t *r = &c[NSTREAMS];
    CHECK((r->fd = open_stream(port, lg.token, "Last-Event-ID: 290\r\n")) >= 0);
    end = mono_ms() + 20000;
    while (!has_id(r, NEVENTS) && mono_ms() < end)
        pump(r, 1, 20);
    ow_web_hub_publish(d.hub, "gw", "{\"gw\":\"g0\"}");
    while (!has_id(r, NEVENTS + 1) && mono_ms() < end)
        pump(r, 1, 20);
    CHECK_MSG(r->buf && ids_ok(r->buf, 291, NEVENTS + 1), "%s", r->buf ? r->buf : "(nothing)");

    /* A forged session gets 401, not a stream. */
    conn_t bad = {0};
    CHECK((bad.fd = open_stream(port, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "")) >= 0);
    end = mono_ms() + 20000;
    while (!pump(&bad, 1, 20) && mono_ms() < end) {
    }
    CHECK_MSG(bad.buf && strncmp(bad.buf, "HTTP/1.", 7) == 0 &&
                  strncmp(bad.buf + 8, " 401", 4) == 0,
              "%.40s", bad.buf ? bad.buf : "(nothing)");

    /* Close: every parked stream woken to end, then the server stops. */
    ow_web_hub_close(d.hub);
    int closed = 0;
    end = mono_ms() + 20000;
    while (closed < NSTREAMS + 1 && mono_ms() < end) {
        pump(c, NSTREAMS + 1, 20);
        closed = 0;
        for (int i = 0; i <= NSTREAMS; i++) {
            char b;
            ssize_t k = recv(c[i].fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
            closed += k == 0;
        }
    }
    CHECK_MSG(closed == NSTREAMS + 1, "%d of %d streams ended", closed, NSTREAMS + 1);
    ow_web_http_destroy(&d.http);
    CHECK(ow_web_hub_stats(d.hub).open == 0);
    ow_web_hub_destroy(&d.hub);
    ow_web_auth_destroy(&d.auth);
    for (int i = 0; i <= NSTREAMS; i++) {
        close(c[i].fd);
        free(c[i].buf);
    }
    close(bad.fd);
    free(bad.buf);
    unlink(users);
    rmdir(dir);
    return ow_test_done("webd_sse_test");
}
