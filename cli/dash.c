/* See dash.h. */
#include "dash.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ow_clock.h"
#include "ow_gbms.h"

#define MAX_ACTIVE 256

typedef struct {
    ow_module_t mod[OW_MAX_MODULES + 1]; /* by module address */
    ow_alarm_t active[MAX_ACTIVE];       /* from alarmd: snapshot, then events */
    int nactive;
    ow_state_t state;
    int have_state;
    int have_mod[OW_MAX_MODULES + 1];
    ow_string_t str[OW_MAX_STRINGS + 1];
    int have_str[OW_MAX_STRINGS + 1];
    ow_aux_t aux;
    int have_aux;
    ow_heartbeat_t hb;
    int cycles_seen;
    int64_t ts_us;
    ow_discharge_t dis[OW_MAX_STRINGS + 1]; /* from alarmd: the discharge under way */
    int have_dis[OW_MAX_STRINGS + 1];
} gw_view_t;

struct ow_dash {
    const ow_site_t *site;
    const char *filter;
    gw_view_t *views; /* one per site gateway */
};

ow_dash_t *ow_dash_new(const ow_site_t *site, const char *gw_filter)
{
    ow_dash_t *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->site = site;
    d->filter = gw_filter;
    d->views = calloc((size_t)site->ngateways, sizeof *d->views);
    if (!d->views) {
        free(d);
        return NULL;
    }
    return d;
}

void ow_dash_destroy(ow_dash_t **dp)
{
    if (!*dp) return;
    free((*dp)->views);
    free(*dp);
    *dp = NULL;
}

static int shown(const ow_dash_t *d, int i)
{
    return !d->filter || strcmp(d->filter, d->site->gateways[i].id) == 0;
}

int ow_dash_update(ow_dash_t *d, const ow_msg_t *m)
{
    int i;
    gw_view_t *v;
    for (i = 0; i < d->site->ngateways; i++)
        if (strcmp(d->site->gateways[i].id, m->h.gw) == 0) break;
    if (i == d->site->ngateways || !shown(d, i)) return 0;
    v = &d->views[i];
    switch (m->kind) {
    case OW_MSG_MODULE:
        v->mod[m->u.module.module] = m->u.module;
        v->have_mod[m->u.module.module] = 1;
        v->ts_us = m->h.ts_us;
        break;
    case OW_MSG_STRING:
        v->str[m->u.string.string] = m->u.string;
        v->have_str[m->u.string.string] = 1;
        break;
    case OW_MSG_AUX:
        v->aux = m->u.aux;
        v->have_aux = 1;
        break;
    case OW_MSG_STATE:
        v->state = m->u.state;
        v->have_state = 1;
        break;
    case OW_MSG_ALARM: {
        const ow_alarm_t *a = &m->u.alarm;
        int k;
        for (k = 0; k < v->nactive && v->active[k].id != a->id; k++)
            ;
        if (strcmp(a->action, "clear") == 0) {
            if (k < v->nactive) v->active[k] = v->active[--v->nactive];
        } else if (k == v->nactive && v->nactive < MAX_ACTIVE && strcmp(a->action, "raise") == 0) {
            v->active[v->nactive++] = *a;
        }
        break;
    }
    case OW_MSG_DISCHARGE: {
        int s = m->u.discharge.string;
        if (s < 1 || s > OW_MAX_STRINGS) break;
        v->dis[s] = m->u.discharge;
        v->have_dis[s] = strcmp(m->u.discharge.action, "end") != 0;
        break;
    }
    case OW_MSG_HEARTBEAT:
        v->hb = m->u.heartbeat;
        /* A "running" heartbeat closes a cycle; count only cycles whose
         * readings we saw from the start. */
        if (strcmp(m->u.heartbeat.state, "running") == 0 && v->have_str[1]) {
            v->cycles_seen++;
            return 1;
        }
        break;
    default:
        break;
    }
    return 0;
}

int ow_dash_complete(const ow_dash_t *d)
{
    for (int i = 0; i < d->site->ngateways; i++)
        if (shown(d, i) && d->views[i].cycles_seen == 0) return 0;
    return 1;
}

/* Short names of the active alarms of one module (module > 0), of one
 * string's own alarms (string > 0), or of the gateway's (both 0). */
static int alarm_names(const gw_view_t *v, int module, int string, char *buf, size_t len)
{
    size_t n = 0;
    int found = 0;
    buf[0] = '\0';
    for (int i = 0; i < v->nactive; i++) {
        const ow_alarm_t *a = &v->active[i];
        const gbms_alarm_t *c = gbms_alarm_find(a->type);
        int mine = module   ? (c && c->scope == GBMS_SCOPE_MODULE && a->module == module)
                   : string ? (c && c->scope == GBMS_SCOPE_STRING && a->string == string)
                            : (!c || c->scope == GBMS_SCOPE_GATEWAY);
        if (!mine || n + 2 >= len) continue;
        const char *name = c ? c->name : "alarm";
        if (strncmp(name, "bacsAlarm", 9) == 0)
            name += 9;
        else if (strncmp(name, "ohmwatch", 8) == 0)
            name += 8;
        int w = snprintf(buf + n, len - n, "%s%s%s", found ? ", " : "", name,
                         a->severity == OW_SEV_ALARM ? "!" : "");
        if (w > 0) n += (size_t)w < len - n ? (size_t)w : len - n - 1;
        found = 1;
    }
    return found;
}

