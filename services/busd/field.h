/* busd's field driver: polls one device (a G.BMS/BACS webmanager or another
 * monitor) over Modbus TCP or RTU with libmodbus, through its register map
 * (fieldmap.h), and turns each cycle into the readings the simulator would
 * give: a module that was not read is "no response" with null values, never
 * last cycle's numbers. Requests time out, are retried, and a device that
 * stops answering is reconnected with exponential backoff. */
#ifndef OW_FIELD_H
#define OW_FIELD_H

#include "fieldmap.h"
#include "ow_config.h"
#include "ow_proto.h"

typedef struct ow_field ow_field_t;

/* One cycle's readings, in the wire's structures. */
typedef struct {
    ow_module_t mod[OW_MAX_MODULES]; /* gw->nmodules of them, by module address */
    ow_string_t str[OW_MAX_STRINGS]; /* gw->nstrings */
    ow_aux_t aux;
    int aux_valid; /* 0: a GX_R_AUX request failed, publish no aux this cycle */
    ow_device_t dev;
} ow_field_reading_t;

/* Load the gateway's map (relative to the site file) and check the gateway
 * fits it: 0, or -1 with "FILE:LINE:COL: KEY: reason" (of the map file, or of
 * the site file for a gateway that does not fit). What `-n` runs. */
int ow_field_check(const ow_site_t *site, const ow_gateway_cfg_t *gw, char *err, size_t errlen);

/* The driver for gw (source modbus-tcp or modbus-rtu); does not connect yet.
 * NULL with the reason in err. */
ow_field_t *ow_field_new(const ow_site_t *site, const ow_gateway_cfg_t *gw, char *err,
                         size_t errlen);
void ow_field_destroy(ow_field_t **f);

/* One poll cycle: (re)connect if it is time, send the plan's requests, decode.
 * Fills out completely; never blocks longer than the requests' timeouts and
 * retries. */
void ow_field_poll(ow_field_t *f, ow_field_reading_t *out);

int ow_field_nreqs(const ow_field_t *f); /* requests per cycle when all goes well */
const ow_fm_req_t *ow_field_req(const ow_field_t *f, int i); /* NULL past the end */

#endif
