/* The schema engine (ow_schema.h): reading, defaults, runtime settings and
 * documentation, all from the same key rows. Kept apart from the tables
 * (lib/ow_config.c, services/x/x_keys.c) so that a table is data only. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ow_config.h"
#include "ow_schema.h"

#define PATH_LEN 1024

int ow_schema_fail(ow_schema_ctx_t *c, const char *path, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return ow_jpos_error(c->pos, c->file, path ? path : "", c->err, c->errlen, "%s", why);
}

void ow_schema_join(char *out, size_t len, const char *a, const char *b)
{
    int n = a && a[0] ? snprintf(out, len, "%s.%s", a, b) : snprintf(out, len, "%s", b);
    if (n < 0) out[0] = '\0';
}

json_t *ow_schema_get_json(json_t *obj, const char *path)
{
    char part[128];
    const char *p = path;
    while (obj && json_is_object(obj)) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof part) return NULL;
        memcpy(part, p, n);
        part[n] = '\0';
        obj = json_object_get(obj, part);
        if (!dot) return obj;
        p = dot + 1;
    }
    return NULL;
}

const ow_key_t *ow_schema_find(const ow_key_t *keys, size_t n, const char *key)
{
    for (size_t i = 0; key && i < n; i++)
        if (strcmp(keys[i].key, key) == 0) return &keys[i];
    return NULL;
}

static int is_group(const ow_key_t *keys, size_t n, const char *path)
{
    size_t len = strlen(path);
    for (size_t i = 0; i < n; i++)
        if (strncmp(keys[i].key, path, len) == 0 && keys[i].key[len] == '.') return 1;
    return 0;
}

/* Edit distance of two short names, at most 3 (more is "not close"). */
static int distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63 || (la > lb ? la - lb : lb - la) > 3) return 4;
    int row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

/* The row or group name under sp nearest to k, if a typo away. */
static void nearest(const ow_key_t *keys, size_t n, const char *sp, const char *k, char *out,
                    size_t len)
{
    size_t pl = sp[0] ? strlen(sp) + 1 : 0;
    int best = 3;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (pl && (strncmp(keys[i].key, sp, pl - 1) != 0 || keys[i].key[pl - 1] != '.')) continue;
        char name[64];
        const char *rest = keys[i].key + pl, *dot = strchr(rest, '.');
        size_t nl = dot ? (size_t)(dot - rest) : strlen(rest);
        if (nl >= sizeof name) continue;
        memcpy(name, rest, nl);
        name[nl] = '\0';
        int d = distance(k, name);
        /* Of two as near, the longer: a letter left out is the likelier typo. */
        if (d < (int)strlen(k) && (d < best || (d == best && out[0] && nl > strlen(out)))) {
            best = d;
            snprintf(out, len, "%s", name);
        }
    }
}

int ow_schema_check_keys(ow_schema_ctx_t *c, json_t *obj, const ow_key_t *keys, size_t n,
                         const char *sp, const char *jp, const char *skip)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        char spk[PATH_LEN], jpk[PATH_LEN], near[64];
        ow_schema_join(spk, sizeof spk, sp, k);
        ow_schema_join(jpk, sizeof jpk, jp, k);
        if (skip && !sp[0] && strcmp(k, skip) == 0) continue;
        /* A dotted key would alias a nested one in the table but be ignored. */
        if (!strpbrk(k, ".[") && k[0]) {
            if (ow_schema_find(keys, n, spk)) continue;
            if (is_group(keys, n, spk)) {
                if (!json_is_object(v)) return ow_schema_fail(c, jpk, "expected an object");
                if (ow_schema_check_keys(c, v, keys, n, spk, jpk, NULL) < 0) return -1;
                continue;
            }
        }
        nearest(keys, n, sp, k, near, sizeof near);
        if (near[0]) return ow_schema_fail(c, jpk, "unknown key (did you mean %s?)", near);
        return ow_schema_fail(c, jpk, "unknown key");
    }
    return 0;
}

const char *ow_schema_num(double v, char *buf, size_t len)
{
    if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%g", v);
    return buf;
}

int ow_schema_range_check(const ow_key_t *k, double x, char *why, size_t len)
{
    char a[32], b[32];
    int open = (k->flags & OW_KEY_MIN_OPEN) != 0;
    if ((open ? x > k->min : x >= k->min) && x <= k->max) return 0;
    snprintf(why, len, open ? "must be above %s and at most %s" : "must be between %s and %s",
             ow_schema_num(k->min, a, sizeof a), ow_schema_num(k->max, b, sizeof b));
    return -1;
}

