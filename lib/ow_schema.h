/* The schema engine: every setting ohmwatch reads from a file is a row of a
 * key table (path, type, range, default, meaning, where it goes in a struct).
 * The engine walks a table to read and check a JSON object, to fill in the
 * defaults, to change a value at run time, and to print the Markdown table
 * of docs/config.md, so that the loader, runtime SET and the documentation
 * are one set of rows. The tables live beside their owners (PostgreSQL's
 * guc.c and guc_tables.c): the site's and alarmd's in lib/ow_config.c, each
 * service's in its own folder (services/historian/historian_keys.c ...).
 * Errors are "FILE:LINE:COL: key.path: reason" (ow_jpos_error). */
#ifndef OW_SCHEMA_H
#define OW_SCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

typedef struct ow_jpos ow_jpos_t;

typedef enum {
    OW_KEY_INT,    /* int */
    OW_KEY_DOUBLE, /* double */
    OW_KEY_U64,    /* uint64_t, >= 0 */
    OW_KEY_BOOL,   /* int, 0 or 1 */
    OW_KEY_STRING, /* char[size] */
    OW_KEY_ENUM,   /* char[size], one of choices */
    OW_KEY_DATE,   /* char[size], "YYYY-MM-DD" that is a real day */
    OW_KEY_CUSTOM, /* only the row's parse and fill hooks know the value */
    OW_KEY_NTYPES
} ow_key_type_t;

/* Row flags; bits from OW_KEY_OWNER up belong to the table's owner. */
#define OW_KEY_REQUIRED 0x01  /* no default: the file must give it */
#define OW_KEY_ID       0x02  /* string: 1..31 of [A-Za-z0-9_.-] */
#define OW_KEY_ENDPOINT 0x04  /* string: a ZMQ endpoint */
#define OW_KEY_HOST     0x08  /* string: host name, IPv4 or [IPv6] address */
#define OW_KEY_PATH     0x10  /* string: a path, resolved against the file's directory */
#define OW_KEY_NONEMPTY 0x20  /* string: "" is refused */
#define OW_KEY_SECRET   0x40  /* string: "file:PATH" or "env:NAME" is replaced by what it names */
#define OW_KEY_MIN_OPEN 0x80  /* number: min itself is out of range */
#define OW_KEY_ENV_WINS 0x100 /* the environment's .env overrides the file */
#define OW_KEY_OWNER    0x10000

typedef struct ow_key ow_key_t;

/* What a reader is reading: the file (for messages and relative paths),
 * positions of its values, where errors go, and the owner's context (the
 * site, for a service section's hooks). */
typedef struct {
    const char *file;
    const char *dir; /* relative paths resolve against it; NULL: the file's own */
    const ow_jpos_t *pos;
    char *err;
    size_t errlen;
    const void *user;
} ow_schema_ctx_t;

struct ow_key {
    const char *key; /* path below the table's object, '.'-separated for nested objects */
    ow_key_type_t type;
    size_t off, size; /* where the value goes in the target struct */
    double min, max;  /* numbers: inclusive range (see OW_KEY_MIN_OPEN) */
    double def;       /* numbers and booleans: the built-in default */
    const char *sdef; /* strings and enums: the built-in default */
    int flags;
    const char *const *choices; /* OW_KEY_ENUM: NULL-terminated */
    const char *env;            /* an environment variable that supplies the default */
    const char *doc;
    /* How the row documents itself where the plain rendering says too little. */
    const char *type_doc, *range_doc, *ddoc;
    const char *def_suffix; /* after the default number: " x capacity_ah" */
    /* A default that follows from other keys: with base holding what an
     * earlier pass read. Kept inside [min, max]. */
    double (*derive)(const ow_key_t *k, const void *base);
    const char *(*sderive)(const ow_key_t *k, const void *base);
    /* Hooks for the odd keys (an allow-list, an array of users): parse
     * replaces the type's reading of v; check runs after a value from the
     * file is stored (a listen address parsed, a name looked up); fill sets
     * a custom key's default. Each returns 0, or -1 via ow_schema_fail. */
    int (*parse)(ow_schema_ctx_t *c, const ow_key_t *k, json_t *v, const char *path, void *base);
    int (*check)(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base);
    int (*fill)(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base);
};

/* A row's target: AT(struct type, member). */
#define OW_AT(T, m) .off = offsetof(T, m), .size = sizeof(((T *)0)->m)

