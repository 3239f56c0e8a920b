/* history.c against a real PostgreSQL (the historian's pgtest.h cluster,
 * migrated by the historian's own migrations): each query's JSON from rows
 * written as the historian writes them, read through webd's read-only role;
 * bad arguments refused naming the field; the pool shared by threads, and
 * a connection broken by a server restart reset. */
#include "history.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate.h"
#include "ow_test.h"
#include "pgtest.h"

/* 2026-01-10 00:00:00 UTC */
#define T0_S   1768003200LL
#define T0_US  (T0_S * 1000000LL)
#define MIN_US (60 * 1000000LL)

static char reader[700]; /* webd_reader's conninfo */

static void sql(const char *fmt, const char *what)
{
    const char *r = pgt_q("%s", fmt);
    CHECK_MSG(strncmp(r, "ERR", 3) != 0, "%s: %s", what, r);
}

/* What the historian would have stored: gateway wm1, string 1 of blocks
 * 1..3, a 10-minute discharge at T0 + 1 h on which block 2 sags most (and
 * block 3 misses a minute), a capacity test on string 2, alarms, and an
 * impedance trend of module 1 with alarmd's projection. */
static void fixture(void)
{
    char q[2048];
    for (int m = 1; m <= 3; m++)
        for (int k = 0; k < 120; k++) {
            double v = 13.5 - (k >= 60 && k < 70 ? (k - 59) * 0.1 * (m == 2 ? 2 : 1) : 0);
            if (m == 3 && k == 65) continue;
            snprintf(q, sizeof q,
                     "INSERT INTO module_readings_1m (bucket, gw, module, string, n, v_min, v_max, "
                     "v_sum, v_n, t_min, t_max, t_sum, t_n, r_n) VALUES (to_timestamp(%lld), "
                     "'wm1', %d, 1, 2, %g, %g, %g, 2, 20, 22, 42, 2, 0) RETURNING 1",
                     T0_S + k * 60, m, v - 0.05, v + 0.05, 2 * v);
            sql(q, "rollup 1m");
        }
    for (int k = 0; k < 72; k++) {
        snprintf(q, sizeof q,
                 "INSERT INTO module_readings_1h (bucket, gw, module, string, n, v_min, v_max, "
                 "v_sum, v_n, r_n) VALUES (to_timestamp(%lld), 'wm1', 1, 1, 60, 13.4, 13.6, "
                 "810, 60, 0) RETURNING 1",
                 T0_S + k * 3600);
        sql(q, "rollup 1h");
    }
    snprintf(q, sizeof q,
             "INSERT INTO discharge_events (gw, string, start_at, end_at, duration_s, ah_removed, "
             "min_current_a, min_module, min_voltage_v, end_voltage_v, mode, dod_pct) VALUES "
             "('wm1', 1, to_timestamp(%lld.25), to_timestamp(%lld.25), 600, 12.5, -80, 2, 11.5, "
             "11.6, 'current', 12.5) RETURNING 1",
             T0_S + 3600, T0_S + 4200);
    sql(q, "discharge");
    snprintf(q, sizeof q,
             "INSERT INTO discharge_events (gw, string, start_at, end_at, duration_s, mode, test, "
             "rated_h, end_v_per_cell, temp_c, capacity_pct, method) VALUES ('wm1', 2, "
             "to_timestamp(%lld), to_timestamp(%lld), 36000, 'current', true, 10, 1.75, 22, 96.5, "
             "'IEEE 450 time-adjusted') RETURNING 1",
             T0_S + 7200, T0_S + 43200);
    sql(q, "captest");
    snprintf(q, sizeof q,
             "INSERT INTO discharge_events (gw, string, start_at, duration_s, mode) VALUES "
             "('wm1', 1, to_timestamp(%lld), 0, 'current') RETURNING 1",
             T0_S + 6600);
    sql(q, "discharge under way");
    for (int i = 0; i < 5; i++) {
        snprintf(q, sizeof q,
                 "INSERT INTO alarm_events (id, action, ts, gw, type, name, severity, string, "
                 "module, value, threshold, raised_at, text) VALUES (%d, 'raise', "
                 "to_timestamp(%lld), 'wm1', %d, 'Voltage low', %d, 1, %d, 11.2, 11.5, "
                 "to_timestamp(%lld), 'block low') RETURNING 1",
                 i + 1, T0_S + 60 * i, i < 3 ? 12 : 101, i < 3 ? 2 : 1, i + 1, T0_S + 60 * i);
        sql(q, "alarm");
    }
    sql("INSERT INTO alarm_events (id, action, ts, gw, type, name, severity, string, module, "
        "raised_at, text) VALUES (9, 'raise', '2026-01-10 00:00:30+00', 'wm2', 12, 'x', 2, 1, 1, "
        "'2026-01-10 00:00:30+00', 'other gateway') RETURNING 1",
        "alarm wm2");
    for (int k = 0; k < 6; k++) {
        snprintf(q, sizeof q,
                 "INSERT INTO impedance_baselines (ts, gw, string, module, baseline_mohm, "
                 "impedance_mohm, deviation_pct, slope_pct_per_year, alarm_at) VALUES "
                 "(to_timestamp(%lld), 'wm1', 1, 1, 10, %g, %g, %s, %s) RETURNING 1",
                 T0_S + k * 43200, 10 + k * 0.4, k * 4.0, k < 5 ? "NULL" : "1460",
                 k < 5 ? "NULL" : "to_timestamp(1769040000.5)");
        sql(q, "baseline");
    }
}

