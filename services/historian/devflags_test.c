/* devflags.c: the decision alone, then against a real PostgreSQL
 * (pgtest.h's private cluster): a device message makes a row, the same words
 * again none, a changed module word one module row, a keep-alive after ten
 * quiet minutes, a replayed batch nothing more, and a new connection (a
 * historian restart) writes its first message again. */
#include "devflags.h"

#include <stdio.h>
#include <string.h>

#include "hist_test.h"
#include "migrate.h"
#include "ow_gbms.h"
#include "ow_test.h"
#include "pgtest.h"
#include "sitesync.h"

static ow_msg_t dev_msg(int64_t ts, uint64_t seq, uint32_t general, uint16_t mod3)
{
    ow_msg_t m = msg(OW_MSG_DEVICE, "wm1", ts, seq);
    ow_device_t *d = &m.u.device;
    snprintf(d->link, sizeof d->link, "up");
    d->general = general;
    d->battery = 0;
    d->alarm = 0;
    d->strings_reported = 2;
    d->modules_reported = 5;
    d->requests = seq * 4;
    d->nmodules = 5;
    d->module_flags[2] = mod3;
    return m;
}

static void test_decide(void)
{
    ow_msg_t a = dev_msg(D0, 1, GBMS_ST_RUNNING | GBMS_ST_FLOAT_CHARGING, 0);
    ow_msg_t b = a;
    int16_t mod[OW_MAX_MODULES];
    int32_t fl[OW_MAX_MODULES];
    CHECK(ow_devflags_decide(NULL, 0, &a.u.device, D0) == OW_DEVFLAGS_START);
    CHECK(ow_devflags_decide(&a.u.device, D0, &b.u.device, D0 + S_US) == OW_DEVFLAGS_SAME);
    CHECK(ow_devflags_decide(&a.u.device, D0, &b.u.device, D0 + OW_DEVFLAGS_KEEPALIVE_US - 1) ==
          OW_DEVFLAGS_SAME);
    CHECK(ow_devflags_decide(&a.u.device, D0, &b.u.device, D0 + OW_DEVFLAGS_KEEPALIVE_US) ==
          OW_DEVFLAGS_KEEPALIVE);
    /* A clock stepped back is no reason to write. */
    CHECK(ow_devflags_decide(&a.u.device, D0, &b.u.device, D0 - DAY_US) == OW_DEVFLAGS_SAME);
    snprintf(b.u.device.link, sizeof b.u.device.link, "partial");
    CHECK(ow_devflags_decide(&a.u.device, D0, &b.u.device, D0 + S_US) == OW_DEVFLAGS_CHANGE);
    b = a;
    b.u.device.alarm = GBMS_AL_GENERAL_ALARM;
    CHECK(ow_devflags_decide(&a.u.device, D0, &b.u.device, D0 + S_US) == OW_DEVFLAGS_CHANGE);
    b = a;
    b.u.device.modules_reported = 4;
    CHECK(ow_devflags_decide(&a.u.device, D0, &b.u.device, D0 + S_US) == OW_DEVFLAGS_CHANGE);
    /* Module words: all of them without a previous message, then only changes. */
    CHECK(ow_devflags_modules(NULL, &a.u.device, mod, fl) == 5);
    CHECK(ow_devflags_modules(&a.u.device, &a.u.device, mod, fl) == 0);
    b = a;
    b.u.device.module_flags[2] = GBMS_AL_VOLTAGE_HIGH;
    CHECK(ow_devflags_decide(&a.u.device, D0, &b.u.device, D0 + S_US) == OW_DEVFLAGS_SAME);
    CHECK(ow_devflags_modules(&a.u.device, &b.u.device, mod, fl) == 1);
    CHECK(mod[0] == 3 && fl[0] == GBMS_AL_VOLTAGE_HIGH);
    /* A module gone from the message reads 0: a change only if it was set. */
    b.u.device.nmodules = 2;
    CHECK(ow_devflags_modules(&a.u.device, &b.u.device, mod, fl) == 0);
    a.u.device.module_flags[4] = GBMS_AL_COMMUNICATION_LOST;
    CHECK(ow_devflags_modules(&a.u.device, &b.u.device, mod, fl) == 1);
    CHECK(mod[0] == 5 && fl[0] == 0);
    CHECK_STR(ow_devflags_why_name(OW_DEVFLAGS_KEEPALIVE), "keepalive");
    CHECK(ow_devflags_why_name(OW_DEVFLAGS_SAME) == NULL);
}

static void write1(ow_db_t *db, ow_msg_t m)
{
    char err[512];
    ow_batch_t *b = ow_batch_new();
    CHECK(ow_batch_add(b, &m) == 1);
    ow_batch_position(b, m.h.pub, m.h.epoch, m.h.seq);
    CHECK_MSG(ow_db_write(db, b, NULL, err, sizeof err) == 0, "%s", err);
    ow_batch_destroy(&b);
}

static long long rows(void)
{
    return pgt_count("device_flags");
}

static long long mrows(void)
{
    return pgt_count("device_module_flags");
}

