/* Register maps of field devices (see fieldmap.h): the loader, the request
 * planner and the decoder. The quantities, the entities and the value types
 * are tables that the loader, the fit check and docs/maps.md all walk. */
#include "fieldmap.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- the tables ---- */

/* The tables read better packed, one row per line or two, than one member a
 * line, so clang-format leaves them alone. */
/* clang-format off */
static const struct {
    const char *key; /* in the map file */
    int max;         /* highest index (0 for points) */
    const char *doc;
} ents[] = {
    [OW_FM_E_POINT] = {.key = "points", .max = 0, .doc = "single values of the device"},
    [OW_FM_E_STRING] = {.key = "strings", .max = OW_MAX_STRINGS, .doc = "per string, 1-16"},
    [OW_FM_E_MODULE] = {.key = "modules", .max = OW_MAX_MODULES,
                        .doc = "per module (webmanager module address), 1-520"},
    [OW_FM_E_AUX_IN] = {.key = "aux_inputs", .max = OW_AUX_POINTS,
                        .doc = "per GX_R_AUX input, 4 x (unit - 1) + input, 1-16; non-zero: in "
                               "alarm"},
    [OW_FM_E_AUX_OUT] = {.key = "aux_outputs", .max = OW_AUX_POINTS,
                         .doc = "per GX_R_AUX output, 4 x (unit - 1) + output, 1-16; non-zero: on"},
};

/* The ranges are the wire's (proto/README.md): a decoded value outside them
 * is no measurement, and is published as null rather than refused whole. */
static const struct {
    const char *key;
    int ent;
    double min, max;
    const char *doc;
} qtys[] = {
    [OW_FM_GENERAL] = {.key = "general_flags", .ent = OW_FM_E_POINT, .min = 0, .max = 65535,
                       .doc = "General Status Flags word (`device` message `general`)"},
    [OW_FM_BATTERY] = {.key = "battery_flags", .ent = OW_FM_E_POINT, .min = 0, .max = 65535,
                       .doc = "Battery Status Flags word"},
    [OW_FM_ALARM] = {.key = "alarm_flags", .ent = OW_FM_E_POINT, .min = 0, .max = 65535,
                     .doc = "Alarm Flags word"},
    [OW_FM_NSTRINGS] = {.key = "strings", .ent = OW_FM_E_POINT, .min = 0, .max = 65535,
                        .doc = "strings the device reports"},
    [OW_FM_NMODULES] = {.key = "modules", .ent = OW_FM_E_POINT, .min = 0, .max = 65535,
                        .doc = "modules the device reports"},
    [OW_FM_AMBIENT] = {.key = "ambient_c", .ent = OW_FM_E_POINT, .min = -50, .max = 100,
                       .doc = "ambient temperature, degC"},
    [OW_FM_HUMIDITY] = {.key = "humidity_pct", .ent = OW_FM_E_POINT, .min = 0, .max = 100,
                        .doc = "relative humidity, %; null when the map has none"},
    [OW_FM_HYDROGEN] = {.key = "hydrogen_pct_lel", .ent = OW_FM_E_POINT, .min = 0, .max = 100,
                        .doc = "hydrogen, % LEL"},
    [OW_FM_STR_CURRENT] = {.key = "current_a", .ent = OW_FM_E_STRING, .min = -100000, .max = 100000,
                           .doc = "DC current, A, + charging (negate with a negative scale if the "
                                  "device counts discharge positive)"},
    [OW_FM_STR_SUM] = {.key = "sum_voltage_v", .ent = OW_FM_E_STRING, .min = 0, .max = 5000,
                       .doc = "string voltage, V; without it, the sum of the answering blocks"},
    [OW_FM_STR_AVG] = {.key = "avg_voltage_v", .ent = OW_FM_E_STRING, .min = 0, .max = 100,
                       .doc = "average block voltage, V; without it, computed from the blocks"},
    [OW_FM_STR_AC] = {.key = "ac_current_a", .ent = OW_FM_E_STRING, .min = 0, .max = 100000,
                      .doc = "AC ripple current (RMS), A"},
    [OW_FM_STR_RIPPLE] = {.key = "ripple_v", .ent = OW_FM_E_STRING, .min = 0, .max = 1000,
                          .doc = "AC ripple voltage on the string (RMS), V (the webmanager's "
                                 "Ripple Voltage; not in the G.BMS register map)"},
    [OW_FM_MOD_TEMP] = {.key = "temp_c", .ent = OW_FM_E_MODULE, .min = -50, .max = 150,
                        .doc = "block temperature, degC"},
    [OW_FM_MOD_VOLT] = {.key = "voltage_v", .ent = OW_FM_E_MODULE, .min = 0, .max = 100,
                        .doc = "block voltage, V"},
    [OW_FM_MOD_IMPC] = {.key = "impedance_mohm", .ent = OW_FM_E_MODULE, .min = 0, .max = 10000,
                        .doc = "block impedance, mOhm"},
    [OW_FM_MOD_FLAGS] = {.key = "flags", .ent = OW_FM_E_MODULE, .min = 0, .max = 65535,
                         .doc = "the module's alarm word (`device` message `module_flags`); bits "
                                "in `module_lost_mask` mean the module does not answer"},
    [OW_FM_MOD_EQ] = {.key = "eq_pct", .ent = OW_FM_E_MODULE, .min = 0, .max = 100,
                      .doc = "equalizer bypass, % (> 0: equalizing)"},
    [OW_FM_AUX_IN] = {.key = "state", .ent = OW_FM_E_AUX_IN, .min = -65536, .max = 65536,
                      .doc = "input state, non-zero: in alarm"},
    [OW_FM_AUX_OUT] = {.key = "state", .ent = OW_FM_E_AUX_OUT, .min = -65536, .max = 65536,
                       .doc = "output state, non-zero: on"},
};

