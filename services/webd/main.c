/* ohmwatch-webd: wiring only (flags and life in lib/ow_daemon.c). */
#include <stdio.h>

#include "http.h"
#include "ow_daemon.h"
#include "webd.h"

static int check(const ow_site_t *site, char *err, size_t errlen)
{
    ow_webd_cfg_t cfg;
    return ow_site_webd(site, &cfg, err, errlen);
}

/* docs/web.md's generated part: the routes, then the settings. */
static int doc(const char *file, char *err, size_t errlen)
{
    (void)file, (void)err, (void)errlen;
    if (ow_web_doc_routes(stdout) < 0) return -1;
    printf("\n## Configuration (`services.webd`)\n\n"
           "Generated from the rows of `services/webd/webd_keys.c`, the same as the "
           "`services.webd` section of docs/config.md.\n\n");
    return ow_webd_doc_config(stdout);
}

static void *create(const char *file, int verbose, char *err, size_t errlen)
{
    (void)verbose;
    return ow_webd_new(file, err, errlen);
}

static int run(void *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    return ow_webd_run(d, stop, reload);
}

static void destroy(void *d)
{
    ow_webd_t *w = d;
    ow_webd_destroy(&w);
}

int main(int argc, char **argv)
{
    static const ow_daemon_action_t actions[] = {
        {.name = "doc",
         .fn = doc,
         .help = "write the API routes and the settings as Markdown (docs/web.md) and exit"},
        {NULL, 0, NULL, NULL}};
    static const ow_daemon_t dm = {
        .service = "webd",
        .file_help = "services.webd: listen, tls, cert_file, key_file, users_file, ...",
        .check = check,
        .actions = actions,
        .reloads = 0,
        .sighup = "webd reads services.webd and the users file at start only: restart it "
                  "(sessions end; users log in again)",
        .create = create,
        .run = run,
        .destroy = destroy,
    };
    return ow_daemon_main(&dm, argc, argv);
}