static ow_hist_range_t range(int64_t from_us, int64_t to_us)
{
    return (ow_hist_range_t){from_us, to_us};
}

static void test_conninfo(void)
{
    char out[256], err[256];
    const char *pwf = "/tmp/ow-history-test-pw";
    FILE *f = fopen(pwf, "w");
    fputs("it's a \\secret\n", f);
    fclose(f);
    CHECK(ow_hist_conninfo(out, sizeof out, "db", 5432, "ohmwatch", "webd_reader", pwf, err,
                           sizeof err) == 0);
    CHECK_STR(out, "host='db' port='5432' dbname='ohmwatch' user='webd_reader' "
                   "password='it\\'s a \\\\secret'");
    CHECK(ow_hist_conninfo(out, sizeof out, "db", 0, "x", "y", "/nonexistent/pw", err,
                           sizeof err) == -1);
    CHECK_CONTAINS(err, "/nonexistent/pw");
    CHECK(ow_hist_conninfo(out, 20, "db", 5432, "ohmwatch", "webd_reader", NULL, err, sizeof err) ==
          -1);
    remove(pwf);
}

static void test_blocks(ow_hist_t *h)
{
    json_t *j = NULL;
    ow_hist_err_t e;
    /* Two hours: the 1-minute rollup, 120 points, avg = sum / n. */
    CHECK(ow_hist_blocks(h, "wm1", 2, "v", range(T0_US, T0_US + 7200 * 1000000LL), &j, &e) == 0);
    json_t *t = json_array_get(json_object_get(j, "series"), 0);
    json_t *v = json_array_get(json_object_get(j, "series"), 1);
    CHECK(json_array_size(t) == 120);
    CHECK(json_integer_value(json_array_get(t, 0)) == T0_S);
    CHECK(json_integer_value(json_array_get(t, 119)) == T0_S + 119 * 60);
    CHECK_NEAR(json_real_value(json_array_get(v, 0)), 13.5, 1e-9);
    CHECK_NEAR(json_real_value(json_array_get(v, 69)), 13.5 - 2.0, 1e-9);
    CHECK_NEAR(json_real_value(json_array_get(json_object_get(j, "min"), 69)), 11.45, 1e-6);
    CHECK(json_integer_value(json_object_get(j, "bucket_s")) == 60);
    json_decref(j);
    /* Temperature of the same rows. */
    CHECK(ow_hist_blocks(h, "wm1", 1, "t", range(T0_US, T0_US + 600 * 1000000LL), &j, &e) == 0);
    v = json_array_get(json_object_get(j, "series"), 1);
    CHECK(json_array_size(v) == 11);
    CHECK_NEAR(json_real_value(json_array_get(v, 3)), 21.0, 1e-9);
    json_decref(j);
    /* No impedance in these rows: an empty series, not zeros. */
    CHECK(ow_hist_blocks(h, "wm1", 1, "ri", range(T0_US, T0_US + 600 * 1000000LL), &j, &e) == 0);
    CHECK(json_array_size(json_array_get(json_object_get(j, "series"), 0)) == 0);
    json_decref(j);
    /* Three days: the hourly rollup. */
    CHECK(ow_hist_blocks(h, "wm1", 1, "v", range(T0_US, T0_US + 3 * 86400 * 1000000LL), &j, &e) ==
          0);
    CHECK(json_integer_value(json_object_get(j, "bucket_s")) == 3600);
    CHECK(json_array_size(json_array_get(json_object_get(j, "series"), 0)) == 72);
    CHECK_NEAR(json_real_value(json_array_get(json_array_get(json_object_get(j, "series"), 1), 5)),
               13.5, 1e-9);
    json_decref(j);
    /* Refusals name the argument. */
    CHECK(ow_hist_blocks(h, "wm1", 1, "x", range(T0_US, T0_US + 1), &j, &e) == -1);
    CHECK(e.status == 400);
    CHECK_STR(e.field, "what");
    CHECK(ow_hist_blocks(h, "wm1", 0, "v", range(T0_US, T0_US + 1), &j, &e) == -1);
    CHECK_STR(e.field, "module");
    CHECK(ow_hist_blocks(h, "wm1'; DROP TABLE gateways; --", 1, "v", range(T0_US, T0_US + 1), &j,
                         &e) == -1);
    CHECK(e.status == 400);
    CHECK_STR(e.field, "gw");
    CHECK(ow_hist_blocks(h, "wm1", 1, "v", range(T0_US + 1, T0_US), &j, &e) == -1);
    CHECK_STR(e.field, "from_us");
    CHECK(ow_hist_blocks(h, "wm1", 1, "v", range(T0_US - OW_HIST_SPAN_MAX_US - 1, T0_US), &j, &e) ==
          -1);
    CHECK_CONTAINS(e.msg, "400 days");
}

