/* Prints the Commands table of proto/README.md from the command table, or
 * with --roles the table of roles of docs/security.md. */
#include <string.h>

#include "ow_cmd.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--roles") == 0) return ow_cmd_roles_doc(stdout) == 0 ? 0 : 1;
    return ow_cmd_doc(stdout) == 0 ? 0 : 1;
}
