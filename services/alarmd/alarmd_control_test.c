/* alarmd's control dispatch through the command table (proto/ow_cmd.h):
 * a real alarmd object (one simulated gateway, ipc:// sockets, its state
 * in a temporary directory) answers requests from keys of each role. A key
 * without a command's role is refused by name and nothing changes; an
 * unknown command is refused with the table's list of names. */
#include <czmq.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "alarmd.h"
#include "ow_digest.h"
#include "alarmd_test_site.h"
#include "ow_cmd.h"
#include "ow_config.h"
#include "ow_log.h"
#include "ow_proto.h"
#include "ow_test.h"

static char dir[] = "/tmp/ow-alarmd-control-test-XXXXXX";

typedef struct {
    ow_reply_t r;
    int nmsg;           /* the messages after the reply */
    int nconfig;        /* of which kind config */
    int nstate;         /* of which kind state */
    ow_config_t cfg[4]; /* the first config messages */
} answer_t;

static answer_t ask(ow_alarmd_t *a, const ow_peer_t *peer, ow_cmd_id_t id, const char *cmd,
                    const char *key, double value, int index)
{
    answer_t an;
    memset(&an, 0, sizeof an);
    ow_msg_t m;
    ow_msg_init(&m, OW_MSG_CONTROL);
    m.u.control = ow_cmd_control(id, key, value, index, "t1");
    if (cmd) snprintf(m.u.control.cmd, sizeof m.u.control.cmd, "%s", cmd);
    snprintf(m.h.pub, sizeof m.h.pub, "test");
    snprintf(m.h.gw, sizeof m.h.gw, "wm1");
    m.h.epoch = 1;
    m.h.seq = 1;
    m.h.ts_us = 1700000000000000;
    char body[OW_BODY_MAX], err[200];
    int n = ow_encode(&m, body, sizeof body, err, sizeof err);
    CHECK_MSG(n > 0, "encode: %s", err);
    if (n <= 0) return an;
    zmsg_t *out = ow_alarmd_control(a, body, (size_t)n, peer);
    CHECK(out && zmsg_size(out) % 2 == 1);
    if (!out) return an;
    zframe_t *f = zmsg_first(out);
    ow_msg_t rm;
    CHECK(ow_decode(NULL, 0, (const char *)zframe_data(f), zframe_size(f), &rm, err, sizeof err,
                    NULL) == OW_PERR_OK &&
          rm.kind == OW_MSG_REPLY);
    an.r = rm.u.reply;
    for (zframe_t *t = zmsg_next(out); t; t = zmsg_next(out)) {
        zframe_t *b = zmsg_next(out);
        an.nmsg++;
        if (ow_decode((const char *)zframe_data(t), zframe_size(t), (const char *)zframe_data(b),
                      zframe_size(b), &rm, err, sizeof err, NULL) == OW_PERR_OK) {
            if (rm.kind == OW_MSG_CONFIG && an.nconfig < 4) an.cfg[an.nconfig] = rm.u.config;
            an.nconfig += rm.kind == OW_MSG_CONFIG;
            an.nstate += rm.kind == OW_MSG_STATE;
        }
    }
    zmsg_destroy(&out);
    return an;
}

#define ASK(peer, id, key, value, index) ask(a, peer, id, NULL, key, value, index)

/* Refused by name: "NAME may not CMD: the key lacks the ROLE role". */
static void check_refused(answer_t an, const char *who, const char *cmd, const char *role)
{
    char want[160];
    snprintf(want, sizeof want, "%s may not %s: the key lacks the %s role", who, cmd, role);
    CHECK_MSG(!an.r.ok, "%s %s accepted", who, cmd);
    CHECK_STR(an.r.error, want);
}

