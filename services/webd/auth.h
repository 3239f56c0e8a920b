/* webd's users and sessions: the users file (Argon2id hashes, roles),
 * sessions held in memory with their CSRF token, and the login throttle.
 * Thread-safe: the HTTP pool's threads call it at once. */
#ifndef OW_WEB_AUTH_H
#define OW_WEB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "web.h"
#include "webd.h"

#define OW_WEB_TOKEN_LEN    43 /* 32 random bytes, base64url without padding */
#define OW_WEB_USERS_MAX    256
#define OW_WEB_PASSWORD_MIN 10
#define OW_WEB_LOCK_MAX_S   900

/* Role names (the JSON of the API and of the users file). */
const char *ow_web_role_name(unsigned bit);
json_t *ow_web_roles_json(unsigned roles);
/* An array of role names; every user may view, so OW_WEB_VIEW is always
 * set. 0, or -1 with the reason in why. */
int ow_web_roles_parse(const json_t *arr, unsigned *roles, char *why, size_t len);
/* 1 when name is 1..47 of [A-Za-z0-9_.@-]. */
int ow_web_name_ok(const char *name);

typedef struct {
    char name[OW_WEB_NAME_MAX];
    char hash[128]; /* crypto_pwhash_str */
    unsigned roles;
    int must_change;
} ow_web_user_t;

/* The users file's text: users (up to max) and their count, or -1 with
 * "FILE:LINE:COL: reason" / "FILE: [i].key: reason" in err. Duplicate
 * names and unknown roles are errors: webd never guesses who may do what. */
int ow_web_users_parse(const char *text, size_t len, const char *file, ow_web_user_t *users,
                       int max, char *err, size_t errlen);

typedef struct {
    const char *users_file;
    const char *initial_password_file; /* NULL or "": the credentials directories */
    int session_idle_s, session_max_s;
    int login_failures, login_lock_s;
    int64_t (*now_us)(void); /* NULL: the monotonic clock (tests inject theirs) */
} ow_web_auth_cfg_t;

/* Loads the users file, or creates it with "admin" (every role, the
 * initial password, must_change) when it does not exist. NULL with err. */
ow_web_auth_t *ow_web_auth_new(const ow_web_auth_cfg_t *cfg, char *err, size_t errlen);
void ow_web_auth_destroy(ow_web_auth_t **a);

enum { OW_LOGIN_OK, OW_LOGIN_BAD, OW_LOGIN_LOCKED, OW_LOGIN_ERROR };
typedef struct {
    char token[OW_WEB_TOKEN_LEN + 1]; /* the session cookie's value */
    ow_web_who_t who;
    int retry_after_s; /* OW_LOGIN_LOCKED */
} ow_web_login_t;

/* One login attempt from peer: OW_LOGIN_*. The same answer (BAD) for an
 * unknown user and a wrong password, after the same work. */
int ow_web_auth_login(ow_web_auth_t *a, const char *user, const char *password, const char *peer,
                      ow_web_login_t *out);
/* The session of a cookie's token: 0 and who (roles as the users file
 * says now), or -1 (unknown, expired, its user deleted). Marks it used. */
int ow_web_auth_session(ow_web_auth_t *a, const char *token, ow_web_who_t *who);
void ow_web_auth_logout(ow_web_auth_t *a, const char *token);
/* 1 while the session of token lasts, without marking it used (an open
 * event stream is not a user at the keyboard); the hub's alive callback. */
int ow_web_auth_alive(void *a, const char *token);
/* The user's own password change: 0, or an HTTP status with why. The
 * user's other sessions end; the one holding keep_token (NULL: none) stays. */
int ow_web_auth_password(ow_web_auth_t *a, const char *user, const char *old, const char *pw,
                         const char *keep_token, char *why, size_t len);

/* Admin: {users: [{name, user (the same), roles, must_change}]}, never hashes. */
json_t *ow_web_auth_users(ow_web_auth_t *a);
/* Admin changes, by `by`: op "create" (name, roles, password), "roles"
 * (name, roles), "reset" (name, password: must_change again, its sessions
 * end), "delete" (name; not the last admin). 0, or an HTTP status with why. */
int ow_web_auth_admin(ow_web_auth_t *a, const char *by, const char *op, const char *name,
                      const json_t *roles, const char *password, char *why, size_t len);

typedef struct {
    uint64_t logins_ok, logins_failed, logins_locked, sessions_expired;
} ow_web_auth_stats_t;
ow_web_auth_stats_t ow_web_auth_stats(ow_web_auth_t *a);

/* Handlers (api_auth.c): rows of routes.c. */
int ow_api_login(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_logout(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_me(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_password(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_users_get(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_users_post(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_users_delete(ow_web_req_t *rq, ow_web_resp_t *rs);

#endif
