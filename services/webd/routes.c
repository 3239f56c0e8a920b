/* The route table: every API path, the role it needs and its handler, and
 * the parts that hold state (webd.h). http.c walks the routes; docs/web.md
 * is generated from them. Each part's owner adds its rows here. */
#include <stddef.h>

#include "auth.h"
#include "hub.h"
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
};
/* clang-format on */
const size_t ow_web_nroutes = sizeof ow_web_routes / sizeof ow_web_routes[0];

/* The parts with state of their own, opened in this order (webd.h). The
 * last row only ends the table. */
const ow_web_part_t ow_web_parts[] = {
    {.name = NULL},
};
const size_t ow_web_nparts = sizeof ow_web_parts / sizeof ow_web_parts[0] - 1;
