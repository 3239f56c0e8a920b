/* Strict single-pass JSON scanner for wire bodies (see json_scan.h). It takes
 * what jansson's json_loadb(JSON_REJECT_DUPLICATES) takes, with the same
 * limits (integers within int64_t, reals that do not overflow, no \u0000,
 * strict UTF-8, depth 2048), except that any raw NUL byte is an error here
 * (jansson 2.14 drops one that directly follows a number or a literal). */
#include "json_scan.h"
#include "ow_num.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned char uchar;

#define TAB_KEYS    64 /* top-level keys checked for duplicates by the table */
#define PAIR_KEYS   16 /* nested keys checked pairwise; more are sorted at '}' */
#define IS_DIGIT(c) ((uchar)((c) - '0') < 10)

/* Byte classes inside a string. */
enum { C_PLAIN = 0, C_QUOTE, C_BSL, C_CTL, C_HIGH };

static const uint8_t str_class[256] = {
    [0x00 ... 0x1f] = C_CTL,
    ['"'] = C_QUOTE,
    ['\\'] = C_BSL,
    [0x80 ... 0xff] = C_HIGH,
};

static const uchar *bad(ow_jscan_t *s, const uchar *at, const char *why)
{
    s->err = why;
    s->err_pos = (size_t)(at - (const uchar *)s->body);
    return NULL;
}

static inline const uchar *skip_ws(const uchar *p, const uchar *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* One multi-byte UTF-8 sequence, by jansson's rules (utf8_check_full): no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
static const uchar *utf8_seq(ow_jscan_t *s, const uchar *p, const uchar *end)
{
    uchar c = *p;
    size_t n;
    uint32_t v;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2, v = c & 0x1fu;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, v = c & 0x0fu;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, v = c & 0x07u;
    else
        return bad(s, p, "invalid UTF-8");
    if ((size_t)(end - p) < n) return bad(s, p, "invalid UTF-8");
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return bad(s, p, "invalid UTF-8");
        v = (v << 6) | (p[i] & 0x3fu);
    }
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) || (n == 3 && v < 0x800) ||
        (n == 4 && v < 0x10000))
        return bad(s, p, "invalid UTF-8");
    return p + n;
}

