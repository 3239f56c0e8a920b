/* A field device's words in the history (devflags.h): a row when they
 * change, not one a poll. The decision is made here, at the write, against
 * what this connection last saw, rather than where messages arrive: the
 * live batches and the spool's drain then pass through the same decision in
 * the same order, and a new connection (a restart, PostgreSQL back after an
 * outage) knows nothing yet, so its first message is always written and
 * the history states the words from there. */
#include "devflags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

static const char *const why_names[] = {
    [OW_DEVFLAGS_SAME] = NULL,
    [OW_DEVFLAGS_START] = "start",
    [OW_DEVFLAGS_CHANGE] = "change",
    [OW_DEVFLAGS_KEEPALIVE] = "keepalive",
};

const char *ow_devflags_why_name(ow_devflags_why_t why)
{
    return (unsigned)why < sizeof why_names / sizeof why_names[0] ? why_names[why] : NULL;
}

ow_devflags_why_t ow_devflags_decide(const ow_device_t *prev, int64_t written_us,
                                     const ow_device_t *cur, int64_t ts_us)
{
    if (!prev) return OW_DEVFLAGS_START;
    if (strncmp(prev->link, cur->link, sizeof cur->link) != 0 || prev->general != cur->general ||
        prev->battery != cur->battery || prev->alarm != cur->alarm ||
        prev->strings_reported != cur->strings_reported ||
        prev->modules_reported != cur->modules_reported)
        return OW_DEVFLAGS_CHANGE;
    /* Measurement time, not the clock: a replay decides as the live run did.
     * A step back (a corrected clock) is not a reason to write. */
    if (ts_us - written_us >= OW_DEVFLAGS_KEEPALIVE_US) return OW_DEVFLAGS_KEEPALIVE;
    return OW_DEVFLAGS_SAME;
}

static uint16_t word(const ow_device_t *d, int i)
{
    return d && i < d->nmodules ? d->module_flags[i] : 0;
}

int ow_devflags_modules(const ow_device_t *prev, const ow_device_t *cur, int16_t *module,
                        int32_t *flags)
{
    int n = cur->nmodules, k = 0;
    if (prev && prev->nmodules > n) n = prev->nmodules;
    if (n > OW_MAX_MODULES) n = OW_MAX_MODULES;
    for (int i = 0; i < n; i++) {
        if (prev && word(prev, i) == word(cur, i)) continue;
        if (!prev && i >= cur->nmodules) continue;
        module[k] = (int16_t)(i + 1);
        flags[k++] = word(cur, i);
    }
    return k;
}

/* ---- what the connection saw ---- */

static dev_seen_t *seen_find(dev_cache_t *c, const char *gw)
{
    for (size_t i = 0; i < c->n; i++)
        if (strncmp(c->v[i].gw, gw, OW_ID_MAX) == 0) return &c->v[i];
    return NULL;
}

static dev_seen_t *seen_add(dev_cache_t *c, const char *gw)
{
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 8;
        dev_seen_t *nv = realloc(c->v, ncap * sizeof *nv);
        if (!nv) return NULL;
        c->v = nv, c->cap = ncap;
    }
    dev_seen_t *s = &c->v[c->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->gw, sizeof s->gw, "%s", gw);
    return s;
}

/* dev_next starts as a copy of what is committed. */
static int next_begin(ow_db_t *db)
{
    dev_cache_t *c = &db->dev_next;
    if (c->cap < db->dev.n) {
        dev_seen_t *nv = realloc(c->v, db->dev.n * sizeof *nv);
        if (!nv) return -1;
        c->v = nv, c->cap = db->dev.n;
    }
    if (db->dev.n) memcpy(c->v, db->dev.v, db->dev.n * sizeof *c->v);
    c->n = db->dev.n;
    c->st = (ow_db_devstats_t){0};
    return 0;
}

void ow_devflags_commit(ow_db_t *db)
{
    ow_db_devstats_t acc = db->dev.st, batch = db->dev_next.st;
    dev_cache_t t = db->dev;
    db->dev = db->dev_next;
    db->dev_next = t;
    db->dev_next.n = 0;
    db->dev.st = (ow_db_devstats_t){.rows = acc.rows + batch.rows,
                                    .module_rows = acc.module_rows + batch.module_rows,
                                    .unchanged = acc.unchanged + batch.unchanged};
}

void ow_devflags_free(ow_db_t *db)
{
    free(db->dev.v);
    free(db->dev_next.v);
    db->dev = db->dev_next = (dev_cache_t){0};
}

void ow_db_devstats_take(ow_db_t *db, ow_db_devstats_t *acc)
{
    acc->rows += db->dev.st.rows;
    acc->module_rows += db->dev.st.module_rows;
    acc->unchanged += db->dev.st.unchanged;
    db->dev.st = (ow_db_devstats_t){0};
}

/* ---- statements ---- */

