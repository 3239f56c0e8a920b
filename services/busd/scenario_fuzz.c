/* libFuzzer target: a scenario file. Any input must be refused with a
 * message or loaded; a loaded scenario's events are sorted by time, of a
 * known kind, with string, block and input inside what the format allows. */
#include "scenario_fuzz.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ow_scenario_t *sc = fuzz_scenario(data, size);
    if (!sc) return 0;
    ow_scenario_destroy(&sc);
    if (sc) abort();
    return 0;
}
