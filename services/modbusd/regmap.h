/* The G.BMS webmanager's Modbus read register map (user guide, "Modbus Read
 * Registers") as two tables, its sections and the registers of each
 * section's block, and the register image of one gateway that the encoders
 * fill from ohmwatch messages by walking the register rows. The server, the
 * docs (docs/modbus.md) and the unit test all walk the same tables. */
#ifndef OW_REGMAP_H
#define OW_REGMAP_H

#include <stddef.h>
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

/* The registers a block can hold, one row each (ow_mb_regs). */
typedef enum {
    OW_MB_REG_GENERAL_STATUS,
    OW_MB_REG_BATTERY_STATUS,
    OW_MB_REG_ALARM_FLAGS,
    OW_MB_REG_NUM_STRINGS,
    OW_MB_REG_NUM_MODULES,
    OW_MB_REG_STR_CURRENT,
    OW_MB_REG_STR_SUM_V,
    OW_MB_REG_STR_AVG_V,
    OW_MB_REG_STR_AC,
    OW_MB_REG_STR_RESERVED_1, /* strings 11-16: no sum voltage */
    OW_MB_REG_STR_RESERVED_2, /* strings 11-16: no average voltage */
    OW_MB_REG_STR_RESERVED_4,
    OW_MB_REG_MOD_TEMP,
    OW_MB_REG_MOD_VOLT,
    OW_MB_REG_MOD_IMPC,
    OW_MB_REG_MOD_ALARM,
    OW_MB_REG_MOD_EQ,
    OW_MB_REG_AUX_INPUT,
    OW_MB_REG_AUX_OUTPUT,
    OW_MB_NREGS
} ow_mb_reg_id_t;

/* The sections of the map, in address order. Each repeats a block (its
 * layout: a register row per offset) once per item (module, string,
 * GX_R_AUX point); the general section is one block of one item. */
typedef enum {
    OW_MB_SEC_GENERAL,
    OW_MB_SEC_STRINGS_1_10,
    OW_MB_SEC_MODULES_1_330,
    OW_MB_SEC_STRINGS_11_16,
    OW_MB_SEC_MODULES_331_512,
    OW_MB_SEC_AUX_INPUTS,
    OW_MB_SEC_AUX_OUTPUTS,
    OW_MB_NSECTIONS
} ow_mb_sec_t;

/* What a section's items are, so a message finds its block. */
typedef enum {
    OW_MB_PER_GATEWAY, /* one block for the whole gateway */
    OW_MB_PER_STRING,  /* item = string number */
    OW_MB_PER_MODULE,  /* item = module address */
    OW_MB_PER_POINT,   /* item = GX_R_AUX point 4*(u-1)+i, 1..16 */
} ow_mb_per_t;

typedef struct {
    const char *name;             /* for docs and logs */
    ow_mb_per_t per;              /* what the items are */
    int first;                    /* address of the first item's block */
    int first_item;               /* number of the first item (1, 11, 331) */
    int nitems;                   /* items in the section */
    const ow_mb_reg_id_t *layout; /* the block: its register at each offset */
    int stride;                   /* registers per item: the layout's length */
    const char *guide;            /* the guide's heading for it */
    const char *what;             /* layout, scales (the docs' section table) */
} ow_mb_section_t;

extern const ow_mb_section_t ow_mb_sections[];
extern const int ow_mb_nsections;
/* Last register address of a section (inclusive). */
int ow_mb_section_last(const ow_mb_section_t *s);

/* How a register's value is made. */
typedef enum {
    OW_MB_ENC_RESERVED, /* always 0 */
    OW_MB_ENC_NSTRINGS, /* the configured number of strings, set by ow_mb_image_init */
    OW_MB_ENC_NMODULES, /* the configured number of modules, set by ow_mb_image_init */
    OW_MB_ENC_VALUE,    /* round(x * scale + bias) of the double at src, clamped */
    OW_MB_ENC_WORD,     /* the 32-bit flag word at src, low 16 bits */
    OW_MB_ENC_ALARM,    /* module ALARM: alarmd's module_flags, Communication lost from readings */
    OW_MB_ENC_BIT,      /* bit (item - 1) of the 32-bit mask at src: 1 or 0 */
} ow_mb_enc_t;

