/* The batch of rows waiting for a flush (batch.h): messages checked against
 * the column types and copied into one growing array per table, gateway
 * names interned so that a row carries a 16-bit index. */
#include "batch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

#define TS_MIN_US (-62135596800000000LL) /* 0001-01-01: the formatter writes 4-digit years */
#define TS_MAX_US 253402300799999999LL   /* 9999-12-31 23:59:59.999999 */

/* ---- batches ---- */

/* v with room for element n (doubled when full), or NULL when out of memory
 * (v is then left as it was). */
static void *vec_room(void *v, size_t n, size_t *cap, size_t size)
{
    if (n < *cap) return v;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *nv = realloc(v, ncap * size);
    if (nv) *cap = ncap;
    return nv;
}

/* A new slot at the end of a VEC, or NULL when out of memory. */
#define PUSH(vec)                                                                                  \
    __extension__({                                                                                \
        __typeof__((vec).v) nv_ = vec_room((vec).v, (vec).n, &(vec).cap, sizeof *(vec).v);         \
        nv_ ? ((vec).v = nv_, &nv_[(vec).n++]) : NULL;                                             \
    })

static int gw_index(ow_batch_t *b, const char *gw)
{
    if (b->last_gw < b->gws.n && strncmp(b->gws.v[b->last_gw].id, gw, OW_ID_MAX) == 0)
        return b->last_gw;
    for (size_t i = 0; i < b->gws.n; i++)
        if (strncmp(b->gws.v[i].id, gw, OW_ID_MAX) == 0) return b->last_gw = (uint16_t)i;
    if (b->gws.n >= UINT16_MAX) return -1;
    gw_name_t *g = PUSH(b->gws);
    if (!g) return -1;
    /* Kept byte for byte for the lookup; the stored form is sanitized. */
    size_t len = strnlen(gw, OW_ID_MAX - 1);
    memcpy(g->id, gw, len);
    g->id[len] = '\0';
    char clean[OW_ID_MAX];
    ow_dbfmt_utf8(clean, sizeof clean, gw, OW_ID_MAX);
    g->esc_len = (size_t)(ow_dbfmt_text(g->esc, clean) - g->esc);
    return b->last_gw = (uint16_t)(b->gws.n - 1);
}

ow_batch_t *ow_batch_new(void)
{
    return calloc(1, sizeof(ow_batch_t));
}

void ow_batch_destroy(ow_batch_t **bp)
{
    if (!bp || !*bp) return;
    ow_batch_t *b = *bp;
    free(b->gws.v);
    free(b->mod.v);
    free(b->str.v);
    free(b->aux.v);
    free(b->alarm.v);
    free(b->state.v);
    free(b->dis.v);
    free(b->base.v);
    free(b->cfg.v);
    free(b->dev.v);
    free(b->pos.v);
    free(b);
    *bp = NULL;
}

static int fits16(int v)
{
    return v >= INT16_MIN && v <= INT16_MAX;
}

static int ts_ok(int64_t us)
{
    return us >= TS_MIN_US && us <= TS_MAX_US;
}

static int id_ok(uint64_t v)
{
    return v <= (uint64_t)INT64_MAX; /* bigint */
}

/* 1 if m is a kind the historian stores and its header fits the columns:
 * the timestamp always, epoch and seq for readings (events have no such
 * columns). */
static int header_fits(const ow_msg_t *m)
{
    const ow_hdr_t *h = &m->h;
    switch (m->kind) {
    case OW_MSG_MODULE:
    case OW_MSG_STRING:
    case OW_MSG_AUX:
        if (!id_ok(h->epoch) || !id_ok(h->seq)) return 0;
        /* fallthrough */
    case OW_MSG_ALARM:
    case OW_MSG_STATE:
    case OW_MSG_DISCHARGE:
    case OW_MSG_BASELINE:
    case OW_MSG_CONFIG:
    case OW_MSG_DEVICE:
        return ts_ok(h->ts_us);
    default:
        return 0;
    }
}

