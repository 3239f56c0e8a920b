/* libFuzzer target: a backup archive as `ohmwatch restore` reads it
 * (backup.c). Any input must be refused with a reason or accepted; what is
 * accepted must hold the parser's promises (members within their bounds,
 * every setting a runtime key of this build in its range) and pack again
 * into an archive that reads back the same. Nothing may crash, leak, read
 * out of bounds or allocate beyond the members' bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024];
    err[0] = '\0';
    ow_backup_t *b = ow_backup_parse(data, size, err, sizeof err);
    if (!b) {
        if (!err[0]) abort(); /* refused without a reason */
        if (getenv("OW_FUZZ_VERBOSE")) fprintf(stderr, "refused: %s\n", err);
        return 0;
    }
    if (b->site_len > OW_BACKUP_SITE_MAX || b->site_text[b->site_len] != '\0') abort();
    for (size_t i = 0; i < b->nsettings; i++) {
        double lo, hi;
        if (ow_gateway_range(b->settings[i].key, &lo, &hi) < 0) abort();
        if (!(b->settings[i].value >= lo && b->settings[i].value <= hi)) abort();
        if (!b->settings[i].gw[0]) abort();
    }
    unsigned char *again;
    size_t len;
    if (ow_backup_pack(b, &again, &len, err, sizeof err) < 0) abort();
    ow_backup_t *c = ow_backup_parse(again, len, err, sizeof err);
    if (!c || c->site_len != b->site_len || memcmp(c->site_text, b->site_text, b->site_len) != 0 ||
        c->nsettings != b->nsettings || strcmp(c->site_name, b->site_name) != 0)
        abort();
    for (size_t i = 0; i < b->nsettings; i++)
        if (c->settings[i].value != b->settings[i].value) abort();
    ow_backup_destroy(&c);
    free(again);
    ow_backup_destroy(&b);
    return 0;
}