static const struct {
    const char *key;
    int words; /* registers (or bits) */
    const char *doc;
} types[] = {
    [OW_FM_U16] = {.key = "u16", .words = 1, .doc = "unsigned 16-bit register"},
    [OW_FM_S16] = {.key = "s16", .words = 1, .doc = "signed (two's complement) 16-bit register"},
    [OW_FM_U32] = {.key = "u32", .words = 2,
                   .doc = "unsigned 32-bit, two registers in `word_order`"},
    [OW_FM_S32] = {.key = "s32", .words = 2, .doc = "signed 32-bit, two registers in `word_order`"},
    [OW_FM_F32] = {.key = "float32", .words = 2,
                   .doc = "IEEE 754 single, two registers in `word_order`"},
    [OW_FM_BIT] = {.key = "bit", .words = 1,
                   .doc = "a coil (FC 01) or discrete input (FC 02): 0 or 1"},
};
#define NTYPES ((int)(sizeof types / sizeof types[0]))
/* clang-format on */
_Static_assert(sizeof ents / sizeof ents[0] == OW_FM_NE, "a row per entity");
_Static_assert(sizeof qtys / sizeof qtys[0] == OW_FM_NQ, "a row per quantity");
_Static_assert(NTYPES == OW_FM_BIT + 1, "a row per ow_fm_type_t (OW_FM_BIT is the last)");

#define MAX_SECTIONS 64
#define MAX_READABLE 64
#define MAX_INVALID  8
#define PATH_LEN     256

typedef struct {
    ow_fm_qty_t q;
    int fc;
    int at; /* register offset in an entry; the address for points */
    ow_fm_type_t type;
    int low_first; /* 32-bit: low word first */
    double scale, offset;
    int ninv;
    double inv[MAX_INVALID]; /* raw values that mean "not measured" */
} vspec_t;

typedef struct {
    int ent;
    int first, last, address, stride; /* points: 0, 0, 0, 1 */
    int nv;
    vspec_t v[OW_FM_NQ];
} section_t;

struct ow_fm {
    char name[256];
    int max_regs, max_bits;
    uint16_t lost_mask;
    int nread;
    int readable[MAX_READABLE][2]; /* FC 03/04 */
    int nsec;
    section_t sec[MAX_SECTIONS];
};

/* ---- loading ---- */

typedef struct {
    const char *file;
    ow_jpos_t *pos;
    char *err;
    size_t errlen;
} ctx_t;

/* The error at path; -1. */
#define fail(c, where, ...)                                                                        \
    ow_jpos_error((c)->pos, (c)->file, where, (c)->err, (c)->errlen, __VA_ARGS__)

/* path.key, or the key alone at the root. A path cut short (only from
 * absurd keys) only names things in messages. */
static void pkey(char *out, size_t len, const char *path, const char *key)
{
    int n = path[0] ? snprintf(out, len, "%s.%s", path, key) : snprintf(out, len, "%s", key);
    if (n < 0) out[0] = '\0';
}

/* Only the keys in allowed[] (NULL-terminated). */
static int known_keys(ctx_t *c, json_t *obj, const char *path, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        int ok = 0;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = strcmp(k, allowed[i]) == 0;
        if (!ok) {
            char p[PATH_LEN];
            pkey(p, sizeof p, path, k);
            return fail(c, p, "unknown key");
        }
    }
    return 0;
}

/* An integer member in [lo, hi]; def when absent (required if def < lo). */
static int get_int(ctx_t *c, json_t *obj, const char *path, const char *key, long lo, long hi,
                   long def, int *out)
{
    char p[PATH_LEN];
    json_t *v = json_object_get(obj, key);
    pkey(p, sizeof p, path, key);
    if (!v) {
        if (def < lo) return fail(c, p, "required key missing");
        *out = (int)def;
        return 0;
    }
    if (!json_is_integer(v)) return fail(c, p, "expected an integer");
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi) return fail(c, p, "must be between %ld and %ld", lo, hi);
    *out = (int)x;
    return 0;
}

