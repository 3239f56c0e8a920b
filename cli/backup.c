/* The backup archive's format (backup.h): a tar.gz of three members.
 *
 * libarchive reads and writes it: reading a tar.gz from a stranger safely
 * (pax and GNU headers, long names, links, sparse entries, truncation) is
 * exactly what that well-kept Debian library is for, and a hand-written tar
 * parser would be one more parser of outside bytes to get wrong. What it
 * returns is still judged here, entry by entry, before a byte is kept.
 * SHA-256 is lib/ow_digest.c's (libsodium). */
#include "backup.h"
#include "ow_digest.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && n) vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

static int tag_char(int c)
{
    return isalnum(c) || c == '_' || c == '-';
}

int ow_backup_name_check(const char *path, char *err, size_t errlen)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base), pre = strlen("backup-"), suf = strlen(".tar.gz");
    if (n <= pre + suf || strncmp(base, "backup-", pre) != 0 ||
        strcmp(base + n - suf, ".tar.gz") != 0)
        return fail(err, errlen, "%s: a backup's name is backup-XXXX.tar.gz", base);
    if (n - pre - suf > OW_BACKUP_TAG_MAX)
        return fail(err, errlen, "%s: the XXXX of backup-XXXX.tar.gz is at most %d characters",
                    base, OW_BACKUP_TAG_MAX);
    for (size_t i = pre; i < n - suf; i++)
        if (!tag_char((unsigned char)base[i]))
            return fail(err, errlen,
                        "%s: character %zu ('%c') of the name: only letters, digits, '_' and "
                        "'-' may stand between backup- and .tar.gz",
                        base, i + 1, isprint((unsigned char)base[i]) ? base[i] : '?');
    return 0;
}

void ow_backup_default_name(const char *site_name, long long unix_s, char *out, size_t n)
{
    char tag[OW_BACKUP_TAG_MAX + 1], ts[32];
    size_t k = 0;
    /* "Sub 7 / UPS room" -> "Sub-7-UPS-room": runs of anything else are one '-' */
    for (const char *p = site_name; *p && k < 40; p++) {
        if (tag_char((unsigned char)*p))
            tag[k++] = *p;
        else if (k && tag[k - 1] != '-')
            tag[k++] = '-';
    }
    while (k && tag[k - 1] == '-')
        k--;
    tag[k] = '\0';
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out, n, "backup-%s%s%s.tar.gz", tag, k ? "-" : "", ts);
}

void ow_backup_sha256(const void *data, size_t len, char hex[65])
{
    ow_sha256_hex(data, len, hex);
}

/* ---- pack ---- */

static char *settings_text(const ow_backup_t *b)
{
    json_t *root = json_object(), *gws = json_object();
    json_object_set_new(root, "format", json_integer(OW_BACKUP_FORMAT));
    json_object_set_new(root, "gateways", gws);
    for (size_t i = 0; i < b->nsettings; i++) {
        const ow_backup_setting_t *s = &b->settings[i];
        json_t *g = json_object_get(gws, s->gw);
        if (!g) {
            g = json_object();
            json_object_set_new(gws, s->gw, g);
        }
        json_object_set_new(g, s->key, json_real(s->value));
    }
    /* 17 digits: every double reads back as itself */
    char *t = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(root);
    return t;
}

static json_t *member_entry(const char *text, size_t len)
{
    char hex[65];
    ow_backup_sha256(text, len, hex);
    return json_pack("{s:I,s:s}", "size", (json_int_t)len, "sha256", hex);
}

static int add_member(struct archive *a, const char *name, const char *data, size_t len,
                      time_t mtime, char *err, size_t errlen)
{
    struct archive_entry *e = archive_entry_new();
    if (!e) return fail(err, errlen, "out of memory");
    archive_entry_set_pathname(e, name);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0640); /* the site file may hold SNMP passwords */
    archive_entry_set_mtime(e, mtime, 0);
    int rc = archive_write_header(a, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK || archive_write_data(a, data, len) != (la_ssize_t)len)
        return fail(err, errlen, "%s: %s", name, archive_error_string(a));
    return 0;
}

