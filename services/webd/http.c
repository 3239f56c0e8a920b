/* webd's HTTP side (http.h): libmicrohttpd runs the sockets and TLS on a
 * pool of 4 threads; this file decides what each request gets. Every
 * refusal is a counted JSON error: a browser's bug and an attack look the
 * same from here, and both should show in the stop line's figures. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "auth.h"
#include "hub.h"
#include "ow_log.h"
#include "ow_schema.h"

struct ow_web_http {
    struct MHD_Daemon *mhd;
    ow_webd_t *d;
    char *cert, *key;
    char www[PATH_MAX]; /* realpath of www_dir: a file must resolve below it */
    int tls;
    uint16_t port;
    ow_web_http_stats_t st;
};

#define COUNT(h, f) __atomic_add_fetch(&(h)->st.f, 1, __ATOMIC_RELAXED)

/* One request while its body arrives. */
typedef struct {
    char *body;
    size_t len, cap;
    int too_big;
    ow_web_who_t who;
} rctx_t;

/* clang-format off */
static const struct {
    const char *ext;
    const char *type;
} mime[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".json", "application/json"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json"},
};

/* The routes a user who must change the password may still use. */
static const char *const must_change_ok[] = {"/api/me", "/api/password", "/api/logout"};
/* clang-format on */

const char *ow_web_mime(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof mime / sizeof mime[0]; i++) {
        size_t e = strlen(mime[i].ext);
        if (n > e && strcmp(path + n - e, mime[i].ext) == 0) return mime[i].type;
    }
    return NULL;
}

int ow_web_path_ok(const char *path)
{
    if (path[0] != '/') return 0;
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\') return 0;
    for (const char *seg = path + 1;; seg++) {
        size_t n = strcspn(seg, "/");
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) return 0;
        if (n == 0 && seg[0] == '/') return 0; /* "//" */
        seg += n;
        if (!*seg) return 1;
    }
}

int ow_web_cookie(const char *header, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    const char *p = header;
    if (!header || !outlen) return -1;
    while (*p) {
        p += strspn(p, " \t;");
        const char *eq = p + strcspn(p, "=;");
        const char *end = p + strcspn(p, ";");
        if (*eq == '=' && (size_t)(eq - p) == nl && strncmp(p, name, nl) == 0) {
            const char *v = eq + 1;
            size_t vl = (size_t)(end - v);
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') v++, vl -= 2;
            if (vl >= outlen) return -1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return 0;
        }
        p = end;
    }
    return -1;
}

const ow_web_route_t *ow_web_route_find(const char *method, const char *path, int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < ow_web_nroutes; i++) {
        const ow_web_route_t *r = &ow_web_routes[i];
        size_t n = strlen(r->path);
        int match = n && r->path[n - 1] == '*' ? strncmp(path, r->path, n - 1) == 0
                                               : strcmp(path, r->path) == 0;
        if (!match) continue;
        if (strcmp(method, r->method) == 0) return r;
        *path_known = 1;
    }
    return NULL;
}

int ow_web_route_check(const ow_web_route_t *r, const char *method, const char *path,
                       const ow_web_who_t *who, const char *csrf_header, char *why, size_t len)
{
    if (!r->role) return 0;
    if (!who) {
        snprintf(why, len, "not logged in");
        return 401;
    }
    if (who->must_change) {
        size_t i = 0, n = sizeof must_change_ok / sizeof must_change_ok[0];
        while (i < n && strcmp(path, must_change_ok[i]) != 0)
            i++;
        if (i == n) {
            snprintf(why, len, "password change required");
            return 403;
        }
    }
    /* A cross-site form cannot set a header: the token in one proves the
     * request comes from a page of ours. */
    if (strcmp(method, "GET") != 0 && r->csrf) {
        size_t n = strlen(who->csrf);
        if (!csrf_header || strlen(csrf_header) != n || !n ||
            sodium_memcmp(csrf_header, who->csrf, n) != 0) {
            snprintf(why, len, "missing or wrong X-CSRF-Token");
            return 403;
        }
    }
    unsigned missing = r->role & ~who->roles;
    if (missing) {
        snprintf(why, len, "needs role %s", ow_web_role_name(missing & -missing));
        return 403;
    }
    return 0;
}

