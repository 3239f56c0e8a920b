/* ohmwatch-historian: wiring only (flags and life in lib/ow_daemon.c). */
#include "historian.h"
#include "ow_daemon.h"

static int check(const ow_site_t *site, char *err, size_t errlen)
{
    ow_historian_cfg_t cfg;
    return ow_site_historian(site, &cfg, err, errlen);
}

static void *create(const char *file, int verbose, char *err, size_t errlen)
{
    (void)verbose;
    return ow_historian_new(file, err, errlen);
}

static int run(void *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    return ow_historian_run(d, stop, reload);
}

static void destroy(void *d)
{
    ow_historian_t *h = d;
    ow_historian_destroy(&h);
}

int main(int argc, char **argv)
{
    static const ow_daemon_action_t actions[] = {{.name = "migrate",
                                                  .needs_file = 1,
                                                  .fn = ow_historian_migrate,
                                                  .help = "apply the database migrations and exit"},
                                                 {NULL, 0, NULL, NULL}};
    static const ow_daemon_t dm = {
        .service = "historian",
        .file_help = "services.historian: dsn, spool, batches",
        .check = check,
        .actions = actions,
        .usage_tail = "The connection string may come from $OHMWATCH_PG_DSN instead of the file.\n",
        .reloads = 0,
        .sighup = "the historian reads its section once (connection, spool, batches); restart "
                  "it to apply a changed site file (systemctl restart ohmwatch-historian): it "
                  "catches up from the publishers' journals",
        .create = create,
        .run = run,
        .destroy = destroy,
    };
    return ow_daemon_main(&dm, argc, argv);
}