static int get_num(ctx_t *c, json_t *obj, const char *path, const char *key, double def,
                   int nonzero, double *out)
{
    char p[PATH_LEN];
    json_t *v = json_object_get(obj, key);
    pkey(p, sizeof p, path, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_number(v)) return fail(c, p, "expected a number");
    double x = json_number_value(v);
    if (!isfinite(x) || fabs(x) > 1e12) return fail(c, p, "must be a finite number");
    if (nonzero && x == 0) return fail(c, p, "must not be 0");
    *out = x;
    return 0;
}

static int word_order(ctx_t *c, json_t *obj, const char *path, int def, int *low_first)
{
    char p[PATH_LEN];
    json_t *v = json_object_get(obj, "word_order");
    pkey(p, sizeof p, path, "word_order");
    if (!v) {
        *low_first = def;
        return 0;
    }
    const char *s = json_string_value(v);
    if (s && strcmp(s, "big") == 0)
        *low_first = 0;
    else if (s && strcmp(s, "little") == 0)
        *low_first = 1;
    else
        return fail(c, p, "must be \"big\" (high word first) or \"little\" (low word first)");
    return 0;
}

typedef struct {
    int fc, low_first;
} defaults_t;

static int parse_value(ctx_t *c, json_t *o, const char *path, int is_point, const defaults_t *d,
                       vspec_t *vs)
{
    static const char *const point_keys[] = {"address", "type",   "fc",      "word_order",
                                             "scale",   "offset", "invalid", NULL};
    static const char *const entry_keys[] = {"at",    "type",   "fc",      "word_order",
                                             "scale", "offset", "invalid", NULL};
    char p[PATH_LEN];
    if (!json_is_object(o)) return fail(c, path, "expected an object");
    if (known_keys(c, o, path, is_point ? point_keys : entry_keys) < 0) return -1;
    if (get_int(c, o, path, is_point ? "address" : "at", 0, 65535, -1, &vs->at) < 0) return -1;
    if (get_int(c, o, path, "fc", 1, 4, d->fc, &vs->fc) < 0) return -1;
    json_t *t = json_object_get(o, "type");
    pkey(p, sizeof p, path, "type");
    if (!t) return fail(c, p, "required key missing");
    const char *ts = json_string_value(t);
    int ti = 0;
    while (ti < NTYPES && !(ts && strcmp(ts, types[ti].key) == 0))
        ti++;
    if (ti == NTYPES) return fail(c, p, "must be one of u16, s16, u32, s32, float32, bit");
    vs->type = (ow_fm_type_t)ti;
    if ((vs->type == OW_FM_BIT) != (vs->fc <= 2))
        return fail(c, p,
                    "%s with function code %d: bits are read with FC 01/02, registers "
                    "with FC 03/04",
                    ts, vs->fc);
    if (word_order(c, o, path, d->low_first, &vs->low_first) < 0) return -1;
    if (get_num(c, o, path, "scale", 1, 1, &vs->scale) < 0) return -1;
    if (get_num(c, o, path, "offset", 0, 0, &vs->offset) < 0) return -1;
    json_t *inv = json_object_get(o, "invalid");
    pkey(p, sizeof p, path, "invalid");
    if (inv && (!json_is_array(inv) || json_array_size(inv) > MAX_INVALID))
        return fail(c, p, "expected an array of at most %d raw values", MAX_INVALID);
    vs->ninv = 0;
    for (size_t i = 0; inv && i < json_array_size(inv); i++) {
        json_t *x = json_array_get(inv, i);
        char ip[PATH_LEN], key[48];
        snprintf(key, sizeof key, "invalid[%zu]", i);
        pkey(ip, sizeof ip, path, key);
        if (!json_is_number(x)) return fail(c, ip, "expected a number (a raw register value)");
        vs->inv[vs->ninv++] = json_number_value(x);
    }
    if (is_point && vs->at + types[vs->type].words - 1 > 65535)
        return fail(c, path, "runs past address 65535");
    return 0;
}

/* The "values" of a section (or the "points" object): each key a quantity of
 * the entity. */
static int parse_values(ctx_t *c, json_t *vals, const char *path, int ent, const defaults_t *d,
                        section_t *s)
{
    const char *k;
    json_t *v;
    if (!json_is_object(vals)) return fail(c, path, "expected an object");
    s->nv = 0;
    json_object_foreach(vals, k, v)
    {
        char p[PATH_LEN];
        pkey(p, sizeof p, path, k);
        int q = 0;
        while (q < OW_FM_NQ && !(qtys[q].ent == ent && strcmp(qtys[q].key, k) == 0))
            q++;
        if (q == OW_FM_NQ) {
            char list[256] = "";
            size_t n = 0;
            for (int i = 0; i < OW_FM_NQ; i++)
                if (qtys[i].ent == ent && n < sizeof list)
                    n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "",
                                          qtys[i].key);
            return fail(c, p, "unknown quantity (%s has %s)", ents[ent].key, list);
        }
        vspec_t *vs = &s->v[s->nv++];
        vs->q = (ow_fm_qty_t)q;
        if (parse_value(c, v, p, ent == OW_FM_E_POINT, d, vs) < 0) return -1;
        if (ent != OW_FM_E_POINT && vs->at + types[vs->type].words > s->stride)
            return fail(c, p, "registers %d..%d of an entry do not fit in its stride %d", vs->at,
                        vs->at + types[vs->type].words - 1, s->stride);
    }
    if (s->nv == 0) return fail(c, path, "no values");
    return 0;
}

