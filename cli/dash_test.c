/* Dashboard: folding readings and rendering the webmanager-style table. */
#include "dash.h"
#include "ow_gbms.h"
#include "ow_test.h"

#include <math.h>
#include <stdlib.h>

static ow_site_t *sample_site(ow_gateway_cfg_t *g, ow_module_type_t *mt)
{
    static ow_site_t site;
    memset(&site, 0, sizeof site);
    memset(g, 0, sizeof *g);
    *mt = (ow_module_type_t){"C20", 0, 12, 9.7, 17, 0.5, 60, 0.15, "950-6503"};
    snprintf(site.name, sizeof site.name, "Training Center Wettingen");
    strcpy(g->id, "wm1");
    strcpy(g->name, "UPS A/B");
    strcpy(g->source, "sim");
    strcpy(g->battery.manufacturer, "FIAMM");
    strcpy(g->battery.type, "12SLA50L");
    g->battery.capacity_ah = 50;
    strcpy(g->battery.installed, "2020-06-01");
    strcpy(g->battery.location, "Training Center Wettingen");
    strcpy(g->contact.person, "Anna Muster");
    g->thr.voltage_v = (ow_limits_t){12, 12.4, 14.1, 14.7, 0, 0};
    g->thr.temp_c = (ow_limits_t){5, 10, 30, 35, 0, 0};
    g->thr.impedance_mohm = (ow_limits_t){1.1, 1.2, 40, 50, 0, 0};
    g->thr.equalizing_min_v = 12.495, g->thr.equalizing_max_v = 14.7;
    g->module_type = mt;
    g->nstrings = 2;
    g->strings[0] = (ow_string_cfg_t){"UPS A", 9, 1};
    g->strings[1] = (ow_string_cfg_t){"UPS B", 9, 10};
    g->nmodules = 18;
    site.ngateways = 1;
    site.gateways = g;
    return &site;
}

