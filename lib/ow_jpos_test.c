/* ow_jpos: value positions by path. Lines and columns are 1-based; columns
 * count bytes, so a multi-byte UTF-8 character before a value moves it by
 * more than one column. */
#include <stdlib.h>
#include <string.h>

#include "ow_config.h"
#include "ow_test.h"

static void check_pos(const ow_jpos_t *p, const char *path, int line, int col)
{
    int l = -1, c = -1;
    int rc = ow_jpos_find(p, path, &l, &c);
    CHECK_MSG(rc == 0, "path '%s' not found", path);
    CHECK_MSG(l == line && c == col, "path '%s' at %d:%d, expected %d:%d", path, l, c, line, col);
}

static void check_absent(const ow_jpos_t *p, const char *path)
{
    int l, c;
    CHECK_MSG(ow_jpos_find(p, path, &l, &c) == -1, "path '%s' unexpectedly found", path);
}

static void test_nested(void)
{
    const char *t = "{\n"                                               /* 1 */
                    "  \"site\": {\"name\": \"A\"},\n"                  /* 2 */
                    "  \"gateways\": [\n"                               /* 3 */
                    "    {\n"                                           /* 4 */
                    "      \"id\": \"wm1\",\n"                          /* 5 */
                    "      \"strings\": [\n"                            /* 6 */
                    "        {\"name\": \"S1\", \"modules\": 9},\n"     /* 7 */
                    "        {\"modules\": 10}\n"                       /* 8 */
                    "      ],\n"                                        /* 9 */
                    "      \"ok\": true, \"no\": null, \"x\": -1.5e3\n" /* 10 */
                    "    },\n"                                          /* 11 */
                    "    [1, [2, 3]]\n"                                 /* 12 */
                    "  ],\n"                                            /* 13 */
                    "  \"empty\": {}, \"none\": []\n"                   /* 14 */
                    "}\n";
    ow_jpos_t *p = ow_jpos_build(t, strlen(t));
    CHECK(p != NULL);
    check_pos(p, "", 1, 1);
    check_pos(p, "site", 2, 11);
    check_pos(p, "site.name", 2, 20);
    check_pos(p, "gateways", 3, 15);
    check_pos(p, "gateways[0]", 4, 5);
    check_pos(p, "gateways[0].id", 5, 13);
    check_pos(p, "gateways[0].strings", 6, 18);
    check_pos(p, "gateways[0].strings[0]", 7, 9);
    check_pos(p, "gateways[0].strings[0].name", 7, 18);
    check_pos(p, "gateways[0].strings[0].modules", 7, 35);
    check_pos(p, "gateways[0].strings[1].modules", 8, 21);
    check_pos(p, "gateways[0].ok", 10, 13);
    check_pos(p, "gateways[0].no", 10, 25);
    check_pos(p, "gateways[0].x", 10, 36);
    check_pos(p, "gateways[1]", 12, 5);
    check_pos(p, "gateways[1][0]", 12, 6);
    check_pos(p, "gateways[1][1]", 12, 9);
    check_pos(p, "gateways[1][1][1]", 12, 13);
    check_pos(p, "empty", 14, 12);
    check_pos(p, "none", 14, 24);
    check_absent(p, "gateways[2]");
    check_absent(p, "gateways[0].strings[2]");
    check_absent(p, "site.nam");
    check_absent(p, "nothing");
    /* NULL line/col pointers are allowed when only existence matters. */
    CHECK(ow_jpos_find(p, "site", NULL, NULL) == 0);
    ow_jpos_destroy(&p);
    CHECK(p == NULL);
    ow_jpos_destroy(&p); /* twice is harmless */
}