int ow_web_doc_routes(FILE *out)
{
    fprintf(out, "## API routes\n\n"
                 "Generated from `ow_web_routes[]` in `services/webd/routes.c`, the table "
                 "webd walks. Role: what the session's user needs (every user is a viewer); "
                 "CSRF: the request needs the header `X-CSRF-Token` with the session's "
                 "token (from /api/login or /api/me). Errors are `{\"error\": \"...\"}`: "
                 "401 without a session, 403 for a missing role, a missing token, another "
                 "origin, or a password still to be changed.\n\n"
                 "| method | path | role | CSRF | what |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < ow_web_nroutes; i++) {
        const ow_web_route_t *r = &ow_web_routes[i];
        char roles[96] = "";
        unsigned need = r->role & ~(unsigned)OW_WEB_VIEW;
        for (unsigned b = 1; b < OW_WEB_ALL; b <<= 1)
            if (need & b)
                snprintf(roles + strlen(roles), sizeof roles - strlen(roles), "%s%s",
                         roles[0] ? ", " : "", ow_web_role_name(b));
        fprintf(out, "| %s | `%s` | %s | %s | %s |\n", r->method, r->path,
                !r->role   ? "none (no session)"
                : roles[0] ? roles
                           : "viewer",
                r->csrf ? "yes" : "", r->what);
    }
    return ferror(out) ? -1 : 0;
}

int ow_web_json(ow_web_resp_t *rs, int status, json_t *j)
{
    rs->status = status;
    rs->type = NULL;
    free(rs->body);
    rs->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!rs->body) {
        rs->status = 500;
        rs->body = strdup("{\"error\":\"out of memory\"}");
    }
    rs->len = rs->body ? strlen(rs->body) : 0;
    return 0;
}

int ow_web_error(ow_web_resp_t *rs, int status, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *j = json_pack("{s:s}", "error", msg);
    if (field) json_object_set_new(j, "field", json_string(field));
    return ow_web_json(rs, status, j);
}

const char *ow_web_arg(const ow_web_req_t *rq, const char *name)
{
    return rq->conn ? MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

const char *ow_web_header(const ow_web_req_t *rq, const char *name)
{
    return rq->conn ? MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name) : NULL;
}

void ow_web_http_park(void *conn)
{
    MHD_suspend_connection(conn);
}

void ow_web_http_wake(void *conn)
{
    MHD_resume_connection(conn);
}

