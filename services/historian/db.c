/* The historian's PostgreSQL side; see db.h. Readings go through COPY
 * (copy.c): module readings straight into their table while nothing in the
 * batch is stored yet, otherwise (and always for string and sensor readings)
 * into per-session staging tables and INSERT ... ON CONFLICT DO NOTHING,
 * whose RETURNING rows feed the rollups, so a replayed batch changes nothing.
 * This file keeps the connection and the transaction that writes a batch;
 * the batch itself is batch.c, its events' statements events.c, formatting
 * dbfmt.c, migrations migrate.c, the site sitesync.c. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "db_int.h"
#include "devflags.h"
#include "events.h"
#include "rollup.h"

/* ---- the connection ---- */

/* Library code never prints: NOTICEs ("already exists, skipping") are dropped. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* "what: message", the PostgreSQL message on one line (its lines and runs of
 * blanks joined by single spaces). */
void ow_db_fail(char *err, size_t errlen, const char *what, const char *msg)
{
    if (!err || !errlen) return;
    if (!msg || !*msg) msg = "unknown error";
    int n = snprintf(err, errlen, "%s: ", what);
    size_t o = n < 0 ? 0 : (size_t)n >= errlen ? errlen - 1 : (size_t)n;
    int blank = 1;
    for (const char *s = msg; *s && o + 1 < errlen; s++) {
        int b = *s == ' ' || *s == '\n' || *s == '\t' || *s == '\r';
        if (b && blank) continue;
        err[o++] = b ? ' ' : *s;
        blank = b;
    }
    while (o > 0 && err[o - 1] == ' ')
        o--;
    err[o] = '\0';
}

int ow_db_fail_res(ow_db_t *db, PGresult *res, char *err, size_t errlen, const char *what)
{
    const char *msg = res ? PQresultErrorMessage(res) : "";
    ow_db_fail(err, errlen, what, msg && *msg ? msg : PQerrorMessage(db->conn));
    PQclear(res);
    return -1;
}

/* Run a statement expecting `want`; on success *out (if given) takes the result. */
int ow_db_run(ow_db_t *db, const char *what, const char *sql, int nparams,
              const char *const *params, ExecStatusType want, PGresult **out, char *err,
              size_t errlen)
{
    PGresult *res = nparams ? PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0)
                            : PQexec(db->conn, sql);
    if (!res || PQresultStatus(res) != want) return ow_db_fail_res(db, res, err, errlen, what);
    if (out)
        *out = res;
    else
        PQclear(res);
    return 0;
}

int ow_db_cmd(ow_db_t *db, const char *what, const char *sql, char *err, size_t errlen)
{
    return ow_db_run(db, what, sql, 0, NULL, PGRES_COMMAND_OK, NULL, err, errlen);
}

/* Every session writes UTC: the partition bounds (dates cast to timestamptz
 * in ohmwatch_ensure_partitions) and the rollup buckets follow the session's
 * TimeZone, and the batch computes its days in UTC. */
static int session_setup(ow_db_t *db, char *err, size_t errlen)
{
    db->staged = 0;
    db->ndays = 0;
    if (PQsetClientEncoding(db->conn, "UTF8") != 0) {
        ow_db_fail(err, errlen, "setting client encoding", PQerrorMessage(db->conn));
        return -1;
    }
    return ow_db_cmd(db, "setting the session time zone", "SET TimeZone = 'UTC'", err, errlen);
}

ow_db_t *ow_db_connect(const char *conninfo, char *err, size_t errlen)
{
    ow_db_t *db = calloc(1, sizeof *db);
    if (!db) {
        ow_db_fail(err, errlen, "connecting", "out of memory");
        return NULL;
    }
    const char *const keys[] = {"dbname", "fallback_application_name", NULL};
    const char *const vals[] = {conninfo ? conninfo : "", "ohmwatch-historian", NULL};
    db->conn = PQconnectdbParams(keys, vals, 1);
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        ow_db_fail(err, errlen, "connecting",
                   db->conn ? PQerrorMessage(db->conn) : "out of memory");
        ow_db_close(&db);
        return NULL;
    }
    PQsetNoticeProcessor(db->conn, quiet, NULL);
    if (session_setup(db, err, errlen) < 0) {
        ow_db_close(&db);
        return NULL;
    }
    return db;
}

