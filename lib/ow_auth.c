/* CURVE for every ZeroMQ link, with our own ZAP handler (libzmq's RFC 27)
 * rather than czmq's zauth: the reply must carry each key's name as the
 * User-Id and its roles as metadata, so that a control request knows who
 * sent it and what they may do, and a refusal must be logged with the key
 * and the address. The allow-list is the directory of public keys: adding
 * or removing a file takes effect at the next connection (the directory's
 * mtime is checked on every ZAP request), no restart. */
#include "ow_auth.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ow_log.h"

#define KEY_TXT    41 /* Z85 of 32 bytes, and the NUL */
#define NAME_MAX_  64
#define ZAP_DOMAIN "ohmwatch"

static const struct {
    const char *name;
    unsigned bit;
} role_names[] = {
    {.name = "read", .bit = OW_ROLE_READ},
    {.name = "operate", .bit = OW_ROLE_OPERATE},
    {.name = "configure", .bit = OW_ROLE_CONFIGURE},
    {.name = "breaker", .bit = OW_ROLE_BREAKER},
};
#define NROLES (sizeof role_names / sizeof role_names[0])
/* One name per role bit: a role added to the enum needs its row here. */
_Static_assert((1u << NROLES) - 1 == OW_ROLE_ALL, "role_names names every OW_ROLE_ bit");

typedef struct {
    char ep[256];
    char server[NAME_MAX_];
} server_ep_t;

/* A long-lived client socket whose handshakes are watched. libzmq ends a
 * connecting session for good when the handshake fails with a protocol
 * error on its side (session_base_t::engine_error): one answer from a
 * rogue or misconfigured server on the port would leave busd deaf to
 * alarmd until a restart. The ZAP thread sees the failure on the socket's
 * monitor and raises `failed`; the owner's loop (ow_auth_tick) connects
 * the endpoint again a second later. */
#define MAX_WATCHED 256
typedef struct {
    void *sock; /* NULL: forgotten */
    char ep[256];
    _Atomic int failed;
    int64_t due_us;
} watched_t;
static watched_t watched[MAX_WATCHED];
static _Atomic int nwatched;
static _Atomic int nfailed; /* watched sockets with failed set: the tick's fast path */

static struct {
    int inited, curve;
    char self[NAME_MAX_];
    char keys_dir[512];
    char pub[KEY_TXT], sec[KEY_TXT];
    server_ep_t *eps;
    size_t neps;
    zactor_t *zap;
    int nmon;
    _Atomic uint64_t accepted, refused, handshake_fail;
    ow_auth_stats_t snap;
} A;

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int ow_auth_roles_parse(const char *s, unsigned *roles, char *err, size_t errlen)
{
    *roles = 0;
    while (s && *s) {
        size_t n = strcspn(s, ", ");
        size_t i;
        for (i = 0; i < NROLES; i++)
            if (n && strlen(role_names[i].name) == n && strncmp(s, role_names[i].name, n) == 0)
                break;
        if (n && i == NROLES)
            return fail(err, errlen, "unknown role '%.*s' (read, operate, configure, breaker)",
                        (int)(n > 32 ? 32 : n), s);
        if (n) *roles |= role_names[i].bit;
        s += n;
        s += strspn(s, ", ");
    }
    return 0;
}

void ow_auth_roles_format(unsigned roles, char *buf, size_t n)
{
    size_t len = 0;
    if (n) buf[0] = '\0';
    for (size_t i = 0; i < NROLES; i++)
        if (roles & role_names[i].bit && len < n)
            len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? "," : "", role_names[i].name);
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < NAME_MAX_ &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_.-") == n &&
           s[0] != '.';
}

static int valid_key(const char *k)
{
    uint8_t bin[32];
    return k && strlen(k) == 40 && zmq_z85_decode(bin, k);
}

/* A key file as czmq's zcert writes it: curve/public-key, curve/secret-key
 * (secret files only), metadata/roles (public files of the allow-list). */
typedef struct {
    char pub[KEY_TXT], sec[KEY_TXT];
    unsigned roles;
} keyfile_t;