/* Every response: what a browser must not do with our pages. */
static void add_headers(const ow_web_http_t *h, struct MHD_Response *r, int api)
{
    MHD_add_response_header(r, "Content-Security-Policy", OW_WEB_CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    if (h->tls) MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
    MHD_add_response_header(r, "Cache-Control", api ? "no-store" : "no-cache");
}

static enum MHD_Result send_resp(ow_web_http_t *h, struct MHD_Connection *c, int api,
                                 ow_web_resp_t *rs)
{
    char retry[24] = "";
    if (rs->status == 429) {
        /* The body's retry_after_s, also as the header HTTP clients know. */
        json_t *j = rs->body ? json_loadb(rs->body, rs->len, 0, NULL) : NULL;
        json_int_t after = json_integer_value(json_object_get(j, "retry_after_s"));
        if (after > 0) snprintf(retry, sizeof retry, "%lld", (long long)after);
        json_decref(j);
        COUNT(h, throttled);
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(rs->len, rs->body ? rs->body : (char *)"",
                                        rs->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(rs->body);
        return MHD_NO;
    }
    rs->body = NULL;
    add_headers(h, r, api);
    MHD_add_response_header(r, "Content-Type", rs->type ? rs->type : "application/json");
    if (rs->set_cookie[0]) MHD_add_response_header(r, "Set-Cookie", rs->set_cookie);
    if (rs->disposition[0]) MHD_add_response_header(r, "Content-Disposition", rs->disposition);
    if (retry[0]) MHD_add_response_header(r, "Retry-After", retry);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result refuse(ow_web_http_t *h, struct MHD_Connection *c, int status,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result refuse(ow_web_http_t *h, struct MHD_Connection *c, int status,
                              const char *fmt, ...)
{
    ow_web_resp_t rs = {0};
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ow_web_error(&rs, status, NULL, "%s", msg);
    return send_resp(h, c, 1, &rs);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    ssize_t n = ow_web_hub_read(cls, buf, max);
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

static void sse_free(void *cls)
{
    ow_web_hub_stream_free(cls);
}

static enum MHD_Result send_sse(ow_web_http_t *h, struct MHD_Connection *c, const char *token)
{
    const char *lei = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    char *end = NULL;
    unsigned long long last = lei ? strtoull(lei, &end, 10) : 0;
    int from_last = lei && *lei && end && !*end;
    ow_web_stream_t *s = ow_web_hub_open(h->d->hub, from_last, last, token, c);
    if (!s) return refuse(h, c, 503, "out of memory");
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, s, sse_free);
    if (!r) {
        ow_web_hub_stream_free(s);
        return MHD_NO;
    }
    add_headers(h, r, 1);
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_file(ow_web_http_t *h, struct MHD_Connection *c, const char *method,
                                 const char *url)
{
    char full[PATH_MAX + 64], real[PATH_MAX];
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        COUNT(h, bad_method);
        return refuse(h, c, 405, "method not allowed");
    }
    if (!ow_web_path_ok(url)) {
        COUNT(h, bad_path);
        log_warnx("refused path %.200s", url);
        return refuse(h, c, 400, "bad path");
    }
    if (strcmp(url, "/") == 0) url = "/index.html";
    const char *type = ow_web_mime(url);
    snprintf(full, sizeof full, "%s%s", h->www, url);
    size_t wl = strlen(h->www);
    /* A symbolic link out of www_dir is refused like "..". */
    if (!type || !realpath(full, real) || strncmp(real, h->www, wl) != 0 || real[wl] != '/') {
        COUNT(h, not_found);
        return refuse(h, c, 404, "not found");
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        COUNT(h, not_found);
        return refuse(h, c, 404, "not found");
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    add_headers(h, r, 0);
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

static void peer_of(struct MHD_Connection *c, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    snprintf(out, len, "?");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)len);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)len);
}

/* A POST from a page of another origin (a browser names it) is refused
 * whatever else it carries. */
static int cross_origin(const ow_web_http_t *h, struct MHD_Connection *c)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (!origin) return 0;
    /* Plain HTTP means a TLS proxy in front: the browser's origin is then
     * https:// and ours looks like http://; the host must match either way. */
    const char *rest = strncmp(origin, "https://", 8) == 0             ? origin + 8
                       : !h->tls && strncmp(origin, "http://", 7) == 0 ? origin + 7
                                                                       : NULL;
    return !rest || !host || strcmp(rest, host) != 0;
}

static int parse_body(const char *method, struct MHD_Connection *c)
{
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    /* An archive (a restore) is bytes, not JSON; everything else a page
     * posts is JSON, whatever a script called it. */
    return strcmp(method, "POST") == 0 &&
           !(ct && (strncmp(ct, "application/octet-stream", 24) == 0 ||
                    strncmp(ct, "multipart/", 10) == 0));
}

static enum MHD_Result dispatch(ow_web_http_t *h, struct MHD_Connection *c, const char *url,
                                const char *method, rctx_t *x)
{
    char why[160], token[OW_WEB_TOKEN_LEN + 8];
    int known;
    COUNT(h, requests);
    if (x->too_big) {
        COUNT(h, too_big);
        return refuse(h, c, 413, "request body over %u bytes", OW_WEB_BODY_MAX);
    }
    if (strncmp(url, "/api/", 5) != 0) return send_file(h, c, method, url);
    const ow_web_route_t *r = ow_web_route_find(method, url, &known);
    if (!r) {
        if (known)
            COUNT(h, bad_method);
        else
            COUNT(h, not_found);
        return known ? refuse(h, c, 405, "%s not allowed on %.100s", method, url)
                     : refuse(h, c, 404, "no such API: %.100s", url);
    }
    ow_web_req_t rq = {.d = h->d,
                       .conn = c,
                       .method = method,
                       .path = url,
                       .body = x->body ? x->body : "",
                       .body_len = x->len};
    peer_of(c, rq.peer, sizeof rq.peer);
    if (r->role) {
        const char *ck = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
        if (ck && ow_web_cookie(ck, "ow_session", token, sizeof token) == 0 &&
            ow_web_auth_session(h->d->auth, token, &x->who) == 0)
            rq.who = &x->who;
    }
    int st = ow_web_route_check(r, method, url, rq.who,
                                MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token"),
                                why, sizeof why);
    if (st) {
        if (st == 401)
            COUNT(h, no_session);
        else if (strstr(why, "CSRF"))
            COUNT(h, csrf);
        else if (strstr(why, "password change"))
            COUNT(h, must_change);
        else
            COUNT(h, role);
        log_debug("%s %s from %s: %d %s", method, url, rq.peer, st, why);
        return refuse(h, c, st, "%s", why);
    }
    if (strcmp(method, "GET") != 0 && cross_origin(h, c)) {
        COUNT(h, cross_origin);
        log_warnx("%s %s from %s: refused, Origin is another site", method, url, rq.peer);
        return refuse(h, c, 403, "cross-origin request refused");
    }
    json_error_t je;
    if (x->len && parse_body(method, c)) {
        rq.json = json_loadb(x->body, x->len, JSON_REJECT_DUPLICATES, &je);
        if (!rq.json) {
            COUNT(h, bad_json);
            return refuse(h, c, 400, "bad JSON at line %d, column %d: %s", je.line, je.column,
                          je.text);
        }
    }
    ow_web_resp_t rs = {.status = 200};
    r->fn(&rq, &rs);
    json_decref(rq.json);
    if (rs.sse) {
        free(rs.body);
        return send_sse(h, c, rq.who ? token : NULL);
    }
    if (!rs.body) ow_web_json(&rs, rs.status ? rs.status : 200, json_object());
    return send_resp(h, c, 1, &rs);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    ow_web_http_t *h = cls;
    rctx_t *x = *con_cls;
    (void)version;
    if (!x) {
        x = calloc(1, sizeof *x);
        if (!x) return MHD_NO;
        *con_cls = x;
        /* Refused before a byte of it is read when it says how long it is. */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > OW_WEB_BODY_MAX) {
            x->too_big = 1;
            return dispatch(h, c, url, method, x);
        }
        return MHD_YES;
    }
    if (*size) {
        if (!x->too_big && x->len + *size > OW_WEB_BODY_MAX) {
            x->too_big = 1;
            free(x->body);
            x->body = NULL;
            x->len = x->cap = 0;
        }
        if (!x->too_big) {
            if (x->len + *size + 1 > x->cap) {
                size_t cap = x->cap ? x->cap : 4096;
                while (cap < x->len + *size + 1)
                    cap *= 2;
                char *nb = realloc(x->body, cap);
                if (!nb) return MHD_NO;
                x->body = nb;
                x->cap = cap;
            }
            memcpy(x->body + x->len, data, *size);
            x->len += *size;
            x->body[x->len] = '\0';
        }
        *size = 0;
        return MHD_YES;
    }
    return dispatch(h, c, url, method, x);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    rctx_t *x = *con_cls;
    (void)cls, (void)c, (void)toe;
    if (!x) return;
    if (x->body) sodium_memzero(x->body, x->len); /* it may hold a password */
    free(x->body);
    sodium_memzero(&x->who, sizeof x->who);
    free(x);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    /* A port scanner's half handshake is not news: detail only. */
    log_debug("libmicrohttpd: %s", msg);
}