typedef struct {
    const char *name;    /* the guide's name; %d is item + name_bias */
    int name_bias;       /* the guide counts GX_R_AUX points from 0 */
    const char *unit;    /* the guide's unit of measure, "" if none */
    const char *meaning; /* the guide's description, formula or factor */
    ow_mb_enc_t enc;
    int kind;              /* the message kind (OW_MSG_*) that feeds it (VALUE, WORD, BIT, ALARM) */
    size_t src;            /* offset of its field in that kind's payload */
    double scale;          /* fixed scale (ENC_VALUE) */
    double bias;           /* added after scaling (TEMP: 78) */
    const char *scale_key; /* non-NULL: the scale is this services.modbusd.scale key */
    size_t scale_off;      /* and its offsetof(ow_mb_scale_t, ...) */
    int is_signed;         /* clamp to -32768..32767 (two's complement), else 0..65535 */
    int no_reading;        /* a module value: OW_MB_NO_READING when there is none (regmap.c) */
} ow_mb_reg_t;

extern const ow_mb_reg_t ow_mb_regs[];
extern const int ow_mb_nregs;

/* 1 if addr is in a section (reserved registers inside a section count). */
int ow_mb_mapped(int addr);
/* Address of a register for one item (module, string, point; 1 for the
 * general section), -1 if no section holds that item with that register. */
int ow_mb_addr(ow_mb_reg_id_t reg, int item);
/* The row and item of an address: the row, or NULL if addr is not mapped. */
const ow_mb_reg_t *ow_mb_at(int addr, int *item, const ow_mb_section_t **sec);
/* The guide's name of a register for one item ("MODULE_331_TEMP"). */
void ow_mb_reg_name(const ow_mb_reg_t *r, int item, char *buf, size_t len);

/* What a module's TEMP, VOLT, IMPC and equalizing registers read when it
 * has no value: not read yet, not answering, or that value not measured.
 * -32768 as the guide's signed 16-bit, which no reading encodes to (they
 * clamp to -32767..32767); see regmap.c for why. */
#define OW_MB_NO_READING 0x8000u

typedef struct {
    uint16_t r[OW_MB_REGS];
    ow_mb_scale_t scale;
    /* 1: the module's latest reading says it did not answer, or it has none
     * yet. Its ALARM register's Communication lost follows this, not
     * alarmd's word, which lags by comm_lost_polls. */
    uint8_t silent[OW_MB_MODULES + 1];
    int nstrings, nmodules; /* as configured, for ow_mb_image_quiet */
} ow_mb_image_t;

void ow_mb_image_init(ow_mb_image_t *img, const ow_mb_scale_t *scale, int nstrings, int nmodules);
/* Fold one message (module, string, aux, state) into the image; 1 if it
 * changed something, 0 if the kind does not feed the map. */
int ow_mb_apply(ow_mb_image_t *img, const ow_msg_t *m);
/* The gateway's busd has gone quiet (lib/ow_quiet.h): every module reads as
 * not answering (no reading, Communication lost) and every string value as
 * unmeasured, until its readings come again; the flag words stay alarmd's. */
void ow_mb_image_quiet(ow_mb_image_t *img);
/* Register address of a module's first register (TEMP), -1 if out of range. */
int ow_mb_module_base(int module);
/* Register address of a string's first register, -1 if out of range. */
int ow_mb_string_base(int string);
/* Value clamped to the 16-bit range: signed (-32768..32767, stored as two's
 * complement) or unsigned (0..65535). NAN reads 0. */
uint16_t ow_mb_clamp(double v, int is_signed);
/* Read count registers from addr: 0, or a Modbus exception code (2: a
 * register outside OW_MB_FIRST..OW_MB_LAST; reserved ones inside read 0). */
int ow_mb_read(const ow_mb_image_t *img, int addr, int count, uint16_t *out);

/* Markdown reference of the map (docs/modbus.md). */
int ow_mb_doc(FILE *out);

#endif