void ow_db_close(ow_db_t **dbp)
{
    if (!dbp || !*dbp) return;
    ow_db_t *db = *dbp;
    if (db->conn) PQfinish(db->conn);
    free(db->days);
    free(db->buf);
    free(db->agg);
    ow_devflags_free(db);
    free(db);
    *dbp = NULL;
}

int ow_db_alive(ow_db_t *db)
{
    if (PQstatus(db->conn) == CONNECTION_OK) return 1;
    PQreset(db->conn);
    if (PQstatus(db->conn) != CONNECTION_OK) return 0;
    return session_setup(db, NULL, 0) == 0;
}

void ow_db_rollback(ow_db_t *db)
{
    if (PQstatus(db->conn) == CONNECTION_OK && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
        PQclear(PQexec(db->conn, "ROLLBACK"));
}

int ow_db_commit(ow_db_t *db, const char *what, char *err, size_t errlen)
{
    PGresult *res = NULL;
    if (ow_db_run(db, what, "COMMIT", 0, NULL, PGRES_COMMAND_OK, &res, err, errlen) < 0) return -1;
    /* COMMIT of a failed transaction "succeeds" as ROLLBACK. */
    int ok = strcmp(PQcmdStatus(res), "COMMIT") == 0;
    PQclear(res);
    if (!ok) ow_db_fail(err, errlen, what, "the transaction was rolled back");
    return ok ? 0 : -1;
}

int ow_db_positions(ow_db_t *db, ow_db_pos_fn fn, void *ctx, char *err, size_t errlen)
{
    PGresult *res = NULL;
    if (ow_db_run(db, "reading ingest positions", "SELECT pub, epoch, seq FROM ingest_positions", 0,
                  NULL, PGRES_TUPLES_OK, &res, err, errlen) < 0)
        return -1;
    for (int i = 0; i < PQntuples(res); i++)
        fn(ctx, PQgetvalue(res, i, 0), strtoull(PQgetvalue(res, i, 1), NULL, 10),
           strtoull(PQgetvalue(res, i, 2), NULL, 10));
    PQclear(res);
    return 0;
}

int ow_db_retention(ow_db_t *db, int64_t now_us, int days, int *dropped, char *err, size_t errlen)
{
    if (dropped) *dropped = 0;
    if (days < 1) {
        ow_db_fail(err, errlen, "dropping old partitions", "retention must be at least 1 day");
        return -1;
    }
    char day[16];
    *ow_dbfmt_date(day, ow_dbfmt_day(now_us) - days) = '\0';
    const char *p[] = {day};
    PGresult *res = NULL;
    ow_db_rollback(db);
    /* A dropped day may come back with a late reading: ensure it again. */
    db->ndays = 0;
    if (ow_db_run(db, "dropping old partitions", "SELECT ohmwatch_drop_partitions($1::date)", 1, p,
                  PGRES_TUPLES_OK, &res, err, errlen) < 0)
        return -1;
    if (dropped) *dropped = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* ---- writing a batch ---- */

static int day_known(const int64_t *v, size_t n, int64_t day)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == day) return 1;
    return 0;
}

/* The partitions of one UTC day of the batch's readings, unless this session
 * ensured them already. ow_db_write forgets every day when its transaction
 * fails, since the partitions it made are rolled back with it. */
static int ensure_day(ow_db_t *db, int64_t day, char *err, size_t errlen)
{
    if (day_known(db->days, db->ndays, day)) return 0;
    if (db->ndays == db->capdays) {
        size_t ncap = db->capdays ? db->capdays * 2 : 16;
        int64_t *nv = realloc(db->days, ncap * sizeof *nv);
        if (!nv) {
            ow_db_fail(err, errlen, "ensuring partitions", "out of memory");
            return -1;
        }
        db->days = nv;
        db->capdays = ncap;
    }
    char ds[16], what[64];
    *ow_dbfmt_date(ds, day) = '\0';
    const char *p[] = {ds};
    snprintf(what, sizeof what, "ensuring partitions for %s", ds);
    if (ow_db_run(db, what, "SELECT ohmwatch_ensure_partitions($1::date)", 1, p, PGRES_TUPLES_OK,
                  NULL, err, errlen) < 0)
        return -1;
    db->days[db->ndays++] = day;
    return 0;
}

