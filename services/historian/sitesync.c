/* The site in the database (sitesync.h): one transaction of upserts per
 * sync; modules are derived from the strings in SQL, so the database holds
 * the same layout as the site file. */
#include "sitesync.h"

#include <math.h>
#include <stdio.h>

#include "db_int.h"

/* A site text as valid UTF-8 in buf (a fixed-size config field may have cut
 * a character), or NULL when empty. */
static const char *text_or_null(char *buf, size_t len, const char *s, size_t slen)
{
    ow_dbfmt_utf8(buf, len, s, slen);
    return buf[0] ? buf : NULL;
}

int ow_sitesync_run(ow_db_t *db, const ow_site_t *site, char *err, size_t errlen)
{
    char what[96];
    ow_db_rollback(db);
    if (ow_db_cmd(db, "syncing the site", "BEGIN", err, errlen) < 0) return -1;
    for (int i = 0; i < site->ngateways; i++) {
        const ow_gateway_cfg_t *g = &site->gateways[i];
        const ow_battery_t *bat = &g->battery;
        char cap[32], inst[16], ns[24], nm[24], name[sizeof g->name];
        char manuf[sizeof bat->manufacturer], type[sizeof bat->type], loc[sizeof bat->location];
        if (bat->installed_us) *ow_dbfmt_date(inst, ow_dbfmt_day(bat->installed_us)) = '\0';
        const char *nm_or_id = text_or_null(name, sizeof name, g->name, sizeof g->name);
        const char *gp[] = {
            g->id,
            nm_or_id ? nm_or_id : g->id,
            g->module_type && g->module_type->name ? g->module_type->name : "?",
            text_or_null(manuf, sizeof manuf, bat->manufacturer, sizeof bat->manufacturer),
            text_or_null(type, sizeof type, bat->type, sizeof bat->type),
            isfinite(bat->capacity_ah) && bat->capacity_ah > 0
                ? ow_dbfmt_param_double(cap, sizeof cap, bat->capacity_ah)
                : NULL,
            bat->installed_us ? inst : NULL,
            text_or_null(loc, sizeof loc, bat->location, sizeof bat->location),
            ow_dbfmt_param_i64(ns, g->nstrings),
            ow_dbfmt_param_i64(nm, g->nmodules),
        };
        snprintf(what, sizeof what, "syncing gateway %s", g->id);
        if (ow_db_run(
                db, what,
                "INSERT INTO gateways (gw, name, module_type, manufacturer, battery_type, "
                "capacity_ah, installed, location, nstrings, nmodules) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (gw) DO UPDATE SET "
                "name = EXCLUDED.name, module_type = EXCLUDED.module_type, "
                "manufacturer = EXCLUDED.manufacturer, battery_type = EXCLUDED.battery_type, "
                "capacity_ah = EXCLUDED.capacity_ah, installed = EXCLUDED.installed, "
                "location = EXCLUDED.location, nstrings = EXCLUDED.nstrings, "
                "nmodules = EXCLUDED.nmodules, updated_at = now()",
                10, gp, PGRES_COMMAND_OK, NULL, err, errlen) < 0)
            goto fail;
        for (int s = 0; s < g->nstrings; s++) {
            const ow_string_cfg_t *sc = &g->strings[s];
            char sn[24], mods[24], first[24], sname[sizeof sc->name];
            const char *sname_p = text_or_null(sname, sizeof sname, sc->name, sizeof sc->name);
            const char *sp[] = {g->id, ow_dbfmt_param_i64(sn, s + 1), sname_p ? sname_p : sn,
                                ow_dbfmt_param_i64(mods, sc->modules),
                                ow_dbfmt_param_i64(first, sc->first_module)};
            if (ow_db_run(db, what,
                          "INSERT INTO strings (gw, string, name, modules, first_module) "
                          "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (gw, string) DO UPDATE SET "
                          "name = EXCLUDED.name, modules = EXCLUDED.modules, "
                          "first_module = EXCLUDED.first_module",
                          5, sp, PGRES_COMMAND_OK, NULL, err, errlen) < 0)
                goto fail;
        }
        /* Modules follow from the strings: string s holds addresses
         * first_module .. first_module + modules - 1, blocks 1.. in order. */
        const char *dp[] = {g->id, ns};
        if (ow_db_run(db, what, "DELETE FROM strings WHERE gw = $1 AND string > $2", 2, dp,
                      PGRES_COMMAND_OK, NULL, err, errlen) < 0 ||
            ow_db_run(db, what,
                      "INSERT INTO modules (gw, module, string, block) "
                      "SELECT s.gw, s.first_module + b - 1, s.string, b "
                      "FROM strings s, generate_series(1, s.modules) b WHERE s.gw = $1 "
                      "ON CONFLICT (gw, module) DO UPDATE SET string = EXCLUDED.string, "
                      "block = EXCLUDED.block",
                      1, gp, PGRES_COMMAND_OK, NULL, err, errlen) < 0 ||
            ow_db_run(
                db, what,
                "DELETE FROM modules m WHERE m.gw = $1 AND NOT EXISTS (SELECT 1 FROM strings s "
                "WHERE s.gw = m.gw AND s.string = m.string AND m.module BETWEEN s.first_module "
                "AND s.first_module + s.modules - 1)",
                1, gp, PGRES_COMMAND_OK, NULL, err, errlen) < 0)
            goto fail;
    }
    if (ow_db_commit(db, "syncing the site", err, errlen) < 0) goto fail;
    return 0;
fail:
    ow_db_rollback(db);
    return -1;
}
