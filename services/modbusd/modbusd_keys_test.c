/* services.modbusd from its key table (modbusd_keys.c): the section read
 * from site texts (defaults, values, and the refusals, each at its key; an
 * allow entry or an RTU device that would be cut short, a baud rate out of
 * range and a prefix length strtol would take loosely (" 8", "+8") are
 * refused); the settings table of docs/modbus.md from the same rows; then
 * one new integer row parsed, range-checked, documented and settable with
 * no other code (ow_test_schema.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modbusd.h"
#include "ow_test.h"
#include "ow_test_schema.h"

#define SITE_HEAD                                                                                  \
    "{\"gateways\": [{\"id\": \"wm1\", \"publish\": \"tcp://127.0.0.1:7941\", \"replay\": "        \
    "\"tcp://127.0.0.1:7942\", \"module_type\": \"C20\", \"battery\": {\"capacity_ah\": 100}, "    \
    "\"strings\": [{\"modules\": 4}]}], \"services\": {\"modbusd\": "

/* The site text with section as services.modbusd, read by sec (NULL:
 * ow_site_modbusd into an ow_modbusd_cfg_t). */
static int parse_with(const ow_schema_section_t *sec, const char *file, const char *section,
                      void *out, char *err, size_t errlen)
{
    static char text[8192];
    snprintf(text, sizeof text, "%s%s}}", SITE_HEAD, section);
    ow_site_t *site = ow_site_parse(text, strlen(text), file, err, errlen);
    CHECK_MSG(site != NULL, "%s", err);
    if (!site) return -2;
    int rc = sec ? ow_site_section(site, sec, out, err, errlen)
                 : ow_site_modbusd(site, out, err, errlen);
    ow_site_destroy(&site);
    return rc;
}

static int parse(const char *section, ow_modbusd_cfg_t *out, char *err, size_t errlen)
{
    return parse_with(NULL, "site.json", section, out, err, errlen);
}

/* Without the section (and with {}): every default, as before the table. */
static void defaults(void)
{
    static ow_modbusd_cfg_t c;
    static char err[1024];
    ow_mb_scale_t s;
    ow_mb_scale_default(&s);
    CHECK_MSG(parse("{}", &c, err, sizeof err) == 0, "%s", err);
    CHECK_STR(c.listen, "0.0.0.0:502");
    CHECK(c.listen_addr == 0 && c.listen_port == 502);
    CHECK(c.idle_timeout_ms == 10000 && c.max_clients == 64 && c.nallow == 0);
    /* The rows' scale defaults are the image's (regmap.c): they cannot drift. */
    CHECK(memcmp(&c.scale, &s, sizeof s) == 0);
    CHECK_STR(c.rtu_device, "");
    CHECK(c.unit_gw[0] == -1 && c.unit_gw[1] == 0 && c.unit_gw[2] == -1);
    CHECK(parse("{\"listen\": \"*:1502\", \"scale\": {\"string_avg_v\": 0.5}}", &c, err,
                sizeof err) == 0);
    CHECK(c.listen_port == 1502 && c.scale.string_avg_v == 0.5 && c.scale.string_ac == 10);
}

/* docs/modbus.md's settings table: the rows, with their defaults. */
static void doc(void)
{
    char *d = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&d, &n);
    CHECK(f != NULL);
    if (!f) return;
    CHECK(ow_modbusd_doc_config(f) == 0);
    fclose(f);
    CHECK_CONTAINS(d, "## Configuration (`services.modbusd`)\n");
    CHECK_CONTAINS(d, "| `listen` | string | `A.B.C.D:PORT`, `*:PORT` | `0.0.0.0:502` |");
    CHECK_CONTAINS(d, "| `idle_timeout_ms` | integer | 100 .. 3600000 | 10000 |");
    CHECK_CONTAINS(d, "| `max_clients` | integer | 1 .. 1024 | 64 |");
    CHECK_CONTAINS(d, "| `scale.string_avg_v` | number | > 0 .. 1000000 | 1000 |");
    CHECK_CONTAINS(d, "| `rtu.baud` | integer | 1200, 2400, 4800, 9600, 19200, 38400, 57600, "
                      "115200 | 19200 |");
    CHECK_CONTAINS(d, "| `rtu.parity` | enum | N, E, O | `N` |");
    free(d);
}

/* The configuration as it would be with one more field. */
typedef struct {
    ow_modbusd_cfg_t m; /* first: the real rows' offsets stay valid */
    int response_delay_ms;
} wide_cfg_t;

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
    CHECK(c.rtu_baud == 9600 && c.rtu_parity[0] == 'E');
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
        {s_longdev, "services.modbusd.rtu.device: too long (at most 127 bytes)"},
        {"{\"rtu\": {\"device\": \"\"}}", "services.modbusd.rtu.device: required when rtu"},
        {"{\"rtu\": {\"baud\": 9600}}", "services.modbusd.rtu.device: required when rtu"},
        {"{\"rtu\": {\"device\": \"/dev/ttyS0\", \"baud\": -9600}}",
         "services.modbusd.rtu.baud: must be between 1200 and 115200"},
        {"{\"rtu\": {\"device\": \"/dev/ttyS0\", \"baud\": 4294977296}}",
         "services.modbusd.rtu.baud: must be between 1200 and 115200"},
        {"{\"rtu\": {\"device\": \"/dev/ttyS0\", \"baud\": 12345}}",
         "services.modbusd.rtu.baud: unsupported baud rate (1200, 2400,"},
        {"{\"rtu\": {\"device\": \"/dev/ttyS0\", \"parity\": \"X\"}}",
         "services.modbusd.rtu.parity: must be one of: N, E, O"},
        {"{\"rtu\": {\"device\": \"/dev/ttyS0\", \"stop\": 2}}",
         "services.modbusd.rtu.stop: unknown key"},
        {"{\"rtu\": \"/dev/ttyS0\"}", "services.modbusd.rtu: expected an object"},
        {"{\"idle_timeout_ms\": 5}", "services.modbusd.idle_timeout_ms: must be between 100 and"},
        {"{\"max_clients\": 1025}", "services.modbusd.max_clients: must be between 1 and 1024"},
        {"{\"scale\": {\"string_ac\": 0}}",
         "services.modbusd.scale.string_ac: must be above 0 and at most 1000000"},
        {"{\"scale\": {\"string_dc\": 1}}", "services.modbusd.scale.string_dc: unknown key"},
        {"{\"listen\": \"localhost:502\"}",
         "services.modbusd.listen: \"localhost:502\": \"localhost\" is not"},
        {"{\"allow\": []}", "services.modbusd.allow: expected an array of 1..32"},
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
    defaults();
    doc();
    static const ow_key_t extra = {.key = "response_delay_ms",
                                   .type = OW_KEY_INT,
                                   OW_AT(wide_cfg_t, response_delay_ms),
                                   .min = 0,
                                   .max = 1000,
                                   .def = 0,
                                   .doc = "Wait this long before answering."};
    ow_test_new_int_row(&ow_modbusd_section, &extra, sizeof(wide_cfg_t), "/srv/site.json",
                        parse_with);
    return ow_test_done("modbusd_keys");
}
