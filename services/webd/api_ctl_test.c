/* api_ctl.c's parts that need no alarmd: the breaker's tokens (with the
 * test's clock) and the thresholds' units. The calls themselves are
 * tests/test_webd_api.py's. */
#include <string.h>

#include "live.h"
#include "ow_config.h"
#include "ow_test.h"

int main(void)
{
    char tok[48], tok2[48], gw[OW_ID_MAX];
    int out = 0, st = -1;
    int64_t t = 5000000000;

    /* armed by session A: B cannot spend it, A can, once */
    ow_web_arm_issue("sessA", "wm1", 3, 1, t, tok, sizeof tok);
    CHECK(strlen(tok) == 32); /* 24 random bytes, base64url */
    ow_web_arm_issue("sessA", "wm1", 4, 0, t, tok2, sizeof tok2);
    CHECK(strcmp(tok, tok2) != 0);
    CHECK(ow_web_arm_take(tok, "sessB", t + 1, gw, sizeof gw, &out, &st) ==
          OW_WEB_ARM_OTHER_SESSION);
    CHECK(ow_web_arm_take(tok, "sessA", t + 2, gw, sizeof gw, &out, &st) == 0);
    CHECK_STR(gw, "wm1");
    CHECK(out == 3 && st == 1);
    CHECK(ow_web_arm_take(tok, "sessA", t + 3, gw, sizeof gw, &out, &st) == OW_WEB_ARM_UNKNOWN);
    CHECK(ow_web_arm_take("", "sessA", t + 3, gw, sizeof gw, &out, &st) == OW_WEB_ARM_UNKNOWN);
    /* 30 s to the microsecond: just before, fine; at it, expired and spent */
    ow_web_arm_issue("sessA", "wm1", 2, 1, t, tok, sizeof tok);
    CHECK(ow_web_arm_take(tok2, "sessA", t + OW_WEB_ARM_TTL_US - 1, gw, sizeof gw, &out, &st) == 0);
    CHECK(out == 4 && st == 0);
    CHECK(ow_web_arm_take(tok, "sessA", t + OW_WEB_ARM_TTL_US, gw, sizeof gw, &out, &st) ==
          OW_WEB_ARM_EXPIRED);
    CHECK(ow_web_arm_take(tok, "sessA", t + OW_WEB_ARM_TTL_US, gw, sizeof gw, &out, &st) ==
          OW_WEB_ARM_UNKNOWN);
    /* many more than the store holds: the newest always works */
    for (int i = 0; i < 200; i++)
        ow_web_arm_issue("sessC", "wm1", 1, 1, t + i, tok, sizeof tok);
    CHECK(ow_web_arm_take(tok, "sessC", t + 200, gw, sizeof gw, &out, &st) == 0);

    /* units from the key's name, the last part first */
    CHECK_STR(ow_web_key_unit("thresholds.voltage_v.high_alarm"), "V");
    CHECK_STR(ow_web_key_unit("thresholds.voltage_v.delay_s"), "s");
    CHECK_STR(ow_web_key_unit("thresholds.temp_c.low_warn"), "degC");
    CHECK_STR(ow_web_key_unit("thresholds.impedance_mohm.high_warn"), "mOhm");
    CHECK_STR(ow_web_key_unit("thresholds.hydrogen_warn_pct_lel"), "% LEL");
    CHECK_STR(ow_web_key_unit("thresholds.float_band_v_per_cell"), "V/cell");
    CHECK_STR(ow_web_key_unit("impedance_poll_min"), "min");
    CHECK_STR(ow_web_key_unit("temperature_unit"), "");
    /* every settable key has a row with a doc, and each known key a unit
     * unless it is a count or a choice */
    int unitless = 0, nkeys = 0;
    for (const char *const *k = ow_gateway_keys(); *k; k++, nkeys++) {
        const ow_key_t *row = ow_gateway_setting(*k);
        CHECK_MSG(row && row->doc && row->doc[0], "%s has no doc", *k);
        if (!ow_web_key_unit(*k)[0]) {
            unitless++;
            printf("no unit: %s\n", *k);
        }
    }
    CHECK(nkeys > 40);
    CHECK(ow_gateway_setting("thresholds.nope") == NULL);
    CHECK_MSG(unitless <= 5, "%d keys without a unit", unitless);
    return ow_test_done("api_ctl_test");
}
