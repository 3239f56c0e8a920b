/* busd's field driver (see field.h). libmodbus is the client: it frames,
 * checks and times out each request; this file decides what to ask, what a
 * failure means and when to try again. */
#include "field.h"

#include <errno.h>
#include <math.h>
#include <modbus/modbus.h>
#include <stdlib.h>
#include <string.h>

#include "ow_clock.h"
#include "ow_log.h"

/* What went wrong with a request, for counting and for logging a change
 * only (a device that answers every cycle with the same exception would
 * otherwise fill the log). */
enum { R_OK = 0, R_EXCEPTION, R_MALFORMED, R_TIMEOUT, R_NOT_SENT };

struct ow_field {
    const ow_gateway_cfg_t *gw;
    ow_fm_t *map;
    ow_fm_plan_t *plan;
    modbus_t *ctx;
    char where[300]; /* "tcp host:port unit 1", for logs */
    int connected;
    int64_t next_try_us; /* monotonic: no connection attempt before */
    int backoff_ms;      /* 0 while the device answers */
    int down_logged;
    unsigned char *last; /* per request: its last outcome (R_*) */
    int last_errno;      /* per device: the errno that took it down */
    int reported_nmodules, reported_nstrings;
    uint16_t *regs;
    uint8_t *bits;
    ow_fm_values_t *v;
    /* Per module: bit k set if the map has modq[k] for it. Fixed by the map,
     * so worked out once rather than looked up for every module each cycle. */
    unsigned char modq_mapped[OW_MAX_MODULES + 1];
    double last_impc[OW_MAX_MODULES + 1]; /* raw impedance seen last, to mark fresh ones */
    uint64_t requests, exceptions, timeouts, malformed, out_of_range;
};

/* A module answered if every one of these that the map has was read. */
static const ow_fm_qty_t modq[] = {OW_FM_MOD_TEMP, OW_FM_MOD_VOLT, OW_FM_MOD_IMPC, OW_FM_MOD_FLAGS,
                                   OW_FM_MOD_EQ};
#define NMODQ ((int)(sizeof modq / sizeof modq[0]))

static const char *fc_name(int fc)
{
    static const char *const n[] = {"?", "FC01 coils", "FC02 inputs", "FC03 holding", "FC04 input"};
    return fc >= 1 && fc <= 4 ? n[fc] : n[0];
}

static int classify(int e)
{
    if (e > MODBUS_ENOBASE && e <= EMBXGTAR) return R_EXCEPTION;
    if (e >= EMBBADCRC && e <= EMBBADSLAVE) return R_MALFORMED;
    return R_TIMEOUT; /* ETIMEDOUT, or the connection broke */
}

static int map_path(const ow_site_t *site, const ow_gateway_cfg_t *gw, char *buf, size_t len,
                    const char **path)
{
    if (strcmp(gw->modbus.map, "gbms") == 0) {
        *path = "gbms";
        return 0;
    }
    *path = ow_site_path(site, gw->modbus.map, buf, len);
    return *path ? 0 : -1;
}

static ow_fm_t *load_fitting(const ow_site_t *site, const ow_gateway_cfg_t *gw, char *err,
                             size_t errlen)
{
    char buf[1024], why[300], kp[200];
    const char *path, *key;
    if (map_path(site, gw, buf, sizeof buf, &path) < 0) {
        snprintf(err, errlen, "gateway %s: modbus.map path too long", gw->id);
        return NULL;
    }
    ow_fm_t *m = ow_fm_load(path, err, errlen);
    if (!m) return NULL;
    if (ow_fm_fits(m, gw, &key, why, sizeof why) < 0) {
        snprintf(kp, sizeof kp, "gateways[%d].%s", (int)(gw - site->gateways), key);
        ow_jpos_error(site->positions, site->path, kp, err, errlen, "%s", why);
        ow_fm_destroy(&m);
    }
    return m;
}

