/* Inside the codec: the field and kind tables of proto.c and the checks
 * that its strict decoder and the test-only reference decoder (proto_ref.c,
 * library owproto_ref) share. Not for services: use ow_proto.h. */
#ifndef OW_PROTO_INT_H
#define OW_PROTO_INT_H

#include <stddef.h>

#include "ow_proto.h"

typedef enum {
    FT_INT,    /* int, JSON integer */
    FT_I64,    /* int64_t, JSON integer */
    FT_U32,    /* uint32_t, JSON integer */
    FT_U64,    /* uint64_t, JSON integer (>= 0, < 2^63) */
    FT_DBL,    /* double, JSON number */
    FT_DBLN,   /* double, JSON number or null (NAN) */
    FT_ID,     /* char[], 1..31 of [A-Za-z0-9_.-] */
    FT_IDE,    /* char[], like FT_ID but may be empty */
    FT_TEXT,   /* char[], any UTF-8 text that fits */
    FT_BOOL,   /* int, JSON true/false */
    FT_U16ARR, /* uint16_t[], JSON array of integers; count in an int */
} ftype_t;

typedef struct {
    const char *name;
    ftype_t type;
    size_t off;                 /* offset in ow_msg_t */
    size_t size;                /* char[] size, or max array elements */
    size_t count_off;           /* FT_U16ARR: offset of the int holding the count */
    double min, max;            /* numeric range (inclusive); for arrays, of elements */
    const char *const *choices; /* FT_ID/FT_TEXT: allowed values, NULL = any */
    const char *unit;
    const char *doc;
    /* May be absent: the value ow_msg_init gives stays. Only for fields
     * added after a kind was in use, so that older senders (a script, a
     * front-end not yet updated) still speak the protocol. */
    int optional;
} field_t;

typedef struct {
    const char *name;  /* "kind" value in the body */
    const char *topic; /* first topic segment */
    const char *topic_doc;
    const field_t *fields;
    size_t nfields;
    int gw_optional; /* gateway may be "" (site-wide) */
    const char *doc;
} kind_t;

#define M(f)    offsetof(ow_msg_t, f)
#define NF(a)   (sizeof(a) / sizeof((a)[0]))
#define SZ(f)   sizeof(((ow_msg_t *)0)->f)
#define ALEN(f) (sizeof(((ow_msg_t *)0)->f) / sizeof(((ow_msg_t *)0)->f[0]))

/* The tables (proto.c). */
extern const field_t ow_proto_hdr_fields[];
extern const size_t ow_proto_nhdr_fields;
extern const kind_t ow_proto_kinds[OW_MSG_KINDS];

/* The error e with a message in err; returns e. */
ow_proto_err_t ow_proto_fail(ow_proto_err_t e, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The topic frame must be the one the body implies. */
ow_proto_err_t ow_proto_topic_check(const ow_msg_t *m, const char *topic, size_t topic_len,
                                    char *err, size_t errlen);
/* e counted in stats (may be NULL); returns e. */
ow_proto_err_t ow_proto_counted(ow_proto_err_t e, ow_proto_stats_t *stats);
/* An id of [A-Za-z0-9_.-], 1..31 bytes (or empty when allowed). */
int ow_proto_id_ok(const char *s, int allow_empty);
/* s is one of choices (NULL-terminated). */
int ow_proto_choice_ok(const char *const *choices, const char *s);

#endif
