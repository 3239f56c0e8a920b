/* The COPY writer (copy.h): rows formatted by hand (dbfmt.h) into one
 * buffer that libpq gets a chunk at a time. Each row function writes one
 * line of COPY text for row i of its table. */
#include "copy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

#define COPY_CHUNK (1 << 20) /* bytes handed to libpq at a time */

static int buf_reserve(ow_db_t *db, size_t need)
{
    if (need <= db->cap) return 0;
    size_t ncap = db->cap ? db->cap : 64 * 1024;
    while (ncap < need)
        ncap *= 2;
    char *nb = realloc(db->buf, ncap);
    if (!nb) return -1;
    db->buf = nb;
    db->cap = ncap;
    return 0;
}

/* Formatted into one buffer and handed to libpq a megabyte at a time, so
 * the server parses while we format. */
int ow_copy_rows(ow_db_t *db, const char *what, const char *sql, const void *ctx, size_t n,
                 ow_copy_row_fn fn, char *state, char *err, size_t errlen)
{
    if (state) state[0] = '\0';
    PGresult *res = PQexec(db->conn, sql);
    if (!res || PQresultStatus(res) != PGRES_COPY_IN)
        return ow_db_fail_res(db, res, err, errlen, what);
    PQclear(res);
    const char *abort_why = NULL;
    if (buf_reserve(db, COPY_CHUNK + OW_COPY_ROW_MAX) < 0) abort_why = "out of memory";
    size_t len = 0;
    for (size_t i = 0; i < n && !abort_why; i++) {
        len = (size_t)(fn(db->buf + len, ctx, i) - db->buf);
        if (len >= COPY_CHUNK || i + 1 == n) {
            if (PQputCopyData(db->conn, db->buf, (int)len) != 1) abort_why = "sending failed";
            len = 0;
        }
    }
    if (PQputCopyEnd(db->conn, abort_why) != 1) {
        ow_db_fail(err, errlen, what, PQerrorMessage(db->conn));
        return -1;
    }
    int rc = 0;
    while ((res = PQgetResult(db->conn)) != NULL) {
        if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
            const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            if (state && st) snprintf(state, 6, "%s", st);
            ow_db_fail_res(db, res, err, errlen, what);
            rc = -1;
        } else
            PQclear(res);
        if (PQstatus(db->conn) != CONNECTION_OK) break;
    }
    return rc;
}

static char *put_gw(char *p, const ow_batch_t *b, uint16_t gw)
{
    memcpy(p, b->gws.v[gw].esc, b->gws.v[gw].esc_len);
    return p + b->gws.v[gw].esc_len;
}

char *ow_copy_row_module(char *p, const void *ctx, size_t i)
{
    const ow_batch_t *b = ctx;
    const mod_row_t *r = &b->mod.v[i];
    p = ow_dbfmt_ts(p, r->ts_us);
    *p++ = '\t';
    p = put_gw(p, b, r->gw);
    *p++ = '\t';
    p = ow_dbfmt_i64(p, r->string);
    *p++ = '\t';
    p = ow_dbfmt_i64(p, r->module);
    *p++ = '\t';
    p = ow_dbfmt_i64(p, r->block);
    *p++ = '\t';
    p = ow_dbfmt_real(p, r->voltage_v);
    *p++ = '\t';
    p = ow_dbfmt_real(p, r->temp_c);
    *p++ = '\t';
    p = ow_dbfmt_real(p, r->impedance_mohm);
    *p++ = '\t';
    p = ow_dbfmt_real(p, r->eq_pct);
    *p++ = '\t';
    p = ow_dbfmt_i64(p, (int32_t)r->status); /* the bits, in an integer column */
    *p++ = '\t';
    p = ow_dbfmt_u64(p, r->epoch);
    *p++ = '\t';
    p = ow_dbfmt_u64(p, r->seq);
    *p++ = '\n';
    return p;
}

char *ow_copy_row_string(char *p, const void *ctx, size_t i)
{
    const ow_batch_t *b = ctx;
    const str_row_t *r = &b->str.v[i];
    p = ow_dbfmt_ts(p, r->ts_us);
    *p++ = '\t';
    p = put_gw(p, b, r->gw);
    *p++ = '\t';
    p = ow_dbfmt_i64(p, r->string);
    *p++ = '\t';
    p = ow_dbfmt_i64(p, r->modules);
    *p++ = '\t';
    p = ow_dbfmt_i64(p, r->modules_lost);
    *p++ = '\t';
    p = ow_dbfmt_real(p, r->current_a);
    *p++ = '\t';
    p = ow_dbfmt_real(p, r->ac_current_a);
    *p++ = '\t';
    p = ow_dbfmt_real(p, r->sum_voltage_v);
    *p++ = '\t';
    p = ow_dbfmt_real(p, r->avg_voltage_v);
    *p++ = '\t';
    p = ow_dbfmt_real(p, r->power_kw);
    *p++ = '\t';
    p = ow_dbfmt_real(p, r->ripple_v);
    *p++ = '\t';
    p = ow_dbfmt_u64(p, r->epoch);
    *p++ = '\t';
    p = ow_dbfmt_u64(p, r->seq);
    *p++ = '\n';
    return p;
}

char *ow_copy_row_aux(char *p, const void *ctx, size_t i)
{
    const ow_batch_t *b = ctx;
    const aux_row_t *r = &b->aux.v[i];
    p = ow_dbfmt_ts(p, r->ts_us);
    *p++ = '\t';
    p = put_gw(p, b, r->gw);
    *p++ = '\t';
    p = ow_dbfmt_real(p, r->ambient_c);
    *p++ = '\t';
    p = ow_dbfmt_real(p, r->humidity_pct);
    *p++ = '\t';
    p = ow_dbfmt_real(p, r->hydrogen_pct_lel);
    *p++ = '\t';
    p = ow_dbfmt_i64(p, r->aux_units);
    *p++ = '\t';
    p = ow_dbfmt_i64(p, (int32_t)r->inputs);
    *p++ = '\t';
    p = ow_dbfmt_i64(p, (int32_t)r->outputs);
    *p++ = '\t';
    p = ow_dbfmt_u64(p, r->epoch);
    *p++ = '\t';
    p = ow_dbfmt_u64(p, r->seq);
    *p++ = '\n';
    return p;
}

char *ow_copy_row_agg(char *p, const void *ctx, size_t i)
{
    const ow_copy_agg_ctx_t *c = ctx;
    const agg_t *a = &c->db->agg[i];
    p = ow_dbfmt_ts(p, a->bucket_us);
    *p++ = '\t';
    p = put_gw(p, c->b, a->gw);
    *p++ = '\t';
    p = ow_dbfmt_i64(p, a->module);
    *p++ = '\t';
    p = ow_dbfmt_i64(p, a->string);
    *p++ = '\t';
    p = ow_dbfmt_u64(p, a->n);
    for (int k = 0; k < 3; k++) {
        int has = a->q[k].n > 0;
        *p++ = '\t';
        p = ow_dbfmt_real(p, has ? a->q[k].min : NAN);
        *p++ = '\t';
        p = ow_dbfmt_real(p, has ? a->q[k].max : NAN);
        *p++ = '\t';
        p = ow_dbfmt_double(p, has ? a->q[k].sum : NAN);
        *p++ = '\t';
        p = ow_dbfmt_u64(p, a->q[k].n);
    }
    *p++ = '\n';
    return p;
}