static int valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n >= OW_ID_MAX) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-') return 0;
    return 1;
}

static int valid_endpoint(const char *s)
{
    static const char *const schemes[] = {"tcp://", "ipc://", "inproc://"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i]);
        if (strncmp(s, schemes[i], n) == 0 && s[n]) return 1;
    }
    return 0;
}

/* A DNS name or IPv4 address (letters, digits, '-', '.', '_'), or an IPv6
 * address in brackets. */
static int valid_host(const char *s)
{
    size_t n = strlen(s);
    if (n == 0) return 0;
    if (s[0] == '[') {
        if (n < 3 || s[n - 1] != ']') return 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.') return 0;
        return 1;
    }
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.' && *s != '_') return 0;
    return 1;
}

/* "YYYY-MM-DD" that is a real date: 0 ok, -1 bad syntax, -2 no such day. */
static int valid_date(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i])) return -1;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || m < 1 || m > 12 || d < 1) return -2;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d > mdays[m - 1] + (m == 2 && leap) ? -2 : 0;
}

static void choices_text(const ow_key_t *k, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; k->choices && k->choices[i] && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", k->choices[i]);
}

const char *ow_schema_resolve(const char *dir, const char *rel, char *buf, size_t len)
{
    int n;
    if (!rel || !buf || len == 0) return NULL;
    if (rel[0] == '/' || !rel[0] || !dir)
        n = snprintf(buf, len, "%s", rel);
    else if (strcmp(dir, "/") == 0)
        n = snprintf(buf, len, "/%s", rel);
    else
        n = snprintf(buf, len, "%s/%s", dir, rel);
    return n >= 0 && (size_t)n < len ? buf : NULL;
}

/* The directory of the file being read (c->dir, else the file's own). */
static const char *dir_of(ow_schema_ctx_t *c, char *buf, size_t len)
{
    if (c->dir) return c->dir;
    const char *slash = c->file ? strrchr(c->file, '/') : NULL;
    if (!slash) return ".";
    if (slash == c->file) return "/";
    snprintf(buf, len, "%.*s", (int)(slash - c->file), c->file);
    return buf;
}

int ow_schema_secret(ow_schema_ctx_t *c, const char *path, char *raw, size_t rawlen)
{
    if (strncmp(raw, "env:", 4) == 0) {
        const char *e = getenv(raw + 4);
        if (!e) return ow_schema_fail(c, path, "environment variable %s is not set", raw + 4);
        if (strlen(e) >= rawlen) return ow_schema_fail(c, path, "%s is too long", raw);
        memmove(raw, e, strlen(e) + 1);
    } else if (strncmp(raw, "file:", 5) == 0) {
        char fp[512], dbuf[512];
        /* Cut short, the name could be another file's (a prefix of it). */
        if (strlen(raw + 5) >= sizeof fp)
            return ow_schema_fail(c, path, "file name too long (at most %zu bytes)", sizeof fp - 1);
        snprintf(fp, sizeof fp, "%s", raw + 5);
        const char *dir = dir_of(c, dbuf, sizeof dbuf);
        /* Resolved against the site file's directory, a long name may not
         * fit: say so rather than open nothing. */
        const char *full = ow_schema_resolve(dir, fp, raw, rawlen);
        if (!full)
            return ow_schema_fail(c, path, "file name too long once resolved against \"%s\"", dir);
        FILE *f = fopen(full, "r");
        if (!f) return ow_schema_fail(c, path, "cannot read %s", fp);
        if (!fgets(raw, (int)rawlen, f)) raw[0] = 0;
        fclose(f);
        raw[strcspn(raw, "\r\n")] = 0;
    }
    return 0;
}

