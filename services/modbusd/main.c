/* ohmwatch-modbusd: wiring only (flags and life in lib/ow_daemon.c). */
#include <stdio.h>

#include "modbusd.h"
#include "ow_daemon.h"
#include "regmap.h"

static int check(const ow_site_t *site, char *err, size_t errlen)
{
    ow_modbusd_cfg_t cfg;
    return ow_site_modbusd(site, &cfg, err, errlen);
}

static int doc(const char *file, char *err, size_t errlen)
{
    (void)file, (void)err, (void)errlen;
    /* The map's reference, then the settings from modbusd_keys.c's rows. */
    if (ow_mb_doc(stdout) < 0) return -1;
    fputc('\n', stdout);
    return ow_modbusd_doc_config(stdout);
}

static void *create(const char *file, int verbose, char *err, size_t errlen)
{
    (void)verbose;
    return ow_modbusd_new(file, err, errlen);
}

static int run(void *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    return ow_modbusd_run(d, stop, reload);
}

static void destroy(void *d)
{
    ow_modbusd_t *m = d;
    ow_modbusd_destroy(&m);
}

int main(int argc, char **argv)
{
    static const ow_daemon_action_t actions[] = {
        {.name = "doc",
         .fn = doc,
         .help = "write the register map as Markdown (docs/modbus.md) and exit"},
        {NULL, 0, NULL, NULL}};
    static const ow_daemon_t dm = {
        .service = "modbusd",
        .file_help = "services.modbusd: listen, scale, ...",
        .check = check,
        .actions = actions,
        .reloads = 1,
        .sighup = "re-reads services.modbusd: allow, idle_timeout_ms, scale and units take "
                  "effect; listen, max_clients, rtu and the gateways need a restart; a file "
                  "that does not load is refused and the running configuration kept",
        .create = create,
        .run = run,
        .destroy = destroy,
    };
    return ow_daemon_main(&dm, argc, argv);
}
