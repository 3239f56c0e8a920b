/* The backup page's handlers (admin; routes.c rows): the configuration out
 * as one archive (the site file plus alarmd's runtime settings) and back,
 * through cli/backup_run.c, the same code as `ohmwatch backup` / `restore`,
 * so an archive from either restores through the other and a restore is
 * checked in full before anything changes. The audit trail names the web
 * user: every `set` goes to alarmd as webd/USER. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_backup.h"
#include "backup_run.h"
#include "http.h"
#include "ow_log.h"
#include "webd.h"

int ow_api_backup(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    unsigned char *data = NULL;
    size_t len = 0;
    ow_backup_made_t made;
    char err[1024] = "";
    if (ow_backup_make(rq->d->site, rq->who->name, &data, &len, &made, err, sizeof err) < 0) {
        log_warnx("backup by %s refused: %s", rq->who->name, err);
        return ow_web_error(rs, 503, NULL, "backup: %s", err);
    }
    log_info("backup %s by %s: %zu bytes, %zu runtime settings", made.name, rq->who->name, len,
             made.nsettings);
    rs->status = 200;
    rs->type = "application/gzip";
    rs->body = (char *)data;
    rs->len = len;
    snprintf(rs->disposition, sizeof rs->disposition, "attachment; filename=\"%.100s\"", made.name);
    return 0;
}

static void collect(void *ctx, int warning, const char *line)
{
    json_array_append_new(ctx, json_pack("{s:b, s:s}", "warning", warning, "text", line));
}

/* The flags of a restore request: "1" means yes, anything else no. */
static int flag(const ow_web_req_t *rq, const char *name)
{
    const char *v = ow_web_arg(rq, name);
    return v && strcmp(v, "1") == 0;
}

int ow_api_restore(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    const char *name = ow_web_arg(rq, "name");
    ow_restore_opt_t opt = {.dry = flag(rq, "dry_run"), .other_site = flag(rq, "other_site")};
    char err[1024] = "";
    if (!name) return ow_web_error(rs, 400, "name", "name: the backup file's name is needed");
    if (rq->json || rq->body_len == 0)
        return ow_web_error(rs, 400, NULL,
                            "the body must be the archive itself (Content-Type: "
                            "application/octet-stream)");
    json_t *lines = json_array();
    int rc = ow_backup_restore(rq->d->site, rq->who->name, name, rq->body, rq->body_len, &opt,
                               collect, lines, err, sizeof err);
    if (rc < 0) {
        log_warnx("restore of %s by %s refused: %s", name, rq->who->name, err);
        return ow_web_json(rs, 422, json_pack("{s:s, s:o}", "error", err, "lines", lines));
    }
    log_info("restore of %s by %s: %s", name, rq->who->name,
             opt.dry ? "checked (dry run)" : "done");
    return ow_web_json(rs, 200, json_pack("{s:b, s:o}", "dry_run", opt.dry, "lines", lines));
}