static int parse_sections(ctx_t *c, json_t *root, int ent, const defaults_t *d, ow_fm_t *m)
{
    static const char *const sec_keys[] = {"first", "last",       "address", "stride",
                                           "fc",    "word_order", "values",  NULL};
    json_t *arr = json_object_get(root, ents[ent].key);
    if (!arr) return 0;
    if (!json_is_array(arr)) return fail(c, ents[ent].key, "expected an array of sections");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        char p[PATH_LEN], vp[PATH_LEN];
        snprintf(p, sizeof p, "%s[%zu]", ents[ent].key, i);
        if (!json_is_object(o)) return fail(c, p, "expected an object");
        if (known_keys(c, o, p, sec_keys) < 0) return -1;
        if (m->nsec == MAX_SECTIONS) return fail(c, p, "more than %d sections", MAX_SECTIONS);
        section_t *s = &m->sec[m->nsec];
        memset(s, 0, sizeof *s);
        s->ent = ent;
        defaults_t sd = *d;
        if (get_int(c, o, p, "first", 1, ents[ent].max, -1, &s->first) < 0 ||
            get_int(c, o, p, "last", 1, ents[ent].max, -1, &s->last) < 0 ||
            get_int(c, o, p, "address", 0, 65535, -1, &s->address) < 0 ||
            get_int(c, o, p, "stride", 1, 1000, -1, &s->stride) < 0 ||
            get_int(c, o, p, "fc", 1, 4, d->fc, &sd.fc) < 0 ||
            word_order(c, o, p, d->low_first, &sd.low_first) < 0)
            return -1;
        if (s->last < s->first) {
            pkey(vp, sizeof vp, p, "last");
            return fail(c, vp, "%d is below first (%d)", s->last, s->first);
        }
        if ((long)s->address + (long)s->stride * (s->last - s->first + 1) - 1 > 65535)
            return fail(c, p, "runs past address 65535");
        for (int j = 0; j < m->nsec; j++) {
            const section_t *o2 = &m->sec[j];
            if (o2->ent == ent && s->first <= o2->last && o2->first <= s->last)
                return fail(c, p, "%s %d-%d overlap an earlier section's %d-%d", ents[ent].key,
                            s->first, s->last, o2->first, o2->last);
        }
        json_t *vals = json_object_get(o, "values");
        pkey(vp, sizeof vp, p, "values");
        if (!vals) return fail(c, vp, "required key missing");
        if (parse_values(c, vals, vp, ent, &sd, s) < 0) return -1;
        m->nsec++;
    }
    return 0;
}

static int parse_map(ctx_t *c, json_t *root, ow_fm_t *m)
{
    static const char *const top[] = {"name",          "doc",      "fc",       "word_order",
                                      "max_registers", "max_bits", "readable", "module_lost_mask",
                                      "points",        "strings",  "modules",  "aux_inputs",
                                      "aux_outputs",   NULL};
    int lost = 0;
    defaults_t d;
    if (!json_is_object(root)) return fail(c, "", "expected an object at the top level");
    if (known_keys(c, root, "", top) < 0) return -1;
    json_t *name = json_object_get(root, "name");
    if (name && !json_is_string(name)) return fail(c, "name", "expected a string");
    if (json_object_get(root, "doc") && !json_is_string(json_object_get(root, "doc")))
        return fail(c, "doc", "expected a string");
    snprintf(m->name, sizeof m->name, "%s", name ? json_string_value(name) : c->file);
    if (get_int(c, root, "", "fc", 1, 4, 3, &d.fc) < 0 ||
        word_order(c, root, "", 0, &d.low_first) < 0 ||
        get_int(c, root, "", "max_registers", 1, 125, 125, &m->max_regs) < 0 ||
        get_int(c, root, "", "max_bits", 1, 2000, 2000, &m->max_bits) < 0 ||
        get_int(c, root, "", "module_lost_mask", 0, 65535, 0, &lost) < 0)
        return -1;
    m->lost_mask = (uint16_t)lost;
    json_t *rd = json_object_get(root, "readable");
    if (rd && (!json_is_array(rd) || json_array_size(rd) > MAX_READABLE))
        return fail(c, "readable", "expected an array of at most %d [first, last] pairs",
                    MAX_READABLE);
    for (size_t i = 0; rd && i < json_array_size(rd); i++) {
        json_t *pr = json_array_get(rd, i);
        char p[PATH_LEN];
        snprintf(p, sizeof p, "readable[%zu]", i);
        json_t *a = json_array_get(pr, 0), *b = json_array_get(pr, 1);
        if (!json_is_array(pr) || json_array_size(pr) != 2 || !json_is_integer(a) ||
            !json_is_integer(b) || json_integer_value(a) < 0 ||
            json_integer_value(a) > json_integer_value(b) || json_integer_value(b) > 65535)
            return fail(c, p, "expected [first, last] with 0 <= first <= last <= 65535");
        m->readable[m->nread][0] = (int)json_integer_value(a);
        m->readable[m->nread][1] = (int)json_integer_value(b);
        m->nread++;
    }
    json_t *pts = json_object_get(root, "points");
    if (pts) {
        section_t *s = &m->sec[m->nsec];
        memset(s, 0, sizeof *s);
        s->ent = OW_FM_E_POINT;
        s->stride = 1;
        if (parse_values(c, pts, "points", OW_FM_E_POINT, &d, s) < 0) return -1;
        m->nsec++;
    }
    for (int e = OW_FM_E_STRING; e < OW_FM_NE; e++)
        if (parse_sections(c, root, e, &d, m) < 0) return -1;
    if (m->lost_mask && !ow_fm_has(m, OW_FM_MOD_FLAGS, -1))
        return fail(c, "module_lost_mask", "needs a modules \"flags\" value to test");
    return 0;
}

