/* oidtab: OIDs unique and strictly sorted (the agent's image relies on it),
 * names unique, read-write only under bacsSettings. */
#include <string.h>

#include "oidtab.h"
#include "ow_test.h"

int main(void)
{
    CHECK(ow_snmp_noids > 50);
    for (int i = 0; i < ow_snmp_noids; i++) {
        const ow_snmp_oid_t *o = &ow_snmp_oids[i];
        CHECK(ow_snmp_sublen(o) >= 2);
        if (i > 0) CHECK(ow_snmp_oidcmp(&ow_snmp_oids[i - 1], o) < 0);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(ow_snmp_oids[j].name, o->name) != 0);
        if (o->access == OW_A_RW) CHECK(o->sub[0] == 1);
    }
    FILE *f = fopen("/dev/null", "w");
    CHECK(f && ow_snmp_doc(f) == 0);
    if (f) fclose(f);
    return ow_test_done("oidtab");
}
