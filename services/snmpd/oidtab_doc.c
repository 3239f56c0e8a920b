/* Prints docs/snmp.md from the OID table (scripts/gen-docs.sh). */
#include "oidtab.h"

int main(void)
{
    return ow_snmp_doc(stdout) ? 1 : 0;
}
