/* services.historian from its key table (historian_keys.c): the section
 * read from site texts (defaults, values, and the refusals, each at its
 * key; a dsn or spool_dir that would be cut short is refused: it was
 * truncated, another database, another directory); then the table driving
 * everything about a key: a section built from the real rows plus one new
 * integer row (as a developer would add it to historian_keys.c, with a field
 * for it) reads the new key from a site file, refuses it out of range at its
 * position, documents it in the generated table and changes it at run time,
 * with no other code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "historian.h"
#include "ow_test.h"

/* The configuration as it would be with one more field. */
typedef struct {
    ow_historian_cfg_t h; /* first: the real rows' offsets stay valid */
    int flush_threads;
} wide_cfg_t;

#define MAXKEYS 32
static ow_key_t keys[MAXKEYS];

static const ow_key_t extra = {.key = "flush_threads",
                               .type = OW_KEY_INT,
                               OW_AT(wide_cfg_t, flush_threads),
                               .min = 1,
                               .max = 16,
                               .def = 2,
                               .doc = "Threads writing batches."};

#define SITE_HEAD                                                                                  \
    "{\"gateways\": [{\"id\": \"wm1\", \"publish\": \"tcp://127.0.0.1:7931\", \"replay\": "        \
    "\"tcp://127.0.0.1:7932\", \"module_type\": \"C20\", \"battery\": {\"capacity_ah\": 100}, "    \
    "\"strings\": [{\"modules\": 4}]}], \"services\": {\"alarmd\": {\"state_file\": "              \
    "\"/tmp/a.json\"}, \"security\": {\"keys_dir\": \"/tmp/keys\"}, \"historian\": "

/* The site text with section as services.historian, read by sec (NULL:
 * ow_site_historian into an ow_historian_cfg_t). */
static int parse(const ow_schema_section_t *sec, const char *path, const char *section, void *out,
                 char *err, size_t errlen)
{
    static char text[8192];
    snprintf(text, sizeof text, "%s%s}}", SITE_HEAD, section);
    ow_site_t *site = ow_site_parse(text, strlen(text), path, err, errlen);
    CHECK_MSG(site != NULL, "%s", err);
    if (!site) return -2;
    int rc = sec ? ow_site_section(site, sec, out, err, errlen)
                 : ow_site_historian(site, out, err, errlen);
    ow_site_destroy(&site);
    return rc;
}