int ow_field_check(const ow_site_t *site, const ow_gateway_cfg_t *gw, char *err, size_t errlen)
{
    /* libmodbus's own limits: 1-247 on a serial line (0 is broadcast, which
     * nobody answers), 0-247 or 255 over TCP. */
    int u = gw->modbus.unit, tcp = strcmp(gw->source, "modbus-tcp") == 0;
    if (tcp ? u > 247 && u != 255 : u < 1 || u > 247) {
        char kp[64];
        snprintf(kp, sizeof kp, "gateways[%d].modbus.unit", (int)(gw - site->gateways));
        ow_jpos_error(site->positions, site->path, kp, err, errlen, "%s",
                      tcp ? "must be 0-247 or 255 over TCP" : "must be 1-247 on a serial line");
        return -1;
    }
    ow_fm_t *m = load_fitting(site, gw, err, errlen);
    if (!m) return -1;
    ow_fm_destroy(&m);
    return 0;
}

ow_field_t *ow_field_new(const ow_site_t *site, const ow_gateway_cfg_t *gw, char *err,
                         size_t errlen)
{
    ow_field_t *f = calloc(1, sizeof *f);
    const ow_modbus_cfg_t *mc = &gw->modbus;
    char port[16];
    if (!f) goto oom;
    f->gw = gw;
    if (!(f->map = load_fitting(site, gw, err, errlen))) goto fail;
    f->plan = ow_fm_plan_new(f->map, gw->nstrings, gw->nmodules, gw->aux_units * 4);
    f->v = malloc(sizeof *f->v);
    f->regs = calloc(MODBUS_MAX_READ_REGISTERS, sizeof *f->regs);
    f->bits = calloc(MODBUS_MAX_READ_BITS, 1);
    if (!f->plan || !f->v || !f->regs || !f->bits) goto oom;
    f->last = calloc((size_t)ow_fm_plan_nreqs(f->plan) + 1, 1);
    if (!f->last) goto oom;
    if (strcmp(gw->source, "modbus-tcp") == 0) {
        snprintf(port, sizeof port, "%d", mc->port);
        f->ctx = modbus_new_tcp_pi(mc->host, port);
        snprintf(f->where, sizeof f->where, "tcp %s:%d unit %d", mc->host, mc->port, mc->unit);
    } else {
        f->ctx = modbus_new_rtu(mc->device, mc->baud, mc->parity[0], mc->data_bits, mc->stop_bits);
        snprintf(f->where, sizeof f->where, "rtu %s %d %d%s%d unit %d", mc->device, mc->baud,
                 mc->data_bits, mc->parity, mc->stop_bits, mc->unit);
    }
    if (!f->ctx) {
        snprintf(err, errlen, "gateway %s: %s: %s", gw->id, f->where, modbus_strerror(errno));
        goto fail;
    }
    if (modbus_set_slave(f->ctx, mc->unit) < 0) {
        snprintf(err, errlen, "gateway %s: unit %d: %s", gw->id, mc->unit, modbus_strerror(errno));
        goto fail;
    }
    modbus_set_response_timeout(f->ctx, (uint32_t)(mc->timeout_ms / 1000),
                                (uint32_t)(mc->timeout_ms % 1000) * 1000);
    for (int m = 0; m <= OW_MAX_MODULES; m++) {
        f->last_impc[m] = NAN;
        for (int k = 0; k < NMODQ; k++)
            if (ow_fm_has(f->map, modq[k], m)) f->modq_mapped[m] |= (unsigned char)(1u << k);
    }
    log_info("gateway %s: %s, map %s, %d request(s) per cycle", gw->id, f->where,
             ow_fm_name(f->map), ow_fm_plan_nreqs(f->plan));
    for (int i = 0; i < ow_fm_plan_nreqs(f->plan); i++) {
        const ow_fm_req_t *r = ow_fm_plan_req(f->plan, i);
        log_debug("request %d: %s %d-%d (%d values)", i + 1, fc_name(r->fc), r->addr,
                  r->addr + r->count - 1, r->n);
    }
    return f;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    ow_field_destroy(&f);
    return NULL;
}

void ow_field_destroy(ow_field_t **fp)
{
    ow_field_t *f = fp ? *fp : NULL;
    if (!f) return;
    if (f->ctx) {
        log_info("gateway %s: %llu requests, %llu exceptions, %llu timeouts, %llu malformed",
                 f->gw->id, (unsigned long long)f->requests, (unsigned long long)f->exceptions,
                 (unsigned long long)f->timeouts, (unsigned long long)f->malformed);
        if (f->connected) modbus_close(f->ctx);
        modbus_free(f->ctx);
    }
    ow_fm_plan_destroy(&f->plan);
    ow_fm_destroy(&f->map);
    free(f->v);
    free(f->regs);
    free(f->bits);
    free(f->last);
    free(f);
    *fp = NULL;
}

