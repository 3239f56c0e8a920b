/* The rules of ow_lint.h: a threshold that contradicts the battery it judges.
 * Most are one comparison of a key against a battery figure (a table row);
 * the string voltage rules look at the gateway's strings. The defaults the
 * loader derives from the battery pass every rule (ow_lint_test.c). */
#include "ow_lint.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ---- the battery's figures, per block unless named otherwise ---- */

static double cells(const ow_gateway_cfg_t *g)
{
    return ow_gateway_cells(g);
}

static double nominal_mohm(const ow_gateway_cfg_t *g)
{
    return g->battery.impedance_mohm;
}

static double float_top(const ow_gateway_cfg_t *g)
{
    return cells(g) * ow_gateway_chemistry(g)->float_max_v;
}

static double float_bottom(const ow_gateway_cfg_t *g)
{
    return cells(g) * ow_gateway_chemistry(g)->float_min_v;
}

static double sim_float(const ow_gateway_cfg_t *g)
{
    return cells(g) * g->sim.float_v_per_cell;
}

static double end_voltage(const ow_gateway_cfg_t *g)
{
    return cells(g) * ow_gateway_chemistry(g)->end_v;
}

static double cell_float_min(const ow_gateway_cfg_t *g)
{
    return ow_gateway_chemistry(g)->float_min_v;
}

static double cell_float_max(const ow_gateway_cfg_t *g)
{
    return ow_gateway_chemistry(g)->float_max_v;
}

static double range_min(const ow_gateway_cfg_t *g)
{
    return g->module_type->r_min;
}

static double range_max(const ow_gateway_cfg_t *g)
{
    return g->module_type->r_max;
}

static int is_sim(const ow_gateway_cfg_t *g)
{
    return strcmp(g->source, "sim") == 0;
}

/* ---- the table ---- */

enum { AT_OR_ABOVE, AT_OR_BELOW, ABOVE, BELOW, N_RELATIONS };
static const char *const relation[] = {
    [AT_OR_ABOVE] = "at or above",
    [AT_OR_BELOW] = "at or below",
    [ABOVE] = "above",
    [BELOW] = "below",
};
_Static_assert(sizeof relation / sizeof relation[0] == N_RELATIONS,
               "relation names every comparison");

typedef struct {
    const char *key; /* the value judged */
    size_t off;      /* a double in ow_gateway_cfg_t */
    int when;        /* warn when the value is `relation[when]` the figure */
    double (*figure)(const ow_gateway_cfg_t *g);
    const char *figure_name;
    const char *unit;
    const char *why;                           /* what follows */
    int (*applies)(const ow_gateway_cfg_t *g); /* NULL: always */
} rule_t;

#define OFF(m) offsetof(ow_gateway_cfg_t, m)

