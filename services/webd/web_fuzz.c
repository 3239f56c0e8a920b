/* libFuzzer target: the bytes webd takes from outside that its own code
 * parses (libmicrohttpd parses HTTP itself). The first byte picks the
 * parser: 0 a Cookie header (and the same bytes as a static path and a
 * file name), 1 the users file, 2 a request body as http.c parses it and
 * as the login and users handlers read it (names, roles). Each must be
 * refused with a message or accepted holding its promises; nothing may
 * crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) return 0;
    char *s = malloc(size);
    if (!s) return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 3) {
    case 0:
        cookie(s);
        break;
    case 1:
        users(s, size - 1);
        break;
    default:
        body(s, size - 1);
        break;
    }
    free(s);
    return 0;
}
