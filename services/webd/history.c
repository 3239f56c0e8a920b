/* See history.h. Every statement is a constant string with $n parameters
 * (PQexecParams): no value from a request is ever part of SQL text. Each has
 * a row LIMIT and a time bound, so no request can ask PostgreSQL for a scan
 * of the whole history; statement_timeout stops one that still would. */
#include "history.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "ow_clock.h"
#include "ow_proto.h"

/* A caller waits this long for a free connection before 503: longer than
 * any query should take (statement_timeout), shorter than a browser's
 * patience. */
#define POOL_WAIT_S          5
#define STATEMENT_TIMEOUT_MS "5000"
#define TWO_DAYS_US          (2 * 86400 * 1000000LL)
#define ROWS_MAX             10000 /* points of one series; a 400-day hourly range is 9600 */
#define EVENTS_MAX           1000  /* alarm events per request */
#define LIST_MAX             500   /* discharges, capacity tests */
#define CURVE_ROWS_MAX       60000 /* blocks x minutes of one discharge (e.g. 240 x 250) */

struct ow_web_history {
    char *conninfo;
    int n;
    PGconn *conn[OW_HIST_POOL_MAX];
    int busy[OW_HIST_POOL_MAX];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ow_hist_stats_t st;
};

static void seterr(ow_hist_err_t *e, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void seterr(ow_hist_err_t *e, int status, const char *field, const char *fmt, ...)
{
    va_list ap;
    e->status = status;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

ow_hist_t *ow_hist_new(const char *conninfo, int nconn, char *err, size_t errlen)
{
    if (nconn < 1 || nconn > OW_HIST_POOL_MAX) {
        snprintf(err, errlen, "history pool: %d connections (1..%d)", nconn, OW_HIST_POOL_MAX);
        return NULL;
    }
    ow_hist_t *h = calloc(1, sizeof *h);
    /* Later keywords win in a conninfo string: webd names itself in
     * pg_stat_activity and never waits forever for a server. */
    size_t len = strlen(conninfo) + 64;
    if (h) h->conninfo = malloc(len);
    if (!h || !h->conninfo) {
        free(h);
        snprintf(err, errlen, "history pool: out of memory");
        return NULL;
    }
    snprintf(h->conninfo, len, "%s application_name=ohmwatch-webd connect_timeout=5", conninfo);
    h->n = nconn;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    return h;
}

void ow_hist_destroy(ow_hist_t **hp)
{
    ow_hist_t *h = hp ? *hp : NULL;
    if (!h) return;
    for (int i = 0; i < h->n; i++)
        if (h->conn[i]) PQfinish(h->conn[i]);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h->conninfo);
    free(h);
    *hp = NULL;
}

void ow_hist_stats(ow_hist_t *h, ow_hist_stats_t *out)
{
    pthread_mutex_lock(&h->mu);
    *out = h->st;
    pthread_mutex_unlock(&h->mu);
}

/* A value in a conninfo string: single-quoted, with \ and ' escaped, so a
 * password with a space or a quote cannot add a keyword. */
static int put_kv(char *out, size_t len, size_t *at, const char *key, const char *val)
{
    if (!val || !val[0]) return 0;
    int w = snprintf(out + *at, len - *at, "%s%s='", *at ? " " : "", key);
    if (w < 0 || (size_t)w >= len - *at) return -1;
    *at += (size_t)w;
    for (const char *p = val; *p; p++) {
        if (*at + 3 >= len) return -1;
        if (*p == '\\' || *p == '\'') out[(*at)++] = '\\';
        out[(*at)++] = *p;
    }
    if (*at + 2 >= len) return -1;
    out[(*at)++] = '\'';
    out[*at] = '\0';
    return 0;
}

int ow_hist_conninfo(char *out, size_t len, const char *host, int port, const char *dbname,
                     const char *user, const char *password_file, char *err, size_t errlen)
{
    char pw[256] = "", portbuf[16] = "";
    if (password_file && password_file[0]) {
        FILE *f = fopen(password_file, "r");
        if (!f) {
            snprintf(err, errlen, "history password_file %s: %s", password_file, strerror(errno));
            return -1;
        }
        if (!fgets(pw, sizeof pw, f)) pw[0] = '\0';
        fclose(f);
        pw[strcspn(pw, "\r\n")] = '\0';
        if (!pw[0]) {
            snprintf(err, errlen, "history password_file %s: empty", password_file);
            return -1;
        }
    }
    if (port > 0) snprintf(portbuf, sizeof portbuf, "%d", port);
    size_t at = 0;
    if (len) out[0] = '\0';
    int bad = put_kv(out, len, &at, "host", host) || put_kv(out, len, &at, "port", portbuf) ||
              put_kv(out, len, &at, "dbname", dbname) || put_kv(out, len, &at, "user", user) ||
              put_kv(out, len, &at, "password", pw);
    memset(pw, 0, sizeof pw);
    if (bad) {
        snprintf(err, errlen, "history connection settings longer than %zu bytes", len);
        return -1;
    }
    return 0;
}

/* ---- the pool ---- */

/* The session is read-only whatever the role may do (a second fence behind
 * the role's grants), and bounded in time. */
static int session_setup(PGconn *c)
{
    PGresult *r = PQexec(c, "SET default_transaction_read_only = on; "
                            "SET statement_timeout = " STATEMENT_TIMEOUT_MS "; "
                            "SET TIME ZONE 'UTC'");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : -1;
}

/* A free slot, or -1 after POOL_WAIT_S. */
static int take(ow_hist_t *h)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += POOL_WAIT_S;
    pthread_mutex_lock(&h->mu);
    int waited = 0, slot = -1;
    for (;;) {
        for (int i = 0; i < h->n && slot < 0; i++)
            if (!h->busy[i]) slot = i;
        if (slot >= 0) break;
        waited = 1;
        if (pthread_cond_timedwait(&h->cv, &h->mu, &until) == ETIMEDOUT) break;
    }
    if (slot >= 0) h->busy[slot] = 1;
    h->st.waits += (uint64_t)waited;
    pthread_mutex_unlock(&h->mu);
    return slot;
}

