/* sitesync.c against a real PostgreSQL (pgtest.h's private cluster): the
 * site's gateways, strings and modules stored, synced again without change,
 * and shrunk when the site loses a block or a string. */
#include "sitesync.h"

#include "migrate.h"
#include "ow_test.h"
#include "pgtest.h"

static void test_site(ow_db_t *db)
{
    char err[512];
    ow_gateway_cfg_t gws[2];
    ow_site_t site;
    pgt_site(gws, &site);

    CHECK_MSG(ow_sitesync_run(db, &site, err, sizeof err) == 0, "%s", err);
    CHECK(pgt_count("gateways") == 2);
    CHECK(pgt_count("strings") == 3);
    CHECK(pgt_count("modules") == 7);
    CHECK_STR(
        pgt_q("SELECT name || '|' || module_type || '|' || manufacturer || '|' || battery_type "
              "|| '|' || capacity_ah || '|' || installed || '|' || location || '|' || nstrings "
              "|| '|' || nmodules FROM gateways WHERE gw = 'wm1'"),
        "Webmanager 1|C20|ACME|VRLA 12V|100|2024-03-01|Room 'B'|2|5");
    CHECK_STR(pgt_q("SELECT name FROM gateways WHERE gw = 'wm2'"), "wm2");
    CHECK_STR(pgt_q("SELECT installed FROM gateways WHERE gw = 'wm2'"), "NULL");
    CHECK_STR(pgt_q("SELECT manufacturer FROM gateways WHERE gw = 'wm2'"), "NULL");
    CHECK_STR(pgt_q("SELECT string || '/' || block FROM modules WHERE gw = 'wm1' AND module = 5"),
              "2/2");
    CHECK_STR(pgt_q("SELECT name || '/' || modules || '/' || first_module FROM strings "
                    "WHERE gw = 'wm1' AND string = 2"),
              "String B/2/4");

    /* Syncing again changes nothing; then string B loses a block. */
    CHECK(ow_sitesync_run(db, &site, err, sizeof err) == 0);
    CHECK(pgt_count("modules") == 7);
    gws[0].strings[1].modules = 1;
    gws[0].nmodules = 4;
    CHECK(ow_sitesync_run(db, &site, err, sizeof err) == 0);
    CHECK(pgt_count("modules") == 6);
    CHECK(pgt_qi("SELECT count(*) FROM modules WHERE gw = 'wm1' AND module = 5") == 0);
    CHECK(pgt_qi("SELECT nmodules FROM gateways WHERE gw = 'wm1'") == 4);
    /* ... and the whole string goes, its modules with it. */
    gws[0].nstrings = 1;
    gws[0].nmodules = 3;
    CHECK(ow_sitesync_run(db, &site, err, sizeof err) == 0);
    CHECK(pgt_count("strings") == 2);
    CHECK(pgt_qi("SELECT count(*) FROM modules WHERE gw = 'wm1'") == 3);
    CHECK(pgt_qi("SELECT count(*) FROM modules WHERE gw = 'wm2'") == 2);
}

int main(void)
{
    char err[512];
    ow_db_t *db = pgt_start_db("sitesync-test");
    if (!db) return 1;
    CHECK_MSG(ow_migrate_apply(db, NULL, err, sizeof err) == 0, "%s", err);
    test_site(db);
    ow_db_close(&db);
    return ow_test_done("sitesync_test");
}
