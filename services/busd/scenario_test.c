/* Scenario files: every example in etc/scenarios/ parses, malformed ones are
 * rejected with the exact FILE:LINE:COL: KEY prefix, events come out sorted,
 * and a loaded scenario drives the simulator. Run from the repository root. */
#include "scenario.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "ow_test.h"
#include "sim.h"

static char err[512];

static void test_examples(void)
{
    DIR *d = opendir("etc/scenarios");
    CHECK(d != NULL);
    if (!d) return;
    int n = 0, kinds_seen[OW_EV_KINDS] = {0};
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json")) continue;
        char path[512];
        snprintf(path, sizeof path, "etc/scenarios/%s", de->d_name);
        ow_scenario_t *sc = ow_scenario_load(path, err, sizeof err);
        CHECK_MSG(sc != NULL, "%s: %s", path, err);
        if (!sc) continue;
        n++;
        CHECK(sc->nevents > 0 && sc->name[0]);
        for (int i = 0; i < sc->nevents; i++) {
            kinds_seen[sc->events[i].kind] = 1;
            if (i) CHECK(sc->events[i - 1].at_s <= sc->events[i].at_s);
        }
        ow_scenario_destroy(&sc);
        CHECK(sc == NULL);
    }
    closedir(d);
    CHECK_MSG(n >= 8, "%d example scenarios", n);
    for (int k = 0; k < OW_EV_KINDS; k++)
        if (k != OW_EV_AMBIENT && k != OW_EV_CHARGER_OFF)
            CHECK_MSG(kinds_seen[k], "no example uses %s", ow_event_kind_name(k));

    ow_scenario_t *sc = ow_scenario_load("etc/scenarios/discharge.json", err, sizeof err);
    CHECK(sc != NULL);
    if (sc) {
        CHECK_STR(sc->name, "discharge");
        CHECK(sc->seed == 0 && sc->nevents == 1);
        const ow_event_t *e = &sc->events[0];
        CHECK(e->kind == OW_EV_DISCHARGE && e->string == 0);
        CHECK(e->at_s == 300 && e->duration_s == 1800 && e->current_a == 25);
        ow_scenario_destroy(&sc);
    }
}

static void test_parse_defaults_sorting(void)
{
    const char *t =
        "{\"seed\": 99, \"events\": [\n"
        " {\"at_s\": 900, \"type\": \"ambient\", \"value\": -5.5},\n"
        " {\"at_s\": 60, \"type\": \"thermal_runaway\", \"string\": 2},\n"
        " {\"at_s\": 900, \"type\": \"charger_off\", \"string\": 0, \"duration_s\": 30},\n"
        " {\"at_s\": 0.5, \"type\": \"breaker_open\", \"string\": 1, \"note\": \"x\"}\n"
        "]}";
    ow_scenario_t *sc = ow_scenario_parse(t, "etc/x/my-run.json", err, sizeof err);
    CHECK_MSG(sc != NULL, "%s", err);
    if (!sc) return;
    CHECK_STR(sc->name, "my-run"); /* from the file name */
    CHECK(sc->seed == 99 && sc->nevents == 4);
    CHECK(sc->events[0].kind == OW_EV_BREAKER_OPEN && sc->events[0].at_s == 0.5);
    CHECK(sc->events[0].input == 0 && sc->events[0].duration_s == 0);
    CHECK(sc->events[1].kind == OW_EV_THERMAL_RUNAWAY && sc->events[1].rate == 1); /* default */
    CHECK(sc->events[2].kind == OW_EV_AMBIENT && sc->events[2].value == -5.5);     /* file order */
    CHECK(sc->events[3].kind == OW_EV_CHARGER_OFF && sc->events[3].duration_s == 30);
    ow_scenario_destroy(&sc);

    sc = ow_scenario_parse("{\"name\": \"empty\", \"events\": []}", "e.json", err, sizeof err);
    CHECK(sc != NULL && sc->nevents == 0);
    ow_scenario_destroy(&sc);
    ow_scenario_destroy(&sc); /* harmless twice */
}

/* Each bad text must fail with exactly this message prefix. */
static void bad(const char *name, const char *text, const char *expect)
{
    ow_scenario_t *sc = ow_scenario_parse(text, name, err, sizeof err);
    CHECK_MSG(sc == NULL, "accepted: %s", text);
    CHECK_MSG(!strncmp(err, expect, strlen(expect)), "'%s' does not start with '%s'", err, expect);
    ow_scenario_destroy(&sc);
}

