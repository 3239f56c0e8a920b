/* ohmwatch-modbusd: the G.BMS Modbus map of every gateway over Modbus TCP. */
#ifndef OW_MODBUSD_H
#define OW_MODBUSD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "ow_config.h"
#include "frame.h"
#include "pdu.h" /* ow_mb_handle, for the fuzz target and tests */
#include "regmap.h"

#define OW_MB_ALLOW_MAX   32
#define OW_MB_CLIENTS_MAX 1024 /* largest max_clients */

/* The "services.modbusd" section of the site file (modbusd_keys.c). */
typedef struct {
    char listen[128];     /* "ADDR:PORT" as written, default 0.0.0.0:502 */
    uint32_t listen_addr; /* parsed (netparse.h): host order, 0 every address */
    uint16_t listen_port; /* 1..65535 */
    int idle_timeout_ms;  /* drop a client silent (or mid-frame) this long */
    int max_clients;
    ow_mb_scale_t scale;
    int nallow; /* 0 (no "allow" key): every client may connect, logged at start */
    uint32_t allow_net[OW_MB_ALLOW_MAX], allow_mask[OW_MB_ALLOW_MAX]; /* host order */
    char rtu_device[128];                                             /* "" : no RTU */
    int rtu_baud;
    char rtu_parity[2]; /* "N", "E", "O" */
    int unit_gw[256];   /* unit id -> gateway index, -1 none; default index + 1 */
} ow_modbusd_cfg_t;

int ow_site_modbusd(const ow_site_t *site, ow_modbusd_cfg_t *out, char *err, size_t errlen);
/* Its rows, and the section built from them; finish checks that an rtu
 * object names its device (exported so a test can build a section from
 * these rows plus its own). */
extern const ow_key_t ow_modbusd_keys[];
extern const size_t ow_modbusd_nkeys;
extern const ow_schema_section_t ow_modbusd_section;
int ow_modbusd_finish(ow_schema_ctx_t *c, const json_t *obj, void *base);
/* The settings table of docs/modbus.md, from the same rows. */
int ow_modbusd_doc_config(FILE *out);

typedef struct ow_modbusd ow_modbusd_t;
ow_modbusd_t *ow_modbusd_new(const char *site_path, char *err, size_t errlen);
/* Serves until *stop; *reload (SIGHUP) re-reads services.modbusd. */
int ow_modbusd_run(ow_modbusd_t *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);
void ow_modbusd_destroy(ow_modbusd_t **d);

#endif
