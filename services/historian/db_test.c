/* db.c against a real PostgreSQL: a private cluster (scripts/pg.sh) in a
 * temporary directory on a free port, stopped and removed at exit. Also the
 * usage example: connect, migrate, sync the site, fill a batch, write it. */
#include "db.h"
#include "migrate.h"
#include "sitesync.h"

#include <arpa/inet.h>
#include <float.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "ow_gbms.h"
#include "hist_test.h"
#include "ow_test.h"
#include "pgtest.h"

/* ---- messages ---- */

static ow_msg_t module_msg(const char *gw, int64_t ts_us, uint64_t seq, int module, double v,
                           double t, double r)
{
    ow_msg_t m = msg(OW_MSG_MODULE, gw, ts_us, seq);
    m.u.module.string = 1;
    m.u.module.module = module;
    m.u.module.block = module;
    m.u.module.voltage_v = v;
    m.u.module.temp_c = t;
    m.u.module.impedance_mohm = r;
    m.u.module.eq_pct = 0;
    m.u.module.status = OW_MODST_EQUALIZING;
    return m;
}

static void add(ow_batch_t *b, ow_msg_t m)
{
    CHECK(ow_batch_add(b, &m) == 1);
    ow_batch_position(b, m.h.pub, m.h.epoch, m.h.seq);
}

static int64_t now_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * S_US + ts.tv_nsec / 1000;
}

/* ---- readings ---- */

/* Awkward values for the real columns: each must come back as the nearest
 * float (or NULL). */
static const double odd[] = {13.6523,  0.1,        -0.0001234, 1e-5,     123456789.0,
                             3.4e38,   1e-30,      2.5e-6,     -17.125,  1.0000001,
                             99999.99, 0.00099999, 1e9,        -1.5e-40, 12345678.9};

static int positions_seen;
static uint64_t pos_seq;

static void on_pos(void *ctx, const char *pub, uint64_t epoch, uint64_t seq)
{
    (void)ctx;
    if (strcmp(pub, "busd.wm1") == 0 && epoch == EPOCH) pos_seq = seq;
    positions_seen++;
}

