/* See dash.h. */
#include "dash.h"

#include <math.h>
#include <stddef.h>
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
    ow_device_t dev; /* from busd with a field source: what the device says */
    int have_dev;
    /* The site file's levels with the ones alarmd has in force (its list
     * at the start, its config events since): the Level info panel. */
    ow_thresholds_t thr;
    int fahrenheit, have_unit; /* alarmd's temperature_unit (snapshot, config events) */
} gw_view_t;

/* The settings the Level info panel shows, by their key on the wire. */
#define THR(f) offsetof(ow_thresholds_t, f)
static const struct {
    const char *key;
    size_t off;
} level_keys[] = {
    {"thresholds.voltage_v.low_alarm", THR(voltage_v.low_alarm)},
    {"thresholds.voltage_v.high_alarm", THR(voltage_v.high_alarm)},
    {"thresholds.temp_c.low_alarm", THR(temp_c.low_alarm)},
    {"thresholds.temp_c.high_alarm", THR(temp_c.high_alarm)},
    {"thresholds.impedance_mohm.low_alarm", THR(impedance_mohm.low_alarm)},
    {"thresholds.impedance_mohm.high_alarm", THR(impedance_mohm.high_alarm)},
    {"thresholds.equalizing_min_v", THR(equalizing_min_v)},
    {"thresholds.equalizing_max_v", THR(equalizing_max_v)},
};

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
    for (int i = 0; i < site->ngateways; i++)
        d->views[i].thr = site->gateways[i].thr;
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
    case OW_MSG_DEVICE:
        v->dev = m->u.device;
        v->have_dev = 1;
        break;
    case OW_MSG_CONFIG:
        /* a setting alarmd has in force (already judged there) */
        for (size_t k = 0; k < sizeof level_keys / sizeof level_keys[0]; k++)
            if (isfinite(m->u.config.value) && strcmp(m->u.config.key, level_keys[k].key) == 0)
                *(double *)((char *)&v->thr + level_keys[k].off) = m->u.config.value;
        if (strcmp(m->u.config.key, "temperature_unit") == 0 && isfinite(m->u.config.value)) {
            v->fahrenheit = m->u.config.value == 1;
            v->have_unit = 1;
        }
        break;
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

/* Which catalogue entries a line lists: the info ones are states the
 * guide's catalogue carries as alarms (Discharging, Discharging Stopped),
 * which alarmd does not count as active alarms either (state.alarms_active):
 * shown beside the alarms under their own label, not as alarms. */
enum { SEV_ANY, SEV_STATES, SEV_ALARMS };

/* Short names of the active alarms of one module (module > 0), of one
 * string's own alarms (string > 0), or of the gateway's (both 0). */
static int alarm_names(const gw_view_t *v, int module, int string, int which, char *buf, size_t len)
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
        if (which == SEV_STATES && a->severity != OW_SEV_INFO) continue;
        if (which == SEV_ALARMS && a->severity == OW_SEV_INFO) continue;
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

/* Temperatures are judged and carried in degC; the unit is how they are
 * shown (the webmanager's setting, bacsTemperatureUnit). */
static double temp_shown(double c, int fahrenheit)
{
    return fahrenheit ? c * 9.0 / 5.0 + 32.0 : c;
}