/* A table: its rows, and what the section as a whole needs. */
typedef struct {
    const char *path; /* where it is in the file: "services.historian" */
    const ow_key_t *keys;
    size_t nkeys;
    size_t size; /* of the struct the rows point into */
    /* After every key: rules across keys and derived fields; 0 or -1. */
    int (*finish)(ow_schema_ctx_t *c, const json_t *obj, void *base);
    const char *doc;  /* the paragraph before its table in docs/config.md */
    const char *more; /* Markdown after its table (sub-tables print themselves via subdoc) */
    void (*subdoc)(FILE *out);
} ow_schema_section_t;

/* The error at path, "FILE:LINE:COL: PATH: reason"; -1. */
int ow_schema_fail(ow_schema_ctx_t *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* a.b (b alone when a is ""); cut short on overflow (it only names things). */
void ow_schema_join(char *out, size_t len, const char *a, const char *b);
/* The value at a '.'-separated key path below obj, or NULL. */
json_t *ow_schema_get_json(json_t *obj, const char *path);
const ow_key_t *ow_schema_find(const ow_key_t *keys, size_t n, const char *key);

/* Every key of obj (at JSON path jp, table path sp below the table's root)
 * is a row or a group of rows (a nested object); else "unknown key", with
 * "did you mean" the nearest row when one is close. skip: a key the caller
 * reads itself (NULL none). */
int ow_schema_check_keys(ow_schema_ctx_t *c, json_t *obj, const ow_key_t *keys, size_t n,
                         const char *sp, const char *jp, const char *skip);
/* Read the JSON value v of row k (at path jp) into base. */
int ow_schema_apply(ow_schema_ctx_t *c, const ow_key_t *k, json_t *v, const char *jp, void *base);
/* Row k's default into base (derived from base when the row derives it). */
int ow_schema_default(ow_schema_ctx_t *c, const ow_key_t *k, const char *jp, void *base);
/* The whole object: unknown keys, then every row from obj or its default;
 * obj NULL: all defaults. jp is obj's path. */
int ow_schema_load(ow_schema_ctx_t *c, const ow_key_t *keys, size_t n, json_t *obj, const char *jp,
                   void *base);
/* A section: its object obj (found at sec->path by the caller; NULL: all
 * defaults) read into out (sec->size bytes, zeroed first), then finish. */
int ow_schema_load_section(ow_schema_ctx_t *c, const ow_schema_section_t *sec, json_t *obj,
                           void *out);

/* The range of a number row: 0, or -1 with "must be between A and B" in why. */
int ow_schema_range_check(const ow_key_t *k, double x, char *why, size_t len);
/* Runtime settings: the number rows (int, double) and the enums, an enum
 * by the index of its choice (0 the first), by key. set checks the type
 * and range and writes; an owner that allows only some keys, or has rules
 * across keys, filters first and sets a copy. 0, or -1 with "KEY: reason"
 * in err; get/range -1: no such row. */
int ow_schema_set(const ow_key_t *keys, size_t n, void *base, const char *key, double value,
                  char *err, size_t errlen);
int ow_schema_get(const ow_key_t *keys, size_t n, const void *base, const char *key, double *value);
int ow_schema_range(const ow_key_t *keys, size_t n, const char *key, double *min, double *max);
const ow_key_t *ow_schema_setting(const ow_key_t *keys, size_t n, const char *key);

/* "file:PATH" (its first line; PATH relative to the file's directory) or
 * "env:NAME" in raw is replaced by what it names; anything else is the
 * value itself. Messages name the key and the reference, never the value. */
int ow_schema_secret(ow_schema_ctx_t *c, const char *path, char *raw, size_t rawlen);
/* rel resolved against dir (unchanged if absolute or dir is NULL): buf, or
 * NULL if it does not fit. */
const char *ow_schema_resolve(const char *dir, const char *rel, char *buf, size_t len);

/* The one reader of whole files (site files, scenarios, maps): the bytes,
 * NUL-terminated, in a malloc'd buffer; NULL with the reason in why. */
char *ow_file_read(const char *path, size_t max, size_t *len, char *why, size_t whylen);

/* Numbers in messages and docs: integers without exponent, others as %g. */
const char *ow_schema_num(double v, char *buf, size_t len);
/* The Markdown table of rows, each key shown as prefix + key. */
void ow_schema_doc_table(FILE *out, const ow_key_t *keys, size_t n, const char *prefix);
/* "## path", the section's paragraph, its table and what follows. */
void ow_schema_doc_section(FILE *out, const ow_schema_section_t *sec);

#endif