static void test_readings(ow_db_t *db)
{
    char err[512];
    ow_batch_t *b = ow_batch_new();
    uint64_t seq = 0, ins = 0;
    /* Either side of midnight UTC, so two days' partitions. */
    int64_t t1 = D0 + DAY_US - S_US / 2, t2 = D0 + DAY_US + S_US / 4;
    size_t nodd = sizeof odd / sizeof odd[0];
    for (int m = 1; m <= 3; m++)
        add(b, module_msg("wm1", t1, ++seq, m, 12.5 + m * 0.25, 21.5, 4.75));
    add(b, module_msg("wm1", t2, ++seq, 1, NAN, NAN, NAN));
    for (size_t i = 0; i < nodd; i++)
        add(b, module_msg("wm1", t2 + (int64_t)i + 1, ++seq, 2, odd[i], -odd[i], odd[i] / 3));
    ow_msg_t s = msg(OW_MSG_STRING, "wm1", t1, ++seq);
    s.u.string = (ow_string_t){1, 3, 0, -12.5, NAN, 38.25, 12.75, -0.478, 0.1};
    add(b, s);
    s = msg(OW_MSG_STRING, "wm1", t2, ++seq);
    s.u.string = (ow_string_t){1, 3, 1, NAN, 0.5, 25.5, 12.75, NAN, NAN};
    add(b, s);
    ow_msg_t x = msg(OW_MSG_AUX, "wm1", t2, ++seq);
    x.u.aux = (ow_aux_t){22.5, NAN, 0.25, 2, 0x0005, 0x8001};
    add(b, x);
    ow_msg_t hb = msg(OW_MSG_HEARTBEAT, "wm1", t2, ++seq);
    CHECK(ow_batch_add(b, &hb) == 0);
    ow_batch_position(b, hb.h.pub, hb.h.epoch, hb.h.seq); /* skipped but covered */
    size_t rows = ow_batch_rows(b);
    CHECK(rows == 4 + nodd + 3);

    CHECK_MSG(ow_db_write(db, b, &ins, err, sizeof err) == 0, "%s", err);
    CHECK(ins == rows);
    CHECK(pgt_qi(
              "SELECT count(*) FROM pg_class WHERE relname IN ('module_readings_20240501', "
              "'string_readings_20240501', 'sensor_readings_20240501', 'module_readings_20240502', "
              "'string_readings_20240502', 'sensor_readings_20240502')") == 6);
    CHECK(pgt_qi("SELECT count(*) FROM module_readings_20240501") == 3);
    CHECK(pgt_count("module_readings") == (long long)(4 + nodd));
    CHECK(pgt_count("string_readings") == 2);
    CHECK(pgt_count("sensor_readings") == 1);

    /* Exact values: timestamps to the microsecond, reals as the nearest
     * float, NAN as NULL. */
    CHECK(pgt_qi("SELECT (extract(epoch FROM ts) * 1000000)::bigint FROM module_readings "
                 "WHERE module = 2 AND seq = 2") == t1);
    CHECK(pgt_qi("SELECT (extract(epoch FROM ts) * 1000000)::bigint FROM module_readings "
                 "WHERE seq = 4") == t2);
    CHECK_STR(pgt_q("SELECT voltage_v::float8 || '|' || temp_c || '|' || impedance_mohm || '|' || "
                    "eq_pct || '|' || status || '|' || block || '|' || epoch FROM module_readings "
                    "WHERE seq = 1"),
              "12.75|21.5|4.75|0|2|1|1714000000000000");
    CHECK_STR(pgt_q("SELECT coalesce(voltage_v::text, 'null') || coalesce(temp_c::text, 'null') || "
                    "coalesce(impedance_mohm::text, 'null') FROM module_readings WHERE seq = 4"),
              "nullnullnull");
    int exact = 0;
    for (size_t i = 0; i < nodd; i++) {
        char sql[256];
        double want[3] = {odd[i], -odd[i], odd[i] / 3};
        const char *col[3] = {"voltage_v", "temp_c", "impedance_mohm"};
        for (int c = 0; c < 3; c++) {
            snprintf(sql, sizeof sql, "SELECT %s::float8 FROM module_readings WHERE seq = %zu",
                     col[c], 5 + i);
            double got = pgt_qd(sql);
            float f = (float)want[c];
            int good;
            if (isinf(f))
                good = isnan(got);
            else if (fabsf(f) < FLT_MIN)
                good = got == 0;
            else
                good = got == (double)f;
            CHECK_MSG(good, "%s: %.9g stored as %.9g", col[c], want[c], got);
            exact += good;
        }
    }
    CHECK(exact == (int)nodd * 3);
    CHECK_STR(
        pgt_q(
            "SELECT modules_lost || '|' || current_a || '|' || coalesce(ac_current_a::text, "
            "'null') || '|' || sum_voltage_v || '|' || avg_voltage_v || '|' || power_kw || '|' || "
            "ripple_v FROM string_readings WHERE ts = '2024-05-01 23:59:59.5+00'"),
        "0|-12.5|null|38.25|12.75|-0.478|0.1");
    /* no current sensor, no ripple reading: NULL, not 0 */
    CHECK_STR(pgt_q("SELECT coalesce(power_kw::text, 'null') || '|' || coalesce(ripple_v::text, "
                    "'null') FROM string_readings WHERE modules_lost = 1"),
              "null|null");
    CHECK_STR(pgt_q("SELECT ambient_c || '|' || coalesce(humidity_pct::text, 'null') || '|' || "
                    "hydrogen_pct_lel || '|' || aux_units || '|' || inputs || '|' || outputs "
                    "FROM sensor_readings"),
              "22.5|null|0.25|2|5|32769");
    CHECK(ow_db_positions(db, on_pos, NULL, err, sizeof err) == 0);
    CHECK(positions_seen == 1);
    CHECK(pos_seq == seq);

    /* The same batch again (a replay): nothing new, but the positions move. */
    long long before = pgt_count("module_readings") + pgt_count("string_readings") +
                       pgt_count("sensor_readings") + pgt_count("module_readings_1m");
    ow_batch_position(b, "busd.wm1", EPOCH, seq + 100);
    ow_batch_position(b, "alarmd", EPOCH, 7);
    CHECK_MSG(ow_db_write(db, b, &ins, err, sizeof err) == 0, "%s", err);
    CHECK(ins == 0);
    CHECK(pgt_count("module_readings") + pgt_count("string_readings") +
              pgt_count("sensor_readings") + pgt_count("module_readings_1m") ==
          before);
    positions_seen = 0;
    CHECK(ow_db_positions(db, on_pos, NULL, err, sizeof err) == 0);
    CHECK(positions_seen == 2);
    CHECK(pos_seq == seq + 100);
    CHECK(pgt_qi("SELECT seq FROM ingest_positions WHERE pub = 'alarmd'") == 7);
    CHECK(ow_batch_rows(b) == rows); /* a write leaves the batch as it was */
    ow_batch_clear(b);
    CHECK(ow_batch_rows(b) == 0);
    ow_batch_destroy(&b);
    CHECK(b == NULL);
}

