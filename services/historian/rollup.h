/* The historian's minute rollups of module readings, computed in memory on
 * the fast path (a batch COPYed straight into module_readings): the same
 * rows the server would make from the inserted readings, streamed into
 * stage_rollup and merged into the minute and hour tables by db.c. */
#ifndef OW_ROLLUP_H
#define OW_ROLLUP_H

#include "db.h"

/* The minute rollups of every module reading of b, packed at the start of
 * db->agg (db->nagg of them, in no particular order): per (minute, gateway,
 * module) the count, the largest string, and for voltage, temperature and
 * impedance the min, max, sum and count of the values a real column stores
 * (NULLs skipped; sums add the stored floats, as the server's
 * sum(real::float8) does). The table stays in db for the next batch. 0, or
 * -1 out of memory. */
int ow_rollup_compute(ow_db_t *db, const ow_batch_t *b);

#endif
