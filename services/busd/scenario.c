/* Scenario files for the simulator. The event kinds and the keys each one
 * takes are the table below: the parser walks it to check a file and
 * ow_scenario_doc() walks it to write docs/scenarios.md, so the two cannot
 * disagree. Errors point at the offending value as FILE:LINE:COL: KEY. */
#include "scenario.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ow_battery.h"
#include "ow_config.h"

#define MAX_FILE_BYTES (1 << 20)
#define MAX_EVENTS     10000
#define MAX_TIME_S     (10 * 365 * 86400.0) /* ten years of simulated time */

/* ---- the table ---- */

enum { F_AT, F_DURATION, F_STRING, F_BLOCK, F_INPUT, F_CURRENT, F_RATE, F_VALUE, F_END_V, F_COUNT };

typedef struct {
    const char *key;
    int is_int;
    size_t off; /* into ow_event_t: a double, or an int when is_int */
    const char *unit;
} field_t;

/* The tables read better with a row's fields packed by meaning than one
 * field a line, so clang-format leaves them alone. */
/* clang-format off */
#define EV(m) offsetof(ow_event_t, m)
static const field_t fields[] = {
    [F_AT] = {.key = "at_s", .is_int = 0, .off = EV(at_s), .unit = "s"},
    [F_DURATION] = {.key = "duration_s", .is_int = 0, .off = EV(duration_s), .unit = "s"},
    [F_STRING] = {.key = "string", .is_int = 1, .off = EV(string), .unit = ""},
    [F_BLOCK] = {.key = "block", .is_int = 1, .off = EV(block), .unit = ""},
    [F_INPUT] = {.key = "input", .is_int = 1, .off = EV(input), .unit = ""},
    [F_CURRENT] = {.key = "current_a", .is_int = 0, .off = EV(current_a), .unit = "A"},
    [F_RATE] = {.key = "rate", .is_int = 0, .off = EV(rate), .unit = ""},
    [F_VALUE] = {.key = "value", .is_int = 0, .off = EV(value), .unit = ""},
    [F_END_V] = {.key = "end_v_per_cell", .is_int = 0, .off = EV(end_v_per_cell), .unit = "V"},
};
#undef EV
_Static_assert(sizeof fields / sizeof fields[0] == F_COUNT, "fields has a row for every F_ key");
/* clang-format on */

typedef struct {
    int field; /* F_*; F_COUNT ends the list */
    int required;
    double min, max, def;
    const char *doc;
} use_t;

#define USES_MAX 6

typedef struct {
    ow_event_kind_t kind;
    const char *name;
    const char *doc;
    use_t use[USES_MAX];
} kind_t;

/* clang-format off */
#define END {.field = F_COUNT}
#define STRING_ALL \
    {.field = F_STRING, .required = 1, .min = 0, .max = OW_MAX_STRINGS, \
     .doc = "string number (1-based); 0 = every string"}
#define STRING_ONE \
    {.field = F_STRING, .required = 1, .min = 1, .max = OW_MAX_STRINGS, \
     .doc = "string number (1-based)"}
#define BLOCK_ONE \
    {.field = F_BLOCK, .required = 1, .min = 1, .max = OW_MAX_MODULES, \
     .doc = "block position within the string (1-based)"}
#define DURATION(what) \
    {.field = F_DURATION, .required = 0, .min = 0, .max = MAX_TIME_S, .def = 0, .doc = what}

