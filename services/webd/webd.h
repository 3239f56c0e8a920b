/* ohmwatch-webd: the process (webd.c) and its settings (webd_keys.c).
 * Handlers reach the parts through rq->d. */
#ifndef OW_WEBD_H
#define OW_WEBD_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "ow_config.h"
#include "ow_schema.h"
#include "web.h"

#define OW_WEBD_PATH_MAX 512

/* The "services.webd" section of the site file (webd_keys.c). */
typedef struct {
    char listen[128];     /* "ADDR:PORT" as written */
    uint32_t listen_addr; /* host order, 0: every address */
    uint16_t listen_port;
    int tls; /* 0: plain HTTP, an explicit choice warned at start */
    char cert_file[OW_WEBD_PATH_MAX], key_file[OW_WEBD_PATH_MAX];
    char www_dir[OW_WEBD_PATH_MAX];
    char users_file[OW_WEBD_PATH_MAX];
    char initial_password_file[OW_WEBD_PATH_MAX]; /* "": the credentials directories */
    int session_idle_s, session_max_s;
    int login_failures, login_lock_s;
    int max_clients;
    int timeout_s; /* an idle connection is closed (an SSE stream is never idle: keep-alives) */
    struct {
        char host[256];
        int port;
        char dbname[64], user[64];
        char password_file[OW_WEBD_PATH_MAX];
        int pool;
    } history; /* the read-only role of the historian's database (history.c) */
} ow_webd_cfg_t;

extern const ow_schema_section_t ow_webd_section;
/* "A.B.C.D:PORT" or "*:PORT" (the listen key): 0, or -1 with why. */
int ow_webd_parse_listen(const char *s, uint32_t *addr, uint16_t *port, char *why, size_t len);
int ow_site_webd(const ow_site_t *site, ow_webd_cfg_t *out, char *err, size_t errlen);
int ow_webd_doc_config(FILE *out);

typedef struct ow_web_auth ow_web_auth_t;
typedef struct ow_web_hub ow_web_hub_t;
typedef struct ow_web_http ow_web_http_t;
typedef struct ow_web_live ow_web_live_t;
typedef struct ow_web_history ow_web_history_t;

/* The process: every part's state, for the handlers (rq->d). */
struct ow_webd {
    ow_site_t *site;
    ow_webd_cfg_t cfg;
    ow_web_auth_t *auth;
    ow_web_hub_t *hub;
    ow_web_http_t *http;
    ow_web_live_t *live;       /* live.c's (its part row in routes.c creates it) */
    ow_web_history_t *history; /* history.c's (likewise) */
};

/* A part of webd that holds state of its own (the bus side, the database
 * pool): one row each in ow_web_parts[] (routes.c, beside the routes), so a
 * part joins webd by adding a row, not by editing webd.c. open runs after
 * the users file and the hub are ready and before HTTP listens (0, or -1
 * with err); step runs on the main thread every loop, for at most
 * timeout_ms (NULL: nothing to do there); close runs in reverse order. */
typedef struct {
    const char *name;
    int (*open)(ow_webd_t *d, char *err, size_t errlen);
    void (*step)(ow_webd_t *d, int timeout_ms);
    void (*close)(ow_webd_t *d);
} ow_web_part_t;

extern const ow_web_part_t ow_web_parts[];
extern const size_t ow_web_nparts;

ow_webd_t *ow_webd_new(const char *site_path, char *err, size_t errlen);
int ow_webd_run(ow_webd_t *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);
void ow_webd_destroy(ow_webd_t **d);

#endif
