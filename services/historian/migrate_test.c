/* migrate.c against a real PostgreSQL (pgtest.h's private cluster): every
 * migration applied once, in order, with its grants, also by two historians
 * migrating the same fresh database at once. */
#include "migrate.h"

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ow_test.h"
#include "pgtest.h"

static void test_migrate(ow_db_t *db)
{
    char err[512];
    int applied = -1;
    CHECK(ow_migrate_apply(db, &applied, err, sizeof err) == 0);
    CHECK(applied == ow_migrate_version());
    CHECK(ow_migrate_apply(db, &applied, err, sizeof err) == 0);
    CHECK(applied == 0);
    CHECK(ow_migrate_version() == 7);
    CHECK(pgt_qi("SELECT max(version) FROM schema_migrations") == ow_migrate_version());
    CHECK(pgt_count("schema_migrations") == 7);
    /* The reader role got its grants from the migration. */
    CHECK_STR(pgt_q("SELECT has_table_privilege('grafana_reader', 'module_readings', 'SELECT')"),
              "t");
    CHECK_STR(pgt_q("SELECT has_table_privilege('grafana_reader', 'device_flags', 'SELECT')"), "t");
    CHECK_STR(pgt_q("SELECT has_table_privilege('grafana_reader', 'device_module_flags', "
                    "'SELECT')"),
              "t");
    CHECK_STR(pgt_q("SELECT has_table_privilege('grafana_reader', 'device_flags', 'INSERT')"), "f");
    /* webd's role (007): reads every table, writes none. */
    CHECK_STR(pgt_q("SELECT has_table_privilege('webd_reader', 'discharge_events', 'SELECT')"),
              "t");
    CHECK_STR(pgt_q("SELECT has_table_privilege('webd_reader', 'module_readings_1m', 'SELECT')"),
              "t");
    CHECK_STR(pgt_q("SELECT has_table_privilege('webd_reader', 'alarm_events', 'INSERT')"), "f");

    /* Two historians migrating a fresh database at once: the advisory lock
     * lets one apply, the other finds it applied. */
    char admin[600], other[600];
    snprintf(admin, sizeof admin, "%s user=postgres dbname=postgres", pgt_conninfo());
    PGconn *a = PQconnectdb(admin);
    PGresult *res = PQexec(a, "CREATE DATABASE ohmwatch2 OWNER ohmwatch_writer");
    CHECK_MSG(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(a);
    snprintf(other, sizeof other, "%s dbname=ohmwatch2", pgt_conninfo());
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            ow_db_t *d = ow_db_connect(other, err, sizeof err);
            int n = -1;
            if (!d || ow_migrate_apply(d, &n, err, sizeof err) < 0) {
                fprintf(stderr, "concurrent migrate: %s\n", err);
                _exit(99);
            }
            ow_db_close(&d);
            _exit(n);
        }
    }
    int total = 0, ok = 1;
    for (int i = 0; i < 2; i++) {
        int st = 0;
        waitpid(kids[i], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) == 99)
            ok = 0;
        else
            total += WEXITSTATUS(st);
    }
    CHECK(ok);
    CHECK(total == ow_migrate_version());
}

/* A database migrated by a newer historian is refused, not misread. */
static void test_newer(ow_db_t *db)
{
    char err[512] = "";
    int applied = -1;
    CHECK_STR(pgt_q("INSERT INTO schema_migrations (version, name) VALUES (%d, 'future') "
                    "RETURNING version",
                    ow_migrate_version() + 1),
              "8");
    CHECK(ow_migrate_apply(db, &applied, err, sizeof err) == -1);
    CHECK(applied == 0);
    CHECK_CONTAINS(err, "database schema version 8 is newer than this historian's 7");
}

int main(void)
{
    ow_db_t *db = pgt_start_db("migrate-test");
    if (!db) return 1;
    test_migrate(db);
    test_newer(db);
    ow_db_close(&db);
    return ow_test_done("migrate_test");
}