static const kind_t kinds[] = {
    [OW_EV_DISCHARGE] = {
        .kind = OW_EV_DISCHARGE,
        .name = "discharge",
        .doc = "Mains failure: the charger is disconnected and the load draws a constant "
               "current from each string. The terminal voltage sags at once by I*R plus the "
               "activation polarisation (logarithmic in the current), falls as charge is "
               "removed and collapses at the knee, where the charge accessible at this current "
               "runs out (sooner at a higher current or in the cold; what a fast discharge "
               "leaves is still there for a slow one). The load gives up at its end voltage "
               "(`end_v_per_cell`, or by the rate: see the model). When the event ends the "
               "charger recharges: constant current at the limit, then constant voltage with a "
               "tapering current, putting back about 1.08 x the Ah removed.",
        .use = {STRING_ALL,
                {.field = F_CURRENT, .required = 1, .min = 0, .max = 10000,
                 .doc = "discharge current per string, positive"},
                {.field = F_DURATION, .required = 1, .min = 0, .max = MAX_TIME_S,
                 .doc = "how long the mains stays off; 0 = until the end"},
                {.field = F_END_V, .required = 0, .min = 0, .max = 2.2, .def = 0,
                 .doc = "the load's end voltage, string average per cell (a block 0.07 V/cell "
                        "lower ends it too); 0 = 1.70 (or a block at 1.63) below 1C, 1.60 "
                        "from 1C"},
                END},
    },
    [OW_EV_IMPEDANCE_RISE] = {
        .kind = OW_EV_IMPEDANCE_RISE,
        .name = "impedance_rise",
        .doc = "A block's internal impedance grows linearly (corroding grid or connector). The "
               "module measures it at its impedance poll rate, so the reading steps up once per "
               "poll.",
        .use = {STRING_ONE,
                BLOCK_ONE,
                {.field = F_RATE, .required = 1, .min = 0, .max = 1000,
                 .doc = "growth in % of the initial impedance per simulated day"},
                DURATION("how long it keeps growing (the damage stays); 0 = until the end"),
                END},
    },
    [OW_EV_DRY_OUT] = {
        .kind = OW_EV_DRY_OUT,
        .name = "dry_out",
        .doc = "A block loses electrolyte: impedance and charge polarisation grow by rate "
               "%/day, capacity falls by rate/2 %/day, so its share of the float voltage rises "
               "(its equalizer starts to bypass) and it runs a little warmer.",
        .use = {STRING_ONE,
                BLOCK_ONE,
                {.field = F_RATE, .required = 1, .min = 0, .max = 100,
                 .doc = "impedance growth in % per simulated day"},
                DURATION("how long it keeps drying out (the damage stays); 0 = until the end"),
                END},
    },
    [OW_EV_MODULE_LOST] = {
        .kind = OW_EV_MODULE_LOST,
        .name = "module_lost",
        .doc = "A module stops answering on the bus: its readings are null with the no-response "
               "status, and the string's sum and average cover the remaining blocks.",
        .use = {STRING_ONE,
                BLOCK_ONE,
                DURATION("how long it stays silent; 0 = for good"),
                END},
    },
    [OW_EV_THERMAL_RUNAWAY] = {
        .kind = OW_EV_THERMAL_RUNAWAY,
        .name = "thermal_runaway",
        .doc = "The string's blocks lose their heat path and take more float current (rate 1: "
               "thermal resistance x3.1..x4.9 depending on the block's place, float current x9: "
               "the heavier block needs the stronger feedback to run away within hours). Float "
               "current doubles per 10 degC, the heat it makes raises the temperature further: "
               "temperature and current climb together over a few hours (capped at 90 degC; "
               "rate 1 about 3.6 h, 0.5 about 14 h). Below a rate of about 0.35 the string "
               "settles warmer instead.",
        .use = {STRING_ALL,
                {.field = F_RATE, .required = 0, .min = 0, .max = 10, .def = 1,
                 .doc = "severity factor; 1 = a credible runaway"},
                DURATION("how long the fault lasts; 0 = until the end"),
                END},
    },
    [OW_EV_HYDROGEN] = {
        .kind = OW_EV_HYDROGEN,
        .name = "hydrogen",
        .doc = "Hydrogen builds up towards the given concentration with a time constant of "
               "three minutes (and decays the same way after), while a GX_R_AUX input reports "
               "the gas alarm.",
        .use = {{.field = F_VALUE, .required = 1, .min = 0, .max = 100,
                 .doc = "hydrogen concentration reached, % LEL"},
                {.field = F_INPUT, .required = 1, .min = 1, .max = OW_AUX_POINTS,
                 .doc = "GX_R_AUX input in alarm (unit u input i = 4*(u-1)+i)"},
                DURATION("how long; 0 = until the end"),
                END},
    },
    [OW_EV_BREAKER_OPEN] = {
        .kind = OW_EV_BREAKER_OPEN,
        .name = "breaker_open",
        .doc = "A string's breaker opens: no current flows, the blocks relax from their loaded "
               "voltage towards their open-circuit EMF, and the breaker's auxiliary contact "
               "shows on an input.",
        .use = {STRING_ALL,
                {.field = F_INPUT, .required = 0, .min = 0, .max = OW_AUX_POINTS, .def = 0,
                 .doc = "GX_R_AUX input wired to the auxiliary contact; 0 = none"},
                DURATION("how long it stays open; 0 = until the end"),
                END},
    },
    [OW_EV_AUX_INPUT] = {
        .kind = OW_EV_AUX_INPUT,
        .name = "aux_input",
        .doc = "A GX_R_AUX input goes to alarm (door contact, fan failure, ...).",
        .use = {{.field = F_INPUT, .required = 1, .min = 1, .max = OW_AUX_POINTS,
                 .doc = "GX_R_AUX input (unit u input i = 4*(u-1)+i)"},
                DURATION("how long; 0 = until the end"),
                END},
    },
    [OW_EV_AMBIENT] = {
        .kind = OW_EV_AMBIENT,
        .name = "ambient",
        .doc = "The room temperature steps (air conditioning failure); blocks follow with their "
               "thermal time constant of about three hours. The daily swing of +-1.5 degC stays "
               "on top.",
        .use = {{.field = F_VALUE, .required = 1, .min = -40, .max = 70,
                 .doc = "new ambient temperature, degC"},
                DURATION("how long; 0 = for the rest of the run"),
                END},
    },
    [OW_EV_CHARGER_OFF] = {
        .kind = OW_EV_CHARGER_OFF,
        .name = "charger_off",
        .doc = "The string's charger is off while the load is still fed from the mains: no "
               "current, the blocks relax to open circuit and slowly self-discharge (3 %/month "
               "at 20 degC).",
        .use = {STRING_ALL,
                DURATION("how long; 0 = until the end"),
                END},
    },
};
/* The kinds are indexed by their enum: a kind without a row fails here
 * (a gap in the middle leaves a NULL name, which scenario_test catches). */