static void test_store(ow_db_t **dbp)
{
    char err[512];
    ow_db_devstats_t st = {0};
    const uint32_t g0 = GBMS_ST_RUNNING | GBMS_ST_FLOAT_CHARGING;
    const uint32_t g1 = g0 | GBMS_ST_VOLTAGE_OUTOFRANGE;

    /* The first message: its row, and every module's word. */
    write1(*dbp, dev_msg(D0, 1, g0, 0));
    CHECK(rows() == 1);
    CHECK(mrows() == 5);
    CHECK_STR(pgt_q("SELECT format('%%s %%s %%s %%s %%s', link, strings_reported, "
                    "modules_reported, why, requests) FROM device_flags"),
              "up 2 5 start 4");
    CHECK(pgt_qi("SELECT general FROM device_flags") == (long long)g0);

    /* The same words a second later: nothing. */
    write1(*dbp, dev_msg(D0 + S_US, 2, g0, 0));
    CHECK(rows() == 1);
    CHECK(mrows() == 5);

    /* Module 3 raises its voltage high bit: one module row, no device row. */
    write1(*dbp, dev_msg(D0 + 2 * S_US, 3, g0, GBMS_AL_VOLTAGE_HIGH | GBMS_AL_GENERAL_ALARM));
    CHECK(rows() == 1);
    CHECK(mrows() == 6);
    CHECK(pgt_qi("SELECT flags FROM device_module_flags WHERE module = 3 ORDER BY ts DESC "
                 "LIMIT 1") == (GBMS_AL_VOLTAGE_HIGH | GBMS_AL_GENERAL_ALARM));

    /* The general word changes: a device row, module words unchanged. */
    write1(*dbp, dev_msg(D0 + 3 * S_US, 4, g1, GBMS_AL_VOLTAGE_HIGH | GBMS_AL_GENERAL_ALARM));
    CHECK(rows() == 2);
    CHECK(mrows() == 6);
    CHECK_STR(pgt_q("SELECT why FROM device_flags ORDER BY ts DESC LIMIT 1"), "change");

    /* Ten quiet minutes, one message a minute (several in one batch): a
     * keep-alive at the tenth. */
    ow_batch_t *b = ow_batch_new();
    for (int i = 1; i <= 10; i++) {
        ow_msg_t m = dev_msg(D0 + 3 * S_US + i * 60 * S_US, 4 + (uint64_t)i, g1,
                             GBMS_AL_VOLTAGE_HIGH | GBMS_AL_GENERAL_ALARM);
        CHECK(ow_batch_add(b, &m) == 1);
        ow_batch_position(b, m.h.pub, m.h.epoch, m.h.seq);
    }
    CHECK_MSG(ow_db_write(*dbp, b, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(rows() == 3);
    CHECK_STR(pgt_q("SELECT why FROM device_flags ORDER BY ts DESC LIMIT 1"), "keepalive");
    /* The same batch again (a replay): nothing new. */
    CHECK_MSG(ow_db_write(*dbp, b, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(rows() == 3);
    CHECK(mrows() == 6);
    ow_batch_destroy(&b);

    ow_db_devstats_take(*dbp, &st);
    CHECK(st.rows == 3);
    CHECK(st.module_rows == 6);
    CHECK(st.unchanged == 1 + 9 + 10);
    ow_db_devstats_t again = {0};
    ow_db_devstats_take(*dbp, &again);
    CHECK(again.rows == 0 && again.unchanged == 0);

    /* A failed transaction forgets what it saw: the message is decided
     * again when the batch is retried. */
    pgt_stop();
    b = ow_batch_new();
    ow_msg_t m = dev_msg(D0 + 20 * 60 * S_US, 20, g0, 0);
    CHECK(ow_batch_add(b, &m) == 1);
    ow_batch_position(b, m.h.pub, m.h.epoch, m.h.seq);
    CHECK(ow_db_write(*dbp, b, NULL, err, sizeof err) == -1);
    CHECK(pgt_restart() == 0);
    ow_db_close(dbp);
    *dbp = ow_db_connect(pgt_conninfo(), err, sizeof err);
    CHECK_MSG(*dbp != NULL, "%s", err);

    /* A new connection (a historian restart) writes its first message even
     * though the words are those last stored, and every module's word. */
    write1(*dbp,
           dev_msg(D0 + 11 * 60 * S_US, 15, g1, GBMS_AL_VOLTAGE_HIGH | GBMS_AL_GENERAL_ALARM));
    CHECK(rows() == 4);
    CHECK(mrows() == 11);
    CHECK_STR(pgt_q("SELECT why FROM device_flags ORDER BY ts DESC LIMIT 1"), "start");
    /* And the retried batch is a change after it. */
    CHECK_MSG(ow_db_write(*dbp, b, NULL, err, sizeof err) == 0, "%s", err);
    CHECK(rows() == 5);
    CHECK(mrows() == 12);
    CHECK(pgt_qi("SELECT flags FROM device_module_flags WHERE module = 3 ORDER BY ts DESC "
                 "LIMIT 1") == 0);
    ow_batch_destroy(&b);
    /* Every device message's position went in with it. */
    CHECK(pgt_qi("SELECT seq FROM ingest_positions WHERE pub = 'busd.wm1'") == 20);
}

int main(void)
{
    char err[512];
    test_decide();
    ow_db_t *db = pgt_start_db("devflags-test");
    if (!db) return 1;
    ow_gateway_cfg_t gws[2];
    ow_site_t site;
    pgt_site(gws, &site);
    CHECK_MSG(ow_migrate_apply(db, NULL, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(ow_sitesync_run(db, &site, err, sizeof err) == 0, "%s", err);
    test_store(&db);
    ow_db_close(&db);
    return ow_test_done("devflags_test");
}