static void test_alarms(ow_hist_t *h)
{
    json_t *j = NULL;
    ow_hist_err_t e;
    ow_hist_range_t r = range(T0_US, T0_US + 3600 * 1000000LL);
    CHECK(ow_hist_alarms(h, "wm1", r, -1, -1, &j, &e) == 0);
    json_t *ev = json_object_get(j, "events");
    CHECK(json_array_size(ev) == 5);
    /* newest first */
    CHECK(json_integer_value(json_object_get(json_array_get(ev, 0), "id")) == 5);
    CHECK(json_integer_value(json_object_get(json_array_get(ev, 0), "ts_us")) ==
          T0_US + 4 * MIN_US);
    CHECK(json_is_null(json_object_get(json_array_get(ev, 0), "cleared_us")));
    CHECK_STR(json_string_value(json_object_get(json_array_get(ev, 4), "text")), "block low");
    CHECK(json_is_false(json_object_get(j, "truncated")));
    /* severities by name, as /api/alarms says them */
    CHECK_STR(json_string_value(json_object_get(json_array_get(ev, 0), "severity")), "warning");
    CHECK_STR(json_string_value(json_object_get(json_array_get(ev, 4), "severity")), "alarm");
    json_decref(j);
    CHECK(ow_hist_severity("alarm") == 2);
    CHECK(ow_hist_severity("warning") == 1);
    CHECK(ow_hist_severity("loud") == -1);
    CHECK(ow_hist_alarms(h, "wm1", r, 101, -1, &j, &e) == 0);
    CHECK(json_array_size(json_object_get(j, "events")) == 2);
    json_decref(j);
    CHECK(ow_hist_alarms(h, "wm1", r, -1, 2, &j, &e) == 0);
    CHECK(json_array_size(json_object_get(j, "events")) == 3);
    json_decref(j);
    /* every gateway */
    CHECK(ow_hist_alarms(h, NULL, r, 12, -1, &j, &e) == 0);
    CHECK(json_array_size(json_object_get(j, "events")) == 4);
    json_decref(j);
    /* the range bounds it */
    CHECK(ow_hist_alarms(h, "wm1", range(T0_US + 2 * MIN_US, T0_US + 3 * MIN_US), -1, -1, &j, &e) ==
          0);
    CHECK(json_array_size(json_object_get(j, "events")) == 2);
    json_decref(j);
}

