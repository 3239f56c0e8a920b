/* See ow_jfield.h. */
#include "ow_jfield.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

int ow_jfield_fail(ow_jfield_t *r, const char *key, const char *fmt, ...)
{
    if (r->err && r->errlen) {
        char why[160], path[80];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        snprintf(path, sizeof path, "%s%s%s", r->where, *r->where && *key ? "." : "", key);
        snprintf(r->err, r->errlen, "%s%s%s%s", r->prefix ? r->prefix : "", path, *path ? ": " : "",
                 why);
    }
    return -1;
}

int ow_jfield_numv(ow_jfield_t *r, const json_t *v, const char *key, double *out)
{
    if (json_is_null(v)) {
        *out = NAN;
        return 0;
    }
    if (!json_is_number(v)) return ow_jfield_fail(r, key, "expected a number or null");
    *out = json_number_value(v);
    return 0;
}

int ow_jfield_num(ow_jfield_t *r, const json_t *o, const char *key, double *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v) return ow_jfield_fail(r, key, "missing");
    return ow_jfield_numv(r, v, key, out);
}

int ow_jfield_int(ow_jfield_t *r, const json_t *o, const char *key, int64_t lo, int64_t hi,
                  int64_t *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v) return ow_jfield_fail(r, key, "missing");
    if (!json_is_integer(v)) return ow_jfield_fail(r, key, "expected an integer");
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return ow_jfield_fail(r, key, "%lld outside %lld..%lld", (long long)x, (long long)lo,
                              (long long)hi);
    *out = x;
    return 0;
}

int ow_jfield_bool(ow_jfield_t *r, const json_t *o, const char *key, int *out)
{
    const json_t *v = json_object_get(o, key);
    if (!v) return ow_jfield_fail(r, key, "missing");
    if (!json_is_boolean(v)) return ow_jfield_fail(r, key, "expected true or false");
    *out = json_is_true(v);
    return 0;
}

json_t *ow_jfield_jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}
