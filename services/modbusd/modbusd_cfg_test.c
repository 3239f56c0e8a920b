/* services.modbusd read from site texts: values, and the refusals, each at
 * its key; an allow entry or an RTU device that would be cut short, a baud
 * rate out of range and a prefix length strtol would take loosely (" 8",
 * "+8") are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modbusd.h"
#include "ow_test.h"

#define SITE_HEAD                                                                                  \
    "{\"gateways\": [{\"id\": \"wm1\", \"publish\": \"tcp://127.0.0.1:7941\", \"replay\": "        \
    "\"tcp://127.0.0.1:7942\", \"module_type\": \"C20\", \"battery\": {\"capacity_ah\": 100}, "    \
    "\"strings\": [{\"modules\": 4}]}], \"services\": {\"modbusd\": "

static int parse(const char *section, ow_modbusd_cfg_t *out, char *err, size_t errlen)
{
    static char text[8192];
    snprintf(text, sizeof text, "%s%s}}", SITE_HEAD, section);
    ow_site_t *site = ow_site_parse(text, strlen(text), "site.json", err, errlen);
    CHECK_MSG(site != NULL, "%s", err);
    if (!site) return -2;
    int rc = ow_site_modbusd(site, out, err, errlen);
    ow_site_destroy(&site);
    return rc;
}

int main(void)
{
    static ow_modbusd_cfg_t c;
    static char err[1024], sec[4096];

    CHECK(parse("{\"allow\": [\"10.0.0.0/8\", \"192.168.1.20\"], \"rtu\": {\"device\": "
                "\"/dev/ttyS0\", \"baud\": 9600, \"parity\": \"E\"}, \"units\": {\"7\": \"wm1\"}}",
                &c, err, sizeof err) == 0);
    CHECK_MSG(c.nallow == 2, "%s", err);
    CHECK(c.allow_net[0] == 0x0A000000u && c.allow_mask[0] == 0xFF000000u);
    CHECK(c.allow_net[1] == 0xC0A80114u && c.allow_mask[1] == 0xFFFFFFFFu);
    CHECK_STR(c.rtu_device, "/dev/ttyS0");
    CHECK(c.rtu_baud == 9600 && c.rtu_parity == 'E');
    CHECK(c.unit_gw[7] == 0 && c.unit_gw[1] == -1);

    char longdev[200];
    memset(longdev, 'x', sizeof longdev);
    memcpy(longdev, "/dev/", 5);
    longdev[127] = '\0'; /* 127 bytes fit rtu_device[128] */
    snprintf(sec, sizeof sec, "{\"rtu\": {\"device\": \"%s\"}}", longdev);
    CHECK(parse(sec, &c, err, sizeof err) == 0 && strlen(c.rtu_device) == 127);

    longdev[127] = 'x';
    longdev[128] = '\0';
    static char s_longdev[4096], s_longallow[4096];
    snprintf(s_longdev, sizeof s_longdev, "{\"rtu\": {\"device\": \"%s\"}}", longdev);
    /* 10.0.0.0/8 and then zeros: its first 63 bytes are a valid block */
    snprintf(s_longallow, sizeof s_longallow,
             "{\"allow\": [\"10.0.0.0/000000000000000000000000000000000000000000000000000008x\"]}");
    static const struct {
        const char *section, *want;
    } bad[] = {
        {s_longdev, "services.modbusd.rtu: expected {\"device\": PATH (1..127 bytes)"},
        {"{\"rtu\": {\"device\": \"\"}}", "services.modbusd.rtu: expected"},
        {"{\"rtu\": {\"device\": \"/dev/ttyS0\", \"baud\": -9600}}", "services.modbusd.rtu"},
        {"{\"rtu\": {\"device\": \"/dev/ttyS0\", \"baud\": 4294977296}}", "services.modbusd.rtu"},
        {s_longallow, "services.modbusd.allow[0]: \"10.0.0.0/0000"},
        {"{\"allow\": [\"10.0.0.0/ 8\"]}", "services.modbusd.allow[0]"},
        {"{\"allow\": [\"10.0.0.0/+8\"]}", "services.modbusd.allow[0]"},
        {"{\"allow\": [\"10.0.0.0/33\"]}", "services.modbusd.allow[0]"},
        {"{\"units\": {\"248\": \"wm1\"}}", "services.modbusd.units.248: unit id must be 1..247"},
        {"{\"units\": {\"3\": \"wm9\"}}", "services.modbusd.units.3: expected the id of a gateway"},
        {"{\"bogus\": 1}", "services.modbusd.bogus: unknown key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK_MSG(parse(bad[i].section, &c, err, sizeof err) == -1, "%s", bad[i].section);
        CHECK_CONTAINS(err, bad[i].want);
    }
    return ow_test_done("modbusd_cfg");
}
