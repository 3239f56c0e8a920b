/* The command table: every command found by name with the role and the
 * services it has today, the role names spelled as the keys spell them,
 * the request builder, the name list alarmd refuses with, and the doc. */
#include "ow_cmd.h"

#include <stdlib.h>

#include "ow_auth.h"
#include "ow_test.h"

static const struct {
    const char *name;
    ow_cmd_id_t id;
    unsigned role;
    unsigned services;
} want[] = {
    {"get", OW_CMD_GET, OW_ROLE_READ, OW_CMD_ALARMD},
    {"list", OW_CMD_LIST, OW_ROLE_READ, OW_CMD_ALARMD},
    {"set", OW_CMD_SET, OW_ROLE_CONFIGURE, OW_CMD_ALARMD},
    {"ack", OW_CMD_ACK, OW_ROLE_OPERATE, OW_CMD_ALARMD},
    {"baseline", OW_CMD_BASELINE, OW_ROLE_CONFIGURE, OW_CMD_ALARMD},
    {"captest", OW_CMD_CAPTEST, OW_ROLE_OPERATE, OW_CMD_ALARMD},
    {"output", OW_CMD_OUTPUT, OW_ROLE_BREAKER, OW_CMD_ALARMD | OW_CMD_BUSD},
    {"audit", OW_CMD_AUDIT, OW_ROLE_READ, OW_CMD_ALARMD},
    {"snapshot", OW_CMD_SNAPSHOT, OW_ROLE_READ, OW_CMD_ALARMD},
    {"reload", OW_CMD_RELOAD, OW_ROLE_CONFIGURE, OW_CMD_ALARMD},
    {"unset", OW_CMD_UNSET, OW_ROLE_CONFIGURE, OW_CMD_ALARMD},
};

int main(void)
{
    CHECK(sizeof want / sizeof want[0] == OW_CMD_COUNT);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const ow_cmd_t *c = ow_cmd_find(want[i].name);
        CHECK_MSG(c != NULL, "%s", want[i].name);
        if (!c) continue;
        CHECK_STR(c->name, want[i].name);
        CHECK(ow_cmd_id(c) == want[i].id);
        CHECK(ow_cmd_get(want[i].id) == c);
        CHECK_STR(ow_cmd_name(want[i].id), want[i].name);
        CHECK_MSG(c->role == want[i].role, "%s: role %u", c->name, c->role);
        CHECK_MSG(c->services == want[i].services, "%s: services %u", c->name, c->services);
        CHECK_MSG(c->doc && c->doc[0] && c->gw && c->gw[0], "%s: documented", c->name);
        /* the name fits the wire's cmd field */
        CHECK(strlen(c->name) < sizeof((ow_control_t *)0)->cmd);
    }
    /* Names as the keys' roles metadata spells them (lib/ow_auth.c). */
    unsigned roles[] = {OW_ROLE_READ, OW_ROLE_OPERATE, OW_ROLE_CONFIGURE, OW_ROLE_BREAKER};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        char buf[32];
        ow_auth_roles_format(roles[i], buf, sizeof buf);
        CHECK_STR(ow_cmd_role_name(roles[i]), buf);
    }
    CHECK_STR(ow_cmd_role_name(OW_ROLE_BREAKER), "breaker");
    CHECK_STR(ow_cmd_role_name(OW_ROLE_READ | OW_ROLE_OPERATE), "?");

    /* Unknown names, and names differing only in case or by a prefix. */
    CHECK(ow_cmd_find("reboot") == NULL);
    CHECK(ow_cmd_find("") == NULL);
    CHECK(ow_cmd_find("GET") == NULL);
    CHECK(ow_cmd_find("snap") == NULL);
    CHECK(ow_cmd_find("output ") == NULL);
    CHECK(ow_cmd_get(OW_CMD_COUNT) == NULL);
    CHECK_STR(ow_cmd_name(OW_CMD_COUNT), "");

    /* The request builder. */
    ow_control_t c = ow_cmd_control(OW_CMD_SET, "soc_low_pct", 20.5, 0, "r1");
    CHECK_STR(c.cmd, "set");
    CHECK_STR(c.key, "soc_low_pct");
    CHECK(c.value == 20.5);
    CHECK(c.index == 0);
    CHECK_STR(c.req, "r1");
    CHECK_STR(c.user, "");
    c = ow_cmd_control(OW_CMD_OUTPUT, NULL, 1, 3, NULL);
    CHECK_STR(c.cmd, "output");
    CHECK_STR(c.key, "");
    CHECK_STR(c.req, "");
    CHECK(c.index == 3 && c.value == 1);
    c = ow_cmd_control(OW_CMD_SNAPSHOT, "", NAN, 0, "health");
    CHECK(isnan(c.value));

    /* The list alarmd's refusal of an unknown command carries. */
    char names[200];
    ow_cmd_names(OW_CMD_ALARMD, names, sizeof names);
    CHECK_STR(names,
              "get, list, set, ack, baseline, captest, output, audit, snapshot, reload, unset");
    ow_cmd_names(OW_CMD_BUSD, names, sizeof names);
    CHECK_STR(names, "output");
    ow_cmd_names(OW_CMD_ALARMD, names, 12);
    CHECK_STR(names, "get, list, ");

    /* The doc: a row per command with its role. */
    char *doc = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&doc, &len);
    CHECK(f && ow_cmd_doc(f) == 0);
    fclose(f);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char row[64];
        snprintf(row, sizeof row, "| `%s` | %s | %s |", want[i].name,
                 want[i].services == OW_CMD_ALARMD ? "alarmd" : "alarmd, busd",
                 ow_cmd_role_name(want[i].role));
        CHECK_CONTAINS(doc, row);
    }
    CHECK_CONTAINS(doc, "| command | taken by | role |");
    CHECK_CONTAINS(doc, "end_v_per_cell=V");
    free(doc);

    /* docs/security.md's roles: each role with exactly the commands above. */
    f = open_memstream(&doc, &len);
    CHECK(f && ow_cmd_roles_doc(f) == 0);
    fclose(f);
    CHECK_CONTAINS(doc, "| `read` | connect at all; subscribe, replay, `get`, `list`, `audit`, "
                        "`snapshot` |\n");
    CHECK_CONTAINS(doc, "| `operate` | `ack`, `captest` |\n");
    CHECK_CONTAINS(doc, "| `configure` | `set`, `baseline`, `reload`, `unset` |\n");
    CHECK_CONTAINS(doc, "| `breaker` | `output` |\n");
    free(doc);
    return ow_test_done("cmd_test");
}
