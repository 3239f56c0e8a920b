/* Prints the Commands table of proto/README.md from the command table. */
#include "ow_cmd.h"

int main(void)
{
    return ow_cmd_doc(stdout) == 0 ? 0 : 1;
}
