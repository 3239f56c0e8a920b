/* webd's users, sessions and login throttle (auth.h). The users file is
 * the only state on disk; sessions live in memory (a restart logs every
 * browser out, which is the safe direction). */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ow_log.h"
#include "ow_schema.h"

#define SESSIONS_MAX 1024
#define THROTTLE_MAX 2048
#define CSRF_LEN     32 /* 24 random bytes, base64url */

/* clang-format off */
static const struct {
    const char *name;
    unsigned bit;
} role_names[] = {
    {"viewer", OW_WEB_VIEW},
    {"operator", OW_WEB_OPERATE},
    {"engineer", OW_WEB_ENGINEER},
    {"breaker", OW_WEB_BREAKER},
    {"admin", OW_WEB_ADMIN},
};
/* clang-format on */
#define NROLES (sizeof role_names / sizeof role_names[0])

const char *ow_web_role_name(unsigned bit)
{
    for (size_t i = 0; i < NROLES; i++)
        if (role_names[i].bit == bit) return role_names[i].name;
    return "?";
}

json_t *ow_web_roles_json(unsigned roles)
{
    json_t *a = json_array();
    for (size_t i = 0; i < NROLES; i++)
        if (roles & role_names[i].bit) json_array_append_new(a, json_string(role_names[i].name));
    return a;
}

int ow_web_roles_parse(const json_t *arr, unsigned *roles, char *why, size_t len)
{
    size_t i;
    const json_t *e;
    unsigned r = OW_WEB_VIEW;
    if (!json_is_array(arr)) {
        snprintf(why, len,
                 "expected an array of role names (viewer, operator, engineer, "
                 "breaker, admin)");
        return -1;
    }
    json_array_foreach(arr, i, e)
    {
        size_t k = 0;
        while (k < NROLES &&
               !(json_is_string(e) && strcmp(json_string_value(e), role_names[k].name) == 0))
            k++;
        if (k == NROLES) {
            snprintf(why, len, "[%zu]: not a role (viewer, operator, engineer, breaker, admin)", i);
            return -1;
        }
        r |= role_names[k].bit;
    }
    *roles = r;
    return 0;
}

/* A user name is what alarmd's audit trail carries after "webd/" (an id of
 * the protocol: 1..31 of A-Z a-z 0-9 _ . -), so every change a user makes
 * can name them; "alice@example.org" would be a user who could log in but
 * never act. */
int ow_web_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n >= 1 && n < OW_ID_MAX && n < OW_WEB_NAME_MAX &&
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

int ow_web_users_parse(const char *text, size_t len, const char *file, ow_web_user_t *users,
                       int max, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    size_t i;
    json_t *u;
    char why[160];
    int n = 0;
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: %s", file, je.line, je.column, je.text);
        return -1;
    }
    if (!json_is_array(root)) {
        snprintf(err, errlen, "%s: expected an array of users", file);
        goto fail;
    }
    if ((int)json_array_size(root) > max) {
        snprintf(err, errlen, "%s: more than %d users", file, max);
        goto fail;
    }
    json_array_foreach(root, i, u)
    {
        ow_web_user_t *w = &users[n];
        json_t *name = json_object_get(u, "name"), *hash = json_object_get(u, "hash");
        json_t *mc = json_object_get(u, "must_change");
        memset(w, 0, sizeof *w);
        if (!json_is_object(u)) {
            snprintf(err, errlen, "%s: [%zu]: expected an object {name, hash, roles}", file, i);
            goto fail;
        }
        if (!json_is_string(name) || !ow_web_name_ok(json_string_value(name))) {
            snprintf(err, errlen, "%s: [%zu].name: expected 1..%d of A-Z a-z 0-9 _ . -", file, i,
                     OW_ID_MAX - 1);
            goto fail;
        }
        snprintf(w->name, sizeof w->name, "%s", json_string_value(name));
        for (int k = 0; k < n; k++)
            if (strcmp(users[k].name, w->name) == 0) {
                snprintf(err, errlen, "%s: [%zu].name: \"%s\" is there twice", file, i, w->name);
                goto fail;
            }
        if (!json_is_string(hash) || json_string_length(hash) >= sizeof w->hash ||
            strncmp(json_string_value(hash), "$argon2id$", 10) != 0) {
            snprintf(err, errlen, "%s: [%zu].hash: expected an Argon2id hash ($argon2id$...)", file,
                     i);
            goto fail;
        }
        snprintf(w->hash, sizeof w->hash, "%s", json_string_value(hash));
        if (ow_web_roles_parse(json_object_get(u, "roles"), &w->roles, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s: [%zu].roles%s%s", file, i, why[0] == '[' ? "" : ": ", why);
            goto fail;
        }
        if (mc && !json_is_boolean(mc)) {
            snprintf(err, errlen, "%s: [%zu].must_change: expected true or false", file, i);
            goto fail;
        }
        w->must_change = json_is_true(mc);
        n++;
    }
    json_decref(root);
    return n;
fail:
    json_decref(root);
    return -1;
}

