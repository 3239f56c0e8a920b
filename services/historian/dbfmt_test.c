/* dbfmt: the historian's hand-written COPY and parameter formatting, held to
 * the text PostgreSQL reads back (a real column must get exactly the float
 * the value rounds to) and to fixed strings. No database needed. */
#include "dbfmt.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "ow_test.h"

#define S_US 1000000LL
#define D0   (19844 * OW_DBFMT_DAY_US) /* 2024-05-01 00:00:00 UTC */

typedef char *(*put_fn)(char *p, double x);

static const char *put(put_fn fn, double x)
{
    static char buf[64];
    *fn(buf, x) = '\0';
    return buf;
}

static const char *ts(int64_t us)
{
    static char buf[40];
    *ow_dbfmt_ts(buf, us) = '\0';
    return buf;
}

static void test_times(void)
{
    char buf[40];
    CHECK_STR(ts(0), "1970-01-01 00:00:00.000000+00");
    CHECK_STR(ts(D0 + 12 * 3600 * S_US + 250000), "2024-05-01 12:00:00.250000+00");
    CHECK_STR(ts(-1), "1969-12-31 23:59:59.999999+00");
    CHECK_STR(ts(-62135596800000000LL), "0001-01-01 00:00:00.000000+00");
    CHECK_STR(ts(253402300799999999LL), "9999-12-31 23:59:59.999999+00");
    CHECK_STR(ow_dbfmt_param_ts(buf, D0 + 59 * S_US + 7), "2024-05-01 00:00:59.000007+00");
    CHECK(ow_dbfmt_day(D0) == 19844);
    CHECK(ow_dbfmt_day(D0 - 1) == 19843);
    CHECK(ow_dbfmt_day(-1) == -1);
    *ow_dbfmt_date(buf, 11017) = '\0';
    CHECK_STR(buf, "2000-03-01");
    *ow_dbfmt_date(buf, 19783) = '\0';
    CHECK_STR(buf, "2024-03-01");
}

static void test_integers(void)
{
    char buf[24];
    CHECK_STR(ow_dbfmt_param_i64(buf, 0), "0");
    CHECK_STR(ow_dbfmt_param_i64(buf, -42), "-42");
    CHECK_STR(ow_dbfmt_param_i64(buf, INT64_MIN), "-9223372036854775808");
    CHECK_STR(ow_dbfmt_param_i64(buf, INT64_MAX), "9223372036854775807");
    *ow_dbfmt_u64(buf, UINT64_MAX) = '\0';
    CHECK_STR(buf, "18446744073709551615");
}

/* Awkward values for a real column, and what PostgreSQL must be sent. */
static const struct {
    double x;
    const char *text;
} reals[] = {
    {0.1, "0.100000001"},
    {13.6523, "13.6522999"},
    {-17.125, "-17.125"},
    {12.5, "12.5"},
    {0, "0"},
    {123456789.0, "123456792"},
    {-0.0001234, "-0.000123399994"},
    {1e-5, "9.99999975e-6"},
    {2.5e-6, "2.49999994e-6"},
    {3.4e38, "3.39999995e38"},
    {1e-30, "1e-30"},
    {1e-45, "0"}, /* subnormal: stored as 0 */
    {NAN, "\\N"},
    {INFINITY, "\\N"},
    {1e39, "\\N"}, /* beyond the float range */
};

static void test_reals(void)
{
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        CHECK_STR(put(ow_dbfmt_real, reals[i].x), reals[i].text);
    /* Every text reads back as the float the value rounds to. */
    int bad = 0;
    for (double x = 1e-7; x < 1e9; x *= 1.0137) {
        float f, back = strtof(put(ow_dbfmt_real, x), NULL);
        CHECK(ow_dbfmt_real_of(x, &f) == 1);
        if (back != f) bad++;
    }
    CHECK_MSG(bad == 0, "%d reals read back differently", bad);
    float f = 1;
    CHECK(ow_dbfmt_real_of(NAN, &f) == 0);
    CHECK(ow_dbfmt_real_of(1e-40, &f) == 1 && f == 0.0f);
}

static void test_doubles(void)
{
    char buf[40];
    CHECK_STR(put(ow_dbfmt_double, 0.1), "0.10000000000000001");
    CHECK_STR(put(ow_dbfmt_double, NAN), "\\N");
    CHECK_STR(put(ow_dbfmt_double, -2.5), "-2.5");
    CHECK_STR(ow_dbfmt_param_double(buf, sizeof buf, NAN), "NaN");
    CHECK_STR(ow_dbfmt_param_double(buf, sizeof buf, -INFINITY), "-Infinity");
    CHECK_STR(ow_dbfmt_param_double(buf, sizeof buf, 100), "100");
    CHECK(ow_dbfmt_param_double_null(buf, sizeof buf, NAN) == NULL);
    CHECK(strtod(ow_dbfmt_param_double_null(buf, sizeof buf, 1.0 / 3), NULL) == 1.0 / 3);
}

static void test_text(void)
{
    char buf[64];
    *ow_dbfmt_text(buf, "a\tb\\c\nd\re") = '\0';
    CHECK_STR(buf, "a\\tb\\\\c\\nd\\re");

    ow_dbfmt_utf8(buf, sizeof buf,
                  "Gr\xc3\xbc\xc3\x9f"
                  "e",
                  64);
    CHECK_STR(buf, "Gr\xc3\xbc\xc3\x9f"
                   "e");
    ow_dbfmt_utf8(buf, sizeof buf,
                  "a\xff"
                  "b\xc0\xaf"
                  "c",
                  64); /* invalid byte, overlong encoding */
    CHECK_STR(buf, "a?b??c");
    ow_dbfmt_utf8(buf, sizeof buf, "ab\xe2\x82", 64); /* cut inside a character */
    CHECK_STR(buf, "ab??");
    ow_dbfmt_utf8(buf, sizeof buf, "abcdef", 3); /* at most srclen bytes */
    CHECK_STR(buf, "abc");
    ow_dbfmt_utf8(buf, 4, "ab\xc3\xbc", 64); /* no room for the whole character */
    CHECK_STR(buf, "ab");
    ow_dbfmt_utf8(buf, sizeof buf, "\xed\xa0\x80", 64); /* a UTF-16 surrogate */
    CHECK_STR(buf, "???");
}

int main(void)
{
    test_times();
    test_integers();
    test_reals();
    test_doubles();
    test_text();
    return ow_test_done("dbfmt_test");
}