static int load_keyfile(const char *path, int want_secret, keyfile_t *k, char *err, size_t errlen)
{
    memset(k, 0, sizeof *k);
    zconfig_t *root = zconfig_load(path);
    if (!root)
        return fail(err, errlen, "%s: %s", path,
                    access(path, F_OK) == 0 ? "not a key file (run ohmwatch keygen)"
                                            : "no such key (run ohmwatch keygen)");
    const char *p = zconfig_get(root, "curve/public-key", NULL);
    const char *s = zconfig_get(root, "curve/secret-key", NULL);
    const char *r = zconfig_get(root, "metadata/roles", "read");
    int rc = -1;
    if (!valid_key(p))
        fail(err, errlen, "%s: curve/public-key is not a 40-character Z85 key", path);
    else if (want_secret && !valid_key(s))
        fail(err, errlen, "%s: curve/secret-key is not a 40-character Z85 key", path);
    else if (ow_auth_roles_parse(r, &k->roles, err, errlen) < 0) {
        char why[128];
        snprintf(why, sizeof why, "%s", err);
        fail(err, errlen, "%s: metadata/roles: %s", path, why);
    } else {
        snprintf(k->pub, sizeof k->pub, "%s", p);
        if (want_secret) snprintf(k->sec, sizeof k->sec, "%s", s);
        k->roles |= OW_ROLE_READ;
        rc = 0;
    }
    zconfig_destroy(&root);
    return rc;
}

/* ---- the allow-list and the ZAP handler (its own thread) ---- */

typedef struct {
    char key[KEY_TXT];
    char name[NAME_MAX_];
    unsigned roles;
} allow_t;

typedef struct {
    char dir[512];
    allow_t *v;
    size_t n;
    struct timespec mtime;
    int loaded;
    zsock_t *mon[MAX_WATCHED + 32];
    char label[MAX_WATCHED + 32][96];
    int watch[MAX_WATCHED + 32]; /* index in watched[] of a client's monitor, or -1 */
    int nmon;
} zap_state_t;

static void allow_refresh(zap_state_t *z)
{
    struct stat st;
    if (stat(z->dir, &st) < 0) {
        log_warn("allow-list %s", z->dir);
        return;
    }
    if (z->loaded && st.st_mtim.tv_sec == z->mtime.tv_sec && st.st_mtim.tv_nsec == z->mtime.tv_nsec)
        return;
    DIR *d = opendir(z->dir);
    if (!d) return;
    free(z->v);
    z->v = NULL;
    z->n = 0;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".key") != 0 || len - 4 >= NAME_MAX_) continue;
        char name[NAME_MAX_], path[1024], err[512];
        snprintf(name, sizeof name, "%.*s", (int)(len - 4), e->d_name);
        if (!valid_name(name)) continue;
        snprintf(path, sizeof path, "%s/%s", z->dir, e->d_name);
        keyfile_t k;
        if (load_keyfile(path, 0, &k, err, sizeof err) < 0) {
            log_warnx("allow-list: %s (ignored)", err);
            continue;
        }
        if (z->n == cap) {
            cap = cap ? cap * 2 : 16;
            allow_t *nv = realloc(z->v, cap * sizeof *nv);
            if (!nv) break;
            z->v = nv;
        }
        allow_t *a = &z->v[z->n++];
        snprintf(a->key, sizeof a->key, "%s", k.pub);
        snprintf(a->name, sizeof a->name, "%s", name);
        a->roles = k.roles;
    }
    closedir(d);
    z->mtime = st.st_mtim;
    if (z->loaded) log_info("allow-list %s reloaded: %zu key(s)", z->dir, z->n);
    z->loaded = 1;
}

/* RFC 27 metadata: name length (1 byte), name, value length (4 bytes,
 * network order), value. */
static zframe_t *zap_metadata(const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    zframe_t *f = zframe_new(NULL, 1 + nl + 4 + vl);
    uint8_t *p = zframe_data(f);
    p[0] = (uint8_t)nl;
    memcpy(p + 1, name, nl);
    p[1 + nl] = (uint8_t)(vl >> 24);
    p[2 + nl] = (uint8_t)(vl >> 16);
    p[3 + nl] = (uint8_t)(vl >> 8);
    p[4 + nl] = (uint8_t)vl;
    memcpy(p + 5 + nl, value, vl);
    return f;
}

