/* Writes the socket limits table of proto/README.md ("Limits") from the rows
 * in ow_zsock.c. Usage: ow-zsock-doc (scripts/gen-docs.sh places it). */
#include "ow_zsock.h"

int main(void)
{
    return ow_zsock_doc(stdout) == 0 ? 0 : 1;
}