static void test_errors(void)
{
    bad("dis.json",
        "{\n"
        "  \"events\": [\n"
        "    {\"at_s\": 0, \"type\": \"discharge\", \"string\": 0, \"current_a\": 10, "
        "\"duration_s\": 60},\n"
        "    {\"at_s\": 300, \"current_a\": 20000, \"type\": \"discharge\", \"string\": 1,\n"
        "     \"duration_s\": 60}\n"
        "  ]\n"
        "}\n",
        "dis.json:4:32: events[1].current_a: must be between 0 and 10000");
    bad("t.json", "{\"events\": [\n  {\"at_s\": 1, \"type\": \"explode\"}]}",
        "t.json:2:23: events[0].type: unknown event type \"explode\" (one of discharge, "
        "impedance_rise, dry_out,");
    bad("t.json", "{\"events\": [{\"at_s\": 1, \"type\": 7}]}",
        "t.json:1:33: events[0].type: must be a string");
    bad("t.json", "{\"events\": [{\"at_s\": 1}]}", "t.json:1:13: events[0]: missing \"type\"");
    bad("k.json",
        "{\"events\": [\n"
        "  {\"type\": \"aux_input\", \"at_s\": 5, \"input\": 3, \"colour\": \"red\"}\n"
        "]}",
        "k.json:2:58: events[0].colour: unknown key for aux_input events");
    bad("k.json",
        "{\"events\": [{\"type\": \"discharge\", \"at_s\": 5, \"string\": 1, \"block\": 2, "
        "\"current_a\": 5, \"duration_s\": 1}]}",
        "k.json:1:68: events[0].block: not used by discharge events");
    bad("m.json",
        "{\"events\": [\n"
        "  {\"type\": \"x\", \"at_s\": 0, \"type\": \"y\"}]}",
        "m.json:2:");
    bad("m.json",
        "{\"events\": [\n"
        " {\"at_s\": 5, \"type\": \"discharge\", \"string\": 1},\n"
        "\n"
        " {\"at_s\": 5, \"type\": \"module_lost\", \"string\": 1}\n"
        "]}",
        "m.json:2:2: events[0]: missing \"current_a\", required for discharge events");
    bad("m.json", "{\"events\": [{\"at_s\": 5, \"type\": \"module_lost\", \"string\": 1}]}",
        "m.json:1:13: events[0]: missing \"block\", required for module_lost events");
    bad("i.json",
        "{\"events\": [{\"at_s\": 5, \"type\": \"module_lost\", \"string\": 1.5, \"block\": 1}]}",
        "i.json:1:58: events[0].string: must be an integer");
    bad("i.json",
        "{\"events\": [{\"at_s\": 5, \"type\": \"module_lost\", \"string\": 0, \"block\": 1}]}",
        "i.json:1:58: events[0].string: must be between 1 and 16");
    bad("i.json", "{\"events\": [{\"at_s\": \"5\", \"type\": \"aux_input\", \"input\": 1}]}",
        "i.json:1:22: events[0].at_s: must be a number");
    bad("i.json", "{\"events\": [{\"at_s\": -1, \"type\": \"aux_input\", \"input\": 1}]}",
        "i.json:1:22: events[0].at_s: must be between 0 and 315360000");
    bad("i.json", "{\"events\": [{\"at_s\": 1, \"type\": \"aux_input\", \"input\": 17}]}",
        "i.json:1:55: events[0].input: must be between 1 and 16");
    bad("i.json",
        "{\"events\": [{\"at_s\": 1, \"type\": \"hydrogen\", \"input\": 1, \"value\": 101}]}",
        "i.json:1:66: events[0].value: must be between 0 and 100");
    bad("i.json", "{\"events\": [{\"at_s\": 1, \"type\": \"hydrogen\", \"value\": 10}]}",
        "i.json:1:13: events[0]: missing \"input\", required for hydrogen events");
    bad("e.json", "{\"events\": [3]}", "e.json:1:13: events[0]: must be an object");
    bad("t.json", "{\"time_of_day_s\": 86400, \"events\": []}",
        "t.json:1:19: time_of_day_s: must be an integer 0..86399");
    bad("r.json", "{\"name\": \"x\",\n \"evnts\": []}",
        "r.json:2:11: evnts: unknown key (name, description, seed, time_of_day_s, events)");
    bad("r.json", "{\"name\": \"x\"}", "r.json:1:1: events: required");
    bad("r.json", "{\"events\": {}}", "r.json:1:12: events: must be an array");
    bad("r.json", "{\"seed\": -3, \"events\": []}", "r.json:1:10: seed: must be a non-negative");
    bad("r.json", "{\"seed\": 1.5, \"events\": []}", "r.json:1:10: seed: must be a non-negative");
    bad("r.json", "{\"name\": 5, \"events\": []}", "r.json:1:10: name: must be a string");
    bad("r.json",
        "{\"name\": \"0123456789012345678901234567890123456789012345678901234567890123\", "
        "\"events\": []}",
        "r.json:1:10: name: must be at most 63 characters");
    bad("r.json", "[]", "r.json:1:1: a scenario must be a JSON object");
    /* jansson's own errors keep its line and column */
    bad("s.json", "{\"events\": [\n  {\"at_s\": 1,}\n]}", "s.json:2:");
    bad("s.json", "{\"events\": [], \"events\": []}", "s.json:1:");
    bad("s.json", "", "s.json:");

    ow_scenario_t *sc = ow_scenario_load("etc/scenarios/no-such-file.json", err, sizeof err);
    CHECK(sc == NULL);
    CHECK_CONTAINS(err, "etc/scenarios/no-such-file.json: cannot open");
}

