/* The terminal dashboard behind `ohmwatch status`: folds readings into a
 * per-gateway model and renders it like the webmanager's landing page (per
 * string: No., Volt, Temp, Ri, Equalize, Status; sum voltage, currents). */
#ifndef OW_DASH_H
#define OW_DASH_H

#include <stdio.h>

#include "ow_config.h"
#include "ow_proto.h"

typedef struct ow_dash ow_dash_t;

/* gw_filter NULL = every gateway of the site. */
ow_dash_t *ow_dash_new(const ow_site_t *site, const char *gw_filter);
void ow_dash_destroy(ow_dash_t **d);
/* Fold one message in; 1 if it completed a poll cycle of some gateway. */
int ow_dash_update(ow_dash_t *d, const ow_msg_t *m);
/* 1 when every shown gateway has completed at least one cycle. */
int ow_dash_complete(const ow_dash_t *d);
void ow_dash_render(const ow_dash_t *d, FILE *out);

#endif
