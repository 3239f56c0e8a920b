/* ohmwatch-busd: wiring only. Parse flags, load the site, build the engine
 * for one gateway, run it until SIGTERM/SIGINT, tear down. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "busd.h"
#include "field.h"
#include "scenario.h"
#include "ow_auth.h"
#include "ow_config.h"
#include "ow_lint.h"
#include "ow_log.h"
#include "ow_signal.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: ohmwatch-busd [-dnhv] -f SITE.json [-g GATEWAY] [options]\n"
        "  -f FILE        site configuration\n"
        "  -g ID          gateway to serve (needed when the site has several)\n"
        "  -n             check the configuration (and scenario) and exit\n"
        "  -d             stay in the foreground (always; for symmetry with the other daemons)\n"
        "  -v             more log detail (repeatable)\n"
        "  -s SPEED       simulated time acceleration (overrides sim.speed)\n"
        "  -S FILE        scenario file (overrides sim.scenario)\n"
        "  --seed N       simulator seed (overrides sim.seed and the scenario's)\n"
        "  --cycles N     stop after N poll cycles\n"
        "  --no-wait      poll back-to-back without deadlines (benchmarks)\n"
        "  --linger S     after --cycles, keep answering replay requests S seconds\n"
        "  --plan         print a field device's requests per cycle (FC ADDRESS COUNT) and exit\n");
}

static void print_warning(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "ohmwatch-busd: warning: %s\n", line);
}

static void log_warning(void *ctx, const char *line)
{
    (void)ctx;
    log_warnx("%s", line);
}

int main(int argc, char **argv)
{
    const char *file = NULL, *gw_id = NULL;
    int check = 0, verbose = 0, plan = 0, c;
    ow_busd_opts_t opts = {0};
    char err[1024];
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 1},
        {"cycles", required_argument, NULL, 2},
        {"no-wait", no_argument, NULL, 3},
        {"linger", required_argument, NULL, 4},
        {"plan", no_argument, NULL, 5},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };

    while ((c = getopt_long(argc, argv, "f:g:ndvs:S:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            file = optarg;
            break;
        case 'g':
            gw_id = optarg;
            break;
        case 'n':
            check = 1;
            break;
        case 'd':
            break;
        case 'v':
            verbose++;
            break;
        case 's':
            opts.speed = atof(optarg);
            break;
        case 'S':
            opts.scenario = optarg;
            break;
        case 1:
            opts.seed = strtoull(optarg, NULL, 0);
            break;
        case 2:
            opts.max_cycles = strtoull(optarg, NULL, 0);
            break;
        case 3:
            opts.no_wait = 1;
            break;
        case 4:
            opts.linger_s = atof(optarg);
            break;
        case 5:
            plan = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!file) {
        usage(stderr);
        return 2;
    }
    ow_log_init("busd", verbose);

    ow_site_t *site = ow_site_load(file, err, sizeof err);
    if (!site) {
        fprintf(stderr, "ohmwatch-busd: %s\n", err);
        return 1;
    }
    const ow_gateway_cfg_t *gw = NULL;
    if (gw_id)
        gw = ow_site_gateway(site, gw_id);
    else if (site->ngateways == 1)
        gw = &site->gateways[0];
    if (!gw) {
        fprintf(stderr, "ohmwatch-busd: %s: %s\n", file,
                gw_id ? "no such gateway" : "several gateways: choose one with -g");
        ow_site_destroy(&site);
        return 1;
    }
    if (check) {
        /* Loading the scenario is part of the check; binding is not. */
        const char *scen = opts.scenario ? opts.scenario : gw->sim.scenario;
        if (scen && *scen) {
            char path[1024];
            const char *p = opts.scenario ? scen : ow_site_path(site, scen, path, sizeof path);
            ow_scenario_t *sc = ow_scenario_load(p, err, sizeof err);
            if (!sc) {
                fprintf(stderr, "ohmwatch-busd: %s\n", err);
                ow_site_destroy(&site);
                return 1;
            }
            ow_scenario_destroy(&sc);
        }
        /* A field device's map is part of the configuration too. */
        if (strcmp(gw->source, "sim") != 0 && ow_field_check(site, gw, err, sizeof err) < 0) {
            fprintf(stderr, "ohmwatch-busd: %s\n", err);
            ow_site_destroy(&site);
            return 1;
        }
        /* Thresholds that contradict the battery warn; the site is valid. */
        ow_site_lint_gateway(site, gw, print_warning, NULL);
        printf("configuration OK\n");
        ow_site_destroy(&site);
        return 0;
    }

    if (plan) {
        ow_field_t *f = NULL;
        if (strcmp(gw->source, "sim") == 0)
            snprintf(err, sizeof err, "gateway %s: source sim sends no requests", gw->id);
        else
            f = ow_field_new(site, gw, err, sizeof err);
        if (!f) fprintf(stderr, "ohmwatch-busd: %s\n", err);
        for (int i = 0; f && i < ow_field_nreqs(f); i++)
            printf("%d %d %d\n", ow_field_req(f, i)->fc, ow_field_req(f, i)->addr,
                   ow_field_req(f, i)->count);
        int rc = f ? 0 : 1;
        ow_field_destroy(&f);
        ow_site_destroy(&site);
        return rc;
    }

    ow_site_lint_gateway(site, gw, log_warning, NULL);
    ow_signals_init();
    /* Every busd holds the one "busd" key: subscribers expect it from any
     * gateway's publisher (docs/security.md). */
    if (ow_auth_init_site(site, "busd", err, sizeof err) < 0) {
        log_errx("%s", err);
        ow_site_destroy(&site);
        return 1;
    }

    ow_busd_t *b = ow_busd_new(site, gw, &opts, err, sizeof err);
    if (!b) {
        log_errx("%s", err);
        ow_auth_shutdown();
        ow_site_destroy(&site);
        return 1;
    }
    int rc = ow_busd_run(b, &ow_sig_stop);
    ow_busd_destroy(&b);
    ow_auth_shutdown();
    ow_site_destroy(&site);
    zsys_shutdown();
    return rc ? 1 : 0;
}