static void test_doc(void)
{
    CHECK_STR(ow_event_kind_name(OW_EV_DISCHARGE), "discharge");
    CHECK_STR(ow_event_kind_name(OW_EV_CHARGER_OFF), "charger_off");
    CHECK_STR(ow_event_kind_name(OW_EV_KINDS), "?");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(ow_scenario_doc(f) == 0);
    fclose(f);
    for (int k = 0; k < OW_EV_KINDS; k++) {
        char h[64];
        CHECK_MSG(ow_event_kind_name(k) != NULL, "kind %d has no row in the table", k);
        snprintf(h, sizeof h, "### `%s`", ow_event_kind_name(k));
        CHECK_CONTAINS(buf, h);
    }
    CHECK_CONTAINS(buf, "| `current_a` | yes | 0..10000 A |");
    CHECK_CONTAINS(buf, "| `rate` | no | 0..10 | 1 |");
    free(buf);
}

/* A loaded example drives the simulator: 25 A out of each string at 300 s. */
static void test_drives_sim(void)
{
    ow_gateway_cfg_t gw;
    memset(&gw, 0, sizeof gw);
    gw.module_type = ow_module_type_find("C20");
    gw.current_sensor = 1;
    gw.aux_units = 1;
    gw.battery.capacity_ah = 50;
    gw.battery.impedance_mohm = 4.6;
    gw.nstrings = 2;
    gw.strings[0].modules = gw.strings[1].modules = 9;
    gw.impedance_poll_min = 720;
    gw.sim.ambient_c = 22;
    gw.sim.float_v_per_cell = 2.27;
    gw.sim.charge_limit_c = 0.1;
    ow_scenario_t *sc = ow_scenario_load("etc/scenarios/discharge.json", err, sizeof err);
    CHECK(sc != NULL);
    ow_sim_t *sim = ow_sim_new(&gw, sc, 1, 1740787200LL * 1000000);
    CHECK(sim != NULL);
    if (sim) {
        CHECK(ow_sim_true_current_a(sim, 1) > 0);
        ow_sim_step(sim, 310LL * 1000000);
        CHECK(ow_sim_true_current_a(sim, 1) == -25 && ow_sim_true_current_a(sim, 2) == -25);
        ow_sim_step(sim, 1800LL * 1000000);
        CHECK_NEAR(ow_sim_true_current_a(sim, 2), 5, 1e-9);
    }
    ow_sim_destroy(&sim);
    ow_scenario_destroy(&sc);
}

/* time_of_day_s pins the daily swing: two runs of one seed started an hour
 * apart read the same room; without it the room differs by the swing. */
static double ambient_after(const char *json, int64_t start_us)
{
    ow_gateway_cfg_t gw;
    char perr[200];
    memset(&gw, 0, sizeof gw);
    gw.module_type = ow_module_type_find("C20");
    gw.ambient_sensor = 1;
    gw.battery.capacity_ah = 50;
    gw.nstrings = 1;
    gw.strings[0].modules = 9;
    gw.sim.ambient_c = 22;
    gw.sim.float_v_per_cell = 2.27;
    gw.sim.charge_limit_c = 0.1;
    ow_scenario_t *sc = ow_scenario_parse(json, "tod.json", perr, sizeof perr);
    CHECK_MSG(sc != NULL, "%s", perr);
    ow_sim_t *sim = ow_sim_new(&gw, sc, 7, start_us);
    double t = NAN;
    if (sim) {
        ow_aux_t a;
        ow_sim_step(sim, 600LL * 1000000);
        ow_sim_read_aux(sim, &a);
        t = a.ambient_c;
    }
    ow_sim_destroy(&sim);
    ow_scenario_destroy(&sc);
    return t;
}

static void test_time_of_day(void)
{
    const int64_t t0 = 1740787200LL * 1000000 + 6 * 3600LL * 1000000; /* 06:00 UTC */
    const char *pinned = "{\"time_of_day_s\": 32400, \"events\": []}", *free_ = "{\"events\": []}";
    CHECK(ambient_after(pinned, t0) == ambient_after(pinned, t0 + 3600LL * 1000000));
    /* 06:00 and 07:00 UTC: the swing rises about 0.4 degC in that hour */
    CHECK(ambient_after(free_, t0 + 3600LL * 1000000) - ambient_after(free_, t0) > 0.2);
    /* 09:00 UTC is the swing's mean: the room reads the site's 22 degC */
    CHECK_NEAR(ambient_after(pinned, t0), 22, 0.5);
}

int main(void)
{
    test_examples();
    test_parse_defaults_sorting();
    test_errors();
    test_doc();
    test_drives_sim();
    test_time_of_day();
    return ow_test_done("scenario_test");
}