/* A string value s for row k into dst: the flags' checks, secrets and paths. */
static int put_string(ow_schema_ctx_t *c, const ow_key_t *k, const char *s, const char *jp,
                      char *dst, int is_default)
{
    char raw[1024], dbuf[512];
    /* Cut short, a secret's reference or a path would name something else. */
    if (strlen(s) >= sizeof raw)
        return ow_schema_fail(c, jp, "too long (over %zu bytes)", sizeof raw - 1);
    snprintf(raw, sizeof raw, "%s", s);
    if ((k->flags & OW_KEY_SECRET) && !is_default && ow_schema_secret(c, jp, raw, sizeof raw) < 0)
        return -1;
    if ((k->flags & OW_KEY_NONEMPTY) && !raw[0]) return ow_schema_fail(c, jp, "must not be empty");
    if ((k->flags & OW_KEY_ID) && !valid_id(raw))
        return ow_schema_fail(c, jp, "must be 1 to %d characters of A-Z a-z 0-9 _ . -",
                              OW_ID_MAX - 1);
    if ((k->flags & OW_KEY_ENDPOINT) && !valid_endpoint(raw))
        return ow_schema_fail(c, jp, "must start with tcp://, ipc:// or inproc://");
    if ((k->flags & OW_KEY_HOST) && !valid_host(raw))
        return ow_schema_fail(c, jp, "must be a host name, an IPv4 address or an [IPv6] address");
    if (k->flags & OW_KEY_PATH) {
        /* Cut short, a path would name another file than the one meant. */
        const char *dir = dir_of(c, dbuf, sizeof dbuf);
        char full[PATH_LEN];
        const char *p = ow_schema_resolve(dir, raw, full, sizeof full);
        if ((!p || strlen(p) >= k->size) && is_default)
            return ow_schema_fail(c, jp,
                                  "the default \"%s\" is too long once resolved against \"%s\"; "
                                  "give a shorter absolute path",
                                  raw, dir);
        if (!p || strlen(p) >= k->size)
            return ow_schema_fail(c, jp,
                                  "too long once resolved against \"%s\" (at most %zu bytes)", dir,
                                  k->size - 1);
        memcpy(dst, p, strlen(p) + 1);
        return 0;
    }
    if (strlen(raw) >= k->size)
        return ow_schema_fail(c, jp, "too long (at most %zu bytes)", k->size - 1);
    memcpy(dst, raw, strlen(raw) + 1);
    return 0;
}

static int apply_value(ow_schema_ctx_t *c, const ow_key_t *k, json_t *v, const char *jp, void *base)
{
    void *dst = (char *)base + k->off;
    char why[128];
    if (k->parse) return k->parse(c, k, v, jp, base);
    switch (k->type) {
    case OW_KEY_INT:
    case OW_KEY_U64: {
        if (!json_is_number(v)) return ow_schema_fail(c, jp, "expected a number");
        if (!json_is_integer(v)) return ow_schema_fail(c, jp, "expected an integer");
        json_int_t x = json_integer_value(v);
        if (k->type == OW_KEY_U64) {
            if (x < 0) return ow_schema_fail(c, jp, "must not be negative");
            *(uint64_t *)dst = (uint64_t)x;
            return 0;
        }
        if (ow_schema_range_check(k, (double)x, why, sizeof why) < 0)
            return ow_schema_fail(c, jp, "%s", why);
        *(int *)dst = (int)x;
        return 0;
    }
    case OW_KEY_DOUBLE: {
        if (!json_is_number(v)) return ow_schema_fail(c, jp, "expected a number");
        double x = json_number_value(v);
        if (ow_schema_range_check(k, x, why, sizeof why) < 0)
            return ow_schema_fail(c, jp, "%s", why);
        *(double *)dst = x;
        return 0;
    }
    case OW_KEY_BOOL:
        if (!json_is_boolean(v)) return ow_schema_fail(c, jp, "expected true or false");
        *(int *)dst = json_is_true(v);
        return 0;
    case OW_KEY_CUSTOM:
    case OW_KEY_NTYPES:
        return ow_schema_fail(c, jp, "no reader for this key");
    default:
        break;
    }
    if (!json_is_string(v)) return ow_schema_fail(c, jp, "expected a string");
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return ow_schema_fail(c, jp, "contains a NUL character");
    if (k->type == OW_KEY_ENUM) {
        for (size_t i = 0; k->choices[i]; i++)
            if (strcmp(s, k->choices[i]) == 0) {
                snprintf(dst, k->size, "%s", s);
                return 0;
            }
        char list[160];
        choices_text(k, list, sizeof list);
        return ow_schema_fail(c, jp, "must be one of: %s", list);
    }
    if (k->type == OW_KEY_DATE) {
        int rc = valid_date(s);
        if (rc == -1) return ow_schema_fail(c, jp, "expected a date YYYY-MM-DD");
        if (rc == -2) return ow_schema_fail(c, jp, "\"%s\" is not a real date", s);
    }
    return put_string(c, k, s, jp, dst, 0);
}

