/* pdu: requests answered against a real register image, byte by byte: a
 * module's registers after a reading, 03 and 04 reading the same map, and
 * each exception code where the map and the spec put it (01 function not
 * served, 02 outside 1000-3681 or running past it, while the reserved
 * registers inside read 0; 03 bad quantity or length, 0B unknown unit); the
 * unit map picks the image. */
#include <string.h>

#include "ow_gbms.h"
#include "ow_test.h"
#include "pdu.h"

static size_t ask(const ow_mb_image_t *img, uint8_t fc, int addr, int count, uint8_t *rsp)
{
    uint8_t q[] = {fc, (uint8_t)(addr >> 8), (uint8_t)addr, (uint8_t)(count >> 8), (uint8_t)count};
    return ow_mb_handle(img, q, sizeof q, rsp);
}

static int reg(const uint8_t *rsp, int i)
{
    return rsp[2 + 2 * i] << 8 | rsp[3 + 2 * i];
}

int main(void)
{
    ow_mb_scale_t sc;
    ow_mb_scale_default(&sc);
    static ow_mb_image_t img[2];
    ow_mb_image_init(&img[0], &sc, 2, 18);
    ow_mb_image_init(&img[1], &sc, 1, 4);
    uint8_t rsp[OW_MB_PDU_MAX];

    /* 1003..1004: strings and modules of the gateway. */
    CHECK(ask(&img[0], 0x04, 1003, 2, rsp) == 6);
    CHECK(rsp[0] == 0x04 && rsp[1] == 4 && reg(rsp, 0) == 2 && reg(rsp, 1) == 18);
    CHECK(ask(&img[1], 0x03, 1003, 2, rsp) == 6);
    CHECK(rsp[0] == 0x03 && reg(rsp, 0) == 1 && reg(rsp, 1) == 4);

    /* Module 2 after a reading: TEMP 2*T+78, VOLT mV, IMPC 0.01 mOhm, ALARM, eq. */
    ow_msg_t m;
    ow_msg_init(&m, OW_MSG_MODULE);
    m.u.module = (ow_module_t){.string = 1,
                               .module = 2,
                               .block = 2,
                               .voltage_v = 12.345,
                               .temp_c = 21,
                               .impedance_mohm = 3.5,
                               .eq_pct = 40};
    ow_mb_apply(&img[0], &m);
    CHECK(ask(&img[0], 0x03, 1065, 5, rsp) == 12 && rsp[1] == 10);
    CHECK(reg(rsp, 0) == 120 && reg(rsp, 1) == 12345 && reg(rsp, 2) == 350 && reg(rsp, 3) == 0 &&
          reg(rsp, 4) == 40);
    /* Module 3, configured but not read: Communication lost in its ALARM. */
    CHECK(ask(&img[0], 0x04, 1073, 1, rsp) == 4 && reg(rsp, 0) == GBMS_AL_COMMUNICATION_LOST);
    /* The largest read, 125 registers, and the last register of the map. */
    CHECK(ask(&img[0], 0x04, 1060, 125, rsp) == 252 && rsp[1] == 250);
    CHECK(ask(&img[0], 0x04, 3681, 1, rsp) == 4);

    /* 01: a function not served (06 write single register). */
    CHECK(ask(&img[0], 0x06, 1000, 1, rsp) == 2 && rsp[0] == 0x86 && rsp[1] == 0x01);
    /* The reserved gap 1005-1009 reads 0, alone or in a block with its
     * neighbours (1000-1059, the block SCADA masters configure). */
    CHECK(ask(&img[0], 0x04, 1005, 1, rsp) == 4 && reg(rsp, 0) == 0);
    CHECK(ask(&img[0], 0x03, 1000, 60, rsp) == 122 && rsp[0] == 0x03 && rsp[1] == 120);
    for (int i = 5; i < 10; i++)
        CHECK_MSG(reg(rsp, i) == 0, "reserved %d", 1000 + i);
    CHECK(reg(rsp, 3) == img[0].r[3] && reg(rsp, 4) == img[0].r[4] && reg(rsp, 10) == img[0].r[10]);
    CHECK(ask(&img[0], 0x04, 1000, 125, rsp) == 252);
    /* 02: outside 1000-3681, or a range that runs past it. */
    CHECK(ask(&img[0], 0x04, 999, 1, rsp) == 2 && rsp[0] == 0x84 && rsp[1] == 0x02);
    CHECK(ask(&img[0], 0x04, 999, 2, rsp) == 2 && rsp[1] == 0x02);
    CHECK(ask(&img[0], 0x03, 3682, 1, rsp) == 2 && rsp[0] == 0x83 && rsp[1] == 0x02);
    CHECK(ask(&img[0], 0x04, 3600, 125, rsp) == 2 && rsp[1] == 0x02);
    CHECK(ask(&img[0], 0x04, 3557, 125, rsp) == 252); /* ends on 3681 */
    CHECK(ask(&img[0], 0x04, 0, 1, rsp) == 2 && rsp[1] == 0x02);
    /* 03: quantity 0 or above 125, and a PDU of the wrong length. */
    CHECK(ask(&img[0], 0x04, 1000, 0, rsp) == 2 && rsp[1] == 0x03);
    CHECK(ask(&img[0], 0x04, 1000, 126, rsp) == 2 && rsp[1] == 0x03);
    uint8_t shortq[] = {0x04, 0x03, 0xE8, 0};
    CHECK(ow_mb_handle(&img[0], shortq, sizeof shortq, rsp) == 2 && rsp[0] == 0x84 &&
          rsp[1] == 0x03);
    /* 0B: no gateway under the unit; 01 still comes first. */
    CHECK(ask(NULL, 0x04, 1000, 1, rsp) == 2 && rsp[0] == 0x84 && rsp[1] == 0x0B);
    CHECK(ask(NULL, 0x10, 1000, 1, rsp) == 2 && rsp[0] == 0x90 && rsp[1] == 0x01);

    /* The unit map: unit 7 is gateway 1, unit 1 gateway 0, the rest none. */
    int unit_gw[256];
    for (int u = 0; u < 256; u++)
        unit_gw[u] = -1;
    unit_gw[1] = 0;
    unit_gw[7] = 1;
    ow_mb_units_t units = {.unit_gw = unit_gw, .img = img};
    CHECK(ow_mb_unit_image(&units, 1) == &img[0] && ow_mb_unit_image(&units, 7) == &img[1]);
    CHECK(ow_mb_unit_image(&units, 0) == NULL && ow_mb_unit_image(&units, 255) == NULL);
    CHECK(ow_mb_unit_image(NULL, 1) == NULL);
    return ow_test_done("pdu");
}
