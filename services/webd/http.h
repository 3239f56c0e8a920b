/* webd's HTTP side (libmicrohttpd with GnuTLS): TLS, the route table walk,
 * the security headers, static files, request bodies and the SSE stream. */
#ifndef OW_WEB_HTTP_H
#define OW_WEB_HTTP_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "web.h"
#include "webd.h"

#define OW_WEB_CSP                                                                                 \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/* Listens as d->cfg says (TLS unless tls is false). NULL with err. */
ow_web_http_t *ow_web_http_new(ow_webd_t *d, char *err, size_t errlen);
/* The port listened on (the configured one, or the kernel's for port 0). */
uint16_t ow_web_http_port(const ow_web_http_t *h);
/* The hub's park and wake (hub.h) for a stream's MHD connection. */
void ow_web_http_park(void *conn);
void ow_web_http_wake(void *conn);
/* Stops serving (logs what was refused), then frees. */
void ow_web_http_destroy(ow_web_http_t **h);

/* What was refused, by reason (logged at stop; tests read them). */
typedef struct {
    uint64_t requests, no_session, csrf, role, must_change, not_found, bad_method, too_big,
        bad_json, bad_path, cross_origin, throttled;
} ow_web_http_stats_t;
ow_web_http_stats_t ow_web_http_stats(const ow_web_http_t *h);

/* The value of cookie name in a Cookie header (first of that name) into
 * out: 0, or -1 (absent, or longer than outlen - 1). Outside bytes: fuzzed. */
int ow_web_cookie(const char *header, const char *name, char *out, size_t outlen);
/* A request header, or NULL. */
const char *ow_web_header(const ow_web_req_t *rq, const char *name);
/* The content type of a file name by its extension (the table), or NULL. */
const char *ow_web_mime(const char *path);
/* 1 when a URL path may name a static file: starts with '/', no "." or
 * ".." segment, no backslash, no control byte. */
int ow_web_path_ok(const char *path);
/* The refusal of a request by the route table, without running it: 0 to
 * run it, or the HTTP status with its message (the walk http.c does; a
 * test drives it with made-up requests). */
int ow_web_route_check(const ow_web_route_t *r, const char *method, const char *path,
                       const ow_web_who_t *who, const char *csrf_header, char *why, size_t len);

/* The route table as Markdown (docs/web.md, scripts/gen-docs.sh). */
int ow_web_doc_routes(FILE *out);

#endif
