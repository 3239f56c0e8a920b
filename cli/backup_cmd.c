/* `ohmwatch backup` / `ohmwatch restore` (backup_cmd.h): the arguments and
 * the files; what is in an archive and how a restore checks it before it
 * changes anything is backup_run.c's. */
#include "backup_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup_run.h"

int ow_cli_backup(const ow_site_t *site, const char *user, int argc, char **argv)
{
    const char *out = NULL;
    char err[1024] = "";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc && !out)
            out = argv[++i];
        else {
            fprintf(stderr, "ohmwatch backup: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    unsigned char *data = NULL;
    size_t len = 0;
    ow_backup_made_t made;
    /* the name first: one the guide's rule would refuse could never be
     * restored, and an existing file is never overwritten */
    if (out && ow_backup_name_check(out, err, sizeof err) < 0) {
        fprintf(stderr, "ohmwatch backup: %s\n", err);
        return 2;
    }
    if (out && access(out, F_OK) == 0) {
        fprintf(stderr, "ohmwatch backup: %s exists: not overwritten\n", out);
        return 1;
    }
    if (ow_backup_make(site, user, &data, &len, &made, err, sizeof err) < 0) {
        fprintf(stderr, "ohmwatch backup: %s\n", err);
        return 1;
    }
    if (!out) out = made.name;
    int rc = 0;
    if (access(out, F_OK) == 0) {
        fprintf(stderr, "ohmwatch backup: %s exists: not overwritten\n", out);
        rc = 1;
    } else if (ow_backup_write_file(out, data, len, 0600, 0, err, sizeof err) < 0) {
        fprintf(stderr, "ohmwatch backup: %s\n", err);
        rc = 1;
    } else
        printf("%s: site file %s (%zu bytes), %zu runtime settings of %d gateway(s), by %s\n", out,
               site->path, made.site_len, made.nsettings, site->ngateways, made.created_by);
    free(data);
    return rc;
}

static void print_line(void *ctx, int warning, const char *line)
{
    (void)ctx;
    if (warning)
        fprintf(stderr, "ohmwatch restore: warning: %s\n", line);
    else
        printf("%s\n", line);
}

int ow_cli_restore(const ow_site_t *site, const char *user, int argc, char **argv)
{
    const char *file = NULL;
    ow_restore_opt_t opt = {0};
    char err[1024];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            opt.dry = 1;
        else if (strcmp(argv[i], "--other-site") == 0)
            opt.other_site = 1;
        else if (!file && argv[i][0] != '-')
            file = argv[i];
        else {
            fprintf(stderr, "ohmwatch restore: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!file) {
        fprintf(stderr, "ohmwatch restore: give the backup file (backup-XXXX.tar.gz)\n");
        return 2;
    }
    char *raw = NULL;
    size_t raw_len = 0;
    int rc = 1;
    if (ow_backup_name_check(file, err, sizeof err) == 0 &&
        ow_backup_read_file(file, OW_BACKUP_FILE_MAX, &raw, &raw_len, err, sizeof err) == 0 &&
        ow_backup_restore(site, user, file, raw, raw_len, &opt, print_line, NULL, err,
                          sizeof err) == 0)
        rc = 0;
    else
        fprintf(stderr, "ohmwatch restore: %s\n", err);
    free(raw);
    return rc;
}