static void num(FILE *out, double v, int width, int prec)
{
    if (isnan(v))
        fprintf(out, "%*s", width, "-");
    else
        fprintf(out, "%*.*f", width, prec, v);
}

/* Depth of discharge is labelled as such: it is not the battery's capacity
 * (docs/battery.md). */
static void render_discharge(FILE *out, const ow_discharge_t *e)
{
    int m = (int)(e->duration_s / 60);
    fprintf(out, "Discharging for %d:%02d h", m / 60, m % 60);
    if (isfinite(e->dod_pct)) fprintf(out, ", depth of discharge %.1f %%", e->dod_pct);
    if (isfinite(e->time_to_go_s)) {
        int g = (int)(e->time_to_go_s / 60);
        fprintf(out, ", time to go ~%d:%02d h", g / 60, g % 60);
    }
    if (e->test)
        fprintf(out, " (capacity test, %g h to %.2f V/cell)", e->rated_h, e->end_v_per_cell);
    fprintf(out, "\n");
}

void ow_dash_render(const ow_dash_t *d, FILE *out)
{
    char ts[40];
    fprintf(out, "Site %s\n", d->site->name);
    for (int i = 0; i < d->site->ngateways; i++) {
        const ow_gateway_cfg_t *g = &d->site->gateways[i];
        const gw_view_t *v = &d->views[i];
        if (!shown(d, i)) continue;
        fprintf(out, "\nGateway %s (%s) — %s, %s %s %.0f Ah, source %s", g->id, g->name,
                g->module_type->name, g->battery.manufacturer, g->battery.type,
                g->battery.capacity_ah, g->source);
        if (v->hb.speed > 1) fprintf(out, ", time x%g", v->hb.speed);
        fprintf(out, "\n");
        if (!v->cycles_seen) {
            fprintf(out, "  no complete poll cycle received yet\n");
            continue;
        }
        fprintf(out, "  readings of %s, %d/%d modules answering\n",
                ow_fmt_ts(v->ts_us, ts, sizeof ts), v->hb.modules - v->hb.modules_lost,
                v->hb.modules);
        for (int s = 1; s <= g->nstrings; s++) {
            const ow_string_cfg_t *sc = &g->strings[s - 1];
            const ow_string_t *st = &v->str[s];
            fprintf(out, "\nString %s\n", sc->name);
            /* Written out: printf widths count bytes, and °C and mΩ are multibyte. */
            fprintf(out, " No.   Volt.[V]  Temp.[°C]  Ri.[mΩ]  Equalize  Status\n");
            for (int b = 1; b <= sc->modules; b++) {
                int addr = sc->first_module + b - 1;
                const ow_module_t *m = &v->mod[addr];
                fprintf(out, "%4d ", b);
                if (!v->have_mod[addr] || (m->status & OW_MODST_NO_RESPONSE)) {
                    fprintf(out, "%10s %10s %9s %9s  %s\n", "-", "-", "-", "-",
                            "communication lost");
                    continue;
                }
                num(out, m->voltage_v, 10, 3);
                num(out, m->temp_c, 11, 1);
                num(out, m->impedance_mohm, 9, 2);
                if (m->eq_pct > 0)
                    fprintf(out, " %8.0f%%  ", m->eq_pct);
                else
                    fprintf(out, " %9s  ", "");
                char what[160];
                fprintf(out, "%s\n",
                        alarm_names(v, addr, 0, what, sizeof what) ? what
                        : (m->status & OW_MODST_EQUALIZING)        ? "equalizing"
                                                                   : "ok");
            }
            fprintf(out, "Σ Voltage ");
            num(out, st->sum_voltage_v, 0, 2);
            fprintf(out, " V   Average ");
            num(out, st->avg_voltage_v, 0, 3);
            fprintf(out, " V   DC Current ");
            num(out, st->current_a, 0, 2);
            fprintf(out, " A   AC Current ");
            num(out, st->ac_current_a, 0, 2);
            fprintf(out, " A\n");
            char what[160];
            if (alarm_names(v, 0, s, what, sizeof what)) fprintf(out, "String alarms: %s\n", what);
            if (v->have_dis[s]) render_discharge(out, &v->dis[s]);
        }
        if (v->have_state) {
            fprintf(out,
                    "\nGeneral status 0x%04x  battery 0x%04x  alarm 0x%04x  —  %d active, "
                    "%d modules in alarm, %d in warning%s\n",
                    v->state.general, v->state.battery, v->state.alarm, v->state.alarms_active,
                    v->state.module_alarms, v->state.module_warnings,
                    /* the webmanager's alarm LED: red sounding, yellow muted */
                    v->state.audible                         ? ", alarm LED red (sounding)"
                    : v->state.alarm & GBMS_AL_GENERAL_ALARM ? ", alarm LED yellow (muted)"
                                                             : "");
            char what[160];
            if (alarm_names(v, 0, 0, what, sizeof what)) fprintf(out, "Gateway alarms: %s\n", what);
        }
        if (v->have_aux) {
            fprintf(out, "\nAmbient ");
            num(out, v->aux.ambient_c, 0, 1);
            fprintf(out, " °C   Humidity ");
            num(out, v->aux.humidity_pct, 0, 0);
            fprintf(out, " %%   Hydrogen ");
            num(out, v->aux.hydrogen_pct_lel, 0, 1);
            fprintf(out, " %%LEL   GX_R_AUX inputs 0x%04x outputs 0x%04x\n", v->aux.inputs,
                    v->aux.outputs);
        }
    }
}