/* clang-format off */
static const rule_t rules[] = {
    {.key = "thresholds.impedance_mohm.low_alarm", .off = OFF(thr.impedance_mohm.low_alarm),
     .when = AT_OR_ABOVE, .figure = nominal_mohm, .unit = "mOhm",
     .figure_name = "the nominal impedance (battery.impedance_mohm)",
     .why = "every healthy block is in alarm"},
    {.key = "thresholds.impedance_mohm.low_warn", .off = OFF(thr.impedance_mohm.low_warn),
     .when = AT_OR_ABOVE, .figure = nominal_mohm, .unit = "mOhm",
     .figure_name = "the nominal impedance (battery.impedance_mohm)",
     .why = "every healthy block warns"},
    {.key = "thresholds.impedance_mohm.high_warn", .off = OFF(thr.impedance_mohm.high_warn),
     .when = AT_OR_BELOW, .figure = nominal_mohm, .unit = "mOhm",
     .figure_name = "the nominal impedance (battery.impedance_mohm)",
     .why = "every healthy block warns"},
    {.key = "thresholds.impedance_mohm.high_alarm", .off = OFF(thr.impedance_mohm.high_alarm),
     .when = AT_OR_BELOW, .figure = nominal_mohm, .unit = "mOhm",
     .figure_name = "the nominal impedance (battery.impedance_mohm)",
     .why = "every healthy block is in alarm"},
    {.key = "battery.impedance_mohm", .off = OFF(battery.impedance_mohm), .when = BELOW,
     .figure = range_min, .unit = "mOhm", .figure_name = "the module type's measuring range",
     .why = "the modules cannot measure this battery's impedance"},
    {.key = "battery.impedance_mohm", .off = OFF(battery.impedance_mohm), .when = ABOVE,
     .figure = range_max, .unit = "mOhm", .figure_name = "the module type's measuring range",
     .why = "the modules cannot measure this battery's impedance"},

    {.key = "thresholds.voltage_v.high_warn", .off = OFF(thr.voltage_v.high_warn),
     .when = AT_OR_BELOW, .figure = float_top, .unit = "V",
     .figure_name = "the top of the chemistry's float band",
     .why = "a healthy block on float warns"},
    {.key = "thresholds.voltage_v.high_warn", .off = OFF(thr.voltage_v.high_warn),
     .when = AT_OR_BELOW, .figure = sim_float, .unit = "V",
     .figure_name = "the simulated charger's float voltage (sim.float_v_per_cell)",
     .why = "every simulated block warns", .applies = is_sim},
    {.key = "thresholds.voltage_v.low_warn", .off = OFF(thr.voltage_v.low_warn),
     .when = AT_OR_ABOVE, .figure = float_bottom, .unit = "V",
     .figure_name = "the bottom of the chemistry's float band",
     .why = "a healthy block on float warns"},
    {.key = "thresholds.voltage_v.low_alarm", .off = OFF(thr.voltage_v.low_alarm),
     .when = BELOW, .figure = end_voltage, .unit = "V",
     .figure_name = "the chemistry's end voltage of a C10 discharge",
     .why = "the battery is empty before the alarm"},
    {.key = "thresholds.equalizing_min_v", .off = OFF(thr.equalizing_min_v), .when = ABOVE,
     .figure = float_bottom, .unit = "V", .figure_name = "the bottom of the chemistry's float band",
     .why = "a healthy block on float is outside the equalizing range"},
    {.key = "thresholds.equalizing_max_v", .off = OFF(thr.equalizing_max_v), .when = BELOW,
     .figure = float_top, .unit = "V", .figure_name = "the top of the chemistry's float band",
     .why = "a healthy block on float is outside the equalizing range"},

    {.key = "sim.float_v_per_cell", .off = OFF(sim.float_v_per_cell), .when = BELOW,
     .figure = cell_float_min, .unit = "V", .figure_name = "the chemistry's float band",
     .why = "the simulated charger is mis-set", .applies = is_sim},
    {.key = "sim.float_v_per_cell", .off = OFF(sim.float_v_per_cell), .when = ABOVE,
     .figure = cell_float_max, .unit = "V", .figure_name = "the chemistry's float band",
     .why = "the simulated charger is mis-set", .applies = is_sim},
};
/* clang-format on */

static int holds(int when, double v, double fig)
{
    switch (when) {
    case AT_OR_ABOVE:
        return v >= fig;
    case AT_OR_BELOW:
        return v <= fig;
    case ABOVE:
        return v > fig;
    default:
        return v < fig;
    }
}

/* ---- string voltage: one set of levels for all the gateway's strings ---- */

/* The string with the fewest (longest = 0) or most blocks. */
static const ow_string_cfg_t *extreme(const ow_gateway_cfg_t *g, int longest)
{
    const ow_string_cfg_t *x = &g->strings[0];
    for (int i = 1; i < g->nstrings; i++)
        if (longest ? g->strings[i].modules > x->modules : g->strings[i].modules < x->modules)
            x = &g->strings[i];
    return x;
}

/* A string level against a string's figure (the block figure x its blocks):
 * only the extreme strings can contradict, the longest for the high levels
 * and the end voltage, the shortest for the low warning. */
/* clang-format off */
static const struct {
    const char *key;
    size_t off;
    int when, longest;
    double (*figure)(const ow_gateway_cfg_t *g);
    const char *figure_name, *why;
} string_rules[] = {
    {.key = "thresholds.string_voltage_v.high_warn", .off = OFF(thr.string_voltage_v.high_warn),
     .when = AT_OR_BELOW, .longest = 1, .figure = float_top,
     .figure_name = "at the top of the float band", .why = "the string on float warns"},
    {.key = "thresholds.string_voltage_v.low_warn", .off = OFF(thr.string_voltage_v.low_warn),
     .when = AT_OR_ABOVE, .longest = 0, .figure = float_bottom,
     .figure_name = "at the bottom of the float band", .why = "the string on float warns"},
    {.key = "thresholds.string_voltage_v.low_alarm", .off = OFF(thr.string_voltage_v.low_alarm),
     .when = BELOW, .longest = 1, .figure = end_voltage,
     .figure_name = "at the end of a C10 discharge", .why = "the string is empty before the alarm"},
};
/* clang-format on */