static void give(ow_hist_t *h, int slot)
{
    pthread_mutex_lock(&h->mu);
    h->busy[slot] = 0;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static void count(ow_hist_t *h, int failed, int reset)
{
    pthread_mutex_lock(&h->mu);
    h->st.queries++;
    h->st.failed += (uint64_t)failed;
    h->st.resets += (uint64_t)reset;
    pthread_mutex_unlock(&h->mu);
}

/* The slot's connection, made or reset as needed (outside the mutex: a
 * connect can take connect_timeout). NULL with e. */
static PGconn *usable(ow_hist_t *h, int slot, int *reset, ow_hist_err_t *e)
{
    PGconn **c = &h->conn[slot];
    if (*c && PQstatus(*c) == CONNECTION_BAD) {
        PQreset(*c);
        *reset = 1;
        if (PQstatus(*c) == CONNECTION_OK && session_setup(*c) < 0) PQfinish(*c), *c = NULL;
    }
    if (!*c) {
        *c = PQconnectdb(h->conninfo);
        if (PQstatus(*c) == CONNECTION_OK && session_setup(*c) < 0) {
            seterr(e, 503, NULL, "history database: %s", PQerrorMessage(*c));
            PQfinish(*c);
            *c = NULL;
            return NULL;
        }
    }
    if (PQstatus(*c) != CONNECTION_OK) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(*c));
        msg[strcspn(msg, "\n")] = '\0';
        seterr(e, 503, NULL, "history database not reachable: %s", msg);
        PQfinish(*c);
        *c = NULL;
        return NULL;
    }
    return *c;
}

/* Run one statement; its rows, or NULL with e. A connection that broke
 * (server restarted, network) is reset and the statement tried once more:
 * every statement here is a read, so running it twice is harmless. */
static PGresult *run(ow_hist_t *h, const char *sql, int np, const char *const *p, ow_hist_err_t *e)
{
    int slot = take(h);
    if (slot < 0) {
        count(h, 1, 0);
        seterr(e, 503, NULL, "history database busy: no free connection within %d s", POOL_WAIT_S);
        return NULL;
    }
    int reset = 0;
    PGresult *res = NULL;
    for (int attempt = 0; attempt < 2 && !res; attempt++) {
        PGconn *c = usable(h, slot, &reset, e);
        if (!c) break;
        res = PQexecParams(c, sql, np, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(res) == PGRES_TUPLES_OK) break;
        char msg[200];
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(res));
        msg[strcspn(msg, "\n")] = '\0';
        int broken = PQstatus(c) == CONNECTION_BAD;
        PQclear(res);
        res = NULL;
        seterr(e, 503, NULL, "history query failed: %s", msg);
        if (!broken) break;
    }
    give(h, slot);
    count(h, res == NULL, reset);
    return res;
}

