/* The G.BMS webmanager's Modbus read register map (user guide, "Modbus Read
 * Registers") as one table, and the register image of one gateway that the
 * table's encoders fill from ohmwatch messages. The server, the docs
 * (docs/modbus.md) and the unit test all walk the same table. */
#ifndef OW_REGMAP_H
#define OW_REGMAP_H

#include <stdint.h>
#include <stdio.h>

#include "ow_proto.h"

#define OW_MB_FIRST 1000
#define OW_MB_LAST  3681
#define OW_MB_REGS  (OW_MB_LAST - OW_MB_FIRST + 1)
/* Modules 331..512 live in the secondary section; see regmap.c for why 512. */
#define OW_MB_MODULES 512

/* Scales of the string registers, which the guide leaves open: register =
 * round(value * scale). Configurable in services.modbusd.scale. */
typedef struct {
    double string_current; /* default 10: 0.1 A */
    double string_sum_v;   /* default 10: 0.1 V */
    double string_avg_v;   /* default 1000: 1 mV */
    double string_ac;      /* default 10: 0.1 A */
} ow_mb_scale_t;

void ow_mb_scale_default(ow_mb_scale_t *s);

/* One contiguous section of the map. */
typedef struct {
    int first, last;  /* inclusive register addresses */
    const char *name; /* for docs and logs */
    const char *what; /* layout, scales */
} ow_mb_section_t;

extern const ow_mb_section_t ow_mb_sections[];
extern const int ow_mb_nsections;

/* 1 if addr is in a section (reserved registers inside a section count). */
int ow_mb_mapped(int addr);

typedef struct {
    uint16_t r[OW_MB_REGS];
    ow_mb_scale_t scale;
} ow_mb_image_t;

void ow_mb_image_init(ow_mb_image_t *img, const ow_mb_scale_t *scale, int nstrings, int nmodules);
/* Fold one message (module, string, aux, state) into the image; 1 if it
 * changed something, 0 if the kind does not feed the map. */
int ow_mb_apply(ow_mb_image_t *img, const ow_msg_t *m);
/* Register address of a module's first register (TEMP), -1 if out of range. */
int ow_mb_module_base(int module);
/* Register address of a string's first register, -1 if out of range. */
int ow_mb_string_base(int string);
/* Value clamped to the 16-bit range: signed (-32768..32767, stored as two's
 * complement) or unsigned (0..65535). NAN reads 0. */
uint16_t ow_mb_clamp(double v, int is_signed);
/* Read count registers from addr: 0, or a Modbus exception code (2). */
int ow_mb_read(const ow_mb_image_t *img, int addr, int count, uint16_t *out);

/* Markdown reference of the map (docs/modbus.md). */
int ow_mb_doc(FILE *out);

#endif
