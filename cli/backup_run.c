/* The backup and restore of a running site (backup_run.h), for `ohmwatch
 * backup` / `ohmwatch restore` and webd's backup page alike. A restore checks
 * everything it can before it changes anything: the name, the archive, the
 * hashes, the site file as a daemon's -n would, every setting against the
 * backed-up site with the validator alarmd uses, the running alarmd knows
 * each key and lets this key configure. Only then the site file is
 * replaced (atomically, the old one kept as FILE.bak), alarmd reloads it
 * through its `reload` command and each setting that differs is set
 * through `set` as this key, so the audit trail names who restored. */
#include "backup_run.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "ow_auth.h"
#include "ow_clock.h"
#include "ow_cmd.h"
#include "ow_ctl.h"
#include "ow_digest.h"
#include "ow_lint.h"

/* Hex digits of the site file's SHA-256 a `reload` names (128 bits: the
 * control message's key holds at most 63). */
#define RELOAD_HEX 32

#ifndef OW_VERSION
#define OW_VERSION "unknown"
#endif

/* The one way an error is said here: vsnprintf, since every message may
 * be cut to the caller's buffer (paths are long) and that is fine. */
static int failf(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

/* A whole file of at most max bytes (NUL after it); 0, or -1 with err. */
int ow_backup_read_file(const char *path, size_t max, char **out, size_t *len, char *err,
                        size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    *out = NULL;
    if (!f) return failf(err, errlen, "%s: %s", path, strerror(errno)), -1;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        failf(err, errlen, "%s: not a regular file of at most %zu bytes", path, max);
        fclose(f);
        return -1;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    int bad = !buf || ferror(f) || n != (size_t)st.st_size;
    fclose(f);
    if (bad) {
        free(buf);
        failf(err, errlen, "%s: cannot read it", path);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* data as path, atomically: a temporary file beside it, fsync, rename,
 * the directory synced. bak: keep the old file as PATH.bak first. mode is
 * the new file's. 0, or -1 with err and path untouched. */
int ow_backup_write_file(const char *path, const void *data, size_t len, mode_t mode, int bak,
                         char *err, size_t errlen)
{
    char tmp[1100], bakp[1100], dir[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return failf(err, errlen, "%s: %s", tmp, strerror(errno)), -1;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        p += w;
        left -= (size_t)w;
    }
    if (left || fchmod(fd, mode) < 0 || fsync(fd) < 0) {
        failf(err, errlen, "%s: %s", tmp, strerror(errno ? errno : EIO));
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (bak) {
        snprintf(bakp, sizeof bakp, "%s.bak", path);
        unlink(bakp);
        /* a hard link: the old file stays where it is until the rename */
        if (link(path, bakp) < 0) {
            failf(err, errlen, "%s: cannot keep the old file: %s", bakp, strerror(errno));
            unlink(tmp);
            return -1;
        }
    }
    if (rename(tmp, path) < 0) {
        failf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* ---- alarmd ---- */

typedef struct {
    ow_backup_setting_t *v;
    size_t n, cap;
} settings_t;

static void collect(void *ctx, const ow_msg_t *m)
{
    settings_t *s = ctx;
    if (m->kind != OW_MSG_CONFIG) return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        ow_backup_setting_t *nv = realloc(s->v, cap * sizeof *nv);
        if (!nv) return;
        s->v = nv;
        s->cap = cap;
    }
    ow_backup_setting_t *e = &s->v[s->n++];
    snprintf(e->gw, sizeof e->gw, "%s", m->h.gw);
    snprintf(e->key, sizeof e->key, "%s", m->u.config.key);
    e->value = m->u.config.value;
}

/* One request to alarmd as this key (and user); 0, or -1 with err saying
 * what alarmd answered. */
static int call(const ow_site_t *site, const char *user, const char *gw, ow_control_t *c,
                ow_reply_t *r, settings_t *out, char *err, size_t errlen)
{
    ow_alarmd_cfg_t acfg;
    if (ow_site_alarmd(site, &acfg, err, errlen) < 0) return -1;
    snprintf(c->req, sizeof c->req, "bk%d", (int)getpid());
    snprintf(c->user, sizeof c->user, "%s", user);
    if (ow_ctl_call(acfg.control_connect, gw, c, 5000, r, out ? collect : NULL, out, err, errlen) <
        0)
        return -1;
    if (!r->ok) return failf(err, errlen, "alarmd refused %s: %s", c->cmd, r->error), -1;
    return 0;
}

/* Every runtime setting alarmd has in force for gateway gw, appended. */
static int list_gw(const ow_site_t *site, const char *user, const char *gw, settings_t *out,
                   char *err, size_t errlen)
{
    ow_control_t c = ow_cmd_control(OW_CMD_LIST, "", NAN, 0, NULL);
    ow_reply_t r;
    size_t before = out->n;
    if (call(site, user, gw, &c, &r, out, err, errlen) < 0) return -1;
    if (out->n == before)
        return failf(err, errlen, "gateway %s: alarmd listed no settings", gw), -1;
    return 0;
}

static const ow_backup_setting_t *find(const settings_t *s, const char *gw, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].gw, gw) == 0 && strcmp(s->v[i].key, key) == 0) return &s->v[i];
    return NULL;
}

/* ---- backup ---- */

int ow_backup_make(const ow_site_t *site, const char *user, unsigned char **out, size_t *outlen,
                   ow_backup_made_t *made, char *err, size_t errlen)
{
    ow_backup_t b;
    memset(&b, 0, sizeof b);
    settings_t got = {0};
    int rc = -1;
    time_t now = time(NULL);
    *out = NULL;
    if (ow_backup_read_file(site->path, OW_BACKUP_SITE_MAX, &b.site_text, &b.site_len, err,
                            errlen) < 0)
        goto fail;
    for (int g = 0; g < site->ngateways; g++)
        if (list_gw(site, user, site->gateways[g].id, &got, err, errlen) < 0) goto fail;
    b.settings = got.v;
    b.nsettings = got.n;
    b.format = OW_BACKUP_FORMAT;
    snprintf(b.version, sizeof b.version, "%s", OW_VERSION);
    snprintf(b.site_name, sizeof b.site_name, "%s", site->name);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(b.created_at, sizeof b.created_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char self[96];
    ow_auth_self_name(self, sizeof self);
    snprintf(b.created_by, sizeof b.created_by, "%s%s%s", self, user[0] ? "/" : "", user);
    unsigned char *data = NULL;
    size_t len = 0;
    if (ow_backup_pack(&b, &data, &len, err, errlen) < 0) goto fail;
    /* read back with the restore's own checks before it is called a backup */
    ow_backup_t *check = ow_backup_parse(data, len, err, errlen);
    int ok = check && check->nsettings == b.nsettings && check->site_len == b.site_len;
    ow_backup_destroy(&check);
    if (!ok) {
        if (!err[0]) failf(err, errlen, "the archive does not read back");
        free(data);
        goto fail;
    }
    *out = data;
    *outlen = len;
    if (made) {
        made->site_len = b.site_len;
        made->nsettings = b.nsettings;
        snprintf(made->created_by, sizeof made->created_by, "%s", b.created_by);
        ow_backup_default_name(site->name, (long long)now, made->name, sizeof made->name);
    }
    rc = 0;
fail:
    free(b.site_text);
    free(got.v);
    return rc;
}

/* ---- restore ---- */

/* say() with printf's formatting: one line of what a restore finds. */
typedef struct {
    ow_backup_say_fn fn;
    void *ctx;
} say_t;

static void say(const say_t *s, int warning, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(const say_t *s, int warning, const char *fmt, ...)
{
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (s->fn) s->fn(s->ctx, warning, line);
}

static void lint_warning(void *ctx, const char *line)
{
    say(ctx, 1, "%s", line);
}

/* The settings of b that differ from what alarmd has in force (cur). */
static size_t differing(const ow_backup_t *b, const settings_t *cur, unsigned char *diff)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nsettings; i++) {
        const ow_backup_setting_t *c = find(cur, b->settings[i].gw, b->settings[i].key);
        diff[i] = !c || c->value != b->settings[i].value;
        n += diff[i];
    }
    return n;
}

static int in_force(const ow_site_t *site, const char *user, const ow_backup_t *b, settings_t *cur,
                    char *err, size_t errlen)
{
    cur->n = 0;
    for (size_t i = 0; i < b->nsettings; i++)
        if (i == 0 || strcmp(b->settings[i].gw, b->settings[i - 1].gw) != 0)
            if (list_gw(site, user, b->settings[i].gw, cur, err, errlen) < 0) return -1;
    return 0;
}

/* Each differing setting through alarmd's `set`, refused ones again until
 * a pass sets nothing (the order the rules between keys need). */
static int set_all(const ow_site_t *site, const char *user, const ow_backup_t *b,
                   unsigned char *diff, size_t left, char *err, size_t errlen)
{
    for (int progress = 1; progress && left;) {
        progress = 0;
        for (size_t i = 0; i < b->nsettings; i++) {
            if (!diff[i]) continue;
            const ow_backup_setting_t *s = &b->settings[i];
            ow_control_t c = ow_cmd_control(OW_CMD_SET, s->key, s->value, 0, NULL);
            ow_reply_t r;
            if (call(site, user, s->gw, &c, &r, NULL, err, errlen) == 0) {
                diff[i] = 0;
                left--;
                progress = 1;
            } else if (!strstr(err, "alarmd refused"))
                return -1; /* no answer: do not go on blind */
        }
    }
    for (size_t i = 0; left && i < b->nsettings; i++)
        if (diff[i]) {
            char why[700];
            failf(why, sizeof why, "%s", err);
            failf(err, errlen, "gateway %s: %s = %g: %s", b->settings[i].gw, b->settings[i].key,
                  b->settings[i].value, why);
            return -1;
        }
    return 0;
}

int ow_backup_restore(const ow_site_t *site, const char *user, const char *file, const void *raw,
                      size_t raw_len, const ow_restore_opt_t *opt, ow_backup_say_fn say_fn,
                      void *say_ctx, char *err, size_t errlen)
{
    const say_t sy = {say_fn, say_ctx};
    int dry = opt && opt->dry, force = opt && opt->other_site, rc = -1;
    char *cur_text = NULL;
    size_t cur_len = 0;
    ow_backup_t *b = NULL;
    ow_site_t *bsite = NULL;
    settings_t cur = {0};
    unsigned char *diff = NULL;

    /* 1. the file: its name, then the archive with every check of backup.h */
    if (ow_backup_name_check(file, err, errlen) < 0) goto out;
    if (raw_len > OW_BACKUP_FILE_MAX) {
        failf(err, errlen, "%s: more than %d bytes", file, OW_BACKUP_FILE_MAX);
        goto out;
    }
    char perr[900];
    if (!(b = ow_backup_parse(raw, raw_len, perr, sizeof perr))) {
        failf(err, errlen, "%s: %s", file, perr);
        goto out;
    }
    /* 2. the site file as a daemon's -n reads it, at the path it goes to */
    if (!(bsite = ow_site_parse(b->site_text, b->site_len, site->path, perr, sizeof perr))) {
        failf(err, errlen, "%s: %s: %s", file, OW_BACKUP_SITE, perr);
        goto out;
    }
    ow_alarmd_cfg_t acfg;
    ow_security_cfg_t scfg;
    if (ow_site_alarmd(bsite, &acfg, perr, sizeof perr) < 0 ||
        ow_site_security(bsite, &scfg, perr, sizeof perr) < 0) {
        failf(err, errlen, "%s: %s: %s", file, OW_BACKUP_SITE, perr);
        goto out;
    }
    ow_site_lint(bsite, lint_warning, (void *)&sy);
    if (strcmp(bsite->name, b->site_name) != 0) {
        failf(err, errlen, "%s: the manifest's site '%s' is not the site file's '%s'", file,
              b->site_name, bsite->name);
        goto out;
    }
    /* 3. the site it goes to */
    if (strcmp(b->site_name, site->name) != 0) {
        if (!force) {
            failf(err, errlen,
                  "%s is a backup of site '%s', this is '%s' (%s): --other-site restores it "
                  "here anyway",
                  file, b->site_name, site->name, site->path);
            goto out;
        }
        say(&sy, 1, "a backup of site '%s' restored over '%s'", b->site_name, site->name);
    }
    /* 4. every setting onto the backed-up site, as alarmd will take them */
    for (size_t i = 0; i < b->nsettings; i++) {
        const char *gw = b->settings[i].gw;
        if (i && strcmp(gw, b->settings[i - 1].gw) == 0) continue;
        const ow_gateway_cfg_t *g = ow_site_gateway(bsite, gw);
        if (!g) {
            failf(err, errlen, "%s: %s: gateway %s is not in the backed-up site file", file,
                  OW_BACKUP_SETTINGS, gw);
            goto out;
        }
        if (!ow_site_gateway(site, gw)) {
            failf(err, errlen,
                  "%s: gateway %s is not in the running site (%s): a new gateway needs "
                  "alarmd restarted on the backed-up file first",
                  file, gw, site->path);
            goto out;
        }
        ow_gateway_cfg_t copy = *g;
        if (ow_backup_apply(b, gw, &copy, perr, sizeof perr) < 0) {
            failf(err, errlen, "%s: %s", file, perr);
            goto out;
        }
    }
    /* 5. the running alarmd: answers, knows every key, lets this key
     * configure and can load the file it runs from (a check-only reload) */
    if (in_force(site, user, b, &cur, err, errlen) < 0) goto out;
    for (size_t i = 0; i < b->nsettings; i++)
        if (!find(&cur, b->settings[i].gw, b->settings[i].key)) {
            failf(err, errlen, "%s: gateway %s: the running alarmd has no setting %s", file,
                  b->settings[i].gw, b->settings[i].key);
            goto out;
        }
    /* the file alarmd runs from is this one: named by its hash */
    if (ow_backup_read_file(site->path, OW_BACKUP_SITE_MAX, &cur_text, &cur_len, err, errlen) < 0)
        goto out;
    char hex[OW_SHA256_HEX];
    ow_sha256_hex(cur_text, cur_len, hex);
    hex[RELOAD_HEX] = '\0';
    ow_control_t c = ow_cmd_control(OW_CMD_RELOAD, hex, NAN, 1, NULL);
    ow_reply_t r;
    if (call(site, user, NULL, &c, &r, NULL, err, errlen) < 0) goto out;

    /* what would change */
    int site_same = cur_len == b->site_len && memcmp(cur_text, b->site_text, cur_len) == 0;
    diff = calloc(b->nsettings ? b->nsettings : 1, 1);
    if (!diff) {
        failf(err, errlen, "out of memory");
        goto out;
    }
    size_t ndiff = differing(b, &cur, diff);
    say(&sy, 0, "%s: site '%s', made %s by %s (ohmwatch %s)", file, b->site_name, b->created_at,
        b->created_by, b->version);
    say(&sy, 0, "site file %s: %s", site->path,
        site_same ? "unchanged"
        : dry     ? "would be replaced"
                  : "replaced (the old one as .bak)");
    for (size_t i = 0; i < b->nsettings; i++)
        if (diff[i]) {
            const ow_backup_setting_t *now = find(&cur, b->settings[i].gw, b->settings[i].key);
            say(&sy, 0, "  %s %s: %g -> %g", b->settings[i].gw, b->settings[i].key,
                now ? now->value : NAN, b->settings[i].value);
        }
    if (dry) {
        say(&sy, 0, "dry run: %zu runtime setting(s) of %zu differ now; nothing changed", ndiff,
            b->nsettings);
        rc = 0;
        goto out;
    }

    /* 6. the site file, then alarmd reloads it */
    if (!site_same) {
        struct stat st;
        mode_t mode = stat(site->path, &st) == 0 ? (st.st_mode & 07777) : 0640;
        if (ow_backup_write_file(site->path, b->site_text, b->site_len, mode, 1, err, errlen) < 0)
            goto out;
        ow_sha256_hex(b->site_text, b->site_len, hex);
        hex[RELOAD_HEX] = '\0';
        c = ow_cmd_control(OW_CMD_RELOAD, hex, NAN, 0, NULL);
        if (call(site, user, NULL, &c, &r, NULL, err, errlen) < 0) {
            /* alarmd kept its running configuration: so does the disk */
            char bakp[1100];
            snprintf(bakp, sizeof bakp, "%s.bak", site->path);
            if (rename(bakp, site->path) < 0)
                say(&sy, 1, "cannot put %s back: %s", bakp, strerror(errno));
            goto out;
        }
    }
    /* 7. what the file does not hold: every setting that differs now */
    if (in_force(site, user, b, &cur, err, errlen) < 0) goto out;
    ndiff = differing(b, &cur, diff);
    size_t nset = ndiff;
    if (set_all(site, user, b, diff, ndiff, err, errlen) < 0) goto out;
    /* 8. read back: every setting is the backed-up one */
    if (in_force(site, user, b, &cur, err, errlen) < 0) goto out;
    if (differing(b, &cur, diff)) {
        for (size_t i = 0; i < b->nsettings; i++)
            if (diff[i]) {
                failf(err, errlen, "gateway %s: %s is not %g after the restore", b->settings[i].gw,
                      b->settings[i].key, b->settings[i].value);
                break;
            }
        goto out;
    }
    say(&sy, 0, "restored: site file %s, %zu runtime setting(s) set, all %zu as backed up%s",
        site_same ? "unchanged" : "replaced", nset, b->nsettings,
        site_same ? ""
                  : "; modbusd takes the file on SIGHUP, busd, the historian and snmpd "
                    "on a restart");
    rc = 0;
out:
    ow_site_destroy(&bsite);
    ow_backup_destroy(&b);
    free(cur_text);
    free(cur.v);
    free(diff);
    return rc;
}
