/* The historian's schema: versioned migrations (migrations/NNN_name.sql, compiled
 * in) recorded in a schema_migrations table. */
#ifndef OW_MIGRATE_H
#define OW_MIGRATE_H

#include <stddef.h>

#include "db.h"

/* Apply the migrations not yet applied, each in its own transaction.
 * *applied (may be NULL) gets how many ran. 0, or -1 with err — also when
 * the database was migrated by a newer historian than this one. */
int ow_migrate_apply(ow_db_t *db, int *applied, char *err, size_t errlen);
/* Highest migration version known to this binary. */
int ow_migrate_version(void);

#endif
