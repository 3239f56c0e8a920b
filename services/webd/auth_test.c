/* auth.c: the users file created from the initial password (0600, must
 * change), logins against it, the same answer for an unknown user, the
 * throttle's lock and its doubling on an injected clock, session idle and
 * maximum lifetimes, the password change, the admin's changes (the last
 * admin kept), the file read back, and corrupt files refused naming the
 * file and the place. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "ow_test.h"

static int64_t clock_us = 1000000;
static int64_t fake_now(void)
{
    return clock_us;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

int main(void)
{
    char dir[] = "/tmp/webd-auth-XXXXXX", users[256], pwf[256], err[512];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(users, sizeof users, "%s/users.json", dir);
    snprintf(pwf, sizeof pwf, "%s/pw", dir);
    unsetenv("CREDENTIALS_DIRECTORY");
    ow_web_auth_cfg_t cfg = {.users_file = users,
                             .initial_password_file = pwf,
                             .session_idle_s = 600,
                             .session_max_s = 3600,
                             .login_failures = 3,
                             .login_lock_s = 60,
                             .now_us = fake_now};

    /* No initial password: refused, naming what to provide. */
    CHECK(ow_web_auth_new(&cfg, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "services.webd.initial_password_file");
    ow_web_auth_cfg_t nocfg = cfg;
    nocfg.initial_password_file = "";
    CHECK(ow_web_auth_new(&nocfg, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "does not exist and there is no initial admin password");
    write_file(pwf, "short\n");
    CHECK(ow_web_auth_new(&cfg, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "10..");

    write_file(pwf, "initial-secret-1\n");
    ow_web_auth_t *a = ow_web_auth_new(&cfg, err, sizeof err);
    CHECK_MSG(a != NULL, "%s", err);
    struct stat st;
    CHECK(stat(users, &st) == 0 && (st.st_mode & 0777) == 0600);

    ow_web_login_t lg;
    CHECK(ow_web_auth_login(a, "admin", "initial-secret-1", "10.0.0.1", &lg) == OW_LOGIN_OK);
    CHECK_STR(lg.who.name, "admin");
    CHECK(lg.who.roles == OW_WEB_ALL && lg.who.must_change == 1);
    CHECK(strlen(lg.token) == OW_WEB_TOKEN_LEN && strlen(lg.who.csrf) == 32);
    char tok[OW_WEB_TOKEN_LEN + 1], other[OW_WEB_TOKEN_LEN + 1];
    memcpy(tok, lg.token, sizeof tok);
    ow_web_who_t who;
    CHECK(ow_web_auth_session(a, tok, &who) == 0 && who.must_change == 1);
    CHECK_STR(who.csrf, lg.who.csrf);
    CHECK(ow_web_auth_login(a, "admin", "initial-secret-1", "10.0.0.1", &lg) == OW_LOGIN_OK);
    memcpy(other, lg.token, sizeof other);
    CHECK(ow_web_auth_session(a, other, &who) == 0 && strcmp(other, tok) != 0);
    CHECK(ow_web_auth_session(a, "forged-token-forged-token-forged-token-xxxx", &who) == -1);
    CHECK(ow_web_auth_session(a, "", &who) == -1);

    /* Password change: too short, the same, a wrong old one, then done. */
    char why[256];
    CHECK(ow_web_auth_password(a, "admin", "initial-secret-1", "short", tok, why, sizeof why) ==
          422);
    CHECK(ow_web_auth_password(a, "admin", "initial-secret-1", "initial-secret-1", tok, why,
                               sizeof why) == 422);
    CHECK(ow_web_auth_password(a, "admin", "wrong-old-pass", "brand-new-pass", tok, why,
                               sizeof why) == 403);
    CHECK(ow_web_auth_password(a, "admin", "initial-secret-1", "brand-new-pass", tok, why,
                               sizeof why) == 0);
    CHECK(ow_web_auth_session(a, tok, &who) == 0 && who.must_change == 0);
    /* Another session of admin's ended with the change; this one stayed. */
    CHECK(ow_web_auth_session(a, other, &who) == -1);

    /* Wrong password and unknown user: the same answer. After 3 failures
     * (login_failures) the name is locked 60 s, even for the right
     * password; then 120 s after the next failure, capped at 900 s. */
    CHECK(ow_web_auth_login(a, "admin", "nope-nope-1", "10.0.0.2", &lg) == OW_LOGIN_BAD);
    CHECK(ow_web_auth_login(a, "nobody", "nope-nope-1", "10.0.0.3", &lg) == OW_LOGIN_BAD);
    CHECK(ow_web_auth_login(a, "admin", "nope-nope-2", "10.0.0.4", &lg) == OW_LOGIN_BAD);
    CHECK(ow_web_auth_login(a, "admin", "nope-nope-3", "10.0.0.5", &lg) == OW_LOGIN_BAD);
    CHECK(ow_web_auth_login(a, "admin", "brand-new-pass", "10.0.0.6", &lg) == OW_LOGIN_LOCKED);
    CHECK_MSG(lg.retry_after_s == 60, "%d", lg.retry_after_s);
    clock_us += 59 * 1000000;
    CHECK(ow_web_auth_login(a, "admin", "brand-new-pass", "10.0.0.6", &lg) == OW_LOGIN_LOCKED);
    CHECK_MSG(lg.retry_after_s == 1, "%d", lg.retry_after_s);
    clock_us += 1000000;
    CHECK(ow_web_auth_login(a, "admin", "nope-nope-4", "10.0.0.7", &lg) == OW_LOGIN_BAD);
    CHECK(ow_web_auth_login(a, "admin", "brand-new-pass", "10.0.0.6", &lg) == OW_LOGIN_LOCKED);
    CHECK_MSG(lg.retry_after_s == 120, "%d", lg.retry_after_s);
    clock_us += 120 * 1000000;
    /* A success clears the name's count: the next failure does not lock. */
    CHECK(ow_web_auth_login(a, "admin", "brand-new-pass", "10.0.0.6", &lg) == OW_LOGIN_OK);
    CHECK(ow_web_auth_login(a, "admin", "nope-nope-5", "10.0.0.8", &lg) == OW_LOGIN_BAD);
    CHECK(ow_web_auth_login(a, "admin", "brand-new-pass", "10.0.0.6", &lg) == OW_LOGIN_OK);
    memcpy(tok, lg.token, sizeof tok);

    /* By address: 3 failures from one address lock it for any name. */
    for (int i = 0; i < 3; i++)
        CHECK(ow_web_auth_login(a, i == 1 ? "x" : "y", "nope-nope", "10.9.9.9", &lg) ==
              OW_LOGIN_BAD);
    CHECK(ow_web_auth_login(a, "admin", "brand-new-pass", "10.9.9.9", &lg) == OW_LOGIN_LOCKED);
    CHECK(lg.retry_after_s == 60);
    /* The doubling stops at 900 s. */
    for (int i = 0; i < 6; i++) {
        clock_us += 901 * 1000000LL;
        CHECK(ow_web_auth_login(a, "y", "nope-nope", "10.9.9.9", &lg) == OW_LOGIN_BAD);
    }
    CHECK(ow_web_auth_login(a, "admin", "brand-new-pass", "10.9.9.9", &lg) == OW_LOGIN_LOCKED);
    CHECK_MSG(lg.retry_after_s == 900, "%d", lg.retry_after_s);
    ow_web_auth_stats_t s = ow_web_auth_stats(a);
    CHECK_MSG(s.logins_ok == 4 && s.logins_failed == 15 && s.logins_locked == 5,
              "ok %llu failed %llu locked %llu", (unsigned long long)s.logins_ok,
              (unsigned long long)s.logins_failed, (unsigned long long)s.logins_locked);

    /* Session lifetimes: idle 600 s, max 3600 s (that login was 6 x 901 s ago). */
    CHECK(ow_web_auth_session(a, tok, &who) == -1);
    clock_us += 1000 * 1000000LL;
    CHECK(ow_web_auth_login(a, "admin", "brand-new-pass", "10.0.0.1", &lg) == OW_LOGIN_OK);
    memcpy(tok, lg.token, sizeof tok);
    clock_us += 599 * 1000000LL;
    CHECK(ow_web_auth_session(a, tok, &who) == 0);
    clock_us += 599 * 1000000LL;
    CHECK(ow_web_auth_session(a, tok, &who) == 0); /* used: idle restarts */
    clock_us += 601 * 1000000LL;
    CHECK(ow_web_auth_session(a, tok, &who) == -1);
    CHECK(ow_web_auth_login(a, "admin", "brand-new-pass", "10.0.0.1", &lg) == OW_LOGIN_OK);
    memcpy(tok, lg.token, sizeof tok);
    for (int i = 0; i < 6; i++) {
        clock_us += 590 * 1000000LL;
        CHECK(ow_web_auth_session(a, tok, &who) == 0);
    }
    clock_us += 70 * 1000000LL; /* 3610 s after login, 70 s after its last use */
    CHECK(ow_web_auth_session(a, tok, &who) == -1);
    CHECK(ow_web_auth_stats(a).sessions_expired == 3);
    CHECK(ow_web_auth_login(a, "admin", "brand-new-pass", "10.0.0.1", &lg) == OW_LOGIN_OK);
    memcpy(tok, lg.token, sizeof tok);
    /* alive: the session lasts, but asking does not keep it from idling. */
    CHECK(ow_web_auth_alive(a, tok) == 1);
    clock_us += 400 * 1000000LL;
    CHECK(ow_web_auth_alive(a, tok) == 1);
    clock_us += 400 * 1000000LL;
    CHECK(ow_web_auth_alive(a, tok) == 0);
    CHECK(ow_web_auth_login(a, "admin", "brand-new-pass", "10.0.0.1", &lg) == OW_LOGIN_OK);
    memcpy(tok, lg.token, sizeof tok);
    ow_web_auth_logout(a, tok);
    CHECK(ow_web_auth_session(a, tok, &who) == -1);
    CHECK(ow_web_auth_alive(a, tok) == 0);

    /* Admin changes. */
    json_t *eng = json_pack("[s,s]", "engineer", "operator"), *adm = json_pack("[s]", "admin");
    json_t *none = json_array(), *badr = json_pack("[s]", "root");
    CHECK(ow_web_auth_admin(a, "admin", "create", "alice", eng, "alice-pass-1", why, sizeof why) ==
          0);
    CHECK(ow_web_auth_admin(a, "admin", "create", "alice", eng, "alice-pass-1", why, sizeof why) ==
          409);
    CHECK(ow_web_auth_admin(a, "admin", "create", "bob", badr, "bob-pass-123", why, sizeof why) ==
          422);
    CHECK_CONTAINS(why, "roles[0]: not a role");
    CHECK(ow_web_auth_admin(a, "admin", "create", "bad name", eng, "bob-pass-123", why,
                            sizeof why) == 422);
    /* a name alarmd's audit could not carry after "webd/" is no user */
    CHECK(ow_web_auth_admin(a, "admin", "create", "bob@example.org", eng, "bob-pass-123", why,
                            sizeof why) == 422);
    CHECK_CONTAINS(why, "alarmd's audit");
    CHECK(ow_web_auth_admin(a, "admin", "create", "b234567890123456789012345678901x", eng,
                            "bob-pass-123", why, sizeof why) == 422);
    CHECK(ow_web_auth_admin(a, "admin", "create", "b23456789012345678901234567890x", eng,
                            "bob-pass-123", why, sizeof why) == 0);
    CHECK(ow_web_auth_admin(a, "admin", "delete", "b23456789012345678901234567890x", NULL, NULL,
                            why, sizeof why) == 0);
    CHECK(ow_web_auth_admin(a, "admin", "create", "bob", eng, "short", why, sizeof why) == 422);
    CHECK(ow_web_auth_admin(a, "admin", "roles", "admin", none, NULL, why, sizeof why) == 409);
    CHECK_CONTAINS(why, "last admin");
    CHECK(ow_web_auth_admin(a, "admin", "delete", "admin", NULL, NULL, why, sizeof why) == 409);
    CHECK(ow_web_auth_admin(a, "admin", "delete", "carol", NULL, NULL, why, sizeof why) == 404);
    CHECK(ow_web_auth_login(a, "alice", "alice-pass-1", "10.0.0.1", &lg) == OW_LOGIN_OK);
    CHECK(lg.who.must_change == 1 &&
          lg.who.roles == (OW_WEB_VIEW | OW_WEB_OPERATE | OW_WEB_ENGINEER));
    memcpy(tok, lg.token, sizeof tok);
    CHECK(ow_web_auth_admin(a, "admin", "roles", "alice", adm, NULL, why, sizeof why) == 0);
    CHECK(ow_web_auth_session(a, tok, &who) == 0 && who.roles == (OW_WEB_VIEW | OW_WEB_ADMIN));
    CHECK(ow_web_auth_admin(a, "admin", "reset", "alice", NULL, "alice-pass-2", why, sizeof why) ==
          0);
    CHECK(ow_web_auth_session(a, tok, &who) == -1); /* a reset ends the sessions */
    CHECK(ow_web_auth_admin(a, "alice", "delete", "admin", NULL, NULL, why, sizeof why) == 0);
    json_t *list = ow_web_auth_users(a);
    CHECK(json_array_size(json_object_get(list, "users")) == 1);
    json_decref(list);
    ow_web_auth_destroy(&a);
    CHECK(a == NULL);

    /* Read back: alice, admin only, must change. */
    a = ow_web_auth_new(&cfg, err, sizeof err);
    CHECK_MSG(a != NULL, "%s", err);
    CHECK(ow_web_auth_login(a, "alice", "alice-pass-2", "10.0.0.1", &lg) == OW_LOGIN_OK);
    CHECK(lg.who.roles == (OW_WEB_VIEW | OW_WEB_ADMIN) && lg.who.must_change == 1);
    CHECK(ow_web_auth_login(a, "admin", "brand-new-pass", "10.0.0.1", &lg) == OW_LOGIN_BAD);
    ow_web_auth_destroy(&a);
    json_decref(eng);
    json_decref(adm);
    json_decref(none);
    json_decref(badr);

    /* Corrupt files: refused, naming the file and where. */
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"[{\"name\": \"a\",", "users.json:1:"},
        {"{}", "users.json: expected an array of users"},
        {"[{\"name\": \"a b\", \"hash\": \"$argon2id$x\", \"roles\": []}]", "users.json: [0].name"},
        {"[{\"name\": \"a\", \"hash\": \"plain\", \"roles\": []}]", "users.json: [0].hash"},
        {"[{\"name\": \"a\", \"hash\": \"$argon2id$x\", \"roles\": [\"god\"]}]",
         "users.json: [0].roles[0]: not a role"},
        {"[{\"name\": \"a\", \"hash\": \"$argon2id$x\", \"roles\": []}, {\"name\": \"a\", "
         "\"hash\": \"$argon2id$x\", \"roles\": []}]",
         "users.json: [1].name: \"a\" is there twice"},
        {"[{\"name\": \"a\", \"hash\": \"$argon2id$x\", \"roles\": [], \"must_change\": 1}]",
         "[0].must_change"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(users, bad[i].text);
        CHECK_MSG(ow_web_auth_new(&cfg, err, sizeof err) == NULL, "%s accepted", bad[i].text);
        CHECK_CONTAINS(err, users);
        CHECK_CONTAINS(err, bad[i].want);
    }
    unlink(users);
    unlink(pwf);
    rmdir(dir);
    return ow_test_done("webd_auth_test");
}
