/* The site file's gateways, strings and modules in the database, so that
 * queries (Grafana) can name and group what the readings refer to. */
#ifndef OW_SITESYNC_H
#define OW_SITESYNC_H

#include <stddef.h>

#include "db.h"
#include "ow_config.h"

/* Upsert every gateway of site with its strings and modules, and delete the
 * strings and modules it no longer has, in one transaction. 0 or -1 with err. */
int ow_sitesync_run(ow_db_t *db, const ow_site_t *site, char *err, size_t errlen);

#endif
