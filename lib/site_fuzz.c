/* libFuzzer target: a site file, and every section reader that parses a part
 * of it (alarmd, security, historian, modbusd, snmpd, webd, the lint). Any input
 * must be refused with a message or loaded; what is loaded must hold the
 * loader's promises (strings add up to the modules, every setting reads back
 * and sets again to itself), and nothing may crash, leak or read out of
 * bounds. Files a section names ("file:" secrets) resolve under a directory
 * that does not exist, so a relative name reads nothing. */
#include "historian.h"
#include "modbusd.h"
#include "ow_config.h"
#include "ow_lint.h"
#include "snmpcfg.h"
#include "webd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void no_line(void *ctx, const char *line)
{
    (void)line;
    ++*(int *)ctx;
}

static void no_lint(void *ctx, const ow_gateway_cfg_t *g, const char *key, const char *msg)
{
    (void)g;
    if (!key || !msg) abort();
    ++*(int *)ctx;
}

/* What the loader promises of a gateway it accepted. */
static void check_gateway(ow_gateway_cfg_t *g)
{
    int sum = 0;
    if (g->nstrings < 1 || g->nstrings > OW_MAX_STRINGS) abort();
    for (int s = 0; s < g->nstrings; s++) {
        if (g->strings[s].modules < 1 || g->strings[s].first_module != sum + 1) abort();
        sum += g->strings[s].modules;
    }
    if (sum != g->nmodules || g->nmodules > OW_MAX_MODULES) abort();
    if (!g->module_type || !g->battery.chem || ow_gateway_cells(g) < 1) abort();
    if (!memchr(g->id, 0, sizeof g->id) || !g->id[0]) abort();
    /* Every runtime setting reads back, and setting it to what it is holds. */
    char err[256];
    for (const char *const *k = ow_gateway_keys(); *k; k++) {
        double v, lo, hi;
        if (ow_gateway_get(g, *k, &v) < 0 || ow_gateway_range(*k, &lo, &hi) < 0) abort();
        if (ow_gateway_set(g, *k, v, err, sizeof err) < 0) abort();
    }
    int n = 0;
    ow_gateway_lint(g, no_lint, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {
        once = 1;
        unsetenv("OHMWATCH_KEYS_DIR"); /* the file's keys_dir, not this machine's */
        unsetenv("OHMWATCH_PG_DSN");
    }
    char err[512];
    /* An odd-sized input (one more space) is a site file 490 bytes deep, so
     * every path it resolves meets the length limits. */
    static char deep[512];
    if (!deep[0]) {
        memset(deep, 'd', 490);
        memcpy(deep, "/nonexistent/", 13);
        memcpy(deep + 490, "/site.json", 11);
    }
    const char *path = size % 2 ? deep : "/nonexistent/ohmwatch-fuzz/site.json";
    ow_site_t *site = ow_site_parse((const char *)data, size, path, err, sizeof err);
    /* OW_FUZZ_VERBOSE=1: say why each input was refused (checking a seed). */
    static int verbose = -1;
    if (verbose < 0) verbose = getenv("OW_FUZZ_VERBOSE") != NULL;
    if (!site) {
        if (!err[0]) abort(); /* refused without a reason */
        if (verbose) fprintf(stderr, "refused: %s\n", err);
        return 0;
    }
    if (site->ngateways < 1 || site->ngateways > OW_MAX_GATEWAYS) abort();
    for (int i = 0; i < site->ngateways; i++) {
        check_gateway(&site->gateways[i]);
        if (ow_site_gateway(site, site->gateways[i].id) != &site->gateways[i]) abort(); /* unique */
    }
    int n = 0;
    ow_site_lint(site, no_line, &n);

    ow_alarmd_cfg_t a;
    ow_security_cfg_t sec;
    /* load checked both; they must agree with it */
    if (ow_site_alarmd(site, &a, err, sizeof err) < 0) abort();
    if (ow_site_security(site, &sec, err, sizeof err) < 0) abort();

    ow_historian_cfg_t h;
    if (ow_site_historian(site, &h, err, sizeof err) < 0 && !err[0]) abort();
    static ow_modbusd_cfg_t m;
    if (ow_site_modbusd(site, &m, err, sizeof err) < 0 && !err[0]) abort();
    static ow_webd_cfg_t w;
    if (ow_site_webd(site, &w, err, sizeof err) < 0 && !err[0]) abort();
    static ow_snmpd_cfg_t s;
    err[0] = '\0';
    if (ow_site_snmpd(site, &s, err, sizeof err) < 0) {
        if (!err[0]) abort();
        if (verbose) fprintf(stderr, "snmpd refused: %s\n", err);
    } else {
        if (s.default_gw < 0 || s.default_gw >= site->ngateways) abort();
        ow_snmpd_conf_lines(site, &s, no_line, &n);
    }
    ow_site_destroy(&site);
    return 0;
}
