/* ohmwatch-modbusd: wiring only. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <czmq.h>

#include "modbusd.h"
#include "ow_config.h"
#include "ow_log.h"
#include "ow_signal.h"
#include "regmap.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: ohmwatch-modbusd [-dnhv] [--doc] -f SITE.json\n"
                 "  -f FILE     site configuration (services.modbusd: listen, scale, ...)\n"
                 "  -n          check the configuration and exit\n"
                 "  --doc       write the register map as Markdown (docs/modbus.md) and exit\n"
                 "  -d          stay in the foreground (always)\n"
                 "  -v          more log detail\n");
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    int check = 0, verbose = 0, c;
    char err[1024];
    static const struct option lo[] = {
        {"doc", no_argument, NULL, 1}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};

    while ((c = getopt_long(argc, argv, "f:ndvh", lo, NULL)) != -1) {
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
        case 1:
            return ow_mb_doc(stdout) < 0 ? 1 : 0;
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
    ow_log_init("modbusd", verbose);
    if (check) {
        ow_modbusd_cfg_t cfg;
        ow_site_t *site = ow_site_load(file, err, sizeof err);
        if (!site || ow_site_modbusd(site, &cfg, err, sizeof err) < 0) {
            fprintf(stderr, "ohmwatch-modbusd: %s\n", err);
            ow_site_destroy(&site);
            return 1;
        }
        ow_site_destroy(&site);
        printf("configuration OK\n");
        return 0;
    }
    ow_signals_init();
    ow_modbusd_t *d = ow_modbusd_new(file, err, sizeof err);
    if (!d) {
        log_errx("%s", err);
        return 1;
    }
    int rc = ow_modbusd_run(d, &ow_sig_stop);
    ow_modbusd_destroy(&d);
    zsys_shutdown();
    return rc ? 1 : 0;
}
