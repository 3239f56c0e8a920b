/* The scenario parser's checks, shared by scenario_fuzz and sim_fuzz: any
 * input is refused with a message or loaded; a loaded scenario's events are
 * sorted by time, of a known kind, with string, block and input inside what
 * the format allows (abort otherwise). NULL when refused. */
#ifndef OW_SCENARIO_FUZZ_H
#define OW_SCENARIO_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

static ow_scenario_t *fuzz_scenario(const uint8_t *data, size_t size)
{
    /* The parser takes a C string: an embedded NUL ends the text there. */
    char *text = malloc(size + 1);
    if (!text) return NULL;
    memcpy(text, data, size);
    text[size] = '\0';
    char err[512] = "";
    ow_scenario_t *sc = ow_scenario_parse(text, "fuzz.json", err, sizeof err);
    free(text);
    if (!sc) {
        if (!err[0]) abort();
        return NULL;
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
    return sc;
}

#endif
