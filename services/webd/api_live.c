/* The live pages' reads (GET /api/site, /api/live, /api/alarms,
 * /api/outputs) and live.c's part row: the model is built when webd opens
 * its parts, fed on the main thread, and its JSON published to the hub. */
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "live.h"
#include "ow_log.h"
#include "web.h"
#include "webd.h"

/* ---- the part (webd.h's ow_web_part_t) ---- */

static void to_hub(void *ctx, const char *event, const char *data)
{
    ow_webd_t *d = ctx;
    if (d->hub) ow_web_hub_publish(d->hub, event, data);
}

int ow_web_live_part_open(ow_webd_t *d, char *err, size_t errlen)
{
    d->live = ow_web_live_new(d->site, to_hub, d, err, errlen);
    if (!d->live) return -1;
    if (ow_web_live_connect(d->live, err, errlen) == 0) return 0;
    ow_web_live_destroy(&d->live);
    return -1;
}

void ow_web_live_part_step(ow_webd_t *d, int timeout_ms)
{
    if (d->live) ow_web_live_step(d->live, timeout_ms);
}

void ow_web_live_part_close(ow_webd_t *d)
{
    ow_web_live_destroy(&d->live);
}

/* ---- handlers ---- */

/* A serialised text as the body (taken over). */
static int body(ow_web_resp_t *rs, char *s)
{
    if (!s) return ow_web_error(rs, 500, NULL, "out of memory");
    rs->status = 200;
    rs->type = NULL;
    free(rs->body);
    rs->body = s;
    rs->len = strlen(s);
    return 0;
}

const char *ow_web_req_gateway(ow_web_req_t *rq, ow_web_resp_t *rs, const char *given)
{
    const char *gw = given ? given : ow_web_arg(rq, "gw");
    const char *id = rq->d->live ? ow_web_live_gateway(rq->d->live, gw) : NULL;
    if (id) return id;
    if (!rq->d->live)
        ow_web_error(rs, 503, NULL, "the live model is not ready");
    else if (!gw || !gw[0])
        ow_web_error(rs, 400, "gw", "the site has %d gateways: name one (gw)",
                     rq->d->site->ngateways);
    else
        ow_web_error(rs, 404, "gw", "no gateway '%.40s' in the site", gw);
    return NULL;
}

int ow_api_site(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    if (!rq->d->live) return ow_web_error(rs, 503, NULL, "the live model is not ready");
    return body(rs, ow_web_live_site_json(rq->d->live));
}

int ow_api_live(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    const char *gw = ow_web_req_gateway(rq, rs, NULL);
    return gw ? body(rs, ow_web_live_json(rq->d->live, gw)) : 0;
}

/* Every gateway's without gw (the header's count on a site of several). */
int ow_api_alarms(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    const char *given = ow_web_arg(rq, "gw");
    if (!given || !given[0]) {
        if (!rq->d->live) return ow_web_error(rs, 503, NULL, "the live model is not ready");
        return body(rs, ow_web_live_alarms_json(rq->d->live, NULL));
    }
    const char *gw = ow_web_req_gateway(rq, rs, given);
    return gw ? body(rs, ow_web_live_alarms_json(rq->d->live, gw)) : 0;
}

int ow_api_outputs(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    const char *gw = ow_web_req_gateway(rq, rs, NULL);
    return gw ? body(rs, ow_web_live_outputs_json(rq->d->live, gw)) : 0;
}