_Static_assert(sizeof kinds / sizeof kinds[0] == OW_EV_KINDS,
               "kinds has a row for every OW_EV_ kind");

static const use_t use_at = {
    .field = F_AT, .required = 1, .min = 0, .max = MAX_TIME_S,
    .doc = "when it starts, seconds of simulated time after the start"};
/* clang-format on */

const char *ow_event_kind_name(ow_event_kind_t k)
{
    return (int)k >= 0 && k < OW_EV_KINDS ? kinds[k].name : "?";
}

/* ---- the parser ---- */

typedef struct {
    const char *name;
    ow_jpos_t *pos;
    char *err;
    size_t errlen;
} ctx_t;

/* FILE:LINE:COL: PATH: reason, at the value of PATH or the nearest parent. */
#define fail(c, where, ...)                                                                        \
    ow_jpos_error((c)->pos, (c)->name, where, (c)->err, (c)->errlen, __VA_ARGS__)

static const use_t *find_use(const kind_t *k, int field)
{
    if (field == F_AT) return &use_at;
    for (int i = 0; i < USES_MAX && k->use[i].field != F_COUNT; i++)
        if (k->use[i].field == field) return &k->use[i];
    return NULL;
}

static int find_field(const char *key)
{
    for (int f = 0; f < F_COUNT; f++)
        if (!strcmp(fields[f].key, key)) return f;
    return -1;
}

static int find_kind(const char *name)
{
    for (int k = 0; k < OW_EV_KINDS; k++)
        if (!strcmp(kinds[k].name, name)) return k;
    return -1;
}

static void kind_list(char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int k = 0; k < OW_EV_KINDS && n < len; k++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", k ? ", " : "", kinds[k].name);
}

/* Whole numbers in full (315360000, not 3.1536e+08), others as %g. */
static const char *num(char *buf, size_t len, double x)
{
    if (x == floor(x) && fabs(x) < 1e15)
        snprintf(buf, len, "%.0f", x);
    else
        snprintf(buf, len, "%g", x);
    return buf;
}

static int set_field(ctx_t *c, const char *path, ow_event_t *ev, int f, const use_t *u, json_t *v)
{
    const field_t *fd = &fields[f];
    double x;
    if (fd->is_int) {
        if (!json_is_integer(v)) {
            fail(c, path, "must be an integer");
            return -1;
        }
        x = (double)json_integer_value(v);
    } else {
        if (!json_is_number(v)) {
            fail(c, path, "must be a number");
            return -1;
        }
        x = json_number_value(v);
    }
    if (!(x >= u->min && x <= u->max)) {
        char a[32], b[32];
        fail(c, path, "must be between %s and %s", num(a, sizeof a, u->min),
             num(b, sizeof b, u->max));
        return -1;
    }
    if (fd->is_int)
        *(int *)((char *)ev + fd->off) = (int)x;
    else
        *(double *)((char *)ev + fd->off) = x;
    return 0;
}

