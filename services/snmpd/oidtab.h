/* The G.BMS webmanager's SNMP OID list (user guide, "SNMP OID List") under
 * 1.3.6.1.2.1.33.5 as one table. The agent, the MIB, the docs (docs/snmp.md)
 * and the unit test all walk the same table. */
#ifndef OW_OIDTAB_H
#define OW_OIDTAB_H

#include <stdio.h>

#define OW_SNMP_ROOT   "1.3.6.1.2.1.33.5"
#define OW_SNMP_MAXSUB 8

typedef enum {
    OW_T_INT,
    OW_T_GAUGE,
    OW_T_TICKS,
    OW_T_OID,
    OW_T_TABLE,
    OW_T_ENTRY,
    OW_T_NODE,
    OW_T_IDENT,
    OW_T_NOTIF
} ow_snmp_type_t;
typedef enum { OW_A_NA, OW_A_RO, OW_A_RW } ow_snmp_access_t;

typedef struct {
    int sub[OW_SNMP_MAXSUB]; /* suffix under OW_SNMP_ROOT, ended by 0 */
    const char *name;
    ow_snmp_type_t type;
    ow_snmp_access_t access;
    double scale;       /* wire value = round(value / scale); 0 = enum/flags */
    const char *unit;   /* "" if none */
    const char *source; /* ohmwatch field the value comes from */
} ow_snmp_oid_t;

extern const ow_snmp_oid_t ow_snmp_oids[];
extern const int ow_snmp_noids;

int ow_snmp_sublen(const ow_snmp_oid_t *o);
/* <0, 0, >0 like strcmp, by OID (lexicographic on sub-identifiers). */
int ow_snmp_oidcmp(const ow_snmp_oid_t *a, const ow_snmp_oid_t *b);
/* Write docs/snmp.md; 0 or -1. */
int ow_snmp_doc(FILE *f);

#endif