/* Messages whose fields do not fit the columns are refused here rather than
 * failing the whole batch at COMMIT time again and again (the decoder
 * already checks the documented ranges; this guards the column types). */
int ow_batch_add(ow_batch_t *b, const ow_msg_t *m)
{
    const ow_hdr_t *h = &m->h;
    if (!header_fits(m)) return 0;
    int gi = gw_index(b, h->gw);
    if (gi < 0) return -1;
    uint16_t g = (uint16_t)gi;

    switch (m->kind) {
    case OW_MSG_MODULE: {
        const ow_module_t *x = &m->u.module;
        if (!fits16(x->string) || !fits16(x->module) || !fits16(x->block)) return 0;
        mod_row_t *r = PUSH(b->mod);
        if (!r) return -1;
        *r = (mod_row_t){.ts_us = h->ts_us,
                         .epoch = h->epoch,
                         .seq = h->seq,
                         .gw = g,
                         .string = (int16_t)x->string,
                         .module = (int16_t)x->module,
                         .block = (int16_t)x->block,
                         .status = x->status,
                         .voltage_v = x->voltage_v,
                         .temp_c = x->temp_c,
                         .impedance_mohm = x->impedance_mohm,
                         .eq_pct = x->eq_pct};
        return 1;
    }
    case OW_MSG_STRING: {
        const ow_string_t *x = &m->u.string;
        if (!fits16(x->string) || !fits16(x->modules) || !fits16(x->modules_lost)) return 0;
        str_row_t *r = PUSH(b->str);
        if (!r) return -1;
        *r = (str_row_t){.ts_us = h->ts_us,
                         .epoch = h->epoch,
                         .seq = h->seq,
                         .gw = g,
                         .string = (int16_t)x->string,
                         .modules = (int16_t)x->modules,
                         .modules_lost = (int16_t)x->modules_lost,
                         .current_a = x->current_a,
                         .ac_current_a = x->ac_current_a,
                         .sum_voltage_v = x->sum_voltage_v,
                         .avg_voltage_v = x->avg_voltage_v,
                         .power_kw = x->power_kw,
                         .ripple_v = x->ripple_v};
        return 1;
    }
    case OW_MSG_AUX: {
        const ow_aux_t *x = &m->u.aux;
        if (!fits16(x->aux_units)) return 0;
        aux_row_t *r = PUSH(b->aux);
        if (!r) return -1;
        *r = (aux_row_t){.ts_us = h->ts_us,
                         .epoch = h->epoch,
                         .seq = h->seq,
                         .gw = g,
                         .aux_units = (int16_t)x->aux_units,
                         .inputs = x->inputs,
                         .outputs = x->outputs,
                         .ambient_c = x->ambient_c,
                         .humidity_pct = x->humidity_pct,
                         .hydrogen_pct_lel = x->hydrogen_pct_lel};
        return 1;
    }
    case OW_MSG_ALARM: {
        const ow_alarm_t *x = &m->u.alarm;
        if (!id_ok(x->id) || !fits16(x->severity) || !fits16(x->string) || !fits16(x->module) ||
            !ts_ok(x->raised_us) || (x->cleared_us && !ts_ok(x->cleared_us)))
            return 0;
        alarm_row_t *r = PUSH(b->alarm);
        if (!r) return -1;
        r->ts_us = h->ts_us;
        r->gw = g;
        r->a = *x;
        ow_dbfmt_utf8(r->a.action, sizeof r->a.action, x->action, sizeof x->action);
        ow_dbfmt_utf8(r->a.text, sizeof r->a.text, x->text, sizeof x->text);
        return 1;
    }
    case OW_MSG_STATE: {
        const ow_state_t *x = &m->u.state;
        state_row_t *r = PUSH(b->state);
        if (!r) return -1;
        *r = (state_row_t){.ts_us = h->ts_us,
                           .gw = g,
                           .general = x->general,
                           .battery = x->battery,
                           .alarm = x->alarm,
                           .alarms_active = x->alarms_active,
                           .module_alarms = x->module_alarms,
                           .module_warnings = x->module_warnings,
                           .audible = x->audible};
        return 1;
    }
    case OW_MSG_DISCHARGE: {
        const ow_discharge_t *x = &m->u.discharge;
        if (!fits16(x->string) || !fits16(x->min_module) || !ts_ok(x->start_us) ||
            (x->end_us && !ts_ok(x->end_us)))
            return 0;
        dis_row_t *r = PUSH(b->dis);
        if (!r) return -1;
        r->gw = g;
        r->d = *x;
        ow_dbfmt_utf8(r->d.action, sizeof r->d.action, x->action, sizeof x->action);
        ow_dbfmt_utf8(r->d.mode, sizeof r->d.mode, x->mode, sizeof x->mode);
        return 1;
    }
    case OW_MSG_BASELINE: {
        const ow_baseline_t *x = &m->u.baseline;
        if (!fits16(x->string) || !fits16(x->module)) return 0;
        base_row_t *r = PUSH(b->base);
        if (!r) return -1;
        r->ts_us = h->ts_us;
        r->gw = g;
        r->b = *x;
        if (!ts_ok(r->b.alarm_at_us)) r->b.alarm_at_us = 0; /* a projection beyond any date */
        return 1;
    }
    case OW_MSG_CONFIG: {
        const ow_config_t *x = &m->u.config;
        cfg_row_t *r = PUSH(b->cfg);
        if (!r) return -1;
        r->ts_us = h->ts_us;
        r->gw = g;
        r->c = *x;
        ow_dbfmt_utf8(r->c.key, sizeof r->c.key, x->key, sizeof x->key);
        ow_dbfmt_utf8(r->c.source, sizeof r->c.source, x->source, sizeof x->source);
        ow_dbfmt_utf8(r->c.who, sizeof r->c.who, x->who, sizeof x->who);
        ow_dbfmt_utf8(r->c.old, sizeof r->c.old, x->old, sizeof x->old);
        ow_dbfmt_utf8(r->c.new_, sizeof r->c.new_, x->new_, sizeof x->new_);
        return 1;
    }
    case OW_MSG_DEVICE: {
        /* Every one is held: whether it makes a row is decided at the write
         * against what the connection last saw (devflags.c), so that the
         * spool's drain and the live path decide alike. */
        const ow_device_t *x = &m->u.device;
        if (x->nmodules < 0 || x->nmodules > OW_MAX_MODULES || !fits16(x->strings_reported) ||
            !fits16(x->modules_reported))
            return 0;
        dev_row_t *r = PUSH(b->dev);
        if (!r) return -1;
        r->ts_us = h->ts_us;
        r->gw = g;
        r->d = *x;
        ow_dbfmt_utf8(r->d.link, sizeof r->d.link, x->link, sizeof x->link);
        return 1;
    }
    default:
        return 0;
    }
}

void ow_batch_position(ow_batch_t *b, const char *pub, uint64_t epoch, uint64_t seq)
{
    for (size_t i = 0; i < b->pos.n; i++) {
        if (strncmp(b->pos.v[i].pub, pub, OW_ID_MAX) == 0) {
            b->pos.v[i].epoch = epoch;
            b->pos.v[i].seq = seq;
            return;
        }
    }
    pos_t *p = PUSH(b->pos);
    if (!p) return; /* the position is committed with a later batch */
    size_t len = strnlen(pub, OW_ID_MAX - 1);
    memcpy(p->pub, pub, len);
    p->pub[len] = '\0';
    p->epoch = epoch;
    p->seq = seq;
}

size_t ow_batch_rows(const ow_batch_t *b)
{
    return b->mod.n + b->str.n + b->aux.n + b->alarm.n + b->state.n + b->dis.n + b->base.n +
           b->cfg.n + b->dev.n;
}

void ow_batch_clear(ow_batch_t *b)
{
    b->gws.n = b->mod.n = b->str.n = b->aux.n = 0;
    b->alarm.n = b->state.n = b->dis.n = b->base.n = b->cfg.n = b->dev.n = b->pos.n = 0;
    b->last_gw = 0;
}
