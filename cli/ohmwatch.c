/* ohmwatch: the command-line client. `status` shows the webmanager dashboard
 * in the terminal, `tail` prints live messages filtered by topic (and can
 * resume where an earlier run stopped, through busd's replay). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "backup_cmd.h"
#include "dash.h"
#include "keygen.h"
#include "health.h"
#include "ow_clock.h"
#include "ow_cmd.h"
#include "ow_config.h"
#include "ow_ctl.h"
#include "ow_gbms.h"
#include "ow_auth.h"
#include "ow_lint.h"
#include "ow_log.h"
#include "ow_signal.h"
#include "ow_sub.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ohmwatch [-f SITE.json] COMMAND [options]\n"
            "  status [-g GW] [--once] [--timeout S]   dashboard per string\n"
            "  tail [-g GW] [-t PREFIX]... [--json] [--since PUB:EPOCH:SEQ]... [--from-start]\n"
            "       [--count N] [--idle S]                live messages\n"
            "  alarms [-g GW]                           active alarms and flag words (alarmd)\n"
            "  thresholds get [KEY] [-g GW]             one runtime setting, or all\n"
            "  thresholds set KEY VALUE [-g GW]         change one at runtime: a threshold,\n"
            "                                           impedance_poll_min (min),\n"
            "                                           temperature_unit C|F\n"
            "  thresholds unset KEY [-g GW]             back to the site file's value\n"
            "  ack ID|--all [-g GW]                     acknowledge (mute) one alarm, or all\n"
            "  output N on|off [--yes] [-g GW]          switch a GX_R_AUX output (the breaker):\n"
            "                                           asks to type N to confirm, unless --yes\n"
            "  audit [--count N] [-g GW]                who changed what (alarmd's last 1000)\n"
            "  captest STRING [--rated-h H] [--end-v V] [-g GW]\n"
            "                                           tag the string's next (or present)\n"
            "                                           discharge as an IEEE 450 capacity test\n"
            "                                           (default 10 h to 1.75 V/cell)\n"
            "  baseline MODULE [MOHM|reset] [-g GW]     set a block's impedance baseline, or\n"
            "                                           forget it (after a replacement) so it is\n"
            "                                           learnt again on settled float\n"
            "  health SERVICE [-g GW] [--max-age S]     busd, alarmd, historian, modbusd or snmpd\n"
            "                                           answers and has current data (exit 0) or\n"
            "                                           not (1)\n"
            "  check                                    the site loads (configuration OK); warns\n"
            "                                           where a threshold contradicts the battery\n"
            "  backup [-o backup-XXXX.tar.gz]           the site file and alarmd's runtime\n"
            "                                           settings in one archive\n"
            "  restore FILE [--dry-run] [--other-site]  put a backup back: all checked before\n"
            "                                           anything changes (configure role)\n"
            "  keygen [-d DIR] [--name N --roles R]     CURVE keys (docs/security.md)\n"
            "The site file defaults to $OHMWATCH_SITE, then etc/site-sample.json.\n");
}

/* ---- strict arguments: "l2" is not 12, nor 0, and never "all" ---- */

/* A whole number in [min, max], or an error naming the argument; 0 / 2. */
static int arg_long(const char *cmd, const char *what, const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || isspace((unsigned char)*s)) {
        fprintf(stderr, "ohmwatch %s: %s '%s' is not a whole number\n", cmd, what, s);
        return 2;
    }
    if (v < min || v > max) {
        fprintf(stderr, "ohmwatch %s: %s %ld is out of range %ld..%ld\n", cmd, what, v, min, max);
        return 2;
    }
    *out = v;
    return 0;
}

/* A finite number in [min, max], or an error naming the argument; 0 / 2. */
static int arg_double(const char *cmd, const char *what, const char *s, double min, double max,
                      double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || isspace((unsigned char)*s) || !isfinite(v)) {
        fprintf(stderr, "ohmwatch %s: %s '%s' is not a number\n", cmd, what, s);
        return 2;
    }
    if (v < min || v > max) {
        fprintf(stderr, "ohmwatch %s: %s %g is out of range %g..%g\n", cmd, what, v, min, max);
        return 2;
    }
    *out = v;
    return 0;
}

