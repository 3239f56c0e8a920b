/* The keys a deployment needs, each service's with the least roles its job
 * takes: the allow-list is this table's output, so what a key may do is
 * decided here once and documented in docs/security.md. */
#include "keygen.h"

#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ow_auth.h"

/* clang-format off */
static const struct {
    const char *name;
    unsigned roles;
    const char *why;
} default_keys[] = {
    {.name = "busd", .roles = OW_ROLE_READ,
     .why = "publishes readings; takes output commands from alarmd"},
    {.name = "alarmd", .roles = OW_ROLE_READ,
     .why = "subscribes to busd; publishes alarms, answers control"},
    {.name = "historian", .roles = OW_ROLE_READ,
     .why = "subscribes to busd and alarmd"},
    {.name = "modbusd", .roles = OW_ROLE_READ,
     .why = "reads alarmd's snapshot; the Modbus map is read-only"},
    {.name = "snmpd", .roles = OW_ROLE_READ | OW_ROLE_CONFIGURE,
     .why = "forwards SNMP SETs of thresholds"},
    {.name = "webd", .roles = OW_ROLE_ALL,
     .why = "the web pages: acks, thresholds and outputs for its users, whose own roles webd "
            "checks first (alarmd's audit names webd/USER)"},
    {.name = "cli", .roles = OW_ROLE_ALL,
     .why = "the operator's command line (root and the ohmwatch group)"},
};
/* clang-format on */

static void usage(FILE *out)
{
    fprintf(out, "usage: ohmwatch keygen [-d DIR] [--force]\n"
                 "       ohmwatch keygen [-d DIR] --name NAME [--roles R,...] [--force]\n"
                 "  Writes DIR/NAME.key (public, the allow-list) and DIR/private/NAME.key_secret.\n"
                 "  Without --name, the keys every service needs (existing ones are kept).\n"
                 "  Roles: read, operate (ack, captest), configure (thresholds, baselines),\n"
                 "  breaker (outputs). DIR defaults to $OHMWATCH_KEYS_DIR, then "
                 "/etc/ohmwatch/keys.\n");
}

/* Root makes the deployment's keys: the ohmwatch group (the services and
 * the operators in it) may read the secrets, nobody else. */
static void give_to_group(const char *dir, const char *name)
{
    struct group *g = getgrnam("ohmwatch");
    if (!g || geteuid() != 0) return;
    char path[1024];
    snprintf(path, sizeof path, "%s/private", dir);
    if (chown(path, 0, g->gr_gid) < 0) perror(path);
    snprintf(path, sizeof path, "%s/private/%s.key_secret", dir, name);
    if (chown(path, 0, g->gr_gid) < 0) perror(path);
}

static int one(const char *dir, const char *name, unsigned roles, int force, int keep_existing)
{
    char err[1024], path[1024], rs[64];
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    if (keep_existing && !force && access(path, F_OK) == 0) {
        printf("%s: kept\n", path);
        return 0;
    }
    if (ow_auth_keygen(dir, name, roles, force, err, sizeof err) < 0) {
        fprintf(stderr, "ohmwatch keygen: %s\n", err);
        return 1;
    }
    give_to_group(dir, name);
    ow_auth_roles_format(roles | OW_ROLE_READ, rs, sizeof rs);
    printf("%s: %s\n", path, rs);
    return 0;
}

int ow_cli_keygen(int argc, char **argv)
{
    const char *dir = getenv("OHMWATCH_KEYS_DIR"), *name = NULL, *roles_s = NULL;
    int force = 0, c;
    static const struct option lo[] = {{"name", required_argument, NULL, 1},
                                       {"roles", required_argument, NULL, 2},
                                       {"force", no_argument, NULL, 3},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    if (!dir || !*dir) dir = "/etc/ohmwatch/keys";
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", lo, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 1:
            name = optarg;
            break;
        case 2:
            roles_s = optarg;
            break;
        case 3:
            force = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || (roles_s && !name)) {
        usage(stderr);
        return 2;
    }
    if (name) {
        unsigned roles = OW_ROLE_READ;
        char err[256];
        if (roles_s && ow_auth_roles_parse(roles_s, &roles, err, sizeof err) < 0) {
            fprintf(stderr, "ohmwatch keygen: --roles: %s\n", err);
            return 2;
        }
        return one(dir, name, roles, force, 0);
    }
    int rc = 0;
    for (size_t i = 0; i < sizeof default_keys / sizeof default_keys[0]; i++)
        rc |= one(dir, default_keys[i].name, default_keys[i].roles, force, 1);
    return rc;
}
