/* ohmwatch-alarmd: wiring only. Flags, config check, run until SIGTERM;
 * SIGHUP reloads the site file. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <czmq.h>

#include "alarmd.h"
#include "ow_config.h"
#include "ow_log.h"
#include "ow_signal.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: ohmwatch-alarmd [-dnhv] -f SITE.json\n"
                 "  -f FILE  site configuration (gateways, thresholds, services.alarmd)\n"
                 "  -n       check the configuration and exit\n"
                 "  -d       stay in the foreground (always)\n"
                 "  -v       more log detail\n");
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    int check = 0, verbose = 0, c;
    char err[1024];

    while ((c = getopt(argc, argv, "f:ndvh")) != -1) {
        switch (c) {
        case 'f':
            file = optarg;
            break;
        case 'n':
            check = 1;
            break;
        case 'd':
            break;
        case 'v':
            verbose++;
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
    ow_log_init("alarmd", verbose);
    if (check) {
        ow_alarmd_cfg_t cfg;
        ow_site_t *site = ow_site_load(file, err, sizeof err);
        if (!site || ow_site_alarmd(site, &cfg, err, sizeof err) < 0) {
            fprintf(stderr, "ohmwatch-alarmd: %s\n", err);
            ow_site_destroy(&site);
            return 1;
        }
        ow_site_destroy(&site);
        printf("configuration OK\n");
        return 0;
    }
    ow_signals_init();
    ow_alarmd_t *a = ow_alarmd_new(file, err, sizeof err);
    if (!a) {
        log_errx("%s", err);
        return 1;
    }
    int rc = ow_alarmd_run(a, &ow_sig_stop, &ow_sig_reload);
    ow_alarmd_destroy(&a);
    zsys_shutdown();
    return rc ? 1 : 0;
}
