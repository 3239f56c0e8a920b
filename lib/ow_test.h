/* Minimal unit-test harness shared by the module tests (czmq's selftest habit:
 * each module's test sits beside it and doubles as a usage example). A failed
 * CHECK prints file:line and the expression and counts; ow_test_done() prints
 * "N passed, N failed" and returns the process exit code. */
#ifndef OW_TEST_H
#define OW_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int ow_test_pass, ow_test_fail;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            ow_test_pass++;                                                                        \
        else {                                                                                     \
            ow_test_fail++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (cond)                                                                                  \
            ow_test_pass++;                                                                        \
        else {                                                                                     \
            ow_test_fail++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol), "%g vs %g (tol %g)", (double)(a),          \
              (double)(b), (double)(tol))

#define CHECK_STR(a, b) CHECK_MSG(strcmp((a), (b)) == 0, "'%s' vs '%s'", (a), (b))

#define CHECK_CONTAINS(hay, needle)                                                                \
    CHECK_MSG(strstr((hay), (needle)) != NULL, "'%s' does not contain '%s'", (hay), (needle))

static inline int ow_test_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, ow_test_pass, ow_test_fail);
    return ow_test_fail ? 1 : 0;
}

#endif
