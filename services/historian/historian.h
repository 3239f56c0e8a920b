/* The historian as a service: subscribes to every busd and to alarmd
 * (catching up through their replay), decides what to keep by the log
 * rates, writes batches bounded by size and time to PostgreSQL, and spools
 * to disk while the database is away. Nothing it has taken is lost: rows and
 * ingest positions are committed together, and what is not yet committed is
 * either in the spool or still in a publisher's journal. */
#ifndef OW_HISTORIAN_H
#define OW_HISTORIAN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "ow_config.h"

/* The "services.historian" section of the site file (historian_keys.c). */
typedef struct {
    char dsn[512];       /* libpq conninfo, else $OHMWATCH_PG_DSN (secrets stay out of files) */
    char spool_dir[512]; /* resolved against the site file's directory */
    int spool_max_mb;
    uint64_t spool_max_bytes; /* spool_max_mb in bytes */
    int batch_rows;           /* write when this many rows are waiting ... */
    int batch_ms;             /* ... or when the oldest has waited this long */
    int retention_days;       /* drop reading partitions older than this; 0 keeps all */
} ow_historian_cfg_t;

int ow_site_historian(const ow_site_t *site, ow_historian_cfg_t *out, char *err, size_t errlen);
/* Its rows, and the section built from them; finish derives spool_max_bytes
 * (exported so a test can build a section from these rows plus its own). */
extern const ow_key_t ow_historian_keys[];
extern const size_t ow_historian_nkeys;
extern const ow_schema_section_t ow_historian_section;
int ow_historian_finish(ow_schema_ctx_t *c, const json_t *obj, void *base);

typedef struct ow_historian ow_historian_t;

ow_historian_t *ow_historian_new(const char *site_path, char *err, size_t errlen);
/* The historian does not reload: a SIGHUP (*reload) is logged as refused. */
int ow_historian_run(ow_historian_t *h, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);
void ow_historian_destroy(ow_historian_t **h);

/* Apply the migrations and exit (ohmwatch-historian --migrate). */
int ow_historian_migrate(const char *site_path, char *err, size_t errlen);

#endif
