/* The "services.snmpd" section of the site file (its key table in
 * snmpd_keys.c), and the net-snmp configuration lines it becomes (VACM,
 * USM users, trap sinks; snmpcfg.c). */
#ifndef OW_SNMPCFG_H
#define OW_SNMPCFG_H

#include <stddef.h>

#include "ow_config.h"

#define OW_SNMP_MAX_USERS 16
#define OW_SNMP_MAX_SINKS 16

typedef struct {
    char name[33];
    char auth[8]; /* "SHA", "SHA-256", "SHA-512", "MD5" */
    char auth_pass[128];
    char priv[8]; /* "AES", "DES" */
    char priv_pass[128];
    int write; /* may SET */
} ow_snmp_user_t;

typedef struct {
    char host[128];     /* "HOST[:PORT]" */
    char community[64]; /* v2c trap sink */
    char user[33];      /* v3 inform target: one of users */
} ow_snmp_sink_t;

typedef struct {
    char listen[256];                /* net-snmp transport list, default "udp:161" */
    char agentx[256];                /* "" standalone; else the master's AgentX socket */
    int default_gw;                  /* gateway index served in the default context "" */
    char community[64];              /* v2c read-only community; "" = v2c off */
    char source[64];                 /* where v2c requests may come from (net-snmp source spec) */
    char state_dir[512];             /* engineBoots and engineID persistence */
    char default_gateway[OW_ID_MAX]; /* as written; "" the first; default_gw follows */
    char sys_object_id[128];         /* sysObjectID.0, dotted; what NMS detection reads */
    char sys_descr[256];             /* sysDescr.0 */
    int nusers;
    ow_snmp_user_t users[OW_SNMP_MAX_USERS];
    int nsinks;
    ow_snmp_sink_t sinks[OW_SNMP_MAX_SINKS];
} ow_snmpd_cfg_t;

/* Fill from the site (defaults for what is missing); -1 with
 * "FILE:LINE:COL: services.snmpd.KEY: reason" in err. Secrets may be given
 * as "file:PATH" (first line of the file) or "env:NAME". */
int ow_site_snmpd(const ow_site_t *site, ow_snmpd_cfg_t *out, char *err, size_t errlen);
/* Its rows (the section's, a user's, a notification target's) and the
 * section built from them; finish checks that each
 * v3 target names a user (exported so a test can build a section from
 * these rows plus its own). */
extern const ow_key_t ow_snmpd_keys[], ow_snmpd_user_keys[], ow_snmpd_sink_keys[];
extern const size_t ow_snmpd_nkeys, ow_snmpd_user_nkeys, ow_snmpd_sink_nkeys;
extern const ow_schema_section_t ow_snmpd_section;
int ow_snmpd_finish(ow_schema_ctx_t *c, const json_t *obj, void *base);

/* The net-snmp configuration lines (one per call of fn) that set up access
 * control, users and notification targets for cfg. */
typedef void (*ow_snmp_line_fn)(void *ctx, const char *line);
void ow_snmpd_conf_lines(const ow_site_t *site, const ow_snmpd_cfg_t *cfg, ow_snmp_line_fn fn,
                         void *ctx);

#endif
