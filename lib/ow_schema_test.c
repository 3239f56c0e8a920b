/* The schema engine on a table of its own: values and defaults into a
 * struct, nested objects, every refusal at FILE:LINE:COL and its key, the
 * unknown key's "did you mean", secrets from env: and file:, paths resolved
 * against the file's directory, runtime set/get/range, the doc table, and
 * the one whole-file reader. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ow_config.h"
#include "ow_schema.h"
#include "ow_test.h"

typedef struct {
    int port;
    double ratio;
    uint64_t seed;
    int on;
    char name[8];
    char mode[8];
    char when[11];
    char secret[32];
    char dir[64];
    int inner_n;
    int odd; /* set by a hook */
} cfg_t;

static const char *const modes[] = {"fast", "slow", NULL};

/* A hook for an odd key: the value is an array whose length is stored. */
static int odd_parse(ow_schema_ctx_t *c, const ow_key_t *k, json_t *v, const char *path, void *base)
{
    if (!json_is_array(v)) return ow_schema_fail(c, path, "expected an array");
    *(int *)((char *)base + k->off) = (int)json_array_size(v);
    return 0;
}

static int odd_fill(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base)
{
    (void)c, (void)path;
    *(int *)((char *)base + k->off) = -1;
    return 0;
}

static int name_check(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base)
{
    const char *s = (const char *)base + k->off;
    return strchr(s, ' ') ? ow_schema_fail(c, path, "no spaces") : 0;
}

#define C(m) OW_AT(cfg_t, m)
static const ow_key_t keys[] = {
    {.key = "port",
     .type = OW_KEY_INT,
     C(port),
     .min = 1,
     .max = 65535,
     .def = 502,
     .doc = "Port."},
    {.key = "ratio",
     .type = OW_KEY_DOUBLE,
     C(ratio),
     .min = 0,
     .max = 1,
     .def = 0.5,
     .flags = OW_KEY_MIN_OPEN,
     .doc = "Ratio."},
    {.key = "seed", .type = OW_KEY_U64, C(seed), .def = 7, .doc = "Seed."},
    {.key = "on", .type = OW_KEY_BOOL, C(on), .def = 1, .doc = "On."},
    {.key = "name",
     .type = OW_KEY_STRING,
     C(name),
     .sdef = "x",
     .check = name_check,
     .doc = "Name."},
    {.key = "mode", .type = OW_KEY_ENUM, C(mode), .sdef = "fast", .choices = modes, .doc = "Mode."},
    {.key = "when", .type = OW_KEY_DATE, C(when), .doc = "When."},
    {.key = "secret", .type = OW_KEY_STRING, C(secret), .flags = OW_KEY_SECRET, .doc = "Secret."},
    {.key = "dir", .type = OW_KEY_STRING, C(dir), .sdef = "d", .flags = OW_KEY_PATH, .doc = "Dir."},
    {.key = "inner.n",
     .type = OW_KEY_INT,
     C(inner_n),
     .min = 0,
     .max = 9,
     .def = 3,
     .doc = "Nested."},
    {.key = "odd",
     .type = OW_KEY_CUSTOM,
     C(odd),
     .parse = odd_parse,
     .fill = odd_fill,
     .doc = "Odd."},
};
#define NK (sizeof keys / sizeof keys[0])

static char err[1024];

/* Load text as file "/etc/t/t.json": 0 or -1 with err. */
static int load(const char *text, cfg_t *out)
{
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    ow_jpos_t *pos = ow_jpos_build(text, strlen(text));
    ow_schema_ctx_t c = {.file = "/etc/t/t.json", .pos = pos, .err = err, .errlen = sizeof err};
    ow_schema_section_t sec = {.path = "t", .keys = keys, .nkeys = NK, .size = sizeof(cfg_t)};
    err[0] = '\0';
    int rc = root ? ow_schema_load_section(&c, &sec, json_object_get(root, "t"), out) : -2;
    json_decref(root);
    ow_jpos_destroy(&pos);
    return rc;
}

