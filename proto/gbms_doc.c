/* Prints docs/alarms.md from the G.BMS tables. */
#include "ow_gbms.h"

int main(void)
{
    return gbms_doc(stdout) == 0 ? 0 : 1;
}
