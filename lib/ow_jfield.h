/* Strict readers of a state file's JSON fields (alarmd's engine and
 * diagnostics state): each field is required, of one type and in range, and
 * the first problem becomes one message "PREFIX PATH.KEY: reason". One family
 * for every state reader, so that the same mistake reads the same. (Not the
 * config loader's: that one reports file:line:col through its schema.) */
#ifndef OW_JFIELD_H
#define OW_JFIELD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *err;
    size_t errlen;
    const char *prefix; /* before the path, e.g. "engine state: gateway wm1: "; may be NULL */
    char where[48];     /* the path of the object being read, e.g. "strings[0].float" */
} ow_jfield_t;

/* The message for key (may be "") under r->where; returns -1. */
int ow_jfield_fail(ow_jfield_t *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* o.key: a number, or null for NAN. */
int ow_jfield_num(ow_jfield_t *r, const json_t *o, const char *key, double *out);
/* The same for a value already at hand (an array element), named key. */
int ow_jfield_numv(ow_jfield_t *r, const json_t *v, const char *key, double *out);
/* o.key: an integer in lo..hi. */
int ow_jfield_int(ow_jfield_t *r, const json_t *o, const char *key, int64_t lo, int64_t hi,
                  int64_t *out);
/* o.key: true or false. */
int ow_jfield_bool(ow_jfield_t *r, const json_t *o, const char *key, int *out);
/* A number or null as the readers take it back (NAN and infinities are null). */
json_t *ow_jfield_jnum(double v);

#endif
