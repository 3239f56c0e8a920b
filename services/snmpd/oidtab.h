/* The G.BMS webmanager's SNMP OID list (user guide, "SNMP OID List") under
 * 1.3.6.1.2.1.33.5 as one table. The agent's image, the MIB module
 * (mibs/OHMWATCH-BACS-MIB.txt), the docs (docs/snmp.md) and the unit test
 * all walk the same table; the bacsWellKnownAlarms identities come from the
 * alarm catalogue (proto/ow_gbms.c). */
#ifndef OW_OIDTAB_H
#define OW_OIDTAB_H

#include <stdint.h>
#include <stdio.h>

#include "view.h"

#define OW_SNMP_ROOT   "1.3.6.1.2.1.33.5"
#define OW_SNMP_ROOTN  8
#define OW_SNMP_MAXSUB 6

extern const uint32_t ow_snmp_root[OW_SNMP_ROOTN];

typedef enum {
    OW_T_INT,
    OW_T_GAUGE,
    OW_T_TICKS,
    OW_T_OID,
    OW_T_TABLE,
    OW_T_ENTRY,
    OW_T_NODE,
    OW_T_NOTIF
} ow_snmp_type_t;
typedef enum { OW_A_NA, OW_A_RO, OW_A_RW } ow_snmp_access_t;
/* Which instances a column has. */
typedef enum { OW_I_SCALAR, OW_I_MODULE, OW_I_STRING, OW_I_ALARM, OW_I_AUX } ow_snmp_inst_t;

/* The value of one instance in the unit of the site file (V, degC, mOhm,
 * A, ...). Returns 1 when there is a value; 0 when the instance does not
 * exist now (walks skip it, GET says noSuchInstance); OW_SNMP_NONE for a
 * module column without a value (a block not read yet, not answering, or
 * that value not measured), served as OW_SNMP_NO_READING. inst is the
 * 1-based module or string, the alarm's index in v->alarms, or the row's
 * last sub-identifier for OW_I_AUX and scalars. */
#define OW_SNMP_NONE 2
/* The wire value of OW_SNMP_NONE: Integer32's lowest, which no reading is
 * served as (they clamp to -2147483647..2147483647); see oidtab.c. */
#define OW_SNMP_NO_READING INT32_MIN
struct ow_snmp_oid;
typedef int (*ow_snmp_get_fn)(const ow_snmp_view_t *v, const struct ow_snmp_oid *row, int inst,
                              double *out);

typedef struct ow_snmp_oid {
    int sub[OW_SNMP_MAXSUB]; /* suffix under OW_SNMP_ROOT, ended by 0 */
    const char *name;
    ow_snmp_type_t type;
    ow_snmp_access_t access;
    ow_snmp_inst_t inst;
    double scale;       /* wire value = round(value / scale); 1 = as is */
    int temp;           /* a temperature: scaled in bacsTemperatureUnit */
    const char *unit;   /* "" if none */
    const char *key;    /* the site-file setting it is (RW rows), else NULL */
    ow_snmp_get_fn get; /* NULL for structure rows */
    const char *syntax; /* MIB SYNTAX of enumerations; NULL: by type */
    const char *descr;  /* MIB DESCRIPTION */
} ow_snmp_oid_t;

extern const ow_snmp_oid_t ow_snmp_oids[];
extern const int ow_snmp_noids;

int ow_snmp_sublen(const ow_snmp_oid_t *o);
/* <0, 0, >0 like strcmp, by OID (lexicographic on sub-identifiers). */
int ow_snmp_row_cmp(const ow_snmp_oid_t *a, const ow_snmp_oid_t *b);
/* Index of the row named name, or -1. */
int ow_snmp_find(const char *name);
/* The row an instance OID (len sub-identifiers, root included) belongs to:
 * its OID minus the instance; -1 if none. */
int ow_snmp_row_of(const uint32_t *o, int len);
/* Write docs/snmp.md; 0 or -1. */
int ow_snmp_doc(FILE *f);
/* Write the MIB module; 0 or -1. */
int ow_snmp_mib(FILE *f);

#endif
