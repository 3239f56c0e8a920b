/* ow_lint: the shipped sites and every default the battery derives pass the
 * rules; each rule warns, at the key's place in the file, with the value and
 * the battery's figure. Run from the repository root (CTest does). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ow_lint.h"
#include "ow_test.h"

#define MAXW 32

typedef struct {
    int n;
    char lines[MAXW][1024];
} got_t;

static void collect(void *ctx, const char *line)
{
    got_t *g = ctx;
    if (g->n < MAXW) snprintf(g->lines[g->n], sizeof g->lines[0], "%s", line);
    g->n++;
}

static void print_all(const got_t *g)
{
    for (int i = 0; i < g->n && i < MAXW; i++)
        fprintf(stderr, "  warning: %s\n", g->lines[i]);
}

static const char *find(const got_t *g, const char *needle)
{
    for (int i = 0; i < g->n && i < MAXW; i++)
        if (strstr(g->lines[i], needle)) return g->lines[i];
    return NULL;
}

static char tmp_path[64];

static ow_site_t *load_text(const char *text)
{
    char err[512];
    snprintf(tmp_path, sizeof tmp_path, "/tmp/ow_lint_test.XXXXXX");
    int fd = mkstemp(tmp_path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    ow_site_t *s = ow_site_load(tmp_path, err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    unlink(tmp_path);
    return s;
}

static got_t lint_text(const char *text)
{
    got_t g = {0};
    ow_site_t *s = load_text(text);
    if (s) ow_site_lint(s, collect, &g);
    ow_site_destroy(&s);
    return g;
}

static void test_shipped(void)
{
    static const char *const files[] = {"etc/site-sample.json",     "etc/site-large.json",
                                        "etc/two-gateways.json",    "etc/site-substation.json",
                                        "etc/site-telecom.json",    "deploy/site-compose.json",
                                        "deploy/systemd/site.json", "deploy/site-many.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char err[512];
        got_t g = {0};
        ow_site_t *s = ow_site_load(files[i], err, sizeof err);
        CHECK_MSG(s != NULL, "%s", err);
        if (s) ow_site_lint(s, collect, &g);
        CHECK_MSG(g.n == 0, "%s: %d warnings", files[i], g.n);
        print_all(&g);
        ow_site_destroy(&s);
    }
}

/* Every module type x chemistry x capacity x string length with the
 * defaults: nothing contradicts the battery, except a battery whose
 * impedance the module type cannot measure (and that warns). */
static void test_defaults_pass(void)
{
    static const double caps[] = {7, 26, 50, 100, 200, 500, 1000, 3000};
    static const int lengths[] = {1, 4, 9, 24, 60};
    char text[1024];
    int combos = 0;
    for (size_t t = 0; t < ow_module_types_count; t++)
        for (size_t c = 0; c < ow_chemistries_count; c++)
            for (size_t a = 0; a < sizeof caps / sizeof caps[0]; a++)
                for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
                    const ow_module_type_t *mt = &ow_module_types[t];
                    snprintf(text, sizeof text,
                             "{\"gateways\": [{\"id\": \"g\", \"publish\": \"tcp://*:1\", "
                             "\"replay\": \"tcp://*:2\", \"module_type\": \"%s\",\n"
                             " \"battery\": {\"chemistry\": \"%s\", \"capacity_ah\": %g},\n"
                             " \"strings\": [{\"modules\": %d}, {\"modules\": %d}]}]}",
                             mt->name, ow_chemistries[c].name, caps[a], lengths[l], lengths[l]);
                    ow_site_t *s = load_text(text);
                    if (!s) continue;
                    const ow_gateway_cfg_t *g = &s->gateways[0];
                    int unmeasurable = g->battery.impedance_mohm < mt->r_min ||
                                       g->battery.impedance_mohm > mt->r_max;
                    got_t got = {0};
                    ow_site_lint(s, collect, &got);
                    CHECK_MSG(got.n == unmeasurable,
                              "%s %s %g Ah %d blocks (%.3f mOhm): %d warnings", mt->name,
                              ow_chemistries[c].name, caps[a], lengths[l],
                              g->battery.impedance_mohm, got.n);
                    if (unmeasurable) CHECK(find(&got, "cannot measure") != NULL);
                    if (got.n != unmeasurable) print_all(&got);
                    /* Every level is also reached the way it should: the end
                     * of a C10 discharge passes the block low alarm. */
                    const ow_chemistry_t *ch = ow_gateway_chemistry(g);
                    CHECK(g->thr.voltage_v.low_alarm > ch->end_v * ow_gateway_cells(g));
                    CHECK(g->thr.voltage_v.high_warn > ch->float_max_v * ow_gateway_cells(g));
                    combos++;
                    ow_site_destroy(&s);
                }
    CHECK(combos == (int)(ow_module_types_count * ow_chemistries_count * 8 * 5));
}

