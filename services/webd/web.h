/* ohmwatch-webd: the webmanager's pages over HTTPS (issue 18).
 *
 * The contract between webd's parts, so each is written and tested on its
 * own:
 *   http.c     libmicrohttpd + GnuTLS: TLS, the route table walk, security
 *              headers, static files, request bodies, the SSE stream
 *   auth.c     users file (Argon2id), sessions, CSRF tokens, login throttle
 *   hub.c      the live event ring the SSE stream reads (one writer: live.c)
 *   live.c     the bus side: per-gateway model from busd + alarmd (like
 *              modbusd's image), serialised as JSON, published to the hub
 *   api_*.c    handlers: one row each in the route table (routes.c)
 *   history.c  PostgreSQL, read-only role, a small connection pool
 *   webd_keys.c  services.webd of the site file (the schema machinery)
 * docs/web.md is generated from the route table and the key table. */
#ifndef OW_WEB_H
#define OW_WEB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ow_config.h"
#include "ow_proto.h"

/* A web user's roles (the list). A set, not levels: a breaker
 * operator need not be allowed to change thresholds. Every logged-in user
 * may view (OW_WEB_VIEW). */
enum {
    OW_WEB_VIEW = 1 << 0,     /* viewer: every page, read only */
    OW_WEB_OPERATE = 1 << 1,  /* operator: acknowledge, tag a capacity test */
    OW_WEB_ENGINEER = 1 << 2, /* engineer: thresholds, baselines, settings */
    OW_WEB_BREAKER = 1 << 3,  /* breaker: GX_R_AUX outputs */
    OW_WEB_ADMIN = 1 << 4,    /* admin: users, audit log, backup and restore */
    OW_WEB_ALL = (1 << 5) - 1,
};

#define OW_WEB_NAME_MAX 48

/* The logged-in user a request comes from. */
typedef struct {
    char name[OW_WEB_NAME_MAX];
    unsigned roles;
    int must_change; /* first login with the initial password: only /api/password */
    char csrf[48];   /* the session's CSRF token (base64url) */
} ow_web_who_t;

typedef struct ow_webd ow_webd_t;

/* One request as a handler sees it. Bodies are read whole (bounded by
 * OW_WEB_BODY_MAX) before the handler runs; a JSON body that does not
 * parse is refused by http.c with 400 naming line and column. */
typedef struct {
    ow_webd_t *d;
    void *conn; /* struct MHD_Connection * (for query arguments: ow_web_arg) */
    const char *method;
    const char *path; /* without the query */
    const char *body; /* NUL-terminated, "" when none */
    size_t body_len;
    json_t *json;            /* the parsed body of a POST with a JSON body, else NULL */
    const ow_web_who_t *who; /* NULL: no session (only routes with role 0) */
    char peer[64];           /* client address, for the throttle and logs */
} ow_web_req_t;

#define OW_WEB_BODY_MAX (4u << 20) /* a restore archive fits; more is refused with 413 */

/* What a handler answers. body is malloc'd and owned by http.c after the
 * handler returns. set_cookie: a Set-Cookie header value or "". */
typedef struct {
    int status;
    const char *type; /* Content-Type; NULL: application/json */
    char *body;
    size_t len;
    char set_cookie[256];
    char disposition[128]; /* Content-Disposition or "" (a backup download) */
    int sse;               /* 1: stream the hub as server-sent events instead of body */
} ow_web_resp_t;

typedef int (*ow_web_fn)(ow_web_req_t *rq, ow_web_resp_t *rs);

/* One row of the route table (routes.c). */
typedef struct {
    const char *method; /* "GET", "POST" */
    const char *path;   /* exact path; a trailing '*' matches a prefix */
    unsigned role;      /* bits of OW_WEB_*: the user needs all of them; 0: no session needed */
    int csrf;           /* 1: needs the X-CSRF-Token header equal to the session's */
    ow_web_fn fn;
    const char *what; /* one line for docs/web.md */
} ow_web_route_t;

extern const ow_web_route_t ow_web_routes[];
extern const size_t ow_web_nroutes;
/* The route for method + path, or NULL; *path_known set when the path
 * exists with another method (405 rather than 404). */
const ow_web_route_t *ow_web_route_find(const char *method, const char *path, int *path_known);

/* Response helpers: 0 always (the handler's return value). The body is
 * json_dumps of j (j is consumed). */
int ow_web_json(ow_web_resp_t *rs, int status, json_t *j);
/* {"error": "...", "field": field or absent}; status 4xx/5xx. */
int ow_web_error(ow_web_resp_t *rs, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A query argument of the request, or NULL. */
const char *ow_web_arg(const ow_web_req_t *rq, const char *name);

#endif
