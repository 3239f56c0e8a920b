/* The configuration backup (the guide's System > Backup): one tar.gz named
 * backup-XXXX.tar.gz holding the site file as it is on disk, the runtime
 * settings alarmd had in force, and a manifest saying what, whose, when and
 * the SHA-256 of each. This file is the format only: pack, and parse with
 * every check a restore makes before it changes anything. Talking to alarmd
 * is backup_cmd.c's. */
#ifndef OW_BACKUP_H
#define OW_BACKUP_H

#include <stddef.h>

#include "ow_config.h"
#include "ow_proto.h"

#define OW_BACKUP_FORMAT 1
/* The members, each at most so big: a hostile archive cannot make a
 * restore allocate more than their sum, whatever its headers claim. */
#define OW_BACKUP_MANIFEST     "manifest.json"
#define OW_BACKUP_SITE         "site.json"
#define OW_BACKUP_SETTINGS     "settings.json"
#define OW_BACKUP_MANIFEST_MAX (64 * 1024)
#define OW_BACKUP_SITE_MAX     (4 * 1024 * 1024)
#define OW_BACKUP_SETTINGS_MAX (4 * 1024 * 1024)
/* The archive file itself (compressed); a larger one is not read at all. */
#define OW_BACKUP_FILE_MAX (16 * 1024 * 1024)
/* The XXXX of backup-XXXX.tar.gz: letters, digits, '_' and '-' only. */
#define OW_BACKUP_TAG_MAX 64

typedef struct {
    char gw[OW_ID_MAX];
    char key[64];
    double value;
} ow_backup_setting_t;

typedef struct {
    int format;
    char version[32];     /* ohmwatch's */
    char site_name[64];   /* the site file's site.name */
    char created_at[32];  /* UTC, ISO 8601 */
    char created_by[128]; /* the CURVE identity alarmd names, /login */
    char *site_text;      /* the site file, byte for byte (NUL after site_len) */
    size_t site_len;
    ow_backup_setting_t *settings; /* per gateway, every runtime setting in force */
    size_t nsettings;
} ow_backup_t;

/* 0 when the file name (its last path component) is backup-XXXX.tar.gz with
 * XXXX of 1..OW_BACKUP_TAG_MAX letters, digits, '_' or '-' (the guide: a
 * renamed backup cannot be restored); -1 with the reason in err. */
int ow_backup_name_check(const char *path, char *err, size_t errlen);
/* backup-SITE-YYYYMMDDTHHMMSSZ.tar.gz, SITE the site name reduced to what
 * the name may hold. */
void ow_backup_default_name(const char *site_name, long long unix_s, char *out, size_t n);

/* The archive of b (format, version, site name, created_at/by, the site
 * text and the settings) in *out (malloc'd, *outlen bytes); 0, or -1 with
 * the reason in err. */
int ow_backup_pack(const ow_backup_t *b, unsigned char **out, size_t *outlen, char *err,
                   size_t errlen);

/* An archive read back with every check: only the three members, each once,
 * regular files within their size, no path; the manifest complete and of
 * this format; every member's size and SHA-256 as the manifest says (a
 * modified backup names the member); the settings well-formed, each key a
 * runtime setting of this build within its range. NULL with the reason,
 * naming the member and the place, in err. */
ow_backup_t *ow_backup_parse(const void *data, size_t len, char *err, size_t errlen);
void ow_backup_destroy(ow_backup_t **b);

/* The settings of gateway gw applied onto g, in an order the rules between
 * keys allow (low_warn 14.5 may need its high_warn 15 first), as alarmd
 * would take them one `set` at a time: 0 with g changed, or -1 naming the
 * gateway, key, value and reason of the first that cannot be. */
int ow_backup_apply(const ow_backup_t *b, const char *gw, ow_gateway_cfg_t *g, char *err,
                    size_t errlen);

/* Lowercase hex SHA-256 of data into hex[65]. */
void ow_backup_sha256(const void *data, size_t len, char hex[65]);

#endif