int ow_schema_apply(ow_schema_ctx_t *c, const ow_key_t *k, json_t *v, const char *jp, void *base)
{
    if (apply_value(c, k, v, jp, base) < 0) return -1;
    return k->check ? k->check(c, k, jp, base) : 0;
}

int ow_schema_default(ow_schema_ctx_t *c, const ow_key_t *k, const char *jp, void *base)
{
    void *dst = (char *)base + k->off;
    if (k->fill) return k->fill(c, k, jp, base);
    if (k->type == OW_KEY_CUSTOM) return 0;
    if (k->type == OW_KEY_STRING || k->type == OW_KEY_ENUM || k->type == OW_KEY_DATE) {
        const char *s = k->sderive ? k->sderive(k, base) : k->sdef ? k->sdef : "";
        const char *e = k->env ? getenv(k->env) : NULL;
        if (e && e[0]) s = e;
        /* A built-in default passes the same checks as a value from the
         * file, except that it is never a secret reference. */
        if (!s[0] && !(k->flags & (OW_KEY_PATH | OW_KEY_NONEMPTY))) {
            ((char *)dst)[0] = '\0';
            return 0;
        }
        if (k->flags & (OW_KEY_PATH | OW_KEY_NONEMPTY)) return put_string(c, k, s, jp, dst, 1);
        snprintf(dst, k->size, "%s", s);
        return 0;
    }
    double d = k->derive ? k->derive(k, base) : k->def;
    /* A default scaled for an extreme case still has to be a valid value. */
    if (k->derive) d = fmin(fmax(d, k->min), k->max);
    switch (k->type) {
    case OW_KEY_INT:
    case OW_KEY_BOOL:
        *(int *)dst = (int)lround(d);
        break;
    case OW_KEY_U64:
        *(uint64_t *)dst = (uint64_t)d;
        break;
    default:
        *(double *)dst = d;
        break;
    }
    return 0;
}

int ow_schema_load(ow_schema_ctx_t *c, const ow_key_t *keys, size_t n, json_t *obj, const char *jp,
                   void *base)
{
    char kp[PATH_LEN];
    if (obj && !json_is_object(obj)) return ow_schema_fail(c, jp, "expected an object");
    if (obj && ow_schema_check_keys(c, obj, keys, n, "", jp, NULL) < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        const ow_key_t *k = &keys[i];
        json_t *v = obj ? ow_schema_get_json(obj, k->key) : NULL;
        const char *e = k->env ? getenv(k->env) : NULL;
        ow_schema_join(kp, sizeof kp, jp, k->key);
        /* An environment variable that wins is read as if the file said it. */
        if ((k->flags & OW_KEY_ENV_WINS) && e && e[0]) {
            json_t *ev = json_string(e);
            int rc = ev ? ow_schema_apply(c, k, ev, kp, base) : ow_schema_fail(c, kp, "no memory");
            json_decref(ev);
            if (rc < 0) return -1;
            continue;
        }
        /* With an environment default, "" in the file means the default. */
        if (v && k->env && json_is_string(v) && !json_string_value(v)[0]) v = NULL;
        if (v) {
            if (ow_schema_apply(c, k, v, kp, base) < 0) return -1;
        } else if (k->flags & OW_KEY_REQUIRED)
            return ow_schema_fail(c, kp, "required key missing");
        else if (ow_schema_default(c, k, kp, base) < 0)
            return -1;
    }
    return 0;
}

int ow_schema_load_section(ow_schema_ctx_t *c, const ow_schema_section_t *sec, json_t *obj,
                           void *out)
{
    memset(out, 0, sec->size);
    if (ow_schema_load(c, sec->keys, sec->nkeys, obj, sec->path, out) < 0) return -1;
    return sec->finish ? sec->finish(c, obj, out) : 0;
}

/* ---- runtime settings ---- */

/* An enum is a runtime setting by the index of its choice: settings travel
 * as numbers (control requests, SNMP), and a choice list whose order is
 * the wire's (C = 0, F = 1 for bacsTemperatureUnit) needs no second table. */
static size_t nchoices(const ow_key_t *k)
{
    size_t n = 0;
    while (k->choices && k->choices[n])
        n++;
    return n;
}

const ow_key_t *ow_schema_setting(const ow_key_t *keys, size_t n, const char *key)
{
    const ow_key_t *k = ow_schema_find(keys, n, key);
    return k && (k->type == OW_KEY_INT || k->type == OW_KEY_DOUBLE ||
                 (k->type == OW_KEY_ENUM && nchoices(k) > 0))
               ? k
               : NULL;
}