int ow_field_nreqs(const ow_field_t *f)
{
    return ow_fm_plan_nreqs(f->plan);
}

const ow_fm_req_t *ow_field_req(const ow_field_t *f, int i)
{
    return ow_fm_plan_req(f->plan, i);
}

/* The device stopped answering (or never did): drop the connection and wait
 * a poll period, then twice that, ... up to backoff_max_ms. */
static void went_down(ow_field_t *f, int e)
{
    if (f->connected) modbus_close(f->ctx);
    f->connected = 0;
    int period = f->gw->poll_ms;
    f->backoff_ms = f->backoff_ms ? f->backoff_ms * 2 : period;
    if (f->backoff_ms > f->gw->modbus.backoff_max_ms) f->backoff_ms = f->gw->modbus.backoff_max_ms;
    f->next_try_us = ow_mono_us() + (int64_t)f->backoff_ms * 1000;
    if (!f->down_logged || e != f->last_errno)
        log_warnx("gateway %s: %s not answering (%s); communication lost, next attempt in %d ms, "
                  "backing off to %d ms",
                  f->gw->id, f->where, modbus_strerror(e), f->backoff_ms,
                  f->gw->modbus.backoff_max_ms);
    else
        log_debug("gateway %s: still not answering, next attempt in %d ms", f->gw->id,
                  f->backoff_ms);
    f->down_logged = 1;
    f->last_errno = e;
}

static int read_req(ow_field_t *f, const ow_fm_req_t *r)
{
    switch (r->fc) {
    case 1:
        return modbus_read_bits(f->ctx, r->addr, r->count, f->bits);
    case 2:
        return modbus_read_input_bits(f->ctx, r->addr, r->count, f->bits);
    case 3:
        return modbus_read_registers(f->ctx, r->addr, r->count, f->regs);
    default:
        return modbus_read_input_registers(f->ctx, r->addr, r->count, f->regs);
    }
}

static void note(ow_field_t *f, int i, const ow_fm_req_t *r, int outcome, int e)
{
    if (outcome == f->last[i]) return;
    if (outcome == R_OK)
        log_info("gateway %s: %s %d-%d answered again", f->gw->id, fc_name(r->fc), r->addr,
                 r->addr + r->count - 1);
    else
        log_warnx("gateway %s: %s %d-%d (%d): %s%s", f->gw->id, fc_name(r->fc), r->addr,
                  r->addr + r->count - 1, r->count,
                  outcome == R_EXCEPTION ? "exception response: " : "", modbus_strerror(e));
    f->last[i] = (unsigned char)outcome;
}

/* Send every request of the plan; returns how many were answered, -1 if the
 * device went away (the rest were not sent). */
static int poll_device(ow_field_t *f, int *sent)
{
    int n = ow_fm_plan_nreqs(f->plan), answered = 0;
    for (int i = 0; i < n; i++) {
        const ow_fm_req_t *r = ow_fm_plan_req(f->plan, i);
        int outcome = R_OK, e = 0;
        for (int attempt = 0; attempt <= f->gw->modbus.retries; attempt++) {
            (*sent)++;
            f->requests++;
            int rc = read_req(f, r);
            if (rc == r->count) {
                outcome = R_OK;
                break;
            }
            e = rc < 0 ? errno : EMBMDATA; /* a short answer is malformed too */
            outcome = classify(e);
            if (outcome == R_EXCEPTION)
                break; /* the device answered: asking again changes nothing */
            if (outcome == R_MALFORMED)
                f->malformed++;
            else
                f->timeouts++;
            /* A late or garbled answer must not be taken for the next one. */
            modbus_flush(f->ctx);
        }
        if (outcome == R_EXCEPTION) f->exceptions++;
        note(f, i, r, outcome, e);
        if (outcome == R_OK) {
            ow_fm_plan_decode(f->plan, i, f->regs, f->bits, f->v);
            answered++;
        } else if (outcome == R_TIMEOUT) {
            for (int k = i + 1; k < n; k++)
                f->last[k] = R_NOT_SENT;
            went_down(f, e);
            return -1;
        }
    }
    return answered;
}