static int lint_strings(const ow_gateway_cfg_t *g, ow_lint_fn fn, void *ctx)
{
    char msg[384];
    int n = 0;
    if (g->nstrings < 1) return 0;
    for (size_t i = 0; i < sizeof string_rules / sizeof string_rules[0]; i++) {
        const ow_string_cfg_t *s = extreme(g, string_rules[i].longest);
        double v = *(const double *)((const char *)g + string_rules[i].off);
        double fig = s->modules * string_rules[i].figure(g);
        if (!holds(string_rules[i].when, v, fig)) continue;
        snprintf(msg, sizeof msg, "%g V is %s string \"%s\" (%d blocks: %.1f V %s): %s", v,
                 relation[string_rules[i].when], s->name, s->modules, fig,
                 string_rules[i].figure_name, string_rules[i].why);
        fn(ctx, g, string_rules[i].key, msg);
        n++;
    }
    const ow_string_cfg_t *lo = extreme(g, 0), *hi = extreme(g, 1);
    if (lo->modules != hi->modules) {
        snprintf(msg, sizeof msg,
                 "strings of %d (\"%s\") to %d blocks (\"%s\") share one set of string voltage "
                 "levels: a level fits one length only (the defaults take the low levels from "
                 "the shortest string and the high ones from the longest; the block levels "
                 "judge every block)",
                 lo->modules, lo->name, hi->modules, hi->name);
        fn(ctx, g, "thresholds.string_voltage_v", msg);
        n++;
    }
    return n;
}

int ow_gateway_lint(const ow_gateway_cfg_t *g, ow_lint_fn fn, void *ctx)
{
    char msg[384];
    int n = 0;
    if (!g || !fn || !g->module_type) return 0;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const rule_t *r = &rules[i];
        if (r->applies && !r->applies(g)) continue;
        double v = *(const double *)((const char *)g + r->off), fig = r->figure(g);
        if (!holds(r->when, v, fig)) continue;
        snprintf(msg, sizeof msg, "%g %s is %s %s, %g %s: %s", v, r->unit, relation[r->when],
                 r->figure_name, fig, r->unit, r->why);
        fn(ctx, g, r->key, msg);
        n++;
    }
    return n + lint_strings(g, fn, ctx);
}

/* ---- the site: each warning where the value is written ---- */

typedef struct {
    const ow_site_t *site;
    int idx;
    void (*fn)(void *ctx, const char *line);
    void *ctx;
} site_ctx_t;

static void site_warning(void *ctx, const ow_gateway_cfg_t *g, const char *key, const char *msg)
{
    const site_ctx_t *sc = ctx;
    const ow_jpos_t *pos = sc->site->positions;
    char path[512], line[1024];
    int l, c;
    (void)g;
    snprintf(path, sizeof path, "gateways[%d].%s", sc->idx, key);
    if (pos && ow_jpos_find(pos, path, &l, &c) < 0) {
        char dpath[512];
        snprintf(dpath, sizeof dpath, "defaults.%s", key);
        if (ow_jpos_find(pos, dpath, &l, &c) == 0) memcpy(path, dpath, sizeof path);
    }
    ow_jpos_error(pos, sc->site->path, path, line, sizeof line, "%s", msg);
    sc->fn(sc->ctx, line);
}

int ow_site_lint_gateway(const ow_site_t *site, const ow_gateway_cfg_t *g,
                         void (*fn)(void *ctx, const char *line), void *ctx)
{
    if (!site || !g || !fn || g < site->gateways || g >= site->gateways + site->ngateways) return 0;
    site_ctx_t sc = {.site = site, .idx = (int)(g - site->gateways), .fn = fn, .ctx = ctx};
    return ow_gateway_lint(g, site_warning, &sc);
}

int ow_site_lint(const ow_site_t *site, void (*fn)(void *ctx, const char *line), void *ctx)
{
    int n = 0;
    for (int i = 0; site && i < site->ngateways; i++)
        n += ow_site_lint_gateway(site, &site->gateways[i], fn, ctx);
    return n;
}
