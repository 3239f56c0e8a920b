/* ohmwatch-snmpd: wiring only (flags and life in lib/ow_daemon.c). */
#include <stdio.h>

#include "agent.h"
#include "oidtab.h"
#include "ow_daemon.h"
#include "snmpcfg.h"

static int check(const ow_site_t *site, char *err, size_t errlen)
{
    ow_snmpd_cfg_t cfg;
    return ow_site_snmpd(site, &cfg, err, errlen);
}

static int doc(const char *file, char *err, size_t errlen)
{
    (void)file, (void)err, (void)errlen;
    return ow_snmp_doc(stdout);
}

static int mib(const char *file, char *err, size_t errlen)
{
    (void)file, (void)err, (void)errlen;
    return ow_snmp_mib(stdout);
}

static void *create(const char *file, int verbose, char *err, size_t errlen)
{
    return ow_snmpd_new(file, verbose, err, errlen);
}

static int run(void *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    return ow_snmpd_run(d, stop, reload);
}

static void destroy(void *d)
{
    ow_snmpd_t *s = d;
    ow_snmpd_destroy(&s);
}

int main(int argc, char **argv)
{
    static const ow_daemon_action_t actions[] = {
        {.name = "doc", .fn = doc, .help = "write the OID map as Markdown (docs/snmp.md) and exit"},
        {.name = "mib",
         .fn = mib,
         .help = "write the MIB module (mibs/OHMWATCH-BACS-MIB.txt) and exit"},
        {NULL, 0, NULL, NULL}};
    static const ow_daemon_t dm = {
        .service = "snmpd",
        .file_help = "services.snmpd: listen, users, notify, ...",
        .check = check,
        .actions = actions,
        .usage_tail = "  (-vv: net-snmp's debugging too)\n",
        .reloads = 0,
        .sighup = "net-snmp holds the listen address, community and users from the start; "
                  "restart snmpd to apply a changed site file (systemctl restart "
                  "ohmwatch-snmpd); thresholds set through alarmd are live already",
        .create = create,
        .run = run,
        .destroy = destroy,
    };
    return ow_daemon_main(&dm, argc, argv);
}
