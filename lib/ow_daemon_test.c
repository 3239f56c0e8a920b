/* ow_daemon_main: flags, exit codes, -n, actions with and without the file,
 * the daemon's own options from its table, the obsolete -d, a refused
 * SIGHUP, and the create/run/destroy life, with fake callbacks. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ow_auth.h"
#include "ow_daemon.h"
#include "ow_test.h"

static int checks, check_rc, actions, created, ran, destroyed, run_rc, last_verbose;
static const char *action_file;
static int token;

static int check(const ow_site_t *site, char *err, size_t errlen)
{
    checks++;
    if (check_rc) snprintf(err, errlen, "services.x.key: bad");
    return site && site->ngateways == 1 ? check_rc : -1;
}

static int act(const char *file, char *err, size_t errlen)
{
    actions++;
    action_file = file;
    if (file && strstr(file, "nope")) {
        snprintf(err, errlen, "cannot");
        return -1;
    }
    return 0;
}

static void *create(const char *file, int verbose, char *err, size_t errlen)
{
    created++;
    last_verbose = verbose;
    if (strstr(file, "nope")) {
        snprintf(err, errlen, "no such file");
        return NULL;
    }
    return &token;
}

static int hups;

static int run(void *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    ran += d == &token && stop && reload;
    /* a daemon that does not reload: the flag is cleared and logged, once */
    *reload = 1;
    hups += ow_daemon_hup_refused(reload);
    hups += ow_daemon_hup_refused(reload);
    return run_rc;
}

static struct {
    const char *name;
    double speed;
    uint64_t n;
    int fast;
} opts;

static const ow_daemon_opt_t options[] = {
    {.letter = 'g',
     .type = OW_DOPT_STRING,
     .off = offsetof(__typeof__(opts), name),
     .arg = "ID",
     .help = "a name"},
    {.letter = 's',
     .type = OW_DOPT_DOUBLE,
     .off = offsetof(__typeof__(opts), speed),
     .arg = "X",
     .help = "a number"},
    {.name = "cycles",
     .type = OW_DOPT_U64,
     .off = offsetof(__typeof__(opts), n),
     .arg = "N",
     .help = "a count"},
    {.name = "fast",
     .type = OW_DOPT_FLAG,
     .off = offsetof(__typeof__(opts), fast),
     .help = "a flag"},
    {0},
};

static void destroy(void *d)
{
    destroyed += d == &token;
}

static int call(const ow_daemon_t *dm, const char *a1, const char *a2, const char *a3,
                const char *a4)
{
    char *argv[] = {"ohmwatch-x", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
    int argc = 1;
    while (argv[argc])
        argc++;
    return ow_daemon_main(dm, argc, argv);
}

int main(void)
{
    static const ow_daemon_action_t acts[] = {
        {.name = "doc", .fn = act, .help = "write the doc"},
        {.name = "migrate", .needs_file = 1, .fn = act, .help = "migrate"},
        {NULL, 0, NULL, NULL}};
    static const ow_daemon_t dm = {
        .service = "x",
        .file_help = "services.x",
        .check = check,
        .options = options,
        .opts = &opts,
        .actions = acts,
        .sighup = "x reads its file once; restart it",
        .create = create,
        .run = run,
        .destroy = destroy,
    };
    const char *site = "etc/site-sample.json";

    CHECK(call(&dm, NULL, NULL, NULL, NULL) == 2); /* no -f */
    CHECK(call(&dm, "-q", "-f", site, NULL) == 2); /* unknown flag */
    CHECK(call(&dm, "-h", NULL, NULL, NULL) == 0 && !created);
    /* the daemon's own options land in its struct; a bad number is usage */
    CHECK(call(&dm, "-g", "wm2", "-n", "-f") == 2); /* -f lacks its argument */
    CHECK(call(&dm, "-s", "fast", "-h", NULL) == 2 && opts.speed == 0);
    CHECK(call(&dm, "--cycles", "-3", "-h", NULL) == 2 && opts.n == 0);
    CHECK(call(&dm, "--cycles", "0x10", "-s", "2.5") == 2); /* no -f */
    CHECK(opts.n == 16 && opts.speed == 2.5);
    CHECK(call(&dm, "-g", "wm2", "--fast", "-h") == 0);
    CHECK(opts.name && strcmp(opts.name, "wm2") == 0 && opts.fast == 1);
    /* an action without the file runs at once */
    CHECK(call(&dm, "--doc", NULL, NULL, NULL) == 0 && actions == 1 && action_file == NULL);
    /* -n: the site and the service's section; a failure is 1 */
    CHECK(call(&dm, "-n", "-f", site, NULL) == 0 && checks == 1 && !created);
    check_rc = -1;
    CHECK(call(&dm, "-n", "-f", site, NULL) == 1 && checks == 2);
    check_rc = 0;
    CHECK(call(&dm, "-n", "-f", "nope.json", NULL) == 1 && checks == 2); /* site fails first */
    /* an action with the file runs after the flags, instead of the daemon */
    CHECK(call(&dm, "--migrate", "-f", site, NULL) == 0 && actions == 2);
    CHECK(action_file && strcmp(action_file, site) == 0 && !created);
    CHECK(call(&dm, "--migrate", "-f", "nope.json", NULL) == 1 && actions == 3);
    /* no key of its own: refused before anything is made (CURVE is the
     * default); with one from ow_auth_keygen it starts */
    char keys[] = "/tmp/ow-daemon-test-XXXXXX", err[512];
    CHECK(mkdtemp(keys) != NULL);
    setenv("OHMWATCH_KEYS_DIR", keys, 1);
    CHECK(call(&dm, "-f", site, NULL, NULL) == 1 && created == 0);
    CHECK(ow_auth_keygen(keys, "x", OW_ROLE_READ, 0, err, sizeof err) == 0);
    CHECK(ow_auth_keygen(keys, "x", OW_ROLE_READ, 0, err, sizeof err) == -1 &&
          strstr(err, "--force")); /* never overwritten by accident */

    /* the life: create with the verbosity, run with both flags, destroy */
    CHECK(call(&dm, "-v", "-v", "-f", site) == 0);
    CHECK(created == 1 && last_verbose == 2 && ran == 1 && destroyed == 1 && hups == 1);
    run_rc = -1;
    /* -d is obsolete: accepted (with a warning), the daemon runs as without */
    CHECK(call(&dm, "-d", "-f", site, NULL) == 1 && ran == 2 && destroyed == 2);
    CHECK(call(&dm, "-f", "nope.json", NULL, NULL) == 1 && created == 3 && ran == 2);
    return ow_test_done("daemon");
}
