/* Writes docs/scenarios.md from the scenario event table:
 *     ow-scenario-doc > docs/scenarios.md
 * so the reference can never drift from what the parser accepts. */
#include <stdio.h>

#include "scenario.h"

int main(void)
{
    if (ow_scenario_doc(stdout) < 0 || fflush(stdout) != 0) {
        fprintf(stderr, "ow-scenario-doc: write failed\n");
        return 1;
    }
    return 0;
}