/* ---- arguments ---- */

static int gw_ok(const char *gw, ow_hist_err_t *e)
{
    size_t n = gw ? strlen(gw) : 0;
    int ok = n > 0 && n < 64 &&
             strspn(gw, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789_.-") == n;
    if (!ok) seterr(e, 400, "gw", "gw: a gateway id is required (letters, digits, _ . -)");
    return ok;
}

static int module_ok(int module, ow_hist_err_t *e)
{
    if (module >= 1 && module <= 32767) return 1;
    seterr(e, 400, "module", "module: a module address 1..32767 is required");
    return 0;
}

static int range_fix(ow_hist_range_t *r, ow_hist_err_t *e)
{
    if (!r->to_us) r->to_us = ow_now_us();
    if (!r->from_us) r->from_us = r->to_us - OW_HIST_SPAN_DEFAULT_US;
    if (r->from_us > r->to_us) {
        seterr(e, 400, "from_us", "from_us is after to_us");
        return 0;
    }
    if (r->to_us - r->from_us > OW_HIST_SPAN_MAX_US) {
        seterr(e, 400, "from_us", "the range is longer than %lld days",
               OW_HIST_SPAN_MAX_US / 86400000000LL);
        return 0;
    }
    return 1;
}

static const char *i64s(char buf[24], int64_t v)
{
    snprintf(buf, 24, "%" PRId64, v);
    return buf;
}

/* ---- rows to JSON: each query's columns are a table ---- */

typedef enum { C_TEXT, C_INT, C_NUM, C_BOOL, C_SEV } ckind_t;

/* Severities by name, as the live API and the pages say them. */
static const char *const sev_names[] = {
    [OW_SEV_INFO] = "info", [OW_SEV_WARNING] = "warning", [OW_SEV_ALARM] = "alarm"};
#define NSEV ((int)(sizeof sev_names / sizeof sev_names[0]))

int ow_hist_severity(const char *name)
{
    for (int i = 0; name && i < NSEV; i++)
        if (strcmp(name, sev_names[i]) == 0) return i;
    return -1;
}
typedef struct {
    const char *name; /* the JSON member */
    ckind_t kind;
} col_t;

static json_t *cell(const PGresult *res, int row, int col, ckind_t kind)
{
    if (PQgetisnull(res, row, col)) return json_null();
    const char *v = PQgetvalue(res, row, col);
    switch (kind) {
    case C_TEXT:
        return json_string(v);
    case C_INT:
        return json_integer(strtoll(v, NULL, 10));
    case C_NUM:
        return json_real(strtod(v, NULL));
    case C_BOOL:
        return json_boolean(v[0] == 't');
    case C_SEV: {
        long n = strtol(v, NULL, 10);
        return n >= 0 && n < NSEV ? json_string(sev_names[n]) : json_integer(n);
    }
    }
    return json_null();
}

static json_t *rows_json(const PGresult *res, const col_t *cols, int ncols)
{
    json_t *a = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *o = json_object();
        for (int c = 0; c < ncols && c < PQnfields(res); c++)
            json_object_set_new(o, cols[c].name, cell(res, i, c, cols[c].kind));
        json_array_append_new(a, o);
    }
    return a;
}

/* timestamptz <-> microseconds since the epoch, exactly (no float). */
#define US_TO_TS(n) "(timestamptz 'epoch' + " n "::bigint * interval '1 microsecond')"
#define TS_TO_US(c) "(extract(epoch FROM " c ") * 1000000)::bigint"

/* ---- blocks ---- */

/* What a series may be: the rollup columns of each (avg, min, max of the
 * bucket) and the test that the bucket has a value at all. */
static const struct {
    const char *what;
    const char *cols;
    const char *has;
} series_cols[] = {
    {"v", "v_sum / NULLIF(v_n, 0), v_min, v_max", "v_n > 0"},
    {"t", "t_sum / NULLIF(t_n, 0), t_min, t_max", "t_n > 0"},
    {"ri", "r_sum / NULLIF(r_n, 0), r_min, r_max", "r_n > 0"},
};

