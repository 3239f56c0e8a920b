/* The backup archive (backup.h): a round trip keeps the site file byte for
 * byte and every setting exactly; a changed byte, an extra, a missing, a
 * doubled, a linked or a too-large member is refused naming the member; the
 * name follows the guide's rule; settings apply in an order the rules
 * between keys allow. */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "ow_test.h"

typedef struct {
    const char *name;
    const char *data;
    size_t len;
    int symlink;
} mem_t;

/* A tar.gz of exactly these entries, as a hand-made (hostile) one would be. */
static unsigned char *tgz(const mem_t *m, size_t n, size_t *len)
{
    size_t cap = 64 * 1024, used = 0;
    for (size_t i = 0; i < n; i++)
        cap += m[i].len + 1024;
    unsigned char *buf = malloc(cap);
    struct archive *a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    archive_write_open_memory(a, buf, cap, &used);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].name);
        if (m[i].symlink) {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, "/etc/passwd");
            archive_entry_set_size(e, 0);
        } else {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, (la_int64_t)m[i].len);
        }
        archive_entry_set_perm(e, 0644);
        archive_write_header(a, e);
        if (!m[i].symlink) archive_write_data(a, m[i].data, m[i].len);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    *len = used;
    return buf;
}

/* The members of a good archive, to be put back together altered. */
static size_t untar(const unsigned char *data, size_t len, mem_t *out, char bufs[][8192])
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    size_t n = 0;
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    archive_read_open_memory(a, data, len);
    while (n < 3 && archive_read_next_header(a, &e) == ARCHIVE_OK) {
        la_ssize_t k = archive_read_data(a, bufs[n], 8191);
        out[n].name = strcmp(archive_entry_pathname(e), OW_BACKUP_MANIFEST) == 0
                          ? OW_BACKUP_MANIFEST
                      : strcmp(archive_entry_pathname(e), OW_BACKUP_SITE) == 0 ? OW_BACKUP_SITE
                                                                               : OW_BACKUP_SETTINGS;
        out[n].data = bufs[n];
        out[n].len = k > 0 ? (size_t)k : 0;
        out[n].symlink = 0;
        n++;
    }
    archive_read_free(a);
    return n;
}

static void refused(const mem_t *m, size_t n, const char *want)
{
    size_t len;
    char err[1024] = "";
    unsigned char *t = tgz(m, n, &len);
    ow_backup_t *b = ow_backup_parse(t, len, err, sizeof err);
    CHECK_MSG(b == NULL, "accepted, want '%s'", want);
    CHECK_MSG(strstr(err, want) != NULL, "'%s' does not say '%s'", err, want);
    ow_backup_destroy(&b);
    free(t);
}

static int idx(const mem_t *m, const char *name)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(m[i].name, name) == 0) return i;
    return 0;
}

/* Whether b holds exactly these settings (in any order). */
static int same_settings(const ow_backup_t *b, const ow_backup_setting_t *set, size_t n)
{
    if (b->nsettings != n) return 0;
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (size_t j = 0; j < b->nsettings; j++)
            found |= !strcmp(b->settings[j].gw, set[i].gw) &&
                     !strcmp(b->settings[j].key, set[i].key) &&
                     b->settings[j].value == set[i].value;
        if (!found) return 0;
    }
    return 1;
}

static const char site_text[] = "{\n  \"site\": {\"name\": \"Sub 7\"},\n  \"gateways\": []\n}\n";