ow_web_http_t *ow_web_http_new(ow_webd_t *d, char *err, size_t errlen)
{
    const ow_webd_cfg_t *cfg = &d->cfg;
    ow_web_http_t *h = calloc(1, sizeof *h);
    char why[256];
    size_t len;
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->d = d;
    h->tls = cfg->tls;
    if (!realpath(cfg->www_dir, h->www)) {
        snprintf(err, errlen, "services.webd.www_dir: %s: %s", cfg->www_dir, strerror(errno));
        goto fail;
    }
    if (h->tls) {
        if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
            snprintf(err, errlen,
                     "this libmicrohttpd has no TLS: set services.webd.tls false "
                     "only behind a TLS proxy");
            goto fail;
        }
        h->cert = ow_file_read(cfg->cert_file, 1 << 20, &len, why, sizeof why);
        if (!h->cert) {
            snprintf(err, errlen, "services.webd.cert_file: %s", why);
            goto fail;
        }
        h->key = ow_file_read(cfg->key_file, 1 << 20, &len, why, sizeof why);
        if (!h->key) {
            snprintf(err, errlen, "services.webd.key_file: %s", why);
            goto fail;
        }
    }
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(cfg->listen_port),
                             .sin_addr.s_addr = htonl(cfg->listen_addr)};
    struct MHD_OptionItem ops[16];
    int n = 0;
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, 4, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, cfg->max_clients, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &sa};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, h};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, h};
    if (h->tls) {
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert};
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, h->key};
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                           (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"};
    }
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | (h->tls ? MHD_USE_TLS : 0);
    h->mhd = MHD_start_daemon(flags, cfg->listen_port, NULL, NULL, on_request, h, MHD_OPTION_ARRAY,
                              ops, MHD_OPTION_END);
    if (!h->mhd) {
        snprintf(err, errlen,
                 "services.webd.listen: cannot serve on %s (in use, or not an address "
                 "of this host%s)",
                 cfg->listen,
                 h->tls ? "; or cert_file and key_file are not a PEM certificate and its key" : "");
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : cfg->listen_port;
    if (!h->tls)
        log_warnx("services.webd.tls is false: serving plain HTTP on %s (only behind a TLS "
                  "proxy on this host: browsers send the session cookie over HTTPS only)",
                  cfg->listen);
    log_info("serving %s on %s (port %u), pages from %s, %d connections", h->tls ? "HTTPS" : "HTTP",
             cfg->listen, (unsigned)h->port, h->www, cfg->max_clients);
    return h;
fail:
    ow_web_http_destroy(&h);
    return NULL;
}

