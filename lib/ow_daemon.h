/* The command line and life of a daemon, the same for every service (so
 * main.c stays wiring): -f FILE, -n checks the configuration and exits,
 * -v more detail, -h; the daemon's own options (busd's -S, --cycles) are
 * rows of a table, "actions" are long options that write something and exit
 * (--doc, --mib, --migrate, --plan). Then: signals, create, run until
 * SIGTERM/SIGINT, destroy. SIGHUP reloads in the daemons that can (run()
 * acts on *reload), the others log that they do not (ow_daemon_hup_refused).
 * Every daemon runs in the foreground: see ow_daemon.c for why there is no
 * -d. Exit codes: 0 ok, 1 error (the reason on stderr), 2 usage. */
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

/* How an option's argument is stored at its offset in the daemon's option
 * struct (ow_daemon_t.opts). A number that does not parse is a usage error. */
typedef enum {
    OW_DOPT_FLAG,   /* int, set to 1; no argument */
    OW_DOPT_STRING, /* const char *, the argument itself */
    OW_DOPT_DOUBLE, /* double */
    OW_DOPT_U64,    /* uint64_t, >= 0, decimal or 0x hex */
    OW_DOPT_NTYPES
} ow_daemon_opt_type_t;

typedef struct {
    const char *name; /* long option ("cycles"), or NULL: the letter only */
    char letter;      /* short option ('S'), or 0: the long name only */
    ow_daemon_opt_type_t type;
    size_t off;       /* offsetof the value in the option struct */
    const char *arg;  /* the argument's name in the usage ("N"); NULL for a flag */
    const char *help; /* usage line */
} ow_daemon_opt_t;

typedef struct {
    const char *service;   /* "modbusd": logs as it, runs as ohmwatch-modbusd */
    const char *file_help; /* what -f's file configures, for the usage */
    /* -n: the service's own section of a loaded site; 0 or -1 with err. */
    int (*check)(const ow_site_t *site, char *err, size_t errlen);
    /* The warnings -n prints and a start logs; NULL: ow_site_lint (every
     * gateway). busd lints only the gateway it serves. */
    int (*lint)(const ow_site_t *site, void (*fn)(void *ctx, const char *line), void *ctx);
    const ow_daemon_opt_t *options;    /* ended by a row without name and letter; may be NULL */
    void *opts;                        /* the struct options write into */
    const ow_daemon_action_t *actions; /* ended by {NULL}; may be NULL */
    const char *usage_tail;            /* extra usage text, or NULL */
    /* SIGHUP, in the usage: what a reload takes up (reloads 1: run() acts
     * on *reload), or why there is none and what to do instead (reloads 0:
     * logged at every SIGHUP through ow_daemon_hup_refused). */
    int reloads;
    const char *sighup;
    void *(*create)(const char *file, int verbose, char *err, size_t errlen);
    int (*run)(void *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);
    void (*destroy)(void *d);
} ow_daemon_t;

int ow_daemon_main(const ow_daemon_t *dm, int argc, char **argv);

/* For the loop of a daemon that does not reload: after a SIGHUP, clears
 * *reload and logs, as a warning, "SIGHUP: not reloaded: " and the daemon's
 * sighup text. Returns 1 if there was one, else 0. */
int ow_daemon_hup_refused(volatile sig_atomic_t *reload);

#endif