int ow_backup_pack(const ow_backup_t *b, unsigned char **out, size_t *outlen, char *err,
                   size_t errlen)
{
    *out = NULL;
    *outlen = 0;
    if (b->site_len > OW_BACKUP_SITE_MAX)
        return fail(err, errlen, "the site file is %zu bytes, more than a backup holds (%d)",
                    b->site_len, OW_BACKUP_SITE_MAX);
    char *settings = settings_text(b), *manifest = NULL;
    int rc = -1;
    if (!settings) return fail(err, errlen, "out of memory");
    size_t slen = strlen(settings);
    if (slen > OW_BACKUP_SETTINGS_MAX) {
        fail(err, errlen, "the settings are %zu bytes, more than a backup holds", slen);
        goto out;
    }
    json_t *m = json_pack("{s:i,s:s,s:s,s:s,s:s,s:{s:o,s:o}}", "format", OW_BACKUP_FORMAT,
                          "ohmwatch_version", b->version, "site", b->site_name, "created_at",
                          b->created_at, "created_by", b->created_by, "members", OW_BACKUP_SITE,
                          member_entry(b->site_text, b->site_len), OW_BACKUP_SETTINGS,
                          member_entry(settings, slen));
    manifest = m ? json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(m);
    if (!manifest) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    size_t mlen = strlen(manifest);
    /* tar: a 512-byte header per member, data padded to 512, two zero
     * blocks; gzip adds a little to what does not compress */
    size_t cap = (mlen + slen + b->site_len) * 11 / 10 + 16384, used = 0;
    unsigned char *buf = malloc(cap);
    struct archive *a = archive_write_new();
    if (!buf || !a) {
        free(buf);
        if (a) archive_write_free(a);
        fail(err, errlen, "out of memory");
        goto out;
    }
    time_t now = time(NULL);
    if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        archive_write_set_format_ustar(a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open_memory(a, buf, cap, &used) != ARCHIVE_OK) {
        fail(err, errlen, "archive: %s", archive_error_string(a));
    } else if (add_member(a, OW_BACKUP_MANIFEST, manifest, mlen, now, err, errlen) == 0 &&
               add_member(a, OW_BACKUP_SITE, b->site_text, b->site_len, now, err, errlen) == 0 &&
               add_member(a, OW_BACKUP_SETTINGS, settings, slen, now, err, errlen) == 0) {
        if (archive_write_close(a) != ARCHIVE_OK)
            fail(err, errlen, "archive: %s", archive_error_string(a));
        else
            rc = 0;
    }
    archive_write_free(a);
    if (rc == 0) {
        *out = buf;
        *outlen = used;
    } else
        free(buf);
out:
    free(settings);
    free(manifest);
    return rc;
}

/* ---- parse ---- */

static const struct member {
    const char *name;
    size_t max;
} members[] = {
    {OW_BACKUP_MANIFEST, OW_BACKUP_MANIFEST_MAX},
    {OW_BACKUP_SITE, OW_BACKUP_SITE_MAX},
    {OW_BACKUP_SETTINGS, OW_BACKUP_SETTINGS_MAX},
};
#define NMEMBERS (sizeof members / sizeof members[0])

void ow_backup_destroy(ow_backup_t **bp)
{
    ow_backup_t *b = *bp;
    if (!b) return;
    free(b->site_text);
    free(b->settings);
    free(b);
    *bp = NULL;
}

/* Each entry judged before its data is read: one of the members, once, a
 * regular file of a size within its bound. */
static int read_members(struct archive *a, char *data[NMEMBERS], size_t len[NMEMBERS], char *err,
                        size_t errlen)
{
    struct archive_entry *e;
    int r, first = 1;
    while ((r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
        if (r != ARCHIVE_OK)
            return fail(err, errlen, "not a readable tar.gz: %s",
                        archive_error_string(a) ? archive_error_string(a) : "damaged");
        if (first && archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP)
            return fail(err, errlen, "not gzip-compressed (a backup is a .tar.gz)");
        first = 0;
        const char *name = archive_entry_pathname(e);
        if (!name) return fail(err, errlen, "a member without a name");
        size_t m = 0;
        while (m < NMEMBERS && strcmp(name, members[m].name) != 0)
            m++;
        if (m == NMEMBERS) {
            char shown[80];
            size_t k = 0;
            for (const char *p = name; *p && k < sizeof shown - 1; p++)
                shown[k++] = isprint((unsigned char)*p) ? *p : '?';
            shown[k] = '\0';
            return fail(err, errlen,
                        "member '%s': not one a backup holds (%s, %s, %s only, no paths)", shown,
                        OW_BACKUP_MANIFEST, OW_BACKUP_SITE, OW_BACKUP_SETTINGS);
        }
        if (data[m]) return fail(err, errlen, "member %s: twice in the archive", name);
        if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) ||
            archive_entry_symlink(e) || archive_entry_sparse_count(e) > 0)
            return fail(err, errlen, "member %s: not a regular file", name);
        if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0 ||
            archive_entry_size(e) > (la_int64_t)members[m].max)
            return fail(err, errlen, "member %s: %lld bytes, more than the %zu it may have", name,
                        (long long)archive_entry_size(e), members[m].max);
        size_t n = (size_t)archive_entry_size(e), got = 0;
        data[m] = malloc(n + 1);
        if (!data[m]) return fail(err, errlen, "out of memory");
        while (got < n) {
            la_ssize_t k = archive_read_data(a, data[m] + got, n - got);
            if (k < 0) return fail(err, errlen, "member %s: %s", name, archive_error_string(a));
            if (k == 0) return fail(err, errlen, "member %s: cut short", name);
            got += (size_t)k;
        }
        data[m][n] = '\0';
        len[m] = n;
    }
    if (first) return fail(err, errlen, "an empty archive");
    for (size_t m = 0; m < NMEMBERS; m++)
        if (!data[m]) return fail(err, errlen, "member %s: missing", members[m].name);
    return 0;
}

