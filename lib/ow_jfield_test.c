/* ow_jfield: the strict state-file readers and their messages. */
#include "ow_jfield.h"

#include <math.h>

#include "ow_test.h"

int main(void)
{
    char err[200] = "";
    ow_jfield_t r = {.err = err, .errlen = sizeof err, .prefix = "engine state: gateway wm1: "};
    json_t *o = json_loads("{\"n\":2.5,\"z\":null,\"i\":7,\"b\":true,\"s\":\"x\"}", 0, NULL);
    double d = 0;
    int64_t i = 0;
    int b = 0;
    CHECK(ow_jfield_num(&r, o, "n", &d) == 0 && d == 2.5);
    CHECK(ow_jfield_num(&r, o, "z", &d) == 0 && isnan(d));
    CHECK(ow_jfield_int(&r, o, "i", 0, 9, &i) == 0 && i == 7);
    CHECK(ow_jfield_bool(&r, o, "b", &b) == 0 && b == 1);
    CHECK(ow_jfield_num(&r, o, "s", &d) == -1);
    CHECK_STR(err, "engine state: gateway wm1: s: expected a number or null");
    CHECK(ow_jfield_int(&r, o, "i", 0, 3, &i) == -1);
    CHECK_STR(err, "engine state: gateway wm1: i: 7 outside 0..3");
    CHECK(ow_jfield_int(&r, o, "n", 0, 3, &i) == -1);
    CHECK_STR(err, "engine state: gateway wm1: n: expected an integer");
    r.prefix = NULL;
    snprintf(r.where, sizeof r.where, "strings[0].float");
    CHECK(ow_jfield_bool(&r, o, "gone", &b) == -1);
    CHECK_STR(err, "strings[0].float.gone: missing");
    CHECK(ow_jfield_numv(&r, json_object_get(o, "b"), "cycle.speed", &d) == -1);
    CHECK_STR(err, "strings[0].float.cycle.speed: expected a number or null");
    json_t *n = ow_jfield_jnum(NAN);
    CHECK(json_is_null(n));
    json_decref(n);
    n = ow_jfield_jnum(1.5);
    CHECK(json_real_value(n) == 1.5);
    json_decref(n);
    json_decref(o);
    return ow_test_done("jfield_test");
}
