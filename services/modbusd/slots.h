/* Which connection gives way when every slot is taken. Refusing newcomers
 * let 64 connections from one address, each polling now and then, hold the
 * port for good; reclaiming the globally oldest would let the same squatter
 * evict the master by polling faster. So the address holding the most slots
 * gives up its longest-idle one: a flood from one address only ever evicts
 * itself, and the configured master (one or two connections) keeps its slot
 * and gets a new one when it reconnects. */
#ifndef OW_MB_SLOTS_H
#define OW_MB_SLOTS_H

#include <stdint.h>

/* n >= 1 connections, of peer addr[i] (IPv4, host order), last active at
 * last_us[i]; a newcomer from address from. The newcomer counts towards its
 * own address, so a master reconnecting over a half-open connection of its
 * own displaces that one. Ties: the longest idle. scratch: n entries.
 * Returns the index to close, or -1 when the newcomer's own address holds
 * the most slots and more than one: it is refused, since evicting its own
 * would only let a flood churn through itself. *held: the slots the
 * victim's (or, for -1, the newcomer's) address holds. */
int ow_mb_reclaim_pick(const uint32_t *addr, const int64_t *last_us, int n, uint32_t from,
                       uint64_t *scratch, int *held);

#endif
