/* The auth API's handlers (routes.c rows): login, logout, me, password,
 * and the admin's user management. auth.c keeps the state. */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "http.h"
#include "ow_log.h"

static const char *str(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *who_json(const ow_web_who_t *w)
{
    return json_pack("{s:s, s:o, s:b, s:s}", "user", w->name, "roles", ow_web_roles_json(w->roles),
                     "must_change", w->must_change, "csrf", w->csrf);
}

int ow_api_login(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    const char *user = str(rq->json, "user"), *pw = str(rq->json, "password");
    ow_web_login_t lg;
    if (!user) return ow_web_error(rs, 400, "user", "user: expected a string");
    if (!pw) return ow_web_error(rs, 400, "password", "password: expected a string");
    switch (ow_web_auth_login(rq->d->auth, user, pw, rq->peer, &lg)) {
    case OW_LOGIN_OK:
        snprintf(rs->set_cookie, sizeof rs->set_cookie,
                 "ow_session=%s; Path=/; HttpOnly; Secure; SameSite=Strict", lg.token);
        return ow_web_json(rs, 200, who_json(&lg.who));
    case OW_LOGIN_LOCKED:
        return ow_web_json(rs, 429,
                           json_pack("{s:s, s:i}", "error",
                                     "too many failed logins: try again later", "retry_after_s",
                                     lg.retry_after_s));
    default:
        return ow_web_error(rs, 401, NULL, "wrong user name or password");
    }
}

int ow_api_logout(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    char token[OW_WEB_TOKEN_LEN + 8];
    const char *ck = ow_web_header(rq, "Cookie");
    if (ck && ow_web_cookie(ck, "ow_session", token, sizeof token) == 0)
        ow_web_auth_logout(rq->d->auth, token);
    snprintf(rs->set_cookie, sizeof rs->set_cookie,
             "ow_session=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    return ow_web_json(rs, 200, json_object());
}

int ow_api_me(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    return ow_web_json(rs, 200, who_json(rq->who));
}

int ow_api_password(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    const char *old = str(rq->json, "old"), *pw = str(rq->json, "new");
    char why[256];
    if (!old) return ow_web_error(rs, 400, "old", "old: expected a string");
    if (!pw) return ow_web_error(rs, 400, "new", "new: expected a string");
    char token[OW_WEB_TOKEN_LEN + 8] = "";
    const char *ck = ow_web_header(rq, "Cookie");
    if (ck) ow_web_cookie(ck, "ow_session", token, sizeof token);
    int st = ow_web_auth_password(rq->d->auth, rq->who->name, old, pw, token, why, sizeof why);
    if (st) return ow_web_error(rs, st, st == 403 ? "old" : "new", "%s", why);
    return ow_web_json(rs, 200, json_object());
}

int ow_api_users_get(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    return ow_web_json(rs, 200, ow_web_auth_users(rq->d->auth));
}

/* The users page's one form: a new name is created (password required,
 * must_change), a known one gets the roles given and, with a password, an
 * initial password again (must_change; its sessions end). */
int ow_api_users_post(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    const char *name = str(rq->json, "user"), *pw = str(rq->json, "password");
    const json_t *roles = json_object_get(rq->json, "roles");
    char why[256];
    int st = 0;
    if (!name) return ow_web_error(rs, 400, "user", "user: expected a string");
    if (pw && !pw[0]) pw = NULL;
    json_t *list = ow_web_auth_users(rq->d->auth), *u;
    size_t i;
    int exists = 0;
    json_array_foreach(json_object_get(list, "users"), i, u) exists |=
        strcmp(json_string_value(json_object_get(u, "name")), name) == 0;
    json_decref(list);
    if (!exists) {
        json_t *viewer = roles ? NULL : json_pack("[s]", "viewer");
        st = ow_web_auth_admin(rq->d->auth, rq->who->name, "create", name, roles ? roles : viewer,
                               pw, why, sizeof why);
        json_decref(viewer);
        if (st)
            return ow_web_error(rs, st, st == 422 ? (pw ? "roles" : "password") : "user", "%s",
                                why);
        return ow_web_json(rs, 200, json_object());
    }
    if (roles)
        st = ow_web_auth_admin(rq->d->auth, rq->who->name, "roles", name, roles, NULL, why,
                               sizeof why);
    if (!st && pw)
        st =
            ow_web_auth_admin(rq->d->auth, rq->who->name, "reset", name, NULL, pw, why, sizeof why);
    if (st) return ow_web_error(rs, st, st == 422 && pw ? "password" : "roles", "%s", why);
    return ow_web_json(rs, 200, json_object());
}

int ow_api_users_delete(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    const char *name = str(rq->json, "user");
    char why[256];
    if (!name) return ow_web_error(rs, 400, "user", "user: expected a string");
    /* An admin locking themself out by a slip is refused here; another
     * admin can do it. */
    if (strcmp(name, rq->who->name) == 0)
        return ow_web_error(rs, 422, "user", "you cannot delete yourself");
    int st =
        ow_web_auth_admin(rq->d->auth, rq->who->name, "delete", name, NULL, NULL, why, sizeof why);
    if (st) return ow_web_error(rs, st, "user", "%s", why);
    return ow_web_json(rs, 200, json_object());
}
