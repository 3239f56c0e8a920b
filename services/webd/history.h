/* webd's history: the historian's PostgreSQL read through a read-only role
 * and a small connection pool, each query parameterised, bounded in time and
 * rows, its result as the JSON of WEBD.md's History section. Connections are
 * made on first use (webd serves the live pages while the database is away)
 * and a broken one is reset once per query. Library code: errors come back
 * in an ow_hist_err_t, nothing is printed. */
#ifndef OW_HISTORY_H
#define OW_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define OW_HIST_POOL_MAX 32
/* The widest range one request may ask for, and what a request that names
 * no range gets. */
#define OW_HIST_SPAN_MAX_US     (400 * 86400 * 1000000LL)
#define OW_HIST_SPAN_DEFAULT_US (86400 * 1000000LL)

/* The struct webd.h names (ow_web_history_t), so the process holds it. */
typedef struct ow_web_history ow_hist_t;

/* Why a query gave no JSON: the HTTP status webd answers (400 a bad
 * argument, named in field; 404 no such discharge; 503 the database is not
 * reachable or refused), and a message for the user. */
typedef struct {
    int status;
    char field[32];
    char msg[256];
} ow_hist_err_t;

typedef struct {
    uint64_t queries, failed, resets, waits; /* waits: a caller waited for a free connection */
} ow_hist_stats_t;

/* A pool of nconn (1..OW_HIST_POOL_MAX) connections to conninfo (libpq's
 * form). Nothing is connected yet. NULL with the reason. */
ow_hist_t *ow_hist_new(const char *conninfo, int nconn, char *err, size_t errlen);
void ow_hist_destroy(ow_hist_t **h);
void ow_hist_stats(ow_hist_t *h, ow_hist_stats_t *out);

/* libpq's conninfo from the site file's keys: each value quoted as libpq
 * wants, the password read from password_file (its first line; "" or NULL:
 * none, e.g. a local socket with peer authentication). 0, or -1 with err. */
int ow_hist_conninfo(char *out, size_t len, const char *host, int port, const char *dbname,
                     const char *user, const char *password_file, char *err, size_t errlen);

/* A time range [from_us, to_us]: 0 means "not given". A missing end is now,
 * a missing start the end minus OW_HIST_SPAN_DEFAULT_US; a reversed range or
 * one wider than OW_HIST_SPAN_MAX_US is refused (400, field from_us). */
typedef struct {
    int64_t from_us, to_us;
} ow_hist_range_t;

/* Each query: 0 with *out (a JSON object the caller owns), or -1 with e.
 * gw is checked as a gateway id (ASCII letters, digits, "_.-"). */

/* A block's voltage, temperature or impedance (what "v", "t", "ri") from
 * the rollups: {series:[[t_s...],[avg...]], min:[...], max:[...], bucket_s}.
 * Ranges up to two days come from the 1-minute rollup, longer ones from the
 * hourly one, so a chart never has more than a few thousand points. */
int ow_hist_blocks(ow_hist_t *h, const char *gw, int module, const char *what, ow_hist_range_t r,
                   json_t **out, ow_hist_err_t *e);
/* A severity's number from its name ("info", "warning", "alarm"), -1 if
 * none. */
int ow_hist_severity(const char *name);
/* alarm_events, newest first (severity by name): {events:[{id,action,ts_us,gw,code,name,severity,
 * string,module,value,threshold,raised_us,cleared_us,text}], truncated}.
 * gw NULL: every gateway; code, severity < 0: any. */
int ow_hist_alarms(ow_hist_t *h, const char *gw, ow_hist_range_t r, int code, int severity,
                   json_t **out, ow_hist_err_t *e);
/* Discharges that started in the range, newest first: {discharges:[{id,
 * string,start_us,end_us,duration_s,ah_removed,...}]}. id is "STRING-START_US",
 * what /api/discharges/curves takes. */
int ow_hist_discharges(ow_hist_t *h, const char *gw, ow_hist_range_t r, json_t **out,
                       ow_hist_err_t *e);
/* Every block of the discharge's string over the discharge, one point per
 * 1-minute rollup bucket: {id,string,t:[t_s...],blocks:[{addr,v:[...]}],
 * weakest:addr}; v null where a block has no reading in a bucket. weakest is
 * alarmd's lowest block of the discharge (min_module), else the block with
 * the lowest voltage seen. */
int ow_hist_curves(ow_hist_t *h, const char *gw, const char *id, json_t **out, ow_hist_err_t *e);
/* A discharge id "STRING-START_US" (decimal, string 1..32767, the start
 * >= 0): 0, or -1 for anything else. */
int ow_hist_parse_id(const char *id, int *string, int64_t *start_us);
/* A block's impedance against its baseline as alarmd judged it
 * (impedance_baselines): {t:[t_s...],ri:[...],deviation_pct:[...],baseline,
 * slope_pct_per_year,projected_us}. The projection is alarmd's (docs/
 * battery.md, "Trend and projected date"), stored with each comparison: the
 * newest comparison's, null when alarmd gives none (trend not known). */
int ow_hist_impedance(ow_hist_t *h, const char *gw, int module, ow_hist_range_t r, json_t **out,
                      ow_hist_err_t *e);
/* Discharges tagged as capacity tests, newest first: {tests:[{id,string,
 * start_us,end_us,duration_s,rated_h,end_v_per_cell,temp_c,capacity_pct,
 * method,ah_removed,dod_pct}]}. */
int ow_hist_captests(ow_hist_t *h, const char *gw, ow_hist_range_t r, json_t **out,
                     ow_hist_err_t *e);

/* ---- api_hist.c: the History routes and the part that opens the pool ---- */
#include "web.h"

/* The "history" row of ow_web_parts (routes.c): the pool from
 * services.webd.history; its password from history.password_file, else the
 * credential pg_webd ($CREDENTIALS_DIRECTORY/pg_webd, the systemd unit's
 * LoadCredential) or the compose secret /run/secrets/pg_webd, else none.
 * Nothing is connected at open: webd starts while PostgreSQL is away. */
int ow_api_hist_open(ow_webd_t *d, char *err, size_t errlen);
void ow_api_hist_close(ow_webd_t *d);

int ow_api_hist_blocks(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_hist_alarms(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_hist_discharges(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_hist_curves(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_hist_impedance(ow_web_req_t *rq, ow_web_resp_t *rs);
int ow_api_hist_captests(ow_web_req_t *rq, ow_web_resp_t *rs);
/* GET /api/health, no session: {ok, service, gateways:[{id, answering,
 * heard_s}], history} for `ohmwatch health webd` and monitoring. */
int ow_api_health(ow_web_req_t *rq, ow_web_resp_t *rs);

#endif
