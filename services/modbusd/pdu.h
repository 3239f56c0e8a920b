/* A Modbus request PDU answered against a gateway's register image: the
 * one place TCP (tcp.c), RTU (rtu.c), the fuzz target and the tests get an
 * answer from, so that each transport only frames it. */
#ifndef OW_MB_PDU_H
#define OW_MB_PDU_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h" /* OW_MB_PDU_MAX */
#include "regmap.h"

/* Answer one Modbus PDU (function code + data) against an image; writes the
 * response PDU (at most OW_MB_PDU_MAX bytes) into rsp and returns its
 * length. img NULL: unknown unit (exception 0B). */
size_t ow_mb_handle(const ow_mb_image_t *img, const uint8_t *pdu, size_t len, uint8_t *rsp);

/* Which image answers which unit id: modbusd's map and images, which a
 * reload updates in place (so the transports hold pointers, not copies). */
typedef struct {
    const int *unit_gw; /* 256 entries: unit id -> gateway index, -1 none */
    const ow_mb_image_t *img;
} ow_mb_units_t;

/* The image of unit, or NULL when no gateway answers under it. */
const ow_mb_image_t *ow_mb_unit_image(const ow_mb_units_t *u, uint8_t unit);

#endif
