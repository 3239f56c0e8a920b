/* webd's live model (see live.h): what each gateway's busd and alarmd say,
 * folded per gateway like modbusd's register image, serialised as the JSON
 * of WEBD.md once per busd cycle and published to the hub. */
#include "live.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ow_clock.h"
#include "ow_cmd.h"
#include "ow_ctl.h"
#include "ow_gbms.h"
#include "ow_log.h"
#include "ow_quiet.h"
#include "ow_sub.h"

/* Readings travel as %.7g (ow_fmt_g7): more digits would only show the
 * binary noise of the double. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(7))

typedef struct {
    ow_alarm_t a;
    int acked;
} alarm_t;

typedef struct {
    const ow_gateway_cfg_t *cfg;
    ow_module_t *mod; /* [1..nmodules]; status NO_RESPONSE until read */
    ow_string_t str[OW_MAX_STRINGS + 1];
    ow_aux_t aux;
    int have_aux;
    ow_state_t st;
    int have_state;
    ow_heartbeat_t hb;
    int64_t hb_ts_us; /* measurement time of the last heartbeat, 0 none */
    ow_quiet_t quiet;
    int heard; /* its busd has spoken since we started */
    int src;   /* its busd's source in sub */
    /* publishing */
    int due;         /* a cycle ended or state changed since the last "gw" */
    int alarms_due;  /* the active list changed since the last "alarms" */
    int64_t last_us; /* monotonic time of the last "gw" event, 0 none */
    /* under the mutex: what handlers copy */
    alarm_t *alarms;
    size_t nalarms, capalarms;
    char *json;
    char *alarms_json;
    ow_aux_t pub_aux;
    int pub_have_aux;
} gw_t;

struct ow_web_live {
    const ow_site_t *site;
    ow_alarmd_cfg_t acfg;
    gw_t *gw;
    int ngw;
    ow_web_live_pub_fn pub;
    void *pub_ctx;
    pthread_mutex_t mu;
    char *site_json; /* without now_us */
    const gbms_flag_table_t *t_general, *t_battery, *t_alarm, *t_string;
    /* bus side */
    ow_sub_t *sub;
    int alarmd_src;
    uint64_t alarmd_epoch; /* of the snapshot in force */
    uint64_t heard_epoch;  /* of alarmd's last published message */
    ow_ctl_async_t *actl;  /* refreshes: a standing socket, never waited on */
    int link;              /* alarmd's link as it last reported (-1 unknown) */
    int asked;             /* a refresh is on its way */
    int want;              /* a refresh is due */
    int refreshing;        /* snap_msg is folding a refresh's answer */
    ow_web_live_stats_t stats;
};

/* ---- flag names: walked from proto's tables, never spelled here ---- */

static const gbms_flag_table_t *flag_table(const char *title)
{
    for (size_t i = 0; i < gbms_flag_tables_count; i++)
        if (strcmp(gbms_flag_tables[i].title, title) == 0) return &gbms_flag_tables[i];
    return NULL;
}

static void add_flag_names(json_t *arr, const gbms_flag_table_t *t, uint32_t v)
{
    for (size_t i = 0; t && i < t->count; i++)
        if (t->flags[i].value && (v & t->flags[i].value) == t->flags[i].value)
            json_array_append_new(arr, json_string(t->flags[i].name));
}

static json_t *flag_names(const gbms_flag_table_t *t, uint32_t v)
{
    json_t *a = json_array();
    add_flag_names(a, t, v);
    return a;
}

