/* For a service's key-table test: "a new integer key is one row". A
 * section built from the service's real rows plus one integer row of the
 * test's (as a developer would add it to x_keys.c, with a field for it at
 * the end of a wider struct) must read the key from a site file, with its
 * default when absent, refuse it out of range or not an integer at its
 * position, know it only because of the row, document it in the generated
 * table and change it at run time, with no other code. Shared so that each
 * service's test states its rows, not the same checks again. Include after
 * ow_test.h; test code only. */
#ifndef OW_TEST_SCHEMA_H
#define OW_TEST_SCHEMA_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ow_schema.h"
#include "ow_test.h"

/* How the test reads section text (the JSON object of the section) with
 * sec from a site file named file: ow_site_section over a site text. */
typedef int (*ow_test_parse_fn)(const ow_schema_section_t *sec, const char *file,
                                const char *section, void *out, char *err, size_t errlen);

static inline void ow_test_new_int_row(const ow_schema_section_t *real, const ow_key_t *extra,
                                       size_t wide_size, const char *file, ow_test_parse_fn parse)
{
    enum { MAXKEYS = 64 };
    static ow_key_t keys[MAXKEYS];
    static char err[2048], text[512], want[512];
    char lo[32], hi[32], def[32];
    void *w = calloc(1, wide_size);
    const int *field = w ? (const int *)((const char *)w + extra->off) : NULL;
    CHECK(w != NULL && extra->type == OW_KEY_INT && real->nkeys + 1 <= MAXKEYS);
    if (!w || real->nkeys + 1 > MAXKEYS) {
        free(w);
        return;
    }
    memcpy(keys, real->keys, real->nkeys * sizeof keys[0]);
    keys[real->nkeys] = *extra;
    ow_schema_section_t sec = *real;
    sec.keys = keys;
    sec.nkeys = real->nkeys + 1;
    sec.size = wide_size;
    ow_schema_num(extra->min, lo, sizeof lo);
    ow_schema_num(extra->max, hi, sizeof hi);
    ow_schema_num(extra->def, def, sizeof def);

    /* Parsed, with its default when absent. */
    CHECK_MSG(parse(&sec, file, "{}", w, err, sizeof err) == 0, "%s", err);
    CHECK(*field == (int)extra->def);
    snprintf(text, sizeof text, "{\"%s\": %s}", extra->key, hi);
    CHECK_MSG(parse(&sec, file, text, w, err, sizeof err) == 0, "%s", err);
    CHECK(*field == (int)extra->max);

    /* Range-checked (and typed), at its position in the file. */
    snprintf(text, sizeof text, "{\"%s\": %.0f}", extra->key, extra->max + 1);
    CHECK(parse(&sec, file, text, w, err, sizeof err) == -1);
    snprintf(want, sizeof want, "%s:1:", file);
    CHECK_CONTAINS(err, want);
    snprintf(want, sizeof want, "%s.%s: must be between %s and %s", real->path, extra->key, lo, hi);
    CHECK_CONTAINS(err, want);
    snprintf(text, sizeof text, "{\"%s\": 1.5}", extra->key);
    CHECK(parse(&sec, file, text, w, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "expected an integer");
    /* A typo is told the row's name: the row is what makes it a key ... */
    snprintf(text, sizeof text, "{\"%.*s\": %s}", (int)strlen(extra->key) - 1, extra->key, def);
    CHECK(parse(&sec, file, text, w, err, sizeof err) == -1);
    snprintf(want, sizeof want, "unknown key (did you mean %s?)", extra->key);
    CHECK_CONTAINS(err, want);
    /* ... and without it the key is unknown. */
    snprintf(text, sizeof text, "{\"%s\": %s}", extra->key, def);
    CHECK(parse(real, file, text, w, err, sizeof err) == -1);
    snprintf(want, sizeof want, "%s.%s: unknown key", real->path, extra->key);
    CHECK_CONTAINS(err, want);

    /* Documented: a row of the generated table, with type, range and default. */
    char *doc = NULL;
    size_t doclen = 0;
    FILE *f = open_memstream(&doc, &doclen);
    CHECK(f != NULL);
    if (f) {
        ow_schema_doc_section(f, &sec);
        fclose(f);
        snprintf(want, sizeof want, "| `%s.%s` | integer | %s .. %s | %s | %s |\n", real->path,
                 extra->key, lo, hi, def, extra->doc);
        CHECK_CONTAINS(doc, want);
        free(doc);
    }

    /* Settable at run time by the same rows, within the same range. */
    double v = 0;
    CHECK(ow_schema_set(sec.keys, sec.nkeys, w, extra->key, extra->min, err, sizeof err) == 0);
    CHECK(*field == (int)extra->min);
    CHECK(ow_schema_get(sec.keys, sec.nkeys, w, extra->key, &v) == 0 && v == extra->min);
    CHECK(ow_schema_set(sec.keys, sec.nkeys, w, extra->key, extra->max + 1, err, sizeof err) == -1);
    snprintf(want, sizeof want, "%s: must be between %s and %s", extra->key, lo, hi);
    CHECK_STR(err, want);
    CHECK(*field == (int)extra->min);
    free(w);
}

#endif
