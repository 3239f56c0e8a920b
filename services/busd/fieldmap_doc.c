/* Writes docs/maps.md from the register map tables:
 *     ow-map-doc > docs/maps.md
 * so the reference can never drift from what the loader accepts. */
#include <stdio.h>

#include "fieldmap.h"

int main(void)
{
    if (ow_fm_doc(stdout) < 0 || fflush(stdout) != 0) {
        fprintf(stderr, "ow-map-doc: write failed\n");
        return 1;
    }
    return 0;
}