static int hex4(const uchar *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* A backslash escape at p; \u0000 and unpaired surrogates are refused. */
static const uchar *scan_escape(ow_jscan_t *s, const uchar *p, const uchar *end)
{
    int u, u2;

    if (end - p < 2) return bad(s, p, "premature end of input");
    switch (p[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return p + 2;
    case 'u':
        break;
    default:
        return bad(s, p, "invalid escape");
    }
    if (end - p < 6 || (u = hex4(p + 2)) < 0) return bad(s, p, "invalid \\u escape");
    if (u == 0) return bad(s, p, "\\u0000 is not allowed");
    if (u >= 0xdc00 && u <= 0xdfff) return bad(s, p, "unpaired surrogate");
    if (u < 0xd800 || u > 0xdbff) return p + 6;
    if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || (u2 = hex4(p + 8)) < 0 || u2 < 0xdc00 ||
        u2 > 0xdfff)
        return bad(s, p, "unpaired surrogate");
    return p + 12;
}

/* The string whose opening quote is just before p: returns its closing quote. */
static const uchar *scan_str(ow_jscan_t *s, const uchar *p, const uchar *end, int *esc)
{
    for (;;) {
        while (p < end && str_class[*p] == C_PLAIN)
            p++;
        if (p >= end) return bad(s, p, "premature end of input");
        switch (str_class[*p]) {
        case C_QUOTE:
            return p;
        case C_BSL:
            *esc = 1;
            p = scan_escape(s, p, end);
            break;
        case C_CTL:
            return bad(s, p, "control character in string");
        default:
            p = utf8_seq(s, p, end);
            break;
        }
        if (!p) return NULL;
    }
}

/* Decode checked string bytes [p, q) into out with a NUL; -1 if that takes
 * more than cap bytes. */
static long unescape(const uchar *p, const uchar *q, char *out, size_t cap)
{
    size_t n = 0;

    while (p < q) {
        uint32_t c = *p;
        if (c != '\\') {
            if (n + 1 >= cap) return -1;
            out[n++] = (char)c;
            p++;
            continue;
        }
        if (p[1] != 'u') {
            switch (p[1]) {
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            default: /* '"', '\\', '/' */
                c = p[1];
                break;
            }
            if (n + 1 >= cap) return -1;
            out[n++] = (char)c;
            p += 2;
            continue;
        }
        c = (uint32_t)hex4(p + 2);
        p += 6;
        if (c >= 0xd800 && c <= 0xdbff) {
            c = 0x10000 + ((c - 0xd800) << 10) + ((uint32_t)hex4(p + 2) - 0xdc00);
            p += 6;
        }
        size_t k = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        if (n + k >= cap) return -1;
        switch (k) {
        case 1:
            out[n] = (char)c;
            break;
        case 2:
            out[n] = (char)(0xc0 | c >> 6);
            out[n + 1] = (char)(0x80 | (c & 0x3f));
            break;
        case 3:
            out[n] = (char)(0xe0 | c >> 12);
            out[n + 1] = (char)(0x80 | ((c >> 6) & 0x3f));
            out[n + 2] = (char)(0x80 | (c & 0x3f));
            break;
        default:
            out[n] = (char)(0xf0 | c >> 18);
            out[n + 1] = (char)(0x80 | ((c >> 12) & 0x3f));
            out[n + 2] = (char)(0x80 | ((c >> 6) & 0x3f));
            out[n + 3] = (char)(0x80 | (c & 0x3f));
            break;
        }
        n += k;
    }
    out[n] = '\0';
    return (long)n;
}

/* The double strtod gives for the real token [start, end), overflow refused
 * as jansson does: 0, -1 on overflow, -2 out of memory. mant and e describe
 * the token exactly (value = mant * 10^e) unless exact is 0. */
static int real_value(const uchar *start, const uchar *end, uint64_t mant, long e, int exact,
                      int neg, double *out)
{
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    /* Clinger's fast path: a mantissa up to 2^53 and a power of ten up to
     * 1e22 are exact doubles, so one multiplication or division rounds
     * correctly, to the same double as strtod. */
    if (exact && mant == 0) {
        *out = neg ? -0.0 : 0.0;
        return 0;
    }
    if (exact && mant <= (UINT64_C(1) << 53) && e >= -OW_NUM_POW10_EXACT_MAX &&
        e <= OW_NUM_POW10_EXACT_MAX) {
        double d = (double)mant;
        d = e < 0 ? d / ow_num_pow10_exact[-e] : d * ow_num_pow10_exact[e];
        *out = neg ? -d : d;
        return 0;
    }
#else
    (void)mant, (void)e, (void)exact, (void)neg;
#endif
    char small[64], *buf = small, *stop;
    size_t n = (size_t)(end - start);
    double d;
    int over;

    if (n >= sizeof small && !(buf = malloc(n + 1))) return -2;
    memcpy(buf, start, n);
    buf[n] = '\0';
    errno = 0;
    d = strtod(buf, &stop);
    over = (d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE;
    if (buf != small) free(buf);
    if (over) return -1;
    *out = d;
    return 0;
}

/* A number at p ('-' or a digit), by the grammar of RFC 8259, in one pass
 * that also gathers its digits: integers must fit int64_t and reals must
 * not overflow (jansson refuses both). */
static const uchar *scan_num(ow_jscan_t *s, const uchar *p, const uchar *end, ow_jmember_t *v)
{
    const uchar *start = p;
    uint64_t mant = 0;
    int neg = 0, nd = 0, exact = 1, real = 0;
    long e = 0;

    if (*p == '-') neg = 1, p++;
    if (p >= end || !IS_DIGIT(*p)) return bad(s, start, "invalid number");
    if (*p == '0') {
        p++;
        if (p < end && IS_DIGIT(*p)) return bad(s, start, "invalid number (leading zero)");
    } else {
        for (; p < end && IS_DIGIT(*p); p++) {
            if (nd < 19)
                mant = mant * 10 + (uint64_t)(*p - '0'), nd++;
            else
                exact = 0, e++;
        }
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !IS_DIGIT(*p)) return bad(s, start, "invalid number");
        for (; p < end && IS_DIGIT(*p); p++) {
            if (mant == 0 && *p == '0')
                e--;
            else if (nd < 19)
                mant = mant * 10 + (uint64_t)(*p - '0'), nd++, e--;
            else
                exact = 0;
        }
        real = 1;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        long x = 0;
        int xneg = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) xneg = *p++ == '-';
        if (p >= end || !IS_DIGIT(*p)) return bad(s, start, "invalid number");
        for (; p < end && IS_DIGIT(*p); p++)
            if (x < 1000000) x = x * 10 + (*p - '0');
        e += xneg ? -x : x;
        real = 1;
    }
    if (!real) {
        /* Without leading zeros, 20 digits are at least 1e19 > 2^63. */
        if (!exact || mant > (uint64_t)INT64_MAX + (uint64_t)neg)
            return bad(s, start, "integer does not fit in 64 bits");
        v->type = OW_JV_INT;
        v->num.i = neg && mant ? -(int64_t)(mant - 1) - 1 : (int64_t)mant;
        return p;
    }
    int r = real_value(start, p, mant, e, exact, neg, &v->num.d);
    if (r == -1) return bad(s, start, "real number overflow");
    if (r < 0) return bad(s, start, "out of memory");
    v->type = OW_JV_REAL;
    return p;
}

