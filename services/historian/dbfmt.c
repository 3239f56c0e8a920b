/* See dbfmt.h. The civil date and the powers of ten come from proto's
 * ow_num.h, shared with the codec and the config loader. */
#include "dbfmt.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ow_num.h"

int64_t ow_dbfmt_day(int64_t us)
{
    return ow_num_floor_div(us, OW_DBFMT_DAY_US);
}

/* Copy a C string of at most srclen bytes as valid UTF-8 (an invalid byte
 * becomes '?'): PostgreSQL rejects the whole statement over one bad byte, and
 * a field cut by a fixed-size buffer can end inside a character. */
void ow_dbfmt_utf8(char *dst, size_t dstlen, const char *src, size_t srclen)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t len = strnlen(src, srclen), i = 0, o = 0;
    while (i < len && o + 1 < dstlen) {
        unsigned c = s[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        int ok = n > 0 && i + n <= len && o + n < dstlen;
        for (size_t k = 1; ok && k < n; k++)
            ok = (s[i + k] & 0xc0) == 0x80;
        if (ok && n == 2) ok = c >= 0xc2;
        if (ok && n == 3) {
            unsigned cp = (c & 0x0f) << 12 | (s[i + 1] & 0x3fu) << 6 | (s[i + 2] & 0x3fu);
            ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
        }
        if (ok && n == 4) {
            unsigned cp = (c & 0x07) << 18 | (s[i + 1] & 0x3fu) << 12;
            ok = cp >= 0x10000 && cp <= 0x10ffff;
        }
        if (!ok) {
            if (n > 1 && i + n <= len && o + n >= dstlen) break; /* no room: cut cleanly */
            dst[o++] = '?';
            i++;
            continue;
        }
        memcpy(dst + o, s + i, n);
        o += n;
        i += n;
    }
    dst[o] = '\0';
}

/* Escape for COPY text format: backslash, tab, newline and carriage return. */
char *ow_dbfmt_text(char *p, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\':
            *p++ = '\\', *p++ = '\\';
            break;
        case '\t':
            *p++ = '\\', *p++ = 't';
            break;
        case '\n':
            *p++ = '\\', *p++ = 'n';
            break;
        case '\r':
            *p++ = '\\', *p++ = 'r';
            break;
        default:
            *p++ = *s;
        }
    }
    return p;
}

char *ow_dbfmt_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

char *ow_dbfmt_i64(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return ow_dbfmt_u64(p, (uint64_t)0 - (uint64_t)v);
    }
    return ow_dbfmt_u64(p, (uint64_t)v);
}

static char *put2(char *p, unsigned v)
{
    *p++ = (char)('0' + v / 10);
    *p++ = (char)('0' + v % 10);
    return p;
}
char *ow_dbfmt_date(char *p, int64_t day)
{
    int y;
    unsigned m, d;
    ow_num_civil_from_days(day, &y, &m, &d);
    p = put2(p, (unsigned)y / 100);
    p = put2(p, (unsigned)y % 100);
    *p++ = '-';
    p = put2(p, m);
    *p++ = '-';
    return put2(p, d);
}

/* ISO 8601 UTC with microseconds, e.g. "2024-05-01 12:00:00.250000+00". */
char *ow_dbfmt_ts(char *p, int64_t us)
{
    int64_t day = ow_dbfmt_day(us);
    int64_t rem = us - day * OW_DBFMT_DAY_US;
    unsigned s = (unsigned)(rem / 1000000), frac = (unsigned)(rem % 1000000);
    p = ow_dbfmt_date(p, day);
    *p++ = ' ';
    p = put2(p, s / 3600);
    *p++ = ':';
    p = put2(p, s / 60 % 60);
    *p++ = ':';
    p = put2(p, s % 60);
    *p++ = '.';
    for (unsigned div = 100000; div; div /= 10)
        *p++ = (char)('0' + frac / div % 10);
    memcpy(p, "+00", 3);
    return p + 3;
}

/* What a real (float4) column stores for x: the nearest float, 0 for a
 * subnormal (PostgreSQL may call it out of range). 0 returned for NULL: NAN,
 * infinities and values beyond the float range. The COPY text and the
 * rollups computed here both go through this. */
int ow_dbfmt_real_of(double x, float *out)
{
    if (!(fabs(x) <= FLT_MAX)) return 0;
    float f = (float)x;
    *out = fabsf(f) < FLT_MIN ? 0.0f : f;
    return 1;
}

/* A real column's value, written with the 9 significant digits that make
 * PostgreSQL read back exactly that float, or \N. */
char *ow_dbfmt_real(char *p, double x)
{
    float f;
    if (!ow_dbfmt_real_of(x, &f)) {
        memcpy(p, "\\N", 2);
        return p + 2;
    }
    if (f == 0) {
        *p++ = '0';
        return p;
    }
    double v = f;
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    int e = (int)floor(log10(v));
    uint64_t m = (uint64_t)llround(v * ow_num_pow10(8 - e));
    if (m >= 1000000000u) {
        e++;
        m = (uint64_t)llround(v * ow_num_pow10(8 - e));
    } else if (m < 100000000u) {
        e--;
        m = (uint64_t)llround(v * ow_num_pow10(8 - e));
    }
    char dig[9];
    for (int i = 8; i >= 0; i--) {
        dig[i] = (char)('0' + m % 10);
        m /= 10;
    }
    int nd = 9;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    if (e >= 0 && e <= 8) { /* ddd.ddd */
        for (int i = 0; i <= e; i++)
            *p++ = dig[i];
        if (nd > e + 1) {
            *p++ = '.';
            for (int i = e + 1; i < nd; i++)
                *p++ = dig[i];
        }
    } else if (e < 0 && e >= -5) { /* 0.000ddd */
        *p++ = '0';
        *p++ = '.';
        for (int i = -1; i > e; i--)
            *p++ = '0';
        for (int i = 0; i < nd; i++)
            *p++ = dig[i];
    } else { /* d.ddde-NN */
        *p++ = dig[0];
        if (nd > 1) {
            *p++ = '.';
            for (int i = 1; i < nd; i++)
                *p++ = dig[i];
        }
        *p++ = 'e';
        p = ow_dbfmt_i64(p, e);
    }
    return p;
}

/* A double for a text parameter: "%.17g" round-trips; a locale's decimal
 * comma is turned back into a point. NAN is "NaN" for NOT NULL columns. */
const char *ow_dbfmt_param_double(char *buf, size_t len, double x)
{
    if (isnan(x)) return "NaN";
    if (isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
    snprintf(buf, len, "%.17g", x);
    char *c = strchr(buf, ',');
    if (c) *c = '.';
    return buf;
}

/* The same for a nullable column: NAN is NULL. */
const char *ow_dbfmt_param_double_null(char *buf, size_t len, double x)
{
    return isnan(x) ? NULL : ow_dbfmt_param_double(buf, len, x);
}

const char *ow_dbfmt_param_ts(char *buf, int64_t us)
{
    *ow_dbfmt_ts(buf, us) = '\0';
    return buf;
}

const char *ow_dbfmt_param_i64(char *buf, int64_t v)
{
    *ow_dbfmt_i64(buf, v) = '\0';
    return buf;
}

/* A double column (exact: 17 digits), \N for NAN. */
char *ow_dbfmt_double(char *p, double x)
{
    char tmp[40];
    if (isnan(x)) {
        memcpy(p, "\\N", 2);
        return p + 2;
    }
    const char *s = ow_dbfmt_param_double(tmp, sizeof tmp, x);
    size_t len = strlen(s);
    memcpy(p, s, len);
    return p + len;
}
