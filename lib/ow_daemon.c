/* One main() for the daemons; see ow_daemon.h. */
#include "ow_daemon.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <czmq.h>

#include "ow_auth.h"
#include "ow_lint.h"
#include "ow_log.h"
#include "ow_signal.h"

#define MAX_ACTIONS 8

static void usage(const ow_daemon_t *dm, FILE *out)
{
    fprintf(out, "usage: ohmwatch-%s [-dnhv]", dm->service);
    for (const ow_daemon_action_t *a = dm->actions; a && a->name; a++)
        fprintf(out, " [--%s]", a->name);
    fprintf(out,
            " -f SITE.json\n  -f FILE     site configuration (%s)\n"
            "  -n          check the configuration and exit\n",
            dm->file_help);
    for (const ow_daemon_action_t *a = dm->actions; a && a->name; a++)
        fprintf(out, "  --%-9s %s\n", a->name, a->help);
    fprintf(out, "  -d          stay in the foreground (always)\n"
                 "  -v          more log detail\n");
    if (dm->usage_tail) fputs(dm->usage_tail, out);
}

static int fail(const ow_daemon_t *dm, const char *err)
{
    if (err[0]) fprintf(stderr, "ohmwatch-%s: %s\n", dm->service, err);
    return 1;
}

/* Thresholds that contradict the battery are warnings, not errors: the
 * site is valid and may be meant (a test rig, a battery being replaced). */
static void print_warning(void *ctx, const char *line)
{
    fprintf(stderr, "ohmwatch-%s: warning: %s\n", ((const ow_daemon_t *)ctx)->service, line);
}

static void log_warning(void *ctx, const char *line)
{
    (void)ctx;
    log_warnx("%s", line);
}

int ow_daemon_main(const ow_daemon_t *dm, int argc, char **argv)
{
    const char *file = NULL;
    const ow_daemon_action_t *pending = NULL;
    int check = 0, verbose = 0, c, n = 0;
    char err[1024] = "";
    struct option lo[MAX_ACTIONS + 2];

    for (const ow_daemon_action_t *a = dm->actions; a && a->name && n < MAX_ACTIONS; a++, n++)
        lo[n] = (struct option){a->name, no_argument, NULL, 1000 + n};
    lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n] = (struct option){NULL, 0, NULL, 0};
    optind = 0; /* glibc: a full reset, so the tests can call this again */
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
        case 'h':
            usage(dm, stdout);
            return 0;
        default:
            if (c >= 1000 && c < 1000 + MAX_ACTIONS) {
                const ow_daemon_action_t *a = &dm->actions[c - 1000];
                if (!a->needs_file) return a->fn(NULL, err, sizeof err) < 0 ? fail(dm, err) : 0;
                pending = a;
                break;
            }
            usage(dm, stderr);
            return 2;
        }
    }
    if (!file) {
        usage(dm, stderr);
        return 2;
    }
    ow_log_init(dm->service, verbose);
    if (check) {
        ow_site_t *site = ow_site_load(file, err, sizeof err);
        int bad = !site || (dm->check && dm->check(site, err, sizeof err) < 0);
        if (!bad) ow_site_lint(site, print_warning, (void *)dm);
        ow_site_destroy(&site);
        if (bad) return fail(dm, err);
        printf("configuration OK\n");
        return 0;
    }
    if (pending) return pending->fn(file, err, sizeof err) < 0 ? fail(dm, err) : 0;
    ow_signals_init();
    /* The same warnings in the log of a daemon that starts anyway (a site
     * that does not load is create's to report). */
    ow_site_t *site = ow_site_load(file, err, sizeof err);
    ow_site_lint(site, log_warning, NULL);
    /* The service's key and the allow-list, before it makes any socket. */
    if (site && ow_auth_init_site(site, dm->service, err, sizeof err) < 0) {
        log_errx("%s", err);
        ow_site_destroy(&site);
        return 1;
    }
    ow_site_destroy(&site);
    err[0] = '\0';
    void *d = dm->create(file, verbose, err, sizeof err);
    if (!d) {
        log_errx("%s", err);
        ow_auth_shutdown();
        return 1;
    }
    int rc = dm->run(d, &ow_sig_stop, &ow_sig_reload);
    dm->destroy(d);
    ow_auth_shutdown();
    zsys_shutdown();
    return rc ? 1 : 0;
}
