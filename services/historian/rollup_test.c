/* rollup.c without a server: the minute rollups of a batch's module
 * readings as the fast path computes them — counts, min/max/sum/count per
 * quantity with NULLs skipped and the stored floats summed, the largest
 * string, minutes before 1970 rounded down, gateways kept apart, the table
 * growing past its first 1024 slots and reused by the next batch. db_test
 * checks the same rows against the server's own rollups. */
#include "rollup.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "db_int.h"
#include "ow_test.h"

#define S_US 1000000LL
#define M_US (60 * S_US)
#define D0   (19844 * 86400 * S_US) /* 2024-05-01 00:00:00 UTC */

static void add(ow_batch_t *b, const char *gw, int64_t ts_us, int string, int module, double v,
                double t, double r)
{
    static uint64_t seq;
    ow_msg_t m;
    ow_msg_init(&m, OW_MSG_MODULE);
    snprintf(m.h.pub, sizeof m.h.pub, "busd.%s", gw);
    snprintf(m.h.gw, sizeof m.h.gw, "%s", gw);
    m.h.epoch = 1714000000000000ULL;
    m.h.seq = ++seq;
    m.h.ts_us = ts_us;
    m.u.module = (ow_module_t){.string = string,
                               .module = module,
                               .block = module,
                               .voltage_v = v,
                               .temp_c = t,
                               .impedance_mohm = r};
    CHECK(ow_batch_add(b, &m) == 1);
}

/* The rollup of (bucket, gw, module) among the packed ones, or NULL. */
static const agg_t *find(const ow_db_t *db, int64_t bucket_us, uint16_t gw, int16_t module)
{
    const agg_t *hit = NULL;
    for (size_t i = 0; i < db->nagg; i++) {
        const agg_t *a = &db->agg[i];
        if (a->bucket_us == bucket_us && a->gw == gw && a->module == module) {
            CHECK(hit == NULL); /* one row per key */
            hit = a;
        }
    }
    return hit;
}

/* db_test's crafted set: minute 10:00 gets 2.25, 2.5, NULL, 2.0 V and 10:01
 * gets 3.0; temperatures all NULL; impedances 1.5. */
static void test_values(ow_db_t *db)
{
    ow_batch_t *b = ow_batch_new();
    int64_t m0 = D0 + 10 * 3600 * S_US;
    add(b, "wm2", m0 + 5 * S_US, 1, 7, 2.25, NAN, 1.5);
    add(b, "wm2", m0 + 15 * S_US, 1, 7, 2.5, NAN, 1.5);
    add(b, "wm2", m0 + 25 * S_US, 1, 7, NAN, NAN, 1.5);
    add(b, "wm2", m0 + 35 * S_US, 1, 7, 2.0, NAN, 1.5);
    add(b, "wm2", m0 + 60 * S_US, 1, 7, 3.0, NAN, 1.5);
    /* Another gateway's module 7 in the same minute, which moved from
     * string 1 to 2: its own row, with the larger string. */
    add(b, "wm1", m0 + 59 * S_US + 999999, 2, 7, 13.6523, 21.25, 4.1);
    add(b, "wm1", m0 + 1 * S_US, 1, 7, 13.1, 1e39, 1e-40);
    /* A reading before 1970 belongs to the minute it is in, not the next. */
    add(b, "wm1", -1, 1, 1, 12.0, 20.0, 4.0);
    CHECK(ow_rollup_compute(db, b) == 0);
    CHECK(db->nagg == 4);
    CHECK(db->capagg == 1024);

    const agg_t *a = find(db, m0, 0, 7);
    CHECK(a != NULL);
    if (a) {
        CHECK(a->n == 4 && a->string == 1);
        CHECK(a->q[0].n == 3 && a->q[0].min == 2.0f && a->q[0].max == 2.5f);
        CHECK(a->q[0].sum == 6.75);
        CHECK(a->q[1].n == 0);
        CHECK(a->q[2].n == 4 && a->q[2].sum == 6.0 && a->q[2].min == 1.5f);
    }
    a = find(db, m0 + M_US, 0, 7);
    CHECK(a != NULL);
    if (a) CHECK(a->n == 1 && a->q[0].n == 1 && a->q[0].sum == 3.0 && a->q[0].max == 3.0f);

    a = find(db, m0, 1, 7);
    CHECK(a != NULL);
    if (a) {
        CHECK(a->n == 2 && a->string == 2);
        /* The stored floats, summed as doubles. */
        CHECK(a->q[0].min == 13.1f && a->q[0].max == 13.6523f);
        CHECK(a->q[0].sum == (double)13.6523f + (double)13.1f);
        CHECK(a->q[0].sum != 13.6523 + 13.1);
        /* Beyond the float range is NULL; a subnormal is stored as 0. */
        CHECK(a->q[1].n == 1 && a->q[1].sum == 21.25);
        CHECK(a->q[2].n == 2 && a->q[2].min == 0.0f && a->q[2].max == 4.1f);
        CHECK(a->q[2].sum == (double)4.1f);
    }
    a = find(db, -M_US, 1, 1);
    CHECK(a != NULL);
    if (a) CHECK(a->n == 1 && a->q[0].sum == 12.0);
    CHECK(find(db, 0, 1, 1) == NULL);
    ow_batch_destroy(&b);
}

/* 3000 keys (520 modules over 6 minutes, minus the tail): the table doubles
 * while it fills (kept at most half full), every reading counted once; the
 * next, smaller batch starts from an empty table of the same size. */
static void test_growth(ow_db_t *db)
{
    ow_batch_t *b = ow_batch_new();
    const int keys = 3000;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < keys; i++)
            add(b, "wm1", D0 + (i / 520) * M_US + pass * S_US, 1, i % 520 + 1, 12.0 + pass, 20.0,
                4.0);
    CHECK(ow_rollup_compute(db, b) == 0);
    CHECK(db->nagg == (size_t)keys);
    CHECK(db->capagg == 8192);
    uint64_t n = 0;
    int bad = 0;
    for (size_t i = 0; i < db->nagg; i++) {
        n += db->agg[i].n;
        if (db->agg[i].n != 2 || db->agg[i].q[0].sum != 25.0 || db->agg[i].q[0].min != 12.0f ||
            db->agg[i].q[0].max != 13.0f)
            bad++;
    }
    CHECK(n == 2 * (uint64_t)keys);
    CHECK(bad == 0);
    const agg_t *last = find(db, D0 + 5 * M_US, 0, (int16_t)((keys - 1) % 520 + 1));
    CHECK(last != NULL && last->n == 2);

    ow_batch_clear(b);
    add(b, "wm1", D0, 1, 3, 12.5, NAN, NAN);
    CHECK(ow_rollup_compute(db, b) == 0);
    CHECK(db->nagg == 1 && db->capagg == 8192);
    CHECK(db->agg[0].n == 1 && db->agg[0].module == 3 && db->agg[0].q[0].sum == 12.5);
    CHECK(db->agg[0].q[1].n == 0 && db->agg[0].q[2].n == 0);

    ow_batch_clear(b);
    CHECK(ow_rollup_compute(db, b) == 0);
    CHECK(db->nagg == 0);
    ow_batch_destroy(&b);
}

int main(void)
{
    /* No connection: the rollups only use the connection's table. */
    ow_db_t *db = calloc(1, sizeof *db);
    CHECK(db != NULL);
    if (!db) return 1;
    test_values(db);
    test_growth(db);
    ow_db_close(&db);
    CHECK(db == NULL);
    return ow_test_done("rollup_test");
}
