/* See slots.h. Sorting (address, index) pairs makes the per-address count
 * O(n log n), so a flood of connects against 1024 slots stays cheap. */
#include "slots.h"

#include <stdlib.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int ow_mb_reclaim_pick(const uint32_t *addr, const int64_t *last_us, int n, uint32_t from,
                       uint64_t *scratch, int *held)
{
    for (int i = 0; i < n; i++)
        scratch[i] = (uint64_t)addr[i] << 32 | (uint32_t)i;
    qsort(scratch, (size_t)n, sizeof *scratch, cmp_u64);
    int best = -1, best_rank = 0, best_held = 0;
    for (int g = 0; g < n;) {
        uint32_t a = (uint32_t)(scratch[g] >> 32);
        int e = g, oldest = (int)(uint32_t)scratch[g];
        for (; e < n && (uint32_t)(scratch[e] >> 32) == a; e++)
            if (last_us[(uint32_t)scratch[e]] < last_us[oldest]) oldest = (int)(uint32_t)scratch[e];
        int count = e - g, rank = count + (a == from);
        if (best < 0 || rank > best_rank ||
            (rank == best_rank && last_us[oldest] < last_us[best])) {
            best = oldest;
            best_rank = rank;
            best_held = count;
        }
        g = e;
    }
    if (held) *held = best_held;
    return addr[best] == from && best_held > 1 ? -1 : best;
}