#define ENSURE_DAYS(vec)                                                                           \
    do {                                                                                           \
        for (size_t i_ = 0; i_ < (vec).n; i_++) {                                                  \
            int64_t d_ = ow_dbfmt_day((vec).v[i_].ts_us);                                          \
            if (d_ == last) continue;                                                              \
            last = d_;                                                                             \
            if (ensure_day(db, d_, err, errlen) < 0) return -1;                                    \
        }                                                                                          \
    } while (0)

static int ensure_partitions(ow_db_t *db, const ow_batch_t *b, char *err, size_t errlen)
{
    int64_t last = INT64_MIN;
    ENSURE_DAYS(b->mod);
    ENSURE_DAYS(b->str);
    ENSURE_DAYS(b->aux);
    return 0;
}

/* ---- statements ---- */

#define MOD_COLS                                                                                   \
    "ts, gw, string, module, block, voltage_v, temp_c, impedance_mohm, eq_pct, status, epoch, seq"
#define STR_COLS                                                                                   \
    "ts, gw, string, modules, modules_lost, current_a, ac_current_a, sum_voltage_v, "              \
    "avg_voltage_v, power_kw, ripple_v, epoch, seq"
#define AUX_COLS                                                                                   \
    "ts, gw, ambient_c, humidity_pct, hydrogen_pct_lel, aux_units, inputs, outputs, epoch, seq"
#define AGG_COLS                                                                                   \
    "bucket, gw, module, string, n, v_min, v_max, v_sum, v_n, t_min, t_max, t_sum, t_n, r_min, "   \
    "r_max, r_sum, r_n"

static const char sql_stage[] =
    "CREATE TEMP TABLE IF NOT EXISTS stage_module (LIKE module_readings) ON COMMIT DELETE ROWS; "
    "CREATE TEMP TABLE IF NOT EXISTS stage_string (LIKE string_readings) ON COMMIT DELETE ROWS; "
    "CREATE TEMP TABLE IF NOT EXISTS stage_sensor (LIKE sensor_readings) ON COMMIT DELETE ROWS; "
    "CREATE TEMP TABLE IF NOT EXISTS stage_rollup (LIKE module_readings_1m) ON COMMIT DELETE ROWS";

/* Merge of minute rollups `a` (AGG_COLS) into one bucket table. Sums stay
 * NULL until a value comes; LEAST/GREATEST skip NULLs. */
#define MERGE(tbl)                                                                                 \
    "ON CONFLICT (gw, module, bucket) DO UPDATE SET string = EXCLUDED.string, "                    \
    "n = " tbl ".n + EXCLUDED.n, "                                                                 \
    "v_min = LEAST(" tbl ".v_min, EXCLUDED.v_min), v_max = GREATEST(" tbl ".v_max, "               \
    "EXCLUDED.v_max), v_sum = COALESCE(" tbl ".v_sum + EXCLUDED.v_sum, " tbl ".v_sum, "            \
    "EXCLUDED.v_sum), v_n = " tbl ".v_n + EXCLUDED.v_n, "                                          \
    "t_min = LEAST(" tbl ".t_min, EXCLUDED.t_min), t_max = GREATEST(" tbl ".t_max, "               \
    "EXCLUDED.t_max), t_sum = COALESCE(" tbl ".t_sum + EXCLUDED.t_sum, " tbl ".t_sum, "            \
    "EXCLUDED.t_sum), t_n = " tbl ".t_n + EXCLUDED.t_n, "                                          \
    "r_min = LEAST(" tbl ".r_min, EXCLUDED.r_min), r_max = GREATEST(" tbl ".r_max, "               \
    "EXCLUDED.r_max), r_sum = COALESCE(" tbl ".r_sum + EXCLUDED.r_sum, " tbl ".r_sum, "            \
    "EXCLUDED.r_sum), r_n = " tbl ".r_n + EXCLUDED.r_n"

