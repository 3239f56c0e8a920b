/* The "services.modbusd" section of the site file: its key table. The
 * schema engine (lib/ow_schema.h) reads, checks and documents every key
 * from these rows (docs/config.md, and the settings table of
 * docs/modbus.md); a new key is one row here and a field in
 * ow_modbusd_cfg_t. The keys plain types cannot say (the allow-list, the
 * unit map, the listen address, the baud rates) are rows with hooks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modbusd.h"
#include "netparse.h"
#include "ow_schema.h"
#include "rtu.h"

/* listen: the text as written, and its address and port parsed strictly. */
static int listen_check(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base)
{
    ow_modbusd_cfg_t *m = base;
    char why[160];
    (void)k;
    if (ow_parse_listen(m->listen, &m->listen_addr, &m->listen_port, why, sizeof why) < 0)
        return ow_schema_fail(c, path, "%s", why);
    return 0;
}

static int listen_fill(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base)
{
    snprintf((char *)base + k->off, k->size, "%s", k->sdef);
    return listen_check(c, k, path, base);
}

static int allow_parse(ow_schema_ctx_t *c, const ow_key_t *k, json_t *v, const char *path,
                       void *base)
{
    ow_modbusd_cfg_t *m = base;
    size_t i;
    json_t *e;
    char ep[160], why[160];
    (void)k;
    /* [] would mean "every address" by omission: say so explicitly or not at all. */
    if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > OW_MB_ALLOW_MAX)
        return ow_schema_fail(c, path,
                              "expected an array of 1..%d IPv4 addresses or CIDR blocks "
                              "(\"0.0.0.0/0\" for every address)",
                              OW_MB_ALLOW_MAX);
    json_array_foreach(v, i, e)
    {
        snprintf(ep, sizeof ep, "%s[%zu]", path, i);
        if (!json_is_string(e))
            return ow_schema_fail(c, ep,
                                  "expected an IPv4 address or CIDR block such as \"10.0.0.0/8\"");
        if (ow_parse_cidr(json_string_value(e), &m->allow_net[i], &m->allow_mask[i], why,
                          sizeof why) < 0)
            return ow_schema_fail(c, ep, "%s", why);
    }
    m->nallow = (int)json_array_size(v);
    return 0;
}

/* units: without the key, gateway i answers as unit i + 1. */
static int units_fill(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base)
{
    ow_modbusd_cfg_t *m = base;
    const ow_site_t *site = c->user;
    int ngw = site ? site->ngateways : 0;
    (void)k, (void)path;
    for (int u = 0; u < 256; u++)
        m->unit_gw[u] = u >= 1 && u <= ngw ? u - 1 : -1;
    return 0;
}

static int units_parse(ow_schema_ctx_t *c, const ow_key_t *k, json_t *v, const char *path,
                       void *base)
{
    ow_modbusd_cfg_t *m = base;
    const ow_site_t *site = c->user;
    const char *key;
    json_t *e;
    char ep[160];
    (void)k;
    if (!json_is_object(v))
        return ow_schema_fail(c, path, "expected an object of unit id: gateway id");
    for (int u = 0; u < 256; u++)
        m->unit_gw[u] = -1; /* an explicit map replaces the default */
    json_object_foreach(v, key, e)
    {
        char *end;
        long u = strtol(key, &end, 10);
        int gi = -1;
        snprintf(ep, sizeof ep, "%s.%s", path, key);
        for (int i = 0; site && json_is_string(e) && i < site->ngateways; i++)
            if (strcmp(site->gateways[i].id, json_string_value(e)) == 0) gi = i;
        if (*end || end == key || u < 1 || u > 247)
            return ow_schema_fail(c, ep, "unit id must be 1..247");
        if (gi < 0) return ow_schema_fail(c, ep, "expected the id of a gateway of this site");
        m->unit_gw[u] = gi;
    }
    return 0;
}

/* rtu.baud: the range row says 1200..115200; of those only the rates a
 * serial line can be set to (rtu.c's table). */
static int baud_check(ow_schema_ctx_t *c, const ow_key_t *k, const char *path, void *base)
{
    if (ow_mb_baud_speed(*(const int *)((const char *)base + k->off))) return 0;
    return ow_schema_fail(c, path, "unsupported baud rate (%s)", OW_MB_BAUDS_DOC);
}

static const char *const parities[] = {"N", "E", "O", NULL};

#define MK(m) OW_AT(ow_modbusd_cfg_t, m)