ow_fm_t *ow_fm_parse(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: %s", name, je.line, je.column, je.text);
        return NULL;
    }
    ow_fm_t *m = calloc(1, sizeof *m);
    ctx_t c = {name, ow_jpos_build(text, len), err, errlen};
    if (!m || !c.pos) {
        snprintf(err, errlen, "%s: out of memory", name);
        free(m);
        m = NULL;
    } else if (parse_map(&c, root, m) < 0) {
        free(m);
        m = NULL;
    }
    ow_jpos_destroy(&c.pos);
    json_decref(root);
    return m;
}

/* etc/maps/gbms.json, compiled in (gbms_map.c is generated from it). */
extern const char ow_gbms_map_json[];
extern const size_t ow_gbms_map_json_len;

ow_fm_t *ow_fm_load(const char *path, char *err, size_t errlen)
{
    if (strcmp(path, "gbms") == 0)
        return ow_fm_parse(ow_gbms_map_json, ow_gbms_map_json_len,
                           "gbms (built-in etc/maps/gbms.json)", err, errlen);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    /* A map is a few kilobytes; 4 MB is certainly not one. */
    size_t cap = 4u << 20, n;
    char *buf = malloc(cap);
    n = buf ? fread(buf, 1, cap, f) : 0;
    int bad = !buf || ferror(f) || n == cap;
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: %s", path, !buf ? "out of memory" : "unreadable or too large");
        free(buf);
        return NULL;
    }
    ow_fm_t *m = ow_fm_parse(buf, n, path, err, errlen);
    free(buf);
    return m;
}

void ow_fm_destroy(ow_fm_t **mp)
{
    if (!mp || !*mp) return;
    free(*mp);
    *mp = NULL;
}

const char *ow_fm_name(const ow_fm_t *m)
{
    return m->name;
}

uint16_t ow_fm_lost_mask(const ow_fm_t *m)
{
    return m->lost_mask;
}

/* The section holding quantity q for index idx (any index: -1). */
static const section_t *find(const ow_fm_t *m, ow_fm_qty_t q, int idx, const vspec_t **vs)
{
    for (int i = 0; i < m->nsec; i++) {
        const section_t *s = &m->sec[i];
        if (s->ent != qtys[q].ent) continue;
        if (idx >= 0 && s->ent != OW_FM_E_POINT && (idx < s->first || idx > s->last)) continue;
        for (int j = 0; j < s->nv; j++)
            if (s->v[j].q == q) {
                if (vs) *vs = &s->v[j];
                return s;
            }
    }
    return NULL;
}

int ow_fm_has(const ow_fm_t *m, ow_fm_qty_t q, int idx)
{
    return (unsigned)q < OW_FM_NQ && find(m, q, idx, NULL) != NULL;
}

/* Is every index 1..n of entity ent in some section of the map? 0, or the
 * first one that is not. */
static int uncovered(const ow_fm_t *m, int ent, int n)
{
    for (int i = 1; i <= n; i++) {
        int in = 0;
        for (int k = 0; k < m->nsec && !in; k++)
            in = m->sec[k].ent == ent && i >= m->sec[k].first && i <= m->sec[k].last;
        if (!in) return i;
    }
    return 0;
}