int main(void)
{
    char err[1024];

    /* ---- the name: the guide's backup-XXXX.tar.gz ---- */
    CHECK(ow_backup_name_check("backup-Sub-7_20261207.tar.gz", err, sizeof err) == 0);
    CHECK(ow_backup_name_check("/var/tmp/backup-x.tar.gz", err, sizeof err) == 0);
    static const char *const bad_names[] = {
        "backup-.tar.gz", "backup-a b.tar.gz", "Backup-x.tar.gz", "backup-a.b.tar.gz",
        "backup-x.tgz",   "x-backup-a.tar.gz", "backup-ü.tar.gz", "backup-x.tar.gz.zip",
    };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
        CHECK_MSG(ow_backup_name_check(bad_names[i], err, sizeof err) < 0, "%s", bad_names[i]);
    char longn[128];
    snprintf(longn, sizeof longn, "backup-%065d.tar.gz", 0);
    CHECK(ow_backup_name_check(longn, err, sizeof err) < 0);
    CHECK(strstr(err, "at most 64") != NULL);
    char name[128];
    ow_backup_default_name("Sub 7 / UPS room", 86400LL * 365 * 57 + 3723, name, sizeof name);
    CHECK_STR(name, "backup-Sub-7-UPS-room-20261218T010203Z.tar.gz");
    CHECK(ow_backup_name_check(name, err, sizeof err) == 0);
    ow_backup_default_name("///", 0, name, sizeof name);
    CHECK_STR(name, "backup-19700101T000000Z.tar.gz");

    /* ---- SHA-256 of a known text (FIPS 180-2's "abc") ---- */
    char hex[65];
    ow_backup_sha256("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    /* ---- round trip ---- */
    ow_backup_setting_t set[3] = {
        {.gw = "wm1", .key = "thresholds.voltage_v.high_alarm", .value = 14.7},
        {.gw = "wm1", .key = "thresholds.temp_c.high_warn", .value = 0.1 + 0.2},
        {.gw = "wm2", .key = "thresholds.comm_lost_polls", .value = 7},
    };
    ow_backup_t in = {.format = OW_BACKUP_FORMAT,
                      .version = "0.1.0",
                      .site_name = "Sub 7",
                      .created_at = "2026-12-07T15:00:00Z",
                      .created_by = "cli/alice",
                      .site_text = (char *)site_text,
                      .site_len = sizeof site_text - 1,
                      .settings = set,
                      .nsettings = 3};
    unsigned char *arch;
    size_t alen;
    CHECK_MSG(ow_backup_pack(&in, &arch, &alen, err, sizeof err) == 0, "%s", err);
    ow_backup_t *b = ow_backup_parse(arch, alen, err, sizeof err);
    CHECK_MSG(b != NULL, "%s", err);
    if (b) {
        CHECK(b->site_len == in.site_len && memcmp(b->site_text, site_text, in.site_len) == 0);
        /* exactly: 0.1 + 0.2 is not 0.3, and must not come back as it */
        CHECK(same_settings(b, set, 3));
        CHECK_STR(b->site_name, "Sub 7");
        CHECK_STR(b->created_by, "cli/alice");
        CHECK_STR(b->created_at, "2026-12-07T15:00:00Z");
        CHECK_STR(b->version, "0.1.0");
    }
    ow_backup_destroy(&b);
    CHECK(b == NULL);

    /* ---- a changed byte: of the compressed file, of a member ---- */
    /* Every byte of the file flipped in turn: refused, or (a byte no
     * content depends on: gzip's header time, its trailer, tar's padding)
     * read back as exactly what was packed, so nothing changed is restored. */
    unsigned char *t = malloc(alen);
    size_t nrefused = 0;
    for (size_t at = 0; at < alen; at++) {
        memcpy(t, arch, alen);
        t[at] ^= 0x20;
        b = ow_backup_parse(t, alen, err, sizeof err);
        nrefused += b == NULL;
        CHECK_MSG(!b || (b->site_len == in.site_len &&
                         memcmp(b->site_text, site_text, in.site_len) == 0 &&
                         same_settings(b, set, 3)),
                  "byte %zu flipped: accepted changed", at);
        ow_backup_destroy(&b);
    }
    CHECK_MSG(nrefused >= alen * 9 / 10, "%zu of %zu flipped bytes refused", nrefused, alen);
    free(t);
    mem_t m[4];
    static char bufs[3][8192];
    CHECK(untar(arch, alen, m, bufs) == 3);
    int si = idx(m, OW_BACKUP_SITE), ti = idx(m, OW_BACKUP_SETTINGS);
    bufs[si][10] ^= 1; /* the manifest kept: its hash no longer matches */
    refused(m, 3, "member site.json: SHA-256");
    bufs[si][10] ^= 1;
    char *p = strstr(bufs[ti], "14.6"); /* 14.7, to 17 digits */
    CHECK(p != NULL);
    if (p) p[3] = '7'; /* 14.7 -> 14.8: a value moved, same size */
    refused(m, 3, "member settings.json: SHA-256");
    if (p) p[3] = '6';
    m[ti].len--;
    refused(m, 3, "member settings.json: ");
    m[ti].len++;
    {
        /* the helper itself rebuilds a good one: what is refused is the change */
        size_t len;
        unsigned char *good = tgz(m, 3, &len);
        b = ow_backup_parse(good, len, err, sizeof err);
        CHECK_MSG(b != NULL, "%s", err);
        ow_backup_destroy(&b);
        free(good);
    }

    /* ---- members: extra, missing, doubled, a path, a link, too large ---- */
    m[3] = (mem_t){.name = "evil.sh", .data = "#!/bin/sh\n", .len = 10};
    refused(m, 4, "member 'evil.sh': not one a backup holds");
    m[3] = (mem_t){.name = "../site.json", .data = "{}", .len = 2};
    refused(m, 4, "member '../site.json'");
    m[3] = (mem_t){.name = "etc/site.json", .data = "{}", .len = 2};
    refused(m, 4, "member 'etc/site.json'");
    m[3] = m[si];
    refused(m, 4, "member site.json: twice");
    refused(m, 2, "missing");
    mem_t link[3] = {m[0], m[1], m[2]};
    link[si].symlink = 1;
    refused(link, 3, "member site.json: not a regular file");
    mem_t big[3] = {m[0], m[1], m[2]};
    char *huge = malloc(OW_BACKUP_SITE_MAX + 1);
    memset(huge, ' ', OW_BACKUP_SITE_MAX + 1);
    big[si].data = huge;
    big[si].len = OW_BACKUP_SITE_MAX + 1;
    refused(big, 3, "member site.json: 4194305 bytes, more than the 4194304");
    free(huge);
    CHECK(ow_backup_parse("not an archive", 14, err, sizeof err) == NULL);
    CHECK(ow_backup_parse("", 0, err, sizeof err) == NULL);

    /* ---- the manifest and the settings judged ---- */
    char mf[8192];
    snprintf(mf, sizeof mf, "%s", bufs[idx(m, OW_BACKUP_MANIFEST)]);
    char *f = strstr(mf, "\"format\": 1");
    CHECK(f != NULL);
    if (f) f[10] = '2';
    mem_t fm[3] = {m[0], m[1], m[2]};
    fm[idx(m, OW_BACKUP_MANIFEST)].data = mf;
    refused(fm, 3, "manifest.json: format");

    /* a setting this build does not have, or out of its range: with a
     * manifest that matches, so that the settings' own check is what says */
    ow_backup_setting_t odd = {.gw = "wm1", .key = "thresholds.no_such", .value = 1};
    ow_backup_t in2 = in;
    in2.settings = &odd;
    in2.nsettings = 1;
    unsigned char *a2;
    size_t l2;
    CHECK(ow_backup_pack(&in2, &a2, &l2, err, sizeof err) == 0);
    b = ow_backup_parse(a2, l2, err, sizeof err);
    CHECK(b == NULL && strstr(err, "gateways.wm1.thresholds.no_such: not a runtime setting"));
    free(a2);
    odd = (ow_backup_setting_t){.gw = "wm1", .key = "thresholds.comm_lost_polls", .value = -3};
    CHECK(ow_backup_pack(&in2, &a2, &l2, err, sizeof err) == 0);
    b = ow_backup_parse(a2, l2, err, sizeof err);
    CHECK(b == NULL && strstr(err, "gateways.wm1.thresholds.comm_lost_polls: wants a number"));
    free(a2);
    free(arch);

    /* ---- applied in an order the rules between keys allow ---- */
    char path[] = "etc/site-sample.json";
    ow_site_t *site = ow_site_load(path, err, sizeof err);
    CHECK_MSG(site != NULL, "%s", err);
    if (site) {
        ow_gateway_cfg_t g = site->gateways[0];
        double hw, ha;
        CHECK(ow_gateway_get(&g, "thresholds.voltage_v.high_warn", &hw) == 0);
        CHECK(ow_gateway_get(&g, "thresholds.voltage_v.high_alarm", &ha) == 0);
        /* low_warn above today's high_warn, listed first: needs high_warn
         * (and high_alarm) raised before it */
        ow_backup_setting_t up[3] = {
            {.key = "thresholds.voltage_v.low_warn", .value = ha + 1},
            {.key = "thresholds.voltage_v.high_warn", .value = ha + 2},
            {.key = "thresholds.voltage_v.high_alarm", .value = ha + 3},
        };
        for (int i = 0; i < 3; i++)
            snprintf(up[i].gw, sizeof up[i].gw, "%s", g.id);
        ow_backup_t ap = {.settings = up, .nsettings = 3};
        CHECK_MSG(ow_backup_apply(&ap, g.id, &g, err, sizeof err) == 0, "%s", err);
        double v;
        ow_gateway_get(&g, "thresholds.voltage_v.low_warn", &v);
        CHECK(v == ha + 1);
        /* one that no order makes hold: named */
        g = site->gateways[0];
        up[1].value = ha + 0.5; /* high_warn below the new low_warn */
        CHECK(ow_backup_apply(&ap, g.id, &g, err, sizeof err) < 0);
        CHECK_MSG(strstr(err, "thresholds.voltage_v.") != NULL && strstr(err, g.id) != NULL, "%s",
                  err);
        ow_site_destroy(&site);
    }
    return ow_test_done("backup_test");
}
