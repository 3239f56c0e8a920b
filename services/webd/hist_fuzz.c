/* libFuzzer target: a discharge id from a request's query (history.c's
 * ow_hist_parse_id), the one argument of the history routes parsed by our
 * own code rather than strtoll alone. An id accepted names a string
 * 1..32767 and a start >= 0, and the id made from them reads back the
 * same; nothing may crash or read out of bounds. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int string, again_s;
    int64_t start, again_t;
    if (ow_hist_parse_id(s, &string, &start) == 0) {
        char id[48];
        if (string < 1 || string > 32767 || start < 0) abort();
        snprintf(id, sizeof id, "%d-%" PRId64, string, start);
        if (ow_hist_parse_id(id, &again_s, &again_t) != 0 || again_s != string || again_t != start)
            abort();
    }
    free(s);
    return 0;
}