typedef struct {
    char token[OW_WEB_TOKEN_LEN + 1];
    char csrf[CSRF_LEN + 1];
    char user[OW_WEB_NAME_MAX];
    int64_t created_us, seen_us;
    int used;
} session_t;

/* A throttle entry: "a:ADDRESS" or "u:NAME". */
typedef struct {
    char key[OW_WEB_NAME_MAX + 72];
    int failures;
    int64_t until_us, last_us;
} throttle_t;

struct ow_web_auth {
    pthread_mutex_t mu;
    char file[OW_WEBD_PATH_MAX];
    ow_web_auth_cfg_t cfg;
    ow_web_user_t users[OW_WEB_USERS_MAX];
    int nusers;
    session_t sessions[SESSIONS_MAX];
    throttle_t throttle[THROTTLE_MAX];
    char dummy[128]; /* verified against when the user is unknown: no timing oracle */
    ow_web_auth_stats_t st;
};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now(const ow_web_auth_t *a)
{
    return a->cfg.now_us ? a->cfg.now_us() : mono_us();
}

static void random_token(char *out, size_t outlen, size_t nbytes)
{
    unsigned char b[32];
    randombytes_buf(b, nbytes);
    sodium_bin2base64(out, outlen, b, nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(b, sizeof b);
}

static int hash_password(const char *pw, char out[128])
{
    return crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

/* The users file, replaced whole: a crash leaves the old one or the new. */
static int save(ow_web_auth_t *a, char *why, size_t len)
{
    json_t *root = json_array();
    for (int i = 0; i < a->nusers; i++)
        json_array_append_new(root, json_pack("{s:s, s:s, s:o, s:b}", "name", a->users[i].name,
                                              "hash", a->users[i].hash, "roles",
                                              ow_web_roles_json(a->users[i].roles), "must_change",
                                              a->users[i].must_change));
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    char tmp[OW_WEBD_PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", a->file);
    int fd = text ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    size_t n = text ? strlen(text) : 0;
    int ok =
        fd >= 0 && write(fd, text, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    int e = errno;
    if (fd >= 0 && close(fd) < 0) ok = 0;
    free(text);
    if (!ok || rename(tmp, a->file) < 0) {
        if (ok) e = errno;
        snprintf(why, len, "%s: cannot write the users file: %s", a->file, strerror(e));
        unlink(tmp);
        return -1;
    }
    /* The rename itself on disk: a power cut must not bring back a deleted
     * user or an old password. */
    char dir[OW_WEBD_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", a->file);
    char *slash = strrchr(dir, '/');
    if (slash) *(slash == dir ? slash + 1 : slash) = '\0';
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* The first admin's password: the configured file, else a credential. */
static int initial_password(const ow_web_auth_cfg_t *cfg, char *pw, size_t pwlen, char *from,
                            size_t fromlen, char *err, size_t errlen)
{
    char paths[3][OW_WEBD_PATH_MAX];
    int n = 0;
    const char *cred = getenv("CREDENTIALS_DIRECTORY");
    if (cfg->initial_password_file && cfg->initial_password_file[0])
        snprintf(paths[n++], sizeof paths[0], "%s", cfg->initial_password_file);
    else {
        if (cred && cred[0]) snprintf(paths[n++], sizeof paths[0], "%s/webd.admin_password", cred);
        snprintf(paths[n++], sizeof paths[0], "/run/secrets/webd.admin_password");
    }
    for (int i = 0; i < n; i++) {
        char why[256];
        size_t len;
        char *text = ow_file_read(paths[i], 4096, &len, why, sizeof why);
        if (!text) {
            if (cfg->initial_password_file && cfg->initial_password_file[0]) {
                snprintf(err, errlen, "services.webd.initial_password_file: %s", why);
                return -1;
            }
            continue;
        }
        text[strcspn(text, "\r\n")] = '\0';
        size_t pl = strlen(text);
        int ok = pl >= OW_WEB_PASSWORD_MIN && pl < pwlen;
        if (ok) memcpy(pw, text, pl + 1);
        sodium_memzero(text, len);
        free(text);
        if (!ok) {
            snprintf(err, errlen, "%s: the initial admin password must be %d..%zu characters",
                     paths[i], OW_WEB_PASSWORD_MIN, pwlen - 1);
            return -1;
        }
        snprintf(from, fromlen, "%.*s", (int)fromlen - 1, paths[i]);
        return 0;
    }
    snprintf(err, errlen,
             "%s does not exist and there is no initial admin password to create it with: set "
             "services.webd.initial_password_file, or give the credential webd.admin_password "
             "($CREDENTIALS_DIRECTORY or /run/secrets)",
             cfg->users_file);
    return -1;
}

ow_web_auth_t *ow_web_auth_new(const ow_web_auth_cfg_t *cfg, char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium did not initialise");
        return NULL;
    }
    ow_web_auth_t *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&a->mu, NULL);
    a->cfg = *cfg;
    snprintf(a->file, sizeof a->file, "%s", cfg->users_file);
    a->cfg.users_file = a->file;
    a->cfg.initial_password_file = NULL; /* read here only */
    char dpw[33];
    random_token(dpw, sizeof dpw, 24);
    if (hash_password(dpw, a->dummy) < 0) {
        snprintf(err, errlen, "out of memory hashing a password");
        goto fail;
    }
    struct stat stt;
    if (stat(a->file, &stt) == 0) {
        char why[256];
        size_t len;
        char *text = ow_file_read(a->file, 1 << 20, &len, why, sizeof why);
        if (!text) {
            snprintf(err, errlen, "%s", why);
            goto fail;
        }
        a->nusers = ow_web_users_parse(text, len, a->file, a->users, OW_WEB_USERS_MAX, err, errlen);
        free(text);
        if (a->nusers < 0) goto fail;
        if ((stt.st_mode & 077) != 0)
            log_warnx("%s is readable by others (mode %03o): it holds password hashes", a->file,
                      (unsigned)(stt.st_mode & 0777));
        log_info("%s: %d user(s)", a->file, a->nusers);
        return a;
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "%s: %s", a->file, strerror(errno));
        goto fail;
    }
    char pw[256], from[OW_WEBD_PATH_MAX + 32];
    if (initial_password(cfg, pw, sizeof pw, from, sizeof from, err, errlen) < 0) goto fail;
    ow_web_user_t *u = &a->users[0];
    snprintf(u->name, sizeof u->name, "admin");
    u->roles = OW_WEB_ALL;
    u->must_change = 1;
    int hr = hash_password(pw, u->hash);
    sodium_memzero(pw, sizeof pw);
    if (hr < 0) {
        snprintf(err, errlen, "out of memory hashing a password");
        goto fail;
    }
    a->nusers = 1;
    if (save(a, err, errlen) < 0) goto fail;
    log_info("%s created: user admin, every role, the password of %s (to be changed at first "
             "login)",
             a->file, from);
    return a;
fail:
    ow_web_auth_destroy(&a);
    return NULL;
}

void ow_web_auth_destroy(ow_web_auth_t **ap)
{
    ow_web_auth_t *a = *ap;
    if (!a) return;
    pthread_mutex_destroy(&a->mu);
    sodium_memzero(a, sizeof *a);
    free(a);
    *ap = NULL;
}

static ow_web_user_t *find_user(ow_web_auth_t *a, const char *name)
{
    for (int i = 0; i < a->nusers; i++)
        if (strcmp(a->users[i].name, name) == 0) return &a->users[i];
    return NULL;
}

/* The throttle entry of key; with make, a new one (the least recently used
 * replaced when full: a flood of made-up names only ages the others out). */
static throttle_t *throttle(ow_web_auth_t *a, const char *kind, const char *what, int make,
                            int64_t t)
{
    char key[sizeof a->throttle[0].key];
    throttle_t *old = &a->throttle[0];
    snprintf(key, sizeof key, "%s:%s", kind, what);
    for (int i = 0; i < THROTTLE_MAX; i++) {
        throttle_t *e = &a->throttle[i];
        if (e->key[0] && strcmp(e->key, key) == 0) return e;
        if (e->last_us < old->last_us || (old->key[0] && !e->key[0])) old = e;
    }
    if (!make) return NULL;
    memset(old, 0, sizeof *old);
    snprintf(old->key, sizeof old->key, "%s", key);
    old->last_us = t;
    return old;
}

static void throttle_fail(const ow_web_auth_t *a, throttle_t *e, int64_t t)
{
    e->failures++;
    e->last_us = t;
    if (e->failures < a->cfg.login_failures) return;
    int64_t lock_s = a->cfg.login_lock_s;
    for (int k = a->cfg.login_failures; k < e->failures && lock_s < OW_WEB_LOCK_MAX_S; k++)
        lock_s *= 2;
    if (lock_s > OW_WEB_LOCK_MAX_S) lock_s = OW_WEB_LOCK_MAX_S;
    e->until_us = t + lock_s * 1000000;
}

static int locked_for_s(const throttle_t *e, int64_t t)
{
    if (!e || e->until_us <= t) return 0;
    return (int)((e->until_us - t + 999999) / 1000000);
}

static void fill_who(const ow_web_user_t *u, const session_t *s, ow_web_who_t *who)
{
    memset(who, 0, sizeof *who);
    snprintf(who->name, sizeof who->name, "%s", u->name);
    who->roles = u->roles | OW_WEB_VIEW;
    who->must_change = u->must_change;
    snprintf(who->csrf, sizeof who->csrf, "%s", s->csrf);
}

int ow_web_auth_login(ow_web_auth_t *a, const char *user, const char *password, const char *peer,
                      ow_web_login_t *out)
{
    char hash[128];
    /* Log a name only when it is one: a password typed into the name field
     * must not end up in the log. */
    const char *logname = ow_web_name_ok(user) ? user : "(not a user name)";
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&a->mu);
    int64_t t = now(a);
    int wait = locked_for_s(throttle(a, "a", peer, 0, t), t);
    int wu = locked_for_s(throttle(a, "u", logname, 0, t), t);
    if (wu > wait) wait = wu;
    if (wait > 0) {
        a->st.logins_locked++;
        pthread_mutex_unlock(&a->mu);
        out->retry_after_s = wait;
        log_warnx("login %s from %s refused: too many failures, locked for %d s more", logname,
                  peer, wait);
        return OW_LOGIN_LOCKED;
    }
    const ow_web_user_t *u = ow_web_name_ok(user) ? find_user(a, user) : NULL;
    snprintf(hash, sizeof hash, "%s", u ? u->hash : a->dummy);
    pthread_mutex_unlock(&a->mu);

    /* The slow part outside the lock: other requests go on meanwhile. */
    int ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 && u;

    pthread_mutex_lock(&a->mu);
    t = now(a);
    u = ok ? find_user(a, user) : NULL; /* deleted meanwhile: not a login */
    if (!u) {
        throttle_fail(a, throttle(a, "a", peer, 1, t), t);
        throttle_fail(a, throttle(a, "u", logname, 1, t), t);
        a->st.logins_failed++;
        pthread_mutex_unlock(&a->mu);
        log_warnx("login %s from %s failed", logname, peer);
        return OW_LOGIN_BAD;
    }
    throttle_t *eu = throttle(a, "u", user, 0, t);
    if (eu) memset(eu, 0, sizeof *eu);
    /* A new session; when full, the least recently used one ends. */
    session_t *s = &a->sessions[0];
    for (int i = 0; i < SESSIONS_MAX; i++) {
        if (!a->sessions[i].used) {
            s = &a->sessions[i];
            break;
        }
        if (a->sessions[i].seen_us < s->seen_us) s = &a->sessions[i];
    }
    memset(s, 0, sizeof *s);
    s->used = 1;
    random_token(s->token, sizeof s->token, 32);
    random_token(s->csrf, sizeof s->csrf, 24);
    snprintf(s->user, sizeof s->user, "%s", u->name);
    s->created_us = s->seen_us = t;
    memcpy(out->token, s->token, sizeof out->token);
    fill_who(u, s, &out->who);
    a->st.logins_ok++;
    pthread_mutex_unlock(&a->mu);
    log_info("login %s from %s ok%s", u->name, peer,
             out->who.must_change ? " (must change the password)" : "");
    return OW_LOGIN_OK;
}

/* The session holding token, compared in constant time. Under a->mu. */
static session_t *find_session(ow_web_auth_t *a, const char *token)
{
    if (strlen(token) != OW_WEB_TOKEN_LEN) return NULL;
    for (int i = 0; i < SESSIONS_MAX; i++)
        if (a->sessions[i].used &&
            sodium_memcmp(a->sessions[i].token, token, OW_WEB_TOKEN_LEN) == 0)
            return &a->sessions[i];
    return NULL;
}

int ow_web_auth_session(ow_web_auth_t *a, const char *token, ow_web_who_t *who)
{
    pthread_mutex_lock(&a->mu);
    int64_t t = now(a);
    session_t *s = find_session(a, token);
    const ow_web_user_t *u = s ? find_user(a, s->user) : NULL;
    if (s && (!u || t - s->seen_us > (int64_t)a->cfg.session_idle_s * 1000000 ||
              t - s->created_us > (int64_t)a->cfg.session_max_s * 1000000)) {
        if (u) {
            a->st.sessions_expired++;
            log_info("session of %s expired (%s)", s->user,
                     t - s->created_us > (int64_t)a->cfg.session_max_s * 1000000 ? "max lifetime"
                                                                                 : "idle");
        }
        memset(s, 0, sizeof *s);
        s = NULL;
    }
    if (s) {
        s->seen_us = t;
        fill_who(u, s, who);
    }
    pthread_mutex_unlock(&a->mu);
    return s ? 0 : -1;
}

int ow_web_auth_alive(void *ap, const char *token)
{
    ow_web_auth_t *a = ap;
    pthread_mutex_lock(&a->mu);
    int64_t t = now(a);
    const session_t *s = find_session(a, token);
    const ow_web_user_t *u = s ? find_user(a, s->user) : NULL;
    int ok = u && t - s->seen_us <= (int64_t)a->cfg.session_idle_s * 1000000 &&
             t - s->created_us <= (int64_t)a->cfg.session_max_s * 1000000;
    pthread_mutex_unlock(&a->mu);
    return ok;
}

void ow_web_auth_logout(ow_web_auth_t *a, const char *token)
{
    pthread_mutex_lock(&a->mu);
    session_t *s = find_session(a, token);
    if (s) {
        log_info("logout %s", s->user);
        memset(s, 0, sizeof *s);
    }
    pthread_mutex_unlock(&a->mu);
}

static void end_sessions(ow_web_auth_t *a, const char *user)
{
    for (int i = 0; i < SESSIONS_MAX; i++)
        if (a->sessions[i].used && strcmp(a->sessions[i].user, user) == 0)
            memset(&a->sessions[i], 0, sizeof a->sessions[i]);
}

static int password_ok(const char *pw, char *why, size_t len)
{
    if (strlen(pw) < OW_WEB_PASSWORD_MIN || strlen(pw) > 200) {
        snprintf(why, len, "a password has %d to 200 characters", OW_WEB_PASSWORD_MIN);
        return 0;
    }
    return 1;
}

int ow_web_auth_password(ow_web_auth_t *a, const char *user, const char *old, const char *pw,
                         const char *keep_token, char *why, size_t len)
{
    char hash[128], nh[128];
    if (!password_ok(pw, why, len)) return 422;
    if (strcmp(old, pw) == 0) {
        snprintf(why, len, "the new password must differ from the old one");
        return 422;
    }
    pthread_mutex_lock(&a->mu);
    const ow_web_user_t *u = find_user(a, user);
    snprintf(hash, sizeof hash, "%s", u ? u->hash : a->dummy);
    pthread_mutex_unlock(&a->mu);
    if (!u || crypto_pwhash_str_verify(hash, old, strlen(old)) != 0) {
        log_warnx("password change of %s refused: the old password is wrong", user);
        snprintf(why, len, "the old password is wrong");
        return 403;
    }
    if (hash_password(pw, nh) < 0) {
        snprintf(why, len, "out of memory");
        return 500;
    }
    pthread_mutex_lock(&a->mu);
    ow_web_user_t *w = find_user(a, user);
    int rc = 0;
    if (!w) {
        snprintf(why, len, "no such user");
        rc = 404;
    } else {
        ow_web_user_t keep = *w;
        memcpy(w->hash, nh, sizeof w->hash);
        w->must_change = 0;
        if (save(a, why, len) < 0) {
            *w = keep;
            rc = 500;
        } else {
            /* Whoever knew the old password is logged out everywhere but
             * here. */
            for (int i = 0; i < SESSIONS_MAX; i++)
                if (a->sessions[i].used && strcmp(a->sessions[i].user, user) == 0 &&
                    !(keep_token && strlen(keep_token) == OW_WEB_TOKEN_LEN &&
                      sodium_memcmp(a->sessions[i].token, keep_token, OW_WEB_TOKEN_LEN) == 0))
                    memset(&a->sessions[i], 0, sizeof a->sessions[i]);
        }
    }
    pthread_mutex_unlock(&a->mu);
    if (rc == 0) log_info("password of %s changed by %s", user, user);
    return rc;
}

json_t *ow_web_auth_users(ow_web_auth_t *a)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < a->nusers; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:b}", "name", a->users[i].name,
                                             "user", a->users[i].name, "roles",
                                             ow_web_roles_json(a->users[i].roles), "must_change",
                                             a->users[i].must_change));
    pthread_mutex_unlock(&a->mu);
    return json_pack("{s:o}", "users", arr);
}