/* The minute rows as they are, the hour rows summed from them. */
// clang-format off
#define ROLLUPS                                                                                    \
    "m AS (INSERT INTO module_readings_1m (" AGG_COLS ") SELECT " AGG_COLS " FROM a "              \
    MERGE("module_readings_1m") "), "                                                              \
    "h AS (INSERT INTO module_readings_1h (" AGG_COLS ") "                                         \
    "SELECT date_trunc('hour', bucket), gw, module, max(string), sum(n), "                         \
    "min(v_min), max(v_max), sum(v_sum), sum(v_n), min(t_min), max(t_max), sum(t_sum), sum(t_n), " \
    "min(r_min), max(r_max), sum(r_sum), sum(r_n) FROM a GROUP BY 1, 2, 3 "                        \
    MERGE("module_readings_1h") ") "
// clang-format on

/* Careful path: the rows actually inserted feed the rollups. A rollup row's
 * string is the largest seen in the bucket (here and in ow_rollup_compute), so
 * that a module moved between strings within a bucket still makes one row
 * per conflict key. */
static const char sql_module[] =
    "WITH ins AS (INSERT INTO module_readings (" MOD_COLS ") SELECT " MOD_COLS
    " FROM stage_module ON CONFLICT DO NOTHING "
    "RETURNING ts, gw, module, string, voltage_v, temp_c, impedance_mohm), "
    "a AS (SELECT date_trunc('minute', ts) AS bucket, gw, module, max(string) AS string, "
    "count(*) AS n, min(voltage_v) AS v_min, max(voltage_v) AS v_max, "
    "sum(voltage_v::float8) AS v_sum, count(voltage_v) AS v_n, min(temp_c) AS t_min, "
    "max(temp_c) AS t_max, sum(temp_c::float8) AS t_sum, count(temp_c) AS t_n, "
    "min(impedance_mohm) AS r_min, max(impedance_mohm) AS r_max, "
    "sum(impedance_mohm::float8) AS r_sum, count(impedance_mohm) AS r_n "
    "FROM ins GROUP BY 1, 2, 3), " ROLLUPS "SELECT coalesce(sum(n), 0) FROM a";

/* Fast path: every row went in, the rollups were computed here. */
static const char sql_rollup[] =
    "WITH a AS (SELECT " AGG_COLS " FROM stage_rollup), " ROLLUPS "SELECT 1";

/* Module readings, the bulk of every batch. Fast path: COPY straight into
 * module_readings under a savepoint, rollups computed here — about twice
 * the speed of staging, and right whenever nothing in the batch is stored
 * yet (live data). A duplicate (a replay) makes the COPY fail with
 * unique_violation: back to the savepoint, and the batch takes the careful
 * path, as do the following ones until one of them has no duplicate. */
static int write_modules(ow_db_t *db, const ow_batch_t *b, uint64_t *inserted, char *err,
                         size_t errlen)
{
    PGresult *res = NULL;
    if (!db->careful) {
        char state[6];
        if (ow_db_cmd(db, "writing module readings", "SAVEPOINT fast", err, errlen) < 0) return -1;
        if (ow_copy_rows(db, "writing module readings",
                         "COPY module_readings (" MOD_COLS ") FROM STDIN", b, b->mod.n,
                         ow_copy_row_module, state, err, errlen) == 0) {
            ow_copy_agg_ctx_t c = {db, b};
            if (ow_rollup_compute(db, b) < 0) {
                ow_db_fail(err, errlen, "computing rollups", "out of memory");
                return -1;
            }
            if (ow_copy_rows(db, "staging rollups", "COPY stage_rollup (" AGG_COLS ") FROM STDIN",
                             &c, db->nagg, ow_copy_row_agg, NULL, err, errlen) < 0 ||
                ow_db_run(db, "writing rollups", sql_rollup, 0, NULL, PGRES_TUPLES_OK, NULL, err,
                          errlen) < 0)
                return -1;
            *inserted += b->mod.n;
            return 0;
        }
        if (strcmp(state, "23505") != 0) return -1;
        if (ow_db_cmd(db, "writing module readings", "ROLLBACK TO SAVEPOINT fast", err, errlen) < 0)
            return -1;
        db->careful = 1;
    }
    if (ow_copy_rows(db, "staging module readings", "COPY stage_module (" MOD_COLS ") FROM STDIN",
                     b, b->mod.n, ow_copy_row_module, NULL, err, errlen) < 0 ||
        ow_db_run(db, "writing module readings", sql_module, 0, NULL, PGRES_TUPLES_OK, &res, err,
                  errlen) < 0)
        return -1;
    uint64_t n = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    *inserted += n;
    if (n == b->mod.n) db->careful = 0;
    return 0;
}

