/* webd's bus side: a model per gateway folded from its busd's readings and
 * alarmd's state and alarms (modbusd's image, as JSON), serialised once per
 * busd cycle and handed to the hub; the HTTP handler threads only ever copy
 * the serialised strings (under the model's mutex), never walk the structs.
 *
 * The model half (apply, quiet, tick, the JSON) takes the time from its
 * caller, so a test feeds messages and a clock and reads the JSON; the bus
 * half (connect, step) is the ZeroMQ subscriber and alarmd's snapshot. */
#ifndef OW_WEB_LIVE_H
#define OW_WEB_LIVE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "ow_config.h"
#include "ow_proto.h"

typedef struct ow_web_live ow_web_live_t;

/* Where a serialised event goes (the hub): event "gw" or "alarms", data a
 * JSON text the callee copies. */
typedef void (*ow_web_live_pub_fn)(void *ctx, const char *event, const char *data);

#define OW_WEB_LIVE_COALESCE_US 250000 /* at most one "gw" event per gateway this often */
#define OW_WEB_CTL_TIMEOUT_MS   2000   /* a handler's call to alarmd */

/* A model of every gateway of site (which must outlive it), empty: every
 * value null, no gateway answering. pub may be NULL (nothing published).
 * NULL with err on failure. */
ow_web_live_t *ow_web_live_new(const ow_site_t *site, ow_web_live_pub_fn pub, void *ctx, char *err,
                               size_t errlen);
void ow_web_live_destroy(ow_web_live_t **l);

/* ---- the model (one writer: the thread that runs the bus side) ---- */

/* Fold one message (busd's, alarmd's, or a snapshot's) at monotonic
 * now_us. from_busd: it came from the gateway's own busd (it speaks, so it
 * is not quiet). Messages of a gateway the site lacks are ignored. */
void ow_web_live_apply(ow_web_live_t *l, const ow_msg_t *m, int from_busd, int64_t now_us);
/* The gone-quiet rule (lib/ow_quiet.h) for every gateway at now_us: a busd
 * silent too long has every module shown as not answering. Returns how
 * many gateways fell quiet at this check. */
int ow_web_live_check_quiet(ow_web_live_t *l, int64_t now_us);
/* Take gateway gw as quiet now (alarmd holds its Communication lost). */
void ow_web_live_set_quiet(ow_web_live_t *l, const char *gw);
/* Serialise and publish what changed: a gateway's "gw" event once its busd
 * finished a cycle (or alarmd's state changed), no sooner than
 * OW_WEB_LIVE_COALESCE_US after the last one; "alarms" when the active
 * list changed. Returns the number of events published. */
int ow_web_live_tick(ow_web_live_t *l, int64_t now_us);

/* ---- what the handler threads read (copies, malloc'd; NULL: no such
 * gateway, or out of memory) ---- */

/* The gateway's model, the body of GET /api/live and the "gw" event. */
char *ow_web_live_json(ow_web_live_t *l, const char *gw);
/* {"gw":..,"alarms":[...]}: the active alarms of gw, or of every gateway
 * when gw is NULL or "" (then gw is absent). */
char *ow_web_live_alarms_json(ow_web_live_t *l, const char *gw);
/* GET /api/site's body (now_us filled in at the call). */
char *ow_web_live_site_json(ow_web_live_t *l);
/* GET /api/outputs' body for gw. */
char *ow_web_live_outputs_json(ow_web_live_t *l, const char *gw);
/* The id of gw's active alarm of code on (string, module): 0, or -1 when
 * none is active. */
int ow_web_live_alarm_id(ow_web_live_t *l, const char *gw, int code, int string, int module,
                         uint64_t *id);
/* The number of GX_R_AUX outputs gw has (4 per unit), -1: no such gateway. */
int ow_web_live_noutputs(ow_web_live_t *l, const char *gw);
/* The gateway a request means: gw if the site has it; NULL or "" with a
 * site of one gateway: that one; else NULL. */
const char *ow_web_live_gateway(ow_web_live_t *l, const char *gw);
/* alarmd's control endpoint (from the site), for the handlers' calls. */
const char *ow_web_live_alarmd(const ow_web_live_t *l);

/* ---- the bus side ---- */

/* Subscribe to every gateway's busd and to alarmd (publish + replay, from
 * the start of their journals) and fill the model from alarmd's snapshot
 * (alarmd down: a warning, flags fill in as alarmd publishes). 0, or -1
 * with err. */
int ow_web_live_connect(ow_web_live_t *l, char *err, size_t errlen);
/* Drain what arrived within timeout_ms, check the quiet rule, refresh from
 * alarmd when it restarted, tick. 0, or -1 when the subscriber failed. */
int ow_web_live_step(ow_web_live_t *l, int timeout_ms);
/* step until *stop. */
int ow_web_live_run(ow_web_live_t *l, volatile sig_atomic_t *stop);

/* ---- webd's glue (api_live.c, api_ctl.c): the part row and the
 * handlers of routes.c ---- */

#include "web.h"

int ow_web_live_part_open(ow_webd_t *d, char *err, size_t errlen);
void ow_web_live_part_step(ow_webd_t *d, int timeout_ms);
void ow_web_live_part_close(ow_webd_t *d);

/* The gateway a request names (given, else its gw argument; the only one
 * when none is named), or NULL with rs already the 400/404/503. */
const char *ow_web_req_gateway(ow_web_req_t *rq, ow_web_resp_t *rs, const char *given);

int ow_api_site(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_live(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_alarms(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_outputs(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_ack(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_thresholds_get(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_thresholds_post(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_outputs_arm(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_outputs_confirm(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_audit(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_captest(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_baseline(ow_web_req_t *rq, ow_web_resp_t *rs);

/* A threshold key's unit, from its name's suffix ("" none). */
const char *ow_web_key_unit(const char *key);

/* The breaker's two steps: arm issues a single-use token bound to the
 * session (its CSRF token names it) for OW_WEB_ARM_TTL_US; take spends it
 * (0 with what was armed) or says why not. */
#define OW_WEB_ARM_TTL_US 30000000
enum { OW_WEB_ARM_UNKNOWN = -1, OW_WEB_ARM_EXPIRED = -2, OW_WEB_ARM_OTHER_SESSION = -3 };
int ow_web_arm_issue(const char *session, const char *gw, int output, int state, int64_t now_us,
                     char *token, size_t len);
int ow_web_arm_take(const char *token, const char *session, int64_t now_us, char *gw, size_t gwlen,
                    int *output, int *state);

typedef struct {
    uint64_t messages, ignored, published_gw, published_alarms, quiet_events, snapshots,
        snapshot_failed;
} ow_web_live_stats_t;
void ow_web_live_stats(ow_web_live_t *l, ow_web_live_stats_t *out);

#endif