static void test_discharges(ow_hist_t *h)
{
    json_t *j = NULL;
    ow_hist_err_t e;
    ow_hist_range_t r = range(T0_US, T0_US + 86400 * 1000000LL);
    CHECK(ow_hist_discharges(h, "wm1", r, &j, &e) == 0);
    json_t *d = json_object_get(j, "discharges");
    CHECK(json_array_size(d) == 3);
    /* newest first: the test on string 2, the one under way, then this one */
    json_t *d1 = json_array_get(d, 2);
    char id[48];
    snprintf(id, sizeof id, "1-%lld", T0_US + 3600 * 1000000LL + 250000);
    CHECK_STR(json_string_value(json_object_get(d1, "id")), id);
    CHECK(json_integer_value(json_object_get(d1, "string")) == 1);
    CHECK(json_integer_value(json_object_get(d1, "start_us")) == T0_US + 3600250000LL);
    CHECK(json_integer_value(json_object_get(d1, "end_us")) == T0_US + 4200250000LL);
    CHECK_NEAR(json_real_value(json_object_get(d1, "duration_s")), 600, 1e-9);
    CHECK(json_integer_value(json_object_get(d1, "min_module")) == 2);
    CHECK(json_is_false(json_object_get(d1, "test")));
    json_decref(j);

    /* Its curves: blocks 1..3, one point per minute from the start's
     * minute to the end (60..70: 11 buckets), block 3's missing minute a
     * null, block 2 the weakest. */
    CHECK(ow_hist_curves(h, "wm1", id, &j, &e) == 0);
    json_t *t = json_object_get(j, "t"), *b = json_object_get(j, "blocks");
    CHECK_MSG(json_array_size(t) == 11, "%zu points", json_array_size(t));
    CHECK(json_integer_value(json_array_get(t, 0)) == T0_S + 3600);
    CHECK(json_array_size(b) == 3);
    for (size_t i = 0; i < json_array_size(b); i++) {
        json_t *bi = json_array_get(b, i);
        CHECK(json_integer_value(json_object_get(bi, "addr")) == (json_int_t)i + 1);
        CHECK(json_array_size(json_object_get(bi, "v")) == 11);
    }
    CHECK(json_is_null(json_array_get(json_object_get(json_array_get(b, 2), "v"), 5)));
    CHECK_NEAR(json_real_value(json_array_get(json_object_get(json_array_get(b, 1), "v"), 9)),
               13.5 - 2.0, 1e-9);
    CHECK(json_integer_value(json_object_get(j, "weakest")) == 2);
    json_decref(j);
    /* One under way (no end yet): the minutes the rollup has from its start. */
    snprintf(id, sizeof id, "1-%lld", T0_US + 110 * MIN_US);
    CHECK(ow_hist_curves(h, "wm1", id, &j, &e) == 0);
    CHECK(json_is_true(json_object_get(j, "under_way")));
    CHECK_MSG(json_array_size(json_object_get(j, "t")) == 10, "%zu points",
              json_array_size(json_object_get(j, "t")));
    json_decref(j);
    CHECK(ow_hist_curves(h, "wm1", "1-123", &j, &e) == -1);
    CHECK(e.status == 404);
    CHECK(ow_hist_curves(h, "wm1", "1-12x", &j, &e) == -1);
    CHECK(e.status == 400);
    CHECK_STR(e.field, "id");
    CHECK(ow_hist_curves(h, "wm1", "0-1", &j, &e) == -1);
    CHECK(ow_hist_curves(h, "wm1", NULL, &j, &e) == -1);

    CHECK(ow_hist_captests(h, "wm1", r, &j, &e) == 0);
    json_t *ct = json_object_get(j, "tests");
    CHECK(json_array_size(ct) == 1);
    CHECK_NEAR(json_real_value(json_object_get(json_array_get(ct, 0), "capacity_pct")), 96.5, 1e-9);
    CHECK_STR(json_string_value(json_object_get(json_array_get(ct, 0), "method")),
              "IEEE 450 time-adjusted");
    CHECK(json_integer_value(json_object_get(json_array_get(ct, 0), "string")) == 2);
    json_decref(j);
}