uint16_t ow_web_http_port(const ow_web_http_t *h)
{
    return h->port;
}

ow_web_http_stats_t ow_web_http_stats(const ow_web_http_t *h)
{
    return h->st; /* figures for a log line or a test: a torn read does no harm */
}

void ow_web_http_destroy(ow_web_http_t **hp)
{
    ow_web_http_t *h = *hp;
    if (!h) return;
    if (h->mhd) {
        MHD_stop_daemon(h->mhd);
        const ow_web_http_stats_t *s = &h->st;
        log_info("http: %" PRIu64 " requests; refused: %" PRIu64 " no session, %" PRIu64
                 " CSRF, %" PRIu64 " role, %" PRIu64 " password change required, %" PRIu64
                 " not found, %" PRIu64 " bad method, %" PRIu64 " too big, %" PRIu64
                 " bad JSON, %" PRIu64 " bad path, %" PRIu64 " cross-origin, %" PRIu64 " throttled",
                 s->requests, s->no_session, s->csrf, s->role, s->must_change, s->not_found,
                 s->bad_method, s->too_big, s->bad_json, s->bad_path, s->cross_origin,
                 s->throttled);
    }
    if (h->key) sodium_memzero(h->key, strlen(h->key));
    free(h->cert);
    free(h->key);
    free(h);
    *hp = NULL;
}
