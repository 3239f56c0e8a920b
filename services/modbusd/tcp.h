/* modbusd's Modbus TCP server: a listening socket and up to max_clients
 * connections, each with its own receive buffer parsed as MBAP frames, all
 * served from one poll() loop (modbusd.c's). A raw MBAP parser rather than
 * libmodbus's blocking modbus_receive lets one thread serve every client
 * and drop one that stalls mid-frame without blocking the others. Who may
 * connect, the idle timeout and the slots follow services.modbusd as
 * modbusd holds it (read live, so a reload takes effect at once). */
#ifndef OW_MB_TCP_H
#define OW_MB_TCP_H

#include <poll.h>
#include <stdint.h>

#include "modbusd.h"
#include "pdu.h"

typedef struct {
    uint64_t requests, bad_frames, dropped_idle, refused, reclaimed;
} ow_mb_tcp_stats_t;

typedef struct ow_mb_tcp ow_mb_tcp_t;

/* Listens on cfg's listen address; cfg and units are held, not copied.
 * NULL with err. */
ow_mb_tcp_t *ow_mb_tcp_new(const ow_modbusd_cfg_t *cfg, const ow_mb_units_t *units, char *err,
                           size_t errlen);
/* The port listened on (the configured one, or the kernel's for port 0). */
int ow_mb_tcp_port(const ow_mb_tcp_t *t);
/* Entries to poll: the listening socket, then each client; pf has room for
 * max_clients + 1. Returns how many were filled. */
int ow_mb_tcp_pollfds(const ow_mb_tcp_t *t, struct pollfd *pf);
/* After a poll of the n entries ow_mb_tcp_pollfds filled: read and answer
 * clients, drop idle or garbled ones, accept newcomers. */
void ow_mb_tcp_step(ow_mb_tcp_t *t, const struct pollfd *pf, int n, int64_t now_us);
/* Drop the clients the allow-list (changed by a reload) leaves out: an
 * allow-list that narrows is meant to shut someone out. */
void ow_mb_tcp_enforce_allow(ow_mb_tcp_t *t);
int ow_mb_tcp_clients(const ow_mb_tcp_t *t);
const ow_mb_tcp_stats_t *ow_mb_tcp_stats(const ow_mb_tcp_t *t);
void ow_mb_tcp_destroy(ow_mb_tcp_t **t);

#endif
