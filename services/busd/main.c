/* ohmwatch-busd: wiring only (flags and life in lib/ow_daemon.c). One
 * gateway of the site per process (-g, or the site's only one) and the
 * simulator's overrides, as rows of the option table. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "busd.h"
#include "field.h"
#include "ow_daemon.h"
#include "ow_lint.h"

static struct {
    const char *gw; /* -g */
    ow_busd_opts_t o;
} args;

#define A(f) offsetof(__typeof__(args), f)

static const ow_daemon_opt_t options[] = {
    {.letter = 'g',
     .type = OW_DOPT_STRING,
     .off = A(gw),
     .arg = "ID",
     .help = "gateway to serve (needed when the site has several)"},
    {.letter = 's',
     .type = OW_DOPT_DOUBLE,
     .off = A(o.speed),
     .arg = "SPEED",
     .help = "simulated time acceleration (overrides sim.speed)"},
    {.letter = 'S',
     .type = OW_DOPT_STRING,
     .off = A(o.scenario),
     .arg = "FILE",
     .help = "scenario file (overrides sim.scenario)"},
    {.name = "seed",
     .type = OW_DOPT_U64,
     .off = A(o.seed),
     .arg = "N",
     .help = "simulator seed (overrides sim.seed and the scenario's)"},
    {.name = "cycles",
     .type = OW_DOPT_U64,
     .off = A(o.max_cycles),
     .arg = "N",
     .help = "stop after N poll cycles"},
    {.name = "no-wait",
     .type = OW_DOPT_FLAG,
     .off = A(o.no_wait),
     .help = "poll back-to-back without deadlines (benchmarks)"},
    {.name = "linger",
     .type = OW_DOPT_DOUBLE,
     .off = A(o.linger_s),
     .arg = "S",
     .help = "after --cycles, keep answering replay requests S seconds"},
    {0},
};

static int check(const ow_site_t *site, char *err, size_t errlen)
{
    const ow_gateway_cfg_t *gw = ow_busd_gateway(site, args.gw, err, errlen);
    return gw ? ow_busd_check(site, gw, &args.o, err, errlen) : -1;
}

/* Only the gateway served: another's thresholds are another busd's to warn of. */
static int lint(const ow_site_t *site, void (*fn)(void *ctx, const char *line), void *ctx)
{
    char err[256];
    const ow_gateway_cfg_t *gw = ow_busd_gateway(site, args.gw, err, sizeof err);
    return gw ? ow_site_lint_gateway(site, gw, fn, ctx) : 0;
}

static int plan(const char *file, char *err, size_t errlen)
{
    ow_site_t *site = ow_site_load(file, err, errlen);
    const ow_gateway_cfg_t *gw = site ? ow_busd_gateway(site, args.gw, err, errlen) : NULL;
    ow_field_t *f = NULL;
    if (gw && strcmp(gw->source, "sim") == 0)
        snprintf(err, errlen, "gateway %s: source sim sends no requests", gw->id);
    else if (gw)
        f = ow_field_new(site, gw, err, errlen);
    for (int i = 0; f && i < ow_field_nreqs(f); i++)
        printf("%d %d %d\n", ow_field_req(f, i)->fc, ow_field_req(f, i)->addr,
               ow_field_req(f, i)->count);
    int rc = f ? 0 : -1;
    ow_field_destroy(&f);
    ow_site_destroy(&site);
    return rc;
}

static void *create(const char *file, int verbose, char *err, size_t errlen)
{
    (void)verbose;
    return ow_busd_open(file, args.gw, &args.o, err, errlen);
}

static int run(void *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    return ow_busd_run(d, stop, reload);
}

static void destroy(void *d)
{
    ow_busd_t *b = d;
    ow_busd_destroy(&b);
}

int main(int argc, char **argv)
{
    static const ow_daemon_action_t actions[] = {
        {.name = "plan",
         .needs_file = 1,
         .fn = plan,
         .help = "print a field device's requests per cycle (FC ADDRESS COUNT) and exit"},
        {NULL, 0, NULL, NULL}};
    /* Every busd holds the one "busd" key: subscribers expect it from any
     * gateway's publisher (docs/security.md). */
    static const ow_daemon_t dm = {
        .service = "busd",
        .file_help = "the gateway, its simulator or field device; with -n the scenario too",
        .check = check,
        .lint = lint,
        .options = options,
        .opts = &args,
        .actions = actions,
        .reloads = 0,
        .sighup = "busd reads its gateway once: topology, poll period and source are fixed "
                  "for a publisher's epoch; restart it to apply a changed site file "
                  "(systemctl restart ohmwatch-busd@GATEWAY)",
        .create = create,
        .run = run,
        .destroy = destroy,
    };
    return ow_daemon_main(&dm, argc, argv);
}