static double got(const ow_field_t *f, ow_fm_qty_t q, int idx)
{
    return f->v->ok[q][idx] ? f->v->val[q][idx] : NAN;
}

static void build(ow_field_t *f, ow_field_reading_t *out)
{
    const ow_gateway_cfg_t *gw = f->gw;
    uint16_t lost_mask = ow_fm_lost_mask(f->map);
    double sum[OW_MAX_STRINGS + 1] = {0};
    int answering[OW_MAX_STRINGS + 1] = {0};

    for (int s = 1; s <= gw->nstrings; s++) {
        for (int b = 1; b <= gw->strings[s - 1].modules; b++) {
            int m = gw->strings[s - 1].first_module + b - 1;
            ow_module_t *mo = &out->mod[m - 1];
            int ok = 1;
            for (int k = 0; k < NMODQ; k++)
                if ((f->modq_mapped[m] >> k & 1) && !f->v->ok[modq[k]][m]) ok = 0;
            if (ok && lost_mask && ((unsigned)got(f, OW_FM_MOD_FLAGS, m) & lost_mask)) ok = 0;
            *mo = (ow_module_t){s, m, b, NAN, NAN, NAN, NAN, 0};
            if (!ok) {
                mo->status = OW_MODST_NO_RESPONSE;
                continue;
            }
            mo->voltage_v = got(f, OW_FM_MOD_VOLT, m);
            mo->temp_c = got(f, OW_FM_MOD_TEMP, m);
            mo->impedance_mohm = got(f, OW_FM_MOD_IMPC, m);
            mo->eq_pct = got(f, OW_FM_MOD_EQ, m);
            if (mo->eq_pct > 0) mo->status |= OW_MODST_EQUALIZING;
            /* The map cannot say when the device measured the impedance; a
             * new value is a new measurement (an identical one is missed). */
            if (!isnan(mo->impedance_mohm) && mo->impedance_mohm != f->last_impc[m])
                mo->status |= OW_MODST_IMPC_FRESH;
            f->last_impc[m] = mo->impedance_mohm;
            if (!isnan(mo->voltage_v)) sum[s] += mo->voltage_v, answering[s]++;
        }
    }
    for (int s = 1; s <= gw->nstrings; s++) {
        ow_string_t *st = &out->str[s - 1];
        int n = gw->strings[s - 1].modules, lost = 0;
        for (int b = 0; b < n; b++)
            lost += (out->mod[gw->strings[s - 1].first_module - 1 + b].status &
                     OW_MODST_NO_RESPONSE) != 0;
        *st = (ow_string_t){s, n, lost, NAN, NAN, NAN, NAN, NAN, NAN};
        st->current_a = gw->current_sensor ? got(f, OW_FM_STR_CURRENT, s) : NAN;
        st->ac_current_a = got(f, OW_FM_STR_AC, s);
        /* null unless the map has it (the guide's register map does not) */
        st->ripple_v = got(f, OW_FM_STR_RIPPLE, s);
        /* The device's own string voltages where the map has them, else the
         * sum and average of the blocks that answered, as the wire says. */
        st->sum_voltage_v = ow_fm_has(f->map, OW_FM_STR_SUM, s) ? got(f, OW_FM_STR_SUM, s)
                            : answering[s]                      ? sum[s]
                                                                : NAN;
        st->avg_voltage_v = ow_fm_has(f->map, OW_FM_STR_AVG, s) ? got(f, OW_FM_STR_AVG, s)
                            : answering[s]                      ? sum[s] / answering[s]
                                                                : NAN;
    }

    ow_aux_t *a = &out->aux;
    *a = (ow_aux_t){NAN, NAN, NAN, gw->aux_units, 0, 0};
    out->aux_valid = 1;
    for (int i = 1; i <= gw->aux_units * 4; i++) {
        if (!f->v->ok[OW_FM_AUX_IN][i] || !f->v->ok[OW_FM_AUX_OUT][i]) out->aux_valid = 0;
        if (got(f, OW_FM_AUX_IN, i) != 0 && !isnan(got(f, OW_FM_AUX_IN, i)))
            a->inputs |= 1u << (i - 1);
        if (got(f, OW_FM_AUX_OUT, i) != 0 && !isnan(got(f, OW_FM_AUX_OUT, i)))
            a->outputs |= 1u << (i - 1);
    }
    if (gw->ambient_sensor) a->ambient_c = got(f, OW_FM_AMBIENT, 0);
    if (gw->ambient_sensor) a->humidity_pct = got(f, OW_FM_HUMIDITY, 0);
    if (gw->hydrogen_sensor) a->hydrogen_pct_lel = got(f, OW_FM_HYDROGEN, 0);
}

