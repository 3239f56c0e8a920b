/* http.c's decisions without a socket: the route table walk (404/405, no
 * session, must_change, CSRF, roles), every row of routes.c well formed,
 * the Cookie header parser, the static path check and the content types. */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "ow_test.h"

static int noop(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    (void)rq, (void)rs;
    return 0;
}

int main(void)
{
    char why[160], v[64];
    int known;

    /* The real table: every row answerable and documented, no duplicates. */
    for (size_t i = 0; i < ow_web_nroutes; i++) {
        const ow_web_route_t *r = &ow_web_routes[i];
        CHECK_MSG(r->fn && r->what && r->what[0], "row %zu", i);
        CHECK_MSG(strncmp(r->path, "/api/", 5) == 0, "%s", r->path);
        CHECK_MSG(strcmp(r->method, "GET") == 0 || strcmp(r->method, "POST") == 0, "%s", r->method);
        /* A POST that changes something as a user needs the token. */
        CHECK_MSG(strcmp(r->method, "POST") != 0 || !r->role || r->csrf, "%s without csrf",
                  r->path);
        CHECK_MSG(ow_web_route_find(r->method, r->path, &known) == r, "%s %s shadowed", r->method,
                  r->path);
    }
    CHECK(ow_web_route_find("GET", "/api/nothing", &known) == NULL && !known);
    CHECK(ow_web_route_find("DELETE", "/api/me", &known) == NULL && known);
    CHECK(ow_web_route_find("GET", "/api/login", &known) == NULL && known);
    const ow_web_route_t *login = ow_web_route_find("POST", "/api/login", &known);
    CHECK(login && login->role == 0);

    const ow_web_route_t eng = {.method = "POST",
                                .path = "/api/thresholds",
                                .role = OW_WEB_VIEW | OW_WEB_ENGINEER,
                                .csrf = 1,
                                .fn = noop};
    const ow_web_route_t me = {.method = "GET", .path = "/api/me", .role = OW_WEB_VIEW, .fn = noop};
    ow_web_who_t viewer = {.name = "vic", .roles = OW_WEB_VIEW, .csrf = "tok-123"};
    ow_web_who_t engineer = {
        .name = "eve", .roles = OW_WEB_VIEW | OW_WEB_ENGINEER, .csrf = "tok-456"};
    ow_web_who_t fresh = {
        .name = "admin", .roles = OW_WEB_ALL, .must_change = 1, .csrf = "tok-789"};

    CHECK(ow_web_route_check(login, "POST", "/api/login", NULL, NULL, why, sizeof why) == 0);
    CHECK(ow_web_route_check(&me, "GET", "/api/me", NULL, NULL, why, sizeof why) == 401);
    CHECK_STR(why, "not logged in");
    CHECK(ow_web_route_check(&me, "GET", "/api/me", &viewer, NULL, why, sizeof why) == 0);
    CHECK(ow_web_route_check(&eng, "POST", "/api/thresholds", &engineer, NULL, why, sizeof why) ==
          403);
    CHECK_STR(why, "missing or wrong X-CSRF-Token");
    CHECK(ow_web_route_check(&eng, "POST", "/api/thresholds", &engineer, "tok-455", why,
                             sizeof why) == 403);
    CHECK(ow_web_route_check(&eng, "POST", "/api/thresholds", &engineer, "tok-4567", why,
                             sizeof why) == 403);
    CHECK(ow_web_route_check(&eng, "POST", "/api/thresholds", &engineer, "", why, sizeof why) ==
          403);
    CHECK(ow_web_route_check(&eng, "POST", "/api/thresholds", &engineer, "tok-456", why,
                             sizeof why) == 0);
    /* The viewer's own token is right; the role is not. */
    CHECK(ow_web_route_check(&eng, "POST", "/api/thresholds", &viewer, "tok-123", why,
                             sizeof why) == 403);
    CHECK_STR(why, "needs role engineer");
    /* must_change: only me, password, logout. */
    CHECK(ow_web_route_check(&eng, "POST", "/api/thresholds", &fresh, "tok-789", why, sizeof why) ==
          403);
    CHECK_STR(why, "password change required");
    CHECK(ow_web_route_check(&me, "GET", "/api/me", &fresh, NULL, why, sizeof why) == 0);
    const ow_web_route_t *pw = ow_web_route_find("POST", "/api/password", &known);
    CHECK(pw &&
          ow_web_route_check(pw, "POST", "/api/password", &fresh, "tok-789", why, sizeof why) == 0);
    const ow_web_route_t *ev = ow_web_route_find("GET", "/api/events", &known);
    CHECK(ev && ow_web_route_check(ev, "GET", "/api/events", &fresh, NULL, why, sizeof why) == 403);

    /* Cookies. */
    CHECK(ow_web_cookie("ow_session=abc", "ow_session", v, sizeof v) == 0);
    CHECK_STR(v, "abc");
    CHECK(ow_web_cookie("a=1; ow_session=xyz ; b=2", "ow_session", v, sizeof v) == 0);
    CHECK_STR(v, "xyz");
    CHECK(ow_web_cookie("x_ow_session=evil; ow_session=good", "ow_session", v, sizeof v) == 0);
    CHECK_STR(v, "good");
    CHECK(ow_web_cookie("ow_session=\"q\"", "ow_session", v, sizeof v) == 0);
    CHECK_STR(v, "q");
    CHECK(ow_web_cookie("ow_session=first; ow_session=second", "ow_session", v, sizeof v) == 0);
    CHECK_STR(v, "first");
    CHECK(ow_web_cookie("ow_session", "ow_session", v, sizeof v) == -1);
    CHECK(ow_web_cookie("", "ow_session", v, sizeof v) == -1);
    CHECK(ow_web_cookie(";;;=;", "ow_session", v, sizeof v) == -1);
    CHECK(ow_web_cookie("ow_session=0123456789", "ow_session", v, 10) == -1); /* too long */
    CHECK(ow_web_cookie("ow_session=", "ow_session", v, sizeof v) == 0 && v[0] == '\0');

    /* Static paths. */
    static const char *const ok[] = {
        "/", "/index.html", "/js/app.js", "/vendor/uPlot.iife.min.js", "/a..b.css", "/.well-known"};
    static const char *const bad[] = {"/../etc/passwd", "/js/../../x",  "/..",
                                      "/./index.html",  "//etc/passwd", "/a\\..\\b",
                                      "index.html",     "/a\nb",        "/js/.."};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK_MSG(ow_web_path_ok(ok[i]), "%s refused", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(!ow_web_path_ok(bad[i]), "%s accepted", bad[i]);

    CHECK_STR(ow_web_mime("/index.html"), "text/html; charset=utf-8");
    CHECK_STR(ow_web_mime("/app.js"), "text/javascript; charset=utf-8");
    CHECK_STR(ow_web_mime("/css/app.css"), "text/css; charset=utf-8");
    CHECK_STR(ow_web_mime("/favicon.svg"), "image/svg+xml");
    CHECK(ow_web_mime("/etc/shadow") == NULL && ow_web_mime(".js") == NULL);
    return ow_test_done("webd_http_test");
}