static json_t *num(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static const char *severity_name(int s)
{
    static const char *const names[] = {
        [OW_SEV_INFO] = "info", [OW_SEV_WARNING] = "warning", [OW_SEV_ALARM] = "alarm"};
    return s >= 0 && s <= OW_SEV_ALARM ? names[s] : "info";
}

/* ---- the model ---- */

static gw_t *find_gw(ow_web_live_t *l, const char *id)
{
    for (int i = 0; id && i < l->ngw; i++)
        if (strcmp(l->gw[i].cfg->id, id) == 0) return &l->gw[i];
    return NULL;
}

static void module_unread(ow_module_t *m, int addr)
{
    *m = (ow_module_t){.module = addr,
                       .voltage_v = NAN,
                       .temp_c = NAN,
                       .impedance_mohm = NAN,
                       .eq_pct = NAN,
                       .status = OW_MODST_NO_RESPONSE};
}

static void string_unmeasured(ow_string_t *s, int n)
{
    *s = (ow_string_t){.string = n,
                       .current_a = NAN,
                       .ac_current_a = NAN,
                       .sum_voltage_v = NAN,
                       .avg_voltage_v = NAN,
                       .power_kw = NAN,
                       .ripple_v = NAN};
}

/* A silent busd's gateway reads as never read: what it said last is not
 * what the battery does now (modbusd's ow_mb_image_quiet, the same rule). */
static void gw_quiet(gw_t *g)
{
    for (int i = 1; i <= g->cfg->nmodules; i++)
        module_unread(&g->mod[i], i);
    for (int s = 1; s <= OW_MAX_STRINGS; s++)
        string_unmeasured(&g->str[s], s);
    g->due = 1;
}

/* The string a module address belongs to and its position in it. */
static int module_place(const ow_gateway_cfg_t *c, int addr, int *pos)
{
    for (int s = 0; s < c->nstrings; s++) {
        int first = c->strings[s].first_module;
        if (addr >= first && addr < first + c->strings[s].modules) {
            *pos = addr - first + 1;
            return s + 1;
        }
    }
    *pos = 0;
    return 0;
}

/* A string's state in the dashboard's words: its discharge alarms say
 * whether it discharges (alarmd's detection, with or without a sensor);
 * else the current against alarmd's charge threshold. */
static const struct {
    int code;
    const char *state;
} string_states[] = {
    {.code = GBMS_A_DISCHARGING, .state = "discharging"},
    {.code = GBMS_A_DISCHARGING_STOPPED, .state = "discharge stopped"},
};

static const alarm_t *active_alarm(const gw_t *g, int code, int string, int module)
{
    for (size_t i = 0; i < g->nalarms; i++)
        if (g->alarms[i].a.type == code && g->alarms[i].a.string == string &&
            g->alarms[i].a.module == module)
            return &g->alarms[i];
    return NULL;
}

static json_t *string_state(const gw_t *g, int s)
{
    for (size_t i = 0; i < sizeof string_states / sizeof string_states[0]; i++)
        if (active_alarm(g, string_states[i].code, s, 0))
            return json_string(string_states[i].state);
    const ow_string_t *st = &g->str[s];
    if (isnan(st->sum_voltage_v)) return json_null();
    if (!isnan(st->current_a) && st->current_a > g->cfg->thr.charge_detect_a)
        return json_string("charging");
    return json_string("float");
}

/* The webmanager's alarm LED (guide, "Webmanager LEDs and Buttons"):
 * green OK, yellow the common alarm active but muted, red the common alarm
 * active and audible. The common alarm is an alarm-severity one (alarmd's
 * General Alarm bit): a warning or a discharge (info) alone is green, with
 * the count beside the LED saying what is active. */
static const char *led_of(const ow_state_t *st, int have)
{
    if (!have) return "green";
    if (st->audible) return "red";
    return st->alarm & GBMS_AL_GENERAL_ALARM ? "yellow" : "green";
}

static int answering(const gw_t *g)
{
    return g->heard && !g->quiet.quiet;
}

/* The JSON of WEBD.md's "GET /api/live". Main thread only (it reads the
 * structs); the result goes behind the mutex. */
static char *gw_serialise(ow_web_live_t *l, gw_t *g)
{
    const ow_gateway_cfg_t *c = g->cfg;
    const ow_state_t *st = &g->st;
    json_t *o = json_object();
    json_object_set_new(o, "gw", json_string(c->id));
    json_object_set_new(o, "t_us", json_integer(g->hb_ts_us ? g->hb_ts_us : ow_now_us()));
    json_object_set_new(o, "answering", json_boolean(answering(g)));
    json_t *js = json_object();
    json_object_set_new(js, "general", json_integer(st->general));
    json_object_set_new(js, "general_names", flag_names(l->t_general, st->general));
    json_object_set_new(js, "battery", json_integer(st->battery));
    json_object_set_new(js, "battery_names", flag_names(l->t_battery, st->battery));
    json_object_set_new(js, "alarm", json_integer(st->alarm));
    json_object_set_new(js, "alarm_names", flag_names(l->t_alarm, st->alarm));
    json_object_set_new(js, "audible", json_boolean(st->audible));
    json_object_set_new(js, "alarms_active", json_integer(st->alarms_active));
    json_object_set_new(js, "module_alarms", json_integer(st->module_alarms));
    json_object_set_new(js, "module_warnings", json_integer(st->module_warnings));
    json_object_set_new(js, "discharges", json_integer(st->discharges));
    json_object_set_new(js, "eq_paused", json_boolean(st->eq_paused));
    json_object_set_new(js, "led", json_string(led_of(st, g->have_state)));
    json_object_set_new(js, "known", json_boolean(g->have_state));
    json_object_set_new(o, "state", js);

    json_t *strs = json_array();
    for (int s = 1; s <= c->nstrings; s++) {
        const ow_string_t *x = &g->str[s];
        uint16_t f = g->have_state && s <= st->nstrings ? st->string_flags[s - 1] : 0;
        uint16_t f2 = g->have_state && s <= st->nstrings ? st->string_flags2[s - 1] : 0;
        json_t *names = flag_names(l->t_alarm, f);
        add_flag_names(names, l->t_string, f2);
        json_t *so = json_object();
        json_object_set_new(so, "n", json_integer(s));
        json_object_set_new(so, "name", json_string(c->strings[s - 1].name));
        json_object_set_new(so, "sum_v", num(x->sum_voltage_v));
        json_object_set_new(so, "target_v", num(x->avg_voltage_v));
        json_object_set_new(so, "current_a", num(x->current_a));
        json_object_set_new(so, "ac_a", num(x->ac_current_a));
        json_object_set_new(so, "power_kw", num(x->power_kw));
        json_object_set_new(so, "ripple_v", num(x->ripple_v));
        json_object_set_new(so, "modules_lost", json_integer(x->modules_lost));
        json_object_set_new(so, "state", string_state(g, s));
        json_object_set_new(so, "flags", json_integer(f));
        json_object_set_new(so, "flags2", json_integer(f2));
        json_object_set_new(so, "flag_names", names);
        json_array_append_new(strs, so);
    }
    json_object_set_new(o, "strings", strs);

    json_t *mods = json_array();
    for (int i = 1; i <= c->nmodules; i++) {
        const ow_module_t *m = &g->mod[i];
        int lost = (m->status & OW_MODST_NO_RESPONSE) != 0, pos;
        int s = module_place(c, i, &pos);
        /* Communication lost follows the module's latest reading, the rest
         * of the word is alarmd's (as modbusd serves the ALARM register). */
        uint16_t f = g->have_state && i <= st->nmodules ? st->module_flags[i - 1] : 0;
        f = lost ? (uint16_t)(f | GBMS_AL_COMMUNICATION_LOST)
                 : (uint16_t)(f & ~GBMS_AL_COMMUNICATION_LOST);
        json_t *mo = json_object();
        json_object_set_new(mo, "addr", json_integer(i));
        json_object_set_new(mo, "string", json_integer(s));
        json_object_set_new(mo, "pos", json_integer(pos));
        json_object_set_new(mo, "v", lost ? json_null() : num(m->voltage_v));
        json_object_set_new(mo, "t", lost ? json_null() : num(m->temp_c));
        json_object_set_new(mo, "ri", lost ? json_null() : num(m->impedance_mohm));
        json_object_set_new(mo, "eq", lost ? json_null() : num(m->eq_pct));
        json_object_set_new(mo, "flags", json_integer(f));
        json_object_set_new(mo, "flag_names", flag_names(l->t_alarm, f));
        json_object_set_new(mo, "answering", json_boolean(!lost));
        json_array_append_new(mods, mo);
    }
    json_object_set_new(o, "modules", mods);

    json_t *aux = json_object();
    json_object_set_new(aux, "ambient_c", num(g->have_aux ? g->aux.ambient_c : NAN));
    json_object_set_new(aux, "humidity_pct", num(g->have_aux ? g->aux.humidity_pct : NAN));
    json_object_set_new(aux, "hydrogen_pct_lel", num(g->have_aux ? g->aux.hydrogen_pct_lel : NAN));
    json_object_set_new(aux, "inputs", json_integer(g->have_aux ? g->aux.inputs : 0));
    json_object_set_new(aux, "outputs", json_integer(g->have_aux ? g->aux.outputs : 0));
    json_object_set_new(o, "aux", aux);
    char *s = json_dumps(o, DUMP_FLAGS);
    json_decref(o);
    return s;
}

static json_t *alarm_json(const char *gw, const alarm_t *x)
{
    const gbms_alarm_t *cat = gbms_alarm_find(x->a.type);
    json_t *o = json_object();
    json_object_set_new(o, "gw", json_string(gw));
    json_object_set_new(o, "id", json_integer((json_int_t)x->a.id));
    json_object_set_new(o, "code", json_integer(x->a.type));
    json_object_set_new(o, "name", json_string(cat ? cat->name : "?"));
    json_object_set_new(o, "severity", json_string(severity_name(x->a.severity)));
    json_object_set_new(o, "string", json_integer(x->a.string));
    json_object_set_new(o, "module", json_integer(x->a.module));
    json_object_set_new(o, "value", num(x->a.value));
    json_object_set_new(o, "threshold", num(x->a.threshold));
    json_object_set_new(o, "since_us", json_integer(x->a.raised_us));
    json_object_set_new(o, "acked", json_boolean(x->acked));
    json_object_set_new(o, "text", json_string(x->a.text));
    return o;
}

/* Under the mutex (it reads the alarm list). */
static json_t *alarms_array(const gw_t *g, json_t *into)
{
    for (size_t i = 0; i < g->nalarms; i++)
        json_array_append_new(into, alarm_json(g->cfg->id, &g->alarms[i]));
    return into;
}

static char *alarms_serialise(const gw_t *g)
{
    json_t *o = json_object();
    json_object_set_new(o, "gw", json_string(g->cfg->id));
    json_object_set_new(o, "alarms", alarms_array(g, json_array()));
    char *s = json_dumps(o, DUMP_FLAGS);
    json_decref(o);
    return s;
}

static int alarm_cmp(const void *a, const void *b)
{
    const alarm_t *x = a, *y = b;
    return x->a.id < y->a.id ? -1 : x->a.id > y->a.id;
}

/* An alarm event (alarmd's stream or its snapshot) on g's active list. */
static void fold_alarm(ow_web_live_t *l, gw_t *g, const ow_alarm_t *a)
{
    pthread_mutex_lock(&l->mu);
    size_t i = 0;
    while (i < g->nalarms && g->alarms[i].a.id != a->id)
        i++;
    if (strcmp(a->action, "clear") == 0 || a->cleared_us) {
        if (i < g->nalarms) {
            memmove(&g->alarms[i], &g->alarms[i + 1], (g->nalarms - i - 1) * sizeof *g->alarms);
            g->nalarms--;
            g->alarms_due = 1;
        }
    } else if (strcmp(a->action, "ack") == 0) {
        if (i < g->nalarms && !g->alarms[i].acked) {
            g->alarms[i].acked = 1;
            g->alarms_due = 1;
        }
    } else if (i == g->nalarms) { /* a raise (a replayed one we hold already: nothing) */
        if (g->nalarms == g->capalarms) {
            size_t cap = g->capalarms ? 2 * g->capalarms : 16;
            alarm_t *p = realloc(g->alarms, cap * sizeof *p);
            if (!p) {
                pthread_mutex_unlock(&l->mu);
                log_warnx("gateway %s: out of memory for alarm %llu", g->cfg->id,
                          (unsigned long long)a->id);
                return;
            }
            g->alarms = p;
            g->capalarms = cap;
        }
        g->alarms[g->nalarms++] = (alarm_t){.a = *a, .acked = 0};
        qsort(g->alarms, g->nalarms, sizeof *g->alarms, alarm_cmp);
        g->alarms_due = 1;
    }
    pthread_mutex_unlock(&l->mu);
}

static void fold_state(gw_t *g, const ow_state_t *st)
{
    g->st = *st;
    g->have_state = 1;
    g->due = 1;
}

/* After a snapshot: with nothing audible, every alarm that could sound has
 * been acknowledged (a snapshot's alarms carry no acknowledgement; later
 * ones come as events). Only the snapshot's state says so: an old state
 * replayed from alarmd's journal would mute an alarm raised after it.
 * Generic alarms never sound: left as they are. */
static void snapshot_acks(ow_web_live_t *l, gw_t *g)
{
    if (!g->have_state || g->st.audible) return;
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < g->nalarms; i++)
        if (!g->alarms[i].acked && !gbms_alarm_is_generic(g->alarms[i].a.type)) {
            g->alarms[i].acked = 1;
            g->alarms_due = 1;
        }
    pthread_mutex_unlock(&l->mu);
}

