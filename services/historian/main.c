/* ohmwatch-historian: wiring only. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <czmq.h>

#include "historian.h"
#include "ow_config.h"
#include "ow_log.h"
#include "ow_signal.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: ohmwatch-historian [-dnhv] [--migrate] -f SITE.json\n"
                 "  -f FILE     site configuration (services.historian: dsn, spool, batches)\n"
                 "  -n          check the configuration and exit\n"
                 "  --migrate   apply the database migrations and exit\n"
                 "  -d          stay in the foreground (always)\n"
                 "  -v          more log detail\n"
                 "The connection string may come from $OHMWATCH_PG_DSN instead of the file.\n");
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    int check = 0, migrate = 0, verbose = 0, c;
    char err[1024];
    static const struct option lo[] = {
        {"migrate", no_argument, NULL, 1}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};

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
            migrate = 1;
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
    ow_log_init("historian", verbose);
    if (check) {
        ow_historian_cfg_t cfg;
        ow_site_t *site = ow_site_load(file, err, sizeof err);
        if (!site || ow_site_historian(site, &cfg, err, sizeof err) < 0) {
            fprintf(stderr, "ohmwatch-historian: %s\n", err);
            ow_site_destroy(&site);
            return 1;
        }
        ow_site_destroy(&site);
        printf("configuration OK\n");
        return 0;
    }
    if (migrate) {
        if (ow_historian_migrate(file, err, sizeof err) < 0) {
            fprintf(stderr, "ohmwatch-historian: %s\n", err);
            return 1;
        }
        return 0;
    }
    ow_signals_init();
    ow_historian_t *h = ow_historian_new(file, err, sizeof err);
    if (!h) {
        log_errx("%s", err);
        return 1;
    }
    int rc = ow_historian_run(h, &ow_sig_stop);
    ow_historian_destroy(&h);
    zsys_shutdown();
    return rc ? 1 : 0;
}