static void spans(const ow_fm_t *m, int ent, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (int k = 0; k < m->nsec && n < len; k++)
        if (m->sec[k].ent == ent)
            n += (size_t)snprintf(out + n, len - n, "%s%d-%d", n ? ", " : "", m->sec[k].first,
                                  m->sec[k].last);
    if (!n) snprintf(out, len, "none");
}

int ow_fm_fits(const ow_fm_t *m, const ow_gateway_cfg_t *gw, const char **key, char *why,
               size_t len)
{
    char sp[128];
    int u;
    static const struct {
        int ent;
        const char *key, *what;
    } need[] = {
        {OW_FM_E_STRING, "strings", "string"},
        {OW_FM_E_MODULE, "strings", "module"},
        {OW_FM_E_AUX_IN, "aux_units", "GX_R_AUX input"},
        {OW_FM_E_AUX_OUT, "aux_units", "GX_R_AUX output"},
    };
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        int n = need[i].ent == OW_FM_E_STRING   ? gw->nstrings
                : need[i].ent == OW_FM_E_MODULE ? gw->nmodules
                                                : gw->aux_units * 4;
        if ((u = uncovered(m, need[i].ent, n)) == 0) continue;
        spans(m, need[i].ent, sp, sizeof sp);
        *key = need[i].key;
        snprintf(why, len, "%s %d is not in the map \"%s\" (its %s: %s)", need[i].what, u, m->name,
                 ents[need[i].ent].key, sp);
        return -1;
    }
    static const struct {
        size_t off;
        ow_fm_qty_t q;
        const char *key;
    } sensors[] = {
        {offsetof(ow_gateway_cfg_t, ambient_sensor), OW_FM_AMBIENT, "ambient_sensor"},
        {offsetof(ow_gateway_cfg_t, hydrogen_sensor), OW_FM_HYDROGEN, "hydrogen_sensor"},
    };
    for (size_t i = 0; i < sizeof sensors / sizeof sensors[0]; i++) {
        if (!*(const int *)((const char *)gw + sensors[i].off)) continue;
        if (ow_fm_has(m, sensors[i].q, 0)) continue;
        *key = sensors[i].key;
        snprintf(why, len, "the map \"%s\" has no %s point: set it false, or add the point",
                 m->name, qtys[sensors[i].q].key);
        return -1;
    }
    for (int s = 1; gw->current_sensor && s <= gw->nstrings; s++)
        if (!ow_fm_has(m, OW_FM_STR_CURRENT, s)) {
            *key = "current_sensor";
            snprintf(why, len,
                     "the map \"%s\" has no current_a for string %d: set it false, or map it",
                     m->name, s);
            return -1;
        }
    return 0;
}

/* ---- planning ---- */

typedef struct {
    int fc, addr;
    const vspec_t *vs;
    int idx;
} slot_t;

struct ow_fm_plan {
    int nslots, nreqs;
    slot_t *slots;
    ow_fm_req_t *reqs;
};

static int slot_cmp(const void *a, const void *b)
{
    const slot_t *x = a, *y = b;
    if (x->fc != y->fc) return x->fc - y->fc;
    if (x->addr != y->addr) return x->addr - y->addr;
    return (int)x->vs->q - (int)y->vs->q;
}

/* May a request of function code fc read the registers lo..hi it does not
 * need? Only if the map says they exist: a readable range, or a section of
 * that function code that spans them (reserved registers inside it). */
static int readable1(const ow_fm_t *m, int fc, int a)
{
    for (int i = 0; fc >= 3 && i < m->nread; i++)
        if (a >= m->readable[i][0] && a <= m->readable[i][1]) return 1;
    for (int k = 0; k < m->nsec; k++) {
        const section_t *s = &m->sec[k];
        if (s->ent == OW_FM_E_POINT) continue;
        int end = s->address + s->stride * (s->last - s->first + 1) - 1, same_fc = 0;
        for (int j = 0; j < s->nv; j++)
            same_fc |= s->v[j].fc == fc;
        if (same_fc && a >= s->address && a <= end) return 1;
    }
    return 0;
}

/* Register by register, so that adjacent ranges and sections join up; the
 * gap is below max_registers and this runs once per plan. */
static int readable(const ow_fm_t *m, int fc, int lo, int hi)
{
    for (int a = lo; a <= hi; a++)
        if (!readable1(m, fc, a)) return 0;
    return 1;
}

