/* The reference decoder (proto_ref.h): the jansson tree walk that
 * ow_decode's scanner replaced, kept so that proto_test, proto_fuzz and
 * bench/decode_rate.c can hold the scanner to exactly its behaviour and
 * speed. Test-only: it is the library owproto_ref, not part of owproto, and
 * walks the same field tables (proto_int.h). */
#include "proto_ref.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#include "proto_int.h"

/* A JSON integer, or a real with no fractional part (some encoders write 1.0). */
static int json_intval(const json_t *j, double *out)
{
    if (json_is_integer(j)) {
        *out = (double)json_integer_value(j);
        return 0;
    }
    if (json_is_real(j) && floor(json_real_value(j)) == json_real_value(j)) {
        *out = json_real_value(j);
        return 0;
    }
    return -1;
}

static ow_proto_err_t field_read_ref(const field_t *f, json_t *obj, void *base, char *err,
                                     size_t errlen)
{
    json_t *j = json_object_get(obj, f->name);
    char *p = (char *)base + f->off;
    double v = 0;

    if (!j && f->optional) return OW_PERR_OK;
    if (!j) return ow_proto_fail(OW_PERR_MISSING, err, errlen, "field '%s' is missing", f->name);
    switch (f->type) {
    case FT_INT:
    case FT_I64:
    case FT_U32:
    case FT_U64:
        if (json_intval(j, &v) < 0)
            return ow_proto_fail(OW_PERR_TYPE, err, errlen, "field '%s': expected an integer",
                                 f->name);
        if (v < f->min || v > f->max)
            return ow_proto_fail(OW_PERR_RANGE, err, errlen,
                                 "field '%s': %.17g out of range [%g, %g]", f->name, v, f->min,
                                 f->max);
        if (f->type == FT_INT)
            *(int *)p = (int)v;
        else if (f->type == FT_I64)
            *(int64_t *)p = json_is_integer(j) ? (int64_t)json_integer_value(j) : (int64_t)v;
        else if (f->type == FT_U32)
            *(uint32_t *)p = (uint32_t)v;
        else
            *(uint64_t *)p = json_is_integer(j) ? (uint64_t)json_integer_value(j) : (uint64_t)v;
        return OW_PERR_OK;
    case FT_DBLN:
        if (json_is_null(j)) {
            *(double *)p = NAN;
            return OW_PERR_OK;
        }
        /* fall through */
    case FT_DBL:
        if (!json_is_number(j))
            return ow_proto_fail(OW_PERR_TYPE, err, errlen, "field '%s': expected a number%s",
                                 f->name, f->type == FT_DBLN ? " or null" : "");
        v = json_number_value(j);
        if (!(v >= f->min && v <= f->max))
            return ow_proto_fail(OW_PERR_RANGE, err, errlen, "field '%s': %g out of range [%g, %g]",
                                 f->name, v, f->min, f->max);
        *(double *)p = v;
        return OW_PERR_OK;
    case FT_BOOL:
        if (!json_is_boolean(j))
            return ow_proto_fail(OW_PERR_TYPE, err, errlen, "field '%s': expected true or false",
                                 f->name);
        *(int *)p = json_is_true(j);
        return OW_PERR_OK;
    case FT_ID:
    case FT_IDE:
    case FT_TEXT: {
        if (!json_is_string(j))
            return ow_proto_fail(OW_PERR_TYPE, err, errlen, "field '%s': expected a string",
                                 f->name);
        const char *s = json_string_value(j);
        size_t n = json_string_length(j);
        if (n >= f->size || strlen(s) != n)
            return ow_proto_fail(OW_PERR_RANGE, err, errlen,
                                 "field '%s': longer than %zu bytes or has NUL", f->name,
                                 f->size - 1);
        if (f->type != FT_TEXT && !ow_proto_id_ok(s, f->type == FT_IDE))
            return ow_proto_fail(OW_PERR_RANGE, err, errlen,
                                 "field '%s': must be 1-31 characters of [A-Za-z0-9_.-]", f->name);
        if (!ow_proto_choice_ok(f->choices, s))
            return ow_proto_fail(OW_PERR_RANGE, err, errlen,
                                 "field '%s': '%s' is not an allowed value", f->name, s);
        memcpy(p, s, n + 1);
        return OW_PERR_OK;
    }
    case FT_U16ARR: {
        int *count = (int *)((char *)base + f->count_off);
        size_t n;
        if (!json_is_array(j))
            return ow_proto_fail(OW_PERR_TYPE, err, errlen, "field '%s': expected an array",
                                 f->name);
        n = json_array_size(j);
        if (n > f->size)
            return ow_proto_fail(OW_PERR_RANGE, err, errlen,
                                 "field '%s': %zu elements, at most %zu", f->name, n, f->size);
        /* Arrays sharing a count (string_flags, string_flags2) must agree. */
        if (*count && (size_t)*count != n)
            return ow_proto_fail(OW_PERR_RANGE, err, errlen,
                                 "field '%s': %zu elements, expected %d", f->name, n, *count);
        for (size_t i = 0; i < n; i++) {
            if (json_intval(json_array_get(j, i), &v) < 0)
                return ow_proto_fail(OW_PERR_TYPE, err, errlen,
                                     "field '%s'[%zu]: expected an integer", f->name, i);
            if (v < f->min || v > f->max)
                return ow_proto_fail(OW_PERR_RANGE, err, errlen,
                                     "field '%s'[%zu]: %g out of range [%g, %g]", f->name, i, v,
                                     f->min, f->max);
            ((uint16_t *)p)[i] = (uint16_t)v;
        }
        *count = (int)n;
        return OW_PERR_OK;
    }
    }
    return ow_proto_fail(OW_PERR_TYPE, err, errlen, "field '%s': unsupported type", f->name);
}