/* Log the first few of a kind, then every 100th: a scanner must not fill
 * the journal, but the first attempt is always visible. */
static int worth_logging(uint64_t n)
{
    return n <= 10 || n % 100 == 0;
}

static void zap_handle(zap_state_t *z, zsock_t *zap)
{
    zmsg_t *req = zmsg_recv(zap);
    if (!req) return;
    char *version = zmsg_popstr(req);
    zframe_t *reqid = zmsg_pop(req);
    char *domain = zmsg_popstr(req), *address = zmsg_popstr(req);
    zframe_t *routing = zmsg_pop(req);
    char *mech = zmsg_popstr(req);
    zframe_t *cred = zmsg_pop(req);
    const char *code = "400", *text = "not allowed";
    char user[NAME_MAX_] = "", roles[64] = "";

    if (!version || strcmp(version, "1.0") != 0 || !reqid) {
        text = "bad ZAP request";
    } else if (!mech || strcmp(mech, "CURVE") != 0 || !cred || zframe_size(cred) != 32) {
        text = "CURVE required";
        uint64_t n = ++A.refused;
        if (worth_logging(n))
            log_warnx("refused a %s connection from %s: CURVE is required (%" PRIu64 " refused)",
                      mech ? mech : "?", address ? address : "?", n);
    } else {
        char key[KEY_TXT];
        zmq_z85_encode(key, zframe_data(cred), 32);
        allow_refresh(z);
        size_t i;
        for (i = 0; i < z->n; i++)
            if (strcmp(z->v[i].key, key) == 0) break;
        if (i < z->n) {
            code = "200";
            text = "OK";
            snprintf(user, sizeof user, "%s", z->v[i].name);
            ow_auth_roles_format(z->v[i].roles, roles, sizeof roles);
            A.accepted++;
            log_debug("accepted key %s (%s) from %s", user, roles, address ? address : "?");
        } else {
            uint64_t n = ++A.refused;
            if (worth_logging(n))
                log_warnx("refused a connection from %s: CURVE key %s is not in %s "
                          "(%" PRIu64 " refused)",
                          address ? address : "?", key, z->dir, n);
        }
    }
    zmsg_t *rep = zmsg_new();
    zmsg_addstr(rep, "1.0");
    if (reqid)
        zmsg_append(rep, &reqid);
    else
        zmsg_addstr(rep, "");
    zmsg_addstr(rep, code);
    zmsg_addstr(rep, text);
    zmsg_addstr(rep, user);
    if (code[0] == '2') {
        zframe_t *meta = zap_metadata("roles", roles);
        zmsg_append(rep, &meta);
    } else {
        zmsg_addstr(rep, "");
    }
    zmsg_send(&rep, zap);
    zstr_free(&version);
    zstr_free(&domain);
    zstr_free(&address);
    zstr_free(&mech);
    zframe_destroy(&reqid);
    zframe_destroy(&routing);
    zframe_destroy(&cred);
    zmsg_destroy(&req);
}

/* A failed handshake never reaches ZAP when the peer has no CURVE at all
 * or used the wrong server key: the socket monitor is the only witness. */
static void monitor_event(zap_state_t *z, int i)
{
    zmsg_t *ev = zmsg_recv(z->mon[i]);
    if (!ev) return;
    zframe_t *f = zmsg_first(ev);
    if (f && zframe_size(f) == 6) {
        uint16_t event;
        uint32_t value;
        memcpy(&event, zframe_data(f), 2);
        memcpy(&value, zframe_data(f) + 2, 4);
        const char *why = NULL;
        if (event == ZMQ_EVENT_MONITOR_STOPPED) { /* the socket is gone */
            zmsg_destroy(&ev);
            zsock_destroy(&z->mon[i]);
            return;
        }
        if (z->watch[i] >= 0) { /* a client: reconnect (ow_auth_tick) */
            if (event != ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || value != 0)
                if (!atomic_exchange(&watched[z->watch[i]].failed, 1))
                    atomic_fetch_add(&nfailed, 1);
            zmsg_destroy(&ev);
            return;
        }
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
            why = value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
                      ? "the peer does not speak CURVE (no key, or plain links)"
                  : value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC
                      ? "the peer's handshake does not decrypt (it expects another server key)"
                      : "a malformed handshake";
        else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
            why = "the handshake failed (no CURVE, or not our server key)";
        if (why) {
            uint64_t n = ++A.handshake_fail;
            if (worth_logging(n))
                log_warnx("refused a connection on %s: %s (%" PRIu64 " failed handshakes)",
                          z->label[i], why, n);
        }
    }
    zmsg_destroy(&ev);
}