static int seterr(char *err, size_t errlen, const char *key, const char *why)
{
    if (err && errlen) snprintf(err, errlen, "%s: %s", key ? key : "(null)", why);
    return -1;
}

int ow_schema_set(const ow_key_t *keys, size_t n, void *base, const char *key, double value,
                  char *err, size_t errlen)
{
    char why[128];
    const ow_key_t *k = ow_schema_setting(keys, n, key);
    if (err && errlen) err[0] = '\0';
    if (!k) return seterr(err, errlen, key, "unknown key");
    if (!base) return seterr(err, errlen, key, "nothing to set");
    if (!isfinite(value)) return seterr(err, errlen, key, "must be a finite number");
    if (k->type != OW_KEY_DOUBLE && value != floor(value))
        return seterr(err, errlen, key, "expected an integer");
    if (k->type == OW_KEY_ENUM) {
        char list[64];
        if (value < 0 || value >= (double)nchoices(k)) {
            choices_text(k, list, sizeof list);
            snprintf(why, sizeof why, "must be between 0 and %zu (%s, in that order)",
                     nchoices(k) - 1, list);
            return seterr(err, errlen, key, why);
        }
        snprintf((char *)base + k->off, k->size, "%s", k->choices[(size_t)value]);
        return 0;
    }
    if (ow_schema_range_check(k, value, why, sizeof why) < 0) return seterr(err, errlen, key, why);
    if (k->type == OW_KEY_INT)
        *(int *)((char *)base + k->off) = (int)value;
    else
        *(double *)((char *)base + k->off) = value;
    return 0;
}

int ow_schema_get(const ow_key_t *keys, size_t n, const void *base, const char *key, double *value)
{
    const ow_key_t *k = ow_schema_setting(keys, n, key);
    if (!k || !base) return -1;
    const void *src = (const char *)base + k->off;
    if (k->type == OW_KEY_ENUM) {
        for (size_t i = 0; k->choices[i]; i++)
            if (strcmp(src, k->choices[i]) == 0) {
                if (value) *value = (double)i;
                return 0;
            }
        return -1; /* not loaded through the schema */
    }
    if (value) *value = k->type == OW_KEY_INT ? *(const int *)src : *(const double *)src;
    return 0;
}

int ow_schema_range(const ow_key_t *keys, size_t n, const char *key, double *min, double *max)
{
    const ow_key_t *k = ow_schema_setting(keys, n, key);
    if (!k) return -1;
    if (min) *min = k->type == OW_KEY_ENUM ? 0 : k->min;
    if (max) *max = k->type == OW_KEY_ENUM ? (double)nchoices(k) - 1 : k->max;
    return 0;
}

/* ---- the one reader of whole files ---- */

char *ow_file_read(const char *path, size_t max, size_t *len, char *why, size_t whylen)
{
    FILE *f = path ? fopen(path, "rb") : NULL;
    char fallback[8];
    if (!why || !whylen) why = fallback, whylen = sizeof fallback;
    why[0] = '\0';
    if (!f) {
        snprintf(why, whylen, "%s", path ? strerror(errno) : "no file given");
        return NULL;
    }
    /* One byte more than max is read to tell "exactly max" from "more". */
    size_t cap = max < 65536 ? max + 1 : 65536, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n > max) {
            snprintf(why, whylen, "file too large (over %zu bytes)", max);
            break;
        }
        if (r == 0) {
            if (ferror(f)) snprintf(why, whylen, "%s", strerror(errno));
            break;
        }
        if (n == cap) {
            size_t nc = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *nb = realloc(buf, nc + 1);
            if (!nb) {
                snprintf(why, whylen, "out of memory");
                break;
            }
            buf = nb;
            cap = nc;
        }
    }
    if (!buf) snprintf(why, whylen, "out of memory");
    fclose(f);
    if (why[0]) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

/* ---- documentation ---- */

static const char *type_name(const ow_key_t *k)
{
    static const char *const names[OW_KEY_NTYPES] = {
        [OW_KEY_INT] = "integer",  [OW_KEY_DOUBLE] = "number", [OW_KEY_U64] = "integer",
        [OW_KEY_BOOL] = "boolean", [OW_KEY_STRING] = "string", [OW_KEY_ENUM] = "enum",
        [OW_KEY_DATE] = "date",    [OW_KEY_CUSTOM] = "object",
    };
    if (k->type_doc) return k->type_doc;
    return k->type < OW_KEY_NTYPES ? names[k->type] : "?";
}

