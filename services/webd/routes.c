/* The route table: every API path, the role it needs and its handler, and
 * the parts that hold state (webd.h). http.c walks the routes; docs/web.md
 * is generated from them. Each part's owner adds its rows here. */
#include <stddef.h>

#include "api_backup.h"
#include "auth.h"
#include "history.h"
#include "hub.h"
#include "live.h"
#include "web.h"
#include "webd.h"

#define V OW_WEB_VIEW

/* clang-format off */
const ow_web_route_t ow_web_routes[] = {
    {.method = "POST", .path = "/api/login", .role = 0, .fn = ow_api_login,
     .what = "{user, password} -> {user, roles, must_change, csrf} and the session cookie; "
             "401 for a wrong name or password alike, 429 {retry_after_s} while locked"},
    {.method = "POST", .path = "/api/logout", .role = V, .csrf = 1, .fn = ow_api_logout,
     .what = "ends the session"},
    {.method = "GET", .path = "/api/me", .role = V, .fn = ow_api_me,
     .what = "{user, roles, must_change, csrf} of the session"},
    {.method = "POST", .path = "/api/password", .role = V, .csrf = 1, .fn = ow_api_password,
     .what = "{old, new}: the user's own password (new: at least 10 characters, not the old)"},
    {.method = "GET", .path = "/api/events", .role = V, .fn = ow_api_events,
     .what = "text/event-stream of the hub: \"gw\" and \"alarms\" events, Last-Event-ID honoured"},
    {.method = "GET", .path = "/api/users", .role = OW_WEB_ADMIN, .fn = ow_api_users_get,
     .what = "{users: [{user, name (the same), roles, must_change}]}"},
    {.method = "POST", .path = "/api/users", .role = OW_WEB_ADMIN, .csrf = 1,
     .fn = ow_api_users_post,
     .what = "{user, roles?, password?}: a new user (password required; changed at first "
             "login), or a known one's roles and, with password, an initial password again; "
             "the last admin keeps admin (409)"},
    {.method = "POST", .path = "/api/users/delete", .role = OW_WEB_ADMIN, .csrf = 1,
     .fn = ow_api_users_delete,
     .what = "{user}: deletes it and ends its sessions; not yourself (422), not the last admin "
             "(409)"},
    /* live (api_live.c, api_ctl.c) */
    {.method = "GET", .path = "/api/site", .role = V, .fn = ow_api_site,
     .what = "{site, tz, now_us, gateways: [{id, name, poll_ms, strings: [{n, name, modules}], "
             "nmodules, aux, contact, battery}], contact, battery}"},
    {.method = "GET", .path = "/api/live", .role = V, .fn = ow_api_live,
     .what = "?gw=ID: the gateway's model, the \"gw\" event's data (values null when not "
             "answering)"},
    {.method = "GET", .path = "/api/alarms", .role = V, .fn = ow_api_alarms,
     .what = "?gw=ID (else every gateway): {alarms: [{gw, id, code, name, severity, string, "
             "module, value, since_us, acked, text}]}"},
    {.method = "POST", .path = "/api/ack", .role = OW_WEB_OPERATE, .csrf = 1, .fn = ow_api_ack,
     .what = "{gw, id} or {gw, code, string?, module?} or {gw?, all: true}: alarmd's ack as "
             "the user; {acknowledged}"},
    {.method = "GET", .path = "/api/thresholds", .role = V, .fn = ow_api_thresholds_get,
     .what = "?gw=ID: {thresholds: [{key, value, text, unit, min, max, doc, type, choices?}]} "
             "as alarmd holds them"},
    {.method = "POST", .path = "/api/thresholds", .role = OW_WEB_ENGINEER, .csrf = 1,
     .fn = ow_api_thresholds_post,
     .what = "{key, value, gw?}: alarmd's set as the user; 422 {error: alarmd's reason, "
             "field: key}"},
    {.method = "GET", .path = "/api/outputs", .role = V, .fn = ow_api_outputs,
     .what = "?gw=ID: {outputs: [{n, name, state}]} (GX_R_AUX, as busd reads them)"},
    {.method = "POST", .path = "/api/outputs/arm", .role = OW_WEB_BREAKER, .csrf = 1,
     .fn = ow_api_outputs_arm,
     .what = "{gw, output, state}: the first step, {token, expires_in_s: 30}, the token "
             "single-use and the session's own"},
    {.method = "POST", .path = "/api/outputs/confirm", .role = OW_WEB_BREAKER, .csrf = 1,
     .fn = ow_api_outputs_confirm,
     .what = "{token}: the second step, alarmd's output as the user; a used, expired or "
             "another session's token is refused"},
    {.method = "POST", .path = "/api/captest", .role = OW_WEB_OPERATE, .csrf = 1,
     .fn = ow_api_captest,
     .what = "{gw, string, rated_h?, end_v_per_cell?}: the string's next discharge is a "
             "capacity test (alarmd's captest as the user); 422 with alarmd's reason"},
    {.method = "POST", .path = "/api/baseline", .role = OW_WEB_ENGINEER, .csrf = 1,
     .fn = ow_api_baseline,
     .what = "{gw, module, mohm}: a module's impedance baseline, null resets it (alarmd's "
             "baseline as the user); 422 with alarmd's reason"},
    {.method = "GET", .path = "/api/audit", .role = OW_WEB_ADMIN, .fn = ow_api_audit,
     .what = "?gw=&n=: {records: [{ts_us, gw, who, key, old, new, source}]}, alarmd's audit "
             "log, oldest first"},
    /* hist: the history (history.c, api_hist.c) and the health check */
    {.method = "GET", .path = "/api/history/blocks", .role = V, .fn = ow_api_hist_blocks,
     .what = "?gw&module&what (v, t or ri)&from_us&to_us -> {series: [[t_s...], [avg...]], min, max, "
             "bucket_s}: the 1-minute rollup up to two days, the hourly one beyond (400 days at most)"},
    {.method = "GET", .path = "/api/alarms/history", .role = V, .fn = ow_api_hist_alarms,
     .what = "?gw&from_us&to_us&code&severity -> {events: [{id, action, ts_us, code, name, "
             "severity, string, module, value, threshold, raised_us, cleared_us, text}], "
             "truncated}: newest first, 1000 at most; no gw: every gateway"},
    {.method = "GET", .path = "/api/discharges", .role = V, .fn = ow_api_hist_discharges,
     .what = "?gw&from_us&to_us -> {discharges: [{id, string, start_us, end_us, duration_s, "
             "ah_removed, min_module, min_voltage_v, end_voltage_v, mode, test, capacity_pct, "
             "dod_pct}]}: newest first, 500 at most"},
    {.method = "GET", .path = "/api/discharges/curves", .role = V, .fn = ow_api_hist_curves,
     .what = "?gw&id -> {t: [t_s...], blocks: [{addr, v: [...]}], weakest}: every block of the "
             "discharge's string, a point per 1-minute rollup bucket (null: no reading)"},
    {.method = "GET", .path = "/api/impedance", .role = V, .fn = ow_api_hist_impedance,
     .what = "?gw&module&from_us&to_us -> {t, ri, deviation_pct, baseline, slope_pct_per_year, "
             "projected_us}: alarmd's comparisons against the baseline and its projected date"},
    {.method = "GET", .path = "/api/captests", .role = V, .fn = ow_api_hist_captests,
     .what = "?gw&from_us&to_us -> {tests: [{id, string, start_us, end_us, duration_s, rated_h, "
             "end_v_per_cell, temp_c, capacity_pct, method, ah_removed, dod_pct}]}"},
    {.method = "GET", .path = "/api/health", .role = 0, .fn = ow_api_health,
     .what = "no session: {ok, service, gateways: [{id, answering, heard_s}], history} for "
             "`ohmwatch health webd`"},
    /* backup (api_backup.c) */
    {.method = "GET", .path = "/api/backup", .role = OW_WEB_ADMIN, .fn = ow_api_backup,
     .what = "the configuration as one archive, backup-SITE-TIME.tar.gz (the site file and "
             "alarmd's runtime settings; the same as `ohmwatch backup`)"},
    {.method = "POST", .path = "/api/restore", .role = OW_WEB_ADMIN, .csrf = 1,
     .fn = ow_api_restore,
     .what = "?name=backup-X.tar.gz&dry_run=1&other_site=1, the archive as the body "
             "(application/octet-stream): every check first, then the site file and the "
             "settings (as `ohmwatch restore`); {dry_run, lines} or 422 {error, lines}"},
};
/* clang-format on */
const size_t ow_web_nroutes = sizeof ow_web_routes / sizeof ow_web_routes[0];

/* The parts with state of their own, opened in this order (webd.h). The
 * last row only ends the table. */
const ow_web_part_t ow_web_parts[] = {
    {.name = "live",
     .open = ow_web_live_part_open,
     .step = ow_web_live_part_step,
     .close = ow_web_live_part_close},
    {.name = "history", .open = ow_api_hist_open, .close = ow_api_hist_close},
    {.name = NULL},
};
const size_t ow_web_nparts = sizeof ow_web_parts / sizeof ow_web_parts[0] - 1;
