/* The minute rollups of a batch's module readings, computed in memory for
 * the fast path (rollup.h): an open-addressed table keyed by (minute, gateway,
 * module), kept in the connection between batches, packed for COPY. */
#include "rollup.h"

#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "ow_num.h"

static uint64_t agg_hash(int64_t bucket_us, uint16_t gw, int16_t module)
{
    uint64_t h = (uint64_t)bucket_us * 0x9e3779b97f4a7c15ull;
    h ^= ((uint64_t)gw << 16 | (uint16_t)module) * 0xc2b2ae3d27d4eb4full;
    return h ^ h >> 29;
}

/* The slot of (bucket, gw, module) in a table of cap (a power of two). */
static agg_t *agg_slot(agg_t *t, size_t cap, int64_t bucket_us, uint16_t gw, int16_t module)
{
    size_t i = (size_t)agg_hash(bucket_us, gw, module) & (cap - 1);
    while (t[i].used && (t[i].bucket_us != bucket_us || t[i].gw != gw || t[i].module != module))
        i = (i + 1) & (cap - 1);
    return &t[i];
}

static int agg_grow(ow_db_t *db, size_t cap)
{
    agg_t *t = calloc(cap, sizeof *t);
    if (!t) return -1;
    for (size_t i = 0; i < db->capagg; i++)
        if (db->agg[i].used)
            *agg_slot(t, cap, db->agg[i].bucket_us, db->agg[i].gw, db->agg[i].module) = db->agg[i];
    free(db->agg);
    db->agg = t;
    db->capagg = cap;
    return 0;
}

int ow_rollup_compute(ow_db_t *db, const ow_batch_t *b)
{
    if (db->capagg < 1024 && agg_grow(db, 1024) < 0) return -1;
    memset(db->agg, 0, db->capagg * sizeof *db->agg);
    db->nagg = 0;
    for (size_t i = 0; i < b->mod.n; i++) {
        const mod_row_t *r = &b->mod.v[i];
        int64_t bucket = ow_num_floor_div(r->ts_us, 60 * 1000000LL) * 60 * 1000000LL;
        if (2 * (db->nagg + 1) > db->capagg && agg_grow(db, db->capagg * 2) < 0) return -1;
        agg_t *a = agg_slot(db->agg, db->capagg, bucket, r->gw, r->module);
        if (!a->used) {
            a->used = 1;
            a->bucket_us = bucket;
            a->gw = r->gw;
            a->module = r->module;
            a->string = r->string;
            db->nagg++;
        }
        if (r->string > a->string) a->string = r->string;
        a->n++;
        const double x[3] = {r->voltage_v, r->temp_c, r->impedance_mohm};
        for (int k = 0; k < 3; k++) {
            float f;
            if (!ow_dbfmt_real_of(x[k], &f)) continue;
            if (!a->q[k].n || f < a->q[k].min) a->q[k].min = f;
            if (!a->q[k].n || f > a->q[k].max) a->q[k].max = f;
            a->q[k].sum += f;
            a->q[k].n++;
        }
    }
    size_t o = 0;
    for (size_t i = 0; i < db->capagg; i++)
        if (db->agg[i].used) db->agg[o++] = db->agg[i];
    return 0;
}
