/* The backup page's handlers (api_backup.c). */
#ifndef OW_WEB_API_BACKUP_H
#define OW_WEB_API_BACKUP_H

#include "web.h"

/* GET /api/backup: the archive, as backup-SITE-TIME.tar.gz. */
int ow_api_backup(ow_web_req_t *rq, ow_web_resp_t *rs);
/* POST /api/restore?name=backup-X.tar.gz[&dry_run=1][&other_site=1], the
 * archive as the body: {dry_run, lines: [{warning, text}]}, or 422 with
 * the reason and the lines so far. */
int ow_api_restore(ow_web_req_t *rq, ow_web_resp_t *rs);

#endif
