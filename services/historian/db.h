/* The historian's PostgreSQL side (libpq): the connection, and batches
 * written in ONE transaction each:
 * readings through COPY into a staging table and INSERT ... ON CONFLICT DO
 * NOTHING (a replayed message never makes a second row), rollups updated from
 * the rows actually inserted, events upserted, and the ingest positions of
 * the publishers the batch covers — so stored rows and positions always
 * agree. The batch is batch.h's, the event statements events.h's, the
 * schema migrate.h's, the site's gateways/strings/modules sitesync.h's, the
 * formatting dbfmt.h's, the COPY writer copy.h's. Library code: errors come
 * back in err, nothing is printed. */
#ifndef OW_DB_H
#define OW_DB_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "ow_config.h"
#include "ow_proto.h"

typedef struct ow_db ow_db_t;

/* Connect (conninfo as libpq takes it). NULL with the reason. */
ow_db_t *ow_db_connect(const char *conninfo, char *err, size_t errlen);
void ow_db_close(ow_db_t **db);
/* 1 if the connection is usable; otherwise try one reset and say again. */
int ow_db_alive(ow_db_t *db);

/* The stored ingest positions: fn(ctx, pub, epoch, seq) for each. */
typedef void (*ow_db_pos_fn)(void *ctx, const char *pub, uint64_t epoch, uint64_t seq);
int ow_db_positions(ow_db_t *db, ow_db_pos_fn fn, void *ctx, char *err, size_t errlen);

/* Drop reading partitions (days) older than `days` days before now_us. */
int ow_db_retention(ow_db_t *db, int64_t now_us, int days, int *dropped, char *err, size_t errlen);

/* Write the batch in one transaction. 0, or -1 with err (rolled back; the
 * batch is left as it was so the caller can retry or spool it). *inserted
 * (may be NULL) gets the number of reading rows actually inserted (less than
 * added when some were already stored). */
int ow_db_write(ow_db_t *db, const ow_batch_t *b, uint64_t *inserted, char *err, size_t errlen);

/* What the committed batches did with field devices' words (devflags.h):
 * device_flags and device_module_flags rows inserted, and device messages
 * that changed nothing (no row). */
typedef struct {
    uint64_t rows, module_rows, unchanged;
} ow_db_devstats_t;
/* Add the counts since the last call into *acc, and start them again. */
void ow_db_devstats_take(ow_db_t *db, ow_db_devstats_t *acc);

#endif