/* A string, number or literal at p; v gets its type and value. */
static const uchar *scan_scalar(ow_jscan_t *s, const uchar *p, const uchar *end, ow_jmember_t *v)
{
    size_t left = (size_t)(end - p);

    if (!left) return bad(s, p, "premature end of input");
    switch (*p) {
    case '"': {
        int esc = 0;
        const uchar *q = scan_str(s, p + 1, end, &esc);
        if (!q) return NULL;
        v->type = OW_JV_STRING;
        v->pos = (uint32_t)(p + 1 - (const uchar *)s->body);
        v->len = (uint32_t)(q - p - 1);
        v->escaped = (uint8_t)esc;
        return q + 1;
    }
    case 't':
        if (left < 4 || memcmp(p, "true", 4) != 0) break;
        v->type = OW_JV_TRUE;
        return p + 4;
    case 'f':
        if (left < 5 || memcmp(p, "false", 5) != 0) break;
        v->type = OW_JV_FALSE;
        return p + 5;
    case 'n':
        if (left < 4 || memcmp(p, "null", 4) != 0) break;
        v->type = OW_JV_NULL;
        return p + 4;
    default:
        if (*p == '-' || IS_DIGIT(*p)) return scan_num(s, p, end, v);
        break;
    }
    return bad(s, p, "invalid token");
}

/* A cheap key hash: it only sorts keys into table slots and saves most
 * comparisons; equal hashes fall back to comparing the bytes. */
static inline uint32_t key_hash(const char *k, size_t n)
{
    uint32_t h = (uint32_t)n;
    if (n)
        h ^= (uint32_t)(uchar)k[0] << 8 ^ (uint32_t)(uchar)k[n / 2] << 16 ^
             (uint32_t)(uchar)k[n - 1] << 24;
    return h * 0x9e3779b1u;
}

static int same_key(const ow_jmember_t *a, const ow_jmember_t *b)
{
    return a->hash == b->hash && a->klen == b->klen && memcmp(a->key, b->key, a->klen) == 0;
}

static int key_cmp(const void *pa, const void *pb)
{
    const ow_jmember_t *a = pa, *b = pb;
    if (a->hash != b->hash) return a->hash < b->hash ? -1 : 1;
    if (a->klen != b->klen) return a->klen < b->klen ? -1 : 1;
    return memcmp(a->key, b->key, a->klen);
}

/* Duplicate check of an object with many keys (members [base, n)). */
static int dup_sorted(ow_jscan_t *s, size_t base)
{
    ow_jmember_t *m = s->m + base;
    size_t n = s->n - base;

    qsort(m, n, sizeof *m, key_cmp);
    for (size_t i = 1; i < n; i++) {
        if (same_key(&m[i - 1], &m[i])) {
            const char *k = m[i].key;
            size_t at = k >= s->body && k < s->body + s->body_len ? (size_t)(k - s->body) : 0;
            bad(s, (const uchar *)s->body + at, "duplicate object key");
            return -1;
        }
    }
    return 0;
}

static ow_jmember_t *push(ow_jscan_t *s)
{
    if (s->n == s->cap) {
        size_t cap = s->cap * 2;
        ow_jmember_t *m;
        if (s->m == s->inl) {
            m = malloc(cap * sizeof *m);
            if (m) memcpy(m, s->inl, s->n * sizeof *m);
        } else {
            m = realloc(s->m, cap * sizeof *m);
        }
        if (!m) return NULL;
        s->m = m;
        s->cap = cap;
    }
    return &s->m[s->n++];
}

/* A key at p (its opening quote), pushed as a member of the object whose
 * members start at base; top: the top-level object. */