int main(void)
{
    char path[96], err[1024];
    ow_log_set_verbosity(-1);
    if (!mkdtemp(dir)) return 1;
    if (alarmd_test_site(dir, "t", path, sizeof path) < 0) return 1;
    ow_alarmd_t *a = ow_alarmd_new(path, err, sizeof err);
    CHECK_MSG(a != NULL, "%s", err);
    if (!a) return ow_test_done("alarmd_control_test");

    const ow_peer_t viewer = {.who = "noc-ro", .roles = OW_ROLE_READ},
                    ops = {.who = "ops", .roles = OW_ROLE_READ | OW_ROLE_OPERATE},
                    eng = {.who = "eng", .roles = OW_ROLE_READ | OW_ROLE_CONFIGURE},
                    brk = {.who = "brk", .roles = OW_ROLE_READ | OW_ROLE_BREAKER},
                    all = {.who = "cli", .roles = OW_ROLE_ALL};
    const char *key = "thresholds.voltage_v.high_alarm";
    int nkeys = 0;
    for (const char *const *k = ow_gateway_keys(); *k; k++)
        nkeys++;

    /* Reading is every key's. */
    answer_t an = ASK(&viewer, OW_CMD_GET, key, NAN, 0);
    CHECK_MSG(an.r.ok, "%s", an.r.error);
    CHECK_STR(an.r.req, "t1");
    double orig = an.r.value;
    CHECK(!isnan(orig));
    an = ASK(&viewer, OW_CMD_LIST, "", NAN, 0);
    CHECK(an.r.ok && an.nconfig == nkeys && an.nmsg == nkeys);
    an = ASK(&viewer, OW_CMD_SNAPSHOT, "", NAN, 0);
    CHECK(an.r.ok && an.nstate == 1);
    an = ASK(&viewer, OW_CMD_AUDIT, "", NAN, 0);
    CHECK(an.r.ok && an.r.value == 0);

    /* A viewer may not ack, set, change a baseline, tag a test or switch. */
    check_refused(ASK(&viewer, OW_CMD_ACK, "", NAN, 0), "noc-ro", "ack", "operate");
    check_refused(ASK(&viewer, OW_CMD_CAPTEST, "", NAN, 1), "noc-ro", "captest", "operate");
    check_refused(ASK(&viewer, OW_CMD_SET, key, orig + 1, 0), "noc-ro", "set", "configure");
    check_refused(ASK(&viewer, OW_CMD_BASELINE, "", 5.0, 1), "noc-ro", "baseline", "configure");
    check_refused(ASK(&viewer, OW_CMD_OUTPUT, "", 1, 2), "noc-ro", "output", "breaker");
    /* Nor may an operator configure, an engineer ack or either switch. */
    check_refused(ASK(&ops, OW_CMD_SET, key, orig + 1, 0), "ops", "set", "configure");
    check_refused(ASK(&ops, OW_CMD_OUTPUT, "", 1, 2), "ops", "output", "breaker");
    check_refused(ASK(&eng, OW_CMD_ACK, "", NAN, 0), "eng", "ack", "operate");
    check_refused(ASK(&eng, OW_CMD_OUTPUT, "", 1, 2), "eng", "output", "breaker");
    check_refused(ASK(&brk, OW_CMD_SET, key, orig + 1, 0), "brk", "set", "configure");
    an = ASK(&viewer, OW_CMD_GET, key, NAN, 0);
    CHECK(an.r.ok && an.r.value == orig); /* no refused set got through */

    /* Each role does what it may. */
    an = ASK(&ops, OW_CMD_ACK, "", NAN, 0);
    CHECK_MSG(an.r.ok && an.r.value == 0, "%s", an.r.error); /* nothing active */
    an = ASK(&ops, OW_CMD_ACK, "", NAN, 7);
    CHECK(!an.r.ok);
    CHECK_STR(an.r.error, "no active alarm with id 7");
    an = ASK(&eng, OW_CMD_SET, key, orig - 0.5, 0);
    CHECK_MSG(an.r.ok && an.r.value == orig - 0.5, "%s", an.r.error);
    an = ASK(&viewer, OW_CMD_GET, key, NAN, 0);
    CHECK(an.r.ok && an.r.value == orig - 0.5);
    an = ASK(&eng, OW_CMD_SET, "no_such_key", 1, 0);
    CHECK(!an.r.ok);
    CHECK_STR(an.r.error, "unknown key 'no_such_key'");
    an = ASK(&eng, OW_CMD_BASELINE, "", 5.0, 1);
    CHECK_MSG(an.r.ok && an.r.value == 5.0, "%s", an.r.error);
    an = ASK(&brk, OW_CMD_OUTPUT, "", 1, 2);
    CHECK_MSG(an.r.ok && an.r.value == 1, "%s", an.r.error);
    an = ASK(&brk, OW_CMD_OUTPUT, "", 1, 17);
    CHECK(!an.r.ok);
    CHECK_STR(an.r.error, "output wants index 1-16 and value 0 or 1");
    an = ASK(&all, OW_CMD_CAPTEST, "end_v=1", NAN, 1);
    CHECK(!an.r.ok);
    CHECK_STR(an.r.error, "captest key wants end_v_per_cell=V, not 'end_v=1'");
    /* set, baseline and output are audited, oldest first */
    an = ASK(&viewer, OW_CMD_AUDIT, "", NAN, 0);
    CHECK(an.r.ok && an.r.value == 3 && an.nconfig == 3);
    an = ASK(&viewer, OW_CMD_AUDIT, "", NAN, 1);
    CHECK(an.r.ok && an.r.value == 1 && an.nconfig == 1);

    /* reload (a restore's): an engineer's, like set; the file unchanged
     * and the saved setting applied again, nothing changes. */
    check_refused(ASK(&viewer, OW_CMD_RELOAD, "", NAN, 0), "noc-ro", "reload", "configure");
    an = ASK(&eng, OW_CMD_RELOAD, "", NAN, 1);
    CHECK(an.r.ok && an.r.value == 0);
    an = ASK(&eng, OW_CMD_RELOAD, "", NAN, 0);
    CHECK(an.r.ok && an.r.value == 0);
    an = ASK(&eng, OW_CMD_RELOAD, "", NAN, 2);
    CHECK(!an.r.ok);
    /* naming the file by its SHA-256: the one alarmd runs from, or refused */
    {
        FILE *f = fopen(path, "rb");
        static char text[1 << 16];
        size_t n = f ? fread(text, 1, sizeof text, f) : 0;
        if (f) fclose(f);
        char hex[OW_SHA256_HEX];
        ow_sha256_hex(text, n, hex);
        hex[32] = '\0';
        an = ASK(&eng, OW_CMD_RELOAD, hex, NAN, 1);
        CHECK_MSG(an.r.ok, "%s", an.r.error);
        an = ASK(&eng, OW_CMD_RELOAD, hex, NAN, 0);
        CHECK_MSG(an.r.ok && an.r.value == 0, "%s", an.r.error);
        hex[0] = hex[0] == '0' ? '1' : '0';
        an = ASK(&eng, OW_CMD_RELOAD, hex, NAN, 0);
        CHECK(!an.r.ok);
        CHECK_CONTAINS(an.r.error, "not the file named (SHA-256 ");
        an = ASK(&eng, OW_CMD_RELOAD, "abc", NAN, 1);
        CHECK(!an.r.ok);
        CHECK_CONTAINS(an.r.error, "16 to 63 lowercase hex digits");
    }

    /* The guide's other read-write settings are settings like the
     * thresholds: in the list and the snapshot, set by an engineer, the
     * unit by its index (0 C, 1 F), audited with the user, range-checked
     * with the reason, and kept across a restart. */
    an = ASK(&viewer, OW_CMD_SNAPSHOT, "", NAN, 0);
    CHECK(an.r.ok && an.nconfig == nkeys);
    an = ASK(&viewer, OW_CMD_GET, "impedance_poll_min", NAN, 0);
    CHECK(an.r.ok && an.r.value == 720);
    an = ASK(&viewer, OW_CMD_GET, "temperature_unit", NAN, 0);
    CHECK(an.r.ok && an.r.value == 0);
    check_refused(ASK(&ops, OW_CMD_SET, "temperature_unit", 1, 0), "ops", "set", "configure");
    an = ASK(&eng, OW_CMD_SET, "impedance_poll_min", 30, 0);
    CHECK_MSG(an.r.ok && an.r.value == 30, "%s", an.r.error);
    an = ASK(&eng, OW_CMD_SET, "temperature_unit", 1, 0);
    CHECK_MSG(an.r.ok && an.r.value == 1, "%s", an.r.error);
    an = ASK(&eng, OW_CMD_SET, "temperature_unit", 2, 0);
    CHECK(!an.r.ok);
    CHECK_STR(an.r.error, "temperature_unit: must be between 0 and 1 (C, F, in that order)");
    an = ASK(&eng, OW_CMD_SET, "impedance_poll_min", 0, 0);
    CHECK(!an.r.ok);
    CHECK_STR(an.r.error, "impedance_poll_min: must be between 1 and 44640");
    an = ASK(&eng, OW_CMD_SET, "impedance_poll_min", 44641, 0);
    CHECK(!an.r.ok);
    an = ASK(&viewer, OW_CMD_AUDIT, "", NAN, 2); /* the last two: the accepted ones */
    CHECK(an.r.ok && an.r.value == 2 && an.nconfig == 2);
    CHECK_STR(an.cfg[0].who, "eng");
    CHECK_STR(an.cfg[0].key, "impedance_poll_min");
    CHECK(strcmp(an.cfg[0].old, "720") == 0 && strcmp(an.cfg[0].new_, "30") == 0);
    CHECK_STR(an.cfg[1].who, "eng");
    CHECK_STR(an.cfg[1].key, "temperature_unit");
    CHECK(strcmp(an.cfg[1].old, "C") == 0 && strcmp(an.cfg[1].new_, "F") == 0);
    CHECK(an.cfg[1].value == 1 && an.cfg[1].old_value == 0);
    ow_alarmd_destroy(&a);
    a = ow_alarmd_new(path, err, sizeof err);
    CHECK_MSG(a != NULL, "%s", err);
    if (!a) return ow_test_done("alarmd_control_test");
    an = ASK(&viewer, OW_CMD_GET, "impedance_poll_min", NAN, 0);
    CHECK(an.r.ok && an.r.value == 30);
    an = ASK(&viewer, OW_CMD_GET, "temperature_unit", NAN, 0);
    CHECK(an.r.ok && an.r.value == 1);
    an = ASK(&viewer, OW_CMD_GET, key, NAN, 0);
    CHECK(an.r.ok && an.r.value == orig - 0.5);

    /* unset: an engineer's; the site file's value in force again, audited
     * "(site file)", gone from the saved settings (not back after a
     * restart); a key with nothing set changes nothing and is not audited;
     * one the other settings in force forbid is refused with the rule. */
    check_refused(ASK(&ops, OW_CMD_UNSET, key, NAN, 0), "ops", "unset", "configure");
    an = ASK(&eng, OW_CMD_UNSET, "no_such_key", NAN, 0);
    CHECK(!an.r.ok);
    CHECK_STR(an.r.error, "unknown key 'no_such_key'");
    an = ASK(&eng, OW_CMD_UNSET, key, NAN, 0);
    CHECK_MSG(an.r.ok && an.r.value == orig, "%s", an.r.error);
    an = ASK(&viewer, OW_CMD_GET, key, NAN, 0);
    CHECK(an.r.ok && an.r.value == orig);
    an = ASK(&viewer, OW_CMD_AUDIT, "", NAN, 1);
    CHECK(an.r.ok && an.nconfig == 1);
    CHECK_STR(an.cfg[0].key, key);
    CHECK(strcmp(an.cfg[0].who, "eng") == 0 && an.cfg[0].value == orig &&
          an.cfg[0].old_value == orig - 0.5);
    CHECK_CONTAINS(an.cfg[0].new_, " (site file)");
    an = ASK(&viewer, OW_CMD_AUDIT, "", NAN, 0);
    double naudit = an.r.value;
    an = ASK(&eng, OW_CMD_UNSET, key, NAN, 0); /* nothing set any more */
    CHECK(an.r.ok && an.r.value == orig);
    an = ASK(&viewer, OW_CMD_AUDIT, "", NAN, 0);
    CHECK(an.r.value == naudit);
    /* high_warn set above the file's high_alarm only after high_alarm was
     * raised: dropping high_alarm's setting alone would order them wrong. */
    const char *hw = "thresholds.voltage_v.high_warn";
    an = ASK(&eng, OW_CMD_SET, key, orig + 2, 0);
    CHECK_MSG(an.r.ok, "%s", an.r.error);
    an = ASK(&eng, OW_CMD_SET, hw, orig + 1, 0);
    CHECK_MSG(an.r.ok, "%s", an.r.error);
    an = ASK(&eng, OW_CMD_UNSET, key, NAN, 0);
    CHECK(!an.r.ok);
    CHECK_CONTAINS(an.r.error, "high_warn");
    an = ASK(&viewer, OW_CMD_GET, key, NAN, 0);
    CHECK(an.r.ok && an.r.value == orig + 2); /* refused: nothing changed */
    an = ASK(&eng, OW_CMD_UNSET, hw, NAN, 0);
    CHECK_MSG(an.r.ok, "%s", an.r.error);
    an = ASK(&eng, OW_CMD_UNSET, key, NAN, 0);
    CHECK_MSG(an.r.ok && an.r.value == orig, "%s", an.r.error);
    an = ASK(&eng, OW_CMD_UNSET, "temperature_unit", NAN, 0);
    CHECK(an.r.ok && an.r.value == 0);
    ow_alarmd_destroy(&a);
    a = ow_alarmd_new(path, err, sizeof err);
    CHECK_MSG(a != NULL, "%s", err);
    if (!a) return ow_test_done("alarmd_control_test");
    an = ASK(&viewer, OW_CMD_GET, key, NAN, 0);
    CHECK(an.r.ok && an.r.value == orig); /* the saved setting is gone */
    an = ASK(&viewer, OW_CMD_GET, "temperature_unit", NAN, 0);
    CHECK(an.r.ok && an.r.value == 0);
    an = ASK(&viewer, OW_CMD_GET, "impedance_poll_min", NAN, 0);
    CHECK(an.r.ok && an.r.value == 30); /* still set */

    /* Unknown commands: the table's names, whatever the key's roles. */
    an = ask(a, &viewer, OW_CMD_GET, "reboot", "", NAN, 0);
    CHECK(!an.r.ok);
    CHECK_STR(an.r.error, "unknown command 'reboot' (get, list, set, ack, baseline, captest, "
                          "output, audit, snapshot, reload, unset)");
    an = ask(a, &all, OW_CMD_GET, "GET", "", NAN, 0);
    CHECK(!an.r.ok);
    CHECK_CONTAINS(an.r.error, "unknown command 'GET'");

    ow_alarmd_destroy(&a);
    static const char *const files[] = {"site.json", "state.json", "state.json.tmp",
                                        "ap",        "ac",         "ar"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        remove(path);
    }
    rmdir(dir);
    return ow_test_done("alarmd_control_test");
}