/* alarmd's unit once heard, the site file's before (no alarmd) */
static int fahrenheit_of(const ow_gateway_cfg_t *g, const gw_view_t *v)
{
    return v->have_unit ? v->fahrenheit : ow_gateway_fahrenheit(g);
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

/* ---- a field device's own words (busd's device message) ---- */

/* The guide's flag table of that title (ow_gbms.c), NULL if none. */
static const gbms_flag_table_t *flag_table(const char *title)
{
    for (size_t t = 0; t < gbms_flag_tables_count; t++)
        if (strcmp(gbms_flag_tables[t].title, title) == 0) return &gbms_flag_tables[t];
    return NULL;
}

/* "0x0104 BACS_STATE_RUNNING BACS_STATE_FLOAT_CHARGING": the word and the
 * names of its bits as the table has them (its 0 row for no bit set; a bit
 * the table does not name as "0x0800?"). */
static void flag_names(const gbms_flag_table_t *t, uint32_t word, char *buf, size_t len)
{
    size_t n = 0;
    uint32_t left = word;
    int w = snprintf(buf, len, "0x%04x", word);
    n = w > 0 && (size_t)w < len ? (size_t)w : len - 1;
    for (size_t i = 0; t && i < t->count && n + 1 < len; i++) {
        const gbms_flag_t *f = &t->flags[i];
        if (f->value ? (word & f->value) != f->value : word != 0) continue;
        w = snprintf(buf + n, len - n, " %s", f->name);
        if (w > 0) n += (size_t)w < len - n ? (size_t)w : len - n - 1;
        left &= ~f->value;
    }
    if (left && n + 1 < len) snprintf(buf + n, len - n, " 0x%04x?", left);
}

/* One word: what the device says, and what ohmwatch's alarmd says for the
 * same gateway when it differs (the two answer the same question from two
 * places: a difference is worth a look). */
static void render_device_word(FILE *out, const gw_view_t *v, const char *label, const char *title,
                               uint32_t dev_word, uint32_t own_word)
{
    const gbms_flag_table_t *t = flag_table(title);
    char buf[512];
    flag_names(t, dev_word, buf, sizeof buf);
    fprintf(out, "  %-15s device says   %s\n", label, buf);
    if (v->have_state && own_word != dev_word) {
        flag_names(t, own_word, buf, sizeof buf);
        fprintf(out, "  %-15s ohmwatch says %s\n", "", buf);
    }
}

#define DEV_MODULES_SHOWN 16 /* a lost bus sets every module's word: the count says the rest */

/* The device's link, its three words beside alarmd's, and the modules whose
 * own alarm word (as the device reports it) is not 0. */
static void render_device(FILE *out, const ow_gateway_cfg_t *g, const gw_view_t *v)
{
    const ow_device_t *dv = &v->dev;
    fprintf(out, "\nField device: link %s", dv->link);
    if (dv->strings_reported || dv->modules_reported)
        fprintf(out, ", reports %d string(s), %d module(s)", dv->strings_reported,
                dv->modules_reported);
    fprintf(out, "; %llu request(s), %llu timeout(s), %llu exception(s)\n",
            (unsigned long long)dv->requests, (unsigned long long)dv->timeouts,
            (unsigned long long)dv->exceptions);
    render_device_word(out, v, "General status", "General Status Flags", dv->general,
                       v->state.general);
    render_device_word(out, v, "Battery status", "Battery Status Flags", dv->battery,
                       v->state.battery);
    render_device_word(out, v, "Alarm", "Alarm Flags", dv->alarm, v->state.alarm);
    const gbms_flag_table_t *t = flag_table("Alarm Flags");
    int shown_n = 0, flagged = 0;
    for (int i = 0; i < dv->nmodules && i < OW_MAX_MODULES; i++) {
        if (!dv->module_flags[i]) continue;
        if (flagged++ >= DEV_MODULES_SHOWN) continue;
        if (!shown_n++) fprintf(out, "  Modules the device flags:\n");
        int addr = i + 1, s = 0;
        for (int k = 0; k < g->nstrings; k++)
            if (addr >= g->strings[k].first_module &&
                addr < g->strings[k].first_module + g->strings[k].modules)
                s = k + 1;
        char buf[512];
        flag_names(t, dv->module_flags[i], buf, sizeof buf);
        if (s)
            fprintf(out, "    module %d (%s, block %d): %s\n", addr, g->strings[s - 1].name,
                    addr - g->strings[s - 1].first_module + 1, buf);
        else
            fprintf(out, "    module %d: %s\n", addr, buf);
    }
    if (flagged > shown_n) fprintf(out, "    ... and %d more module(s)\n", flagged - shown_n);
    if (!flagged && dv->nmodules) fprintf(out, "  No module flagged by the device\n");
}

/* ---- the string's values and the info panel ---- */

/* The webmanager's lines under each string table (guide, "Webmanager
 * Interface Overview"); Target Voltage is the average block voltage the
 * equalizers aim at (proto/README.md). Unknowns are "-", never a number. */
static void render_string_values(FILE *out, const ow_string_t *st)
{
    fprintf(out, "Σ Voltage ");
    num(out, st->sum_voltage_v, 0, 2);
    fprintf(out, " V   Target Voltage ");
    num(out, st->avg_voltage_v, 0, 3);
    fprintf(out, " V\nDC Current ");
    num(out, st->current_a, 0, 2);
    fprintf(out, " A   Real Power ");
    num(out, st->power_kw, 0, 2);
    fprintf(out, " kW   AC Current ");
    num(out, st->ac_current_a, 0, 2);
    fprintf(out, " A   Ripple ");
    num(out, st->ripple_v, 0, 1);
    fprintf(out, " V\n");
}

typedef struct {
    const char *label;
    char value[136]; /* a Modbus host name (127) fits */
} item_t;

#define PANEL_WIDTH 79

/* One column of the guide's info panel as a section: "Title:" then its
 * "Label value" items, as many to a line as fit a terminal. */
static void panel(FILE *out, const char *title, const item_t *it, size_t n)
{
    fprintf(out, "%s:\n", title);
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        size_t w = strlen(it[i].label) + 1 + strlen(it[i].value);
        if (col && col + 3 + w > PANEL_WIDTH) {
            fprintf(out, "\n");
            col = 0;
        }
        fprintf(out, "%s%s %s", col ? "   " : "  ", it[i].label, it[i].value);
        col += (col ? 3 : 2) + w;
    }
    fprintf(out, "\n");
}

