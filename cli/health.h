/* `ohmwatch health SERVICE`: is a service answering on its socket and does
 * it hold current data? For container health checks and monitoring; one line
 * per gateway on out, exit status 0 healthy, 1 not. */
#ifndef OW_HEALTH_H
#define OW_HEALTH_H

#include <stdio.h>

#include "ow_config.h"
#include "webd.h"

/* service: busd, alarmd, historian, modbusd, snmpd, webd. gw: one gateway or NULL for all.
 * max_age_s: how old the newest data may be (<= 0: the default, 60 s).
 * Returns 0 healthy, 1 unhealthy, 2 unknown service or gateway. */
int ow_health(const ow_site_t *site, const char *service, const char *gw, double max_age_s,
              FILE *out);

/* health_snmp.c: the snmpd probe, and the address it asks for a `listen`
 * transport list ("udp:161" -> "udp:127.0.0.1:161"). */
int ow_health_snmpd(const ow_site_t *site, const char *gw, FILE *out);
void ow_health_snmp_peer(const char *listen, char *out, size_t len);

/* health_webd.c: an HTTPS GET of webd's /api/health, its certificate
 * verified against services.webd.cert_file, and each gateway's busd heard
 * by webd within max_age_s. */
int ow_health_webd(const ow_site_t *site, const char *gw, double max_age_s, FILE *out);
/* Its judgement of webd's reply (the HTTP response as received, NUL-
 * terminated): 0 healthy, 1 not, one line per gateway on out (health_fuzz
 * feeds it a stranger's bytes). */
int ow_health_webd_reply(const char *reply, const ow_webd_cfg_t *cfg, const char *gw,
                         double max_age_s, FILE *out);

#endif
