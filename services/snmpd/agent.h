/* ohmwatch-snmpd: net-snmp's agent library serving each gateway's view,
 * standalone on its own UDP port or as an AgentX subagent. */
#ifndef OW_SNMP_AGENT_H
#define OW_SNMP_AGENT_H

#include <signal.h>
#include <stddef.h>

typedef struct ow_snmpd ow_snmpd_t;

/* Loads the site, fills every view from alarmd's snapshot, then opens the
 * SNMP port (or connects to the AgentX master). NULL with err on failure. */
ow_snmpd_t *ow_snmpd_new(const char *site_path, int verbose, char *err, size_t errlen);
/* Serves until *stop; 0 on a clean stop. snmpd does not reload: a SIGHUP
 * (*reload) is logged as refused. */
int ow_snmpd_run(ow_snmpd_t *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);
void ow_snmpd_destroy(ow_snmpd_t **d);

#endif
