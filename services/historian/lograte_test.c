/* Log rates: normal rate keeps one reading per window, charge/discharge
 * every reading; decisions depend only on the reading (replay-safe). */
#include "lograte.h"
#include "ow_test.h"

int main(void)
{
    ow_module_type_t c20 = {"C20", 0, 12, 9.7, 17, 0.5, 60, 0.15, "950-6503"};
    ow_gateway_cfg_t g;
    memset(&g, 0, sizeof g);
    g.module_type = &c20;
    g.current_sensor = 1;
    g.log_rate_s = 1200;
    g.log_rate_charge_s = 0;
    g.thr.discharge_detect_a = 0.5;
    g.thr.charge_detect_a = 1.0;
    g.thr.float_band_v_per_cell = 0.03;
    g.sim.float_v_per_cell = 2.27;
    ow_string_t fl = {1, 9, 0, 0.05, 0.2, 122.6, 13.62, NAN, NAN};
    ow_string_t dis = {1, 9, 0, -25, 1.0, 110.0, 12.2, NAN, NAN};
    ow_string_t chg = {1, 9, 0, 5.0, 0.3, 118.0, 13.1, NAN, NAN};

    CHECK(!ow_lograte_active(&g, &fl));
    CHECK(ow_lograte_active(&g, &dis) && ow_lograte_active(&g, &chg));

    /* One poll per second for two hours on float: 6 readings kept (one per
     * 20 minutes), at the window starts. */
    int64_t t0 = 1767225600000000LL; /* 2026-01-01T00:00:00Z, a window start */
    int kept = 0, first_ok = 1;
    for (int64_t k = 0; k < 7200; k++) {
        int keep = ow_lograte_keep(&g, &fl, t0 + k * 1000000, 1000000);
        kept += keep;
        if (keep && (k % 1200) != 0) first_ok = 0;
    }
    CHECK_MSG(kept == 6, "kept %d", kept);
    CHECK(first_ok);
    /* Discharging: every reading. */
    kept = 0;
    for (int64_t k = 0; k < 600; k++)
        kept += ow_lograte_keep(&g, &dis, t0 + k * 1000000 + 333, 1000000);
    CHECK(kept == 600);
    /* A charge log rate of 10 s keeps one in ten at 1 s polls. */
    g.log_rate_charge_s = 10;
    kept = 0;
    for (int64_t k = 0; k < 600; k++)
        kept += ow_lograte_keep(&g, &chg, t0 + k * 1000000, 1000000);
    CHECK(kept == 60);
    /* Polls slower than the rate: all kept. Rate 0: all kept. */
    CHECK(ow_lograte_keep(&g, &fl, t0 + 5, 3600LL * 1000000));
    g.log_rate_s = 0;
    CHECK(ow_lograte_keep(&g, &fl, t0 + 12345, 1000000));
    /* Same reading, same answer (a replayed cycle). */
    g.log_rate_s = 60;
    CHECK(ow_lograte_keep(&g, &fl, t0 + 60000000, 1000000) ==
          ow_lograte_keep(&g, &fl, t0 + 60000000, 1000000));
    /* Without a current sensor the voltage decides: 2.0 V/cell is a discharge. */
    g.current_sensor = 0;
    ow_string_t nos = {1, 9, 0, NAN, NAN, 108.0, 12.0, NAN, NAN};
    CHECK(ow_lograte_active(&g, &nos));
    CHECK(!ow_lograte_active(&g, &fl));
    return ow_test_done("lograte_test");
}