/* ---- rollups ---- */

static const char *rollup(const char *table, int64_t bucket_us)
{
    return pgt_q(
        "SELECT n || '|' || coalesce(v_min::text, '-') || '|' || coalesce(v_max::text, '-') "
        "|| '|' || coalesce(v_sum::text, '-') || '|' || v_n || '|' || "
        "coalesce(t_min::text, '-') || '|' || coalesce(t_max::text, '-') || '|' || "
        "coalesce(t_sum::text, '-') || '|' || t_n || '|' || coalesce(r_sum::text, '-') || "
        "'|' || r_n FROM %s WHERE gw = 'wm2' AND module = 7 AND bucket = to_timestamp(%lld)",
        table, (long long)(bucket_us / S_US));
}

/* The crafted set at hour h: minute h:00 gets 2.25, 2.5, NULL, 2.0 (V) and
 * h:01 gets 3.0; temperatures all NULL; impedances 1.5. */
static ow_batch_t *crafted(int64_t m0, uint64_t seq0)
{
    ow_batch_t *b = ow_batch_new();
    add(b, module_msg("wm2", m0 + 5 * S_US, seq0 + 1, 7, 2.25, NAN, 1.5));
    add(b, module_msg("wm2", m0 + 15 * S_US, seq0 + 2, 7, 2.5, NAN, 1.5));
    add(b, module_msg("wm2", m0 + 25 * S_US, seq0 + 3, 7, NAN, NAN, 1.5));
    add(b, module_msg("wm2", m0 + 35 * S_US, seq0 + 4, 7, 2.0, NAN, 1.5));
    add(b, module_msg("wm2", m0 + 60 * S_US, seq0 + 5, 7, 3.0, NAN, 1.5));
    return b;
}

static void check_crafted(int64_t m0)
{
    CHECK_STR(rollup("module_readings_1m", m0), "4|2|2.5|6.75|3|-|-|-|0|6|4");
    CHECK_STR(rollup("module_readings_1m", m0 + 60 * S_US), "1|3|3|3|1|-|-|-|0|1.5|1");
    CHECK_STR(rollup("module_readings_1h", m0), "5|2|3|9.75|4|-|-|-|0|7.5|5");
}

/* Rollups come two ways: computed by db.c when the whole batch is new (the
 * fast path), or by the server from the rows an ON CONFLICT insert let in
 * (after a batch with duplicates). Both must give the same rows. */