static int admins(const ow_web_auth_t *a)
{
    int n = 0;
    for (int i = 0; i < a->nusers; i++)
        n += (a->users[i].roles & OW_WEB_ADMIN) != 0;
    return n;
}

int ow_web_auth_admin(ow_web_auth_t *a, const char *by, const char *op, const char *name,
                      const json_t *roles, const char *password, char *why, size_t len)
{
    static const char *const ops[] = {"create", "roles", "reset", "delete"};
    int k = 0;
    unsigned r = 0;
    char hash[128] = "", rwhy[160];
    while (k < 4 && strcmp(op, ops[k]) != 0)
        k++;
    if (k == 4) {
        snprintf(why, len, "op must be create, roles, reset or delete");
        return 400;
    }
    if (!ow_web_name_ok(name)) {
        snprintf(why, len, "name: 1..%d of A-Z a-z 0-9 _ . - (alarmd's audit names the user)",
                 OW_ID_MAX - 1);
        return 422;
    }
    if ((k == 0 || k == 1) && ow_web_roles_parse(roles, &r, rwhy, sizeof rwhy) < 0) {
        snprintf(why, len, "roles%s%s", rwhy[0] == '[' ? "" : ": ", rwhy);
        return 422;
    }
    if (k == 0 || k == 2) {
        if (!password || !password_ok(password, why, len)) {
            if (!password) snprintf(why, len, "password: required");
            return 422;
        }
        if (hash_password(password, hash) < 0) {
            snprintf(why, len, "out of memory");
            return 500;
        }
    }
    pthread_mutex_lock(&a->mu);
    ow_web_user_t *u = find_user(a, name);
    ow_web_user_t saved[OW_WEB_USERS_MAX];
    int nsaved = a->nusers, rc = 0;
    memcpy(saved, a->users, sizeof(ow_web_user_t) * (size_t)a->nusers);
    if (k == 0 && u) {
        snprintf(why, len, "user %s exists", name);
        rc = 409;
    } else if (k == 0 && a->nusers >= OW_WEB_USERS_MAX) {
        snprintf(why, len, "at most %d users", OW_WEB_USERS_MAX);
        rc = 409;
    } else if (k != 0 && !u) {
        snprintf(why, len, "no user %s", name);
        rc = 404;
    } else if (k == 0) {
        u = &a->users[a->nusers++];
        memset(u, 0, sizeof *u);
        snprintf(u->name, sizeof u->name, "%s", name);
        memcpy(u->hash, hash, sizeof u->hash);
        u->roles = r;
        u->must_change = 1;
    } else if (k == 1) {
        u->roles = r;
        if (admins(a) == 0) {
            snprintf(why, len, "%s is the last admin: give another user admin first", name);
            rc = 409;
        }
    } else if (k == 2) {
        memcpy(u->hash, hash, sizeof u->hash);
        u->must_change = 1;
    } else {
        if ((u->roles & OW_WEB_ADMIN) && admins(a) == 1) {
            snprintf(why, len, "%s is the last admin: it cannot be deleted", name);
            rc = 409;
        } else {
            *u = a->users[--a->nusers];
        }
    }
    if (rc == 0 && save(a, why, len) < 0) rc = 500;
    if (rc) {
        memcpy(a->users, saved, sizeof(ow_web_user_t) * (size_t)nsaved);
        a->nusers = nsaved;
    } else if (k >= 2) {
        end_sessions(a, name); /* a reset or deleted user is logged out everywhere */
    }
    pthread_mutex_unlock(&a->mu);
    sodium_memzero(hash, sizeof hash);
    if (rc == 0) {
        json_t *rj = k < 2 ? ow_web_roles_json(r) : NULL;
        char *rs = rj ? json_dumps(rj, JSON_COMPACT) : NULL;
        json_decref(rj);
        log_info("users: %s %s by %s%s%s", op, name, by, rs ? ", roles " : "", rs ? rs : "");
        free(rs);
    }
    return rc;
}

ow_web_auth_stats_t ow_web_auth_stats(ow_web_auth_t *a)
{
    pthread_mutex_lock(&a->mu);
    ow_web_auth_stats_t s = a->st;
    pthread_mutex_unlock(&a->mu);
    return s;
}
