/* A strict single-pass JSON scanner for wire bodies: one pass checks the whole
 * body against RFC 8259 (as strictly as jansson's json_loadb with
 * JSON_REJECT_DUPLICATES) and records each member of the top-level object, its
 * key decoded and its value as a typed token, so that the codec can look the
 * fields up without building a tree. Nested values are checked and skipped.
 *
 * Why a hand-written scanner next to jansson (which the services still use
 * for config and state files): decoding is the CPU cost that bounds alarmd
 * and the historian at 50k-100k messages/s, and building then freeing a
 * jansson tree per message costs about nine times as much. Measured on this
 * tree's 2-core build host (2026-12-03, `build/bench/ow-bench-decode`, the
 * default 500 cycles of one gateway's 530 messages, mean body 235 bytes,
 * best of 5): ow_decode 1.42 M messages/s (702 ns each), the jansson
 * reference 0.15 M/s (6567 ns), 9.35x. And it rejects a duplicate key of the
 * top-level object in the same pass (a publisher's second "v" or "kind" must
 * not override the first), which jansson only does with
 * JSON_REJECT_DUPLICATES after building the tree. proto_test and proto_fuzz
 * hold it to the jansson reference (proto_ref.h) on every input. */
#ifndef OW_JSON_SCAN_H
#define OW_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

#define OW_JSCAN_MAX_DEPTH 2048 /* jansson's limit: a value nested deeper is refused */
#define OW_JSCAN_INLINE    64   /* members kept without allocating */

typedef enum {
    OW_JV_STRING,
    OW_JV_INT, /* an integer token (no '.', 'e' or 'E'), within int64_t */
    OW_JV_REAL,
    OW_JV_TRUE,
    OW_JV_FALSE,
    OW_JV_NULL,
    OW_JV_ARRAY,
    OW_JV_OBJECT,
} ow_jtype_t;

/* One member of the top-level object (or an element of an array in it). */
typedef struct {
    const char *key; /* decoded key, not NUL-terminated */
    uint32_t klen;
    uint32_t hash;   /* of the decoded key, for duplicate detection */
    uint32_t pos;    /* strings: offset after the quote; arrays, objects: of '[', '{' */
    uint32_t len;    /* bytes from pos: strings without the quotes, containers whole */
    uint32_t nelem;  /* arrays: number of elements */
    uint8_t type;    /* ow_jtype_t */
    uint8_t escaped; /* strings: contains backslash escapes */
    union {
        int64_t i; /* OW_JV_INT */
        double d;  /* OW_JV_REAL, as strtod gives it */
    } num;
} ow_jmember_t;

typedef struct {
    const char *body;
    size_t body_len;
    ow_jmember_t *m; /* members of the top-level object (inl or the heap) */
    size_t n, cap;
    char *arena; /* decoded escaped keys, allocated on first need */
    size_t arena_len;
    size_t hint;      /* where the next lookup starts: fields usually come in order */
    size_t err_pos;   /* byte offset of a syntax error */
    const char *err;  /* what is wrong there */
    uint8_t tab[128]; /* duplicate check of the first 64 top-level keys: index + 1 */
    ow_jmember_t inl[OW_JSCAN_INLINE];
} ow_jscan_t;

typedef enum {
    OW_JSCAN_OK = 0,
    OW_JSCAN_INVALID,    /* not JSON (reason in err at err_pos) */
    OW_JSCAN_NOT_OBJECT, /* valid JSON, but the top level is an array */
} ow_jscan_res_t;

/* Scan body; on OW_JSCAN_OK the members are in js->m[0..n). Always call
 * ow_jscan_free afterwards. */
ow_jscan_res_t ow_jscan_object(ow_jscan_t *js, const char *body, size_t len);
void ow_jscan_free(ow_jscan_t *js);

/* The member named name (NUL-terminated), or NULL. */
const ow_jmember_t *ow_jscan_get(ow_jscan_t *js, const char *name);

/* Decode a string member into buf with its NUL. Returns the length, or -1 if
 * it needs cap bytes or more. */
long ow_jscan_string(const ow_jscan_t *js, const ow_jmember_t *v, char *buf, size_t cap);

/* Walk the elements of an array member: *pos starts at 0; each call fills e
 * (type, and num for numbers) and returns 1, or 0 after the last element.
 * Only numbers are consumed: after an element of another type the walk
 * cannot go on (the codec stops at the first non-number anyway). */
int ow_jscan_elem(ow_jscan_t *js, const ow_jmember_t *arr, size_t *pos, ow_jmember_t *e);

#endif