void ow_web_live_apply(ow_web_live_t *l, const ow_msg_t *m, int from_busd, int64_t now_us)
{
    gw_t *g = find_gw(l, m->h.gw);
    l->stats.messages++;
    if (!g) {
        l->stats.ignored++;
        return;
    }
    if (from_busd) {
        if (ow_quiet_heard(&g->quiet, m, now_us))
            log_info("gateway %s: its busd publishes again: live values follow its readings",
                     g->cfg->id);
        if (!g->heard) g->due = 1;
        g->heard = 1;
    }
    switch (m->kind) {
    case OW_MSG_MODULE:
        if (m->u.module.module >= 1 && m->u.module.module <= g->cfg->nmodules)
            g->mod[m->u.module.module] = m->u.module;
        break;
    case OW_MSG_STRING:
        if (m->u.string.string >= 1 && m->u.string.string <= OW_MAX_STRINGS)
            g->str[m->u.string.string] = m->u.string;
        break;
    case OW_MSG_AUX:
        g->aux = m->u.aux;
        g->have_aux = 1;
        break;
    case OW_MSG_HEARTBEAT:
        g->hb = m->u.heartbeat;
        g->hb_ts_us = m->h.ts_us;
        g->due = 1; /* a busd cycle ended: the page shows it whole */
        break;
    case OW_MSG_STATE:
        fold_state(g, &m->u.state);
        break;
    case OW_MSG_ALARM:
        fold_alarm(l, g, &m->u.alarm);
        break;
    default:
        l->stats.ignored++;
        break;
    }
}

