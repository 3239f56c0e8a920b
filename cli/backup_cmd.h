/* `ohmwatch backup` and `ohmwatch restore` (backup.h is the archive): the
 * site file and alarmd's runtime settings out to one file, and back with
 * every check made before anything changes. */
#ifndef OW_BACKUP_CMD_H
#define OW_BACKUP_CMD_H

#include "ow_config.h"

/* argv[0] is the command's name; user is the login the audit trail adds to
 * the key's name ("" none). The exit code: 0, 1 refused or failed, 2 usage. */
int ow_cli_backup(const ow_site_t *site, const char *user, int argc, char **argv);
int ow_cli_restore(const ow_site_t *site, const char *user, int argc, char **argv);

#endif
