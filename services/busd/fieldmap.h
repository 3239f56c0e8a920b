/* Register maps of field devices: a JSON file says where a monitor keeps each
 * quantity (function code, address, type, word order, scale and offset, per
 * string / module / GX_R_AUX point with a stride), the loader checks it like
 * the site file (errors name file:line:col and key), and a plan turns it into
 * the fewest Modbus requests for one gateway and decodes their answers. The
 * G.BMS webmanager is not special: its map (etc/maps/gbms.json) is built in
 * as "gbms" and runs through the same engine. Format: docs/maps.md. */
#ifndef OW_FIELDMAP_H
#define OW_FIELDMAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ow_config.h"
#include "ow_proto.h"

/* What a value is. Points are single values of the device, the others repeat
 * per string, module or GX_R_AUX point (index 1..). */
typedef enum {
    FM_GENERAL = 0, /* points */
    FM_BATTERY,
    FM_ALARM,
    FM_NSTRINGS,
    FM_NMODULES,
    FM_AMBIENT,
    FM_HUMIDITY,
    FM_HYDROGEN,
    FM_STR_CURRENT, /* per string */
    FM_STR_SUM,
    FM_STR_AVG,
    FM_STR_AC,
    FM_MOD_TEMP, /* per module */
    FM_MOD_VOLT,
    FM_MOD_IMPC,
    FM_MOD_FLAGS,
    FM_MOD_EQ,
    FM_AUX_IN, /* per GX_R_AUX point */
    FM_AUX_OUT,
    FM_NQ
} fm_qty_t;

/* Entities a quantity belongs to. */
enum { FM_E_POINT, FM_E_STRING, FM_E_MODULE, FM_E_AUX_IN, FM_E_AUX_OUT, FM_NE };

typedef enum { FM_U16, FM_S16, FM_U32, FM_S32, FM_F32, FM_BIT } fm_type_t;

/* Largest index of any entity, so a value table can be [FM_NQ][FM_IDX]. */
#define FM_IDX (OW_MAX_MODULES + 1)

typedef struct ow_fieldmap ow_fieldmap_t;

/* Load a map: "gbms" is the built-in copy of etc/maps/gbms.json, anything
 * else a file. NULL with "FILE:LINE:COL: KEY: reason" in err. */
ow_fieldmap_t *ow_fieldmap_load(const char *path, char *err, size_t errlen);
/* The same from text; name stands for the file in errors. */
ow_fieldmap_t *ow_fieldmap_parse(const char *text, size_t len, const char *name, char *err,
                                 size_t errlen);
void ow_fieldmap_destroy(ow_fieldmap_t **map);
const char *ow_fieldmap_name(const ow_fieldmap_t *map);
/* 1 if the map has quantity q for index idx (0 for points). */
int ow_fieldmap_has(const ow_fieldmap_t *map, fm_qty_t q, int idx);
/* Bits of the module flags word meaning "this module does not answer". */
uint16_t ow_fieldmap_lost_mask(const ow_fieldmap_t *map);

/* Does the gateway fit the map (every configured string, module and GX_R_AUX
 * point addressed, a sensor the site says is fitted readable)? 0, or -1 with
 * the key of the gateway at fault in *key (e.g. "strings", "ambient_sensor")
 * and why. */
int ow_fieldmap_fits(const ow_fieldmap_t *map, const ow_gateway_cfg_t *gw, const char **key,
                     char *why, size_t len);

/* One Modbus request of a plan. */
typedef struct {
    int fc;       /* 1, 2, 3 or 4 */
    int addr;     /* first register (or bit) */
    int count;    /* registers (or bits) */
    int first, n; /* its slots in the plan */
} fm_req_t;

typedef struct ow_fieldplan ow_fieldplan_t;

/* The requests that read everything the map has for nstrings strings,
 * nmodules modules and aux_points GX_R_AUX points: values sorted by address,
 * merged while a request stays within max_registers (max_bits) and the
 * registers in between are readable. NULL on out of memory. */
ow_fieldplan_t *ow_fieldplan_new(const ow_fieldmap_t *map, int nstrings, int nmodules,
                                 int aux_points);
void ow_fieldplan_destroy(ow_fieldplan_t **plan);
int ow_fieldplan_nreqs(const ow_fieldplan_t *plan);
const fm_req_t *ow_fieldplan_req(const ow_fieldplan_t *plan, int i);

/* The values of one cycle: val[q][idx] decoded (NAN: not read, or the device
 * said "not measured", or outside the wire's range for q), ok[q][idx] 1 if
 * its request was answered. */
typedef struct {
    double val[FM_NQ][FM_IDX];
    unsigned char ok[FM_NQ][FM_IDX];
    uint64_t out_of_range; /* this cycle: values outside the wire's range (read as NAN) */
} fm_values_t;

void ow_fieldvalues_clear(fm_values_t *v);
/* Decode the answer to request i: regs (FC 3/4) or bits (FC 1/2, one byte
 * per bit as libmodbus gives them), count as in the request. */
void ow_fieldplan_decode(const ow_fieldplan_t *plan, int i, const uint16_t *regs,
                         const uint8_t *bits, fm_values_t *v);

/* Raw register(s) to a number, by type and word order (exposed for tests). */
double ow_fieldmap_raw(fm_type_t type, int low_word_first, const uint16_t *r);

/* Markdown reference of the map format and the quantities (docs/maps.md). */
int ow_fieldmap_doc(FILE *out);

#endif