static void text_or_dash(char *buf, size_t len, const char *s)
{
    snprintf(buf, len, "%s", s && *s ? s : "-");
}

static void low_high(char *buf, size_t len, double lo, double hi, const char *unit)
{
    snprintf(buf, len, "%g %s/%g %s", lo, unit, hi, unit);
}

/* The guide's Module / Battery / Contact / Level info and Miscellaneous.
 * Module hardware/software and the webmanager's firmware version, and a MAC
 * address, are what a real webmanager reads from itself: nothing ohmwatch
 * is told, so "-". */
static void render_info(FILE *out, const ow_gateway_cfg_t *g, const gw_view_t *v)
{
    const ow_thresholds_t *t = &v->thr;
    item_t mod[] = {{"Module type", ""},
                    {"Hardware Version", "-"},
                    {"Software Version", "-"},
                    {"Number of Blocks", ""},
                    {"Number of Strings", ""}};
    text_or_dash(mod[0].value, sizeof mod[0].value, g->module_type ? g->module_type->name : NULL);
    snprintf(mod[3].value, sizeof mod[3].value, "%d", g->nmodules);
    snprintf(mod[4].value, sizeof mod[4].value, "%d", g->nstrings);

    item_t bat[] = {{"Manufacturer", ""},
                    {"Type", ""},
                    {"Capacity(C10)", ""},
                    {"Installation Date", "-"},
                    {"Location", ""}};
    text_or_dash(bat[0].value, sizeof bat[0].value, g->battery.manufacturer);
    text_or_dash(bat[1].value, sizeof bat[1].value, g->battery.type);
    snprintf(bat[2].value, sizeof bat[2].value, "%g Ah", g->battery.capacity_ah);
    int yy, mm, dd;
    if (sscanf(g->battery.installed, "%4d-%2d-%2d", &yy, &mm, &dd) == 3)
        snprintf(bat[3].value, sizeof bat[3].value, "%02d.%02d.%04d", dd, mm, yy);
    text_or_dash(bat[4].value, sizeof bat[4].value, g->battery.location);

    /* the IP address is the webmanager's: a field gateway's Modbus host */
    item_t con[] = {
        {"Contact Person", ""}, {"Phone Number", ""}, {"IP Address", ""}, {"Mac Address", "-"}};
    text_or_dash(con[0].value, sizeof con[0].value, g->contact.person);
    text_or_dash(con[1].value, sizeof con[1].value, g->contact.phone);
    text_or_dash(con[2].value, sizeof con[2].value,
                 strcmp(g->source, "modbus-tcp") == 0 ? g->modbus.host : NULL);

    item_t lvl[] = {{"Voltage Low/High", ""},
                    {"Temperature Low/High", ""},
                    {"Resistance Min/Max", ""},
                    {"Equalizing Range Min/Max", ""}};
    low_high(lvl[0].value, sizeof lvl[0].value, t->voltage_v.low_alarm, t->voltage_v.high_alarm,
             "V");
    int fahr = fahrenheit_of(g, v);
    low_high(lvl[1].value, sizeof lvl[1].value, temp_shown(t->temp_c.low_alarm, fahr),
             temp_shown(t->temp_c.high_alarm, fahr), fahr ? "°F" : "°C");
    low_high(lvl[2].value, sizeof lvl[2].value, t->impedance_mohm.low_alarm,
             t->impedance_mohm.high_alarm, "mΩ");
    low_high(lvl[3].value, sizeof lvl[3].value, t->equalizing_min_v, t->equalizing_max_v, "V");

    /* one Ripple Voltage per webmanager: the highest of its strings */
    double ripple = NAN;
    for (int s = 1; s <= g->nstrings; s++)
        if (v->have_str[s] && isfinite(v->str[s].ripple_v) && !(v->str[s].ripple_v <= ripple))
            ripple = v->str[s].ripple_v;
    item_t misc[] = {{"Firmware Version", "-"},
                     {"Discharge Counter", "-"},
                     {"Ripple Voltage", "-"},
                     {"Equalizing paused", "-"},
                     {"Page generated", ""}};
    if (v->have_state) {
        snprintf(misc[1].value, sizeof misc[1].value, "%d", v->state.discharges);
        snprintf(misc[3].value, sizeof misc[3].value, "%s", v->state.eq_paused ? "yes" : "no");
    }
    if (isfinite(ripple)) snprintf(misc[2].value, sizeof misc[2].value, "%.0f mV", ripple * 1000);
    ow_fmt_ts(ow_now_us(), misc[4].value, sizeof misc[4].value);

    fprintf(out, "\n");
    panel(out, "Module info", mod, sizeof mod / sizeof mod[0]);
    panel(out, "Battery info", bat, sizeof bat / sizeof bat[0]);
    panel(out, "Contact info", con, sizeof con / sizeof con[0]);
    panel(out, "Level info", lvl, sizeof lvl / sizeof lvl[0]);
    panel(out, "Miscellaneous", misc, sizeof misc / sizeof misc[0]);
}

