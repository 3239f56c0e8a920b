/* The replay journal: a bounded ring of the last N messages busd published,
 * kept as their encoded frames, so a subscriber that restarted or saw a gap
 * can ask for "everything after sequence N" (zguide's Clone pattern). Memory
 * is bounded by the message count; slots are reused, so after warm-up an
 * append allocates nothing. */
#ifndef OW_JOURNAL_H
#define OW_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct ow_journal ow_journal_t;

ow_journal_t *ow_journal_new(size_t capacity);
void ow_journal_destroy(ow_journal_t **j);

/* Append the message with sequence seq, which must be last()+1 (or any seq
 * when empty). Evicts the oldest when full. 0, or -1 (errno EINVAL/ENOMEM). */
int ow_journal_append(ow_journal_t *j, uint64_t seq, const char *topic, size_t topic_len,
                      const char *body, size_t body_len);

uint64_t ow_journal_first(const ow_journal_t *j); /* 0 when empty */
uint64_t ow_journal_last(const ow_journal_t *j);  /* 0 when empty */
size_t ow_journal_count(const ow_journal_t *j);

/* The frames of seq; 0, or -1 if it is not (or no longer) held. Pointers stay
 * valid until the next append. */
int ow_journal_get(const ow_journal_t *j, uint64_t seq, const char **topic, size_t *topic_len,
                   const char **body, size_t *body_len);

#endif
