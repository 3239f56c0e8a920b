/* Test-only: a private PostgreSQL cluster for the historian's database tests
 * (db_test, migrate_test, sitesync_test, events_test). scripts/pg.sh starts
 * it in a temporary directory on a free port; it is stopped and removed at
 * exit. The test's own connection looks at the tables. Not in
 * historiancore. */
#ifndef OW_PGTEST_H
#define OW_PGTEST_H

#include <libpq-fe.h>

#include "db.h"
#include "ow_config.h"

/* Start the cluster and connect to it; the conninfo, or NULL with the
 * reason on stderr. name prefixes the temporary directory and messages. */
const char *pgt_start(const char *name);
/* pgt_start and a connection of the historian's own (ow_db_connect); NULL
 * with the reason on stderr. */
ow_db_t *pgt_start_db(const char *name);
/* Stop the server (a test of a lost connection) and start it again. */
void pgt_stop(void);
int pgt_restart(void);
const char *pgt_conninfo(void);

/* First value of a query as text ("NULL" for a null), "ERR: ..." on failure. */
const char *pgt_q(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same as an integer (-1 on failure, reported on stderr). */
long long pgt_qi(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double pgt_qd(const char *sql); /* NAN for NULL */
long long pgt_count(const char *table);

/* The test site: wm1 ("Webmanager 1", C20, two strings of 3 and 2 blocks,
 * battery figures set) and wm2 (C40, one unnamed string of 2). */
void pgt_site(ow_gateway_cfg_t gws[2], ow_site_t *site);

#endif