int ow_web_live_check_quiet(ow_web_live_t *l, int64_t now_us)
{
    int n = 0;
    for (int i = 0; i < l->ngw; i++) {
        gw_t *g = &l->gw[i];
        if (!ow_quiet_check(&g->quiet, now_us)) continue;
        gw_quiet(g);
        n++;
        l->stats.quiet_events++;
        log_warnx("gateway %s: no message from its busd for %.1f s: its modules show as not "
                  "answering until it publishes again",
                  g->cfg->id, (double)ow_quiet_for_us(&g->quiet, now_us) / 1e6);
    }
    return n;
}

void ow_web_live_set_quiet(ow_web_live_t *l, const char *gw)
{
    gw_t *g = find_gw(l, gw);
    if (!g) return;
    ow_quiet_set(&g->quiet);
    gw_quiet(g);
}

/* Swap a serialised text in behind the mutex; the old one is freed. */
static void swap_in(ow_web_live_t *l, char **slot, char *s)
{
    pthread_mutex_lock(&l->mu);
    char *old = *slot;
    *slot = s;
    pthread_mutex_unlock(&l->mu);
    free(old);
}

int ow_web_live_tick(ow_web_live_t *l, int64_t now_us)
{
    int n = 0;
    for (int i = 0; i < l->ngw; i++) {
        gw_t *g = &l->gw[i];
        if (g->alarms_due) {
            pthread_mutex_lock(&l->mu);
            char *s = alarms_serialise(g);
            g->alarms_due = 0;
            pthread_mutex_unlock(&l->mu);
            if (s) {
                if (l->pub) l->pub(l->pub_ctx, "alarms", s);
                swap_in(l, &g->alarms_json, s);
                l->stats.published_alarms++;
                n++;
            }
            g->due = 1; /* string states follow the alarms */
        }
        if (!g->due || (g->last_us && now_us - g->last_us < OW_WEB_LIVE_COALESCE_US)) continue;
        pthread_mutex_lock(&l->mu);
        char *s = gw_serialise(l, g); /* reads the alarm list for string states */
        g->pub_aux = g->aux;
        g->pub_have_aux = g->have_aux;
        pthread_mutex_unlock(&l->mu);
        if (!s) continue; /* out of memory: next tick */
        g->due = 0;
        g->last_us = now_us;
        if (l->pub) l->pub(l->pub_ctx, "gw", s);
        swap_in(l, &g->json, s);
        l->stats.published_gw++;
        n++;
    }
    return n;
}

