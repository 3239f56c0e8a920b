/* copy.c's row formatters: the COPY text of a batch's module, string and
 * sensor rows, byte for byte, and the longest row within OW_COPY_ROW_MAX.
 * Streaming the rows (ow_copy_rows) needs a server: db_test covers it. */
#include "copy.h"

#include <float.h>
#include <math.h>

#include "hist_test.h"
#include "ow_test.h"

static const char *row(ow_copy_row_fn fn, const ow_batch_t *b, size_t i)
{
    static char buf[OW_COPY_ROW_MAX + 1];
    char *end = fn(buf, b, i);
    CHECK((size_t)(end - buf) <= OW_COPY_ROW_MAX);
    *end = '\0';
    return buf;
}

static void test_rows(void)
{
    ow_batch_t *b = ow_batch_new();
    ow_msg_t m = msg(OW_MSG_MODULE, "wm1", D0 + 250000, 41);
    m.u.module = (ow_module_t){.string = 2,
                               .module = 7,
                               .block = 3,
                               .voltage_v = 13.6523,
                               .temp_c = 21.5,
                               .impedance_mohm = NAN,
                               .eq_pct = 0,
                               .status = 0x80000001u};
    CHECK(ow_batch_add(b, &m) == 1);
    CHECK_STR(row(ow_copy_row_module, b, 0),
              "2024-05-01 00:00:00.250000+00\twm1\t2\t7\t3\t13.6522999\t21.5\t\\N\t0\t-2147483647\t"
              "1714000000000000\t41\n");

    /* A gateway name with COPY's special characters is escaped. */
    m = msg(OW_MSG_STRING, "w\tm\\2", D0 - 1, 42);
    m.u.string = (ow_string_t){.string = 1,
                               .modules = 24,
                               .modules_lost = 1,
                               .current_a = -12.25,
                               .ac_current_a = NAN,
                               .sum_voltage_v = 327.5,
                               .avg_voltage_v = 13.645833,
                               .power_kw = -4.012,
                               .ripple_v = NAN};
    CHECK(ow_batch_add(b, &m) == 1);
    CHECK_STR(row(ow_copy_row_string, b, 0),
              "2024-04-30 23:59:59.999999+00\tw\\tm\\\\2\t1\t24\t1\t-12.25\t\\N\t327.5\t13.645833\t"
              "-4.01200008\t\\N\t1714000000000000\t42\n");

    m = msg(OW_MSG_AUX, "wm1", D0, 43);
    m.u.aux = (ow_aux_t){.ambient_c = 23.5,
                         .humidity_pct = NAN,
                         .hydrogen_pct_lel = 0.1,
                         .aux_units = 2,
                         .inputs = 0x11,
                         .outputs = 0xffffffffu};
    CHECK(ow_batch_add(b, &m) == 1);
    CHECK_STR(row(ow_copy_row_aux, b, 0), "2024-05-01 00:00:00.000000+00\twm1\t23.5\t\\N\t"
                                          "0.100000001\t2\t17\t-1\t1714000000000000\t43\n");

    /* The longest module row: every field at its widest. */
    char gw[OW_ID_MAX];
    memset(gw, '\\', sizeof gw - 1); /* each one doubles */
    gw[sizeof gw - 1] = '\0';
    m = msg(OW_MSG_MODULE, gw, -62135596800000000LL, INT64_MAX); /* bigint columns */
    m.h.epoch = INT64_MAX;
    m.u.module = (ow_module_t){.string = -32768,
                               .module = -32768,
                               .block = -32768,
                               .voltage_v = -1.17549435e-38,
                               .temp_c = -FLT_MAX,
                               .impedance_mohm = -1.23456789e-30,
                               .eq_pct = -FLT_MAX,
                               .status = 0x80000000u};
    CHECK(ow_batch_add(b, &m) == 1);
    const char *r = row(ow_copy_row_module, b, 1);
    CHECK_MSG(strlen(r) > 200, "%s", r);
    ow_batch_destroy(&b);
    CHECK(b == NULL);
}

int main(void)
{
    test_rows();
    return ow_test_done("copy_test");
}