int main(void)
{
    static cfg_t c;

    /* Every default. */
    CHECK_MSG(load("{}", &c) == 0, "%s", err);
    CHECK(c.port == 502 && c.ratio == 0.5 && c.seed == 7 && c.on == 1 && c.inner_n == 3);
    CHECK(c.odd == -1);
    CHECK_STR(c.name, "x");
    CHECK_STR(c.mode, "fast");
    CHECK_STR(c.when, "");
    CHECK_STR(c.dir, "/etc/t/d");

    /* Values. */
    CHECK_MSG(load("{\"t\": {\"port\": 80, \"ratio\": 1, \"seed\": 9, \"on\": false, \"name\": "
                   "\"ab\", \"mode\": \"slow\", \"when\": \"2024-02-29\", \"dir\": \"/abs\", "
                   "\"inner\": {\"n\": 9}, \"odd\": [1, 2]}}",
                   &c) == 0,
              "%s", err);
    CHECK(c.port == 80 && c.ratio == 1 && c.seed == 9 && c.on == 0 && c.inner_n == 9);
    CHECK(c.odd == 2);
    CHECK_STR(c.mode, "slow");
    CHECK_STR(c.when, "2024-02-29");
    CHECK_STR(c.dir, "/abs");

    /* Refusals, each at its position and key. */
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"{\"t\": {\"port\": 0}}", "/etc/t/t.json:1:16: t.port: must be between 1 and 65535"},
        {"{\"t\": {\"port\": 1.5}}", "t.port: expected an integer"},
        {"{\"t\": {\"port\": \"1\"}}", "t.port: expected a number"},
        {"{\"t\": {\"ratio\": 0}}", "t.ratio: must be above 0 and at most 1"},
        {"{\"t\": {\"seed\": -1}}", "t.seed: must not be negative"},
        {"{\"t\": {\"on\": 1}}", "t.on: expected true or false"},
        {"{\"t\": {\"name\": \"a b\"}}", "t.name: no spaces"},
        {"{\"t\": {\"name\": \"toolongname\"}}", "t.name: too long (at most 7 bytes)"},
        {"{\"t\": {\"mode\": \"med\"}}", "t.mode: must be one of: fast, slow"},
        {"{\"t\": {\"when\": \"2023-02-29\"}}", "t.when: \"2023-02-29\" is not a real date"},
        {"{\"t\": {\"when\": \"29.2.2024\"}}", "t.when: expected a date YYYY-MM-DD"},
        {"{\"t\": {\"inner\": 1}}", "t.inner: expected an object"},
        {"{\"t\": {\"inner\": {\"m\": 1}}}", "/etc/t/t.json:1:23: t.inner.m: unknown key"},
        {"{\"t\": {\"prot\": 1}}", "t.prot: unknown key (did you mean port?)"},
        {"{\"t\": {\"zzzzzz\": 1}}", "t.zzzzzz: unknown key"},
        {"{\"t\": {\"odd\": 1}}", "t.odd: expected an array"},
        {"{\"t\": {\"secret\": \"env:OW_SCHEMA_TEST_UNSET\"}}",
         "t.secret: environment variable OW_SCHEMA_TEST_UNSET is not set"},
        {"{\"t\": {\"secret\": \"file:nonexistent\"}}", "t.secret: cannot read nonexistent"},
        {"{\"t\": []}", "t: expected an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(load(bad[i].text, &c) == -1, "%s", bad[i].text);
        CHECK_CONTAINS(err, bad[i].want);
    }

    /* Secrets: the value named, never shown in a message. */
    setenv("OW_SCHEMA_TEST_SECRET", "hunter2", 1);
    CHECK(load("{\"t\": {\"secret\": \"env:OW_SCHEMA_TEST_SECRET\"}}", &c) == 0);
    CHECK_STR(c.secret, "hunter2");
    setenv("OW_SCHEMA_TEST_SECRET", "a secret far too long for its thirty-one bytes", 1);
    CHECK(load("{\"t\": {\"secret\": \"env:OW_SCHEMA_TEST_SECRET\"}}", &c) == -1);
    CHECK(strstr(err, "far too long") == NULL);
    char dir[] = "/tmp/ow_schema_test.XXXXXX", fp[600], text[1024];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(fp, sizeof fp, "%s/pw", dir);
    FILE *f = fopen(fp, "w");
    CHECK(f && fputs("fromfile\nsecond\n", f) >= 0 && fclose(f) == 0);
    {
        ow_schema_ctx_t sc = {.file = "x.json", .dir = dir, .err = err, .errlen = sizeof err};
        char raw[64] = "file:pw";
        CHECK(ow_schema_secret(&sc, "k", raw, sizeof raw) == 0);
        CHECK_STR(raw, "fromfile");
        snprintf(raw, sizeof raw, "plain");
        CHECK(ow_schema_secret(&sc, "k", raw, sizeof raw) == 0);
        CHECK_STR(raw, "plain");
    }
    {
        /* A file name longer than the reader takes is refused, not cut short
         * to a prefix that names another file (pw, behind a run of '/'). */
        char name[600];
        size_t dl = strlen(dir);
        memcpy(name, dir, dl);
        memset(name + dl, '/', 509 - dl);
        snprintf(name + 509, sizeof name - 509, "pw-is-not-this-file");
        snprintf(text, sizeof text, "{\"t\": {\"secret\": \"file:%s\"}}", name);
        CHECK(load(text, &c) == -1);
        CHECK_CONTAINS(err, "t.secret: file name too long (at most 511 bytes)");
    }

    /* The one file reader: the bytes, NUL-terminated; a limit; a reason. */
    size_t n = 0;
    char *buf = ow_file_read(fp, 1 << 20, &n, err, sizeof err);
    CHECK(buf && n == 16 && strcmp(buf, "fromfile\nsecond\n") == 0);
    free(buf);
    CHECK(ow_file_read(fp, 4, &n, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "too large");
    CHECK(ow_file_read("/nonexistent/x", 1 << 20, &n, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "No such file");
    unlink(fp);
    rmdir(dir);

    /* A path that does not fit once resolved is refused, not cut short. */
    snprintf(text, sizeof text, "{\"t\": {\"dir\": \"%s\"}}",
             "a-relative-directory-name-that-is-long-enough-not-to-fit-in-63");
    CHECK(load(text, &c) == -1);
    CHECK_CONTAINS(err, "t.dir: too long once resolved against \"/etc/t\" (at most 63 bytes)");

    /* Runtime settings: the number rows, range-checked. */
    CHECK(ow_schema_set(keys, NK, &c, "port", 8080, err, sizeof err) == 0 && c.port == 8080);
    CHECK(ow_schema_set(keys, NK, &c, "port", 0, err, sizeof err) == -1);
    CHECK_STR(err, "port: must be between 1 and 65535");
    CHECK(ow_schema_set(keys, NK, &c, "port", 1.5, err, sizeof err) == -1);
    CHECK_STR(err, "port: expected an integer");
    CHECK(ow_schema_set(keys, NK, &c, "name", 1, err, sizeof err) == -1);
    CHECK_STR(err, "name: unknown key");
    double v = 0, lo = 0, hi = 0;
    CHECK(ow_schema_set(keys, NK, &c, "inner.n", 4, err, sizeof err) == 0);
    CHECK(ow_schema_get(keys, NK, &c, "inner.n", &v) == 0 && v == 4);
    CHECK(ow_schema_range(keys, NK, "ratio", &lo, &hi) == 0 && lo == 0 && hi == 1);
    /* An enum by the index of its choice, in the table's order. */
    snprintf(c.mode, sizeof c.mode, "slow");
    CHECK(ow_schema_get(keys, NK, &c, "mode", &v) == 0 && v == 1);
    CHECK(ow_schema_set(keys, NK, &c, "mode", 0, err, sizeof err) == 0);
    CHECK_STR(c.mode, "fast");
    CHECK(ow_schema_get(keys, NK, &c, "mode", &v) == 0 && v == 0);
    CHECK(ow_schema_set(keys, NK, &c, "mode", 2, err, sizeof err) == -1);
    CHECK_STR(err, "mode: must be between 0 and 1 (fast, slow, in that order)");
    CHECK(ow_schema_set(keys, NK, &c, "mode", 0.5, err, sizeof err) == -1);
    CHECK_STR(err, "mode: expected an integer");
    CHECK_STR(c.mode, "fast");
    CHECK(ow_schema_range(keys, NK, "mode", &lo, &hi) == 0 && lo == 0 && hi == 1);
    CHECK(ow_schema_get(keys, NK, &c, "when", &v) == -1); /* a date is no setting */

    /* The doc table: a row per key with type, range and default. */
    char *doc = NULL;
    size_t dl = 0;
    FILE *m = open_memstream(&doc, &dl);
    ow_schema_doc_table(m, keys, NK, "t.");
    fclose(m);
    CHECK_CONTAINS(doc, "| `t.port` | integer | 1 .. 65535 | 502 | Port. |");
    CHECK_CONTAINS(doc, "| `t.ratio` | number | > 0 .. 1 | 0.5 | Ratio. |");
    CHECK_CONTAINS(doc, "| `t.mode` | enum | fast, slow | `fast` | Mode. |");
    CHECK_CONTAINS(doc, "| `t.secret` | string | <= 31 bytes; `file:PATH`, `env:NAME` | empty |");
    CHECK_CONTAINS(doc, "| `t.inner.n` | integer | 0 .. 9 | 3 | Nested. |");
    free(doc);
    return ow_test_done("schema");
}
