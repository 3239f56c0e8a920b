/* Where each value of a JSON text starts: jansson tells us what is wrong with a
 * value but not where it is, so this small scanner walks the same text and
 * records "path -> line:column" for every value, letting schema errors name
 * file:line:col. Columns count bytes (a UTF-8 character may span several). */
#include <stdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ow_config.h"

#define JPOS_MAX_DEPTH 256 /* deeper input stops the scan rather than the stack */

typedef struct {
    char *path;
    int line, col;
    size_t seq; /* scan order, so the first of duplicate paths wins */
} jpos_entry_t;

struct ow_jpos {
    jpos_entry_t *v;
    size_t n, cap;
};

typedef struct {
    const char *s;
    size_t len, i;
    int line;
    size_t line_start; /* offset of the current line's first byte */
    char *path;        /* path of the value being scanned */
    size_t plen, pcap;
    ow_jpos_t *out;
} scan_t;

static int path_reserve(scan_t *sc, size_t extra)
{
    if (sc->plen + extra + 1 <= sc->pcap) return 0;
    size_t cap = sc->pcap ? sc->pcap : 64;
    while (cap < sc->plen + extra + 1)
        cap *= 2;
    char *p = realloc(sc->path, cap);
    if (!p) return -1;
    sc->path = p;
    sc->pcap = cap;
    return 0;
}

static int path_append(scan_t *sc, const char *s, size_t n)
{
    if (path_reserve(sc, n) < 0) return -1;
    memcpy(sc->path + sc->plen, s, n);
    sc->plen += n;
    sc->path[sc->plen] = '\0';
    return 0;
}

static int record(scan_t *sc, int line, int col)
{
    ow_jpos_t *o = sc->out;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        jpos_entry_t *v = realloc(o->v, cap * sizeof(*v));
        if (!v) return -1;
        o->v = v;
        o->cap = cap;
    }
    char *p = malloc(sc->plen + 1);
    if (!p) return -1;
    memcpy(p, sc->path ? sc->path : "", sc->plen);
    p[sc->plen] = '\0';
    o->v[o->n].path = p;
    o->v[o->n].line = line;
    o->v[o->n].col = col;
    o->v[o->n].seq = o->n;
    o->n++;
    return 0;
}

