/* The historian's on-disk spool: when PostgreSQL is down or too slow, the
 * messages it could not store go here, in order, and are written to the
 * database when it returns. Bounded (max_bytes); survives a restart.
 *
 * Every record carries a CRC-32 over its header and frames, so damage is
 * found, never read as data. The reader resynchronises past a bad record
 * (the next offset holding a valid magic and CRC) so one flipped bit costs
 * one record, not the rest of its segment. A bad tail of the newest segment
 * is a write torn by a crash and is cut off at open; damage anywhere else is
 * corruption: skipped, counted, reported (ow_spool_damage) and, at clear,
 * the segment is moved to dir/damaged/ instead of deleted. What a damaged
 * region held is gone from the spool: the caller must get it elsewhere (the
 * historian rewinds its subscriptions to the publishers' journals).
 * Library code: errors in err / errno, nothing printed. */
#ifndef OW_SPOOL_H
#define OW_SPOOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct ow_spool ow_spool_t;

/* One unreadable region of a segment. */
typedef struct {
    uint64_t seg;   /* segment number: dir/spool-NNNNNN.seg */
    uint64_t off;   /* byte offset of the region in the segment */
    uint64_t bytes; /* its length: skipped (corruption) or cut off (torn) */
    int torn;       /* 1: the newest segment's torn last write, cut off at open */
} ow_spool_damage_t;

/* Open (creating dir if needed) and scan what is there. NULL with err. */
ow_spool_t *ow_spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen);
void ow_spool_close(ow_spool_t **sp);

/* Append one message's frames. 0, or -1 with errno ENOSPC when the spool
 * would exceed max_bytes (nothing written), or another errno on I/O error. */
int ow_spool_append(ow_spool_t *sp, const char *topic, size_t topic_len, const char *body,
                    size_t body_len);
/* Make what was appended durable (fdatasync). */
int ow_spool_sync(ow_spool_t *sp);

uint64_t ow_spool_bytes(const ow_spool_t *sp);   /* segment bytes on disk (records + damage) */
uint64_t ow_spool_records(const ow_spool_t *sp); /* readable records held */
uint64_t ow_spool_torn(const ow_spool_t *sp);    /* bytes cut off at open (torn tail) */
uint64_t ow_spool_damaged(const ow_spool_t *sp); /* bytes skipped as corruption since open */
/* Every damaged or torn region found since open (at open, then by
 * foreach), in the order found; *list is valid until the next call. */
size_t ow_spool_damage(const ow_spool_t *sp, const ow_spool_damage_t **list);

/* Call fn for every record in append order; fn returns 0 to go on, non-zero
 * to stop (that value is returned). dmg (may be NULL) is called, in order
 * between the records, for every corrupt region passed, so the caller knows
 * which records came after a loss. 0 when all were visited, -1 on I/O
 * error. */
typedef int (*ow_spool_fn)(void *ctx, const char *topic, size_t topic_len, const char *body,
                           size_t body_len);
typedef void (*ow_spool_damage_fn)(void *ctx, const ow_spool_damage_t *d);
int ow_spool_foreach(ow_spool_t *sp, ow_spool_fn fn, ow_spool_damage_fn dmg, void *ctx);

/* Forget everything (after it is safely in the database): healthy segments
 * are deleted, damaged ones moved to dir/damaged/ (renamed if taken). */
int ow_spool_clear(ow_spool_t *sp);

/* The record reader on one segment's bytes (what open and foreach use; the
 * fuzz target's entry): fn for each valid record, dmg for each corrupt
 * region followed by a valid record. The bad tail (no valid record after
 * it) is not reported but left in *tail, for the caller to judge: torn in
 * the newest segment, corruption elsewhere. Returns 0, or fn's stop value
 * (then *records and *tail describe what was read so far). */
typedef struct {
    uint64_t records; /* valid records visited */
    uint64_t damaged; /* bytes in the regions reported to dmg */
    uint64_t tail;    /* bytes after the last valid record: seg_len - tail is where they start */
} ow_spool_scan_t;
int ow_spool_parse(const void *data, size_t len, uint64_t seg, ow_spool_fn fn,
                   ow_spool_damage_fn dmg, void *ctx, ow_spool_scan_t *out);

/* For tests: start a new segment file past seg_bytes instead of 64 MiB
 * (0 restores the default). */
void ow_spool_set_segment_bytes(ow_spool_t *sp, uint64_t seg_bytes);

#endif
