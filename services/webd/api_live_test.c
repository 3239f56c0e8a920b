/* The live handlers without a server or an alarmd: a site of two gateways,
 * requests built by hand. What must be refused before anything is sent
 * to alarmd is refused here, with the status and field the pages show. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"
#include "ow_test.h"
#include "webd.h"

static const char SITE[] =
    "{\"site\":{\"name\":\"Two\"},\"gateways\":["
    "{\"id\":\"wm1\",\"source\":\"sim\",\"publish\":\"ipc:///tmp/alt-p1\",\"replay\":"
    "\"ipc:///tmp/alt-r1\",\"strings\":[{\"name\":\"A\",\"modules\":2}]},"
    "{\"id\":\"wm2\",\"source\":\"sim\",\"publish\":\"ipc:///tmp/alt-p2\",\"replay\":"
    "\"ipc:///tmp/alt-r2\",\"aux_units\":0,\"strings\":[{\"name\":\"B\",\"modules\":3}]}],"
    "\"services\":{\"alarmd\":{\"publish\":\"ipc:///tmp/alt-ap\",\"control\":\"ipc:///tmp/alt-ac\","
    "\"replay\":\"ipc:///tmp/alt-ar\"}}}";

static ow_webd_t D;
static ow_web_who_t WHO = {.name = "alice", .roles = OW_WEB_ALL, .csrf = "csrf-a"};

/* One request: its status, the answer's JSON in *out (caller's). */
static int run(ow_web_fn fn, const char *body, json_t **out)
{
    ow_web_req_t rq = {
        .d = &D, .method = "POST", .path = "/", .body = body ? body : "", .who = &WHO};
    ow_web_resp_t rs;
    memset(&rs, 0, sizeof rs);
    rq.json = body ? json_loads(body, 0, NULL) : NULL;
    fn(&rq, &rs);
    json_decref(rq.json);
    *out = rs.body ? json_loads(rs.body, 0, NULL) : NULL;
    free(rs.body);
    return rs.status;
}

static const char *field(json_t *j)
{
    const char *f = json_string_value(json_object_get(j, "field"));
    return f ? f : "";
}

static void expect(ow_web_fn fn, const char *body, int status, const char *fld)
{
    json_t *j;
    int st = run(fn, body, &j);
    CHECK_MSG(st == status, "%s: %d, not %d (%s)", body ? body : "(none)", st, status,
              json_string_value(json_object_get(j, "error")));
    CHECK_MSG(strcmp(field(j), fld) == 0, "%s: field '%s', not '%s'", body ? body : "(none)",
              field(j), fld);
    json_decref(j);
}

int main(void)
{
    char err[512];
    D.site = ow_site_parse(SITE, strlen(SITE), "/tmp/api_live_test.json", err, sizeof err);
    CHECK_MSG(D.site != NULL, "%s", err);
    if (!D.site) return ow_test_done("api_live_test");

    /* no model yet: 503, not a crash */
    expect(ow_api_site, NULL, 503, "");
    expect(ow_api_live, NULL, 503, "");
    D.live = ow_web_live_new(D.site, NULL, NULL, err, sizeof err);
    CHECK_MSG(D.live != NULL, "%s", err);

    json_t *j;
    CHECK(run(ow_api_site, NULL, &j) == 200);
    CHECK(json_array_size(json_object_get(j, "gateways")) == 2);
    json_decref(j);
    /* two gateways: a request must name one (no query: no gw argument) */
    expect(ow_api_live, NULL, 400, "gw");
    expect(ow_api_outputs, NULL, 400, "gw");
    CHECK(run(ow_api_alarms, NULL, &j) == 200); /* every gateway's */
    CHECK(json_array_size(json_object_get(j, "alarms")) == 0);
    json_decref(j);

    /* ack: what it names, checked before alarmd is asked */
    expect(ow_api_ack, "[1]", 400, "");
    expect(ow_api_ack, "{\"code\":1}", 400, "gw");
    expect(ow_api_ack, "{\"gw\":\"wm9\",\"code\":1}", 404, "gw");
    expect(ow_api_ack, "{\"gw\":\"wm1\"}", 400, "code");
    expect(ow_api_ack, "{\"gw\":\"wm1\",\"id\":0}", 400, "id");
    expect(ow_api_ack, "{\"gw\":\"wm1\",\"id\":\"7\"}", 400, "id");
    expect(ow_api_ack, "{\"gw\":\"wm1\",\"code\":1,\"module\":9999}", 400, "module");
    expect(ow_api_ack, "{\"gw\":\"wm1\",\"code\":1,\"string\":1,\"module\":2}", 404, "code");

    /* thresholds */
    expect(ow_api_thresholds_post, "{\"gw\":\"wm1\"}", 400, "key");
    expect(ow_api_thresholds_post, "{\"gw\":\"wm1\",\"key\":\"thresholds.temp_c.high_warn\"}", 422,
           "thresholds.temp_c.high_warn");
    expect(ow_api_thresholds_post, "{\"gw\":\"wm1\",\"key\":\"temperature_unit\",\"value\":\"K\"}",
           422, "temperature_unit");

    /* outputs: wm2 has no GX_R_AUX, wm1 one unit (4 outputs) */
    expect(ow_api_outputs_arm, "{\"gw\":\"wm1\",\"output\":5,\"state\":1}", 400, "output");
    expect(ow_api_outputs_arm, "{\"gw\":\"wm2\",\"output\":1,\"state\":1}", 400, "output");
    expect(ow_api_outputs_arm, "{\"gw\":\"wm1\",\"output\":2,\"state\":2}", 400, "state");
    CHECK(run(ow_api_outputs_arm, "{\"gw\":\"wm1\",\"output\":2,\"state\":true}", &j) == 200);
    const char *tok = json_string_value(json_object_get(j, "token"));
    CHECK(tok && strlen(tok) == 32);
    CHECK(json_integer_value(json_object_get(j, "expires_in_s")) == 30);
    char body[128];
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", tok ? tok : "");
    json_decref(j);
    /* another session (another CSRF token) cannot spend it */
    snprintf(WHO.csrf, sizeof WHO.csrf, "csrf-b");
    expect(ow_api_outputs_confirm, body, 403, "token");
    snprintf(WHO.csrf, sizeof WHO.csrf, "csrf-a");
    expect(ow_api_outputs_confirm, "{}", 400, "token");
    expect(ow_api_outputs_confirm, "{\"token\":\"not-one\"}", 409, "token");

    /* a user name alarmd's audit cannot carry is not sent at all */
    snprintf(WHO.name, sizeof WHO.name, "alice@example.org");
    expect(ow_api_thresholds_post,
           "{\"gw\":\"wm1\",\"key\":\"thresholds.temp_c.high_warn\",\"value\":31}", 403, "");
    snprintf(WHO.name, sizeof WHO.name, "alice");

    /* captest, baseline */
    expect(ow_api_captest, "{\"gw\":\"wm1\"}", 400, "string");
    expect(ow_api_captest, "{\"gw\":\"wm1\",\"string\":1,\"rated_h\":\"ten\"}", 400, "rated_h");
    expect(ow_api_baseline, "{\"gw\":\"wm2\",\"module\":1}", 400, "mohm");
    expect(ow_api_baseline, "{\"gw\":\"wm2\",\"mohm\":5}", 400, "module");

    ow_web_live_destroy(&D.live);
    ow_site_destroy(&D.site);
    return ow_test_done("api_live_test");
}