static void zap_actor(zsock_t *pipe, void *arg)
{
    zap_state_t *z = arg;
    zsock_t *zap = zsock_new(ZMQ_REP);
    if (!zap || zsock_bind(zap, "inproc://zeromq.zap.01") < 0) {
        zsock_destroy(&zap);
        zsock_signal(pipe, 1);
        return;
    }
    allow_refresh(z);
    zsock_signal(pipe, 0);
    zpoller_t *poller = zpoller_new(pipe, zap, NULL);
    while (poller) {
        void *which = zpoller_wait(poller, -1);
        if (!which) break;
        if (which == zap) {
            zap_handle(z, zap);
            continue;
        }
        if (which == pipe) {
            zmsg_t *m = zmsg_recv(pipe);
            char *cmd = m ? zmsg_popstr(m) : NULL;
            int quit = !cmd || strcmp(cmd, "$TERM") == 0;
            if (!quit && strcmp(cmd, "MONITOR") == 0) {
                char *ep = zmsg_popstr(m), *label = zmsg_popstr(m), *w = zmsg_popstr(m);
                int ok = -1;
                if (ep && label && z->nmon < MAX_WATCHED + 32) {
                    zsock_t *mon = zsock_new(ZMQ_PAIR);
                    if (mon && zsock_connect(mon, "%s", ep) == 0) {
                        snprintf(z->label[z->nmon], sizeof z->label[0], "%s", label);
                        z->watch[z->nmon] = w ? atoi(w) : -1;
                        z->mon[z->nmon++] = mon;
                        zpoller_add(poller, mon);
                        ok = 0;
                    } else {
                        zsock_destroy(&mon);
                    }
                }
                zstr_free(&ep);
                zstr_free(&label);
                zstr_free(&w);
                zsock_signal(pipe, ok == 0 ? 0 : 1);
            }
            zstr_free(&cmd);
            zmsg_destroy(&m);
            if (quit) break;
            continue;
        }
        for (int i = 0; i < z->nmon; i++)
            if (z->mon[i] && which == z->mon[i]) {
                monitor_event(z, i);
                if (!z->mon[i]) zpoller_remove(poller, which);
            }
    }
    zpoller_destroy(&poller);
    for (int i = 0; i < z->nmon; i++)
        zsock_destroy(&z->mon[i]);
    zsock_destroy(&zap);
    free(z->v);
    free(z);
}

/* ---- the process's identity ---- */

static int add_ep(const char *ep, const char *server)
{
    if (!ep || !*ep) return 0;
    server_ep_t *n = realloc(A.eps, (A.neps + 1) * sizeof *n);
    if (!n) return -1;
    A.eps = n;
    snprintf(A.eps[A.neps].ep, sizeof A.eps[0].ep, "%s", ep);
    snprintf(A.eps[A.neps].server, sizeof A.eps[0].server, "%s", server);
    A.neps++;
    return 0;
}

static int secret_path(const char *self, char *path, size_t n)
{
    const char *env = getenv("OHMWATCH_KEY"), *cred = getenv("CREDENTIALS_DIRECTORY");
    if (env && *env) return snprintf(path, n, "%s", env) < (int)n ? 0 : -1;
    if (cred && *cred) {
        snprintf(path, n, "%s/%s.key_secret", cred, self);
        if (access(path, F_OK) == 0) return 0;
    }
    snprintf(path, n, "/run/secrets/%s.key_secret", self);
    if (access(path, F_OK) == 0) return 0;
    return snprintf(path, n, "%s/private/%s.key_secret", A.keys_dir, self) < (int)n ? 0 : -1;
}

