/* The historian's share of a polled field device's own words (busd's device
 * message): which messages make a device_flags row and which module words a
 * device_module_flags row, against what this connection last saw, and the
 * statements that write them inside ow_db_write's transaction. The schema and
 * the reasons for its shape are migrations/005_device_flags.sql's. */
#ifndef OW_DEVFLAGS_H
#define OW_DEVFLAGS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "ow_proto.h"

/* A device_flags row at least this often while the words stay the same, so
 * that a flat line in a panel is known to be data, not silence. */
#define OW_DEVFLAGS_KEEPALIVE_US (600LL * 1000000)

typedef enum {
    OW_DEVFLAGS_SAME = 0, /* nothing to write */
    OW_DEVFLAGS_START,    /* the first message of this connection for the gateway */
    OW_DEVFLAGS_CHANGE,   /* the link, a word or a count changed */
    OW_DEVFLAGS_KEEPALIVE /* unchanged for OW_DEVFLAGS_KEEPALIVE_US */
} ow_devflags_why_t;

/* The stored name of a reason ("start", "change", "keepalive"); NULL for SAME. */
const char *ow_devflags_why_name(ow_devflags_why_t why);

/* Whether cur (at ts_us) makes a device_flags row after prev (NULL: none seen
 * yet), whose last row was written at written_us. Module words are not
 * looked at (ow_devflags_modules does). */
ow_devflags_why_t ow_devflags_decide(const ow_device_t *prev, int64_t written_us,
                                     const ow_device_t *cur, int64_t ts_us);

/* The modules (1-based) whose word in cur differs from prev (every module of
 * cur when prev is NULL); a module beyond a message's nmodules counts as 0.
 * Fills module[] and flags[] (room for OW_MAX_MODULES) and returns how many. */
int ow_devflags_modules(const ow_device_t *prev, const ow_device_t *cur, int16_t *module,
                        int32_t *flags);

/* Write the batch's device messages that ow_devflags_decide keeps, and
 * their changed module words, in the open transaction. What was seen is
 * kept aside until ow_devflags_commit (a failed transaction forgets it). */
int ow_devflags_write(ow_db_t *db, const ow_batch_t *b, char *err, size_t errlen);
void ow_devflags_commit(ow_db_t *db);
void ow_devflags_free(ow_db_t *db);

#endif