void ow_dash_render(const ow_dash_t *d, FILE *out)
{
    char ts[40];
    fprintf(out, "Site %s\n", d->site->name);
    for (int i = 0; i < d->site->ngateways; i++) {
        const ow_gateway_cfg_t *g = &d->site->gateways[i];
        const gw_view_t *v = &d->views[i];
        if (!shown(d, i)) continue;
        int fahr = fahrenheit_of(g, v);
        char unit = fahr ? 'F' : 'C';
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
            fprintf(out, " No.   Volt.[V]  Temp.[°%c]  Ri.[mΩ]  Equalize  Status\n", unit);
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
                num(out, temp_shown(m->temp_c, fahr), 11, 1);
                num(out, m->impedance_mohm, 9, 2);
                if (m->eq_pct > 0)
                    fprintf(out, " %8.0f%%  ", m->eq_pct);
                else
                    fprintf(out, " %9s  ", "");
                char what[160];
                fprintf(out, "%s\n",
                        alarm_names(v, addr, 0, SEV_ANY, what, sizeof what) ? what
                        : (m->status & OW_MODST_EQUALIZING)                 ? "equalizing"
                                                                            : "ok");
            }
            render_string_values(out, st);
            char what[160];
            if (alarm_names(v, 0, s, SEV_STATES, what, sizeof what))
                fprintf(out, "String state: %s\n", what);
            if (alarm_names(v, 0, s, SEV_ALARMS, what, sizeof what))
                fprintf(out, "String alarms: %s\n", what);
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
            if (alarm_names(v, 0, 0, SEV_STATES, what, sizeof what))
                fprintf(out, "Gateway state: %s\n", what);
            if (alarm_names(v, 0, 0, SEV_ALARMS, what, sizeof what))
                fprintf(out, "Gateway alarms: %s\n", what);
        }
        if (v->have_dev) render_device(out, g, v);
        if (v->have_aux) {
            fprintf(out, "\nAmbient ");
            num(out, temp_shown(v->aux.ambient_c, fahr), 0, 1);
            fprintf(out, " °%c   Humidity ", unit);
            num(out, v->aux.humidity_pct, 0, 0);
            fprintf(out, " %%   Hydrogen ");
            num(out, v->aux.hydrogen_pct_lel, 0, 1);
            fprintf(out, " %%LEL   GX_R_AUX inputs 0x%04x outputs 0x%04x\n", v->aux.inputs,
                    v->aux.outputs);
        }
        render_info(out, g, v);
    }
}