static void range_text(const ow_key_t *k, char *buf, size_t len)
{
    char a[32], b[32];
    if (k->range_doc) {
        snprintf(buf, len, "%s", k->range_doc);
        return;
    }
    switch (k->type) {
    case OW_KEY_INT:
    case OW_KEY_DOUBLE:
        if (k->flags & OW_KEY_MIN_OPEN)
            snprintf(buf, len, "> %s .. %s", ow_schema_num(k->min, a, 32),
                     ow_schema_num(k->max, b, 32));
        else
            snprintf(buf, len, "%s .. %s", ow_schema_num(k->min, a, 32),
                     ow_schema_num(k->max, b, 32));
        break;
    case OW_KEY_U64:
        snprintf(buf, len, ">= 0");
        break;
    case OW_KEY_BOOL:
        snprintf(buf, len, "true, false");
        break;
    case OW_KEY_DATE:
        snprintf(buf, len, "YYYY-MM-DD");
        break;
    case OW_KEY_ENUM:
        choices_text(k, buf, len);
        break;
    case OW_KEY_STRING:
        if (k->flags & OW_KEY_ID)
            snprintf(buf, len, "1..%d of `A-Za-z0-9_.-`", OW_ID_MAX - 1);
        else if (k->flags & OW_KEY_ENDPOINT)
            snprintf(buf, len, "`tcp://`, `ipc://`, `inproc://`");
        else if (k->flags & OW_KEY_HOST)
            snprintf(buf, len, "host name, IPv4, `[IPv6]`");
        else
            snprintf(buf, len, "%s%zu bytes%s",
                     k->flags & OW_KEY_NONEMPTY ? "1.." : "<= ", k->size - 1,
                     k->flags & OW_KEY_SECRET ? "; `file:PATH`, `env:NAME`" : "");
        break;
    default:
        if (k->choices)
            choices_text(k, buf, len);
        else
            snprintf(buf, len, "see below");
    }
}

static void default_text(const ow_key_t *k, char *buf, size_t len)
{
    char a[32];
    if (k->flags & OW_KEY_REQUIRED)
        snprintf(buf, len, "**required**");
    else if (k->ddoc)
        snprintf(buf, len, "%s", k->ddoc);
    else if (k->type == OW_KEY_BOOL)
        snprintf(buf, len, "%s", k->def != 0 ? "true" : "false");
    else if (k->type == OW_KEY_STRING || k->type == OW_KEY_ENUM || k->type == OW_KEY_DATE ||
             (k->type == OW_KEY_CUSTOM && k->sdef)) {
        char s[160];
        if (k->sdef && k->sdef[0])
            snprintf(s, sizeof s, "`%s`", k->sdef);
        else
            snprintf(s, sizeof s, "empty");
        if (k->env)
            snprintf(buf, len, "`$%s`, else %s", k->env, s);
        else
            snprintf(buf, len, "%s", s);
    } else if (k->type == OW_KEY_CUSTOM)
        snprintf(buf, len, "none");
    else
        snprintf(buf, len, "%s%s", ow_schema_num(k->def, a, 32),
                 k->def_suffix ? k->def_suffix : "");
}

void ow_schema_doc_table(FILE *out, const ow_key_t *keys, size_t n, const char *prefix)
{
    fprintf(out, "| Key | Type | Range | Default | Meaning |\n");
    fprintf(out, "|-----|------|-------|---------|---------|\n");
    for (size_t i = 0; i < n; i++) {
        char range[200], def[200];
        range_text(&keys[i], range, sizeof range);
        default_text(&keys[i], def, sizeof def);
        fprintf(out, "| `%s%s` | %s | %s | %s | %s |\n", prefix, keys[i].key, type_name(&keys[i]),
                range, def, keys[i].doc);
    }
}

void ow_schema_doc_section(FILE *out, const ow_schema_section_t *sec)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s.", sec->path);
    fprintf(out, "## %s\n\n", sec->path);
    if (sec->doc) fprintf(out, "%s\n\n", sec->doc);
    ow_schema_doc_table(out, sec->keys, sec->nkeys, prefix);
    fprintf(out, "\n");
    if (sec->subdoc) sec->subdoc(out);
    if (sec->more) fprintf(out, "%s\n\n", sec->more);
}