static int parse_event(ctx_t *c, int i, json_t *o, ow_event_t *ev)
{
    char path[128], kl[256];
    snprintf(path, sizeof path, "events[%d]", i);
    if (!json_is_object(o)) {
        fail(c, path, "must be an object");
        return -1;
    }
    json_t *t = json_object_get(o, "type");
    snprintf(path, sizeof path, "events[%d].type", i);
    if (!t) {
        kind_list(kl, sizeof kl);
        snprintf(path, sizeof path, "events[%d]", i);
        fail(c, path, "missing \"type\" (one of %s)", kl);
        return -1;
    }
    if (!json_is_string(t)) {
        fail(c, path, "must be a string");
        return -1;
    }
    int kn = find_kind(json_string_value(t));
    if (kn < 0) {
        kind_list(kl, sizeof kl);
        fail(c, path, "unknown event type \"%s\" (one of %s)", json_string_value(t), kl);
        return -1;
    }
    const kind_t *k = &kinds[kn];
    memset(ev, 0, sizeof *ev);
    ev->kind = k->kind;
    for (int u = 0; u < USES_MAX && k->use[u].field != F_COUNT; u++) {
        const field_t *fd = &fields[k->use[u].field];
        if (fd->is_int)
            *(int *)((char *)ev + fd->off) = (int)k->use[u].def;
        else
            *(double *)((char *)ev + fd->off) = k->use[u].def;
    }
    /* Keys in document order, so the first mistake in the file is the one named. */
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        snprintf(path, sizeof path, "events[%d].%s", i, key);
        if (!strcmp(key, "type")) continue;
        if (!strcmp(key, "note")) {
            if (!json_is_string(v)) {
                fail(c, path, "must be a string");
                return -1;
            }
            continue;
        }
        int f = find_field(key);
        const use_t *u = f >= 0 ? find_use(k, f) : NULL;
        if (!u) {
            fail(c, path, f >= 0 ? "not used by %s events" : "unknown key for %s events", k->name);
            return -1;
        }
        if (set_field(c, path, ev, f, u, v) < 0) return -1;
    }
    /* at_s first, then in the table's order. */
    for (int u = -1; u < USES_MAX && (u < 0 || k->use[u].field != F_COUNT); u++) {
        const use_t *us = u < 0 ? &use_at : &k->use[u];
        const char *fk = fields[us->field].key;
        if (us->required && !json_object_get(o, fk)) {
            snprintf(path, sizeof path, "events[%d]", i);
            fail(c, path, "missing \"%s\", required for %s events", fk, k->name);
            return -1;
        }
    }
    return 0;
}

typedef struct {
    ow_event_t ev;
    int order;
} sortable_t;

static int by_time(const void *a, const void *b)
{
    const sortable_t *x = a, *y = b;
    if (x->ev.at_s != y->ev.at_s) return x->ev.at_s < y->ev.at_s ? -1 : 1;
    return x->order - y->order; /* stable: file order among equal times */
}