/* A digits-only unsigned number (strtoull takes "-1" and " 7"); 0 / -1. */
static int digits_u64(const char *s, size_t n, unsigned long long *out)
{
    char buf[24];
    if (n == 0 || n >= sizeof buf) return -1;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    *out = strtoull(buf, NULL, 10);
    return errno ? -1 : 0;
}

/* --since PUB:EPOCH:SEQ, every part checked; 0 / -1. */
static int arg_since(const char *s, char *pub, size_t publen, unsigned long long *epoch,
                     unsigned long long *seq)
{
    const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || c1 == s || (size_t)(c1 - s) >= publen) return -1;
    if (digits_u64(c1 + 1, (size_t)(c2 - c1 - 1), epoch) < 0 ||
        digits_u64(c2 + 1, strlen(c2 + 1), seq) < 0)
        return -1;
    snprintf(pub, publen, "%.*s", (int)(c1 - s), s);
    return 0;
}

/* One subscriber on every gateway of the site (or just gw). */
static ow_sub_t *connect_site(const ow_site_t *site, const char *gw)
{
    ow_sub_t *sub = ow_sub_new();
    int n = 0;
    if (!sub) return NULL;
    for (int i = 0; i < site->ngateways; i++) {
        const ow_gateway_cfg_t *g = &site->gateways[i];
        if (gw && strcmp(gw, g->id) != 0) continue;
        if (ow_sub_add(sub, g->publish_connect, g->replay_connect) < 0) {
            ow_sub_destroy(&sub);
            return NULL;
        }
        n++;
    }
    if (n == 0) {
        fprintf(stderr, "ohmwatch: no gateway '%s' in the site\n", gw ? gw : "");
        ow_sub_destroy(&sub);
    }
    return sub;
}

struct fold_ctx {
    ow_dash_t *d;
};

static void fold_msg(void *ctx, const ow_msg_t *m)
{
    struct fold_ctx *fc = ctx;
    ow_dash_update(fc->d, m);
}