/* Which rollup serves a range: the finest that keeps a chart within a few
 * thousand points. */
static const struct {
    int64_t span_max_us;
    const char *table;
    int bucket_s;
} rollups[] = {
    {TWO_DAYS_US, "module_readings_1m", 60},
    {OW_HIST_SPAN_MAX_US, "module_readings_1h", 3600},
};

int ow_hist_blocks(ow_hist_t *h, const char *gw, int module, const char *what, ow_hist_range_t r,
                   json_t **out, ow_hist_err_t *e)
{
    if (!gw_ok(gw, e) || !module_ok(module, e) || !range_fix(&r, e)) return -1;
    size_t s = 0, nseries = sizeof series_cols / sizeof series_cols[0];
    while (s < nseries && (!what || strcmp(what, series_cols[s].what) != 0))
        s++;
    if (s == nseries) {
        seterr(e, 400, "what", "what: v, t or ri");
        return -1;
    }
    size_t k = 0;
    while (r.to_us - r.from_us > rollups[k].span_max_us)
        k++;
    char sql[1024], a[24], b[24], m[24];
    snprintf(sql, sizeof sql,
             "SELECT extract(epoch FROM bucket)::bigint, %s FROM %s WHERE %s AND gw = $1 "
             "AND module = $2 AND bucket >= %s AND bucket <= %s ORDER BY bucket LIMIT %d",
             series_cols[s].cols, rollups[k].table, series_cols[s].has, US_TO_TS("$3"),
             US_TO_TS("$4"), ROWS_MAX);
    const char *p[] = {gw, i64s(m, module), i64s(a, r.from_us), i64s(b, r.to_us)};
    PGresult *res = run(h, sql, 4, p, e);
    if (!res) return -1;
    json_t *t = json_array(), *avg = json_array(), *mn = json_array(), *mx = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_array_append_new(t, cell(res, i, 0, C_INT));
        json_array_append_new(avg, cell(res, i, 1, C_NUM));
        json_array_append_new(mn, cell(res, i, 2, C_NUM));
        json_array_append_new(mx, cell(res, i, 3, C_NUM));
    }
    PQclear(res);
    *out = json_pack("{s:s,s:i,s:s,s:[oo],s:o,s:o,s:i,s:I,s:I}", "gw", gw, "module", module, "what",
                     series_cols[s].what, "series", t, avg, "min", mn, "max", mx, "bucket_s",
                     rollups[k].bucket_s, "from_us", (json_int_t)r.from_us, "to_us",
                     (json_int_t)r.to_us);
    return 0;
}

/* ---- alarm history ---- */

static const col_t alarm_cols[] = {
    {"id", C_INT},         {"action", C_TEXT}, {"ts_us", C_INT},     {"gw", C_TEXT},
    {"code", C_INT},       {"name", C_TEXT},   {"severity", C_SEV},  {"string", C_INT},
    {"module", C_INT},     {"value", C_NUM},   {"threshold", C_NUM}, {"raised_us", C_INT},
    {"cleared_us", C_INT}, {"text", C_TEXT},
};

/* clang-format off */
static const char alarm_sql[] =
    "SELECT id, action, " TS_TO_US("ts") ", gw, type, name, severity, string, module, value, "
    "threshold, " TS_TO_US("raised_at") ", " TS_TO_US("cleared_at") ", text FROM alarm_events "
    "WHERE ($1::text IS NULL OR gw = $1) "
    "AND ts >= " US_TO_TS("$2") " AND ts <= " US_TO_TS("$3") " "
    "AND ($4::int IS NULL OR type = $4) AND ($5::int IS NULL OR severity = $5) "
    "ORDER BY ts DESC, id DESC";
/* clang-format on */