/* ---- what handlers read ---- */

static char *copy_locked(ow_web_live_t *l, char *const *slot)
{
    pthread_mutex_lock(&l->mu);
    char *s = *slot ? strdup(*slot) : NULL;
    pthread_mutex_unlock(&l->mu);
    return s;
}

char *ow_web_live_json(ow_web_live_t *l, const char *gw)
{
    gw_t *g = find_gw(l, gw);
    return g ? copy_locked(l, &g->json) : NULL;
}

char *ow_web_live_alarms_json(ow_web_live_t *l, const char *gw)
{
    if (gw && gw[0]) {
        gw_t *g = find_gw(l, gw);
        return g ? copy_locked(l, &g->alarms_json) : NULL;
    }
    json_t *o = json_object(), *a = json_array();
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->ngw; i++)
        alarms_array(&l->gw[i], a);
    pthread_mutex_unlock(&l->mu);
    json_object_set_new(o, "alarms", a);
    char *s = json_dumps(o, DUMP_FLAGS);
    json_decref(o);
    return s;
}

char *ow_web_live_site_json(ow_web_live_t *l)
{
    json_t *o = json_loads(l->site_json, 0, NULL);
    if (!o) return NULL;
    json_object_set_new(o, "now_us", json_integer(ow_now_us()));
    char *s = json_dumps(o, DUMP_FLAGS);
    json_decref(o);
    return s;
}

int ow_web_live_noutputs(ow_web_live_t *l, const char *gw)
{
    gw_t *g = find_gw(l, gw);
    return g ? g->cfg->aux_units * (OW_AUX_POINTS / OW_AUX_UNITS) : -1;
}

char *ow_web_live_outputs_json(ow_web_live_t *l, const char *gw)
{
    gw_t *g = find_gw(l, gw);
    if (!g) return NULL;
    const int per = OW_AUX_POINTS / OW_AUX_UNITS;
    json_t *o = json_object(), *a = json_array();
    pthread_mutex_lock(&l->mu);
    for (int n = 1; n <= g->cfg->aux_units * per; n++) {
        char name[48];
        snprintf(name, sizeof name, "GX_R_AUX %d output %d", (n - 1) / per + 1, (n - 1) % per + 1);
        json_t *x = json_object();
        json_object_set_new(x, "n", json_integer(n));
        json_object_set_new(x, "name", json_string(name));
        json_object_set_new(x, "state",
                            !g->pub_have_aux                       ? json_null()
                            : (g->pub_aux.outputs >> (n - 1)) & 1u ? json_string("on")
                                                                   : json_string("off"));
        json_object_set_new(x, "input",
                            !g->pub_have_aux                      ? json_null()
                            : (g->pub_aux.inputs >> (n - 1)) & 1u ? json_string("alarm")
                                                                  : json_string("ok"));
        json_array_append_new(a, x);
    }
    pthread_mutex_unlock(&l->mu);
    json_object_set_new(o, "gw", json_string(g->cfg->id));
    json_object_set_new(o, "outputs", a);
    char *s = json_dumps(o, DUMP_FLAGS);
    json_decref(o);
    return s;
}

int ow_web_live_alarm_id(ow_web_live_t *l, const char *gw, int code, int string, int module,
                         uint64_t *id)
{
    gw_t *g = find_gw(l, gw);
    if (!g) return -1;
    pthread_mutex_lock(&l->mu);
    const alarm_t *a = active_alarm(g, code, string, module);
    if (a) *id = a->a.id;
    pthread_mutex_unlock(&l->mu);
    return a ? 0 : -1;
}