static const uchar *scan_key(ow_jscan_t *s, const uchar *p, const uchar *end, size_t base, int top)
{
    int esc = 0;
    const uchar *q = scan_str(s, p + 1, end, &esc);
    ow_jmember_t *k;
    size_t idx = s->n;

    if (!q) return NULL;
    if (!(k = push(s))) return bad(s, p, "out of memory");
    if (!esc) {
        k->key = (const char *)p + 1;
        k->klen = (uint32_t)(q - p - 1);
    } else {
        /* Escapes only shrink a string, and both quotes go, so all decoded
         * keys with their NULs fit in body_len bytes. */
        size_t raw = (size_t)(q - p - 1);
        if (!s->arena && !(s->arena = malloc(s->body_len + 1))) return bad(s, p, "out of memory");
        if (s->arena_len + raw + 1 > s->body_len + 1) return bad(s, p, "out of memory");
        char *dst = s->arena + s->arena_len;
        long n = unescape(p + 1, q, dst, raw + 1);
        if (n < 0) return bad(s, p, "out of memory");
        s->arena_len += (size_t)n + 1;
        k->key = dst;
        k->klen = (uint32_t)n;
    }
    k->hash = key_hash(k->key, k->klen);
    if (top) {
        if (idx < TAB_KEYS) {
            unsigned h = k->hash >> 25; /* 128 slots */
            while (s->tab[h]) {
                if (same_key(&s->m[s->tab[h] - 1], k)) return bad(s, p, "duplicate object key");
                h = (h + 1) & (sizeof s->tab - 1);
            }
            s->tab[h] = (uint8_t)(idx + 1);
        }
    } else if (idx - base < PAIR_KEYS) {
        for (size_t i = base; i < idx; i++)
            if (same_key(&s->m[i], k)) return bad(s, p, "duplicate object key");
    }
    return q + 1;
}

/* Check and skip the array or object at p, at nesting depth `depth` (the
 * top-level value is depth 1, as in jansson). Iterative, so that the depth
 * limit costs no C stack. *nelem gets the number of its direct members. */
static const uchar *skip_nested(ow_jscan_t *s, const uchar *p, const uchar *end, unsigned depth,
                                uint32_t *nelem)
{
    uint16_t lv[OW_JSCAN_MAX_DEPTH]; /* per open container: 0x8000 | members base, or 0 */
    unsigned top = 0;
    uint32_t count = 0;
    ow_jmember_t scratch;
    int obj;

open:
    obj = *p == '{';
    if (obj && s->n > 0x7fff) return bad(s, p, "too many keys");
    lv[top++] = obj ? (uint16_t)(0x8000u | s->n) : 0;
    p = skip_ws(p + 1, end);
    if (p < end && *p == (obj ? '}' : ']')) {
        p++;
        goto close;
    }
member:
    if (top == 1) count++;
    if (obj) {
        if (p >= end || *p != '"') return bad(s, p, "string or '}' expected");
        if (!(p = scan_key(s, p, end, lv[top - 1] & 0x7fffu, 0))) return NULL;
        p = skip_ws(p, end);
        if (p >= end || *p != ':') return bad(s, p, "':' expected");
        p = skip_ws(p + 1, end);
    }
    if (depth >= OW_JSCAN_MAX_DEPTH) return bad(s, p, "maximum nesting depth reached");
    if (p < end && (*p == '[' || *p == '{')) {
        depth++;
        goto open;
    }
    if (!(p = scan_scalar(s, p, end, &scratch))) return NULL;
next:
    p = skip_ws(p, end);
    if (p < end && *p == ',') {
        p = skip_ws(p + 1, end);
        goto member;
    }
    if (p >= end || *p != (obj ? '}' : ']'))
        return bad(s, p, obj ? "',' or '}' expected" : "',' or ']' expected");
    p++;
close:
    if (obj) {
        size_t base = lv[top - 1] & 0x7fffu;
        if (s->n - base > PAIR_KEYS && dup_sorted(s, base) < 0) return NULL;
        s->n = base;
    }
    if (--top == 0) {
        *nelem = count;
        return p;
    }
    depth--;
    obj = (lv[top - 1] & 0x8000u) != 0;
    goto next;
}

