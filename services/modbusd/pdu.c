/* Request handling (pdu.h): one table of function codes. */
#include "pdu.h"

#include "frame.h"

static size_t exc(uint8_t fc, uint8_t code, uint8_t *rsp)
{
    rsp[0] = fc | 0x80;
    rsp[1] = code;
    return 2;
}

/* A request frame.c has checked (ow_mb_check_pdu): count is 1..125. */
static size_t read_regs(const ow_mb_image_t *img, const ow_mb_req_t *q, uint8_t *rsp)
{
    uint16_t regs[125];
    int count = q->count;
    int e = ow_mb_read(img, q->addr, count, regs);
    if (e) return exc(q->fc, (uint8_t)e, rsp);
    rsp[0] = q->fc;
    rsp[1] = (uint8_t)(count * 2);
    for (int i = 0; i < count; i++) {
        rsp[2 + 2 * i] = (uint8_t)(regs[i] >> 8);
        rsp[3 + 2 * i] = (uint8_t)regs[i];
    }
    return 2 + 2 * (size_t)count;
}

static const struct {
    uint8_t fc;
    size_t (*fn)(const ow_mb_image_t *, const ow_mb_req_t *, uint8_t *);
} handlers[] = {
    {.fc = 0x03, .fn = read_regs}, /* read holding registers */
    {.fc = 0x04, .fn = read_regs}, /* read input registers: the same map */
};

size_t ow_mb_handle(const ow_mb_image_t *img, const uint8_t *pdu, size_t len, uint8_t *rsp)
{
    ow_mb_req_t q;
    int e = ow_mb_check_pdu(pdu, len, &q);
    /* Function not served first (01), then the unit (0B), then the shape. */
    if (e == 1) return exc(q.fc, 1, rsp);
    if (!img) return exc(q.fc, 0x0B, rsp);
    if (e) return exc(q.fc, (uint8_t)e, rsp);
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (handlers[i].fc == q.fc) return handlers[i].fn(img, &q, rsp);
    return exc(q.fc, 1, rsp); /* frame.c's table and this one disagree */
}

const ow_mb_image_t *ow_mb_unit_image(const ow_mb_units_t *u, uint8_t unit)
{
    int gi = u && u->unit_gw ? u->unit_gw[unit] : -1;
    return gi >= 0 ? &u->img[gi] : NULL;
}
