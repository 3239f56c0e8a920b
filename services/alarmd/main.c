/* ohmwatch-alarmd: wiring only (flags and life in lib/ow_daemon.c); SIGHUP
 * reloads the site file. */
#include "alarmd.h"
#include "ow_daemon.h"

static int check(const ow_site_t *site, char *err, size_t errlen)
{
    ow_alarmd_cfg_t cfg;
    return ow_site_alarmd(site, &cfg, err, errlen);
}

static void *create(const char *file, int verbose, char *err, size_t errlen)
{
    (void)verbose;
    return ow_alarmd_new(file, err, errlen);
}

static int run(void *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    return ow_alarmd_run(d, stop, reload);
}

static void destroy(void *d)
{
    ow_alarmd_t *a = d;
    ow_alarmd_destroy(&a);
}

int main(int argc, char **argv)
{
    static const ow_daemon_t dm = {
        .service = "alarmd",
        .file_help = "gateways, thresholds, services.alarmd",
        .check = check,
        .reloads = 1,
        .sighup = "re-reads the site file: thresholds and gateway settings take effect (each "
                  "change audited as a reload); a file that does not load is refused and the "
                  "running configuration kept; a new gateway or changed strings need a restart",
        .create = create,
        .run = run,
        .destroy = destroy,
    };
    return ow_daemon_main(&dm, argc, argv);
}
