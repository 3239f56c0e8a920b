/* What snmpd knows about one gateway, folded from busd's readings and
 * alarmd's state, alarms and settings, and the sorted image of every
 * instance the agent serves for it. No net-snmp here: the image is plain
 * data, so the lookups and the SET planning are unit-tested without an agent.
 *
 * Why an image: net-snmp's iterator tables scan every row per request, and
 * AgentX turns a GETBULK into one GETNEXT per varbind, so a walk of 512
 * modules would cost rows x varbinds. The image is every instance in OID
 * order; GET and GETNEXT are one binary search. It is rebuilt when a request
 * finds it older than the data (at most every OW_SNMP_REBUILD_US while
 * readings stream in; at once when the alarm table changed). */
#ifndef OW_SNMP_VIEW_H
#define OW_SNMP_VIEW_H

#include <stdint.h>

#include "ow_config.h"
#include "ow_proto.h"

#define OW_SNMP_OIDMAX     16     /* root (8) + table.entry.column (3) + index + margin */
#define OW_SNMP_REBUILD_US 100000 /* readings may be this stale in a GET, never older */

/* One instance: its full OID, its type (ow_snmp_type_t) and value. For
 * OW_T_OID the value is the bacsWellKnownAlarms code it points at. */
typedef struct {
    uint32_t o[OW_SNMP_OIDMAX];
    uint8_t len;
    uint8_t type;
    int32_t val;
} ow_snmp_vb_t;

typedef struct {
    double v, t, r, eq; /* NAN: not answering / not measured */
    uint32_t status;
    int read; /* a reading has come (0: not read yet, as not answering) */
} ow_sv_module_t;

typedef struct {
    double cur, ac, sum, avg;
} ow_sv_string_t;

typedef struct {
    uint64_t id;
    int type;
    uint32_t ticks; /* sysUpTime when snmpd learnt of it; 0 if it predates snmpd */
} ow_sv_alarm_t;

typedef struct ow_snmp_view {
    ow_gateway_cfg_t cfg; /* a copy: settings (the unit too) follow alarmd's */
    ow_sv_module_t mod[OW_MAX_MODULES + 1];
    ow_sv_string_t str[OW_MAX_STRINGS + 1];
    uint32_t aux_in, aux_out;
    ow_state_t st;
    ow_sv_alarm_t *alarms; /* active, sorted by id */
    int nalarms, calarms;
    /* the image */
    ow_snmp_vb_t *img;
    int nimg, cimg;
    int dirty;    /* data changed since the image was built */
    int reshaped; /* rows appeared or went: rebuild before the next answer */
    int64_t built_us;
} ow_snmp_view_t;

/* A change to the alarm table, for the traps. */
typedef struct {
    int what; /* 0 none, 1 added, 2 removed */
    ow_sv_alarm_t alarm;
} ow_snmp_change_t;

void ow_snmp_view_init(ow_snmp_view_t *v, const ow_gateway_cfg_t *cfg);
/* A runtime setting alarmd holds (its config event, or a SET it took):
 * 0, or -1 for a key or value the gateway does not take. */
int ow_snmp_view_setting(ow_snmp_view_t *v, const char *key, double value);
void ow_snmp_view_free(ow_snmp_view_t *v);

/* Fold one message of this gateway in. ticks is the agent's sysUpTime, given
 * to an alarm raised now (0 for alarms that predate the agent: snapshot).
 * Returns what changed in the alarm table. */
ow_snmp_change_t ow_snmp_view_apply(ow_snmp_view_t *v, const ow_msg_t *m, uint32_t ticks);
/* The gateway's busd has gone quiet (lib/ow_quiet.h): every block has no
 * value (-2147483648, Communication lost in bacsModuleState) and every
 * string value is unmeasured (its rows absent), until readings come again. */
void ow_snmp_view_quiet(ow_snmp_view_t *v);

/* Rebuild the image if it is older than the data (see above); now_us is a
 * monotonic clock. 0, or -1 out of memory (the old image stays). */
int ow_snmp_view_refresh(ow_snmp_view_t *v, int64_t now_us);
int ow_snmp_view_build(ow_snmp_view_t *v);

/* Lookups in the image: the instance equal to / first after the OID. */
const ow_snmp_vb_t *ow_snmp_view_get(const ow_snmp_view_t *v, const uint32_t *o, int len);
const ow_snmp_vb_t *ow_snmp_view_next(const ow_snmp_view_t *v, const uint32_t *o, int len);

/* Settings. row is an index into ow_snmp_oids with a key. */
int32_t ow_snmp_to_wire(const ow_snmp_view_t *v, int row, double value);
double ow_snmp_from_wire(const ow_snmp_view_t *v, int row, int32_t wire);

/* One SET varbind on a setting. */
typedef struct {
    int row;      /* ow_snmp_oids index */
    int32_t wire; /* the value as sent */
    double value; /* in the site file's unit */
    double old;   /* the value before (filled by the planner) */
} ow_snmp_set_t;

enum { OW_SET_OK = 0, OW_SET_NOT_WRITABLE, OW_SET_WRONG_VALUE, OW_SET_INCONSISTENT };
/* Judge one varbind alone: the row must be writable and the value within
 * the key's schema range. */
int ow_snmp_set_check(const ow_snmp_view_t *v, ow_snmp_set_t *s, char *err, size_t errlen);
/* Put n varbinds in an order in which each single change keeps the
 * gateway's rules (low < high ...) true, applying them to a scratch copy;
 * OW_SET_INCONSISTENT (nothing changed, err says why) if there is none. */
int ow_snmp_set_plan(const ow_snmp_view_t *v, ow_snmp_set_t *s, int n, char *err, size_t errlen);

/* Compare OIDs like strcmp. */
int ow_snmp_oid_cmp(const uint32_t *a, int alen, const uint32_t *b, int blen);

#endif
