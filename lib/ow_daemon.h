/* The command line and life of a daemon, the same for every service (so
 * main.c stays wiring): -f FILE, -n checks the configuration and exits,
 * -d (always foreground), -v more detail, -h; "actions" are long options
 * that write something and exit (--doc, --mib, --migrate). Then: signals,
 * create, run until SIGTERM/SIGINT (SIGHUP sets the reload flag), destroy.
 * Exit codes: 0 ok, 1 error (the reason on stderr), 2 usage. */
#ifndef OW_DAEMON_H
#define OW_DAEMON_H

#include <signal.h>
#include <stddef.h>

#include "ow_config.h"

typedef struct {
    const char *name; /* long option, e.g. "doc" */
    int needs_file;   /* 0: runs as soon as it is seen, without -f */
    /* 0 done, -1 failed (err, if filled, is printed). */
    int (*fn)(const char *file, char *err, size_t errlen);
    const char *help; /* usage line */
} ow_daemon_action_t;

typedef struct {
    const char *service;   /* "modbusd": logs as it, runs as ohmwatch-modbusd */
    const char *file_help; /* what -f's file configures, for the usage */
    /* -n: the service's own section of a loaded site; 0 or -1 with err. */
    int (*check)(const ow_site_t *site, char *err, size_t errlen);
    const ow_daemon_action_t *actions; /* ended by {NULL}; may be NULL */
    const char *usage_tail;            /* extra usage text, or NULL */
    void *(*create)(const char *file, int verbose, char *err, size_t errlen);
    int (*run)(void *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);
    void (*destroy)(void *d);
} ow_daemon_t;

int ow_daemon_main(const ow_daemon_t *dm, int argc, char **argv);

#endif