ow_fm_plan_t *ow_fm_plan_new(const ow_fm_t *m, int nstrings, int nmodules, int aux_points)
{
    ow_fm_plan_t *p = calloc(1, sizeof *p);
    int cap = 0;
    if (!p) return NULL;
    for (int pass = 0; pass < 2; pass++) { /* count, then fill */
        int n = 0;
        for (int k = 0; k < m->nsec; k++) {
            const section_t *s = &m->sec[k];
            int lim = s->ent == OW_FM_E_STRING   ? nstrings
                      : s->ent == OW_FM_E_MODULE ? nmodules
                      : s->ent == OW_FM_E_POINT  ? 0
                                                 : aux_points;
            int lo = s->ent == OW_FM_E_POINT ? 0 : s->first;
            int hi = s->ent == OW_FM_E_POINT ? 0 : (s->last < lim ? s->last : lim);
            for (int i = lo; i <= hi; i++)
                for (int j = 0; j < s->nv; j++, n++)
                    if (pass)
                        p->slots[n] =
                            (slot_t){s->v[j].fc, s->address + (i - lo) * s->stride + s->v[j].at,
                                     &s->v[j], i};
        }
        if (!pass) {
            cap = n;
            p->slots = calloc((size_t)(n ? n : 1), sizeof *p->slots);
            p->reqs = calloc((size_t)(n ? n : 1), sizeof *p->reqs);
            if (!p->slots || !p->reqs) {
                ow_fm_plan_destroy(&p);
                return NULL;
            }
        }
    }
    p->nslots = cap;
    qsort(p->slots, (size_t)p->nslots, sizeof *p->slots, slot_cmp);
    /* Greedy from the lowest address: each request reaches as far as the
     * limit and the readable registers let it, which is the fewest. */
    for (int i = 0; i < p->nslots; i++) {
        const slot_t *s = &p->slots[i];
        int end = s->addr + types[s->vs->type].words - 1;
        ow_fm_req_t *r = p->nreqs ? &p->reqs[p->nreqs - 1] : NULL;
        int max = s->fc <= 2 ? m->max_bits : m->max_regs;
        if (r && r->fc == s->fc && end - r->addr + 1 <= max &&
            readable(m, s->fc, r->addr + r->count, s->addr - 1)) {
            if (end - r->addr + 1 > r->count) r->count = end - r->addr + 1;
            r->n++;
            continue;
        }
        p->reqs[p->nreqs++] = (ow_fm_req_t){s->fc, s->addr, end - s->addr + 1, i, 1};
    }
    return p;
}

void ow_fm_plan_destroy(ow_fm_plan_t **pp)
{
    if (!pp || !*pp) return;
    free((*pp)->slots);
    free((*pp)->reqs);
    free(*pp);
    *pp = NULL;
}

int ow_fm_plan_nreqs(const ow_fm_plan_t *p)
{
    return p->nreqs;
}

const ow_fm_req_t *ow_fm_plan_req(const ow_fm_plan_t *p, int i)
{
    return i >= 0 && i < p->nreqs ? &p->reqs[i] : NULL;
}

/* ---- decoding ---- */

void ow_fm_values_clear(ow_fm_values_t *v)
{
    for (int q = 0; q < OW_FM_NQ; q++)
        for (int i = 0; i < OW_FM_IDX; i++)
            v->val[q][i] = NAN;
    memset(v->ok, 0, sizeof v->ok);
    v->out_of_range = 0;
}

double ow_fm_raw(ow_fm_type_t type, int low_first, const uint16_t *r)
{
    /* Only a 32-bit type has a second register: a 16-bit value may be the
     * last of a request (or a lone bit). */
    uint32_t w = types[type].words < 2 ? 0
                 : low_first           ? (uint32_t)r[1] << 16 | r[0]
                                       : (uint32_t)r[0] << 16 | r[1];
    switch (type) {
    case OW_FM_U16:
    case OW_FM_BIT:
        return r[0];
    case OW_FM_S16:
        return (int16_t)r[0];
    case OW_FM_U32:
        return w;
    case OW_FM_S32:
        return (int32_t)w;
    case OW_FM_F32: {
        float f;
        memcpy(&f, &w, sizeof f);
        return f;
    }
    }
    return NAN;
}

void ow_fm_plan_decode(const ow_fm_plan_t *p, int i, const uint16_t *regs, const uint8_t *bits,
                       ow_fm_values_t *v)
{
    const ow_fm_req_t *r = ow_fm_plan_req(p, i);
    if (!r) return;
    for (int k = r->first; k < r->first + r->n; k++) {
        const slot_t *s = &p->slots[k];
        const vspec_t *vs = s->vs;
        int off = s->addr - r->addr;
        uint16_t b;
        double raw;
        if (vs->type == OW_FM_BIT) {
            b = bits[off] ? 1 : 0;
            raw = ow_fm_raw(OW_FM_BIT, 0, &b);
        } else
            raw = ow_fm_raw(vs->type, vs->low_first, regs + off);
        double x = raw * vs->scale + vs->offset;
        for (int j = 0; j < vs->ninv; j++)
            if (raw == vs->inv[j]) x = NAN;
        if (isfinite(x) && (x < qtys[vs->q].min || x > qtys[vs->q].max)) {
            v->out_of_range++;
            x = NAN;
        }
        v->val[vs->q][s->idx] = isfinite(x) ? x : NAN;
        v->ok[vs->q][s->idx] = 1;
    }
}

