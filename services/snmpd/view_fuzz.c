/* libFuzzer target: what an SNMP manager sends snmpd, against the agent's
 * view of a gateway (the net-snmp agent hands OIDs and INTEGERs on; this is
 * everything after that). The input is lines:
 *   m JSON          a wire message (a busd or alarmd one) folded into the view
 *   g OID / n OID   GET / GETNEXT
 *   w               a walk of the whole view from the root
 *   s OID=V ...     one SET request: the agent's checks, then its plan
 *   f               switch bacsTemperatureUnit to Fahrenheit
 * An OID is dotted numbers (any length, any value) or a row's name with an
 * optional instance, e.g. bacsVoltageHighAlarm.0. The view is of the
 * guide's sample site (etc/site-sample.json, 2 x 9 blocks). Nothing may
 * crash; a walk must come back in strictly increasing order and a GET of
 * what it returned must find the same entry; a SET of a value the check
 * accepts is planned or refused with a reason. */
#include "oidtab.h"
#include "ow_config.h"
#include "ow_proto.h"
#include "view.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OIDBUF 64 /* longer than the agent keeps (OW_SNMP_OIDMAX): it cuts */

/* An OID token into o; its length, cut to OW_SNMP_OIDMAX like the agent. */
static int parse_oid(const char *s, uint32_t *o)
{
    uint32_t buf[OIDBUF];
    int n = 0;
    if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')) {
        char name[64];
        size_t k = strcspn(s, ".");
        if (k >= sizeof name) return 0;
        memcpy(name, s, k);
        name[k] = '\0';
        int r = ow_snmp_find(name);
        if (r < 0) return 0;
        memcpy(buf, ow_snmp_root, sizeof ow_snmp_root);
        n = OW_SNMP_ROOTN;
        for (int i = 0; i < ow_snmp_sublen(&ow_snmp_oids[r]); i++)
            buf[n++] = (uint32_t)ow_snmp_oids[r].sub[i];
        s += k;
        if (*s == '.') s++;
    }
    while (*s && n < OIDBUF) {
        char *end;
        unsigned long long x = strtoull(s, &end, 10);
        if (end == s) break;
        buf[n++] = x > UINT32_MAX ? UINT32_MAX : (uint32_t)x; /* the agent clamps too */
        s = *end == '.' ? end + 1 : end;
        if (end[0] != '.') break;
    }
    int len = n > OW_SNMP_OIDMAX ? OW_SNMP_OIDMAX : n;
    memcpy(o, buf, sizeof(uint32_t) * (size_t)len);
    return len;
}

static void walk(ow_snmp_view_t *v)
{
    /* The image is what GET and GETNEXT search: strictly sorted, or a walk
     * skips rows and two rows share an OID. */
    for (int i = 1; i < v->nimg; i++)
        if (ow_snmp_oid_cmp(v->img[i - 1].o, v->img[i - 1].len, v->img[i].o, v->img[i].len) >= 0)
            abort();
    uint32_t o[OW_SNMP_OIDMAX];
    int len = 0;
    const ow_snmp_vb_t *prev = NULL;
    for (int steps = 0; steps <= v->nimg; steps++) {
        const ow_snmp_vb_t *e = ow_snmp_view_next(v, o, len);
        if (!e) return;
        if (e->len < 1 || e->len > OW_SNMP_OIDMAX) abort();
        if (prev && ow_snmp_oid_cmp(prev->o, prev->len, e->o, e->len) >= 0) abort();
        if (ow_snmp_view_get(v, e->o, e->len) != e) abort();
        memcpy(o, e->o, sizeof(uint32_t) * e->len);
        len = e->len;
        prev = e;
    }
    abort(); /* more steps than entries: the walk loops */
}

static void set(ow_snmp_view_t *v, char *line)
{
    ow_snmp_set_t s[8];
    int n = 0;
    char err[256];
    for (char *tok = strtok(line, " "); tok && n < 8; tok = strtok(NULL, " ")) {
        char *eq = strchr(tok, '=');
        if (!eq) return;
        *eq = '\0';
        uint32_t o[OW_SNMP_OIDMAX];
        int len = parse_oid(tok, o);
        int row = ow_snmp_row_of(o, len);
        if (row < 0 || !ow_snmp_view_get(v, o, len)) return; /* the agent refuses */
        s[n] = (ow_snmp_set_t){.row = row, .wire = (int32_t)strtol(eq + 1, NULL, 10)};
        err[0] = '\0';
        int rc = ow_snmp_set_check(v, &s[n], err, sizeof err);
        if (rc != OW_SET_OK) {
            if (!err[0]) abort();
            return;
        }
        n++;
    }
    if (n == 0) return;
    err[0] = '\0';
    int rc = ow_snmp_set_plan(v, s, n, err, sizeof err);
    if (rc != OW_SET_OK && !err[0]) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ow_site_t *site;
    static ow_snmp_view_t *v;
    static ow_msg_t m;
    char err[256];
    if (!site) {
        site = ow_site_load(OW_FUZZ_SITE, err, sizeof err);
        v = malloc(sizeof *v);
        if (!site || !v) {
            fprintf(stderr, "view_fuzz: %s\n", site ? "out of memory" : err);
            abort();
        }
    }
    ow_snmp_view_init(v, &site->gateways[0]);
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';
    uint32_t ticks = 0;
    int stale = 1;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        if (!line[0]) continue;
        char op = line[0], *arg = line[1] == ' ' ? line + 2 : line + 1;
        uint32_t o[OW_SNMP_OIDMAX];
        int len;
        /* rebuilt before a request when readings came in, as the agent does */
        if (op != 'm' && stale) {
            ow_snmp_view_build(v);
            stale = 0;
        }
        switch (op) {
        case 'm':
            if (ow_decode(NULL, 0, arg, strlen(arg), &m, err, sizeof err, NULL) == OW_PERR_OK) {
                ow_snmp_view_apply(v, &m, ticks += 100);
                stale = 1;
            }
            break;
        case 'g':
            len = parse_oid(arg, o);
            (void)ow_snmp_view_get(v, o, len);
            break;
        case 'n':
            len = parse_oid(arg, o);
            (void)ow_snmp_view_next(v, o, len);
            break;
        case 'w':
            walk(v);
            break;
        case 's':
            set(v, arg);
            break;
        case 'f':
            ow_snmp_view_setting(v, "temperature_unit", 1);
            break;
        }
    }
    ow_snmp_view_build(v);
    walk(v);
    free(text);
    ow_snmp_view_free(v);
    return 0;
}