static int cmd_status(const ow_site_t *site, int argc, char **argv)
{
    const char *gw = NULL;
    int once = 0, c;
    double timeout_s = 30;
    static const struct option lo[] = {{"once", no_argument, NULL, 1},
                                       {"timeout", required_argument, NULL, 2},
                                       {NULL, 0, NULL, 0}};
    optind = 1;
    while ((c = getopt_long(argc, argv, "g:", lo, NULL)) != -1) {
        switch (c) {
        case 'g':
            gw = optarg;
            break;
        case 1:
            once = 1;
            break;
        case 2:
            if (arg_double("status", "--timeout", optarg, 0, 86400, &timeout_s)) return 2;
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ohmwatch status: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    ow_sub_t *sub = connect_site(site, gw);
    ow_dash_t *d = sub ? ow_dash_new(site, gw) : NULL;
    if (!d) {
        ow_sub_destroy(&sub);
        return 1;
    }
    /* alarmd, if it runs: its state and alarms fill the Status column. The
     * snapshot gives what is active now, events keep it current. */
    ow_alarmd_cfg_t acfg;
    char aerr[512];
    if (ow_site_alarmd(site, &acfg, aerr, sizeof aerr) == 0) {
        ow_sub_add(sub, acfg.publish_connect, NULL);
        ow_control_t req = ow_cmd_control(OW_CMD_SNAPSHOT, "", NAN, 0, "status");
        ow_reply_t r;
        struct fold_ctx fc = {d};
        if (ow_ctl_call(acfg.control_connect, gw, &req, 1000, &r, fold_msg, &fc, aerr,
                        sizeof aerr) < 0) {
            fprintf(stderr, "ohmwatch: no alarm state (%s)\n", aerr);
        } else {
            /* the levels in force (a runtime set outlives the site file's):
             * the Level info panel */
            for (int i = 0; i < site->ngateways; i++) {
                const char *id = site->gateways[i].id;
                if (gw && strcmp(gw, id) != 0) continue;
                req = ow_cmd_control(OW_CMD_LIST, "", NAN, 0, "status");
                if (ow_ctl_call(acfg.control_connect, id, &req, 1000, &r, fold_msg, &fc, aerr,
                                sizeof aerr) < 0)
                    fprintf(stderr, "ohmwatch: %s: no settings from alarmd (%s)\n", id, aerr);
            }
        }
    }
    ow_sub_subscribe(sub, "mod/");
    ow_sub_subscribe(sub, "str/");
    ow_sub_subscribe(sub, "aux/");
    ow_sub_subscribe(sub, "hb/");
    ow_sub_subscribe(sub, "state/");
    ow_sub_subscribe(sub, "alm/");
    ow_sub_subscribe(sub, "dis/"); /* progress: time-to-go */
    ow_sub_subscribe(sub, "dev/"); /* a field device's own words */
    ow_sub_subscribe(sub, "cfg/"); /* a setting changed: Level info, the temperature unit */
    int64_t deadline = ow_mono_us() + (int64_t)(timeout_s * 1e6), last_draw = 0;
    int rc = 1;
    ow_delivery_t dv;
    while (!ow_sig_stop) {
        int r = ow_sub_recv(sub, &dv, 200);
        if (r < 0) break;
        if (r == 0) {
            if (!ow_dash_complete(d) && ow_mono_us() > deadline) {
                fprintf(stderr,
                        "ohmwatch: no complete poll cycle within %g s "
                        "(is ohmwatch-busd running?)\n",
                        timeout_s);
                break;
            }
            continue;
        }
        if (ow_dash_update(d, &dv.msg) && ow_dash_complete(d)) {
            if (once) {
                ow_dash_render(d, stdout);
                rc = 0;
                break;
            }
            if (ow_mono_us() - last_draw >= 1000000) {
                printf("\033[H\033[2J");
                ow_dash_render(d, stdout);
                fflush(stdout);
                last_draw = ow_mono_us();
                rc = 0;
            }
        }
    }
    ow_dash_destroy(&d);
    ow_sub_destroy(&sub);
    return rc;
}

/* Whether a topic (KIND/GW/...) is about gateway gw or the whole site
 * ("-"); every topic is, without a gateway. */
static int topic_for(const char *topic, size_t len, const char *gw)
{
    const char *slash = memchr(topic, '/', len);
    if (!gw || !slash) return 1;
    const char *id = slash + 1, *end = memchr(id, '/', len - (size_t)(id - topic));
    size_t n = end ? (size_t)(end - id) : len - (size_t)(id - topic);
    return (n == 1 && *id == '-') || (n == strlen(gw) && memcmp(id, gw, n) == 0);
}

static int cmd_tail(const ow_site_t *site, int argc, char **argv)
{
    const char *gw = NULL, *topics[32];
    int ntopics = 0, json = 0, from_start = 0, c;
    long long count = 0, seen = 0;
    double idle_s = 0;
    static const struct option lo[] = {
        {"json", no_argument, NULL, 1},       {"since", required_argument, NULL, 2},
        {"from-start", no_argument, NULL, 3}, {"count", required_argument, NULL, 4},
        {"idle", required_argument, NULL, 5}, {NULL, 0, NULL, 0}};
    struct {
        char pub[OW_ID_MAX];
        unsigned long long epoch, seq;
    } since[16];
    int nsince = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "g:t:", lo, NULL)) != -1) {
        switch (c) {
        case 'g':
            gw = optarg;
            break;
        case 't':
            if (ntopics < 32) topics[ntopics++] = optarg;
            break;
        case 1:
            json = 1;
            break;
        case 2:
            if (nsince >= 16 || arg_since(optarg, since[nsince].pub, sizeof since[nsince].pub,
                                          &since[nsince].epoch, &since[nsince].seq) < 0) {
                fprintf(stderr, "ohmwatch tail: --since wants PUB:EPOCH:SEQ, got '%s'\n", optarg);
                return 2;
            }
            nsince++;
            break;
        case 3:
            from_start = 1;
            break;
        case 4: {
            long n;
            if (arg_long("tail", "--count", optarg, 1, 2000000000L, &n)) return 2;
            count = n;
            break;
        }
        case 5:
            if (arg_double("tail", "--idle", optarg, 0, 86400, &idle_s)) return 2;
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ohmwatch tail: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    ow_sub_t *sub = connect_site(site, gw);
    if (!sub) return 1;
    /* alarmd's publications (alarms, state words, discharges, baselines,
     * audited changes) beside busd's readings: the whole stream of the site */
    ow_alarmd_cfg_t acfg;
    char aerr[512];
    if (ow_site_alarmd(site, &acfg, aerr, sizeof aerr) == 0 &&
        ow_sub_add(sub, acfg.publish_connect, acfg.replay_connect) < 0) {
        ow_sub_destroy(&sub);
        return 1;
    }
    for (int i = 0; i < nsince; i++)
        ow_sub_resume(sub, since[i].pub, since[i].epoch, since[i].seq);
    ow_sub_from_start(sub, from_start);
    if (ntopics == 0) ow_sub_subscribe(sub, ""); /* everything: gaps are detected and replayed */
    for (int i = 0; i < ntopics; i++)
        ow_sub_subscribe(sub, topics[i]);

    ow_delivery_t dv;
    int64_t last = ow_mono_us();
    while (!ow_sig_stop && (!count || seen < count)) {
        int r = ow_sub_recv(sub, &dv, 200);
        if (r < 0) break;
        if (r == 0) {
            if (idle_s > 0 && ow_mono_us() - last > (int64_t)(idle_s * 1e6)) break;
            continue;
        }
        last = ow_mono_us();
        /* alarmd speaks for every gateway: -g keeps its own and the site's */
        if (!topic_for(dv.topic, dv.topic_len, gw)) continue;
        seen++;
        if (json)
            printf("%.*s\n", (int)dv.body_len, dv.body);
        else
            printf("%.*s %.*s%s\n", (int)dv.topic_len, dv.topic, (int)dv.body_len, dv.body,
                   dv.replayed ? " (replayed)" : "");
        fflush(stdout);
    }
    const ow_sub_stats_t *st = ow_sub_stats(sub);
    fprintf(stderr,
            "ohmwatch tail: %llu delivered (%llu replayed), %llu duplicates, %llu gaps, "
            "%llu lost, %llu malformed\n",
            (unsigned long long)st->delivered, (unsigned long long)st->replayed,
            (unsigned long long)st->duplicates, (unsigned long long)st->gaps,
            (unsigned long long)st->lost, (unsigned long long)st->malformed);
    ow_sub_destroy(&sub);
    return 0;
}

/* ---- commands that talk to alarmd ---- */

/* The person at the terminal, for the audit trail ("cli/alice"): the
 * login, if it is an id the protocol carries; else none. The CLI's key
 * is what authenticates; this only says who used it. */
static void login_name(char *out, size_t len)
{
    const struct passwd *pw = getpwuid(getuid());
    const char *u = getenv("USER");
    if (!u || !*u) u = pw ? pw->pw_name : "";
    out[0] = '\0';
    if (strlen(u) >= len) return;
    for (const char *p = u; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.-", *p)) return;
    snprintf(out, len, "%s", u);
}

static int ctl(const ow_site_t *site, const char *gw, ow_control_t *c, ow_reply_t *r,
               ow_ctl_msg_fn fn, void *ctx)
{
    ow_alarmd_cfg_t acfg;
    char err[1024];
    if (ow_site_alarmd(site, &acfg, err, sizeof err) < 0) {
        fprintf(stderr, "ohmwatch: %s\n", err);
        return 1;
    }
    snprintf(c->req, sizeof c->req, "cli%d", (int)getpid());
    login_name(c->user, sizeof c->user);
    if (ow_ctl_call(acfg.control_connect, gw, c, 5000, r, fn, ctx, err, sizeof err) < 0) {
        fprintf(stderr, "ohmwatch: %s\n", err);
        return 1;
    }
    if (!r->ok) {
        fprintf(stderr, "ohmwatch: refused: %s\n", r->error);
        return 1;
    }
    return 0;
}

static void print_flags(const char *title, uint32_t v, size_t table)
{
    const gbms_flag_table_t *t = &gbms_flag_tables[table];
    printf("  %-28s 0x%04x", title, v);
    for (size_t i = 0; i < t->count; i++)
        if (t->flags[i].value && (v & t->flags[i].value) == t->flags[i].value)
            printf(" %s", t->flags[i].name);
    printf("\n");
}

static void show_alarm_msg(void *ctx, const ow_msg_t *m)
{
    char ts[40];
    int *count = ctx;
    if (m->kind == OW_MSG_STATE) {
        const ow_state_t *s = &m->u.state;
        printf("Gateway %s: %d active, %d modules in alarm, %d in warning, audible %s\n", m->h.gw,
               s->alarms_active, s->module_alarms, s->module_warnings, s->audible ? "yes" : "no");
        print_flags("general status (1000)", s->general, 0);
        print_flags("battery status (1001)", s->battery, 1);
        print_flags("alarm flags (1002)", s->alarm, 2);
    } else if (m->kind == OW_MSG_ALARM) {
        const ow_alarm_t *a = &m->u.alarm;
        const gbms_alarm_t *c = gbms_alarm_find(a->type);
        if ((*count)++ == 0)
            printf("  %6s %-4s %-8s %-6s %-6s %-24s %s\n", "id", "type", "severity", "string",
                   "module", "raised", "what");
        printf("  %6llu %-4d %-8s %-6d %-6d %-24s %s (%s)\n", (unsigned long long)a->id, a->type,
               a->severity == OW_SEV_ALARM ? "alarm"
               : a->severity               ? "warning"
                                           : "info",
               a->string, a->module, ow_fmt_ts(a->raised_us, ts, sizeof ts), a->text,
               c ? c->name : "?");
    }
}

static int cmd_alarms(const ow_site_t *site, int argc, char **argv)
{
    const char *gw = NULL;
    int c, count = 0;
    optind = 1;
    while ((c = getopt(argc, argv, "g:")) != -1) {
        if (c != 'g') {
            usage(stderr);
            return 2;
        }
        gw = optarg;
    }
    ow_control_t req = ow_cmd_control(OW_CMD_SNAPSHOT, "", NAN, 0, NULL);
    ow_reply_t r;
    int rc = ctl(site, gw, &req, &r, show_alarm_msg, &count);
    if (rc == 0 && count == 0) printf("  no active alarms\n");
    return rc;
}

static void show_config(void *ctx, const ow_msg_t *m)
{
    (void)ctx;
    char txt[32];
    if (m->kind == OW_MSG_CONFIG)
        printf("%s %s = %s\n", m->h.gw, m->u.config.key,
               ow_gateway_value_text(m->u.config.key, m->u.config.value, txt, sizeof txt));
}

static int cmd_thresholds(const ow_site_t *site, int argc, char **argv)
{
    const char *gw = NULL, *args[3];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-g") == 0 && i + 1 < argc)
            gw = argv[++i];
        else if (n < 3)
            args[n++] = argv[i];
        else {
            fprintf(stderr, "ohmwatch thresholds: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    ow_control_t req;
    ow_reply_t r;
    if (n == 1 && strcmp(args[0], "get") == 0) {
        req = ow_cmd_control(OW_CMD_LIST, "", NAN, 0, NULL);
        return ctl(site, gw, &req, &r, show_config, NULL);
    }
    if (n == 2 && strcmp(args[0], "get") == 0) {
        req = ow_cmd_control(OW_CMD_GET, args[1], NAN, 0, NULL);
        int rc = ctl(site, gw, &req, &r, NULL, NULL);
        char txt[32];
        if (rc == 0) printf("%s = %s\n", args[1], ow_gateway_value_text(args[1], r.value, txt, 32));
        return rc;
    }
    if (n == 3 && strcmp(args[0], "set") == 0) {
        double value;
        /* an enum setting by its choice's name (temperature_unit F) or index */
        if (ow_gateway_value_choice(args[1], args[2], &value) < 0 &&
            arg_double("thresholds set", "value", args[2], -1e12, 1e12, &value))
            return 2;
        req = ow_cmd_control(OW_CMD_SET, args[1], value, 0, NULL);
        int rc = ctl(site, gw, &req, &r, NULL, NULL);
        char txt[32];
        if (rc == 0) printf("%s = %s\n", args[1], ow_gateway_value_text(args[1], r.value, txt, 32));
        return rc;
    }
    if (n == 2 && strcmp(args[0], "unset") == 0) {
        req = ow_cmd_control(OW_CMD_UNSET, args[1], NAN, 0, NULL);
        int rc = ctl(site, gw, &req, &r, NULL, NULL);
        char txt[32];
        if (rc == 0)
            printf("%s = %s (the site file's)\n", args[1],
                   ow_gateway_value_text(args[1], r.value, txt, 32));
        return rc;
    }
    usage(stderr);
    return 2;
}

/* An id, or --all: 0 on the wire means every alarm, so no typo may become 0. */
static int cmd_ack(const ow_site_t *site, int argc, char **argv)
{
    const char *gw = NULL;
    long id = -1;
    int all = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-g") == 0 && i + 1 < argc)
            gw = argv[++i];
        else if (strcmp(argv[i], "--all") == 0)
            all = 1;
        else if (id < 0 && argv[i][0] != '-') {
            if (arg_long("ack", "alarm id", argv[i], 1, 1000000, &id)) return 2;
        } else {
            fprintf(stderr, "ohmwatch ack: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (all == (id > 0)) {
        fprintf(stderr, "ohmwatch ack: give an alarm id (see 'ohmwatch alarms') or --all\n");
        return 2;
    }
    ow_control_t req = ow_cmd_control(OW_CMD_ACK, "", NAN, all ? 0 : (int)id, NULL);
    ow_reply_t r;
    int rc = ctl(site, gw, &req, &r, NULL, NULL);
    if (rc == 0) printf("%g alarm(s) acknowledged\n", r.value);
    return rc;
}

/* The test's result arrives with the discharge's end (docs/battery.md);
 * this only tags it. --rate-a is not sent: alarmd measures the current. */
static int cmd_captest(const ow_site_t *site, int argc, char **argv)
{
    const char *gw = NULL;
    int string = 0;
    double rated_h = 10, end_v = 1.75;
    for (int i = 1; i < argc; i++) {

        if (strcmp(argv[i], "-g") == 0 && i + 1 < argc)
            gw = argv[++i];
        else if (strcmp(argv[i], "--rated-h") == 0 && i + 1 < argc) {
            if (arg_double("captest", "--rated-h", argv[++i], 0.01, 1000, &rated_h)) return 2;
        } else if (strcmp(argv[i], "--end-v") == 0 && i + 1 < argc) {
            if (arg_double("captest", "--end-v", argv[++i], 0.5, 5, &end_v)) return 2;
        } else if (strcmp(argv[i], "--rate-a") == 0 && i + 1 < argc) {
            double rate;
            if (arg_double("captest", "--rate-a", argv[++i], 0, 1e6, &rate)) return 2;
        } else if (!string && argv[i][0] != '-') {
            long s;
            if (arg_long("captest", "string", argv[i], 1, OW_MAX_STRINGS, &s)) return 2;
            string = (int)s;
        } else {
            fprintf(stderr, "ohmwatch captest: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (string < 1) {
        usage(stderr);
        return 2;
    }
    char key[64];
    snprintf(key, sizeof key, "end_v_per_cell=%.3f", end_v);
    ow_control_t req = ow_cmd_control(OW_CMD_CAPTEST, key, rated_h, string, NULL);
    ow_reply_t r;
    int rc = ctl(site, gw, &req, &r, NULL, NULL);
    if (rc == 0)
        printf("string %d: next discharge is a capacity test (%g h to %.3f V/cell)\n", string,
               rated_h, end_v);
    return rc;
}

/* Impedance baseline of one module: a value, or "reset" (NAN: learnt again). */
static int cmd_baseline(const ow_site_t *site, int argc, char **argv)
{
    const char *gw = NULL, *val = NULL;
    long module = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-g") == 0 && i + 1 < argc)
            gw = argv[++i];
        else if (!module) {
            if (arg_long("baseline", "module", argv[i], 1, OW_MAX_MODULES, &module)) return 2;
        } else if (!val)
            val = argv[i];
        else {
            fprintf(stderr, "ohmwatch baseline: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    double mohm = NAN;
    if (!val) val = "reset";
    if (!module) {
        usage(stderr);
        return 2;
    }
    if (strcmp(val, "reset") != 0 &&
        arg_double("baseline", "baseline (mOhm)", val, 1e-6, 10000, &mohm))
        return 2;
    ow_control_t req = ow_cmd_control(OW_CMD_BASELINE, "", mohm, (int)module, NULL);
    ow_reply_t r;
    int rc = ctl(site, gw, &req, &r, NULL, NULL);
    if (rc == 0) {
        if (isnan(mohm))
            printf("module %ld: baseline forgotten, learnt again on settled float\n", module);
        else
            printf("module %ld: baseline %g mOhm\n", module, mohm);
    }
    return rc;
}

/* A GX_R_AUX output may open the battery breaker: said out loud, typed
 * back, or --yes from a script that has decided already. */
static int cmd_output(const ow_site_t *site, int argc, char **argv)
{
    const char *gw = NULL, *state = NULL;
    long out = 0;
    int yes = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-g") == 0 && i + 1 < argc)
            gw = argv[++i];
        else if (strcmp(argv[i], "--yes") == 0)
            yes = 1;
        else if (!out && argv[i][0] != '-') {
            if (arg_long("output", "output", argv[i], 1, OW_AUX_POINTS, &out)) return 2;
        } else if (!state && argv[i][0] != '-')
            state = argv[i];
        else {
            fprintf(stderr, "ohmwatch output: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!out || !state) {
        fprintf(stderr, "ohmwatch output: give an output 1-%d and on or off\n", OW_AUX_POINTS);
        return 2;
    }
    int on = strcmp(state, "on") == 0 || strcmp(state, "1") == 0;
    if (!on && strcmp(state, "off") != 0 && strcmp(state, "0") != 0) {
        fprintf(stderr, "ohmwatch output: state '%s' is not on or off\n", state);
        return 2;
    }
    if (!yes) {
        if (!isatty(STDIN_FILENO)) {
            fprintf(stderr,
                    "ohmwatch output: switching output %ld %s needs a confirmation: run "
                    "it at a terminal, or add --yes\n",
                    out, on ? "on" : "off");
            return 2;
        }
        char line[32];
        fprintf(stderr,
                "Output %ld of %s will be switched %s: it may operate the battery breaker.\n"
                "Type the output number to confirm: ",
                out, gw ? gw : "the gateway", on ? "on" : "off");
        fflush(stderr);
        long typed = 0;
        if (!fgets(line, sizeof line, stdin)) line[0] = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || arg_long("output", "confirmation", line, 1, OW_AUX_POINTS, &typed) ||
            typed != out) {
            fprintf(stderr, "ohmwatch output: not confirmed, nothing switched\n");
            return 1;
        }
    }
    ow_control_t req = ow_cmd_control(OW_CMD_OUTPUT, "", on, (int)out, NULL);
    ow_reply_t r;
    int rc = ctl(site, gw, &req, &r, NULL, NULL);
    if (rc == 0) printf("output %ld: %s\n", out, on ? "on" : "off");
    return rc;
}

static void show_audit(void *ctx, const ow_msg_t *m)
{
    int *count = ctx;
    char ts[40];
    if (m->kind != OW_MSG_CONFIG) return;
    const ow_config_t *c = &m->u.config;
    if ((*count)++ == 0)
        printf("%-24s %-10s %-20s %-36s %-12s %-12s %s\n", "when", "gateway", "who", "what", "old",
               "new", "source");
    printf("%-24s %-10s %-20s %-36s %-12s %-12s %s\n", ow_fmt_ts(m->h.ts_us, ts, sizeof ts),
           m->h.gw, c->who[0] ? c->who : "-", c->key, c->old[0] ? c->old : "-",
           c->new_[0] ? c->new_ : "-", c->source);
}

/* alarmd's own record (its state file keeps the last 1000 changes): it
 * answers without PostgreSQL; the historian's audit_log holds them all. */
static int cmd_audit(const ow_site_t *site, int argc, char **argv)
{
    const char *gw = NULL;
    long count = 50;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-g") == 0 && i + 1 < argc)
            gw = argv[++i];
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            if (arg_long("audit", "--count", argv[++i], 1, 1000, &count)) return 2;
        } else {
            fprintf(stderr, "ohmwatch audit: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    ow_control_t req = ow_cmd_control(OW_CMD_AUDIT, "", NAN, (int)count, NULL);
    ow_reply_t r;
    int n = 0, rc = ctl(site, gw, &req, &r, show_audit, &n);
    if (rc == 0 && n == 0) printf("no changes recorded\n");
    return rc;
}

static int cmd_health(const ow_site_t *site, int argc, char **argv)
{
    const char *gw = NULL, *service = NULL;
    double max_age_s = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-g") == 0 && i + 1 < argc)
            gw = argv[++i];
        else if (strcmp(argv[i], "--max-age") == 0 && i + 1 < argc) {
            if (arg_double("health", "--max-age", argv[++i], 0, 86400 * 365.0, &max_age_s))
                return 2;
        } else if (!service && argv[i][0] != '-')
            service = argv[i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!service) {
        usage(stderr);
        return 2;
    }
    return ow_health(site, service, gw, max_age_s, stdout);
}

static void print_warning(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "ohmwatch: warning: %s\n", line);
}

/* The daemons' -n for the whole site, without a daemon: the site has
 * loaded, so what is left are the warnings (ow_lint.h). */
static int cmd_check(const ow_site_t *site)
{
    ow_site_lint(site, print_warning, NULL);
    printf("configuration OK\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *file = getenv("OHMWATCH_SITE");
    char err[1024];
    int i = 1;

    if (!file) file = "etc/site-sample.json";
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
            file = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "-v") == 0)
            ow_log_set_verbosity(1);
        else {
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    ow_log_init("ohmwatch", 0);
    /* Keys are made before any site or service exists. */
    if (strcmp(argv[i], "keygen") == 0) return ow_cli_keygen(argc - i, argv + i);
    ow_site_t *site = ow_site_load(file, err, sizeof err);
    if (!site) {
        fprintf(stderr, "ohmwatch: %s\n", err);
        return 1;
    }
    /* The operator's key: OHMWATCH_KEY, or the "cli" key of the keys
     * directory (readable by root and the ohmwatch group). */
    if (strcmp(argv[i], "check") != 0 && ow_auth_init_site(site, "cli", err, sizeof err) < 0) {
        fprintf(stderr, "ohmwatch: %s\n", err);
        ow_site_destroy(&site);
        return 1;
    }
    ow_signals_init();
    const char *cmd = argv[i];
    int rc;
    if (strcmp(cmd, "status") == 0)
        rc = cmd_status(site, argc - i, argv + i);
    else if (strcmp(cmd, "tail") == 0)
        rc = cmd_tail(site, argc - i, argv + i);
    else if (strcmp(cmd, "alarms") == 0)
        rc = cmd_alarms(site, argc - i, argv + i);
    else if (strcmp(cmd, "thresholds") == 0)
        rc = cmd_thresholds(site, argc - i, argv + i);
    else if (strcmp(cmd, "ack") == 0)
        rc = cmd_ack(site, argc - i, argv + i);
    else if (strcmp(cmd, "output") == 0)
        rc = cmd_output(site, argc - i, argv + i);
    else if (strcmp(cmd, "audit") == 0)
        rc = cmd_audit(site, argc - i, argv + i);
    else if (strcmp(cmd, "captest") == 0)
        rc = cmd_captest(site, argc - i, argv + i);
    else if (strcmp(cmd, "baseline") == 0)
        rc = cmd_baseline(site, argc - i, argv + i);
    else if (strcmp(cmd, "health") == 0)
        rc = cmd_health(site, argc - i, argv + i);
    else if (strcmp(cmd, "check") == 0)
        rc = cmd_check(site);
    else if (strcmp(cmd, "backup") == 0 || strcmp(cmd, "restore") == 0) {
        char user[OW_ID_MAX];
        login_name(user, sizeof user);
        rc = (cmd[0] == 'b' ? ow_cli_backup : ow_cli_restore)(site, user, argc - i, argv + i);
    } else {
        fprintf(stderr, "ohmwatch: unknown command '%s'\n", cmd);
        usage(stderr);
        rc = 2;
    }
    ow_auth_shutdown();
    ow_site_destroy(&site);
    zsys_shutdown();
    return rc;
}