static void test_strings(void)
{
    /* Escapes in values do not disturb positions; escaped keys are decoded,
     * so the path uses the same text jansson's json_object_get() takes. */
    const char *t = "{\"a\\\"b\": \"x\\\\y\\n\\u00e9\", \"n\\u00e9\": 1,\n"
                    " \"\\ud83d\\ude00\": [\"}]{[\", 2], \"k\": \"\xc3\xa9\xc3\xa9\", \"z\": 3,\n"
                    "\t\"tab\": \"\\t\"}";
    ow_jpos_t *p = ow_jpos_build(t, strlen(t));
    CHECK(p != NULL);
    check_pos(p, "a\"b", 1, 10);
    check_pos(p, "n\xc3\xa9", 1, 37);
    check_pos(p, "\xf0\x9f\x98\x80", 2, 18);
    check_pos(p, "\xf0\x9f\x98\x80[0]", 2, 19);
    check_pos(p, "\xf0\x9f\x98\x80[1]", 2, 27);
    check_pos(p, "k", 2, 36);
    /* "éé" is two characters but four bytes, and columns count bytes. */
    check_pos(p, "z", 2, 49);
    check_pos(p, "tab", 3, 9);
    ow_jpos_destroy(&p);
}

static void test_duplicates_and_bom(void)
{
    /* jansson rejects duplicates itself; the first occurrence is reported. */
    const char *t = "\xEF\xBB\xBF{\"a\": 1,\n\"a\": 2}";
    ow_jpos_t *p = ow_jpos_build(t, strlen(t));
    check_pos(p, "a", 1, 7); /* the BOM's three bytes count as columns */
    ow_jpos_destroy(&p);
}

static void test_malformed(void)
{
    const char *bad[] = {
        "",
        "{",
        "{\"a\"",
        "{\"a\":",
        "{\"a\": [1, 2",
        "{\"a\": \"unterminated",
        "{\"a\": \"bad escape \\q\"}",
        "{\"a\": \"\\u12\"}",
        "{\"a\": \"\\ud800\"}",
        "{\"a\" 1}",
        "{1: 2}",
        "[1 2]",
        "{\"a\": 1,}",
        "}}}}",
        "\"\\",
        "{\"a\": \"raw\nnewline\"}",
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        ow_jpos_t *p = ow_jpos_build(bad[k], strlen(bad[k]));
        /* Either NULL or what was scanned; never a crash. */
        int l, c;
        if (p) (void)ow_jpos_find(p, "a", &l, &c);
        ow_jpos_destroy(&p);
        CHECK(p == NULL);
    }
    /* Values before the damage keep their positions. */
    const char *t = "{\"a\": 1, \"b\": {\"c\": [true, ";
    ow_jpos_t *p = ow_jpos_build(t, strlen(t));
    CHECK(p != NULL);
    check_pos(p, "a", 1, 7);
    check_pos(p, "b.c[0]", 1, 22);
    check_absent(p, "b.c[1]");
    ow_jpos_destroy(&p);

    /* Length is honoured: no reading past len even without a terminator. */
    char buf[8];
    memcpy(buf, "{\"a\": 12", 8);
    p = ow_jpos_build(buf, sizeof(buf));
    check_pos(p, "a", 1, 7);
    ow_jpos_destroy(&p);

    CHECK(ow_jpos_build(NULL, 0) == NULL);
    CHECK(ow_jpos_find(NULL, "a", NULL, NULL) == -1);

    /* Deep nesting stops the scan instead of the stack. */
    size_t n = 100000;
    char *deep = malloc(n);
    memset(deep, '[', n);
    p = ow_jpos_build(deep, n);
    check_pos(p, "", 1, 1);
    ow_jpos_destroy(&p);
    free(deep);
}

static void test_many(void)
{
    /* 600 modules: enough entries to exercise sorting and the binary search. */
    size_t cap = 64 * 1024, n = 0;
    char *t = malloc(cap);
    n += (size_t)snprintf(t + n, cap - n, "{\"m\": [\n");
    for (int k = 0; k < 600; k++)
        n += (size_t)snprintf(t + n, cap - n, "%s{\"v\": %d}\n", k ? "," : " ", k);
    n += (size_t)snprintf(t + n, cap - n, "]}");
    ow_jpos_t *p = ow_jpos_build(t, n);
    char path[64];
    for (int k = 0; k < 600; k += 37) {
        snprintf(path, sizeof(path), "m[%d].v", k);
        check_pos(p, path, 2 + k, 8);
    }
    ow_jpos_destroy(&p);
    free(t);
}

int main(void)
{
    test_nested();
    test_strings();
    test_duplicates_and_bom();
    test_malformed();
    test_many();
    return ow_test_done("jpos_test");
}