ow_scenario_t *ow_scenario_parse(const char *text, const char *name, char *err, size_t errlen)
{
    ctx_t c = {name ? name : "scenario", NULL, err, errlen};
    json_error_t je;
    ow_scenario_t *sc = NULL;
    sortable_t *tmp = NULL;

    if (errlen) err[0] = '\0';
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: %s", c.name, je.line > 0 ? je.line : 1,
                 je.column > 0 ? je.column : 1, je.text);
        return NULL;
    }
    c.pos = ow_jpos_build(text, strlen(text));
    if (!json_is_object(root)) {
        fail(&c, "", "a scenario must be a JSON object");
        goto bad;
    }
    sc = calloc(1, sizeof *sc);
    if (!sc) {
        snprintf(err, errlen, "%s: out of memory", c.name);
        goto bad;
    }
    sc->time_of_day_s = -1;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (!strcmp(key, "name") || !strcmp(key, "description")) {
            if (!json_is_string(v)) {
                fail(&c, key, "must be a string");
                goto bad;
            }
            if (!strcmp(key, "name")) {
                if (strlen(json_string_value(v)) >= sizeof sc->name) {
                    fail(&c, key, "must be at most %zu characters", sizeof sc->name - 1);
                    goto bad;
                }
                snprintf(sc->name, sizeof sc->name, "%s", json_string_value(v));
            }
        } else if (!strcmp(key, "seed")) {
            if (!json_is_integer(v) || json_integer_value(v) < 0) {
                fail(&c, key, "must be a non-negative integer");
                goto bad;
            }
            sc->seed = (uint64_t)json_integer_value(v);
        } else if (!strcmp(key, "time_of_day_s")) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 86399) {
                fail(&c, key, "must be an integer 0..86399 (seconds after UTC midnight)");
                goto bad;
            }
            sc->time_of_day_s = (int)json_integer_value(v);
        } else if (!strcmp(key, "events")) {
            if (!json_is_array(v)) {
                fail(&c, key, "must be an array");
                goto bad;
            }
            if (json_array_size(v) > MAX_EVENTS) {
                fail(&c, key, "at most %d events", MAX_EVENTS);
                goto bad;
            }
        } else {
            fail(&c, key, "unknown key (name, description, seed, time_of_day_s, events)");
            goto bad;
        }
    }
    json_t *evs = json_object_get(root, "events");
    if (!evs) {
        fail(&c, "events", "required");
        goto bad;
    }
    if (!sc->name[0]) {
        /* Default name: the file name without directory and extension. */
        const char *base = strrchr(c.name, '/');
        snprintf(sc->name, sizeof sc->name, "%s", base ? base + 1 : c.name);
        char *dot = strrchr(sc->name, '.');
        if (dot && dot != sc->name) *dot = '\0';
    }
    size_t n = json_array_size(evs);
    tmp = calloc(n ? n : 1, sizeof *tmp);
    sc->events = calloc(n ? n : 1, sizeof *sc->events);
    if (!tmp || !sc->events) {
        snprintf(err, errlen, "%s: out of memory", c.name);
        goto bad;
    }
    for (size_t i = 0; i < n; i++) {
        if (parse_event(&c, (int)i, json_array_get(evs, i), &tmp[i].ev) < 0) goto bad;
        tmp[i].order = (int)i;
    }
    qsort(tmp, n, sizeof *tmp, by_time);
    for (size_t i = 0; i < n; i++)
        sc->events[i] = tmp[i].ev;
    sc->nevents = (int)n;
    free(tmp);
    ow_jpos_destroy(&c.pos);
    json_decref(root);
    return sc;

bad:
    free(tmp);
    ow_scenario_destroy(&sc);
    ow_jpos_destroy(&c.pos);
    json_decref(root);
    return NULL;
}