const char *ow_web_live_gateway(ow_web_live_t *l, const char *gw)
{
    if ((!gw || !gw[0]) && l->ngw == 1) return l->gw[0].cfg->id;
    gw_t *g = find_gw(l, gw);
    return g ? g->cfg->id : NULL;
}

const char *ow_web_live_alarmd(const ow_web_live_t *l)
{
    return l->acfg.control_connect;
}

void ow_web_live_stats(ow_web_live_t *l, ow_web_live_stats_t *out)
{
    *out = l->stats;
}

/* ---- construction ---- */

/* The zone the pages name beside the clock: TZ, else the system's. */
static void zone_name(char *out, size_t len)
{
    const char *tz = getenv("TZ");
    char buf[256];
    if (tz && *tz) {
        snprintf(out, len, "%s", tz[0] == ':' ? tz + 1 : tz);
        return;
    }
    FILE *f = fopen("/etc/timezone", "r");
    if (f) {
        if (fgets(buf, sizeof buf, f)) {
            buf[strcspn(buf, "\r\n")] = '\0';
            fclose(f);
            if (buf[0]) {
                snprintf(out, len, "%s", buf);
                return;
            }
        } else
            fclose(f);
    }
    ssize_t n = readlink("/etc/localtime", buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = '\0';
        const char *p = strstr(buf, "zoneinfo/");
        if (p) {
            snprintf(out, len, "%s", p + strlen("zoneinfo/"));
            return;
        }
    }
    snprintf(out, len, "UTC");
}

static json_t *battery_json(const ow_battery_t *b)
{
    json_t *o = json_object();
    json_object_set_new(o, "manufacturer", json_string(b->manufacturer));
    json_object_set_new(o, "type", json_string(b->type));
    json_object_set_new(o, "capacity_ah", num(b->capacity_ah));
    json_object_set_new(o, "installed", json_string(b->installed));
    json_object_set_new(o, "location", json_string(b->location));
    json_object_set_new(o, "chemistry", json_string(b->chemistry));
    return o;
}

static json_t *contact_json(const ow_gateway_cfg_t *g)
{
    json_t *o = json_object();
    json_object_set_new(o, "person", json_string(g->contact.person));
    json_object_set_new(o, "phone", json_string(g->contact.phone));
    return o;
}

static char *site_serialise(const ow_site_t *site)
{
    char tz[256];
    zone_name(tz, sizeof tz);
    json_t *o = json_object(), *gws = json_array();
    json_object_set_new(o, "site", json_string(site->name));
    json_object_set_new(o, "tz", json_string(tz));
    for (int i = 0; i < site->ngateways; i++) {
        const ow_gateway_cfg_t *g = &site->gateways[i];
        json_t *go = json_object(), *strs = json_array();
        json_object_set_new(go, "id", json_string(g->id));
        json_object_set_new(go, "name", json_string(g->name));
        json_object_set_new(go, "source", json_string(g->source));
        json_object_set_new(go, "poll_ms", json_integer(g->poll_ms));
        for (int s = 0; s < g->nstrings; s++) {
            json_t *so = json_object(), *mods = json_array();
            json_object_set_new(so, "n", json_integer(s + 1));
            json_object_set_new(so, "name", json_string(g->strings[s].name));
            for (int m = 0; m < g->strings[s].modules; m++)
                json_array_append_new(mods, json_integer(g->strings[s].first_module + m));
            json_object_set_new(so, "modules", mods);
            json_array_append_new(strs, so);
        }
        json_object_set_new(go, "strings", strs);
        json_object_set_new(go, "nmodules", json_integer(g->nmodules));
        json_t *aux = json_object();
        int points = g->aux_units * (OW_AUX_POINTS / OW_AUX_UNITS);
        json_object_set_new(aux, "units", json_integer(g->aux_units));
        json_object_set_new(aux, "inputs", json_integer(points));
        json_object_set_new(aux, "outputs", json_integer(points));
        json_object_set_new(go, "aux", aux);
        json_object_set_new(go, "module_type",
                            json_string(g->module_type ? g->module_type->name : ""));
        json_object_set_new(go, "current_sensor", json_boolean(g->current_sensor));
        json_object_set_new(go, "temperature_unit", json_string(g->temperature_unit));
        json_object_set_new(go, "contact", contact_json(g));
        json_object_set_new(go, "battery", battery_json(&g->battery));
        json_array_append_new(gws, go);
    }
    json_object_set_new(o, "gateways", gws);
    /* The header's: the first gateway's (a site is one battery room). */
    json_object_set_new(o, "contact", contact_json(&site->gateways[0]));
    json_object_set_new(o, "battery", battery_json(&site->gateways[0].battery));
    char *s = json_dumps(o, DUMP_FLAGS);
    json_decref(o);
    return s;
}

