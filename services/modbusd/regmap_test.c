/* regmap: addresses of the guide's examples, encodings, clamping, the
 * request handler's exceptions. */
#include "modbusd.h"
#include "ow_gbms.h"
#include "ow_test.h"
#include "regmap.h"

int main(void)
{
    ow_mb_scale_t sc;
    ow_mb_scale_default(&sc);
    static ow_mb_image_t img;
    ow_mb_image_init(&img, &sc, 2, 18);

    /* Addresses: the guide's first and last of each section. */
    CHECK(ow_mb_module_base(1) == 1060);
    CHECK(ow_mb_module_base(330) == 2705);
    CHECK(ow_mb_module_base(331) == 2740);
    CHECK(ow_mb_module_base(512) == 3645);
    CHECK(ow_mb_module_base(513) == -1);
    CHECK(ow_mb_string_base(1) == 1010);
    CHECK(ow_mb_string_base(10) == 1055);
    CHECK(ow_mb_string_base(11) == 2710);
    CHECK(ow_mb_string_base(16) == 2735);
    CHECK(ow_mb_mapped(1004) && !ow_mb_mapped(1005) && !ow_mb_mapped(1009));
    CHECK(ow_mb_mapped(3681) && !ow_mb_mapped(3682) && !ow_mb_mapped(999));

    /* Encodings. */
    uint16_t r[5];
    CHECK(ow_mb_read(&img, 1003, 2, r) == 0 && r[0] == 2 && r[1] == 18);
    CHECK(ow_mb_read(&img, 1060 + 3, 1, r) == 0 && r[0] == GBMS_AL_COMMUNICATION_LOST);
    ow_msg_t m;
    ow_msg_init(&m, OW_MSG_MODULE);
    m.u.module = (ow_module_t){1, 331, 1, 13.456, 25.5, 4.2, -3, 0};
    ow_mb_apply(&img, &m);
    CHECK(ow_mb_read(&img, 2740, 5, r) == 0);
    CHECK(r[0] == 129 && r[1] == 13456 && r[2] == 420 && r[3] == 0 && (int16_t)r[4] == -3);
    ow_msg_init(&m, OW_MSG_STRING);
    m.u.string.string = 2;
    m.u.string.current_a = -2000;
    m.u.string.sum_voltage_v = 480.2;
    m.u.string.avg_voltage_v = 13.34;
    m.u.string.ac_current_a = 1.25;
    ow_mb_apply(&img, &m);
    CHECK(ow_mb_read(&img, 1015, 5, r) == 0);
    CHECK((int16_t)r[0] == -20000 && r[1] == 4802 && r[2] == 13340 && r[3] == 13 && r[4] == 0);
    /* Clamping and NAN. */
    CHECK(ow_mb_clamp(1e9, 1) == 32767 && (int16_t)ow_mb_clamp(-1e9, 1) == -32768);
    CHECK(ow_mb_clamp(-5, 0) == 0 && ow_mb_clamp(70000, 0) == 65535 && ow_mb_clamp(NAN, 1) == 0);
    ow_msg_init(&m, OW_MSG_AUX);
    m.u.aux.inputs = 0x8001;
    m.u.aux.outputs = 0x2;
    ow_mb_apply(&img, &m);
    CHECK(img.r[3650 - 1000] == 1 && img.r[3665 - 1000] == 1 && img.r[3667 - 1000] == 1);

    /* Handler: exceptions 01, 02, 03, 0B and a good read. */
    uint8_t rsp[300];
    uint8_t ok[] = {3, 0x03, 0xE8, 0, 5};
    CHECK(ow_mb_handle(&img, ok, 5, rsp) == 12 && rsp[0] == 3 && rsp[1] == 10);
    uint8_t fc6[] = {6, 0x03, 0xE8, 0, 5};
    CHECK(ow_mb_handle(&img, fc6, 5, rsp) == 2 && rsp[0] == 0x86 && rsp[1] == 1);
    uint8_t gap[] = {4, 0x03, 0xE8, 0, 6}; /* 1000..1005: 1005 is not mapped */
    CHECK(ow_mb_handle(&img, gap, 5, rsp) == 2 && rsp[0] == 0x84 && rsp[1] == 2);
    uint8_t big[] = {3, 0x03, 0xE8, 0, 126};
    CHECK(ow_mb_handle(&img, big, 5, rsp) == 2 && rsp[1] == 3);
    uint8_t zero[] = {3, 0x03, 0xE8, 0, 0};
    CHECK(ow_mb_handle(&img, zero, 5, rsp) == 2 && rsp[1] == 3);
    CHECK(ow_mb_handle(NULL, ok, 5, rsp) == 2 && rsp[1] == 0x0B);
    return ow_test_done("regmap");
}
