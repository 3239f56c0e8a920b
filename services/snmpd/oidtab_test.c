/* oidtab: OIDs unique and strictly sorted (the agent's image relies on it),
 * names unique, read-write only under bacsSettings and each on a real site
 * setting, every module type code in bacsModuleType's SYNTAX, and the MIB
 * holds every row and every well-known alarm. */
#include <stdlib.h>
#include <string.h>

#include "oidtab.h"
#include "ow_config.h"
#include "ow_gbms.h"
#include "ow_test.h"

int main(void)
{
    ow_gateway_cfg_t g;
    memset(&g, 0, sizeof g);
    snprintf(g.temperature_unit, sizeof g.temperature_unit, "C"); /* an enum: one of its choices */
    CHECK(ow_snmp_noids > 50);
    for (int i = 0; i < ow_snmp_noids; i++) {
        const ow_snmp_oid_t *o = &ow_snmp_oids[i];
        CHECK(ow_snmp_sublen(o) >= 1);
        if (i > 0) CHECK(ow_snmp_row_cmp(&ow_snmp_oids[i - 1], o) < 0);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(ow_snmp_oids[j].name, o->name) != 0);
        CHECK(ow_snmp_find(o->name) == i);
        CHECK(o->descr && o->descr[0]);
        /* every writable object is a setting alarmd holds, none snmpd's own */
        if (o->access == OW_A_RW) {
            double lo, hi, x;
            CHECK(o->sub[0] == 1 && o->key);
            CHECK_MSG(ow_gateway_get(&g, o->key, &x) == 0, "%s: %s", o->name, o->key);
            CHECK(ow_gateway_range(o->key, &lo, &hi) == 0 && lo < hi);
        }
        /* values have getters, structure does not */
        CHECK((o->get != NULL) == (o->type <= OW_T_OID));
    }
    int mt = ow_snmp_find("bacsModuleType");
    for (size_t t = 0; t < ow_module_types_count; t++) {
        char want[16];
        snprintf(want, sizeof want, "(%d)", ow_module_types[t].code);
        CHECK_MSG(strstr(ow_snmp_oids[mt].syntax, want) != NULL, "%s", want);
    }
    char *mib = NULL;
    size_t mlen = 0;
    FILE *f = open_memstream(&mib, &mlen);
    CHECK(f && ow_snmp_mib(f) == 0);
    fclose(f);
    for (int i = 0; i < ow_snmp_noids; i++) {
        char want[96];
        snprintf(want, sizeof want, "\n%s ", ow_snmp_oids[i].name);
        CHECK_MSG(strstr(mib, want) != NULL, "MIB lacks %s", ow_snmp_oids[i].name);
    }
    for (size_t a = 0; a < gbms_alarms_count; a++) {
        char want[128];
        snprintf(want, sizeof want, "::= { bacsWellKnownAlarms %d }", gbms_alarms[a].code);
        CHECK_MSG(strstr(mib, want) != NULL, "MIB lacks alarm %d", gbms_alarms[a].code);
    }
    free(mib);
    f = fopen("/dev/null", "w");
    CHECK(f && ow_snmp_doc(f) == 0);
    if (f) fclose(f);
    return ow_test_done("oidtab");
}