int ow_auth_init(const ow_site_t *site, const ow_security_cfg_t *cfg, const char *self, char *err,
                 size_t errlen)
{
    ow_auth_shutdown();
    memset(&A, 0, sizeof A);
    snprintf(A.self, sizeof A.self, "%s", self);
    snprintf(A.keys_dir, sizeof A.keys_dir, "%s", cfg->keys_dir);
    A.curve = cfg->curve;
    A.inited = 1;
    if (!A.curve) {
        log_warnx("services.security.curve is false: links are plain TCP, unauthenticated and "
                  "unencrypted; anyone who reaches a port can read, and alarmd obeys anyone");
        return 0;
    }
    if (!zsys_has_curve()) return fail(err, errlen, "libzmq was built without CURVE");
    char path[1100];
    keyfile_t k;
    if (secret_path(self, path, sizeof path) < 0)
        return fail(err, errlen, "secret key path too long");
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 0007))
        return fail(err, errlen,
                    "%s is readable by others (mode %04o): chmod 0640 it (docs/security.md)", path,
                    (unsigned)(st.st_mode & 07777));
    if (load_keyfile(path, 1, &k, err, errlen) < 0) return -1;
    snprintf(A.pub, sizeof A.pub, "%s", k.pub);
    snprintf(A.sec, sizeof A.sec, "%s", k.sec);
    if (site) {
        for (int i = 0; i < site->ngateways; i++) {
            const ow_gateway_cfg_t *g = &site->gateways[i];
            if (add_ep(g->publish, "busd") < 0 || add_ep(g->publish_connect, "busd") < 0 ||
                add_ep(g->replay, "busd") < 0 || add_ep(g->replay_connect, "busd") < 0)
                return fail(err, errlen, "out of memory");
        }
        ow_alarmd_cfg_t ac;
        if (ow_site_alarmd(site, &ac, err, errlen) < 0) return -1;
        const char *eps[] = {ac.publish,        ac.publish_connect, ac.replay,
                             ac.replay_connect, ac.control,         ac.control_connect};
        for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++)
            if (add_ep(eps[i], "alarmd") < 0) return fail(err, errlen, "out of memory");
    }
    zap_state_t *z = calloc(1, sizeof *z);
    if (!z) return fail(err, errlen, "out of memory");
    snprintf(z->dir, sizeof z->dir, "%s", A.keys_dir);
    A.zap = zactor_new(zap_actor, z);
    if (!A.zap) {
        free(z);
        return fail(err, errlen,
                    "cannot start the ZAP handler (is another bound in this process?)");
    }
    /* Daemons say it at info level; the CLI only with -v. */
    ow_log(strcmp(self, "cli") == 0 ? OW_LOG_DEBUG : OW_LOG_INFO, __func__, 0,
           "CURVE on: key %s from %s, allow-list %s", self, path, A.keys_dir);
    return 0;
}

void ow_auth_self_name(char *out, size_t n)
{
    if (!n) return;
    snprintf(out, n, "%s", !A.inited ? "local" : A.curve ? A.self : "plain");
    if (!A.curve) return;
    DIR *d = opendir(A.keys_dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".key") != 0 || len - 4 >= NAME_MAX_) continue;
        char name[NAME_MAX_], path[1100], err[512];
        snprintf(name, sizeof name, "%.*s", (int)(len - 4), e->d_name);
        if (!valid_name(name)) continue;
        snprintf(path, sizeof path, "%s/%s", A.keys_dir, e->d_name);
        keyfile_t k;
        if (load_keyfile(path, 0, &k, err, sizeof err) == 0 && strcmp(k.pub, A.pub) == 0) {
            snprintf(out, n, "%s", name);
            break;
        }
    }
    if (d) closedir(d);
}

int ow_auth_init_site(const ow_site_t *site, const char *self, char *err, size_t errlen)
{
    ow_security_cfg_t cfg;
    if (ow_site_security(site, &cfg, err, errlen) < 0) return -1;
    return ow_auth_init(site, &cfg, self, err, errlen);
}

void ow_auth_shutdown(void)
{
    zactor_destroy(&A.zap);
    atomic_store(&nwatched, 0);
    atomic_store(&nfailed, 0);
    free(A.eps);
    A.eps = NULL;
    A.neps = 0;
    A.inited = 0;
}

