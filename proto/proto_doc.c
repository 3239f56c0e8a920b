/* Prints the generated field reference of proto/README.md. */
#include "ow_proto.h"

int main(void)
{
    return ow_proto_doc(stdout) == 0 ? 0 : 1;
}
