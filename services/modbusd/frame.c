/* See frame.h. */
#include "frame.h"

#include <stdio.h>

uint16_t ow_mb_crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = crc & 1 ? (uint16_t)((crc >> 1) ^ 0xA001) : crc >> 1;
    }
    return crc;
}

int ow_mb_tcp_frame(const uint8_t *buf, size_t n, ow_mb_frame_t *f, char *err, size_t errlen)
{
    if (n < 7) return 0; /* the unit id completes the header */
    unsigned proto = (unsigned)(buf[2] << 8 | buf[3]);
    unsigned len = (unsigned)(buf[4] << 8 | buf[5]); /* unit id + PDU */
    if (proto != 0) {
        snprintf(err, errlen, "MBAP protocol id %u, not 0 (Modbus)", proto);
        return -1;
    }
    if (len < 2 || len > 1 + OW_MB_PDU_MAX) {
        snprintf(err, errlen, "MBAP length %u outside 2..%d", len, 1 + OW_MB_PDU_MAX);
        return -1;
    }
    if (n < 6 + (size_t)len) return 0;
    f->tid = (uint16_t)(buf[0] << 8 | buf[1]);
    f->unit = buf[6];
    f->pdu = buf + 7;
    f->pdulen = len - 1;
    return (int)(6 + len);
}

int ow_mb_rtu_frame(const uint8_t *buf, size_t n, ow_mb_frame_t *f, char *err, size_t errlen)
{
    if (n < 4 || n > OW_MB_RTU_MAX) {
        snprintf(err, errlen, "%zu bytes, a frame has 4..%d", n, OW_MB_RTU_MAX);
        return -1;
    }
    uint16_t want = ow_mb_crc16(buf, n - 2), got = (uint16_t)(buf[n - 2] | buf[n - 1] << 8);
    if (want != got) {
        snprintf(err, errlen, "%zu bytes, CRC %04x, computed %04x", n, got, want);
        return -1;
    }
    f->tid = 0;
    f->unit = buf[0];
    f->pdu = buf + 1;
    f->pdulen = n - 3;
    return 0;
}

/* The function codes served and the shape of their requests. */
static const struct {
    uint8_t fc;
    size_t len;       /* whole PDU */
    unsigned max_qty; /* registers per request (spec: 125 for 03 and 04) */
} shapes[] = {
    {0x03, 5, 125}, /* read holding registers: addr, quantity */
    {0x04, 5, 125}, /* read input registers: the same */
};

int ow_mb_check_pdu(const uint8_t *pdu, size_t len, ow_mb_req_t *r)
{
    r->fc = len ? pdu[0] : 0;
    r->addr = r->count = 0;
    size_t i;
    for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (len && shapes[i].fc == pdu[0]) break;
    if (i == sizeof shapes / sizeof shapes[0]) return 1;
    if (len != shapes[i].len) return 3;
    unsigned addr = (unsigned)(pdu[1] << 8 | pdu[2]), qty = (unsigned)(pdu[3] << 8 | pdu[4]);
    if (qty < 1 || qty > shapes[i].max_qty) return 3;
    if (addr + qty > 65536) return 2;
    r->addr = (uint16_t)addr;
    r->count = (uint16_t)qty;
    return 0;
}