int ow_hist_alarms(ow_hist_t *h, const char *gw, ow_hist_range_t r, int code, int severity,
                   json_t **out, ow_hist_err_t *e)
{
    if ((gw && !gw_ok(gw, e)) || !range_fix(&r, e)) return -1;
    char a[24], b[24], c[24], s[24], sql[1024];
    /* One row more than the limit says whether the list was cut. */
    snprintf(sql, sizeof sql, "%s LIMIT %d", alarm_sql, EVENTS_MAX + 1);
    const char *p[] = {gw, i64s(a, r.from_us), i64s(b, r.to_us), code >= 0 ? i64s(c, code) : NULL,
                       severity >= 0 ? i64s(s, severity) : NULL};
    PGresult *res = run(h, sql, 5, p, e);
    if (!res) return -1;
    json_t *ev = rows_json(res, alarm_cols, sizeof alarm_cols / sizeof alarm_cols[0]);
    int cut = json_array_size(ev) > EVENTS_MAX;
    if (cut) json_array_remove(ev, EVENTS_MAX);
    PQclear(res);
    *out = json_pack("{s:o,s:b,s:I,s:I}", "events", ev, "truncated", cut, "from_us",
                     (json_int_t)r.from_us, "to_us", (json_int_t)r.to_us);
    return 0;
}

/* ---- discharges and capacity tests ---- */

/* The first column of both lists is the discharge's id. */
#define DIS_ID "string::text || '-' || " TS_TO_US("start_at")

static const col_t dis_cols[] = {
    {"id", C_TEXT},           {"string", C_INT},     {"start_us", C_INT},
    {"end_us", C_INT},        {"duration_s", C_NUM}, {"ah_removed", C_NUM},
    {"min_current_a", C_NUM}, {"min_module", C_INT}, {"min_voltage_v", C_NUM},
    {"end_voltage_v", C_NUM}, {"mode", C_TEXT},      {"test", C_BOOL},
    {"capacity_pct", C_NUM},  {"dod_pct", C_NUM},
};
/* clang-format off */
static const char dis_sql[] =
    "SELECT " DIS_ID ", string, " TS_TO_US("start_at") ", " TS_TO_US("end_at") ", duration_s, "
    "ah_removed, min_current_a, min_module, min_voltage_v, end_voltage_v, mode, test, "
    "capacity_pct, dod_pct FROM discharge_events "
    "WHERE gw = $1 AND start_at >= " US_TO_TS("$2") " AND start_at <= " US_TO_TS("$3") " "
    "ORDER BY start_at DESC, string LIMIT 500";
/* clang-format on */

static const col_t cap_cols[] = {
    {"id", C_TEXT},          {"string", C_INT},  {"start_us", C_INT},       {"end_us", C_INT},
    {"duration_s", C_NUM},   {"rated_h", C_NUM}, {"end_v_per_cell", C_NUM}, {"temp_c", C_NUM},
    {"capacity_pct", C_NUM}, {"method", C_TEXT}, {"ah_removed", C_NUM},     {"dod_pct", C_NUM},
};
/* clang-format off */
static const char cap_sql[] =
    "SELECT " DIS_ID ", string, " TS_TO_US("start_at") ", " TS_TO_US("end_at") ", duration_s, "
    "rated_h, end_v_per_cell, temp_c, capacity_pct, method, ah_removed, dod_pct "
    "FROM discharge_events WHERE test AND gw = $1 "
    "AND start_at >= " US_TO_TS("$2") " AND start_at <= " US_TO_TS("$3") " "
    "ORDER BY start_at DESC, string LIMIT 500";
/* clang-format on */

_Static_assert(LIST_MAX == 500, "the lists' SQL says LIMIT 500");

static int list(ow_hist_t *h, const char *gw, ow_hist_range_t r, const char *sql, const col_t *cols,
                int ncols, const char *key, json_t **out, ow_hist_err_t *e)
{
    if (!gw_ok(gw, e) || !range_fix(&r, e)) return -1;
    char a[24], b[24];
    const char *p[] = {gw, i64s(a, r.from_us), i64s(b, r.to_us)};
    PGresult *res = run(h, sql, 3, p, e);
    if (!res) return -1;
    *out = json_pack("{s:s,s:o,s:I,s:I}", "gw", gw, key, rows_json(res, cols, ncols), "from_us",
                     (json_int_t)r.from_us, "to_us", (json_int_t)r.to_us);
    PQclear(res);
    return 0;
}

int ow_hist_discharges(ow_hist_t *h, const char *gw, ow_hist_range_t r, json_t **out,
                       ow_hist_err_t *e)
{
    return list(h, gw, r, dis_sql, dis_cols, sizeof dis_cols / sizeof dis_cols[0], "discharges",
                out, e);
}

