/* alarmd's engine state (engine_state.c): what a restart reads back. The
 * inputs are the state files of services/alarmd/fuzz-corpus/state_fuzz (one
 * written by state_fuzz's seed run, one by an alarmd_restart run) on their
 * site, etc/two-gateways.json: a save after a load gives the same alarms,
 * ids, acknowledgements and text; a damaged file is refused with a message
 * that names the place and leaves the engine as it was. (Evaluation going on
 * identically after a load is engine_test's test_save_load.) */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "ow_test.h"

#define SITE   "etc/two-gateways.json"
#define CORPUS "services/alarmd/fuzz-corpus/state_fuzz/"
#define TS_US  1796400000000000LL

static int nacks; /* "ack" events heard */

static void on_alarm(void *ctx, const char *gw, const ow_alarm_t *a, int64_t ts_us)
{
    (void)ctx, (void)gw, (void)ts_us;
    if (strcmp(a->action, "ack") == 0) nacks++;
}

static const ow_engine_sink_t sink = {.alarm = on_alarm};

static ow_site_t *site;

/* The engine part of a corpus file (alarmd's whole state file). */
static json_t *corpus(const char *name)
{
    json_error_t jerr;
    json_t *root = json_load_file(name, JSON_REJECT_DUPLICATES, &jerr);
    CHECK_MSG(root != NULL, "%s:%d: %s", name, jerr.line, jerr.text);
    json_t *e = json_incref(json_object_get(root, "engine"));
    json_decref(root);
    CHECK_MSG(json_is_object(e), "%s: no engine state", name);
    return e;
}

static char *save_text(const ow_engine_t *e)
{
    json_t *j = ow_engine_save(e);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    CHECK(text != NULL);
    return text;
}

static ow_engine_t *loaded(const json_t *j)
{
    char err[512] = "";
    ow_engine_t *e = ow_engine_new(site, &sink, NULL);
    CHECK(e != NULL);
    CHECK_MSG(ow_engine_load(e, j, err, sizeof err) == 0, "%s", err);
    return e;
}

/* The saved alarm a as ow_engine_active reports it. */
static int same_saved(const json_t *a, const ow_alarm_t *x)
{
    double v = json_number_value(json_object_get(a, "value"));
    return x->id == (uint64_t)json_integer_value(json_object_get(a, "id")) &&
           x->type == json_integer_value(json_object_get(a, "code")) &&
           x->string == json_integer_value(json_object_get(a, "string")) &&
           x->module == json_integer_value(json_object_get(a, "module")) &&
           x->raised_us == json_integer_value(json_object_get(a, "raised_us")) &&
           (x->value == v || (isnan(x->value) && json_is_null(json_object_get(a, "value")))) &&
           strcmp(x->text, json_string_value(json_object_get(a, "text"))) == 0 &&
           strcmp(x->action, "raise") == 0;
}

/* Every alarm of the file is active after the load, with its id, source,
 * value, raise time and text; next_id goes on where the file left it. */
static void check_alarms(const json_t *file, const ow_engine_t *e)
{
    const char *gw;
    const json_t *g;
    json_object_foreach((json_t *)json_object_get(file, "gateways"), gw, g)
    {
        const json_t *alarms = json_object_get(g, "alarms");
        size_t n = json_array_size(alarms);
        ow_alarm_t *act = calloc(n + 1, sizeof *act);
        CHECK(act != NULL && n > 0);
        if (!act) return;
        CHECK_MSG(ow_engine_active(e, gw, act, (int)n + 1) == (int)n, "%s: %zu alarms", gw, n);
        for (size_t i = 0; i < n; i++) {
            const json_t *a = json_array_get(alarms, i);
            int found = 0;
            for (size_t k = 0; k < n; k++)
                found += same_saved(a, &act[k]);
            CHECK_MSG(found == 1, "%s: alarms[%zu] (id %lld) after the load", gw, i,
                      (long long)json_integer_value(json_object_get(a, "id")));
        }
        free(act);
    }
}

