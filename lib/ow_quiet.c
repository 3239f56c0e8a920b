/* The gone-quiet rule shared by alarmd and the front-ends; see ow_quiet.h. */
#include "ow_quiet.h"

#include "ow_gbms.h"

int64_t ow_quiet_after_us(int64_t period_us, double speed)
{
    if (period_us <= 0) period_us = 1000000;
    if (!(speed > 0)) speed = 1;
    /* Three periods: one late cycle (a slow bus, a retry) is not a loss. The
     * floor keeps a fast simulation (60x: 17 ms periods) from calling a
     * scheduling hiccup of the machine a lost gateway. */
    int64_t after = (int64_t)(OW_QUIET_POLLS * (double)period_us / speed);
    return after < OW_QUIET_MIN_US ? OW_QUIET_MIN_US : after;
}

void ow_quiet_init(ow_quiet_t *q, int64_t now_us)
{
    *q = (ow_quiet_t){.heard_us = now_us, .speed = 1};
}

int ow_quiet_heard(ow_quiet_t *q, const ow_msg_t *m, int64_t now_us)
{
    if (m->kind == OW_MSG_HEARTBEAT) {
        q->period_us = m->u.heartbeat.period_us;
        q->speed = m->u.heartbeat.speed;
    }
    q->heard_us = now_us;
    int was = q->quiet;
    q->quiet = 0;
    return was;
}

int ow_quiet_check(ow_quiet_t *q, int64_t now_us)
{
    if (q->quiet || now_us - q->heard_us < ow_quiet_after_us(q->period_us, q->speed)) return 0;
    q->quiet = 1;
    return 1;
}

int64_t ow_quiet_for_us(const ow_quiet_t *q, int64_t now_us)
{
    return now_us - q->heard_us;
}

int ow_quiet_alarm_active(const ow_msg_t *m)
{
    /* Type 20 is only ever the gateway's (a module's own loss is
     * bacsAlarmSystemError): no string or module to look at. */
    return m->kind == OW_MSG_ALARM && m->u.alarm.type == GBMS_A_COMMUNICATION_LOST &&
           m->u.alarm.cleared_us == 0;
}

void ow_quiet_set(ow_quiet_t *q)
{
    q->quiet = 1;
}
