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
    (void)reload;
    return ow_historian_run(d, stop);
}

static void destroy(void *d)
{
    ow_historian_t *h = d;
    ow_historian_destroy(&h);
}

int main(int argc, char **argv)
{
    static const ow_daemon_action_t actions[] = {
        {"migrate", 1, ow_historian_migrate, "apply the database migrations and exit"},
        {NULL, 0, NULL, NULL}};
    static const ow_daemon_t dm = {
        "historian",
        "services.historian: dsn, spool, batches",
        check,
        actions,
        "The connection string may come from $OHMWATCH_PG_DSN instead of the file.\n",
        create,
        run,
        destroy};
    return ow_daemon_main(&dm, argc, argv);
}
