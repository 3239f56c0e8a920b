/* frame: MBAP headers whole, split and malformed; RTU length and CRC (the
 * specification's example frame); the request table's exceptions. */
#include <string.h>

#include "frame.h"
#include "ow_test.h"

int main(void)
{
    char err[256];
    ow_mb_frame_t f;
    ow_mb_req_t r;

    /* TCP: a read of 2 registers at 1000 from unit 1, transaction 0x1234. */
    const uint8_t rd[] = {0x12, 0x34, 0, 0, 0, 6, 1, 3, 0x03, 0xE8, 0, 2};
    for (size_t n = 0; n < sizeof rd; n++)
        CHECK_MSG(ow_mb_tcp_frame(rd, n, &f, err, sizeof err) == 0, "incomplete at %zu", n);
    CHECK(ow_mb_tcp_frame(rd, sizeof rd, &f, err, sizeof err) == 12);
    CHECK(f.tid == 0x1234 && f.unit == 1 && f.pdu == rd + 7 && f.pdulen == 5);
    uint8_t two[24];
    memcpy(two, rd, 12);
    memcpy(two + 12, rd, 12);
    CHECK(ow_mb_tcp_frame(two, sizeof two, &f, err, sizeof err) == 12); /* one at a time */

    uint8_t bad[12];
    memcpy(bad, rd, 12);
    bad[3] = 1;
    CHECK(ow_mb_tcp_frame(bad, 7, &f, err, sizeof err) == -1); /* known from the header alone */
    CHECK_CONTAINS(err, "MBAP protocol id 1, not 0");
    memcpy(bad, rd, 12);
    bad[5] = 1; /* unit id, no function code */
    CHECK(ow_mb_tcp_frame(bad, 12, &f, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "MBAP length 1 outside 2..254");
    bad[4] = 0, bad[5] = 255;
    CHECK(ow_mb_tcp_frame(bad, 7, &f, err, sizeof err) == -1);
    bad[4] = 0xFF, bad[5] = 0xFF;
    CHECK(ow_mb_tcp_frame(bad, 7, &f, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "MBAP length 65535");
    /* The largest legal frame: 254 = unit + 253-byte PDU. */
    static uint8_t big[OW_MB_TCP_MAX];
    big[5] = 254;
    CHECK(ow_mb_tcp_frame(big, sizeof big - 1, &f, err, sizeof err) == 0);
    CHECK(ow_mb_tcp_frame(big, sizeof big, &f, err, sizeof err) == OW_MB_TCP_MAX &&
          f.pdulen == OW_MB_PDU_MAX);

    /* RTU: the classic example 01 03 0000 000A, CRC C5 CD on the wire. */
    const uint8_t ex[] = {1, 3, 0, 0, 0, 0x0A, 0xC5, 0xCD};
    CHECK(ow_mb_crc16(ex, 6) == 0xCDC5);
    CHECK(ow_mb_rtu_frame(ex, sizeof ex, &f, err, sizeof err) == 0);
    CHECK(f.unit == 1 && f.pdu == ex + 1 && f.pdulen == 5);
    uint8_t flip[8];
    memcpy(flip, ex, 8);
    flip[3] ^= 0x10;
    CHECK(ow_mb_rtu_frame(flip, 8, &f, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "CRC cdc5");
    CHECK(ow_mb_rtu_frame(ex, 3, &f, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "3 bytes, a frame has 4..256");
    static uint8_t lrtu[257];
    CHECK(ow_mb_rtu_frame(lrtu, sizeof lrtu, &f, err, sizeof err) == -1);

    /* PDU shapes. */
    const uint8_t ok[] = {3, 0x03, 0xE8, 0, 125}, in[] = {4, 0xFF, 0x83, 0, 125};
    CHECK(ow_mb_check_pdu(ok, 5, &r) == 0 && r.fc == 3 && r.addr == 1000 && r.count == 125);
    CHECK(ow_mb_check_pdu(in, 5, &r) == 0 && r.addr == 65411); /* ends at 65535 exactly */
    const uint8_t past[] = {4, 0xFF, 0x84, 0, 125}, q0[] = {3, 0, 0, 0, 0},
                  q126[] = {3, 0, 0, 0, 126}, wr[] = {6, 0, 0, 0, 1};
    CHECK(ow_mb_check_pdu(past, 5, &r) == 2);
    CHECK(ow_mb_check_pdu(q0, 5, &r) == 3);
    CHECK(ow_mb_check_pdu(q126, 5, &r) == 3);
    CHECK(ow_mb_check_pdu(ok, 4, &r) == 3);
    CHECK(ow_mb_check_pdu(ok, 6, &r) == 3);
    CHECK(ow_mb_check_pdu(wr, 5, &r) == 1 && r.fc == 6);
    CHECK(ow_mb_check_pdu(ok, 0, &r) == 1 && r.fc == 0);
    return ow_test_done("frame");
}