int ow_auth_curve(void)
{
    return A.inited && A.curve;
}

const ow_auth_stats_t *ow_auth_stats(void)
{
    A.snap.accepted = A.accepted;
    A.snap.refused = A.refused;
    A.snap.handshake_fail = A.handshake_fail;
    return &A.snap;
}

int ow_auth_server(void *s, const char *what, char *err, size_t errlen)
{
    if (!ow_auth_curve()) return 0;
    void *raw = zsock_resolve(s);
    zsock_set_zap_domain(s, ZAP_DOMAIN);
    zsock_set_curve_server(s, 1);
    zsock_set_curve_secretkey(s, A.sec);
    zsock_set_curve_publickey(s, A.pub);
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://ow-auth-monitor-%d-%d", (int)getpid(), A.nmon++);
    if (zmq_socket_monitor(raw, ep,
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_MONITOR_STOPPED) <
            0 ||
        zstr_sendx(A.zap, "MONITOR", ep, what ? what : "?", "-1", NULL) < 0 ||
        zsock_wait(A.zap) != 0) {
        /* Refusals are still enforced; only their log line is missing. */
        log_warnx("%s: cannot watch handshakes (%s)", what ? what : "?", zmq_strerror(errno));
    }
    (void)err;
    (void)errlen;
    return 0;
}

int ow_auth_client_of(void *s, const char *server, char *err, size_t errlen)
{
    if (!ow_auth_curve()) return 0;
    char path[1100];
    keyfile_t k;
    if (!valid_name(server)) return fail(err, errlen, "bad server key name '%s'", server);
    snprintf(path, sizeof path, "%s/%s.key", A.keys_dir, server);
    if (load_keyfile(path, 0, &k, err, errlen) < 0) {
        log_warnx("%s", err);
        return -1;
    }
    zsock_set_curve_serverkey(s, k.pub);
    zsock_set_curve_publickey(s, A.pub);
    zsock_set_curve_secretkey(s, A.sec);
    return 0;
}

int ow_auth_client_keep(void *s, const char *endpoint, char *err, size_t errlen)
{
    if (ow_auth_client(s, endpoint, err, errlen) < 0) return -1;
    if (!ow_auth_curve()) return 0;
    int i = atomic_load(&nwatched);
    if (i >= MAX_WATCHED) return 0; /* still works; a failed handshake waits for a restart */
    watched[i].sock = zsock_resolve(s);
    snprintf(watched[i].ep, sizeof watched[i].ep, "%s", endpoint);
    atomic_store(&watched[i].failed, 0);
    watched[i].due_us = 0;
    atomic_store(&nwatched, i + 1);
    char ep[64], idx[16];
    snprintf(ep, sizeof ep, "inproc://ow-auth-client-%d-%d", (int)getpid(), i);
    snprintf(idx, sizeof idx, "%d", i);
    if (zmq_socket_monitor(watched[i].sock, ep,
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_MONITOR_STOPPED) <
            0 ||
        zstr_sendx(A.zap, "MONITOR", ep, endpoint, idx, NULL) < 0 || zsock_wait(A.zap) != 0)
        log_warnx("%s: cannot watch handshakes (%s)", endpoint, zmq_strerror(errno));
    return 0;
}

void ow_auth_forget(void *s)
{
    void *raw = s ? zsock_resolve(s) : NULL;
    for (int i = 0; raw && i < atomic_load(&nwatched); i++)
        if (watched[i].sock == raw) {
            watched[i].sock = NULL;
            if (atomic_exchange(&watched[i].failed, 0)) atomic_fetch_sub(&nfailed, 1);
        }
}

void ow_auth_tick(void)
{
    /* Called for every message a subscriber reads: nothing to do is one load. */
    if (!atomic_load(&nfailed)) return;
    int64_t now = zclock_usecs();
    for (int i = 0; i < atomic_load(&nwatched); i++) {
        watched_t *w = &watched[i];
        if (!w->sock || !atomic_load(&w->failed)) continue;
        if (!w->due_us) {
            w->due_us = now + 1000000; /* a rogue answering at once gets one try a second */
            log_warnx("handshake with %s failed (not the server key we expect, or no CURVE): "
                      "connecting again",
                      w->ep);
            continue;
        }
        if (now < w->due_us) continue;
        atomic_store(&w->failed, 0);
        atomic_fetch_sub(&nfailed, 1);
        w->due_us = 0;
        zmq_disconnect(w->sock, w->ep);
        if (zmq_connect(w->sock, w->ep) < 0) log_warn("reconnect %s", w->ep);
    }
}