int ow_hist_captests(ow_hist_t *h, const char *gw, ow_hist_range_t r, json_t **out,
                     ow_hist_err_t *e)
{
    return list(h, gw, r, cap_sql, cap_cols, sizeof cap_cols / sizeof cap_cols[0], "tests", out, e);
}

/* ---- a discharge's curves ---- */

int ow_hist_parse_id(const char *id, int *string, int64_t *start_us)
{
    char *end;
    if (!id || id[0] < '0' || id[0] > '9') return -1;
    errno = 0;
    long s = strtol(id, &end, 10);
    if (errno || *end != '-' || s < 1 || s > 32767) return -1;
    const char *p = end + 1;
    if (*p < '0' || *p > '9') return -1;
    long long t = strtoll(p, &end, 10);
    if (errno || *end) return -1;
    *string = (int)s;
    *start_us = t;
    return 0;
}

/* clang-format off */
static const char curve_span_sql[] =
    "SELECT " TS_TO_US("end_at") ", min_module FROM discharge_events "
    "WHERE gw = $1 AND string = $2 AND start_at = " US_TO_TS("$3") " LIMIT 1";
static const char curve_sql[] =
    "SELECT module, extract(epoch FROM bucket)::bigint, v_sum / NULLIF(v_n, 0), v_min "
    "FROM module_readings_1m WHERE gw = $1 AND string = $2 AND v_n > 0 "
    "AND bucket >= date_trunc('minute', " US_TO_TS("$3") ") AND bucket <= " US_TO_TS("$4") " "
    "ORDER BY module, bucket";
/* clang-format on */
/* The statements with a LIMIT appended fit the buffers they are put in. */
_Static_assert(sizeof alarm_sql + 16 < 1024 && sizeof curve_sql + 16 < 1024, "SQL buffers");

static int cmp_ll(const void *x, const void *y)
{
    long long a = *(const long long *)x, b = *(const long long *)y;
    return (a > b) - (a < b);
}

int ow_hist_curves(ow_hist_t *h, const char *gw, const char *id, json_t **out, ow_hist_err_t *e)
{
    int string;
    int64_t start_us;
    if (!gw_ok(gw, e)) return -1;
    if (ow_hist_parse_id(id, &string, &start_us) < 0) {
        seterr(e, 400, "id", "id: a discharge id STRING-START_US (from /api/discharges)");
        return -1;
    }
    char s[24], t0[24];
    const char *p[] = {gw, i64s(s, string), i64s(t0, start_us)};
    /* The discharge's span; one still under way ends now. Its buckets are
     * those the 1-minute rollup has from the minute it started. */
    PGresult *d = run(h, curve_span_sql, 3, p, e);
    if (!d) return -1;
    if (PQntuples(d) == 0) {
        PQclear(d);
        seterr(e, 404, "id", "no discharge %s of gateway %s", id, gw);
        return -1;
    }
    int64_t end_us = PQgetisnull(d, 0, 0) ? 0 : strtoll(PQgetvalue(d, 0, 0), NULL, 10);
    int weakest = PQgetisnull(d, 0, 1) ? 0 : atoi(PQgetvalue(d, 0, 1));
    /* One under way: what the rollup has so far, up to a day from its
     * start (no battery lasts longer; and not up to our clock: a gateway's
     * clock or a simulation may be ahead of it). */
    int under_way = end_us == 0;
    if (under_way) end_us = start_us + OW_HIST_SPAN_DEFAULT_US;
    PQclear(d);
    if (end_us - start_us > OW_HIST_SPAN_MAX_US) end_us = start_us + OW_HIST_SPAN_MAX_US;
    char t1[24], sql[1024];
    const char *q[] = {gw, s, t0, i64s(t1, end_us)};
    snprintf(sql, sizeof sql, "%s LIMIT %d", curve_sql, CURVE_ROWS_MAX);
    PGresult *res = run(h, sql, 4, q, e);
    if (!res) return -1;
    int n = PQntuples(res);
    /* The time axis: every bucket any block has, in order (rows come per
     * module, each in bucket order; a merge of sorted runs). */
    long long *ts = malloc(sizeof *ts * (size_t)(n ? n : 1));
    int nts = 0;
    for (int i = 0; i < n; i++)
        ts[nts++] = strtoll(PQgetvalue(res, i, 1), NULL, 10);
    qsort(ts, (size_t)nts, sizeof *ts, cmp_ll);
    int u = 0;
    for (int i = 0; i < nts; i++)
        if (!u || ts[u - 1] != ts[i]) ts[u++] = ts[i];
    nts = u;
    json_t *t = json_array(), *blocks = json_array();
    for (int i = 0; i < nts; i++)
        json_array_append_new(t, json_integer(ts[i]));
    double low_v = 1e300;
    int low_mod = 0;
    for (int i = 0; i < n;) {
        int mod = atoi(PQgetvalue(res, i, 0));
        json_t *v = json_array();
        int j = 0;
        for (; i < n && atoi(PQgetvalue(res, i, 0)) == mod; i++) {
            long long bt = strtoll(PQgetvalue(res, i, 1), NULL, 10);
            for (; j < nts && ts[j] < bt; j++)
                json_array_append_new(v, json_null());
            json_array_append_new(v, cell(res, i, 2, C_NUM));
            j++;
            if (!PQgetisnull(res, i, 3) && strtod(PQgetvalue(res, i, 3), NULL) < low_v) {
                low_v = strtod(PQgetvalue(res, i, 3), NULL);
                low_mod = mod;
            }
        }
        for (; j < nts; j++)
            json_array_append_new(v, json_null());
        json_array_append_new(blocks, json_pack("{s:i,s:o}", "addr", mod, "v", v));
    }
    free(ts);
    PQclear(res);
    if (!weakest) weakest = low_mod;
    *out = json_pack("{s:s,s:s,s:i,s:I,s:I,s:b,s:i,s:o,s:o,s:o}", "gw", gw, "id", id, "string",
                     string, "start_us", (json_int_t)start_us, "end_us", (json_int_t)end_us,
                     "under_way", under_way, "bucket_s", 60, "t", t, "blocks", blocks, "weakest",
                     weakest ? json_integer(weakest) : json_null());
    return 0;
}