/* clang-format off */
const ow_key_t ow_modbusd_keys[] = {
    {.key = "listen", .type = OW_KEY_STRING, MK(listen), .sdef = "0.0.0.0:502",
     .range_doc = "`A.B.C.D:PORT`, `*:PORT`", .check = listen_check, .fill = listen_fill,
     .doc = "Where Modbus TCP is served: PORT 1..65535 in decimal; anything else (a name, "
            "`99999`, `abc`) is an error naming the key."},
    {.key = "idle_timeout_ms", .type = OW_KEY_INT, MK(idle_timeout_ms), .min = 100,
     .max = 3600000, .def = 10000,
     .doc = "A client that sends nothing, or stops mid-frame, this long is dropped, ms."},
    {.key = "max_clients", .type = OW_KEY_INT, MK(max_clients), .min = 1,
     .max = OW_MB_CLIENTS_MAX, .def = 64,
     .doc = "Connection slots; when all are taken, see \"A master can always reach it\" in "
            "docs/modbus.md."},
    {.key = "allow", .type = OW_KEY_CUSTOM, MK(allow_net), .type_doc = "array",
     .range_doc = "1..32 of `A.B.C.D`, `A.B.C.D/N`", .ddoc = "everyone (logged at start)",
     .parse = allow_parse,
     .doc = "IPv4 addresses (`10.1.2.3`) or CIDR blocks (`10.0.0.0/8`) that may connect; an "
            "entry that is not exactly that (octets 0..255 without leading zeros, prefix 0..32, "
            "no host bits below the prefix, at most 18 bytes) is an error naming it; `[]` is an "
            "error, `\"0.0.0.0/0\"` means everyone."},
    {.key = "units", .type = OW_KEY_CUSTOM, MK(unit_gw),
     .range_doc = "`{\"UNIT\": \"GATEWAY-ID\"}`, UNIT 1..247", .ddoc = "gateway index + 1",
     .parse = units_parse, .fill = units_fill,
     .doc = "Which gateway answers under which unit id; replaces the default mapping."},
    {.key = "scale.string_current", .type = OW_KEY_DOUBLE, MK(scale.string_current), .min = 0,
     .max = 1e6, .def = 10, .flags = OW_KEY_MIN_OPEN,
     .doc = "String current register = round(A x scale): 10 is 0.1 A."},
    {.key = "scale.string_sum_v", .type = OW_KEY_DOUBLE, MK(scale.string_sum_v), .min = 0,
     .max = 1e6, .def = 10, .flags = OW_KEY_MIN_OPEN,
     .doc = "String sum voltage register = round(V x scale): 10 is 0.1 V."},
    {.key = "scale.string_avg_v", .type = OW_KEY_DOUBLE, MK(scale.string_avg_v), .min = 0,
     .max = 1e6, .def = 1000, .flags = OW_KEY_MIN_OPEN,
     .doc = "String average voltage register = round(V x scale): 1000 is 1 mV."},
    {.key = "scale.string_ac", .type = OW_KEY_DOUBLE, MK(scale.string_ac), .min = 0,
     .max = 1e6, .def = 10, .flags = OW_KEY_MIN_OPEN,
     .doc = "String AC current register = round(A x scale): 10 is 0.1 A."},
    {.key = "rtu.device", .type = OW_KEY_STRING, MK(rtu_device), .ddoc = "none (no RTU)",
     .doc = "Also serve Modbus RTU on this serial line, same map and unit ids; frames with a "
            "bad CRC are logged and ignored, requests for other units get no answer. Required "
            "when `rtu` is given."},
    {.key = "rtu.baud", .type = OW_KEY_INT, MK(rtu_baud), .min = 1200, .max = 115200,
     .def = 19200, .range_doc = OW_MB_BAUDS_DOC, .check = baud_check,
     .doc = "Line speed, baud."},
    {.key = "rtu.parity", .type = OW_KEY_ENUM, MK(rtu_parity), .sdef = "N", .choices = parities,
     .doc = "None, even or odd; one stop bit."},
};
/* clang-format on */
const size_t ow_modbusd_nkeys = sizeof ow_modbusd_keys / sizeof ow_modbusd_keys[0];

/* rtu given means an RTU line: it has to say which. */
int ow_modbusd_finish(ow_schema_ctx_t *c, const json_t *obj, void *base)
{
    const ow_modbusd_cfg_t *m = base;
    if (obj && json_object_get(obj, "rtu") && !m->rtu_device[0])
        return ow_schema_fail(c, "services.modbusd.rtu.device",
                              "required when rtu is given (1..%zu bytes)",
                              sizeof m->rtu_device - 1);
    return 0;
}

const ow_schema_section_t ow_modbusd_section = {
    .path = "services.modbusd",
    .keys = ow_modbusd_keys,
    .nkeys = sizeof ow_modbusd_keys / sizeof ow_modbusd_keys[0],
    .size = sizeof(ow_modbusd_cfg_t),
    .finish = ow_modbusd_finish,
    .doc = "modbusd (services/modbusd): the G.BMS register map of every gateway over Modbus\n"
           "TCP, and optionally RTU (docs/modbus.md). All keys are optional. SIGHUP re-reads\n"
           "allow, idle_timeout_ms, scale and units; the others need a restart.",
};

int ow_site_modbusd(const ow_site_t *site, ow_modbusd_cfg_t *out, char *err, size_t errlen)
{
    return ow_site_section(site, &ow_modbusd_section, out, err, errlen);
}

int ow_modbusd_doc_config(FILE *out)
{
    fprintf(out, "## Configuration (`services.modbusd`)\n\n"
                 "Generated from the rows of `services/modbusd/modbusd_keys.c`, the same as "
                 "the `services.modbusd` section of docs/config.md.\n\n");
    ow_schema_doc_table(out, ow_modbusd_keys, ow_modbusd_nkeys, "");
    return ferror(out) ? -1 : 0;
}