/* "{a,b,...}" of n integers into buf (room for OW_MAX_MODULES of them). */
static const char *int_array(char *buf, size_t len, const int32_t *v, int n)
{
    size_t o = 0;
    buf[o++] = '{';
    for (int i = 0; i < n && o + 16 < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%ld", i ? "," : "", (long)v[i]);
    buf[o++] = '}';
    buf[o] = '\0';
    return buf;
}

static int write_row(ow_db_t *db, const char *gw, const dev_row_t *r, ow_devflags_why_t why,
                     char *err, size_t errlen)
{
    char t0[40], i0[24], i1[24], i2[24], i3[24], i4[24], i5[24], i6[24], i7[24];
    const ow_device_t *d = &r->d;
    const char *p[] = {
        ow_dbfmt_param_ts(t0, r->ts_us),
        gw,
        d->link,
        ow_dbfmt_param_i64(i0, d->general),
        ow_dbfmt_param_i64(i1, d->battery),
        ow_dbfmt_param_i64(i2, d->alarm),
        ow_dbfmt_param_i64(i3, d->strings_reported),
        ow_dbfmt_param_i64(i4, d->modules_reported),
        ow_devflags_why_name(why),
        ow_dbfmt_param_i64(i5, d->requests > INT64_MAX ? INT64_MAX : (int64_t)d->requests),
        ow_dbfmt_param_i64(i6, d->timeouts > INT64_MAX ? INT64_MAX : (int64_t)d->timeouts),
        ow_dbfmt_param_i64(i7, d->exceptions > INT64_MAX ? INT64_MAX : (int64_t)d->exceptions)};
    PGresult *res = NULL;
    if (ow_db_run(db, "writing device flags",
                  "INSERT INTO device_flags (ts, gw, link, general, battery, alarm, "
                  "strings_reported, modules_reported, why, requests, timeouts, exceptions) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
                  "ON CONFLICT DO NOTHING",
                  12, p, PGRES_COMMAND_OK, &res, err, errlen) < 0)
        return -1;
    db->dev_next.st.rows += strtoull(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return 0;
}

/* The module words of r that differ from prev: one statement for the lot
 * (a connection's first message carries every module's word). Returns how
 * many, or -1. */
static int write_modules(ow_db_t *db, const char *gw, const dev_row_t *r, const ow_device_t *prev,
                         char *err, size_t errlen)
{
    int16_t module[OW_MAX_MODULES];
    int32_t flags[OW_MAX_MODULES], mods[OW_MAX_MODULES];
    int n = ow_devflags_modules(prev, &r->d, module, flags);
    if (!n) return 0;
    for (int i = 0; i < n; i++)
        mods[i] = module[i];
    char ms[OW_MAX_MODULES * 8 + 4], fs[OW_MAX_MODULES * 8 + 4], t0[40];
    const char *p[] = {ow_dbfmt_param_ts(t0, r->ts_us), gw, int_array(ms, sizeof ms, mods, n),
                       int_array(fs, sizeof fs, flags, n)};
    PGresult *res = NULL;
    if (ow_db_run(db, "writing device module flags",
                  "INSERT INTO device_module_flags (ts, gw, module, flags) "
                  "SELECT $1, $2, unnest($3::smallint[]), unnest($4::integer[]) "
                  "ON CONFLICT DO NOTHING",
                  4, p, PGRES_COMMAND_OK, &res, err, errlen) < 0)
        return -1;
    db->dev_next.st.module_rows += strtoull(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return n;
}

int ow_devflags_write(ow_db_t *db, const ow_batch_t *b, char *err, size_t errlen)
{
    if (next_begin(db) < 0) {
        ow_db_fail(err, errlen, "writing device flags", "out of memory");
        return -1;
    }
    for (size_t i = 0; i < b->dev.n; i++) {
        const dev_row_t *r = &b->dev.v[i];
        const char *id = b->gws.v[r->gw].id;
        dev_seen_t *s = seen_find(&db->dev_next, id);
        ow_devflags_why_t why =
            ow_devflags_decide(s ? &s->d : NULL, s ? s->written_us : 0, &r->d, r->ts_us);
        char gw[OW_ID_MAX];
        ow_dbfmt_utf8(gw, sizeof gw, id, OW_ID_MAX);
        if (why != OW_DEVFLAGS_SAME && write_row(db, gw, r, why, err, errlen) < 0) return -1;
        int nmod = write_modules(db, gw, r, s ? &s->d : NULL, err, errlen);
        if (nmod < 0) return -1;
        if (why == OW_DEVFLAGS_SAME && nmod == 0) db->dev_next.st.unchanged++;
        if (!s && !(s = seen_add(&db->dev_next, id))) {
            ow_db_fail(err, errlen, "writing device flags", "out of memory");
            return -1;
        }
        if (why != OW_DEVFLAGS_SAME) s->written_us = r->ts_us;
        s->d = r->d;
    }
    return 0;
}