static uint32_t word(const ow_field_t *f, ow_fm_qty_t q)
{
    double x = got(f, q, 0);
    return isnan(x) ? 0 : (uint32_t)x;
}

/* The device's own view of its size, against the site file's: a mismatch is
 * worth a warning (each time it changes), not a refusal. */
static void check_size(ow_field_t *f, const ow_device_t *d)
{
    /* Read this cycle (ok) implies the map has it. */
    const struct {
        ow_fm_qty_t q;
        int reported, site, *seen;
        const char *what;
    } c[] = {
        {OW_FM_NMODULES, d->modules_reported, f->gw->nmodules, &f->reported_nmodules, "modules"},
        {OW_FM_NSTRINGS, d->strings_reported, f->gw->nstrings, &f->reported_nstrings, "strings"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        if (!f->v->ok[c[i].q][0] || c[i].reported == *c[i].seen) continue;
        if (c[i].reported != c[i].site)
            log_warnx("gateway %s: the device reports %d %s, the site file has %d", f->gw->id,
                      c[i].reported, c[i].what, c[i].site);
        *c[i].seen = c[i].reported;
    }
}

void ow_field_poll(ow_field_t *f, ow_field_reading_t *out)
{
    int sent = 0, answered = -1;
    ow_fm_values_clear(f->v);
    if (!f->connected && ow_mono_us() >= f->next_try_us) {
        if (modbus_connect(f->ctx) == 0) {
            f->connected = 1;
        } else {
            f->timeouts++;
            went_down(f, errno);
        }
    }
    if (f->connected) answered = poll_device(f, &sent);
    if (answered > 0 && f->down_logged) {
        log_info("gateway %s: %s answers again; communication restored", f->gw->id, f->where);
        f->down_logged = 0;
    }
    if (answered > 0) f->backoff_ms = 0;
    if (f->v->out_of_range)
        log_debug("gateway %s: %llu value(s) outside their range this cycle", f->gw->id,
                  (unsigned long long)f->v->out_of_range);
    f->out_of_range += f->v->out_of_range;
    build(f, out);

    ow_device_t *d = &out->dev;
    memset(d, 0, sizeof *d);
    int n = ow_fm_plan_nreqs(f->plan);
    snprintf(d->link, sizeof d->link, "%s",
             answered == n  ? "up"
             : answered > 0 ? "partial"
                            : "down");
    d->general = word(f, OW_FM_GENERAL);
    d->battery = word(f, OW_FM_BATTERY);
    d->alarm = word(f, OW_FM_ALARM);
    d->strings_reported = (int)word(f, OW_FM_NSTRINGS);
    d->modules_reported = (int)word(f, OW_FM_NMODULES);
    d->cycle_requests = sent;
    d->requests = f->requests;
    d->exceptions = f->exceptions;
    d->timeouts = f->timeouts;
    d->malformed = f->malformed;
    d->out_of_range = f->out_of_range;
    if (answered > 0 && ow_fm_has(f->map, OW_FM_MOD_FLAGS, -1)) {
        d->nmodules = f->gw->nmodules;
        for (int m = 1; m <= d->nmodules; m++)
            d->module_flags[m - 1] = (uint16_t)(isnan(got(f, OW_FM_MOD_FLAGS, m))
                                                    ? 0
                                                    : (uint16_t)got(f, OW_FM_MOD_FLAGS, m));
    }
    check_size(f, d);
}
