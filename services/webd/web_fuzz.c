/* libFuzzer target: the bytes webd takes from outside that its own code
 * parses (libmicrohttpd parses HTTP itself). The first byte picks the
 * parser: 0 a Cookie header (and the same bytes as a static path and a
 * file name), 1 the users file, 2 a request body as http.c parses it and
 * as the handlers read it (names, roles), 3 that body into the login
 * handler, 4 into the users handlers as an admin. Each must be refused
 * with a message or accepted holding its promises; nothing may crash, leak
 * or read out of bounds. The handlers run against a users file in a
 * temporary directory; the clock stands still and one failure locks, so
 * after the first wrong password no input costs an Argon2id hash, and a
 * body's password is dropped before the users handlers for the same
 * reason (what a password does is auth_test's). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cookie(const char *s)
{
    char v[OW_WEB_TOKEN_LEN + 8];
    if (ow_web_cookie(s, "ow_session", v, sizeof v) == 0 &&
        (strlen(v) >= sizeof v || !strstr(s, "ow_session=")))
        abort();
    /* A path accepted has no ".." segment, whatever else it holds. */
    if (ow_web_path_ok(s) && (strstr(s, "/../") || strstr(s, "\\") || s[0] != '/')) abort();
    const char *t = ow_web_mime(s);
    if (t && !strchr(s, '.')) abort();
}

static void users(const char *s, size_t len)
{
    static ow_web_user_t u[OW_WEB_USERS_MAX];
    char err[512];
    err[0] = '\0';
    int n = ow_web_users_parse(s, len, "users.json", u, OW_WEB_USERS_MAX, err, sizeof err);
    if (n < 0 && !strstr(err, "users.json")) abort();
    for (int i = 0; i < n; i++) {
        if (!ow_web_name_ok(u[i].name) || !(u[i].roles & OW_WEB_VIEW) || u[i].roles & ~OW_WEB_ALL)
            abort();
        for (int k = 0; k < i; k++)
            if (strcmp(u[i].name, u[k].name) == 0) abort();
    }
}

static void body(const char *s, size_t len)
{
    json_error_t je;
    json_t *j = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        if (je.line < -1 || !je.text[0]) abort();
        return;
    }
    const json_t *user = json_object_get(j, "user");
    if (json_is_string(user)) (void)ow_web_name_ok(json_string_value(user));
    unsigned r = 0;
    char why[160];
    const json_t *roles = json_object_get(j, "roles");
    if (ow_web_roles_parse(roles ? roles : j, &r, why, sizeof why) == 0) {
        if (!(r & OW_WEB_VIEW) || r & ~OW_WEB_ALL) abort();
        /* What was read names back the same. */
        json_t *back = ow_web_roles_json(r);
        unsigned r2 = 0;
        if (ow_web_roles_parse(back, &r2, why, sizeof why) < 0 || r2 != r) abort();
        json_decref(back);
    } else if (!why[0]) {
        abort();
    }
    json_decref(j);
}

static int64_t frozen(void)
{
    return 1000000;
}

static char dir[] = "/tmp/web-fuzz-XXXXXX", users_file[96], pw[96];

static void cleanup(void)
{
    unlink(users_file);
    rmdir(dir);
}

/* A webd with only its users: admin (every role) and its initial password. */
static ow_webd_t *webd(void)
{
    static ow_webd_t d;
    char err[512];
    if (d.auth) return &d;
    if (!mkdtemp(dir)) abort();
    atexit(cleanup);
    snprintf(users_file, sizeof users_file, "%s/users.json", dir);
    snprintf(pw, sizeof pw, "%s/pw", dir);
    FILE *f = fopen(pw, "w");
    if (!f) abort();
    fputs("fuzz-initial-pw\n", f);
    fclose(f);
    ow_web_auth_cfg_t c = {.users_file = users_file,
                           .initial_password_file = pw,
                           .session_idle_s = 60,
                           .session_max_s = 60,
                           .login_failures = 1,
                           .login_lock_s = 900,
                           .now_us = frozen};
    d.auth = ow_web_auth_new(&c, err, sizeof err);
    if (!d.auth) abort();
    unlink(pw);
    return &d;
}

static void handler(const char *s, size_t len, int users_api)
{
    static const ow_web_who_t admin = {.name = "admin", .roles = OW_WEB_ALL, .csrf = "x"};
    json_t *j = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL);
    if (!j) return;
    ow_web_req_t rq = {
        .d = webd(), .method = "POST", .body = s, .body_len = len, .json = j, .who = &admin};
    snprintf(rq.peer, sizeof rq.peer, "192.0.2.1");
    ow_web_resp_t rs = {0};
    if (!users_api) {
        rq.who = NULL;
        ow_api_login(&rq, &rs);
    } else {
        json_object_del(j, "password");
        if (len && s[0] == '{' && strstr(s, "\"delete\""))
            ow_api_users_delete(&rq, &rs);
        else
            ow_api_users_post(&rq, &rs);
    }
    /* Every answer is a status and a JSON body. */
    if (rs.status < 200 || rs.status > 599 || !rs.body) abort();
    json_t *back = json_loads(rs.body, 0, NULL);
    if (!back) abort();
    json_decref(back);
    free(rs.body);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) return 0;
    char *s = malloc(size);
    if (!s) return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 5) {
    case 0:
        cookie(s);
        break;
    case 1:
        users(s, size - 1);
        break;
    case 2:
        body(s, size - 1);
        break;
    case 3:
        handler(s, size - 1, 0);
        break;
    default:
        handler(s, size - 1, 1);
        break;
    }
    free(s);
    return 0;
}
