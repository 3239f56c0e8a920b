/* One main() for the daemons; see ow_daemon.h.
 *
 * No -d. Every daemon runs in the foreground, always, logging to stderr:
 * systemd (Type=exec units) and compose supervise the process they started
 * and collect its stderr, and a daemon that forked would leave both holding
 * an exited parent. A flag to "stay in the foreground" would promise a
 * background mode that does not exist, so -d left the usage, the docs and
 * the deploy files; it is still accepted, with a warning, so that a unit
 * or script written for an older release keeps starting. */
#include "ow_daemon.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "ow_auth.h"
#include "ow_lint.h"
#include "ow_log.h"
#include "ow_signal.h"

#define MAX_LONG    24   /* actions + options + --help */
#define ACTION_BASE 1000 /* getopt_long's value of action i */
#define OPTION_BASE 2000 /* ... and of option i */

static const char *hup_text; /* the running daemon's sighup line */

static void usage(const ow_daemon_t *dm, FILE *out)
{
    fprintf(out, "usage: ohmwatch-%s [-nhv]", dm->service);
    for (const ow_daemon_action_t *a = dm->actions; a && a->name; a++)
        fprintf(out, " [--%s]", a->name);
    fprintf(out,
            " -f SITE.json%s\n  -f FILE        site configuration (%s)\n"
            "  -n             check the configuration and exit\n",
            dm->options ? " [options]" : "", dm->file_help);
    for (const ow_daemon_action_t *a = dm->actions; a && a->name; a++)
        fprintf(out, "  --%-12s %s\n", a->name, a->help);
    for (const ow_daemon_opt_t *o = dm->options; o && (o->name || o->letter); o++) {
        char flag[48];
        if (o->letter)
            snprintf(flag, sizeof flag, "-%c%s%s", o->letter, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        else
            snprintf(flag, sizeof flag, "--%s%s%s", o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        fprintf(out, "  %-14s %s\n", flag, o->help);
    }
    fprintf(out, "  -v             more log detail (repeatable)\n"
                 "  -h             this help\n");
    if (dm->usage_tail) fputs(dm->usage_tail, out);
    if (dm->sighup)
        fprintf(out,
                "Runs in the foreground, logging to stderr; SIGTERM/SIGINT stop it. "
                "SIGHUP %s%s.\n",
                dm->reloads ? "" : "is logged and changes nothing: ", dm->sighup);
}

static int fail(const ow_daemon_t *dm, const char *err)
{
    if (err[0]) fprintf(stderr, "ohmwatch-%s: %s\n", dm->service, err);
    return 1;
}

/* One option's argument into the daemon's option struct; -1 if it is not
 * a value of the option's type. */
static int store(const ow_daemon_t *dm, const ow_daemon_opt_t *o, const char *arg)
{
    char *p = (char *)dm->opts + o->off, *end = NULL;
    errno = 0;
    switch (o->type) {
    case OW_DOPT_FLAG:
        *(int *)p = 1;
        return 0;
    case OW_DOPT_STRING:
        *(const char **)p = arg;
        return 0;
    case OW_DOPT_DOUBLE:
        *(double *)p = strtod(arg, &end);
        break;
    case OW_DOPT_U64:
        if (arg[0] == '-') return -1; /* strtoull would wrap it */
        *(uint64_t *)p = strtoull(arg, &end, 0);
        break;
    case OW_DOPT_NTYPES:
        return -1;
    }
    return end == arg || *end || errno ? -1 : 0;
}

/* The short options: the common ones, then each option's letter. */
static void short_opts(const ow_daemon_t *dm, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "f:ndvh");
    for (const ow_daemon_opt_t *o = dm->options; o && (o->name || o->letter); o++)
        if (o->letter && n + 3 < len) {
            out[n++] = o->letter;
            if (o->type != OW_DOPT_FLAG) out[n++] = ':';
            out[n] = '\0';
        }
}

static const ow_daemon_opt_t *by_letter(const ow_daemon_t *dm, int c)
{
    for (const ow_daemon_opt_t *o = dm->options; o && (o->name || o->letter); o++)
        if (o->letter == c) return o;
    return NULL;
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

static void lint(const ow_daemon_t *dm, const ow_site_t *site, void (*fn)(void *, const char *),
                 void *ctx)
{
    if (!site) return;
    if (dm->lint)
        dm->lint(site, fn, ctx);
    else
        ow_site_lint(site, fn, ctx);
}

int ow_daemon_hup_refused(volatile sig_atomic_t *reload)
{
    if (!reload || !*reload) return 0;
    *reload = 0;
    log_warnx("SIGHUP: not reloaded: %s", hup_text ? hup_text : "restart the daemon");
    return 1;
}

int ow_daemon_main(const ow_daemon_t *dm, int argc, char **argv)
{
    const char *file = NULL;
    const ow_daemon_action_t *pending = NULL;
    int check = 0, verbose = 0, obsolete_d = 0, c, n = 0, na = 0;
    char err[1024] = "", shorts[64];
    struct option lo[MAX_LONG + 1];

    for (const ow_daemon_action_t *a = dm->actions; a && a->name && n < MAX_LONG - 1; a++, n++)
        lo[n] = (struct option){a->name, no_argument, NULL, ACTION_BASE + n};
    na = n;
    for (const ow_daemon_opt_t *o = dm->options; o && (o->name || o->letter); o++)
        if (o->name && n < MAX_LONG - 1)
            lo[n++] =
                (struct option){o->name, o->type == OW_DOPT_FLAG ? no_argument : required_argument,
                                NULL, OPTION_BASE + (int)(o - dm->options)};
    lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n] = (struct option){NULL, 0, NULL, 0};
    short_opts(dm, shorts, sizeof shorts);
    optind = 0; /* glibc: a full reset, so the tests can call this again */
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        const ow_daemon_opt_t *o = NULL;
        switch (c) {
        case 'f':
            file = optarg;
            continue;
        case 'n':
            check = 1;
            continue;
        case 'd':
            obsolete_d = 1;
            continue;
        case 'v':
            verbose++;
            continue;
        case 'h':
            usage(dm, stdout);
            return 0;
        }
        if (c >= ACTION_BASE && c < ACTION_BASE + na) {
            const ow_daemon_action_t *a = &dm->actions[c - ACTION_BASE];
            if (!a->needs_file) return a->fn(NULL, err, sizeof err) < 0 ? fail(dm, err) : 0;
            pending = a;
            continue;
        }
        if (c >= OPTION_BASE && c < OPTION_BASE + MAX_LONG)
            o = &dm->options[c - OPTION_BASE];
        else if (c != '?' && c != ':')
            o = by_letter(dm, c);
        if (o && store(dm, o, optarg) == 0) continue;
        if (o) {
            char name[40];
            if (o->name)
                snprintf(name, sizeof name, "--%s", o->name);
            else
                snprintf(name, sizeof name, "-%c", o->letter);
            fprintf(stderr, "ohmwatch-%s: %s: %s is not %s\n", dm->service, name, optarg,
                    o->type == OW_DOPT_U64 ? "a whole number >= 0" : "a number");
        }
        usage(dm, stderr);
        return 2;
    }
    if (!file) {
        usage(dm, stderr);
        return 2;
    }
    if (obsolete_d)
        fprintf(stderr,
                "ohmwatch-%s: warning: -d is obsolete and ignored: every ohmwatch daemon "
                "runs in the foreground; drop it from the command line\n",
                dm->service);
    ow_log_init(dm->service, verbose);
    hup_text = dm->sighup;
    if (check) {
        ow_site_t *site = ow_site_load(file, err, sizeof err);
        int bad = !site || (dm->check && dm->check(site, err, sizeof err) < 0);
        if (!bad) lint(dm, site, print_warning, (void *)dm);
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
    lint(dm, site, log_warning, NULL);
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
