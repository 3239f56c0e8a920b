/* libFuzzer target: the spool's record reader on arbitrary bytes taken as a
 * segment file. It must never crash or read outside the input; every byte
 * is accounted for exactly once (a record, a reported corrupt region or the
 * bad tail), in order; and a real spool opened on the same bytes agrees:
 * same records, the tail cut off as torn, the corrupt regions counted, and
 * an append after it reads back. */
#include "spool.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *base;
    size_t size, at; /* bytes accounted for so far */
    uint64_t records, damaged;
} acct_t;

static int on_rec(void *ctx, const char *t, size_t tl, const char *b, size_t bl)
{
    acct_t *a = ctx;
    size_t topic = (size_t)((const uint8_t *)t - a->base);
    /* The record starts where the accounting stands; its magic says the
     * header's size (looking 20 bytes back instead mistook an SPL1 record
     * after four stray bytes "SPL2" for an SPL2 one: a false alarm). */
    size_t hdr = a->at + 4 <= a->size && memcmp(a->base + a->at, "SPL2", 4) == 0 ? 20 : 16;
    if (topic < hdr || topic - hdr != a->at || b != t + tl || topic + tl + bl > a->size) abort();
    a->at = topic + tl + bl;
    a->records++;
    return 0;
}

static void on_dmg(void *ctx, const ow_spool_damage_t *d)
{
    acct_t *a = ctx;
    if (d->off != a->at || d->bytes == 0 || d->off + d->bytes > a->size || d->torn) abort();
    a->at += d->bytes;
    a->damaged += d->bytes;
}

static int count(void *ctx, const char *t, size_t tl, const char *b, size_t bl)
{
    (void)t, (void)tl, (void)b, (void)bl;
    ++*(uint64_t *)ctx;
    return 0;
}

static char dir[64];

static void cleanup(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/spool-000001.seg", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/spool-000002.seg", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/damaged/spool-000001.seg", dir);
    unlink(p);
}

/* The scratch spool goes when the fuzzer exits (CI runs it unattended). */
static void remove_dir(void)
{
    char p[128];
    cleanup();
    snprintf(p, sizeof p, "%s/damaged", dir);
    rmdir(p);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acct_t a = {data, size, 0, 0, 0};
    ow_spool_scan_t r;
    char err[256], p[128];

    if (ow_spool_parse(data, size, 1, on_rec, on_dmg, &a, &r) != 0) abort();
    if (r.records != a.records || r.damaged != a.damaged || a.at + r.tail != size) abort();

    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/spool_fuzz.XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(dir)) abort();
        atexit(remove_dir);
    }
    cleanup();
    snprintf(p, sizeof p, "%s/spool-000001.seg", dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size)) abort();
    close(fd);
    ow_spool_t *sp = ow_spool_open(dir, 1u << 30, err, sizeof err);
    if (!sp) abort();
    uint64_t n = 0;
    if (ow_spool_records(sp) != r.records || ow_spool_torn(sp) != r.tail ||
        ow_spool_damaged(sp) != r.damaged || ow_spool_foreach(sp, count, NULL, &n) != 0 ||
        n != r.records || ow_spool_damaged(sp) != r.damaged)
        abort();
    if (ow_spool_append(sp, "t", 1, "b", 1) != 0) abort();
    n = 0;
    if (ow_spool_foreach(sp, count, NULL, &n) != 0 || n != r.records + 1) abort();
    if (size && (data[0] & 1) && ow_spool_clear(sp) != 0) abort();
    ow_spool_close(&sp);
    return 0;
}