#define GW_C40                                                                                     \
    "{\"gateways\": [{\"id\": \"sub\", \"publish\": \"tcp://*:1\", \"replay\": \"tcp://*:2\",\n"   \
    " \"module_type\": \"C40\", \"battery\": {\"capacity_ah\": 1000},\n"                           \
    " \"strings\": [{\"name\": \"Main\", \"modules\": 60}]"

/* The measured case: 60 x 2 V 1000 Ah flooded cells with the guide's 12 V
 * sample thresholds written out. */
static void test_contradictions(void)
{
    got_t g = lint_text(GW_C40 ",\n \"thresholds\": {\"impedance_mohm\": {\"low_alarm\": 1.1, "
                               "\"low_warn\": 1.2, \"high_warn\": 40, \"high_alarm\": 50},\n"
                               "  \"string_voltage_v\": {\"low_alarm\": 105, \"low_warn\": 110, "
                               "\"high_warn\": 125, \"high_alarm\": 135}}}]}");
    const char *w = find(&g, "gateways[0].thresholds.impedance_mohm.low_alarm: ");
    CHECK_MSG(w && strstr(w, ":4:49: ") &&
                  strstr(w, "1.1 mOhm is at or above the nominal impedance "
                            "(battery.impedance_mohm), 0.24 mOhm: every healthy block is in alarm"),
              "%s", w ? w : "(none)");
    CHECK(find(&g, "thresholds.impedance_mohm.low_warn: 1.2 mOhm is at or above") != NULL);
    w = find(&g, "thresholds.string_voltage_v.high_warn: ");
    CHECK_MSG(w && strstr(w, "125 V is at or below string \"Main\" (60 blocks: 135.0 V at the top "
                             "of the float band): the string on float warns"),
              "%s", w ? w : "(none)");
    CHECK(find(&g, "thresholds.string_voltage_v.low_alarm: 105 V is below string \"Main\" "
                   "(60 blocks: 105.0 V") == NULL); /* 105 is the end voltage, not below */
    CHECK(g.n == 3);
    print_all(&g);

    /* Block voltage: a high warning below float, a low warning above it, a
     * low alarm under the end voltage; the equalizing range inside float. */
    g = lint_text(GW_C40 ",\n \"thresholds\": {\"voltage_v\": {\"low_alarm\": 1.7, \"low_warn\": "
                         "2.21, \"high_warn\": 2.24, \"high_alarm\": 2.6},\n"
                         "  \"equalizing_min_v\": 2.21, \"equalizing_max_v\": 2.24}}]}");
    CHECK(find(&g, "thresholds.voltage_v.high_warn: 2.24 V is at or below the top of the "
                   "chemistry's float band, 2.25 V: a healthy block on float warns"));
    CHECK(find(&g, "thresholds.voltage_v.high_warn: 2.24 V is at or below the simulated "
                   "charger's float voltage (sim.float_v_per_cell), 2.23 V") == NULL);
    CHECK(find(&g, "thresholds.voltage_v.low_warn: 2.21 V is at or above the bottom of the "
                   "chemistry's float band, 2.2 V"));
    CHECK(find(&g, "thresholds.voltage_v.low_alarm: 1.7 V is below the chemistry's end voltage "
                   "of a C10 discharge, 1.75 V: the battery is empty before the alarm"));
    CHECK(find(&g, "thresholds.equalizing_min_v: 2.21 V is above the bottom"));
    CHECK(find(&g, "thresholds.equalizing_max_v: 2.24 V is below the top"));
    /* The string levels are derived from these block levels, so they carry
     * the same contradictions for the string. */
    CHECK(find(&g, "thresholds.string_voltage_v.high_warn: 134.4 V is at or below string"));
    CHECK(find(&g, "thresholds.string_voltage_v.low_warn: 132.6 V is at or above string"));
    CHECK(find(&g, "thresholds.string_voltage_v.low_alarm: 102 V is below string"));
    CHECK(g.n == 8);
    print_all(&g);

    /* The simulated charger outside the chemistry's band; a battery the
     * module type cannot measure. */
    g = lint_text(
        "{\"gateways\": [{\"id\": \"sub\", \"publish\": \"tcp://*:1\", \"replay\": "
        "\"tcp://*:2\",\n \"module_type\": \"C40\", \"battery\": {\"capacity_ah\": 20000},\n"
        " \"sim\": {\"float_v_per_cell\": 2.30}, \"strings\": [{\"modules\": 60}]}]}");
    CHECK(find(&g, "sim.float_v_per_cell: 2.3 V is above the chemistry's float band, 2.25 V: "
                   "the simulated charger is mis-set"));
    CHECK(find(&g, "battery.impedance_mohm: 0.012 mOhm is below the module type's measuring "
                   "range, 0.02 mOhm: the modules cannot measure"));
    CHECK(g.n == 2);
    print_all(&g);
    /* Not for a field gateway: its charger is not ours to judge. */
    g = lint_text(GW_C40 ", \"source\": \"modbus-tcp\", \"modbus\": {\"host\": \"h\"}, "
                         "\"sim\": {\"float_v_per_cell\": 2.30}}]}");
    CHECK(g.n == 0);
    print_all(&g);
}

