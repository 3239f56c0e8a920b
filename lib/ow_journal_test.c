/* Journal: order, eviction at capacity, refusal of out-of-order appends. */
#include "ow_journal.h"
#include "ow_test.h"

#include <stdio.h>

int main(void)
{
    ow_journal_t *j = ow_journal_new(100);
    char topic[32], body[64];
    const char *t, *b;
    size_t tl, bl;

    CHECK(j != NULL);
    CHECK(ow_journal_first(j) == 0 && ow_journal_last(j) == 0);
    CHECK(ow_journal_get(j, 1, &t, &tl, &b, &bl) < 0);
    for (uint64_t s = 5; s < 5 + 250; s++) {
        int tn = snprintf(topic, sizeof topic, "mod/wm1/01/%03d", (int)(s % 9) + 1);
        int bn = snprintf(body, sizeof body, "{\"seq\":%llu}", (unsigned long long)s);
        CHECK(ow_journal_append(j, s, topic, (size_t)tn, body, (size_t)bn) == 0);
    }
    /* 250 appended from 5: the last 100 (155..254) remain. */
    CHECK(ow_journal_count(j) == 100);
    CHECK(ow_journal_first(j) == 155);
    CHECK(ow_journal_last(j) == 254);
    CHECK(ow_journal_get(j, 154, &t, &tl, &b, &bl) < 0);
    CHECK(ow_journal_get(j, 255, &t, &tl, &b, &bl) < 0);
    for (uint64_t s = 155; s <= 254; s++) {
        char want[64];
        snprintf(want, sizeof want, "{\"seq\":%llu}", (unsigned long long)s);
        CHECK(ow_journal_get(j, s, &t, &tl, &b, &bl) == 0);
        CHECK(bl == strlen(want) && memcmp(b, want, bl) == 0);
        CHECK(tl == 14 && memcmp(t, "mod/wm1/01/", 11) == 0);
    }
    /* A gap or a repeat is refused: the journal mirrors what was published. */
    CHECK(ow_journal_append(j, 256, "x", 1, "y", 1) < 0);
    CHECK(ow_journal_append(j, 254, "x", 1, "y", 1) < 0);
    CHECK(ow_journal_append(j, 255, "x", 1, "y", 1) == 0);
    CHECK(ow_journal_last(j) == 255 && ow_journal_first(j) == 156);

    /* A body larger than the slot grows it. */
    char big[5000];
    memset(big, 'a', sizeof big);
    CHECK(ow_journal_append(j, 256, "t", 1, big, sizeof big) == 0);
    CHECK(ow_journal_get(j, 256, &t, &tl, &b, &bl) == 0 && bl == sizeof big && b[4999] == 'a');

    ow_journal_destroy(&j);
    CHECK(j == NULL);
    CHECK(ow_journal_new(0) == NULL);
    return ow_test_done("journal_test");
}