static void test_impedance(ow_hist_t *h)
{
    json_t *j = NULL;
    ow_hist_err_t e;
    CHECK(ow_hist_impedance(h, "wm1", 1, range(T0_US, T0_US + 5 * 86400 * 1000000LL), &j, &e) == 0);
    CHECK(json_array_size(json_object_get(j, "t")) == 6);
    CHECK_NEAR(json_real_value(json_array_get(json_object_get(j, "ri"), 5)), 12.0, 1e-9);
    CHECK_NEAR(json_real_value(json_object_get(j, "baseline")), 10, 1e-9);
    CHECK_NEAR(json_real_value(json_object_get(j, "slope_pct_per_year")), 1460, 1e-9);
    CHECK(json_integer_value(json_object_get(j, "projected_us")) == 1769040000500000LL);
    json_decref(j);
    /* Before alarmd knew the trend: no date. */
    CHECK(ow_hist_impedance(h, "wm1", 1, range(T0_US, T0_US + 86400 * 1000000LL), &j, &e) == 0);
    CHECK(json_array_size(json_object_get(j, "t")) == 3);
    CHECK(json_is_null(json_object_get(j, "projected_us")));
    json_decref(j);
    /* No comparison of that module: null baseline. */
    CHECK(ow_hist_impedance(h, "wm1", 3, range(T0_US, T0_US + 86400 * 1000000LL), &j, &e) == 0);
    CHECK(json_is_null(json_object_get(j, "baseline")));
    json_decref(j);
}

/* Four threads on a pool of two: every query answered, some had to wait. */
struct worker {
    ow_hist_t *h;
    int ok;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 25; i++) {
        json_t *j = NULL;
        ow_hist_err_t e;
        if (ow_hist_blocks(w->h, "wm1", 1 + i % 3, "v", range(T0_US, T0_US + 7200 * 1000000LL), &j,
                           &e) == 0 &&
            json_array_size(json_array_get(json_object_get(j, "series"), 0)) >= 119)
            w->ok++;
        json_decref(j);
    }
    return NULL;
}

static void test_pool(void)
{
    char err[256];
    ow_hist_t *h = ow_hist_new(reader, 2, err, sizeof err);
    CHECK(h != NULL);
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){h, 0};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_MSG(w[i].ok == 25, "thread %d: %d of 25", i, w[i].ok);
    }
    ow_hist_stats_t st;
    ow_hist_stats(h, &st);
    CHECK(st.queries == 100);
    CHECK(st.failed == 0);
    CHECK(st.waits > 0);
    CHECK(pgt_qi("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                 "'ohmwatch-webd'") == 2);

    /* The server goes away: 503, not a hang; back: the broken connections
     * are reset and the same pool answers. */
    pgt_stop();
    json_t *j = NULL;
    ow_hist_err_t e;
    CHECK(ow_hist_discharges(h, "wm1", range(T0_US, T0_US + 86400000000LL), &j, &e) == -1);
    CHECK(e.status == 503);
    CHECK_CONTAINS(e.msg, "history");
    CHECK(pgt_restart() == 0);
    CHECK(ow_hist_discharges(h, "wm1", range(T0_US, T0_US + 86400000000LL), &j, &e) == 0);
    CHECK(json_array_size(json_object_get(j, "discharges")) == 3);
    json_decref(j);
    ow_hist_stats(h, &st);
    CHECK(st.failed == 1);
    ow_hist_destroy(&h);
    CHECK(h == NULL);
    CHECK(ow_hist_new(reader, 33, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "1..32");
}

/* The role and the session refuse writes. */
static void test_read_only(void)
{
    PGconn *c = PQconnectdb(reader);
    CHECK(PQstatus(c) == CONNECTION_OK);
    PGresult *r = PQexec(c, "DELETE FROM alarm_events");
    CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR);
    CHECK_CONTAINS(PQresultErrorMessage(r), "permission denied");
    PQclear(r);
    PQfinish(c);
}

int main(void)
{
    char err[512];
    ow_db_t *db = pgt_start_db("webd-history-test");
    if (!db) return 1;
    int applied;
    if (ow_migrate_apply(db, &applied, err, sizeof err) < 0) {
        fprintf(stderr, "migrate: %s\n", err);
        return 1;
    }
    ow_db_close(&db);
    /* pg.sh's cluster: webd_reader with its test password, same server. */
    snprintf(reader, sizeof reader, "%s user=webd_reader password=webd", pgt_conninfo());
    fixture();
    ow_hist_t *h = ow_hist_new(reader, 4, err, sizeof err);
    CHECK(h != NULL);
    test_conninfo();
    test_blocks(h);
    test_alarms(h);
    test_discharges(h);
    test_impedance(h);
    ow_hist_destroy(&h);
    test_read_only();
    test_pool();
    return ow_test_done("webd_history_test");
}