ow_scenario_t *ow_scenario_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
    int rerr = ferror(f);
    fclose(f);
    if (!buf || rerr) {
        snprintf(err, errlen, "%s: cannot read: %s", path, buf ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    if (n > MAX_FILE_BYTES) {
        snprintf(err, errlen, "%s: larger than %d bytes", path, MAX_FILE_BYTES);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        snprintf(err, errlen, "%s:1:1: contains a NUL byte", path);
        free(buf);
        return NULL;
    }
    ow_scenario_t *sc = ow_scenario_parse(buf, path, err, errlen);
    free(buf);
    return sc;
}

void ow_scenario_destroy(ow_scenario_t **sc)
{
    if (!sc || !*sc) return;
    free((*sc)->events);
    free(*sc);
    *sc = NULL;
}

/* ---- documentation from the same table ---- */

static void doc_use(FILE *out, const use_t *u)
{
    const field_t *fd = &fields[u->field];
    char a[32], b[32], d[32];
    fprintf(out, "| `%s` | %s | %s..%s%s%s | %s | %s |\n", fd->key, u->required ? "yes" : "no",
            num(a, sizeof a, u->min), num(b, sizeof b, u->max), *fd->unit ? " " : "", fd->unit,
            u->required ? "" : num(d, sizeof d, u->def), u->doc);
}

/* The chemistry rows the simulator runs on (lib/ow_battery.c), so the
 * figures in the document are the ones in the code. */
static void doc_chemistries(FILE *out)
{
    static const struct {
        const char *name, *unit, *physics;
        size_t off;
    } rows[] = {
        /* clang-format off */
        {.name = "ocv_full_v", .unit = "V", .off = offsetof(ow_chemistry_t, ocv_full_v),
         .physics = "EMF of a full cell (acid specific gravity + 0.845 V)"},
        {.name = "emf_span_v", .unit = "V", .off = offsetof(ow_chemistry_t, emf_span_v),
         .physics = "EMF lost as C10 is removed (acid dilution)"},
        {.name = "float_v", .unit = "V", .off = offsetof(ow_chemistry_t, float_v),
         .physics = "float voltage (default of `sim.float_v_per_cell`)"},
        {.name = "float_ma_per_ah", .unit = "mA/Ah",
         .off = offsetof(ow_chemistry_t, float_ma_per_ah),
         .physics = "float current of a full cell at 25 degC (sets Rp0)"},
        {.name = "mohm_ah", .unit = "mOhm Ah", .off = offsetof(ow_chemistry_t, mohm_ah),
         .physics = "internal resistance x C10 per cell"},
        {.name = "tafel_v", .unit = "V", .off = offsetof(ow_chemistry_t, tafel_v),
         .physics = "activation polarisation per e-fold of current"},
        {.name = "tafel_r0", .unit = "I10", .off = offsetof(ow_chemistry_t, tafel_r0),
         .physics = "current where the Tafel term turns logarithmic"},
        {.name = "knee_v", .unit = "V", .off = offsetof(ow_chemistry_t, knee_v),
         .physics = "concentration polarisation scale (sharpness of the knee)"},
        {.name = "acc_max", .unit = "C10", .off = offsetof(ow_chemistry_t, acc_max),
         .physics = "charge a trickle discharge could reach"},
        {.name = "acc_rc", .unit = "I10", .off = offsetof(ow_chemistry_t, acc_rc),
         .physics = "rate at which the accessible charge has halved from acc_max"},
        {.name = "acc_n", .unit = "", .off = offsetof(ow_chemistry_t, acc_n),
         .physics = "how steeply the accessible charge falls with rate"},
        {.name = "cap_per_c", .unit = "1/degC", .off = offsetof(ow_chemistry_t, cap_per_c),
         .physics = "capacity change per degC around 25 degC"},
        {.name = "charge_eff", .unit = "", .off = offsetof(ow_chemistry_t, charge_eff),
         .physics = "Ah stored per Ah charged below full"},
        {.name = "kg_per_cell_ah", .unit = "kg", .off = offsetof(ow_chemistry_t, kg_per_cell_ah),
         .physics = "mass per cell and Ah (thermal mass)"},
        {.name = "heat_j_per_gk", .unit = "J/g/K", .off = offsetof(ow_chemistry_t, heat_j_per_gk),
         .physics = "specific heat"},
        /* clang-format on */
    };
    fprintf(out, "### Chemistry figures (per 2 V cell)\n\n| figure | unit |");
    for (size_t c = 0; c < ow_chemistries_count; c++)
        fprintf(out, " %s |", ow_chemistries[c].name);
    fprintf(out, " physics |\n|---|---|");
    for (size_t c = 0; c < ow_chemistries_count; c++)
        fprintf(out, "---|");
    fprintf(out, "---|\n");
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        fprintf(out, "| `%s` | %s |", rows[r].name, rows[r].unit);
        for (size_t c = 0; c < ow_chemistries_count; c++)
            fprintf(out, " %.4g |",
                    *(const double *)((const char *)&ow_chemistries[c] + rows[r].off));
        fprintf(out, " %s |\n", rows[r].physics);
    }
    fprintf(out, "\n");
    for (size_t c = 0; c < ow_chemistries_count; c++)
        fprintf(out, "- %s (%s): %s\n", ow_chemistries[c].name, ow_chemistries[c].title,
                ow_chemistries[c].source);
    fprintf(out, "\n");
}

