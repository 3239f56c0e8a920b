/* The gone-quiet rule: the figures alarmd and the front-ends act on. */
#include "ow_gbms.h"
#include "ow_quiet.h"
#include "ow_test.h"

static ow_msg_t heartbeat(int64_t period_us, double speed)
{
    ow_msg_t m = {.kind = OW_MSG_HEARTBEAT};
    m.u.heartbeat.period_us = period_us;
    m.u.heartbeat.speed = speed;
    return m;
}

int main(void)
{
    /* A real bus polled every 10 s: quiet after 30 s; every 1 s: the 3 s floor;
     * the demo's 1 s at 60x (17 ms of wall time a cycle): the floor too. */
    CHECK(ow_quiet_after_us(10000000, 1) == 30000000);
    CHECK(ow_quiet_after_us(1000000, 1) == 3000000);
    CHECK(ow_quiet_after_us(1000000, 60) == 3000000);
    CHECK(ow_quiet_after_us(60000000, 2) == 90000000);
    CHECK(ow_quiet_after_us(0, 0) == 3000000); /* no heartbeat yet */

    ow_quiet_t q;
    ow_quiet_init(&q, 1000);
    ow_msg_t hb = heartbeat(10000000, 1), mod = {.kind = OW_MSG_MODULE};
    CHECK(ow_quiet_heard(&q, &hb, 1000) == 0);
    CHECK(ow_quiet_check(&q, 1000 + 29999999) == 0); /* one cycle late, two: not yet */
    CHECK(ow_quiet_check(&q, 1000 + 30000000) == 1); /* three periods: quiet */
    CHECK(q.quiet && ow_quiet_for_us(&q, 1000 + 30000000) == 30000000);
    CHECK(ow_quiet_check(&q, 1000 + 90000000) == 0); /* said once, not every check */
    CHECK(ow_quiet_heard(&q, &mod, 100000000) == 1); /* speaks again: it was quiet */
    CHECK(!q.quiet && q.period_us == 10000000);      /* a module message keeps the period */
    CHECK(ow_quiet_check(&q, 100000000 + 29000000) == 0);
    CHECK(ow_quiet_check(&q, 100000000 + 31000000) == 1); /* and falls quiet again */

    /* Never a heartbeat (a busd that died before its first cycle): the floor. */
    ow_quiet_init(&q, 0);
    CHECK(ow_quiet_check(&q, 2999999) == 0 && ow_quiet_check(&q, 3000000) == 1);

    /* alarmd's active gateway Communication lost, in a snapshot. */
    ow_msg_t al = {.kind = OW_MSG_ALARM};
    al.u.alarm.type = GBMS_A_COMMUNICATION_LOST;
    CHECK(ow_quiet_alarm_active(&al));
    al.u.alarm.cleared_us = 5;
    CHECK(!ow_quiet_alarm_active(&al)); /* cleared: readings came again */
    al.u.alarm.cleared_us = 0;
    al.u.alarm.type = GBMS_A_SYSTEM_ERROR;
    CHECK(!ow_quiet_alarm_active(&al));
    ow_quiet_init(&q, 0);
    ow_quiet_set(&q);
    CHECK(q.quiet && ow_quiet_check(&q, 10000000) == 0); /* already said */
    CHECK(ow_quiet_heard(&q, &mod, 10000001) == 1);
    return ow_test_done("quiet_test");
}
