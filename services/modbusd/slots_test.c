/* slots: the flooding address gives way, never the master; ties go to the
 * longest idle; a newcomer displaces its own address's stale connection. */
#include "ow_test.h"
#include "slots.h"

int main(void)
{
    uint32_t addr[64];
    int64_t last[64];
    uint64_t scratch[64];
    int held = 0;
    const uint32_t squat = 0x7F000002u, master = 0x7F000005u, other = 0x7F000009u;

    /* 63 squatters' slots, the master's slot the longest idle of all. */
    for (int i = 0; i < 64; i++)
        addr[i] = squat, last[i] = 1000 + i;
    addr[10] = master, last[10] = 1;
    int v = ow_mb_reclaim_pick(addr, last, 64, master, scratch, &held);
    CHECK(v == 0 && held == 63); /* the squatter's longest idle, not the master */
    v = ow_mb_reclaim_pick(addr, last, 64, squat, scratch, &held);
    CHECK(v == -1 && held == 63); /* the squatter reconnecting is refused, no churn */
    v = ow_mb_reclaim_pick(addr, last, 64, other, scratch, &held);
    CHECK(v == 0 && held == 63);

    /* Every address one slot: the longest idle goes. */
    for (int i = 0; i < 8; i++)
        addr[i] = 0x0A000000u + (uint32_t)i, last[i] = 100 - i;
    v = ow_mb_reclaim_pick(addr, last, 8, other, scratch, &held);
    CHECK(v == 7 && held == 1);
    /* ...unless the newcomer's address holds one: its own stale connection. */
    v = ow_mb_reclaim_pick(addr, last, 8, 0x0A000002u, scratch, &held);
    CHECK(v == 2 && held == 1);

    /* Two slots beat one however idle; among equals the older. */
    addr[0] = 1, last[0] = 50;
    addr[1] = 2, last[1] = 5;
    addr[2] = 1, last[2] = 40;
    addr[3] = 3, last[3] = 1;
    addr[4] = 2, last[4] = 60;
    v = ow_mb_reclaim_pick(addr, last, 5, 9, scratch, &held);
    CHECK(v == 1 && held == 2); /* address 2 (5 < 40), not address 3 (idle 1, one slot) */
    v = ow_mb_reclaim_pick(addr, last, 1, 9, scratch, &held);
    CHECK(v == 0 && held == 1);
    return ow_test_done("slots");
}