ow_jscan_res_t ow_jscan_object(ow_jscan_t *s, const char *body, size_t len)
{
    const uchar *b = (const uchar *)body, *end = b + len, *p;
    uint32_t nelem;

    s->body = body;
    s->body_len = len;
    s->m = s->inl;
    s->n = 0;
    s->cap = OW_JSCAN_INLINE;
    s->arena = NULL;
    s->arena_len = 0;
    s->hint = 0;
    s->err = NULL;
    s->err_pos = 0;
    memset(s->tab, 0, sizeof s->tab);

    if (len > (size_t)INT32_MAX) return bad(s, b, "too long"), OW_JSCAN_INVALID;
    p = skip_ws(b, end);
    if (p < end && *p == '[') {
        if (!(p = skip_nested(s, p, end, 1, &nelem))) return OW_JSCAN_INVALID;
        if (skip_ws(p, end) != end) return bad(s, p, "end of input expected"), OW_JSCAN_INVALID;
        return OW_JSCAN_NOT_OBJECT;
    }
    if (p >= end || *p != '{') return bad(s, p, "'{' expected"), OW_JSCAN_INVALID;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            size_t i = s->n;
            if (p >= end || *p != '"') return bad(s, p, "string or '}' expected"), OW_JSCAN_INVALID;
            if (!(p = scan_key(s, p, end, 0, 1))) return OW_JSCAN_INVALID;
            p = skip_ws(p, end);
            if (p >= end || *p != ':') return bad(s, p, "':' expected"), OW_JSCAN_INVALID;
            p = skip_ws(p + 1, end);
            s->m[i].nelem = 0;
            s->m[i].escaped = 0;
            if (p < end && (*p == '[' || *p == '{')) {
                const uchar *q = skip_nested(s, p, end, 2, &nelem);
                if (!q) return OW_JSCAN_INVALID;
                ow_jmember_t *v = &s->m[i]; /* after skip_nested: s->m may have moved */
                v->type = *p == '[' ? OW_JV_ARRAY : OW_JV_OBJECT;
                v->pos = (uint32_t)(p - b);
                v->len = (uint32_t)(q - p);
                v->nelem = nelem;
                p = q;
            } else if (!(p = scan_scalar(s, p, end, &s->m[i]))) {
                return OW_JSCAN_INVALID;
            }
            p = skip_ws(p, end);
            if (p < end && *p == ',') {
                p = skip_ws(p + 1, end);
                continue;
            }
            if (p < end && *p == '}') {
                p++;
                break;
            }
            return bad(s, p, "',' or '}' expected"), OW_JSCAN_INVALID;
        }
    }
    if (skip_ws(p, end) != end) return bad(s, p, "end of input expected"), OW_JSCAN_INVALID;
    if (s->n > TAB_KEYS && dup_sorted(s, 0) < 0) return OW_JSCAN_INVALID;
    return OW_JSCAN_OK;
}

void ow_jscan_free(ow_jscan_t *s)
{
    if (s->m != s->inl) free(s->m);
    free(s->arena);
    s->m = s->inl;
    s->n = 0;
    s->arena = NULL;
}

/* Keys never hold a NUL (the scan refuses \u0000), so a NUL in name ends
 * the comparison before it runs past either. */
static inline int key_is(const ow_jmember_t *m, const char *name)
{
    uint32_t i;
    for (i = 0; i < m->klen; i++)
        if (m->key[i] != name[i]) return 0;
    return name[i] == '\0';
}

const ow_jmember_t *ow_jscan_get(ow_jscan_t *s, const char *name)
{
    size_t n = s->n, i = s->hint;

    for (size_t k = 0; k < n; k++, i++) {
        if (i >= n) i = 0;
        if (key_is(&s->m[i], name)) {
            s->hint = i + 1;
            return &s->m[i];
        }
    }
    return NULL;
}

long ow_jscan_string(const ow_jscan_t *s, const ow_jmember_t *v, char *buf, size_t cap)
{
    const uchar *p = (const uchar *)s->body + v->pos;

    if (!v->escaped) {
        if (v->len >= cap) return -1;
        memcpy(buf, p, v->len);
        buf[v->len] = '\0';
        return (long)v->len;
    }
    return unescape(p, p + v->len, buf, cap);
}

int ow_jscan_elem(ow_jscan_t *s, const ow_jmember_t *arr, size_t *pos, ow_jmember_t *e)
{
    const uchar *b = (const uchar *)s->body, *end = b + arr->pos + arr->len - 1; /* at ']' */
    const uchar *p;

    if (*pos == 0) {
        p = skip_ws(b + arr->pos + 1, end);
    } else {
        p = skip_ws(b + *pos, end);
        if (p < end && *p == ',') p = skip_ws(p + 1, end);
    }
    if (p >= end) return 0;
    switch (*p) {
    case '"':
        e->type = OW_JV_STRING;
        break;
    case 't':
        e->type = OW_JV_TRUE;
        break;
    case 'f':
        e->type = OW_JV_FALSE;
        break;
    case 'n':
        e->type = OW_JV_NULL;
        break;
    case '[':
        e->type = OW_JV_ARRAY;
        break;
    case '{':
        e->type = OW_JV_OBJECT;
        break;
    default: /* a number: checked by the scan already */
        if (!(p = scan_num(s, p, end, e))) return 0;
        *pos = (size_t)(p - b);
        return 1;
    }
    *pos = (size_t)(end - b); /* the walk stops at a non-number */
    return 1;
}