static void test_rollups(void)
{
    char err[512];
    uint64_t ins = 0;
    int64_t m0 = D0 + 10 * 3600 * S_US;                           /* 10:00 */
    ow_db_t *db = ow_db_connect(pgt_conninfo(), err, sizeof err); /* a fresh session: fast path */
    CHECK_MSG(db != NULL, "%s", err);
    if (!db) return;
    ow_batch_t *b1 = crafted(m0, 0), *b2 = ow_batch_new();
    CHECK_MSG(ow_db_write(db, b1, &ins, err, sizeof err) == 0, "%s", err);
    CHECK(ins == 5);
    check_crafted(m0);

    /* A new reading (twice in its batch) and a replayed one: only the new
     * one counts, and the NULL temperatures meet a value. */
    add(b2, module_msg("wm2", m0 + 45 * S_US, 6, 7, 1.75, 20.5, 1.5));
    add(b2, module_msg("wm2", m0 + 45 * S_US, 6, 7, 1.75, 20.5, 1.5));
    add(b2, module_msg("wm2", m0 + 5 * S_US, 1, 7, 2.25, NAN, 1.5));
    CHECK_MSG(ow_db_write(db, b2, &ins, err, sizeof err) == 0, "%s", err);
    CHECK(ins == 1);
    const char *m1 = "5|1.75|2.5|8.5|4|20.5|20.5|20.5|1|7.5|5";
    const char *h1 = "6|1.75|3|11.5|5|20.5|20.5|20.5|1|9|6";
    CHECK_STR(rollup("module_readings_1m", m0), m1);
    CHECK_STR(rollup("module_readings_1h", m0), h1);

    /* Replaying both batches doubles nothing. */
    CHECK(ow_db_write(db, b1, &ins, err, sizeof err) == 0 && ins == 0);
    CHECK(ow_db_write(db, b2, &ins, err, sizeof err) == 0 && ins == 0);
    CHECK_STR(rollup("module_readings_1m", m0), m1);
    CHECK_STR(rollup("module_readings_1h", m0), h1);
    CHECK(pgt_qi("SELECT string FROM module_readings_1h WHERE gw = 'wm2' AND module = 7") == 1);

    /* After the duplicates this session is careful: the same set at 11:00
     * has its rollups made by the server... and, all of it being new, puts
     * the session back on the fast path for the set at 12:00. */
    ow_batch_t *b3 = crafted(m0 + 3600 * S_US, 100), *b4 = crafted(m0 + 7200 * S_US, 200);
    CHECK_MSG(ow_db_write(db, b3, &ins, err, sizeof err) == 0, "%s", err);
    CHECK(ins == 5);
    check_crafted(m0 + 3600 * S_US);
    CHECK_MSG(ow_db_write(db, b4, &ins, err, sizeof err) == 0, "%s", err);
    CHECK(ins == 5);
    check_crafted(m0 + 7200 * S_US);
    CHECK_STR(rollup("module_readings_1m", m0), m1);
    ow_batch_destroy(&b1);
    ow_batch_destroy(&b2);
    ow_batch_destroy(&b3);
    ow_batch_destroy(&b4);
    ow_db_close(&db);
}

/* Every rollup row since D0 against the raw rows it summarizes. */
static long long rollup_mismatches(const char *table, const char *unit)
{
    return pgt_qi(
        "SELECT count(*) FROM (SELECT * FROM %s WHERE bucket >= '2024-05-01') r "
        "FULL JOIN (SELECT date_trunc('%s', ts) AS bucket, gw, module, count(*) AS n, "
        "min(voltage_v) AS v_min, max(voltage_v) AS v_max, sum(voltage_v::float8) AS v_sum, "
        "count(voltage_v) AS v_n, min(temp_c) AS t_min, max(temp_c) AS t_max, "
        "sum(temp_c::float8) AS t_sum, count(temp_c) AS t_n, min(impedance_mohm) AS r_min, "
        "max(impedance_mohm) AS r_max, sum(impedance_mohm::float8) AS r_sum, "
        "count(impedance_mohm) AS r_n FROM module_readings WHERE ts >= '2024-05-01' "
        "GROUP BY 1, 2, 3) x USING (gw, module, bucket) "
        "WHERE r.n IS DISTINCT FROM x.n OR r.v_min IS DISTINCT FROM x.v_min "
        "OR r.v_max IS DISTINCT FROM x.v_max OR r.v_n IS DISTINCT FROM x.v_n "
        "OR r.t_min IS DISTINCT FROM x.t_min OR r.t_max IS DISTINCT FROM x.t_max "
        "OR r.t_n IS DISTINCT FROM x.t_n OR r.r_min IS DISTINCT FROM x.r_min "
        "OR r.r_max IS DISTINCT FROM x.r_max OR r.r_n IS DISTINCT FROM x.r_n "
        "OR (r.v_sum IS NULL) <> (x.v_sum IS NULL) OR (r.t_sum IS NULL) <> (x.t_sum IS NULL) "
        "OR (r.r_sum IS NULL) <> (x.r_sum IS NULL) "
        "OR abs(r.v_sum - x.v_sum) > 1e-9 * greatest(1, abs(x.v_sum)) "
        "OR abs(r.t_sum - x.t_sum) > 1e-9 * greatest(1, abs(x.t_sum)) "
        "OR abs(r.r_sum - x.r_sum) > 1e-9 * greatest(1, abs(x.r_sum))",
        table, unit);
}

/* ---- failures ---- */

