/* Validation of the request bytes that reach modbusd from outside, before
 * anything answers them: the Modbus TCP MBAP header, the RTU frame (length,
 * CRC) and the request PDU's shape (function code, length, quantity and
 * address range). Pure functions over byte buffers, so the fuzz target
 * (modbus_frame_fuzz.c) and the unit test (frame_test.c) drive exactly what
 * the daemon runs. */
#ifndef OW_MB_FRAME_H
#define OW_MB_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define OW_MB_PDU_MAX 253                     /* function code + data (spec, 4.1) */
#define OW_MB_TCP_MAX (7 + OW_MB_PDU_MAX)     /* MBAP header (with unit id) + PDU */
#define OW_MB_RTU_MAX (1 + OW_MB_PDU_MAX + 2) /* unit + PDU + CRC = 256 */

/* One request frame: where its PDU is (inside the caller's buffer). */
typedef struct {
    uint16_t tid; /* TCP transaction id, echoed in the answer; RTU 0 */
    uint8_t unit;
    const uint8_t *pdu;
    size_t pdulen;
} ow_mb_frame_t;

/* Modbus TCP: the frame at the head of a stream buffer of n bytes.
 * >0: its length (f filled); 0: incomplete, read more; -1: the stream is not
 * Modbus TCP (protocol id not 0, length outside 2..254; err says which):
 * there is no way to resynchronise, drop the connection. */
int ow_mb_tcp_frame(const uint8_t *buf, size_t n, ow_mb_frame_t *f, char *err, size_t errlen);

/* Modbus RTU: one frame delimited by silence. 0 (f filled, CRC checked), or
 * -1 when it is shorter than 4 bytes, longer than 256 or its CRC is wrong. */
int ow_mb_rtu_frame(const uint8_t *buf, size_t n, ow_mb_frame_t *f, char *err, size_t errlen);

/* Modbus CRC-16 (polynomial 0xA001, initial 0xFFFF); on the wire low byte first. */
uint16_t ow_mb_crc16(const uint8_t *p, size_t n);

/* A request PDU's fields, once its shape is checked. */
typedef struct {
    uint8_t fc;
    uint16_t addr, count;
} ow_mb_req_t;

/* Check a PDU against the table of function codes modbusd serves. 0: valid
 * (r filled); else the exception code it earns: 01 function not served,
 * 03 wrong length or quantity outside the function's limit, 02 the range
 * runs past address 65535. */
int ow_mb_check_pdu(const uint8_t *pdu, size_t len, ow_mb_req_t *r);

#endif
