/* Thresholds that contradict the battery: a configuration can be valid (in
 * range, ordered) and still alarm on a healthy battery, or never alarm on a
 * failing one. `-n` prints these as warnings; they never refuse a site. The
 * rules are a table in ow_lint.c, each naming the key, its value and the
 * battery's figure it contradicts. */
#ifndef OW_LINT_H
#define OW_LINT_H

#include "ow_config.h"

/* One warning about gateway g: key is the schema path
 * ("thresholds.impedance_mohm.low_alarm"), msg why (value and figure). */
typedef void (*ow_lint_fn)(void *ctx, const ow_gateway_cfg_t *g, const char *key, const char *msg);

/* Calls fn for every contradiction of g; returns how many. */
int ow_gateway_lint(const ow_gateway_cfg_t *g, ow_lint_fn fn, void *ctx);

/* Every gateway of the site, each warning as one line
 * "FILE:LINE:COL: gateways[N].KEY: msg" (at the gateway's value, else the
 * defaults', else where the key would go); returns how many. */
int ow_site_lint(const ow_site_t *site, void (*fn)(void *ctx, const char *line), void *ctx);
/* The same for one gateway of the site (busd's -g). */
int ow_site_lint_gateway(const ow_site_t *site, const ow_gateway_cfg_t *g,
                         void (*fn)(void *ctx, const char *line), void *ctx);

#endif
