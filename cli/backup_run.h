/* The backup and restore of a running site, with alarmd (backup.h is the
 * archive's format): what `ohmwatch backup` / `ohmwatch restore` do and
 * webd's backup page does, so both make and check archives the same way.
 * Nothing here prints: what a restore finds is said through a callback. */
#ifndef OW_BACKUP_RUN_H
#define OW_BACKUP_RUN_H

#include <stddef.h>
#include <sys/types.h>

#include "backup.h"
#include "ow_config.h"

/* What ow_backup_make put in the archive. */
typedef struct {
    size_t site_len, nsettings;
    char created_by[128];
    char name[256]; /* backup-SITE-YYYYMMDDTHHMMSSZ.tar.gz */
} ow_backup_made_t;

/* The archive of the running site: its file byte for byte and every
 * runtime setting alarmd has in force, asked as this process's key for
 * user (the audit trail's "/user"; "" none), read back with the restore's
 * checks. *out is malloc'd. 0, or -1 with err. */
int ow_backup_make(const ow_site_t *site, const char *user, unsigned char **out, size_t *outlen,
                   ow_backup_made_t *made, char *err, size_t errlen);

typedef struct {
    int dry;        /* check everything, change nothing */
    int other_site; /* a backup of another site restored here anyway */
} ow_restore_opt_t;

/* Each line a restore reports (what it found, what changes); warning: 1
 * for a warning (the site file's lint, another site's backup). */
typedef void (*ow_backup_say_fn)(void *ctx, int warning, const char *line);

/* Restore raw (the archive's bytes, named file: the guide's name rule) over
 * the running site, every check first (backup_run.c says which). 0, or -1
 * with the reason in err and nothing changed. */
int ow_backup_restore(const ow_site_t *site, const char *user, const char *file, const void *raw,
                      size_t raw_len, const ow_restore_opt_t *opt, ow_backup_say_fn say,
                      void *say_ctx, char *err, size_t errlen);

/* A whole regular file of at most max bytes (NUL after it, *out malloc'd);
 * 0, or -1 with err. */
int ow_backup_read_file(const char *path, size_t max, char **out, size_t *len, char *err,
                        size_t errlen);
/* data as path, atomically (temporary file, fsync, rename, directory
 * synced); bak keeps the old one as PATH.bak. 0, or -1 with path untouched. */
int ow_backup_write_file(const char *path, const void *data, size_t len, mode_t mode, int bak,
                         char *err, size_t errlen);

#endif
