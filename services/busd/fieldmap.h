/* Register maps of field devices: a JSON file says where a monitor keeps each
 * quantity (function code, address, type, word order, scale and offset, per
 * string / module / GX_R_AUX point with a stride), the loader checks it like
 * the site file (errors name file:line:col and key), and a plan turns it into
 * the fewest Modbus requests for one gateway and decodes their answers. The
 * G.BMS webmanager is not special: its map (etc/maps/gbms.json) is built in
 * as "gbms" and runs through the same engine. Format: docs/maps.md.
 *
 * One prefix for the module: ow_fm_ (OW_FM_ for constants), as regmap.h's
 * ow_mb_, for the map, its plan and a cycle's values alike. */
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
    OW_FM_GENERAL = 0, /* points */
    OW_FM_BATTERY,
    OW_FM_ALARM,
    OW_FM_NSTRINGS,
    OW_FM_NMODULES,
    OW_FM_AMBIENT,
    OW_FM_HUMIDITY,
    OW_FM_HYDROGEN,
    OW_FM_STR_CURRENT, /* per string */
    OW_FM_STR_SUM,
    OW_FM_STR_AVG,
    OW_FM_STR_AC,
    OW_FM_STR_RIPPLE,
    OW_FM_MOD_TEMP, /* per module */
    OW_FM_MOD_VOLT,
    OW_FM_MOD_IMPC,
    OW_FM_MOD_FLAGS,
    OW_FM_MOD_EQ,
    OW_FM_AUX_IN, /* per GX_R_AUX point */
    OW_FM_AUX_OUT,
    OW_FM_NQ
} ow_fm_qty_t;

/* Entities a quantity belongs to. */
enum { OW_FM_E_POINT, OW_FM_E_STRING, OW_FM_E_MODULE, OW_FM_E_AUX_IN, OW_FM_E_AUX_OUT, OW_FM_NE };

typedef enum { OW_FM_U16, OW_FM_S16, OW_FM_U32, OW_FM_S32, OW_FM_F32, OW_FM_BIT } ow_fm_type_t;

/* Largest index of any entity, so a value table can be [OW_FM_NQ][OW_FM_IDX]. */
#define OW_FM_IDX (OW_MAX_MODULES + 1)

typedef struct ow_fm ow_fm_t;

/* Load a map: "gbms" is the built-in copy of etc/maps/gbms.json, anything
 * else a file. NULL with "FILE:LINE:COL: KEY: reason" in err. */
ow_fm_t *ow_fm_load(const char *path, char *err, size_t errlen);
/* The same from text; name stands for the file in errors. */
ow_fm_t *ow_fm_parse(const char *text, size_t len, const char *name, char *err, size_t errlen);
void ow_fm_destroy(ow_fm_t **map);
const char *ow_fm_name(const ow_fm_t *map);
/* 1 if the map has quantity q for index idx (0 for points). */
int ow_fm_has(const ow_fm_t *map, ow_fm_qty_t q, int idx);
/* Bits of the module flags word meaning "this module does not answer". */
uint16_t ow_fm_lost_mask(const ow_fm_t *map);

/* Does the gateway fit the map (every configured string, module and GX_R_AUX
 * point addressed, a sensor the site says is fitted readable)? 0, or -1 with
 * the key of the gateway at fault in *key (e.g. "strings", "ambient_sensor")
 * and why. */
int ow_fm_fits(const ow_fm_t *map, const ow_gateway_cfg_t *gw, const char **key, char *why,
               size_t len);

/* One Modbus request of a plan. */
typedef struct {
    int fc;       /* 1, 2, 3 or 4 */
    int addr;     /* first register (or bit) */
    int count;    /* registers (or bits) */
    int first, n; /* its slots in the plan */
} ow_fm_req_t;

typedef struct ow_fm_plan ow_fm_plan_t;

/* The requests that read everything the map has for nstrings strings,
 * nmodules modules and aux_points GX_R_AUX points: values sorted by address,
 * merged while a request stays within max_registers (max_bits) and the
 * registers in between are readable. NULL on out of memory. */
ow_fm_plan_t *ow_fm_plan_new(const ow_fm_t *map, int nstrings, int nmodules, int aux_points);
void ow_fm_plan_destroy(ow_fm_plan_t **plan);
int ow_fm_plan_nreqs(const ow_fm_plan_t *plan);
const ow_fm_req_t *ow_fm_plan_req(const ow_fm_plan_t *plan, int i);

/* The values of one cycle: val[q][idx] decoded (NAN: not read, or the device
 * said "not measured", or outside the wire's range for q), ok[q][idx] 1 if
 * its request was answered. */
typedef struct {
    double val[OW_FM_NQ][OW_FM_IDX];
    unsigned char ok[OW_FM_NQ][OW_FM_IDX];
    uint64_t out_of_range; /* this cycle: values outside the wire's range (read as NAN) */
} ow_fm_values_t;

void ow_fm_values_clear(ow_fm_values_t *v);
/* Decode the answer to request i: regs (FC 3/4) or bits (FC 1/2, one byte
 * per bit as libmodbus gives them), count as in the request. */
void ow_fm_plan_decode(const ow_fm_plan_t *plan, int i, const uint16_t *regs, const uint8_t *bits,
                       ow_fm_values_t *v);

/* Raw register(s) to a number, by type and word order (exposed for tests). */
double ow_fm_raw(ow_fm_type_t type, int low_word_first, const uint16_t *r);

/* Markdown reference of the map format and the quantities (docs/maps.md). */
int ow_fm_doc(FILE *out);

#endif