static int write_readings(ow_db_t *db, const ow_batch_t *b, uint64_t *inserted, char *err,
                          size_t errlen)
{
    PGresult *res = NULL;
    if (!db->staged && ow_db_cmd(db, "creating staging tables", sql_stage, err, errlen) < 0)
        return -1;
    if (b->mod.n && write_modules(db, b, inserted, err, errlen) < 0) return -1;
    if (b->str.n) {
        if (ow_copy_rows(db, "staging string readings",
                         "COPY stage_string (" STR_COLS ") FROM STDIN", b, b->str.n,
                         ow_copy_row_string, NULL, err, errlen) < 0 ||
            ow_db_run(db, "writing string readings",
                      "INSERT INTO string_readings (" STR_COLS ") SELECT " STR_COLS
                      " FROM stage_string ON CONFLICT DO NOTHING",
                      0, NULL, PGRES_COMMAND_OK, &res, err, errlen) < 0)
            return -1;
        *inserted += strtoull(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    }
    if (b->aux.n) {
        if (ow_copy_rows(db, "staging sensor readings",
                         "COPY stage_sensor (" AUX_COLS ") FROM STDIN", b, b->aux.n,
                         ow_copy_row_aux, NULL, err, errlen) < 0 ||
            ow_db_run(db, "writing sensor readings",
                      "INSERT INTO sensor_readings (" AUX_COLS ") SELECT " AUX_COLS
                      " FROM stage_sensor ON CONFLICT DO NOTHING",
                      0, NULL, PGRES_COMMAND_OK, &res, err, errlen) < 0)
            return -1;
        *inserted += strtoull(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    }
    return 0;
}

static int write_positions(ow_db_t *db, const ow_batch_t *b, char *err, size_t errlen)
{
    for (size_t i = 0; i < b->pos.n; i++) {
        const pos_t *ps = &b->pos.v[i];
        char pub[OW_ID_MAX], e[24], s[24];
        ow_dbfmt_utf8(pub, sizeof pub, ps->pub, sizeof ps->pub);
        *ow_dbfmt_u64(e, ps->epoch) = '\0';
        *ow_dbfmt_u64(s, ps->seq) = '\0';
        const char *p[] = {pub, e, s};
        if (ow_db_run(db, "writing ingest positions",
                      "INSERT INTO ingest_positions (pub, epoch, seq) VALUES ($1, $2, $3) "
                      "ON CONFLICT (pub) DO UPDATE SET epoch = EXCLUDED.epoch, seq = EXCLUDED.seq, "
                      "updated_at = now()",
                      3, p, PGRES_COMMAND_OK, NULL, err, errlen) < 0)
            return -1;
    }
    return 0;
}

int ow_db_write(ow_db_t *db, const ow_batch_t *b, uint64_t *inserted, char *err, size_t errlen)
{
    uint64_t n = 0;
    if (inserted) *inserted = 0;
    if (ow_batch_rows(b) == 0 && b->pos.n == 0) return 0;
    ow_db_rollback(db);
    if (ow_db_cmd(db, "starting the batch", "BEGIN", err, errlen) < 0) goto fail;
    if (ensure_partitions(db, b, err, errlen) < 0) goto fail;
    if ((b->mod.n || b->str.n || b->aux.n) && write_readings(db, b, &n, err, errlen) < 0) goto fail;
    if (ow_events_write(db, b, err, errlen) < 0 ||
        (b->dev.n && ow_devflags_write(db, b, err, errlen) < 0) ||
        write_positions(db, b, err, errlen) < 0 ||
        ow_db_commit(db, "committing the batch", err, errlen) < 0)
        goto fail;
    if (b->dev.n) ow_devflags_commit(db);
    if (b->mod.n || b->str.n || b->aux.n) db->staged = 1;
    if (inserted) *inserted = n;
    return 0;
fail:
    ow_db_rollback(db);
    /* Partitions and staging tables made in the failed transaction are gone. */
    db->ndays = 0;
    db->staged = 0;
    return -1;
}