int ow_auth_client(void *s, const char *endpoint, char *err, size_t errlen)
{
    if (!ow_auth_curve()) return 0;
    for (size_t i = 0; i < A.neps; i++)
        if (strcmp(A.eps[i].ep, endpoint) == 0)
            return ow_auth_client_of(s, A.eps[i].server, err, errlen);
    fail(err, errlen, "%s is not an endpoint of the site: whose key to expect is unknown",
         endpoint);
    log_warnx("%s", err);
    return -1;
}

void ow_auth_peer(void *frame, ow_peer_t *p)
{
    p->roles = OW_ROLE_ALL;
    if (!A.inited) {
        snprintf(p->who, sizeof p->who, "local");
        return;
    }
    if (!A.curve) {
        const char *addr = frame ? zframe_meta(frame, "Peer-Address") : NULL;
        snprintf(p->who, sizeof p->who, "plain:%s", addr ? addr : "?");
        return;
    }
    const char *user = frame ? zframe_meta(frame, "User-Id") : NULL;
    const char *roles = frame ? zframe_meta(frame, "roles") : NULL;
    char err[128];
    snprintf(p->who, sizeof p->who, "%s", user && *user ? user : "?");
    if (!user || !*user || !roles || ow_auth_roles_parse(roles, &p->roles, err, sizeof err) < 0)
        p->roles = 0; /* a frame without the handler's word is nobody's */
}

static int write_file(const char *path, const char *text, mode_t mode, int force, char *err,
                      size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL), mode);
    if (fd < 0)
        return fail(err, errlen, "%s: %s%s", path, strerror(errno),
                    errno == EEXIST ? " (--force replaces it)" : "");
    size_t len = strlen(text);
    int ok = write(fd, text, len) == (ssize_t)len && fchmod(fd, mode) == 0 && fsync(fd) == 0;
    if (close(fd) < 0) ok = 0;
    return ok ? 0 : fail(err, errlen, "%s: %s", path, strerror(errno));
}

int ow_auth_keygen(const char *dir, const char *name, unsigned roles, int force, char *err,
                   size_t errlen)
{
    if (!valid_name(name))
        return fail(err, errlen, "key name '%s': letters, digits, '_', '.', '-' only", name);
    char priv[600], path[700], rs[64], text[1024];
    snprintf(priv, sizeof priv, "%s/private", dir);
    if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || (mkdir(priv, 0750) < 0 && errno != EEXIST))
        return fail(err, errlen, "%s: %s", errno == EEXIST ? dir : priv, strerror(errno));
    char pub[KEY_TXT], sec[KEY_TXT];
    if (zmq_curve_keypair(pub, sec) < 0)
        return fail(err, errlen, "zmq_curve_keypair: %s", zmq_strerror(errno));
    ow_auth_roles_format(roles | OW_ROLE_READ, rs, sizeof rs);
    /* czmq's zcert format, so that zcert_load and pyzmq's
     * zmq.auth.load_certificate read the same files. */
    snprintf(text, sizeof text,
             "#   ohmwatch public key \"%s\": copy it to every host that must admit %s\n"
             "metadata\n    name = \"%s\"\n    roles = \"%s\"\ncurve\n    public-key = \"%s\"\n",
             name, name, name, rs, pub);
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    if (write_file(path, text, 0644, force, err, errlen) < 0) return -1;
    snprintf(text, sizeof text,
             "#   ohmwatch SECRET key \"%s\": never copy it off this host\n"
             "metadata\n    name = \"%s\"\n    roles = \"%s\"\ncurve\n    public-key = \"%s\"\n"
             "    secret-key = \"%s\"\n",
             name, name, rs, pub, sec);
    snprintf(path, sizeof path, "%s/%s.key_secret", priv, name);
    return write_file(path, text, 0640, force, err, errlen);
}