static void skip_ws(scan_t *sc)
{
    while (sc->i < sc->len) {
        char c = sc->s[sc->i];
        if (c == '\n') {
            sc->line++;
            sc->line_start = sc->i + 1;
        } else if (c != ' ' && c != '\t' && c != '\r')
            return;
        sc->i++;
    }
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t utf8_put(unsigned cp, char *b)
{
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (char)(0xF0 | (cp >> 18));
    b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string at sc->i (the opening quote). With append set, its decoded text is
 * added to the path, so keys with escapes match what jansson hands out. */
static int scan_string(scan_t *sc, int append)
{
    sc->i++; /* opening quote */
    while (sc->i < sc->len) {
        char c = sc->s[sc->i];
        if (c == '"') {
            sc->i++;
            return 0;
        }
        if ((unsigned char)c < 0x20)
            return -1; /* raw control characters are not allowed in JSON strings */
        if (c != '\\') {
            if (append && path_append(sc, &c, 1) < 0) return -1;
            sc->i++;
            continue;
        }
        if (sc->i + 1 >= sc->len) return -1;
        char e = sc->s[sc->i + 1], b[8];
        size_t n = 1;
        sc->i += 2;
        static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
        const char *simple = e ? strchr(esc_in, e) : NULL;
        if (simple)
            b[0] = esc_out[simple - esc_in];
        else if (e == 'u') {
            unsigned cp, lo;
            if (sc->i + 4 > sc->len || hex4(sc->s + sc->i, &cp) < 0) return -1;
            sc->i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (sc->i + 6 > sc->len || sc->s[sc->i] != '\\' || sc->s[sc->i + 1] != 'u' ||
                    hex4(sc->s + sc->i + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                    return -1;
                sc->i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF)
                return -1;
            n = utf8_put(cp, b);
        } else
            return -1;
        if (append && path_append(sc, b, n) < 0) return -1;
    }
    return -1; /* unterminated */
}

static int scan_value(scan_t *sc, int depth);

static int scan_object(scan_t *sc, int depth)
{
    size_t base = sc->plen;
    sc->i++; /* '{' */
    skip_ws(sc);
    if (sc->i < sc->len && sc->s[sc->i] == '}') {
        sc->i++;
        return 0;
    }
    for (;;) {
        skip_ws(sc);
        if (sc->i >= sc->len || sc->s[sc->i] != '"') return -1;
        if (base > 0 && path_append(sc, ".", 1) < 0) return -1;
        if (scan_string(sc, 1) < 0) return -1;
        skip_ws(sc);
        if (sc->i >= sc->len || sc->s[sc->i] != ':') return -1;
        sc->i++;
        if (scan_value(sc, depth + 1) < 0) return -1;
        sc->plen = base;
        sc->path[base] = '\0';
        skip_ws(sc);
        if (sc->i >= sc->len) return -1;
        if (sc->s[sc->i] == ',') {
            sc->i++;
            continue;
        }
        if (sc->s[sc->i] == '}') {
            sc->i++;
            return 0;
        }
        return -1;
    }
}

static int scan_array(scan_t *sc, int depth)
{
    size_t base = sc->plen;
    sc->i++; /* '[' */
    skip_ws(sc);
    if (sc->i < sc->len && sc->s[sc->i] == ']') {
        sc->i++;
        return 0;
    }
    for (size_t k = 0;; k++) {
        char b[32];
        int n = snprintf(b, sizeof(b), "[%zu]", k);
        if (path_append(sc, b, (size_t)n) < 0) return -1;
        if (scan_value(sc, depth + 1) < 0) return -1;
        sc->plen = base;
        sc->path[base] = '\0';
        skip_ws(sc);
        if (sc->i >= sc->len) return -1;
        if (sc->s[sc->i] == ',') {
            sc->i++;
            continue;
        }
        if (sc->s[sc->i] == ']') {
            sc->i++;
            return 0;
        }
        return -1;
    }
}

/* Scalars are not validated here (jansson does that); we only need their extent. */
static int scan_scalar(scan_t *sc)
{
    size_t start = sc->i;
    while (sc->i < sc->len) {
        char c = sc->s[sc->i];
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            c == '-' || c == '+' || c == '.')
            sc->i++;
        else
            break;
    }
    return sc->i > start ? 0 : -1;
}

static int scan_value(scan_t *sc, int depth)
{
    if (depth > JPOS_MAX_DEPTH) return -1;
    skip_ws(sc);
    if (sc->i >= sc->len) return -1;
    if (path_reserve(sc, 0) < 0) return -1;
    int line = sc->line, col = (int)(sc->i - sc->line_start) + 1;
    if (record(sc, line, col) < 0) return -1;
    switch (sc->s[sc->i]) {
    case '{':
        return scan_object(sc, depth);
    case '[':
        return scan_array(sc, depth);
    case '"':
        return scan_string(sc, 0);
    default:
        return scan_scalar(sc);
    }
}

static int entry_cmp(const void *a, const void *b)
{
    const jpos_entry_t *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c) return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

ow_jpos_t *ow_jpos_build(const char *text, size_t len)
{
    if (!text) return NULL;
    ow_jpos_t *p = calloc(1, sizeof(*p));
    if (!p) return NULL;
    scan_t sc = {.s = text, .len = len, .line = 1, .out = p};
    /* A UTF-8 byte order mark is not JSON, but editors write it; skip it. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) sc.i = sc.line_start = 3;
    /* On malformed input (or out of memory) the scan stops; what it recorded
     * so far is still useful for pointing at the values before the damage. */
    (void)scan_value(&sc, 0);
    free(sc.path);
    if (p->n > 1) qsort(p->v, p->n, sizeof(*p->v), entry_cmp);
    return p;
}

int ow_jpos_find(const ow_jpos_t *p, const char *path, int *line, int *col)
{
    if (!p || !path) return -1;
    size_t lo = 0, hi = p->n;
    while (lo < hi) { /* lower bound: the first entry >= path */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(p->v[mid].path, path) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= p->n || strcmp(p->v[lo].path, path) != 0) return -1;
    if (line) *line = p->v[lo].line;
    if (col) *col = p->v[lo].col;
    return 0;
}

void ow_jpos_destroy(ow_jpos_t **pp)
{
    if (!pp || !*pp) return;
    ow_jpos_t *p = *pp;
    for (size_t k = 0; k < p->n; k++)
        free(p->v[k].path);
    free(p->v);
    free(p);
    *pp = NULL;
}

void ow_jpos_locate(const ow_jpos_t *p, const char *path, int *line, int *col)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", path);
    *line = 1;
    *col = 1;
    if (!p) return;
    for (;;) {
        if (ow_jpos_find(p, buf, line, col) == 0 || !buf[0]) return;
        char *dot = strrchr(buf, '.'), *br = strrchr(buf, '[');
        char *cut = dot > br ? dot : br;
        if (!cut) cut = buf;
        *cut = '\0';
    }
}

int ow_jpos_error(const ow_jpos_t *p, const char *file, const char *path, char *err, size_t errlen,
                  const char *fmt, ...)
{
    char why[512];
    int line, col;
    va_list ap;

    if (!err || !errlen) return -1;
    ow_jpos_locate(p, path, &line, &col);
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (path[0])
        snprintf(err, errlen, "%s:%d:%d: %s: %s", file, line, col, path, why);
    else
        snprintf(err, errlen, "%s:%d:%d: %s", file, line, col, why);
    return -1;
}