int main(void)
{
    ow_gateway_cfg_t g;
    ow_module_type_t mt;
    ow_site_t *site = sample_site(&g, &mt);
    ow_dash_t *d = ow_dash_new(site, NULL);
    ow_msg_t m;
    char *out = NULL;
    size_t outlen = 0;

    CHECK(!ow_dash_complete(d));
    for (int s = 1; s <= 2; s++) {
        for (int b = 1; b <= 9; b++) {
            ow_msg_init(&m, OW_MSG_MODULE);
            strcpy(m.h.gw, "wm1");
            m.h.ts_us = 1590969600000000LL;
            m.u.module = (ow_module_t){s, (s - 1) * 9 + b, b, 12.94 + 0.001 * b, 27.5, 4.52, 0, 0};
            if (s == 2 && b == 3) { /* a lost module */
                m.u.module.voltage_v = m.u.module.temp_c = m.u.module.impedance_mohm = NAN;
                m.u.module.status = OW_MODST_NO_RESPONSE;
            }
            CHECK(ow_dash_update(d, &m) == 0);
        }
        ow_msg_init(&m, OW_MSG_STRING);
        strcpy(m.h.gw, "wm1");
        /* string 1 discharging at 12.5 A (Real Power as busd computes it),
         * string 2 without a current sensor and without a ripple reading */
        m.u.string = s == 1 ? (ow_string_t){s, 9, 0, -12.5, 0.4, 116.47, 12.941, -1.456, 0.2}
                            : (ow_string_t){s, 9, 1, NAN, NAN, 116.46, 12.94, NAN, NAN};
        ow_dash_update(d, &m);
    }
    ow_msg_init(&m, OW_MSG_HEARTBEAT);
    strcpy(m.h.gw, "wm1");
    strcpy(m.u.heartbeat.state, "running");
    m.u.heartbeat.modules = 18, m.u.heartbeat.modules_lost = 1;
    CHECK(ow_dash_update(d, &m) == 1);
    CHECK(ow_dash_complete(d));

    /* A message from a gateway not in the site is ignored. */
    strcpy(m.h.gw, "other");
    CHECK(ow_dash_update(d, &m) == 0);

    FILE *f = open_memstream(&out, &outlen);
    ow_dash_render(d, f);
    fclose(f);
    CHECK_CONTAINS(out, "String UPS A");
    CHECK_CONTAINS(out, "String UPS B");
    CHECK_CONTAINS(out, "   1     12.941");
    CHECK_CONTAINS(out, "   9     12.949       27.5     4.52");
    CHECK_CONTAINS(out, "   3          -          -         -         -  communication lost");
    CHECK_CONTAINS(out, "Σ Voltage 116.47 V   Target Voltage 12.941 V\n"
                        "DC Current -12.50 A   Real Power -1.46 kW   AC Current 0.40 A   "
                        "Ripple 0.2 V\n");
    /* no sensor, no reading: "-", never a 0 that reads as a measurement */
    CHECK_CONTAINS(out, "Σ Voltage 116.46 V   Target Voltage 12.940 V\n"
                        "DC Current - A   Real Power - kW   AC Current - A   Ripple - V\n");
    CHECK_CONTAINS(out, "17/18 modules answering");
    CHECK(strstr(out, "alarm LED") == NULL); /* no state yet */
    /* The info panel, the guide's five columns as sections */
    CHECK_CONTAINS(out, "Module info:\n  Module type C20   Hardware Version -   Software Version -"
                        "\n  Number of Blocks 18   Number of Strings 2\n");
    CHECK_CONTAINS(out, "Battery info:\n  Manufacturer FIAMM   Type 12SLA50L   Capacity(C10) 50 Ah"
                        "\n  Installation Date 01.06.2020   Location Training Center Wettingen\n");
    CHECK_CONTAINS(out, "Contact info:\n  Contact Person Anna Muster   Phone Number -   "
                        "IP Address -   Mac Address -\n");
    CHECK_CONTAINS(out, "Level info:\n  Voltage Low/High 12 V/14.7 V   Temperature Low/High "
                        "5 °C/35 °C\n  Resistance Min/Max 1.1 mΩ/50 mΩ   "
                        "Equalizing Range Min/Max 12.495 V/14.7 V\n");
    /* without alarmd's state the counter and the pause are unknown */
    CHECK_CONTAINS(out, "Miscellaneous:\n  Firmware Version -   Discharge Counter -   "
                        "Ripple Voltage 200 mV\n  Equalizing paused -   Page generated 20");
    CHECK_CONTAINS(out, "Temp.[°C]");
    free(out);

    /* alarmd's temperature_unit F (its snapshot or a config event): every
     * temperature in degF, the unit named on each. */
    ow_msg_init(&m, OW_MSG_AUX);
    strcpy(m.h.gw, "wm1");
    m.u.aux.ambient_c = 20, m.u.aux.humidity_pct = 40, m.u.aux.hydrogen_pct_lel = 0;
    ow_dash_update(d, &m);
    ow_msg_init(&m, OW_MSG_CONFIG);
    strcpy(m.h.gw, "wm1");
    strcpy(m.u.config.key, "temperature_unit");
    m.u.config.value = 1;
    CHECK(ow_dash_update(d, &m) == 0);
    f = open_memstream(&out, &outlen);
    ow_dash_render(d, f);
    fclose(f);
    CHECK_CONTAINS(out, " No.   Volt.[V]  Temp.[°F]  Ri.[mΩ]  Equalize  Status\n");
    CHECK_CONTAINS(out, "   9     12.949       81.5     4.52"); /* 27.5 degC */
    CHECK_CONTAINS(out, "Ambient 68.0 °F   Humidity 40 %");     /* 20 degC */
    CHECK_CONTAINS(out, "Temperature Low/High 41 °F/95 °F");    /* 5 and 35 degC */
    CHECK(strstr(out, "°C") == NULL);
    free(out);
    m.u.config.value = 0;
    ow_dash_update(d, &m);
    f = open_memstream(&out, &outlen);
    ow_dash_render(d, f);
    fclose(f);
    CHECK_CONTAINS(out, "   9     12.949       27.5     4.52");
    CHECK_CONTAINS(out, "Ambient 20.0 °C");
    CHECK(strstr(out, "°F") == NULL);
    free(out);

    /* alarmd's state: the counter and the pause; a setting alarmd has in
     * force (its list, a runtime set) replaces the site file's level */
    ow_msg_init(&m, OW_MSG_STATE);
    strcpy(m.h.gw, "wm1");
    m.u.state.nstrings = 2, m.u.state.nmodules = 18;
    m.u.state.discharges = 84, m.u.state.eq_paused = 1;
    ow_dash_update(d, &m);
    ow_msg_init(&m, OW_MSG_CONFIG);
    strcpy(m.h.gw, "wm1");
    strcpy(m.u.config.key, "thresholds.voltage_v.high_alarm");
    m.u.config.value = 15.5;
    strcpy(m.u.config.source, "control");
    ow_dash_update(d, &m);
    strcpy(m.u.config.key, "ack.7"); /* not a setting: ignored */
    m.u.config.value = 1;
    ow_dash_update(d, &m);
    /* the guide's Discharging is an info entry of its catalogue: a state,
     * not one of the "0 active" alarms */
    ow_msg_init(&m, OW_MSG_ALARM);
    strcpy(m.h.gw, "wm1");
    m.u.alarm = (ow_alarm_t){.id = 5,
                             .type = GBMS_A_DISCHARGING,
                             .severity = OW_SEV_INFO,
                             .string = 1,
                             .value = -12.5,
                             .threshold = NAN};
    strcpy(m.u.alarm.action, "raise");
    strcpy(m.u.alarm.text, "UPS A: discharging");
    ow_dash_update(d, &m);
    f = open_memstream(&out, &outlen);
    ow_dash_render(d, f);
    fclose(f);
    CHECK_CONTAINS(out, "Discharge Counter 84   Ripple Voltage 200 mV\n  Equalizing paused yes");
    CHECK_CONTAINS(out, "Voltage Low/High 12 V/15.5 V");
    CHECK_CONTAINS(out, "String state: Discharging\n");
    CHECK(strstr(out, "String alarms:") == NULL);
    CHECK_CONTAINS(out, "—  0 active,");
    free(out);
    strcpy(m.u.alarm.action, "clear");
    ow_dash_update(d, &m);

    /* The webmanager's alarm LED: red while sounding, yellow once muted. */
    const struct {
        unsigned alarm;
        int audible;
        const char *want;
    } led[] = {{0x0003, 1, ", alarm LED red (sounding)\n"},
               {0x0003, 0, ", alarm LED yellow (muted)\n"},
               {0x0000, 0, "0 in warning\n"}};
    for (size_t i = 0; i < sizeof led / sizeof led[0]; i++) {
        ow_msg_init(&m, OW_MSG_STATE);
        strcpy(m.h.gw, "wm1");
        m.u.state.nstrings = 2, m.u.state.nmodules = 18;
        m.u.state.alarm = led[i].alarm;
        m.u.state.audible = led[i].audible;
        ow_dash_update(d, &m);
        f = open_memstream(&out, &outlen);
        ow_dash_render(d, f);
        fclose(f);
        CHECK_CONTAINS(out, led[i].want);
        free(out);
    }
    /* A discharge under way shows its depth and time-to-go, never a
     * "capacity"; its end takes the line away. */
    ow_msg_init(&m, OW_MSG_DISCHARGE);
    strcpy(m.h.gw, "wm1");
    m.u.discharge.string = 1;
    strcpy(m.u.discharge.action, "progress");
    m.u.discharge.duration_s = 5400, m.u.discharge.dod_pct = 15;
    m.u.discharge.time_to_go_s = 30600, m.u.discharge.test = 1;
    m.u.discharge.rated_h = 10, m.u.discharge.end_v_per_cell = 1.75;
    ow_dash_update(d, &m);
    f = open_memstream(&out, &outlen);
    ow_dash_render(d, f);
    fclose(f);
    CHECK_CONTAINS(out, "Discharging for 1:30 h, depth of discharge 15.0 %, time to go ~8:30 h "
                        "(capacity test, 10 h to 1.75 V/cell)");
    CHECK(strstr(out, "capacity %") == NULL);
    free(out);
    strcpy(m.u.discharge.action, "end");
    ow_dash_update(d, &m);
    f = open_memstream(&out, &outlen);
    ow_dash_render(d, f);
    fclose(f);
    CHECK(strstr(out, "Discharging") == NULL);
    CHECK(strstr(out, "Field device") == NULL); /* a simulated gateway has none */
    free(out);

    /* A field device's own words, decoded by the guide's flag tables, beside
     * alarmd's where they differ; the modules it flags, by string and block. */
    ow_msg_init(&m, OW_MSG_STATE);
    strcpy(m.h.gw, "wm1");
    m.u.state.general = GBMS_ST_RUNNING;
    m.u.state.alarm = GBMS_AL_GENERAL_ALARM | GBMS_AL_VOLTAGE_HIGH;
    ow_dash_update(d, &m);
    ow_msg_init(&m, OW_MSG_DEVICE);
    strcpy(m.h.gw, "wm1");
    strcpy(m.u.device.link, "partial");
    m.u.device.general = GBMS_ST_RUNNING | GBMS_ST_MODULE_LOST;
    m.u.device.alarm = GBMS_AL_GENERAL_ALARM | GBMS_AL_VOLTAGE_HIGH;
    m.u.device.strings_reported = 2, m.u.device.modules_reported = 18;
    m.u.device.requests = 40, m.u.device.timeouts = 1;
    m.u.device.nmodules = 18;
    m.u.device.module_flags[2] = GBMS_AL_GENERAL_ALARM | GBMS_AL_VOLTAGE_HIGH;
    m.u.device.module_flags[11] = GBMS_AL_COMMUNICATION_LOST | 0x0800;
    CHECK(ow_dash_update(d, &m) == 0);
    f = open_memstream(&out, &outlen);
    ow_dash_render(d, f);
    fclose(f);
    CHECK_CONTAINS(out, "Field device: link partial, reports 2 string(s), 18 module(s); 40 "
                        "request(s), 1 timeout(s), 0 exception(s)\n");
    CHECK_CONTAINS(out, "  General status  device says   0x0005 BACS_STATE_RUNNING "
                        "BACS_STATE_MODULE_LOST\n"
                        "                  ohmwatch says 0x0001 BACS_STATE_RUNNING\n");
    /* The same word on both sides: one line. */
    CHECK_CONTAINS(out, "  Alarm           device says   0x0005 BACS_ALARM_GENERAL_ALARM "
                        "BACS_ALARM_VOLTAGE_HIGH\n  Modules the device flags:\n");
    CHECK_CONTAINS(out, "  Battery status  device says   0x0000\n  Alarm");
    CHECK_CONTAINS(out, "    module 3 (UPS A, block 3): 0x0005 BACS_ALARM_GENERAL_ALARM "
                        "BACS_ALARM_VOLTAGE_HIGH\n");
    /* A bit the guide does not name is shown as a number, not dropped. */
    CHECK_CONTAINS(out, "    module 12 (UPS B, block 3): 0x0802 "
                        "BACS_ALARM_COMMUNICATION_LOST 0x0800?\n");
    /* A webmanager polled over Modbus TCP: its IP address is the host polled. */
    CHECK_CONTAINS(out, "IP Address -   Mac Address -");
    free(out);
    strcpy(g.source, "modbus-tcp");
    strcpy(g.modbus.host, "10.10.10.10");
    f = open_memstream(&out, &outlen);
    ow_dash_render(d, f);
    fclose(f);
    CHECK_CONTAINS(out, "IP Address 10.10.10.10\n  Mac Address -\n");
    free(out);
    ow_dash_destroy(&d);
    CHECK(d == NULL);
    return ow_test_done("dash_test");
}