static void test_round_trip(const char *name)
{
    json_t *file = corpus(name);
    ow_engine_t *a = loaded(file);
    check_alarms(file, a);
    char *text = save_text(a);
    json_t *saved = json_loads(text, 0, NULL);
    CHECK(json_equal(json_object_get(saved, "next_id"), json_object_get(file, "next_id")));
    CHECK(json_equal(json_object_get(saved, "version"), json_object_get(file, "version")));
    /* What the engine evaluates from is kept as it was read. */
    const char *gw;
    json_t *g;
    json_object_foreach(json_object_get(file, "gateways"), gw, g)
    {
        const json_t *s = json_object_get(json_object_get(saved, "gateways"), gw);
        static const char *const keys[] = {"pending", "comm_lost", "cycle", "breaker", "flags"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            CHECK_MSG(json_equal(json_object_get(s, keys[k]), json_object_get(g, keys[k])),
                      "%s: %s saved differently", gw, keys[k]);
    }

    /* Acknowledge one alarm; a second engine loaded from the save knows it
     * is acknowledged (no second "ack") and the rest are not. */
    ow_alarm_t first;
    int total = ow_engine_active(a, "wm1", &first, 1);
    CHECK(total > 1);
    nacks = 0;
    CHECK(ow_engine_ack(a, "wm1", first.id, TS_US) == 1 && nacks == 1);
    free(text);
    text = save_text(a);
    json_decref(saved);
    saved = json_loads(text, 0, NULL);
    ow_engine_t *b = loaded(saved);
    char *again = save_text(b);
    CHECK(again && strcmp(text, again) == 0);
    free(again);
    nacks = 0;
    CHECK(ow_engine_ack(b, "wm1", first.id, TS_US) == 1 && nacks == 0);
    CHECK_MSG(ow_engine_ack(b, "wm1", 0, TS_US) == total - 1 && nacks == total - 1, "%d of %d",
              nacks, total);
    /* All acknowledged: the buzzer stops (it sounded for the alarms of a). */
    CHECK(ow_engine_state(b, "wm1")->audible == 0);

    free(text);
    json_decref(saved);
    json_decref(file);
    ow_engine_destroy(&a);
    ow_engine_destroy(&b);
}

/* An id in the file above its next_id: the next raise must not reuse it. */
static void test_next_id(void)
{
    json_t *file = corpus(CORPUS "running.json");
    json_int_t max = 0;
    const char *gw;
    json_t *g, *a;
    size_t i;
    json_object_foreach(json_object_get(file, "gateways"), gw, g)
    {
        json_array_foreach(json_object_get(g, "alarms"), i, a)
        {
            json_int_t id = json_integer_value(json_object_get(a, "id"));
            if (id > max) max = id;
        }
    }
    CHECK(max > 1);
    json_object_set_new(file, "next_id", json_integer(1));
    ow_engine_t *e = loaded(file);
    char *text = save_text(e);
    json_t *saved = json_loads(text, 0, NULL);
    CHECK_MSG(json_integer_value(json_object_get(saved, "next_id")) == max + 1, "%s", text);
    free(text);
    json_decref(saved);
    json_decref(file);
    ow_engine_destroy(&e);
}

/* One damage to the file and the message it must give. */
typedef struct {
    const char *gw;   /* the gateway whose object is damaged; NULL: the top */
    const char *path; /* an object under it, "alarms/1" = its second alarm */
    const char *key;  /* set to value, or removed when value is NULL */
    const char *value;
    const char *msg; /* the whole message, or what it must contain */
} damage_t;

static const damage_t damages[] = {
    {.key = "version", .value = "2", .msg = "engine state: version: expected 1"},
    {.key = "version", .value = NULL, .msg = "engine state: version: expected 1"},
    {.key = "next_id", .value = "0", .msg = "engine state: next_id: expected an integer >= 1"},
    {.key = "gateways", .value = "[]", .msg = "engine state: gateways: expected an object"},
    {.gw = "wm1",
     .path = "alarms/1",
     .key = "code",
     .value = "9999",
     .msg = "engine state: gateway wm1: alarms[1].code: not in the alarm catalogue"},
    {.gw = "wm1",
     .path = "alarms/0",
     .key = "id",
     .value = "\"x\"",
     .msg = "engine state: gateway wm1: alarms[0].id: expected an integer"},
    {.gw = "wm2",
     .path = "alarms/3",
     .key = "text",
     .value = NULL,
     .msg = "engine state: gateway wm2: alarms[3].text: expected a string"},
    {.gw = "wm2",
     .path = "alarms/2",
     .key = "string",
     .value = "7",
     .msg = "engine state: gateway wm2: alarms[2].string: not a string of the gateway"},
    {.gw = "wm1",
     .path = "cycle",
     .key = "speed",
     .value = "\"fast\"",
     .msg = "engine state: gateway wm1: cycle.speed: expected a number or null"},
    {.gw = "wm1",
     .path = "breaker",
     .key = "commanded",
     .value = NULL,
     .msg = "engine state: gateway wm1: breaker.commanded: missing"},
    {.gw = "wm2",
     .path = "flags",
     .key = "string_flags",
     .value = "[70000]",
     .msg = "engine state: gateway wm2: flags.string_flags: expected 16-bit words"},
    {.gw = "wm2",
     .path = "",
     .key = "pending",
     .value = "{}",
     .msg = "engine state: gateway wm2: pending: expected an array"},
    {.gw = "wm2",
     .path = "diag",
     .key = "version",
     .value = "99",
     .msg = "engine state: gateway wm2: diag: version: 99 outside 1.."},
};

/* The object of d under the engine state j. */
static json_t *target(json_t *j, const damage_t *d)
{
    if (!d->gw) return j;
    json_t *o = json_object_get(json_object_get(j, "gateways"), d->gw);
    char path[64];
    snprintf(path, sizeof path, "%s", d->path);
    for (char *tok = strtok(path, "/"); tok && o; tok = strtok(NULL, "/"))
        o = json_is_array(o) ? json_array_get(o, (size_t)atoi(tok)) : json_object_get(o, tok);
    return o;
}

static void test_damaged(void)
{
    json_t *file = corpus(CORPUS "running.json");
    ow_engine_t *e = loaded(file);
    char *before = save_text(e);
    for (size_t i = 0; i < sizeof damages / sizeof damages[0]; i++) {
        const damage_t *d = &damages[i];
        json_t *j = json_deep_copy(file), *o = target(j, d);
        CHECK_MSG(json_is_object(o), "damage %zu: nothing at %s", i, d->path);
        if (!o) continue;
        if (d->value)
            json_object_set_new(o, d->key, json_loads(d->value, JSON_DECODE_ANY, NULL));
        else
            json_object_del(o, d->key);
        char err[512] = "";
        CHECK_MSG(ow_engine_load(e, j, err, sizeof err) == -1, "damage %zu loaded", i);
        CHECK_MSG(strncmp(err, d->msg, strlen(d->msg)) == 0, "damage %zu: '%s', expected '%s'", i,
                  err, d->msg);
        json_decref(j);
        /* Refused: nothing of the file was taken, nothing of the engine lost. */
        char *after = save_text(e);
        CHECK_MSG(after && strcmp(before, after) == 0, "damage %zu changed the engine", i);
        free(after);
    }

    /* Cut short (a crash during a write): jansson refuses the text and
     * names line and column; what it does take is the whole document. */
    char *text = json_dumps(file, JSON_COMPACT);
    CHECK(text != NULL);
    size_t len = text ? strlen(text) : 0;
    for (size_t cut = 1; text && cut < len; cut += len / 7) {
        json_error_t jerr;
        json_t *j = json_loadb(text, cut, JSON_REJECT_DUPLICATES, &jerr);
        CHECK_MSG(j == NULL && jerr.line == 1 && jerr.column > 0, "cut at %zu of %zu", cut, len);
        json_decref(j);
    }
    free(text);

    char err[64] = "x";
    CHECK(ow_engine_load(e, NULL, err, sizeof err) == 0); /* no file: a fresh start */
    char *after = save_text(e);
    CHECK(after && strcmp(before, after) == 0);
    free(after);
    free(before);
    json_decref(file);
    ow_engine_destroy(&e);
}

int main(void)
{
    char err[512];
    site = ow_site_load(SITE, err, sizeof err);
    CHECK_MSG(site != NULL, "%s", err);
    if (!site) return ow_test_done("engine_state_test");
    test_round_trip(CORPUS "running.json");
    test_round_trip(CORPUS "running-v3.json");
    test_next_id();
    test_damaged();
    ow_site_destroy(&site);
    return ow_test_done("engine_state_test");
}