static void real_rows(void)
{
    static ow_historian_cfg_t c;
    static char err[2048], sec[4096];
    CHECK(parse(NULL, "/srv/site.json", "{}", &c, err, sizeof err) == 0);
    CHECK_STR(c.dsn, "");
    CHECK_STR(c.spool_dir, "/srv/historian-spool");
    CHECK(c.spool_max_bytes == 1024ULL << 20 && c.batch_rows == 20000 && c.batch_ms == 200);
    CHECK(parse(NULL, "/srv/site.json",
                "{\"dsn\": \"host=db\", \"spool_dir\": \"sp\", \"spool_max_mb\": 16, "
                "\"batch_rows\": 10, \"batch_ms\": 5, \"retention_days\": 30}",
                &c, err, sizeof err) == 0);
    CHECK_STR(c.dsn, "host=db");
    CHECK_STR(c.spool_dir, "/srv/sp");
    CHECK(c.spool_max_bytes == 16ULL << 20 && c.batch_rows == 10 && c.batch_ms == 5 &&
          c.retention_days == 30);

    static const struct {
        const char *section, *want;
    } bad[] = {
        {"[]", "services.historian: expected an object"},
        {"{\"bogus\": 1}", "services.historian.bogus: unknown key"},
        {"{\"dsn\": 5}", "services.historian.dsn: expected a string"},
        {"{\"batch_ms\": 0}", "services.historian.batch_ms: must be between 1 and 60000"},
        {"{\"spool_dir\": \"\"}", "services.historian.spool_dir: must not be empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK_MSG(parse(NULL, "site.json", bad[i].section, &c, err, sizeof err) == -1, "%s",
                  bad[i].section);
        CHECK_CONTAINS(err, bad[i].want);
    }

    /* A dsn of 511 bytes fits; 512 is refused rather than cut short. */
    char dsn[600];
    memset(dsn, 'x', sizeof dsn);
    memcpy(dsn, "host=", 5);
    dsn[511] = '\0';
    snprintf(sec, sizeof sec, "{\"dsn\": \"%s\"}", dsn);
    CHECK(parse(NULL, "site.json", sec, &c, err, sizeof err) == 0 && strlen(c.dsn) == 511);
    dsn[511] = 'x';
    dsn[512] = '\0';
    snprintf(sec, sizeof sec, "{\"dsn\": \"%s\"}", dsn);
    CHECK(parse(NULL, "site.json", sec, &c, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "services.historian.dsn: too long (at most 511 bytes)");

    /* Under a 500-byte directory: a relative spool_dir does not fit, an
     * absolute one does, and the default is refused when it does not. */
    char deep[512];
    memset(deep, 'd', sizeof deep);
    deep[0] = '/';
    memcpy(deep + 500, "/site.json", 11);
    CHECK(parse(NULL, deep, "{\"spool_dir\": \"spool-of-this-site\"}", &c, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "services.historian.spool_dir: too long once resolved");
    CHECK(parse(NULL, deep, "{\"spool_dir\": \"/var/spool/h\"}", &c, err, sizeof err) == 0);
    CHECK_STR(c.spool_dir, "/var/spool/h");
    CHECK(parse(NULL, deep, "{}", &c, err, sizeof err) == -1);
    CHECK_CONTAINS(err,
                   "services.historian.spool_dir: the default \"historian-spool\" is too long");
    memcpy(deep + 490, "/site.json", 11); /* 490 + "/historian-spool" = 506 fits */
    CHECK(parse(NULL, deep, "{}", &c, err, sizeof err) == 0 && strlen(c.spool_dir) == 506);
}

int main(void)
{
    static char err[1024];
    static wide_cfg_t w;
    unsetenv("OHMWATCH_PG_DSN");
    real_rows();

    CHECK(ow_historian_nkeys + 1 <= MAXKEYS);
    memcpy(keys, ow_historian_keys, ow_historian_nkeys * sizeof keys[0]);
    keys[ow_historian_nkeys] = extra;
    ow_schema_section_t sec = ow_historian_section;
    sec.keys = keys;
    sec.nkeys = ow_historian_nkeys + 1;
    sec.size = sizeof(wide_cfg_t);

    /* Parsed, with its default when absent; the real keys unchanged. */
    CHECK_MSG(parse(&sec, "/srv/site.json", "{}", &w, err, sizeof err) == 0, "%s", err);
    CHECK(w.flush_threads == 2 && w.h.batch_rows == 20000 && w.h.spool_max_bytes == 1024ULL << 20);
    CHECK_MSG(parse(&sec, "/srv/site.json", "{\"flush_threads\": 7, \"spool_max_mb\": 3}", &w, err,
                    sizeof err) == 0,
              "%s", err);
    CHECK(w.flush_threads == 7 && w.h.spool_max_bytes == 3ULL << 20);

    /* Range-checked (and typed), at its position in the file. */
    CHECK(parse(&sec, "/srv/site.json", "{\"flush_threads\": 17}", &w, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "/srv/site.json:1:");
    CHECK_CONTAINS(err, "services.historian.flush_threads: must be between 1 and 16");
    CHECK(parse(&sec, "/srv/site.json", "{\"flush_threads\": 1.5}", &w, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "services.historian.flush_threads: expected an integer");
    CHECK(parse(&sec, "/srv/site.json", "{\"flush_thread\": 3}", &w, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "unknown key (did you mean flush_threads?)");
    /* Without the row it is unknown: the row is what makes it a key. */
    CHECK(parse(&ow_historian_section, "/srv/site.json", "{\"flush_threads\": 3}", &w, err,
                sizeof err) == -1);
    CHECK_CONTAINS(err, "services.historian.flush_threads: unknown key");

    /* Documented: a row of the generated table, with type, range and default. */
    char *doc = NULL;
    size_t doclen = 0;
    FILE *f = open_memstream(&doc, &doclen);
    CHECK(f != NULL);
    if (f) {
        ow_schema_doc_section(f, &sec);
        fclose(f);
        CHECK_CONTAINS(doc, "## services.historian\n");
        CHECK_CONTAINS(doc, "| `services.historian.flush_threads` | integer | 1 .. 16 | 2 | "
                            "Threads writing batches. |\n");
        CHECK_CONTAINS(doc, "| `services.historian.batch_ms` | integer | 1 .. 60000 | 200 |");
        free(doc);
    }

    /* Settable at run time by the same rows, within the same range. */
    double v = 0, lo = 0, hi = 0;
    CHECK(ow_schema_set(sec.keys, sec.nkeys, &w, "flush_threads", 4, err, sizeof err) == 0);
    CHECK(w.flush_threads == 4);
    CHECK(ow_schema_get(sec.keys, sec.nkeys, &w, "flush_threads", &v) == 0 && v == 4);
    CHECK(ow_schema_range(sec.keys, sec.nkeys, "flush_threads", &lo, &hi) == 0 && lo == 1 &&
          hi == 16);
    CHECK(ow_schema_set(sec.keys, sec.nkeys, &w, "flush_threads", 0, err, sizeof err) == -1);
    CHECK_STR(err, "flush_threads: must be between 1 and 16");
    CHECK(w.flush_threads == 4);
    return ow_test_done("historian_keys");
}