ow_web_live_t *ow_web_live_new(const ow_site_t *site, ow_web_live_pub_fn pub, void *ctx, char *err,
                               size_t errlen)
{
    ow_web_live_t *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&l->mu, NULL);
    l->site = site;
    l->pub = pub;
    l->pub_ctx = ctx;
    l->alarmd_src = -1;
    l->link = -1;
    l->t_general = flag_table("General Status Flags");
    l->t_battery = flag_table("Battery Status Flags");
    l->t_alarm = flag_table("Alarm Flags");
    l->t_string = flag_table("Battery String Alarm Flags");
    if (!l->t_general || !l->t_battery || !l->t_alarm || !l->t_string) {
        snprintf(err, errlen, "proto's flag tables lack one webd names flags from");
        goto fail;
    }
    if (ow_site_alarmd(site, &l->acfg, err, errlen) < 0) goto fail;
    l->ngw = site->ngateways;
    l->gw = calloc((size_t)l->ngw, sizeof *l->gw);
    if (!l->gw) goto oom;
    int64_t now = ow_mono_us();
    for (int i = 0; i < l->ngw; i++) {
        gw_t *g = &l->gw[i];
        g->cfg = &site->gateways[i];
        g->src = -1;
        g->mod = calloc((size_t)g->cfg->nmodules + 1, sizeof *g->mod);
        if (!g->mod) goto oom;
        for (int m = 0; m <= g->cfg->nmodules; m++)
            module_unread(&g->mod[m], m);
        for (int s = 0; s <= OW_MAX_STRINGS; s++)
            string_unmeasured(&g->str[s], s);
        ow_quiet_init(&g->quiet, now);
        /* the first page: every value null until busd speaks */
        g->json = gw_serialise(l, g);
        g->alarms_json = alarms_serialise(g);
        if (!g->json || !g->alarms_json) goto oom;
    }
    l->site_json = site_serialise(site);
    if (!l->site_json) goto oom;
    return l;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    ow_web_live_destroy(&l);
    return NULL;
}

void ow_web_live_destroy(ow_web_live_t **lp)
{
    ow_web_live_t *l = *lp;
    if (!l) return;
    ow_ctl_async_destroy(&l->actl);
    ow_sub_destroy(&l->sub);
    for (int i = 0; l->gw && i < l->ngw; i++) {
        free(l->gw[i].mod);
        free(l->gw[i].alarms);
        free(l->gw[i].json);
        free(l->gw[i].alarms_json);
    }
    free(l->gw);
    free(l->site_json);
    pthread_mutex_destroy(&l->mu);
    free(l);
    *lp = NULL;
}

/* ---- the bus side ---- */

/* A snapshot's messages: a gateway's state comes before its alarms, so
 * the state starts its active list afresh (alarmd restarted: what it holds
 * now is the list, whatever we had). */
static void snap_msg(void *ctx, const ow_msg_t *m)
{
    ow_web_live_t *l = ctx;
    gw_t *g = find_gw(l, m->h.gw);
    if (!g) return;
    if (m->kind == OW_MSG_STATE) {
        l->alarmd_epoch = m->h.epoch;
        pthread_mutex_lock(&l->mu);
        if (g->nalarms) g->alarms_due = 1;
        g->nalarms = 0;
        pthread_mutex_unlock(&l->mu);
    }
    if (m->kind == OW_MSG_CONFIG) return;
    /* A refresh takes the flags and alarms: readings come from busd's
     * stream itself, and an answer's copy of one may be older. */
    if (l->refreshing && m->kind != OW_MSG_STATE && m->kind != OW_MSG_ALARM) return;
    ow_web_live_apply(l, m, 0, ow_mono_us());
    if (ow_quiet_alarm_active(m)) ow_quiet_set(&g->quiet);
}

/* What a snapshot's answer leaves to do once folded in. */
static void snapshot_done(ow_web_live_t *l)
{
    l->stats.snapshots++;
    for (int i = 0; i < l->ngw; i++)
        snapshot_acks(l, &l->gw[i]);
    /* A gateway alarmd holds as lost: the snapshot's readings are from
     * before the loss, not current. */
    for (int i = 0; i < l->ngw; i++)
        if (l->gw[i].quiet.quiet) {
            gw_quiet(&l->gw[i]);
            log_warnx("gateway %s: alarmd has its Communication lost: its modules show as not "
                      "answering until its busd publishes",
                      l->gw[i].cfg->id);
        }
}

/* The first, before the first page: waited for (2 s at most). */
static void snapshot(ow_web_live_t *l)
{
    ow_control_t req = ow_cmd_control(OW_CMD_SNAPSHOT, "", NAN, 0, "webd");
    ow_reply_t r;
    char cerr[256];
    /* r is only filled when alarmd answered: a failed call says why in cerr */
    int called = ow_ctl_call(l->acfg.control_connect, NULL, &req, OW_WEB_CTL_TIMEOUT_MS, &r,
                             snap_msg, l, cerr, sizeof cerr) == 0;
    if (!called || !r.ok) {
        l->stats.snapshot_failed++;
        log_warnx("no snapshot from alarmd (%s): flags fill in as alarmd publishes, and a "
                  "snapshot follows when it answers",
                  called ? r.error : cerr);
        return;
    }
    snapshot_done(l);
}