/* ---- documentation ---- */

int ow_fm_doc(FILE *out)
{
    fprintf(out,
            "# Register maps of field devices\n\n"
            "Generated by `ow-map-doc` from the tables in `services/busd/fieldmap.c`; do not "
            "edit.\n\n"
            "A gateway with `source` `modbus-tcp` or `modbus-rtu` (docs/config.md) is polled "
            "by busd through a register map: a JSON file saying where the device keeps each "
            "value. `modbus.map` `gbms` is the built-in copy of `etc/maps/gbms.json`, the "
            "G.BMS/BACS webmanager's map from its user guide (the same map ohmwatch-modbusd "
            "serves, docs/modbus.md); `etc/maps/sentry-style.json` is an example for another "
            "kind of monitor. Errors name the file, line, column and key, like the site file's.\n\n"
            "## Top level\n\n"
            "| key | default | meaning |\n|---|---|---|\n"
            "| `name` | the file name | shown in logs and errors |\n"
            "| `doc` | | free text |\n"
            "| `fc` | 3 | function code of every value that does not give its own: 3 holding, "
            "4 input registers, 1 coils, 2 discrete inputs |\n"
            "| `word_order` | `big` | 32-bit values: `big` high word first, `little` low word "
            "first (bytes within a register are always big-endian, as Modbus sends them) |\n"
            "| `max_registers` | 125 | registers per request (1-125, the protocol's limit) |\n"
            "| `max_bits` | 2000 | bits per request (1-2000) |\n"
            "| `readable` | none | `[[first, last], ...]`: FC 03/04 registers that exist, so a "
            "request may read through the unused ones between values; registers inside a "
            "section are readable anyway |\n"
            "| `module_lost_mask` | 0 | bits of a module's `flags` word meaning the module does "
            "not answer: it is published as not answering (values null) |\n"
            "| `points` | | `{QUANTITY: VALUE}` with `address` in each VALUE |\n"
            "| `strings`, `modules`, `aux_inputs`, `aux_outputs` | | arrays of sections |\n\n"
            "A **section** is `{\"first\": N, \"last\": M, \"address\": A, \"stride\": S, "
            "\"values\": {QUANTITY: VALUE}}`: entry i (first <= i <= last) starts at A + S x "
            "(i - first); sections may also give `fc` and `word_order` for their values. "
            "Sections of one kind must not overlap. A **value** is `{\"at\": OFFSET, "
            "\"type\": T}` (in a section; `address` in `points`) with optional `scale` "
            "(default 1, not 0), `offset` (default 0), `fc`, `word_order` and `invalid` (raw "
            "values meaning \"not measured\", published as null). The published value is "
            "raw x scale + offset; one outside the wire's range of its quantity is published "
            "as null and counted.\n\n"
            "## Types\n\n| type | meaning |\n|---|---|\n");
    for (int t = 0; t < NTYPES; t++)
        fprintf(out, "| `%s` | %s |\n", types[t].key, types[t].doc);
    fprintf(out, "\n## Quantities\n\n| where | quantity | range | meaning |\n|---|---|---|---|\n");
    for (int q = 0; q < OW_FM_NQ; q++)
        fprintf(out, "| `%s` (%s) | `%s` | %g .. %g | %s |\n", ents[qtys[q].ent].key,
                ents[qtys[q].ent].doc, qtys[q].key, qtys[q].min, qtys[q].max, qtys[q].doc);
    fprintf(out, "\n## Requests\n\n"
                 "busd reads only what the gateway has (its strings, modules and `aux_units` x 4 "
                 "GX_R_AUX points): the values are sorted by function code and address and merged "
                 "into one request while it stays within `max_registers` and every register in "
                 "between is readable, which gives the fewest requests. For the G.BMS map and 512 "
                 "modules that is 23 requests (1000-1004, then 1010-3681 in 22). The site must fit "
                 "the map: `ohmwatch-busd -n` refuses a module, string or GX_R_AUX point the map "
                 "does not address, and an ambient/hydrogen/current sensor the site says is fitted "
                 "but the map cannot read.\n\n"
                 "## Decisions for the G.BMS map\n\n"
                 "- Modules 1-512, not the guide's \"331-520\" label: its own addresses end at "
                 "3645-3649 and GX_R_AUX starts at 3650 (see docs/modbus.md). A gateway with more "
                 "than 512 modules cannot use the map.\n"
                 "- String scales (the guide gives none) are modbusd's defaults: 0.1 A, 0.1 V, "
                 "1 mV, 0.1 A; change them in a copy of the map if a webmanager differs.\n"
                 "- A module whose alarm word has Communication lost (0x0002) is published as not "
                 "answering, with null values.\n"
                 "- The map has no ambient, humidity or hydrogen register: such a gateway needs "
                 "`ambient_sensor` and `hydrogen_sensor` false.\n");
    return ferror(out) ? -1 : 0;
}
