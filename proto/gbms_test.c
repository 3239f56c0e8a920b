/* The G.BMS tables against the guide: values of the flags, and the
 * catalogue's codes are the guide's 39 plus documented additions. */
#include "ow_gbms.h"
#include "ow_proto.h"
#include "ow_test.h"

static uint32_t flag(const char *table, const char *name)
{
    for (size_t t = 0; t < gbms_flag_tables_count; t++)
        if (strcmp(gbms_flag_tables[t].title, table) == 0)
            for (size_t i = 0; i < gbms_flag_tables[t].count; i++)
                if (strcmp(gbms_flag_tables[t].flags[i].name, name) == 0)
                    return gbms_flag_tables[t].flags[i].value;
    return 0xdeadu;
}

int main(void)
{
    /* The guide's example: 0x0041 = running + float charging. */
    CHECK((flag("General Status Flags", "BACS_STATE_RUNNING") |
           flag("General Status Flags", "BACS_STATE_FLOAT_CHARGING")) == 0x0041);
    CHECK(flag("General Status Flags", "BACS_STATE_MODULE-POLLING") == 0x8000);
    CHECK(flag("Battery Status Flags", "BACS_STATE_THERMAL_RUNAWAY") == 0x0008);
    CHECK(flag("Alarm Flags", "BACS_ALARM_RESISTOR_LOW") == 0x0080);
    CHECK(flag("Battery String Alarm Flags", "Current Deviation Discharge Warning") == 0x0080);
    /* Kept as the guide states it (see the comment in ow_gbms.h). */
    CHECK(flag("Battery String Alarm Flags", "Current Deviation Charge Warning") == 0x1000);

    /* Codes 1..39 all present, in order, and unique overall. */
    for (int c = 1; c <= 39; c++)
        CHECK_MSG(gbms_alarm_find(c) != NULL, "code %d", c);
    CHECK(gbms_alarms_count == 39 + 16); /* 101-116 */
    /* The room sensors' alarms: two hydrogen stages, and the levels of the
     * stand-alone temperature/humidity sensor, warnings below alarms. */
    CHECK_STR(gbms_alarm_find(110)->name, "ohmwatchHydrogenWarn");
    CHECK(gbms_alarm_find(110)->severity == OW_SEV_WARNING &&
          gbms_alarm_find(103)->severity == OW_SEV_ALARM);
    for (int c = 111; c <= 116; c++)
        CHECK_MSG(gbms_alarm_find(c)->scope == GBMS_SCOPE_GATEWAY &&
                      gbms_alarm_find(c)->severity ==
                          (c == 111 || c == 112 || c == 115 ? OW_SEV_ALARM : OW_SEV_WARNING),
                  "code %d", c);
    for (size_t i = 0; i < gbms_alarms_count; i++)
        for (size_t j = i + 1; j < gbms_alarms_count; j++)
            CHECK(gbms_alarms[i].code != gbms_alarms[j].code);
    CHECK_STR(gbms_alarm_find(22)->name, "bacsAlarmThermalRunaway");
    CHECK_STR(gbms_alarm_find(39)->name, "bacsAlarmStringCurrDeviationDischargeWarn");
    CHECK(gbms_alarm_find(38)->string_flag == GBMS_STR_DEV_CHARGE_WARN);
    CHECK(gbms_alarm_find(6)->alarm_flag == GBMS_AL_VOLTAGE_HIGH);
    CHECK(gbms_alarm_find(99) == NULL);
    /* The generic alarms' families, from the guide's wording (docs/alarms.md):
     * each member's generic code, and a generic alarm has its members'
     * severity, the gateway scope and no flag of its own. */
    static const struct {
        int code, generic;
    } fam[] = {{6, 4}, {7, 4}, {8, 5}, {9, 5}, {10, 3}, {11, 3}, {17, 2}, {18, 2}, {35, 12}};
    int members = 0;
    for (size_t i = 0; i < gbms_alarms_count; i++)
        members += gbms_alarms[i].generic != 0;
    CHECK(members == (int)(sizeof fam / sizeof fam[0]));
    for (size_t i = 0; i < sizeof fam / sizeof fam[0]; i++) {
        const gbms_alarm_t *m = gbms_alarm_find(fam[i].code), *g = gbms_alarm_find(fam[i].generic);
        CHECK_MSG(m->generic == fam[i].generic, "code %d", fam[i].code);
        CHECK_MSG(g->severity == m->severity && g->scope == GBMS_SCOPE_GATEWAY && g->raised &&
                      !g->alarm_flag && !g->string_flag && !g->battery_flag && !g->status_flag,
                  "generic %d", fam[i].generic);
    }
    const int generics[] = {2, 3, 4, 5, 12};
    for (size_t i = 0; i < 5; i++)
        CHECK(gbms_alarm_is_generic(generics[i]) && !gbms_alarm_is_generic(generics[i] + 4));
    /* 4 an alarm (2), 2 a warning (1), 12 a warning */
    CHECK(gbms_alarm_find(4)->severity == 2 && gbms_alarm_find(2)->severity == 1 &&
          gbms_alarm_find(12)->severity == 1);
    CHECK(gbms_alarm_find(13)->generic == 0 && gbms_alarm_find(101)->generic == 0);
    CHECK(!gbms_alarm_is_generic(0) && !gbms_alarm_is_generic(6));
    /* Every alarm that sets a flag word is one ohmwatch raises. */
    for (size_t i = 0; i < gbms_alarms_count; i++) {
        const gbms_alarm_t *a = &gbms_alarms[i];
        if (a->alarm_flag || a->string_flag || a->battery_flag)
            CHECK_MSG(a->raised, "code %d", a->code);
    }
    return ow_test_done("gbms_test");
}