int ow_scenario_doc(FILE *out)
{
    fprintf(out,
            "# Simulator scenarios\n\n"
            "<!-- Generated by ow-scenario-doc from the table in services/busd/scenario.c; "
            "do not edit. -->\n\n"
            "A scenario is a JSON file that drives the battery simulator (a gateway with "
            "`\"source\": \"sim\"` and `sim.scenario` set in the site file): a timeline of "
            "mains failures, faults and room changes, applied by simulated time since the "
            "simulator started. Simulated time starts at busd's `epoch` (the wall clock of "
            "its boot, in every message it publishes), so an event at `at_s` shows in the "
            "first reading stamped `epoch` + `at_s` or later. Examples are in "
            "`etc/scenarios/`.\n\n"
            "Between events the simulated batteries float on their chargers. Each block has "
            "its own capacity, impedance and charge polarisation (a few %% apart), ages with "
            "the years since `battery.installed`, warms with its losses and follows the room "
            "temperature with a time constant of a few hours (5.3 h for a 12 V 50 Ah block); the "
            "module equalizers "
            "slowly pull the high blocks of a string down to its average. The room follows a "
            "daily swing of +-1.5 degC peaking mid-afternoon UTC. A run is deterministic for a "
            "given seed and `time_of_day_s`; without `time_of_day_s` the swing starts at the "
            "wall clock's time of day, so two runs of one seed differ by a few thousandths "
            "of a degree per minute between their starts.\n\n"
            "## File\n\n"
            "| key | type | required | meaning |\n"
            "|---|---|---|---|\n"
            "| `name` | string (max 63) | no | shown in logs; default: the file name |\n"
            "| `description` | string | no | free text |\n"
            "| `seed` | integer >= 0 | no | overrides the site's `sim.seed`; 0 = use the site's |\n"
            "| `time_of_day_s` | integer 0..86399 | no | simulated time of day at the start "
            "(s after UTC midnight) for the daily swing; default: the wall clock's |\n"
            "| `events` | array of objects | yes | the timeline, in any order (sorted by "
            "`at_s`, file order among equal times) |\n\n"
            "Every event has `type` (one of the kinds below) and `at_s`; an optional `note` "
            "(string) is ignored. Any other key must be one the kind takes. An event with a "
            "`duration_s` is active from `at_s` for that long; 0 means until the end of the "
            "run. Strings, blocks and inputs are checked against the gateway when the "
            "simulator starts; events naming ones it does not have are logged and "
            "ignored.\n\n"
            "Errors name the file, line, column and key, e.g.\n\n"
            "    dis.json:4:32: events[1].current_a: must be between 0 and 10000\n\n"
            "## The model in figures\n\n"
            "Per block: x = Ah removed / C10 (the Ah that actually left; nothing is "
            "counted twice), r = I / I10, cells = nominal V / 2. The electrochemical "
            "figures are the row of `battery.chemistry` (table below, lib/ow_battery.c).\n\n"
            "| quantity | model |\n"
            "|---|---|\n"
            "| EMF | cells x (ocv_full_v - emf_span_v x) V: acid diluting as charge leaves |\n"
            "| capacity C10 | `battery.capacity_ah`, +-3 %% per block (1 sigma); dry-out "
            "takes it down |\n"
            "| accessible charge | x_acc(r, T) = acc_max / (1 + (r / acc_rc)^acc_n) x (1 + "
            "cap_per_c (T - 25 degC)): acid cannot diffuse into the plates as fast as a high "
            "current uses it, so a fast discharge ends with charge left that a slower one "
            "or a rest still delivers (the Peukert effect without losing charge); a cold "
            "block has less (IEEE 450's temperature correction) |\n"
            "| discharge | V = EMF - I R - cells (tafel_v ln(1 + r / tafel_r0) + knee_v x / "
            "(x_acc - x)): ohmic, activation (Tafel: grows with log I, so 2C starts at about "
            "1.87 V/cell, not below 1.75) and concentration polarisation, which makes the "
            "knee as x nears x_acc; soft floor at 1.40 V/cell |\n"
            "| load end voltage | the discharge event's `end_v_per_cell` (string average), a block "
            "0.07 V/cell below it also ending the discharge; without it 1.70 V/cell or one "
            "block at 1.63 V/cell below 1C, 1.60 V/cell on the string alone from 1C (a UPS "
            "watches its bus voltage; at 2C the weakest block's knee comes minutes before "
            "the string's) |\n"
            "| impedance R | `battery.impedance_mohm` (default mohm_ah x cells / C10) +-4 %%, "
            "+2..4 %%/year since `battery.installed`, x(1 + 0.5 x^2), -1 %%/degC above 25 "
            "degC |\n"
            "| charge | V = EMF + I (R + Rp), Rp = Rp0 / (1 - SOC + 0.01)^2, halving per +10 "
            "degC; Rp0 +-5 %% per block, set for the chemistry's float current at 25 "
            "degC |\n"
            "| charger | string voltage = blocks x cells x `sim.float_v_per_cell` (default the "
            "chemistry's float_v), current limit `sim.charge_limit_c` x C10; charge_eff of "
            "the Ah charged is stored (gassing and overcharge take the rest), so a recharge "
            "needs about 1.08 x the Ah removed |\n"
            "| equalizer | bypass up to the module's current, full at +50 mV above the string "
            "average, moving at most 2 %%/h, only on charge and within the equalizing "
            "range |\n"
            "| thermal | dT/dt = (Rth P - (T - Tenv)) / tau, Rth 1.5 K/W for a 12 V 50 Ah "
            "block (x size^-2/3: cooling goes with the surface), tau = Rth x mass x "
            "heat_j_per_gk, mass = kg_per_cell_ah x cells x C10 (16 kg x 0.8 J/g/K: 5.3 h "
            "for a 12 V 50 Ah block), Tenv = ambient +-0.8 degC by position, capped at 90 "
            "degC |\n"
            "| ambient | `sim.ambient_c` +-1.5 degC daily (peak 15:00 UTC); humidity 45 %% "
            "+-3 %% |\n"
            "| readings | voltage sigma 2 mV in 1 mV steps, temperature sigma 0.1 degC in "
            "0.5 degC steps, impedance +-1 %% in steps of three significant digits (0.01 "
            "mOhm for a 4.6 mOhm block, 0.001 mOhm for a 0.24 mOhm 1000 Ah cell) measured "
            "every `impedance_poll_min`, current sigma 0.2 %% + 0.01 A |\n\n");
    doc_chemistries(out);
    fprintf(out, "## Calibration\n\n"
                 "The VRLA row is fitted to the constant-current table of a real 12 V VRLA "
                 "monobloc, \"s.l.a battery type 12v - 40Ah specification\" "
                 "(<http://vinachem.com.vn/TCTYHC/GifAdv/Tiasang/DTKT/12V-40AH.htm>: 40 Ah in "
                 "20 h to 10.8 V, 37.2 Ah in 10 h to 10.5 V, 34 Ah in 5 h to 10.2 V, 24 Ah in "
                 "1 h to 9.6 V; 90 %% capacity at 10 degC and 103 %% at 30 degC; 16 kg), scaled "
                 "to a 50 Ah (C10) block by current / C10. The 2C row is the UPS requirement, "
                 "not from that sheet. `services/busd/sim_test.c` walks the same rows "
                 "(string of 9 blocks, average per cell, 25 degC) and checks each within its "
                 "tolerance.\n\n"
                 "| current, 50 Ah block | end voltage, V/cell | datasheet runtime | tolerance | "
                 "simulated |\n"
                 "|---|---|---|---|---|\n"
                 "| 2.69 A (0.054 C10) | 1.80 | 20 h | +-5 %% | 19.8 h |\n"
                 "| 5.00 A (0.1 C10) | 1.75 | 10 h | +-5 %% | 9.9 h |\n"
                 "| 9.14 A (0.18 C10) | 1.70 | 5 h | +-5 %% | 4.9 h |\n"
                 "| 32.3 A (0.65 C10, the 1 h rate: 64.5 %% of C10) | 1.60 | 1 h | +-5 %% | "
                 "1.0 h |\n"
                 "| 100 A (2 C10) | 1.67 | at least 10 min | minimum | 12.6 min |\n\n"
                 "At the C10 rate a block at 10 degC runs 0.90 x as long as at 25 degC. The "
                 "flooded row shares the VRLA rate behaviour per Ah with its own EMF (2.06 V at "
                 "1.215 specific gravity, about 1.93 V at C10 removed): a 60 x 2 V 1000 Ah "
                 "string ends a 100 A discharge at 1.75 V/cell after about 9.7 h.\n\n"
                 "## Event kinds\n\n");
    for (int k = 0; k < OW_EV_KINDS; k++) {
        const kind_t *kd = &kinds[k];
        fprintf(out, "### `%s`\n\n%s\n\n", kd->name, kd->doc);
        fprintf(out, "| key | required | range | default | meaning |\n|---|---|---|---|---|\n");
        doc_use(out, &use_at);
        for (int u = 0; u < USES_MAX && kd->use[u].field != F_COUNT; u++)
            doc_use(out, &kd->use[u]);
        fprintf(out, "\n");
    }
    fprintf(out, "## Example\n\n"
                 "```json\n"
                 "{\n"
                 "  \"name\": \"discharge\",\n"
                 "  \"events\": [\n"
                 "    {\"at_s\": 300, \"type\": \"discharge\", \"string\": 0, \"current_a\": 25,\n"
                 "     \"duration_s\": 1800, \"note\": \"0.5C mains failure\"},\n"
                 "    {\"at_s\": 7200, \"type\": \"module_lost\", \"string\": 2, \"block\": 5,\n"
                 "     \"duration_s\": 600}\n"
                 "  ]\n"
                 "}\n"
                 "```\n");
    return ferror(out) ? -1 : 0;
}
