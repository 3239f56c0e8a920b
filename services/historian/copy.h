/* The historian's COPY writer: the readings and rollups of a batch as COPY
 * text rows streamed into a table (the bulk of every batch; the statements
 * around it are db.c's). */
#ifndef OW_COPY_H
#define OW_COPY_H

#include <stddef.h>

#include "db.h"

#define OW_COPY_ROW_MAX 512 /* a formatted row is shorter than this */

/* Writes row i of ctx's table at p (at most OW_COPY_ROW_MAX bytes, the
 * final newline included) and returns the end. */
typedef char *(*ow_copy_row_fn)(char *p, const void *ctx, size_t i);

/* Run `sql` (a COPY ... FROM STDIN) with the n rows fn makes of ctx. 0, or
 * -1 with err; state (if given, 6 bytes) gets the SQLSTATE of a failure. */
int ow_copy_rows(ow_db_t *db, const char *what, const char *sql, const void *ctx, size_t n,
                 ow_copy_row_fn fn, char *state, char *err, size_t errlen);

/* Rows of a batch (ctx: const ow_batch_t *), in the column order of
 * MOD_COLS / STR_COLS / AUX_COLS in db.c. */
char *ow_copy_row_module(char *p, const void *ctx, size_t i);
char *ow_copy_row_string(char *p, const void *ctx, size_t i);
char *ow_copy_row_aux(char *p, const void *ctx, size_t i);

/* The minute rollups rollup.c computed into db->agg, for the batch's names. */
typedef struct {
    const ow_db_t *db;
    const ow_batch_t *b;
} ow_copy_agg_ctx_t;
char *ow_copy_row_agg(char *p, const void *ctx, size_t i);

#endif