static void test_failures(ow_db_t *db)
{
    char err[512];
    uint64_t ins = 0;
    int64_t t = D0 + 6 * DAY_US;

    /* A constraint violation late in the batch rolls back everything,
     * including the day's partitions made for it: the next batch must make
     * them again rather than trust the session's memory. */
    ow_batch_t *b = ow_batch_new();
    add(b, module_msg("wm1", t, 1000, 1, 13.0, 20.0, 4.0));
    ow_msg_t bad = ev(OW_MSG_ALARM, t, 1001);
    bad.u.alarm = (ow_alarm_t){.id = 77,
                               .type = GBMS_A_VOLTAGE_HIGH,
                               .severity = OW_SEV_ALARM,
                               .action = "bogus",
                               .string = 1,
                               .module = 3,
                               .value = 14.7,
                               .threshold = 14.4,
                               .raised_us = t};
    add(b, bad);
    err[0] = '\0';
    CHECK(ow_db_write(db, b, &ins, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "writing alarm events: ");
    CHECK_CONTAINS(err, "alarm_events_action_check");
    CHECK(strchr(err, '\n') == NULL);
    CHECK(ow_batch_rows(b) == 2);
    CHECK(pgt_qi("SELECT count(*) FROM pg_class WHERE relname = 'module_readings_20240507'") == 0);
    CHECK(pgt_qi("SELECT count(*) FROM alarm_events WHERE id = 77") == 0);
    ow_batch_t *good = ow_batch_new();
    add(good, module_msg("wm1", t, 1000, 1, 13.0, 20.0, 4.0));
    CHECK_MSG(ow_db_write(db, good, &ins, err, sizeof err) == 0, "%s", err);
    CHECK(ins == 1);

    /* The server goes away: the write fails with the reason, the connection
     * comes back with a reset once the server does, and the batch goes in. */
    ow_batch_t *later = ow_batch_new();
    add(later, module_msg("wm1", t + S_US, 1002, 1, 13.5, 20.0, 4.0));
    add(later, module_msg("wm1", t + S_US, 1003, 2, 13.5, 20.0, 4.0));
    pgt_stop();
    err[0] = '\0';
    CHECK(ow_db_write(db, later, &ins, err, sizeof err) == -1);
    CHECK(strlen(err) > 20);
    printf("db_test: with the server stopped: %s\n", err);
    CHECK(ow_db_alive(db) == 0);
    CHECK(pgt_restart() == 0);
    CHECK(ow_db_alive(db) == 1);
    CHECK_MSG(ow_db_write(db, later, &ins, err, sizeof err) == 0, "%s", err);
    CHECK(ins == 2);
    CHECK(pgt_qi("SELECT count(*) FROM module_readings_20240507") == 3);
    ow_batch_destroy(&b);
    ow_batch_destroy(&good);
    ow_batch_destroy(&later);

    /* A session in another time zone still gets UTC days and buckets. */
    char tzconn[600];
    snprintf(tzconn, sizeof tzconn, "%s options='-c TimeZone=America/St_Johns'", pgt_conninfo());
    ow_db_t *tz = ow_db_connect(tzconn, err, sizeof err);
    CHECK_MSG(tz != NULL, "%s", err);
    if (tz) {
        ow_batch_t *z = ow_batch_new();
        int64_t late = D0 + 8 * DAY_US + 23 * 3600 * S_US + 1800 * S_US; /* 05-09 23:30 UTC */
        add(z, module_msg("wm1", late, 2000, 1, 13.0, 20.0, 4.0));
        CHECK_MSG(ow_db_write(tz, z, &ins, err, sizeof err) == 0, "%s", err);
        CHECK_STR(pgt_q("SELECT tableoid::regclass FROM module_readings WHERE seq = 2000"),
                  "module_readings_20240509");
        CHECK_STR(pgt_q("SELECT bucket FROM module_readings_1h WHERE gw = 'wm1' AND module = 1 AND "
                        "bucket > '2024-05-09'"),
                  "2024-05-09 23:00:00+00");
        ow_batch_destroy(&z);
        ow_db_close(&tz);
        CHECK(tz == NULL);
    }

    CHECK(ow_db_connect("host=127.0.0.1 port=1 connect_timeout=2", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "connecting: ");
}

/* ---- retention ---- */

static void test_retention(ow_db_t *db)
{
    char err[512];
    uint64_t ins = 0;
    int dropped = -1;
    int64_t old = D0 - 40 * DAY_US; /* 2024-03-22 */
    ow_batch_t *b = ow_batch_new();
    add(b, module_msg("wm1", old, 3000, 1, 13.0, 20.0, 4.0));
    CHECK_MSG(ow_db_write(db, b, &ins, err, sizeof err) == 0, "%s", err);
    CHECK(pgt_qi("SELECT count(*) FROM pg_class WHERE relname = 'module_readings_20240322'") == 1);
    const char *parts_sql = "SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = "
                            "i.inhparent WHERE p.relname LIKE '%_readings'";
    long long parts = pgt_qi("%s", parts_sql);
    CHECK(ow_db_retention(db, D0 + 10 * DAY_US, 20, &dropped, err, sizeof err) == 0);
    CHECK(dropped == 3);
    CHECK(pgt_qi("SELECT count(*) FROM pg_class WHERE relname LIKE '%%_20240322'") == 0);
    CHECK(pgt_qi("%s", parts_sql) == parts - 3);
    CHECK(pgt_qi("SELECT count(*) FROM pg_class WHERE relname = 'module_readings_20240501'") == 1);
    /* A late reading for a dropped day makes its partition again. */
    CHECK_MSG(ow_db_write(db, b, &ins, err, sizeof err) == 0, "%s", err);
    CHECK(ins == 1);
    CHECK(ow_db_retention(db, D0 + 10 * DAY_US, 20, &dropped, err, sizeof err) == 0);
    CHECK(dropped == 3);
    CHECK(ow_db_retention(db, D0, 0, &dropped, err, sizeof err) == -1);
    ow_batch_destroy(&b);
}

/* ---- throughput ---- */

static void test_speed(ow_db_t *db)
{
    char err[512];
    uint64_t ins = 0;
    const int n = 100000, nmod = 520;
    int64_t t0 = D0 + 2 * DAY_US;
    ow_batch_t *b = ow_batch_new();
    for (int pass = 0; pass < 2; pass++) {
        ow_batch_clear(b);
        int64_t a0 = now_mono_us();
        for (int i = 0; i < n; i++) {
            int cycle = i / nmod + pass * (n / nmod + 1), m = i % nmod + 1;
            ow_msg_t x = module_msg("wm1", t0 + cycle * S_US, (uint64_t)(10000 + pass * n + i), m,
                                    12.0 + (i % 1000) * 0.00137, 20.0 + (i % 50) * 0.1,
                                    4.0 + (i % 7) * 0.013);
            x.u.module.string = (m - 1) / 130 + 1;
            x.u.module.block = (m - 1) % 130 + 1;
            if (ow_batch_add(b, &x) != 1) break;
            ow_batch_position(b, x.h.pub, x.h.epoch, x.h.seq);
        }
        int64_t a1 = now_mono_us();
        int rc = ow_db_write(db, b, &ins, err, sizeof err);
        int64_t a2 = now_mono_us();
        CHECK_MSG(rc == 0, "%s", err);
        CHECK(ins == (uint64_t)n);
        double s = (double)(a2 - a1) / 1e6;
        printf("db_test: %d module rows (%s): batch %.0f ms, write %.0f ms = %.0f rows/s\n", n,
               pass ? "warm" : "new day", (double)(a1 - a0) / 1e3, s * 1e3, n / s);
    }
    /* The same batch again, as after a reconnect: all duplicates, so the
     * careful path, which inserts nothing. */
    int64_t a0 = now_mono_us();
    CHECK_MSG(ow_db_write(db, b, &ins, err, sizeof err) == 0, "%s", err);
    double s = (double)(now_mono_us() - a0) / 1e6;
    CHECK(ins == 0);
    printf("db_test: %d module rows replayed: write %.0f ms = %.0f rows/s\n", n, s * 1e3, n / s);
    ow_batch_destroy(&b);
}

int main(void)
{
    char err[512];
    ow_db_t *db = pgt_start_db("db-test");
    if (!db) return 1;
    CHECK(ow_db_alive(db) == 1);

    /* The schema and the site (migrate_test and sitesync_test look closer). */
    ow_gateway_cfg_t gws[2];
    ow_site_t site;
    pgt_site(gws, &site);
    CHECK_MSG(ow_migrate_apply(db, NULL, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(ow_sitesync_run(db, &site, err, sizeof err) == 0, "%s", err);
    test_readings(db);
    test_rollups();
    test_failures(db);
    test_retention(db);
    test_speed(db);

    CHECK(rollup_mismatches("module_readings_1m", "minute") == 0);
    CHECK(rollup_mismatches("module_readings_1h", "hour") == 0);
    CHECK(pgt_qi("SELECT count(*) FROM module_readings_1m WHERE bucket >= '2024-05-01'") > 800);

    ow_db_close(&db);
    CHECK(db == NULL);
    return ow_test_done("db_test");
}