/* Later ones never stall the bus side: alarmd restarted (its link came
 * back, or its stream has a new epoch) and holds restored state that need
 * not be in its stream, so its state and alarms are asked for again. A
 * restart is seen from the link even when alarmd publishes nothing for a
 * while (its state goes out on change only). */
static void refresh(ow_web_live_t *l)
{
    if (!l->actl) return;
    int link = ow_ctl_async_link(l->actl);
    if (link != l->link) {
        if (link == 0) {
            l->asked = 0; /* an answer from the alarmd that went will not come */
            log_warnx("alarmd went away: flags and alarms as it left them until it is back");
        } else if (link == 1 && (l->link == 0 || !l->alarmd_epoch)) {
            l->want = 1;
        }
        l->link = link;
    }
    if (l->want && !l->asked && link == 1) {
        ow_control_t req = ow_cmd_control(OW_CMD_SNAPSHOT, "", NAN, 0, "webd.refresh");
        char err[200];
        if (ow_ctl_async_send(l->actl, NULL, &req, err, sizeof err) == 0) {
            l->asked = 1;
            l->want = 0;
        } else
            log_warnx("snapshot refresh: %s", err);
    }
    ow_reply_t r;
    uint64_t epoch;
    l->refreshing = 1;
    int got = ow_ctl_async_recv(l->actl, &r, &epoch, snap_msg, l);
    l->refreshing = 0;
    if (got != 1) return;
    l->asked = 0;
    if (!r.ok) {
        l->stats.snapshot_failed++;
        log_warnx("snapshot refresh refused: %s", r.error);
        return;
    }
    l->alarmd_epoch = epoch;
    if (l->heard_epoch == epoch) l->want = 0; /* its stream's new epoch is this one */
    snapshot_done(l);
    log_info("state and alarms refreshed from alarmd (epoch %llu)", (unsigned long long)epoch);
}

int ow_web_live_connect(ow_web_live_t *l, char *err, size_t errlen)
{
    l->sub = ow_sub_new();
    if (!l->sub) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < l->ngw; i++) {
        const ow_gateway_cfg_t *c = l->gw[i].cfg;
        l->gw[i].src = ow_sub_add(l->sub, c->publish_connect, c->replay_connect);
        if (l->gw[i].src < 0) {
            snprintf(err, errlen, "gateway %s: cannot subscribe to %s", c->id, c->publish_connect);
            return -1;
        }
    }
    l->alarmd_src = ow_sub_add(l->sub, l->acfg.publish_connect, l->acfg.replay_connect);
    if (l->alarmd_src < 0) {
        snprintf(err, errlen, "cannot subscribe to alarmd at %s", l->acfg.publish_connect);
        return -1;
    }
    /* The journals from their start: the page's first values come at once,
     * not one poll cycle later, and alarmd's acknowledgements with them. */
    ow_sub_from_start(l->sub, 1);
    ow_sub_subscribe(l->sub, "");
    snapshot(l);
    char aerr[256];
    l->actl = ow_ctl_async_new(l->acfg.control_connect, aerr, sizeof aerr);
    if (!l->actl)
        log_warnx("no standing socket to alarmd (%s): no refresh after its restarts", aerr);
    ow_web_live_tick(l, ow_mono_us());
    return 0;
}

int ow_web_live_step(ow_web_live_t *l, int timeout_ms)
{
    ow_delivery_t dv;
    int rc = ow_sub_recv(l->sub, &dv, timeout_ms);
    for (int k = 0; rc == 1 && k < 5000; k++) {
        int64_t now = ow_mono_us();
        int from_busd = dv.source != l->alarmd_src;
        ow_web_live_apply(l, &dv.msg, from_busd, now);
        if (!from_busd && dv.msg.h.epoch != l->heard_epoch) {
            /* alarmd (re)started: what it holds (restored state, runtime
             * settings) need not be in its stream */
            l->heard_epoch = dv.msg.h.epoch;
            if (dv.msg.h.epoch != l->alarmd_epoch) l->want = 1;
        }
        rc = ow_sub_recv(l->sub, &dv, 0);
    }
    int64_t now = ow_mono_us();
    refresh(l);
    ow_web_live_check_quiet(l, now);
    ow_web_live_tick(l, now);
    return rc < 0 ? -1 : 0;
}

int ow_web_live_run(ow_web_live_t *l, volatile sig_atomic_t *stop)
{
    while (!*stop)
        if (ow_web_live_step(l, 10) < 0 && !*stop) {
            /* EINTR (a signal): the loop looks at stop again */
            continue;
        }
    const ow_sub_stats_t *ss = ow_sub_stats(l->sub);
    log_info("live: %llu messages, %llu gw events, %llu alarms events, %llu gateway silences, "
             "%llu snapshots (%llu failed), %llu lost on the bus",
             (unsigned long long)l->stats.messages, (unsigned long long)l->stats.published_gw,
             (unsigned long long)l->stats.published_alarms,
             (unsigned long long)l->stats.quiet_events, (unsigned long long)l->stats.snapshots,
             (unsigned long long)l->stats.snapshot_failed, (unsigned long long)(ss ? ss->lost : 0));
    return 0;
}
