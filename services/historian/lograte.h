/* Which module readings the historian keeps, like the webmanager's log
 * rates: bacsLogRate1 (log_rate_s) in normal operation, bacsLogRate2
 * (log_rate_charge_s, 0 = every reading) while a string charges or
 * discharges, so a discharge is captured in full by itself. The rule is
 * stateless — a reading is kept if it is the first of its rate window —
 * so a replayed cycle is decided exactly as it was the first time. String,
 * aux readings and every event are always kept. */
#ifndef OW_LOGRATE_H
#define OW_LOGRATE_H

#include <stdint.h>

#include "ow_config.h"
#include "ow_proto.h"

/* 1 if the string is charging or discharging by the gateway's detection
 * thresholds (current sensor), or by its block voltages without one. */
int ow_lograte_active(const ow_gateway_cfg_t *gw, const ow_string_t *s);

/* 1 if the module readings of string s taken at ts_us are kept; period_us
 * is the poll period in measurement time (from busd's heartbeat). */
int ow_lograte_keep(const ow_gateway_cfg_t *gw, const ow_string_t *s, int64_t ts_us,
                    int64_t period_us);

#endif