/* ---- impedance ---- */

/* clang-format off */
static const char imp_sql[] =
    "SELECT extract(epoch FROM ts)::bigint, impedance_mohm, deviation_pct, baseline_mohm, "
    "slope_pct_per_year, " TS_TO_US("alarm_at") " FROM impedance_baselines "
    "WHERE gw = $1 AND module = $2 AND ts >= " US_TO_TS("$3") " AND ts <= " US_TO_TS("$4") " "
    "ORDER BY ts";
/* clang-format on */
_Static_assert(sizeof imp_sql + 16 < 1024, "SQL buffer");

int ow_hist_impedance(ow_hist_t *h, const char *gw, int module, ow_hist_range_t r, json_t **out,
                      ow_hist_err_t *e)
{
    if (!gw_ok(gw, e) || !module_ok(module, e) || !range_fix(&r, e)) return -1;
    char m[24], a[24], b[24], sql[1024];
    const char *p[] = {gw, i64s(m, module), i64s(a, r.from_us), i64s(b, r.to_us)};
    snprintf(sql, sizeof sql, "%s LIMIT %d", imp_sql, ROWS_MAX);
    PGresult *res = run(h, sql, 4, p, e);
    if (!res) return -1;
    int n = PQntuples(res);
    json_t *t = json_array(), *ri = json_array(), *dev = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(t, cell(res, i, 0, C_INT));
        json_array_append_new(ri, cell(res, i, 1, C_NUM));
        json_array_append_new(dev, cell(res, i, 2, C_NUM));
    }
    /* The newest comparison holds alarmd's current baseline, slope and
     * date; an older date is not shown once alarmd has withdrawn it. */
    json_t *base = n ? cell(res, n - 1, 3, C_NUM) : json_null();
    json_t *slope = n ? cell(res, n - 1, 4, C_NUM) : json_null();
    json_t *proj = n ? cell(res, n - 1, 5, C_INT) : json_null();
    PQclear(res);
    *out = json_pack("{s:s,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:I}", "gw", gw, "module", module, "t",
                     t, "ri", ri, "deviation_pct", dev, "baseline", base, "slope_pct_per_year",
                     slope, "projected_us", proj, "from_us", (json_int_t)r.from_us, "to_us",
                     (json_int_t)r.to_us);
    return 0;
}