static int jfail(char *err, size_t errlen, const char *member, const json_error_t *je)
{
    return fail(err, errlen, "%s:%d:%d: %s", member, je->line, je->column, je->text);
}

static int str_field(const json_t *o, const char *key, char *dst, size_t n, char *err,
                     size_t errlen)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (!v) return fail(err, errlen, "%s: %s: missing or not a string", OW_BACKUP_MANIFEST, key);
    if (strlen(v) >= n)
        return fail(err, errlen, "%s: %s: longer than %zu", OW_BACKUP_MANIFEST, key, n - 1);
    snprintf(dst, n, "%s", v);
    return 0;
}

/* The manifest: its own fields into b, and every member's size and
 * SHA-256 against what the archive holds. */
static int check_manifest(ow_backup_t *b, char *data[NMEMBERS], size_t len[NMEMBERS], char *err,
                          size_t errlen)
{
    json_error_t je;
    json_t *m = json_loadb(data[0], len[0], JSON_REJECT_DUPLICATES, &je);
    int rc = -1;
    if (!m) return jfail(err, errlen, OW_BACKUP_MANIFEST, &je);
    json_t *f = json_object_get(m, "format"), *ms = json_object_get(m, "members");
    if (!json_is_object(m)) {
        fail(err, errlen, "%s: not an object", OW_BACKUP_MANIFEST);
        goto out;
    }
    if (!json_is_integer(f) || json_integer_value(f) != OW_BACKUP_FORMAT) {
        fail(err, errlen, "%s: format: this ohmwatch reads backups of format %d",
             OW_BACKUP_MANIFEST, OW_BACKUP_FORMAT);
        goto out;
    }
    b->format = OW_BACKUP_FORMAT;
    if (str_field(m, "ohmwatch_version", b->version, sizeof b->version, err, errlen) < 0 ||
        str_field(m, "site", b->site_name, sizeof b->site_name, err, errlen) < 0 ||
        str_field(m, "created_at", b->created_at, sizeof b->created_at, err, errlen) < 0 ||
        str_field(m, "created_by", b->created_by, sizeof b->created_by, err, errlen) < 0)
        goto out;
    if (!json_is_object(ms) || json_object_size(ms) != NMEMBERS - 1) {
        fail(err, errlen, "%s: members: wants {%s, %s}", OW_BACKUP_MANIFEST, OW_BACKUP_SITE,
             OW_BACKUP_SETTINGS);
        goto out;
    }
    for (size_t i = 1; i < NMEMBERS; i++) {
        json_t *e = json_object_get(ms, members[i].name);
        json_t *sz = json_object_get(e, "size");
        const char *want = json_string_value(json_object_get(e, "sha256"));
        char hex[65];
        if (!json_is_integer(sz) || !want) {
            fail(err, errlen, "%s: members.%s: wants size and sha256", OW_BACKUP_MANIFEST,
                 members[i].name);
            goto out;
        }
        if (json_integer_value(sz) != (json_int_t)len[i]) {
            fail(err, errlen,
                 "member %s: %zu bytes, the manifest says %lld: the backup was modified",
                 members[i].name, len[i], (long long)json_integer_value(sz));
            goto out;
        }
        ow_backup_sha256(data[i], len[i], hex);
        if (strcmp(hex, want) != 0) {
            fail(err, errlen,
                 "member %s: SHA-256 %s, the manifest says %.64s: the backup was "
                 "modified",
                 members[i].name, hex, want);
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(m);
    return rc;
}

/* The settings: {"format": 1, "gateways": {GW: {KEY: number}}}, each key a
 * runtime setting of this build and within its range. */
static int parse_settings(ow_backup_t *b, const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *gws, *g, *v;
    const char *gw, *key;
    int rc = -1;
    if (!root) return jfail(err, errlen, OW_BACKUP_SETTINGS, &je);
    gws = json_object_get(root, "gateways");
    if (!json_is_object(root) || !json_is_integer(json_object_get(root, "format")) ||
        json_integer_value(json_object_get(root, "format")) != OW_BACKUP_FORMAT ||
        !json_is_object(gws)) {
        fail(err, errlen, "%s: wants {\"format\": %d, \"gateways\": {GW: {KEY: VALUE}}}",
             OW_BACKUP_SETTINGS, OW_BACKUP_FORMAT);
        goto out;
    }
    size_t n = 0;
    json_object_foreach(gws, gw, g)
    {
        if (!json_is_object(g)) {
            fail(err, errlen, "%s: gateways.%s: not an object", OW_BACKUP_SETTINGS, gw);
            goto out;
        }
        n += json_object_size(g);
    }
    b->settings = n ? calloc(n, sizeof *b->settings) : NULL;
    if (n && !b->settings) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    json_object_foreach(gws, gw, g)
    {
        if (!*gw || strlen(gw) >= OW_ID_MAX) {
            fail(err, errlen, "%s: gateways: an id of 1 to %d characters", OW_BACKUP_SETTINGS,
                 OW_ID_MAX - 1);
            goto out;
        }
        json_object_foreach(g, key, v)
        {
            double lo, hi, x = json_number_value(v);
            if (strlen(key) >= sizeof b->settings[0].key || ow_gateway_range(key, &lo, &hi) < 0) {
                fail(err, errlen, "%s: gateways.%s.%.80s: not a runtime setting of this ohmwatch",
                     OW_BACKUP_SETTINGS, gw, key);
                goto out;
            }
            if (!json_is_number(v) || !isfinite(x) || x < lo || x > hi) {
                fail(err, errlen, "%s: gateways.%s.%s: wants a number in %g..%g",
                     OW_BACKUP_SETTINGS, gw, key, lo, hi);
                goto out;
            }
            ow_backup_setting_t *s = &b->settings[b->nsettings++];
            snprintf(s->gw, sizeof s->gw, "%s", gw);
            snprintf(s->key, sizeof s->key, "%s", key);
            s->value = x;
        }
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

ow_backup_t *ow_backup_parse(const void *bytes, size_t len, char *err, size_t errlen)
{
    char *data[NMEMBERS] = {0};
    size_t mlen[NMEMBERS] = {0};
    ow_backup_t *b = NULL;
    if (len > OW_BACKUP_FILE_MAX) {
        fail(err, errlen, "%zu bytes, more than a backup may be (%d)", len, OW_BACKUP_FILE_MAX);
        return NULL;
    }
    struct archive *a = archive_read_new();
    if (!a) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    /* gzip and tar only: what the guide's backup-XXXX.tar.gz is, and no
     * more decoders than that in front of outside bytes */
    if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
        archive_read_support_format_tar(a) != ARCHIVE_OK ||
        archive_read_open_memory(a, bytes, len) != ARCHIVE_OK) {
        fail(err, errlen, "not a readable tar.gz: %s",
             archive_error_string(a) ? archive_error_string(a) : "damaged");
        goto out;
    }
    if (read_members(a, data, mlen, err, errlen) < 0) goto out;
    b = calloc(1, sizeof *b);
    if (!b) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    if (check_manifest(b, data, mlen, err, errlen) < 0 ||
        parse_settings(b, data[2], mlen[2], err, errlen) < 0) {
        ow_backup_destroy(&b);
        goto out;
    }
    b->site_text = data[1];
    b->site_len = mlen[1];
    data[1] = NULL;
out:
    archive_read_free(a);
    for (size_t m = 0; m < NMEMBERS; m++)
        free(data[m]);
    return b;
}

int ow_backup_apply(const ow_backup_t *b, const char *gw, ow_gateway_cfg_t *g, char *err,
                    size_t errlen)
{
    size_t n = 0, left;
    char why[256];
    unsigned char *done = calloc(b->nsettings ? b->nsettings : 1, 1);
    if (!done) return fail(err, errlen, "out of memory");
    for (size_t i = 0; i < b->nsettings; i++)
        n += strcmp(b->settings[i].gw, gw) == 0;
    left = n;
    /* alarmd's own order for saved settings: retry the refused until a pass
     * changes nothing */
    for (int progress = 1; progress && left;) {
        progress = 0;
        for (size_t i = 0; i < b->nsettings; i++) {
            const ow_backup_setting_t *s = &b->settings[i];
            if (done[i] || strcmp(s->gw, gw) != 0) continue;
            if (ow_gateway_set(g, s->key, s->value, why, sizeof why) == 0) {
                done[i] = 1;
                left--;
                progress = 1;
            }
        }
    }
    for (size_t i = 0; left && i < b->nsettings; i++) {
        const ow_backup_setting_t *s = &b->settings[i];
        if (done[i] || strcmp(s->gw, gw) != 0) continue;
        ow_gateway_set(g, s->key, s->value, why, sizeof why);
        free(done);
        return fail(err, errlen, "%s: gateway %s: %s = %g: %s", OW_BACKUP_SETTINGS, gw, s->key,
                    s->value, why);
    }
    free(done);
    return 0;
}