static ow_proto_err_t decode_ref(const char *topic, size_t topic_len, const char *body,
                                 size_t body_len, ow_msg_t *m, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root, *j;
    ow_proto_err_t e = OW_PERR_OK;
    const kind_t *k;
    double v;
    int kind;

    if (body_len == 0 || body_len > OW_BODY_MAX)
        return ow_proto_fail(OW_PERR_SIZE, err, errlen, "body of %zu bytes (1..%d allowed)",
                             body_len, OW_BODY_MAX);
    root = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ow_proto_fail(OW_PERR_JSON, err, errlen, "invalid JSON at column %d: %s",
                             jerr.column, jerr.text);
    if (!json_is_object(root)) {
        e = ow_proto_fail(OW_PERR_JSON, err, errlen, "body is not a JSON object");
        goto out;
    }
    /* Version and kind first: nothing else is read until we know the layout. */
    j = json_object_get(root, "v");
    if (!j || json_intval(j, &v) < 0 || v != OW_PROTO_VERSION) {
        e = ow_proto_fail(OW_PERR_VERSION, err, errlen, "field 'v': expected version %d",
                          OW_PROTO_VERSION);
        goto out;
    }
    j = json_object_get(root, "kind");
    if (!j || !json_is_string(j) || (kind = ow_kind_from_name(json_string_value(j))) < 0) {
        e = ow_proto_fail(OW_PERR_KIND, err, errlen, "field 'kind': missing or unknown");
        goto out;
    }
    ow_msg_init(m, (ow_kind_t)kind);
    k = &ow_proto_kinds[kind];
    for (size_t i = 0; i < ow_proto_nhdr_fields && !e; i++)
        e = field_read_ref(&ow_proto_hdr_fields[i], root, m, err, errlen);
    if (!e) {
        const field_t gwf = {
            "gw", k->gw_optional ? FT_IDE : FT_ID, M(h.gw), SZ(h.gw), 0, 0, 0, NULL, "", "", 0};
        e = field_read_ref(&gwf, root, m, err, errlen);
    }
    for (size_t i = 0; i < k->nfields && !e; i++)
        e = field_read_ref(&k->fields[i], root, m, err, errlen);
    if (!e && topic) e = ow_proto_topic_check(m, topic, topic_len, err, errlen);
out:
    json_decref(root);
    return e;
}

ow_proto_err_t ow_decode_ref(const char *topic, size_t topic_len, const char *body, size_t body_len,
                             ow_msg_t *m, char *err, size_t errlen, ow_proto_stats_t *stats)
{
    if (err && errlen) err[0] = '\0';
    return ow_proto_counted(decode_ref(topic, topic_len, body, body_len, m, err, errlen), stats);
}
