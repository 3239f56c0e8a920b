/* Ring of encoded messages for replay; see journal.h. */
#include "ow_journal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *buf; /* topic then body, not NUL-terminated */
    size_t cap;
    size_t topic_len, body_len;
} slot_t;

struct ow_journal {
    slot_t *slots;
    size_t capacity;
    size_t count;
    uint64_t first; /* seq of the oldest held message */
};

ow_journal_t *ow_journal_new(size_t capacity)
{
    ow_journal_t *j;
    if (capacity == 0) {
        errno = EINVAL;
        return NULL;
    }
    j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->slots = calloc(capacity, sizeof *j->slots);
    if (!j->slots) {
        free(j);
        return NULL;
    }
    j->capacity = capacity;
    return j;
}

void ow_journal_destroy(ow_journal_t **jp)
{
    ow_journal_t *j = *jp;
    if (!j) return;
    for (size_t i = 0; i < j->capacity; i++)
        free(j->slots[i].buf);
    free(j->slots);
    free(j);
    *jp = NULL;
}

uint64_t ow_journal_first(const ow_journal_t *j)
{
    return j->count ? j->first : 0;
}

uint64_t ow_journal_last(const ow_journal_t *j)
{
    return j->count ? j->first + j->count - 1 : 0;
}

size_t ow_journal_count(const ow_journal_t *j)
{
    return j->count;
}

int ow_journal_append(ow_journal_t *j, uint64_t seq, const char *topic, size_t topic_len,
                      const char *body, size_t body_len)
{
    slot_t *s;
    size_t need = topic_len + body_len;

    if (j->count && seq != ow_journal_last(j) + 1) {
        errno = EINVAL;
        return -1;
    }
    s = &j->slots[seq % j->capacity];
    if (s->cap < need) {
        size_t cap = need < 256 ? 256 : need;
        char *nb = realloc(s->buf, cap);
        if (!nb) return -1;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf, topic, topic_len);
    memcpy(s->buf + topic_len, body, body_len);
    s->topic_len = topic_len;
    s->body_len = body_len;
    if (!j->count) j->first = seq;
    if (j->count == j->capacity)
        j->first++; /* the slot we overwrote held the oldest */
    else
        j->count++;
    return 0;
}

int ow_journal_get(const ow_journal_t *j, uint64_t seq, const char **topic, size_t *topic_len,
                   const char **body, size_t *body_len)
{
    const slot_t *s;
    if (!j->count || seq < j->first || seq > ow_journal_last(j)) return -1;
    s = &j->slots[seq % j->capacity];
    *topic = s->buf;
    *topic_len = s->topic_len;
    *body = s->buf + s->topic_len;
    *body_len = s->body_len;
    return 0;
}
