/* The historian's batch: the rows of the messages to store, held in memory
 * until the next flush writes them in one transaction (ow_db_write), and the
 * ingest positions that go with them. Plain memory, no database: a batch is
 * filled while the previous one is being written. */
#ifndef OW_BATCH_H
#define OW_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "ow_proto.h"

typedef struct ow_batch ow_batch_t;

ow_batch_t *ow_batch_new(void);
void ow_batch_destroy(ow_batch_t **b);
/* Add a message to store: module, string, aux readings; alarm, state,
 * discharge, baseline, config events; a field device's words (every one
 * held: devflags.h decides at the write). Other kinds are ignored (0 returned,
 * nothing stored), as is a message whose fields do not fit the columns.
 * Returns 1 if it will be stored, -1 when it cannot be held (out of memory,
 * or the batch already names UINT16_MAX gateways). Rows are written in the
 * order they were added, table by table. */
int ow_batch_add(ow_batch_t *b, const ow_msg_t *m);
/* Position to commit with the batch: the last seq of pub processed
 * (stored or deliberately skipped by the log rate). Later calls for the
 * same pub overwrite. */
void ow_batch_position(ow_batch_t *b, const char *pub, uint64_t epoch, uint64_t seq);
size_t ow_batch_rows(const ow_batch_t *b); /* messages added and stored */
void ow_batch_clear(ow_batch_t *b);

#endif
