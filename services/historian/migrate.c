/* The historian's schema migrations: migrations/NNN_name.sql, compiled into the
 * binary (embed_migrations.cmake), applied in version order, each in its own
 * transaction under an advisory lock so that historians starting together
 * apply each one once. */
#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

/* Written by embed_migrations.cmake (migrations.c). */
typedef struct {
    int version;
    const char *name;
    const char *sql;
} ow_migration_t;
extern const ow_migration_t ow_migrations[];
extern const size_t ow_migrations_count;

#define MIGRATE_LOCK 0x6f686d7761746368LL /* "ohmwatch": pg_advisory_xact_lock key */

int ow_migrate_version(void)
{
    int v = 0;
    for (size_t i = 0; i < ow_migrations_count; i++)
        if (ow_migrations[i].version > v) v = ow_migrations[i].version;
    return v;
}

/* BEGIN and the migration lock: concurrent historians apply one at a time. */
static int begin_locked(ow_db_t *db, const char *what, char *err, size_t errlen)
{
    char sql[96];
    snprintf(sql, sizeof sql, "BEGIN; SELECT pg_advisory_xact_lock(%lld)", (long long)MIGRATE_LOCK);
    PGresult *res = NULL;
    if (ow_db_run(db, what, sql, 0, NULL, PGRES_TUPLES_OK, &res, err, errlen) < 0) return -1;
    PQclear(res);
    return 0;
}

int ow_migrate_apply(ow_db_t *db, int *applied, char *err, size_t errlen)
{
    if (applied) *applied = 0;
    ow_db_rollback(db);
    if (begin_locked(db, "creating schema_migrations", err, errlen) < 0 ||
        ow_db_cmd(db, "creating schema_migrations",
                  "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                  "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                  err, errlen) < 0 ||
        ow_db_commit(db, "creating schema_migrations", err, errlen) < 0)
        goto fail;

    /* In version order, whatever order the generator wrote them in. */
    size_t n = ow_migrations_count;
    const ow_migration_t **order = calloc(n ? n : 1, sizeof *order);
    if (!order) {
        ow_db_fail(err, errlen, "migrating", "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        for (; j > 0 && order[j - 1]->version > ow_migrations[i].version; j--)
            order[j] = order[j - 1];
        order[j] = &ow_migrations[i];
    }

    char what[160];
    for (size_t i = 0; i < n; i++) {
        const ow_migration_t *mg = order[i];
        char ver[24];
        const char *p[2] = {ow_dbfmt_param_i64(ver, mg->version), mg->name};
        PGresult *res = NULL;
        snprintf(what, sizeof what, "applying migration %d (%s)", mg->version, mg->name);
        if (begin_locked(db, what, err, errlen) < 0 ||
            ow_db_run(db, what, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, p,
                      PGRES_TUPLES_OK, &res, err, errlen) < 0)
            goto fail_order;
        int done = PQntuples(res) > 0;
        PQclear(res);
        if (done) {
            ow_db_rollback(db);
            continue;
        }
        if (ow_db_cmd(db, what, mg->sql, err, errlen) < 0 ||
            ow_db_run(db, what, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
                      p, PGRES_COMMAND_OK, NULL, err, errlen) < 0 ||
            ow_db_commit(db, what, err, errlen) < 0)
            goto fail_order;
        if (applied) ++*applied;
    }
    free(order);

    /* A database migrated by a newer historian: this binary would misread it. */
    PGresult *res = NULL;
    if (ow_db_run(db, "reading schema_migrations",
                  "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL,
                  PGRES_TUPLES_OK, &res, err, errlen) < 0)
        return -1;
    int have = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (have > ow_migrate_version()) {
        snprintf(what, sizeof what, "database schema version %d is newer than this historian's %d",
                 have, ow_migrate_version());
        ow_db_fail(err, errlen, "migrating", what);
        return -1;
    }
    return 0;

fail_order:
    free(order);
fail:
    ow_db_rollback(db);
    return -1;
}
