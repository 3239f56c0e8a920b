/* The "services.historian" section of the site file: its key table. The
 * schema engine (lib/ow_schema.h) reads, checks, documents and sets every
 * key from these rows; a new key is one row here and a field in
 * ow_historian_cfg_t. */
#include <string.h>

#include "historian.h"
#include "ow_schema.h"

#define HK(m) OW_AT(ow_historian_cfg_t, m)

/* clang-format off */
const ow_key_t ow_historian_keys[] = {
    {.key = "dsn", .type = OW_KEY_STRING, HK(dsn), .env = "OHMWATCH_PG_DSN",
     .doc = "libpq connection string of the PostgreSQL database (e.g. `host=db dbname=ohmwatch`); "
            "`\"\"` or none: `$OHMWATCH_PG_DSN`, so that passwords stay out of files."},
    {.key = "spool_dir", .type = OW_KEY_STRING, HK(spool_dir), .sdef = "historian-spool",
     .flags = OW_KEY_PATH | OW_KEY_NONEMPTY,
     .doc = "Where readings are spooled while the database is away; relative to the site "
            "file's directory unless absolute."},
    {.key = "spool_max_mb", .type = OW_KEY_INT, HK(spool_max_mb), .min = 1, .max = 1048576,
     .def = 1024, .doc = "Largest size of the spool, MiB."},
    {.key = "batch_rows", .type = OW_KEY_INT, HK(batch_rows), .min = 1, .max = 1000000,
     .def = 20000, .doc = "A batch is written when this many rows are waiting ..."},
    {.key = "batch_ms", .type = OW_KEY_INT, HK(batch_ms), .min = 1, .max = 60000, .def = 200,
     .doc = "... or when the oldest of them has waited this long, ms."},
    {.key = "retention_days", .type = OW_KEY_INT, HK(retention_days), .min = 0, .max = 36500,
     .def = 0, .doc = "Reading partitions older than this many days are dropped; 0 keeps all."},
};
/* clang-format on */
const size_t ow_historian_nkeys = sizeof ow_historian_keys / sizeof ow_historian_keys[0];

int ow_historian_finish(ow_schema_ctx_t *c, const json_t *obj, void *base)
{
    ow_historian_cfg_t *h = base;
    (void)c;
    (void)obj;
    h->spool_max_bytes = (uint64_t)h->spool_max_mb << 20;
    return 0;
}

const ow_schema_section_t ow_historian_section = {
    .path = "services.historian",
    .keys = ow_historian_keys,
    .nkeys = sizeof ow_historian_keys / sizeof ow_historian_keys[0],
    .size = sizeof(ow_historian_cfg_t),
    .finish = ow_historian_finish,
    .doc = "The historian (services/historian): where it stores the readings, and how it\n"
           "batches and spools them. All keys are optional.",
};

int ow_site_historian(const ow_site_t *site, ow_historian_cfg_t *out, char *err, size_t errlen)
{
    return ow_site_section(site, &ow_historian_section, out, err, errlen);
}
