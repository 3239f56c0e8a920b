/* libFuzzer target: a scenario file. Any input must be refused with a
 * message or loaded; a loaded scenario's events are sorted by time, of a
 * known kind, with string, block and input inside what the format allows. */
#include "scenario.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The parser takes a C string: an embedded NUL ends the text there. */
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char err[512] = "";
    ow_scenario_t *sc = ow_scenario_parse(text, "fuzz.json", err, sizeof err);
    free(text);
    if (!sc) {
        if (!err[0]) abort();
        return 0;
    }
    if (sc->nevents < 0 || (sc->nevents > 0 && !sc->events)) abort();
    if (!memchr(sc->name, 0, sizeof sc->name)) abort();
    for (int i = 0; i < sc->nevents; i++) {
        const ow_event_t *e = &sc->events[i];
        if ((unsigned)e->kind >= OW_EV_KINDS || !ow_event_kind_name(e->kind)) abort();
        if (i > 0 && e->at_s < sc->events[i - 1].at_s) abort();
        if (e->at_s < 0 || e->duration_s < 0 || e->string < 0 || e->block < 0 || e->input < 0)
            abort();
    }
    ow_scenario_destroy(&sc);
    if (sc) abort();
    return 0;
}
