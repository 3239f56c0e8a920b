/* Inside the historian's database layer, shared by db.c (the connection and
 * the writing of a batch), batch.c (the batch), copy.c (the COPY writer),
 * rollup.c, events.c, migrate.c and sitesync.c: the batch's rows, the
 * connection's state, and the statement helpers every one of them runs its
 * SQL through. Not for the rest of the historian: use db.h and batch.h. */
#ifndef OW_DB_INT_H
#define OW_DB_INT_H

#include <libpq-fe.h>

#include "db.h"
#include "dbfmt.h"

/* ---- a batch: rows by table, gateway names interned (batch.c) ---- */

typedef struct {
    char id[OW_ID_MAX];
    char esc[2 * OW_ID_MAX]; /* sanitized and escaped for COPY text */
    size_t esc_len;
} gw_name_t;

typedef struct {
    int64_t ts_us;
    uint64_t epoch, seq;
    uint16_t gw;
    int16_t string, module, block;
    uint32_t status;
    double voltage_v, temp_c, impedance_mohm, eq_pct;
} mod_row_t;

typedef struct {
    int64_t ts_us;
    uint64_t epoch, seq;
    uint16_t gw;
    int16_t string, modules, modules_lost;
    double current_a, ac_current_a, sum_voltage_v, avg_voltage_v, power_kw, ripple_v;
} str_row_t;

typedef struct {
    int64_t ts_us;
    uint64_t epoch, seq;
    uint16_t gw;
    int16_t aux_units;
    uint32_t inputs, outputs;
    double ambient_c, humidity_pct, hydrogen_pct_lel;
} aux_row_t;

typedef struct {
    int64_t ts_us;
    uint16_t gw;
    ow_alarm_t a;
} alarm_row_t;

typedef struct {
    int64_t ts_us;
    uint16_t gw;
    uint32_t general, battery, alarm;
    int alarms_active, module_alarms, module_warnings, audible;
} state_row_t;

typedef struct {
    uint16_t gw;
    ow_discharge_t d;
} dis_row_t;

typedef struct {
    int64_t ts_us;
    uint16_t gw;
    ow_baseline_t b;
} base_row_t;

typedef struct {
    int64_t ts_us;
    uint16_t gw;
    ow_config_t c;
} cfg_row_t;

typedef struct {
    int64_t ts_us;
    uint16_t gw;
    ow_device_t d;
} dev_row_t;

typedef struct {
    char pub[OW_ID_MAX];
    uint64_t epoch, seq;
} pos_t;

#define VEC(T)                                                                                     \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }

struct ow_batch {
    VEC(gw_name_t) gws;
    VEC(mod_row_t) mod;
    VEC(str_row_t) str;
    VEC(aux_row_t) aux;
    VEC(alarm_row_t) alarm;
    VEC(state_row_t) state;
    VEC(dis_row_t) dis;
    VEC(base_row_t) base;
    VEC(cfg_row_t) cfg;
    VEC(dev_row_t) dev;
    VEC(pos_t) pos;
    uint16_t last_gw; /* index of the last gateway looked up: readings come in runs */
};

/* A module's rollup over one minute, computed in memory for the fast path
 * (rollup.c). */
typedef struct {
    int64_t bucket_us;
    uint16_t gw;
    int16_t module, string;
    uint8_t used;
    uint32_t n;
    struct {
        float min, max;
        double sum;
        uint32_t n;
    } q[3]; /* voltage_v, temp_c, impedance_mohm */
} agg_t;

/* A gateway's device words as this connection last saw them (devflags.c). */
typedef struct {
    char gw[OW_ID_MAX];
    int64_t written_us; /* ts of its last device_flags row */
    ow_device_t d;
} dev_seen_t;

typedef struct {
    dev_seen_t *v;
    size_t n, cap;
    ow_db_devstats_t st;
} dev_cache_t;

struct ow_db {
    PGconn *conn;
    int staged;    /* the temp staging tables exist in this session */
    int careful;   /* module readings go through ON CONFLICT (a batch had duplicates) */
    int64_t *days; /* UTC days whose partitions this session has ensured */
    size_t ndays, capdays;
    char *buf; /* COPY data */
    size_t cap;
    agg_t *agg; /* open-addressed by (gw, module, minute), then packed for COPY */
    size_t nagg, capagg;
    dev_cache_t dev;      /* committed */
    dev_cache_t dev_next; /* as the open transaction leaves it */
};

/* ---- statements (db.c) ---- */

/* err = "what: message", the PostgreSQL message on one line. */
void ow_db_fail(char *err, size_t errlen, const char *what, const char *msg);
/* ow_db_fail with res's message (else the connection's); clears res; -1. */
int ow_db_fail_res(ow_db_t *db, PGresult *res, char *err, size_t errlen, const char *what);
/* Run a statement expecting `want`; on success *out (if given) takes the result. */
int ow_db_run(ow_db_t *db, const char *what, const char *sql, int nparams,
              const char *const *params, ExecStatusType want, PGresult **out, char *err,
              size_t errlen);
/* A statement without parameters or rows. */
int ow_db_cmd(ow_db_t *db, const char *what, const char *sql, char *err, size_t errlen);
/* ROLLBACK if a transaction is open. */
void ow_db_rollback(ow_db_t *db);
/* COMMIT, failing when the server rolled the transaction back instead. */
int ow_db_commit(ow_db_t *db, const char *what, char *err, size_t errlen);

#endif
