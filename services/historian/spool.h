/* The historian's on-disk spool: when PostgreSQL is down or too slow, the
 * messages it could not store go here, in order, and are written to the
 * database when it returns. Bounded (max_bytes); survives a restart. Records
 * are length-prefixed and checksummed, appended to segment files, so a write
 * torn by a crash is detected and cut off at open instead of corrupting what
 * follows. Library code: errors in err / errno, nothing printed. */
#ifndef OW_SPOOL_H
#define OW_SPOOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct ow_spool ow_spool_t;

/* Open (creating dir if needed) and scan what is there. NULL with err. */
ow_spool_t *ow_spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen);
void ow_spool_close(ow_spool_t **sp);

/* Append one message's frames. 0, or -1 with errno ENOSPC when the spool
 * would exceed max_bytes (nothing written), or another errno on I/O error. */
int ow_spool_append(ow_spool_t *sp, const char *topic, size_t topic_len, const char *body,
                    size_t body_len);
/* Make what was appended durable (fdatasync). */
int ow_spool_sync(ow_spool_t *sp);

uint64_t ow_spool_bytes(const ow_spool_t *sp);   /* on disk, records only */
uint64_t ow_spool_records(const ow_spool_t *sp); /* records held */
uint64_t ow_spool_torn(const ow_spool_t *sp);    /* bytes cut off at open (torn tail) */

/* Call fn for every record in append order; fn returns 0 to go on, non-zero
 * to stop (that value is returned). 0 when all were visited, -1 on I/O
 * error. */
typedef int (*ow_spool_fn)(void *ctx, const char *topic, size_t topic_len, const char *body,
                           size_t body_len);
int ow_spool_foreach(ow_spool_t *sp, ow_spool_fn fn, void *ctx);

/* Forget everything (after it is safely in the database). */
int ow_spool_clear(ow_spool_t *sp);

/* For tests: start a new segment file past seg_bytes instead of 64 MiB
 * (0 restores the default). */
void ow_spool_set_segment_bytes(ow_spool_t *sp, uint64_t seg_bytes);

#endif
