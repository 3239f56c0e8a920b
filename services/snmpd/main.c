/* ohmwatch-snmpd: wiring only. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <czmq.h>

#include "agent.h"
#include "oidtab.h"
#include "ow_config.h"
#include "ow_log.h"
#include "ow_signal.h"
#include "snmpcfg.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: ohmwatch-snmpd [-dnhv] [--doc | --mib] -f SITE.json\n"
                 "  -f FILE     site configuration (services.snmpd: listen, users, notify, ...)\n"
                 "  -n          check the configuration and exit\n"
                 "  --doc       write the OID map as Markdown (docs/snmp.md) and exit\n"
                 "  --mib       write the MIB module (mibs/OHMWATCH-BACS-MIB.txt) and exit\n"
                 "  -d          stay in the foreground (always)\n"
                 "  -v          more log detail (-vv: net-snmp's debugging too)\n");
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    int check = 0, verbose = 0, c;
    char err[1024];
    static const struct option lo[] = {{"doc", no_argument, NULL, 1},
                                       {"mib", no_argument, NULL, 2},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};

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
            return ow_snmp_doc(stdout) < 0 ? 1 : 0;
        case 2:
            return ow_snmp_mib(stdout) < 0 ? 1 : 0;
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
    ow_log_init("snmpd", verbose);
    if (check) {
        ow_snmpd_cfg_t cfg;
        ow_site_t *site = ow_site_load(file, err, sizeof err);
        if (!site || ow_site_snmpd(site, &cfg, err, sizeof err) < 0) {
            fprintf(stderr, "ohmwatch-snmpd: %s\n", err);
            ow_site_destroy(&site);
            return 1;
        }
        ow_site_destroy(&site);
        printf("configuration OK\n");
        return 0;
    }
    ow_signals_init();
    ow_snmpd_t *d = ow_snmpd_new(file, verbose, err, sizeof err);
    if (!d) {
        log_errx("%s", err);
        return 1;
    }
    int rc = ow_snmpd_run(d, &ow_sig_stop);
    ow_snmpd_destroy(&d);
    zsys_shutdown();
    return rc ? 1 : 0;
}