/* Strings of different lengths share the string levels: the defaults fit
 * both, and -n says so; a value from "defaults" is reported there. */
static void test_lengths(void)
{
    got_t g = lint_text("{\"defaults\": {\"thresholds\": {\"string_voltage_v\": {\"high_warn\": "
                        "140, \"high_alarm\": 160}}},\n"
                        " \"gateways\": [{\"id\": \"g\", \"publish\": \"tcp://*:1\", "
                        "\"replay\": \"tcp://*:2\",\n"
                        "  \"strings\": [{\"name\": \"A\", \"modules\": 9}, {\"name\": \"B\", "
                        "\"modules\": 12}]}]}");
    const char *w = find(&g, ":1:50: defaults.thresholds.string_voltage_v: strings of 9 (\"A\") "
                             "to 12 blocks (\"B\") share one set of string voltage levels");
    CHECK_MSG(w != NULL, "mixed lengths");
    w = find(&g, ":1:64: defaults.thresholds.string_voltage_v.high_warn: 140 V is at or below "
                 "string \"B\" (12 blocks: 165.6 V at the top of the float band)");
    CHECK_MSG(w != NULL, "high warning from defaults");
    /* The 12-block string ends a C10 discharge at 126 V, above the low
     * alarm taken from the 9-block string: that string alarm cannot come. */
    CHECK(find(&g, "thresholds.string_voltage_v.low_alarm: 108 V is below string \"B\""));
    CHECK(g.n == 3);
    print_all(&g);

    /* Derived: low levels from the 9-block string, high from the 12-block. */
    g = lint_text("{\"gateways\": [{\"id\": \"g\", \"publish\": \"tcp://*:1\", \"replay\": "
                  "\"tcp://*:2\",\n  \"strings\": [{\"modules\": 9}, {\"modules\": 12}]}]}");
    CHECK(g.n == 2 && find(&g, "share one set") && find(&g, "low_alarm: 108 V is below"));
    print_all(&g);
}

/* ow_gateway_lint on its own: the key and the reason, for a caller that
 * places them itself. */
static void note(void *ctx, const ow_gateway_cfg_t *g, const char *key, const char *msg)
{
    (void)g;
    (void)msg;
    if (strcmp(key, "thresholds.impedance_mohm.high_alarm") == 0) ++*(int *)ctx;
}

static void test_gateway(void)
{
    char err[512];
    ow_site_t *s = ow_site_load("etc/site-sample.json", err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (!s) return;
    ow_gateway_cfg_t g = s->gateways[0];
    int hits = 0;
    CHECK(ow_gateway_lint(&g, note, &hits) == 0 && hits == 0);
    g.thr.impedance_mohm.high_alarm = 4.6; /* the nominal: every block in alarm */
    CHECK(ow_gateway_lint(&g, note, &hits) == 1 && hits == 1);
    CHECK(ow_gateway_lint(NULL, note, &hits) == 0);
    ow_site_destroy(&s);
}

int main(void)
{
    test_shipped();
    test_defaults_pass();
    test_contradictions();
    test_lengths();
    test_gateway();
    return ow_test_done("lint_test");
}
