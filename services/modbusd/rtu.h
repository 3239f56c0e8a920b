/* modbusd's Modbus RTU server: one serial line, frames delimited by
 * silence (3.5 characters), answered from the same register images as TCP
 * (pdu.h). A lost line (read error, hang-up, end of file, the device path
 * gone or naming another device) is logged once, closed and reopened with
 * backoff; a device missing at start is retried the same way. */
#ifndef OW_MB_RTU_H
#define OW_MB_RTU_H

#include <stdint.h>
#include <termios.h>

#include "pdu.h"

/* The rates a line can be set to, for messages and docs. */
#define OW_MB_BAUDS_DOC "1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200"

#define OW_MB_RTU_BACKOFF_MIN 500000   /* us: first reopen of a lost serial line */
#define OW_MB_RTU_BACKOFF_MAX 30000000 /* us: doubling up to this */

/* The termios speed of a baud rate, 0 if it is not one of OW_MB_BAUDS_DOC. */
speed_t ow_mb_baud_speed(int baud);

typedef struct {
    uint64_t requests, bad_frames, losses, reopens;
} ow_mb_rtu_stats_t;

typedef struct ow_mb_rtu ow_mb_rtu_t;

/* The line device at baud with parity 'N', 'E' or 'O', answering for
 * units (held, not copied). Opened now; if that fails the line counts as
 * lost and is retried. NULL only when out of memory. */
ow_mb_rtu_t *ow_mb_rtu_new(const char *device, int baud, char parity, const ow_mb_units_t *units,
                           int64_t now_us);
/* The descriptor to poll for input, -1 while the line is lost. */
int ow_mb_rtu_fd(const ow_mb_rtu_t *r);
/* 1 while a frame is being received: poll briefly to see its end. */
int ow_mb_rtu_pending(const ow_mb_rtu_t *r);
/* After a poll: revents of ow_mb_rtu_fd (0 if not polled or nothing came).
 * Reads, answers a frame once its silence has passed, checks that the
 * path still names the device, reopens a lost line when its time comes. */
void ow_mb_rtu_step(ow_mb_rtu_t *r, short revents, int64_t now_us);
const ow_mb_rtu_stats_t *ow_mb_rtu_stats(const ow_mb_rtu_t *r);
void ow_mb_rtu_destroy(ow_mb_rtu_t **r);

#endif
