/* The historian's on-disk spool (see spool.h): records appended to segment
 * files dir/spool-NNNNNN.seg, little-endian, each written with one writev()
 * so a crash tears at most the records written since the last sync, at the
 * end of the newest segment.
 *
 *   SPL2 (written): magic "SPL2", topic_len, body_len, hdr_crc, crc, then the
 *     frames. hdr_crc is the CRC-32 of the first 12 bytes, crc the CRC-32 of
 *     the first 16 bytes and the frames. The header's own CRC lets the
 *     resync scan reject a false magic without reading megabytes behind it.
 *   SPL1 (read only, from older versions): magic "SPL1", topic_len,
 *     body_len, crc of the frames, then the frames.
 *
 * Damage found anywhere but at the end of the newest segment cannot be a
 * torn write, since a segment is made durable before the next one is
 * created: it is corruption. The reader then looks for the next offset where
 * a valid record starts and goes on from there; the skipped bytes are
 * counted and reported with their segment and offset, the segment is not
 * appended to again and is moved to dir/damaged/ at clear.
 *
 * Beyond spool.h: append fails with EMSGSIZE for a frame over 1 MiB and with
 * EBUSY when called from a foreach callback (so does clear); a second open of
 * the same dir fails (flock). Close does not sync: call ow_spool_sync(). */
#define _GNU_SOURCE /* memmem */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef OW_SPOOL_SEGMENT_BYTES
#define OW_SPOOL_SEGMENT_BYTES (64u << 20) /* rotate when the next record would pass this */
#endif
/* Frames are < 20 KB in practice (OW_BODY_MAX is 16 KB); anything near this
 * bound in a header is garbage. */
#define OW_SPOOL_FRAME_MAX (1u << 20)
#define MAGIC_V1           0x314c5053u /* "SPL1" */
#define MAGIC_V2           0x324c5053u /* "SPL2"; bump the digit if the layout changes */
#define HDR_V1             16
#define HDR_V2             20
#define DAMAGED_DIR        "damaged"

typedef struct {
    uint64_t seq;     /* from the file name */
    uint64_t size;    /* bytes of the file that belong to the spool */
    uint64_t records; /* readable records in them */
    uint64_t damaged; /* corrupt bytes in them: the file goes to damaged/ at clear */
} seg_t;

struct ow_spool {
    int dirfd; /* held open and flock()ed: one process per spool */
    uint64_t max_bytes, seg_max;
    uint64_t bytes, records, torn, damaged;
    seg_t *segs; /* in append order; the last one is where appends go */
    size_t nsegs, segcap;
    ow_spool_damage_t *dmg; /* every region found since open */
    size_t ndmg, dmgcap;
    uint64_t next_seq;
    int fd;        /* the last segment, O_APPEND; -1 = start a new one on next append */
    int dir_dirty; /* a segment was created or removed since the directory was synced */
    int busy;      /* inside foreach: the callback must not append or clear */
};

static const uint32_t crc_table[256] = {
    0x00000000, 0x77073096, 0xee0e612c, 0x990951ba, 0x076dc419, 0x706af48f, 0xe963a535, 0x9e6495a3,
    0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988, 0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91,
    0x1db71064, 0x6ab020f2, 0xf3b97148, 0x84be41de, 0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
    0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec, 0x14015c4f, 0x63066cd9, 0xfa0f3d63, 0x8d080df5,
    0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172, 0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b,
    0x35b5a8fa, 0x42b2986c, 0xdbbbc9d6, 0xacbcf940, 0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
    0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116, 0x21b4f4b5, 0x56b3c423, 0xcfba9599, 0xb8bda50f,
    0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924, 0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d,
    0x76dc4190, 0x01db7106, 0x98d220bc, 0xefd5102a, 0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
    0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818, 0x7f6a0dbb, 0x086d3d2d, 0x91646c97, 0xe6635c01,
    0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e, 0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457,
    0x65b0d9c6, 0x12b7e950, 0x8bbeb8ea, 0xfcb9887c, 0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
    0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2, 0x4adfa541, 0x3dd895d7, 0xa4d1c46d, 0xd3d6f4fb,
    0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0, 0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9,
    0x5005713c, 0x270241aa, 0xbe0b1010, 0xc90c2086, 0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
    0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4, 0x59b33d17, 0x2eb40d81, 0xb7bd5c3b, 0xc0ba6cad,
    0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a, 0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683,
    0xe3630b12, 0x94643b84, 0x0d6d6a3e, 0x7a6a5aa8, 0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
    0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe, 0xf762575d, 0x806567cb, 0x196c3671, 0x6e6b06e7,
    0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc, 0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5,
    0xd6d6a3e8, 0xa1d1937e, 0x38d8c2c4, 0x4fdff252, 0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
    0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60, 0xdf60efc3, 0xa867df55, 0x316e8eef, 0x4669be79,
    0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236, 0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f,
    0xc5ba3bbe, 0xb2bd0b28, 0x2bb45a92, 0x5cb36a04, 0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
    0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a, 0x9c0906a9, 0xeb0e363f, 0x72076785, 0x05005713,
    0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38, 0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21,
    0x86d3d2d4, 0xf1d4e242, 0x68ddb3f8, 0x1fda836e, 0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
    0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c, 0x8f659eff, 0xf862ae69, 0x616bffd3, 0x166ccf45,
    0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2, 0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db,
    0xaed16a4a, 0xd9d65adc, 0x40df0b66, 0x37d83bf0, 0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
    0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6, 0xbad03605, 0xcdd70693, 0x54de5729, 0x23d967bf,
    0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94, 0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
};

/* zlib-style running CRC-32 (IEEE): start with 0, feed pieces in order. */
static uint32_t crc32_add(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    int e = errno;
    va_list ap;
    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    errno = e;
}

/* ---- the record reader: pure, on one segment's bytes ---- */

/* The length of the valid record at p[0..n) (header and frames), 0 if none
 * starts there; *hdr and *tl, *bl say where its frames are. */
static size_t rec_at(const unsigned char *p, size_t n, size_t *hdr, uint32_t *tl, uint32_t *bl)
{
    uint32_t magic, crc;
    size_t h;

    if (n < HDR_V1) return 0;
    magic = get32(p);
    if (magic == MAGIC_V2) {
        if (n < HDR_V2 || crc32_add(0, p, 12) != get32(p + 12)) return 0;
        h = HDR_V2;
    } else if (magic == MAGIC_V1) {
        h = HDR_V1;
    } else {
        return 0;
    }
    *tl = get32(p + 4);
    *bl = get32(p + 8);
    if (*tl > OW_SPOOL_FRAME_MAX || *bl > OW_SPOOL_FRAME_MAX || n - h < (size_t)*tl + *bl) return 0;
    if (magic == MAGIC_V2)
        crc = crc32_add(crc32_add(0, p, 16), p + h, (size_t)*tl + *bl);
    else
        crc = crc32_add(0, p + h, (size_t)*tl + *bl);
    if (crc != get32(p + h - 4)) return 0;
    *hdr = h;
    return h + *tl + *bl;
}

/* The next offset after off where a valid record starts, or n. */
static size_t resync(const unsigned char *p, size_t n, size_t off)
{
    size_t h, at = off + 1;
    uint32_t tl, bl;

    while (at + HDR_V1 <= n) {
        const unsigned char *m = memmem(p + at, n - at, "SPL", 3);
        if (!m) break;
        at = (size_t)(m - p);
        if (at + HDR_V1 > n) break; /* "SPL" in the last bytes: no room for a header */
        if ((m[3] == '1' || m[3] == '2') && rec_at(m, n - at, &h, &tl, &bl)) return at;
        at++;
    }
    return n;
}

int ow_spool_parse(const void *data, size_t len, uint64_t seg, ow_spool_fn fn,
                   ow_spool_damage_fn dmg, void *ctx, ow_spool_scan_t *out)
{
    const unsigned char *p = data;
    size_t off = 0, h, r;
    uint32_t tl, bl;

    *out = (ow_spool_scan_t){0, 0, 0};
    while (off < len) {
        if ((r = rec_at(p + off, len - off, &h, &tl, &bl)) == 0) {
            size_t next = resync(p, len, off);
            if (next == len) break; /* the bad tail: the caller judges */
            ow_spool_damage_t d = {seg, off, next - off, 0};
            out->damaged += d.bytes;
            if (dmg) dmg(ctx, &d);
            off = next;
            continue;
        }
        out->records++;
        off += r;
        if (fn) {
            int stop =
                fn(ctx, (const char *)p + off - r + h, tl, (const char *)p + off - r + h + tl, bl);
            if (stop) return stop;
        }
    }
    out->tail = off < len ? len - off : 0;
    return 0;
}

/* ---- segments ---- */

static void seg_name(char *out, size_t outlen, uint64_t seq)
{
    snprintf(out, outlen, "spool-%06" PRIu64 ".seg", seq);
}

/* Only the exact names seg_name() makes count: "spool-1.seg" or
 * "spool-0000001.seg" would alias a real segment's number. */
static int seg_parse(const char *name, uint64_t *seq)
{
    char canon[40];
    const char *p = name + 6;
    uint64_t n = 0;
    int digits = 0;

    if (strncmp(name, "spool-", 6) != 0) return -1;
    for (; *p >= '0' && *p <= '9' && digits < 18; p++, digits++)
        n = n * 10 + (uint64_t)(*p - '0');
    if (digits < 6 || strcmp(p, ".seg") != 0) return -1;
    seg_name(canon, sizeof canon, n);
    if (strcmp(canon, name) != 0) return -1;
    *seq = n;
    return 0;
}

static int seg_cmp(const void *a, const void *b)
{
    const seg_t *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int seg_push(ow_spool_t *sp, uint64_t seq)
{
    if (sp->nsegs == sp->segcap) {
        size_t cap = sp->segcap ? sp->segcap * 2 : 16;
        seg_t *s = realloc(sp->segs, cap * sizeof *s);
        if (!s) return -1;
        sp->segs = s;
        sp->segcap = cap;
    }
    sp->segs[sp->nsegs++] = (seg_t){seq, 0, 0, 0};
    return 0;
}

/* Record a region once: foreach meets again what open already found. 1 if
 * it is new. */
static int damage_note(ow_spool_t *sp, const ow_spool_damage_t *d)
{
    for (size_t i = 0; i < sp->ndmg; i++)
        if (sp->dmg[i].seg == d->seg && sp->dmg[i].off == d->off && sp->dmg[i].bytes == d->bytes)
            return 0;
    if (sp->ndmg == sp->dmgcap) {
        size_t cap = sp->dmgcap ? sp->dmgcap * 2 : 8;
        ow_spool_damage_t *n = realloc(sp->dmg, cap * sizeof *n);
        if (!n) return 1; /* still counted, just not listed */
        sp->dmg = n;
        sp->dmgcap = cap;
    }
    sp->dmg[sp->ndmg++] = *d;
    return 1;
}

/* mkdir -p: the spool usually lives a level or two below /var/lib. */
static int mkdirs(const char *dir)
{
    char path[4096];
    struct stat st;
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof path) {
        errno = n ? ENAMETOOLONG : EINVAL;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        /* An existing directory may still say EACCES or EROFS. */
        if (mkdir(path, 0750) < 0 && errno != EEXIST &&
            (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)))
            return -1;
        if ((*p = c) == '\0') break;
    }
    return 0;
}

/* A segment's first len bytes, read-only (NULL with *len 0 for an empty
 * file). The map is private: bytes past EOF are never touched because len
 * is clamped to the file's size. */
typedef struct {
    int fd;
    unsigned char *p;
    size_t len;
} map_t;

static int seg_map(ow_spool_t *sp, uint64_t seq, int flags, uint64_t want, map_t *m)
{
    char name[40];
    struct stat st;

    m->p = NULL;
    m->len = 0;
    seg_name(name, sizeof name, seq);
    m->fd = openat(sp->dirfd, name, flags | O_CLOEXEC | O_NOFOLLOW);
    if (m->fd < 0) return -1;
    if (fstat(m->fd, &st) < 0) goto fail;
    m->len = (uint64_t)st.st_size < want ? (size_t)st.st_size : (size_t)want;
    if (m->len) {
        void *p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, m->fd, 0);
        if (p == MAP_FAILED) goto fail;
        m->p = p;
    }
    return 0;
fail : {
    int e = errno;
    close(m->fd);
    errno = e;
    return -1;
}
}

static void seg_unmap(map_t *m)
{
    if (m->p) munmap(m->p, m->len);
    if (m->fd >= 0) close(m->fd);
    m->p = NULL;
    m->fd = -1;
}

typedef struct {
    ow_spool_t *sp;
    seg_t *s;
} scan_ctx_t;

static void scan_damage(void *ctx, const ow_spool_damage_t *d)
{
    scan_ctx_t *c = ctx;
    if (damage_note(c->sp, d)) c->sp->damaged += d->bytes;
}

/* Count the valid records of one segment and note its damage; cut a bad
 * tail off the last one (a torn write), only skip it in the others
 * (corruption: see the top). */
static int seg_scan(ow_spool_t *sp, seg_t *s, int last)
{
    map_t m;
    ow_spool_scan_t r;
    scan_ctx_t c = {sp, s};

    if (seg_map(sp, s->seq, last ? O_RDWR : O_RDONLY, UINT64_MAX, &m) < 0) return -1;
    ow_spool_parse(m.p, m.len, s->seq, NULL, scan_damage, &c, &r);
    s->size = m.len;
    s->records = r.records;
    s->damaged = r.damaged;
    if (r.tail) {
        ow_spool_damage_t d = {s->seq, m.len - r.tail, r.tail, last};
        damage_note(sp, &d);
        if (last) {
            /* Durable before anything is appended after the cut. */
            if (ftruncate(m.fd, (off_t)d.off) < 0 || fdatasync(m.fd) < 0) {
                int e = errno;
                seg_unmap(&m);
                errno = e;
                return -1;
            }
            sp->torn += r.tail;
            s->size = d.off;
        } else {
            sp->damaged += r.tail;
            s->damaged += r.tail;
        }
    }
    seg_unmap(&m);
    sp->bytes += s->size;
    sp->records += s->records;
    return 0;
}

/* Find and check the segments in the directory; reopen the last for appends
 * unless it is damaged (left as found, for whoever inspects it). */
static int load(ow_spool_t *sp, const char *dir, char *err, size_t errlen)
{
    int dfd = openat(sp->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    struct dirent *de;
    struct stat st;
    uint64_t seq;
    char name[40];

    if (!d) {
        if (dfd >= 0) close(dfd);
        seterr(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (seg_parse(de->d_name, &seq) < 0) continue;
        if (seq >= sp->next_seq) sp->next_seq = seq + 1;
        /* A directory or symlink wearing a segment's name is not ours to read. */
        if (fstatat(sp->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            seg_push(sp, seq) < 0) {
            closedir(d);
            seterr(err, errlen, "out of memory");
            return -1;
        }
        errno = 0;
    }
    if (errno) {
        seterr(err, errlen, "%s: %s", dir, strerror(errno));
        closedir(d);
        return -1;
    }
    closedir(d);
    if (sp->nsegs) qsort(sp->segs, sp->nsegs, sizeof *sp->segs, seg_cmp);
    for (size_t i = 0; i < sp->nsegs; i++) {
        if (seg_scan(sp, &sp->segs[i], i + 1 == sp->nsegs) < 0) {
            seg_name(name, sizeof name, sp->segs[i].seq);
            seterr(err, errlen, "%s/%s: %s", dir, name, strerror(errno));
            return -1;
        }
    }
    if (sp->nsegs && !sp->segs[sp->nsegs - 1].damaged) {
        seg_name(name, sizeof name, sp->segs[sp->nsegs - 1].seq);
        sp->fd = openat(sp->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
        if (sp->fd < 0) {
            seterr(err, errlen, "%s/%s: %s", dir, name, strerror(errno));
            return -1;
        }
    }
    return 0;
}

ow_spool_t *ow_spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen)
{
    ow_spool_t *sp;

    if (!dir || !*dir) {
        errno = EINVAL;
        seterr(err, errlen, "no spool directory");
        return NULL;
    }
    sp = calloc(1, sizeof *sp);
    if (!sp) {
        errno = ENOMEM;
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    sp->dirfd = sp->fd = -1;
    sp->max_bytes = max_bytes;
    sp->seg_max = OW_SPOOL_SEGMENT_BYTES;
    sp->next_seq = 1;
    if (mkdirs(dir) < 0 || (sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        seterr(err, errlen, "%s: %s", dir, strerror(errno));
        goto fail;
    }
    /* Two writers would interleave records; the lock goes with the fd. */
    if (flock(sp->dirfd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            seterr(err, errlen, "%s: spool in use by another process", dir);
        else
            seterr(err, errlen, "%s: lock: %s", dir, strerror(errno));
        goto fail;
    }
    if (load(sp, dir, err, errlen) < 0) goto fail;
    return sp;
fail : {
    int e = errno;
    ow_spool_close(&sp);
    errno = e;
}
    return NULL;
}

void ow_spool_close(ow_spool_t **spp)
{
    ow_spool_t *sp = *spp;
    if (!sp) return;
    if (sp->fd >= 0) close(sp->fd);
    if (sp->dirfd >= 0) close(sp->dirfd);
    free(sp->segs);
    free(sp->dmg);
    free(sp);
    *spp = NULL;
}

void ow_spool_set_segment_bytes(ow_spool_t *sp, uint64_t seg_bytes)
{
    sp->seg_max = seg_bytes ? seg_bytes : OW_SPOOL_SEGMENT_BYTES;
}

/* Start the next segment file. */
static int rotate(ow_spool_t *sp)
{
    char name[40];
    int fd;

    if (sp->fd >= 0) {
        /* Durable before a later segment exists, so that after a crash only
         * the last segment can end in a torn record. */
        if (fdatasync(sp->fd) < 0) return -1;
        close(sp->fd);
        sp->fd = -1;
    }
    if (seg_push(sp, sp->next_seq) < 0) return -1;
    seg_name(name, sizeof name, sp->next_seq);
    fd = openat(sp->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        sp->nsegs--;
        return -1;
    }
    sp->next_seq++;
    sp->fd = fd;
    sp->dir_dirty = 1;
    return 0;
}

int ow_spool_append(ow_spool_t *sp, const char *topic, size_t topic_len, const char *body,
                    size_t body_len)
{
    unsigned char h[HDR_V2];
    struct iovec iov[3];
    uint64_t rec;
    seg_t *s;
    ssize_t n;

    if (sp->busy) {
        errno = EBUSY;
        return -1;
    }
    if (topic_len > OW_SPOOL_FRAME_MAX || body_len > OW_SPOOL_FRAME_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    rec = HDR_V2 + (uint64_t)topic_len + body_len;
    if (sp->bytes + rec > sp->max_bytes) {
        errno = ENOSPC;
        return -1;
    }
    /* A record never spans segments; one bigger than seg_max gets its own. */
    if (sp->fd < 0 ||
        (sp->segs[sp->nsegs - 1].size > 0 && sp->segs[sp->nsegs - 1].size + rec > sp->seg_max)) {
        if (rotate(sp) < 0) return -1;
    }
    s = &sp->segs[sp->nsegs - 1];
    put32(h, MAGIC_V2);
    put32(h + 4, (uint32_t)topic_len);
    put32(h + 8, (uint32_t)body_len);
    put32(h + 12, crc32_add(0, h, 12));
    put32(h + 16, crc32_add(crc32_add(crc32_add(0, h, 16), topic, topic_len), body, body_len));
    iov[0] = (struct iovec){h, HDR_V2};
    iov[1] = (struct iovec){(void *)topic, topic_len};
    iov[2] = (struct iovec){(void *)body, body_len};
    n = writev(sp->fd, iov, 3);
    if (n < 0 || (uint64_t)n != rec) {
        /* Disk full or an I/O error: take back a partial record, or, if even
         * that fails, leave it behind and go on in a new segment (the next
         * open then skips it as corruption instead of cutting what follows). */
        int e = n < 0 ? errno : ENOSPC;
        if (ftruncate(sp->fd, (off_t)s->size) < 0) {
            close(sp->fd);
            sp->fd = -1;
            if (n > 0) {
                s->size += (uint64_t)n;
                s->damaged += (uint64_t)n;
                sp->bytes += (uint64_t)n;
            }
        }
        errno = e;
        return -1;
    }
    s->size += rec;
    s->records++;
    sp->bytes += rec;
    sp->records++;
    return 0;
}

int ow_spool_sync(ow_spool_t *sp)
{
    if (sp->fd >= 0 && fdatasync(sp->fd) < 0) return -1;
    if (sp->dir_dirty) {
        if (fsync(sp->dirfd) < 0) return -1;
        sp->dir_dirty = 0;
    }
    return 0;
}

uint64_t ow_spool_bytes(const ow_spool_t *sp)
{
    return sp->bytes;
}

uint64_t ow_spool_records(const ow_spool_t *sp)
{
    return sp->records;
}

uint64_t ow_spool_torn(const ow_spool_t *sp)
{
    return sp->torn;
}

uint64_t ow_spool_damaged(const ow_spool_t *sp)
{
    return sp->damaged;
}

size_t ow_spool_damage(const ow_spool_t *sp, const ow_spool_damage_t **list)
{
    *list = sp->dmg;
    return sp->ndmg;
}

typedef struct {
    ow_spool_t *sp;
    seg_t *s;
    ow_spool_fn fn;
    ow_spool_damage_fn dmg;
    void *ctx;
    uint64_t newdmg; /* bytes of damage not known before this visit */
} visit_t;

static int visit_rec(void *ctx, const char *t, size_t tl, const char *b, size_t bl)
{
    visit_t *v = ctx;
    return v->fn(v->ctx, t, tl, b, bl);
}

static void visit_damage(void *ctx, const ow_spool_damage_t *d)
{
    visit_t *v = ctx;
    if (damage_note(v->sp, d)) v->newdmg += d->bytes;
    if (v->dmg) v->dmg(v->ctx, d);
}

/* Visit one segment's records. Damage found now that open did not see (the
 * file changed since) is skipped and counted like corruption at open rather
 * than failing every later drain of the spool. */
static int seg_visit(ow_spool_t *sp, seg_t *s, int last, ow_spool_fn fn, ow_spool_damage_fn dmg,
                     void *ctx)
{
    visit_t v = {sp, s, fn, dmg, ctx, 0};
    ow_spool_scan_t r;
    map_t m;
    int stop;

    if (seg_map(sp, s->seq, O_RDONLY, s->size, &m) < 0) return -1;
    stop = ow_spool_parse(m.p, m.len, s->seq, visit_rec, visit_damage, &v, &r);
    if (!stop) {
        /* A bad tail now is corruption (a torn one was cut at open), and so
         * is a file shorter than what was written to it. */
        uint64_t tail = r.tail + (s->size - m.len);
        if (tail) {
            ow_spool_damage_t d = {s->seq, m.len - r.tail, tail, 0};
            visit_damage(&v, &d);
        }
    }
    seg_unmap(&m);
    if (stop) return stop;
    if (v.newdmg) {
        sp->damaged += v.newdmg;
        s->damaged += v.newdmg;
        sp->records -= s->records - (r.records < s->records ? r.records : s->records);
        s->records = r.records < s->records ? r.records : s->records;
        /* Leave the damaged file as it is now. */
        if (last && sp->fd >= 0) {
            close(sp->fd);
            sp->fd = -1;
        }
    }
    return 0;
}

int ow_spool_foreach(ow_spool_t *sp, ow_spool_fn fn, ow_spool_damage_fn dmg, void *ctx)
{
    int rc = 0;

    /* The frames handed to fn live in a map of the segment: no nesting, no
     * appends, no clear while it is visited. */
    if (sp->busy) {
        errno = EBUSY;
        return -1;
    }
    sp->busy = 1;
    for (size_t i = 0; i < sp->nsegs && rc == 0; i++)
        rc = seg_visit(sp, &sp->segs[i], i + 1 == sp->nsegs, fn, dmg, ctx);
    sp->busy = 0;
    return rc;
}

/* Move a damaged segment into dir/damaged/, under its own name or, when
 * that is taken (segment numbers start again once a spool is empty), with
 * a suffix. */
static int set_aside(ow_spool_t *sp, const char *name)
{
    char to[80];
    int dfd;

    if (mkdirat(sp->dirfd, DAMAGED_DIR, 0750) < 0 && errno != EEXIST) return -1;
    dfd = openat(sp->dirfd, DAMAGED_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dfd < 0) return -1;
    for (int k = 0; k < 10000; k++) {
        if (k == 0)
            snprintf(to, sizeof to, "%s", name);
        else
            snprintf(to, sizeof to, "%s.%d", name, k);
        /* link + unlink: never replaces a file already set aside. */
        if (linkat(sp->dirfd, name, dfd, to, 0) == 0) {
            int rc = unlinkat(sp->dirfd, name, 0);
            int e = errno;
            if (fsync(dfd) < 0 && rc == 0) rc = -1, e = errno;
            close(dfd);
            errno = e;
            return rc;
        }
        if (errno != EEXIST) break;
    }
    int e = errno;
    close(dfd);
    errno = e;
    return -1;
}

int ow_spool_clear(ow_spool_t *sp)
{
    char name[40];
    size_t keep = 0;
    int e = 0;

    if (sp->busy) {
        errno = EBUSY;
        return -1;
    }
    if (sp->fd >= 0) {
        close(sp->fd);
        sp->fd = -1;
    }
    for (size_t i = 0; i < sp->nsegs; i++) {
        seg_name(name, sizeof name, sp->segs[i].seq);
        if (sp->segs[i].damaged ? set_aside(sp, name) == 0
                                : (unlinkat(sp->dirfd, name, 0) == 0 || errno == ENOENT))
            continue;
        if (!e) e = errno;
        sp->segs[keep++] = sp->segs[i];
    }
    sp->nsegs = keep;
    sp->bytes = sp->records = 0;
    for (size_t i = 0; i < keep; i++) {
        sp->bytes += sp->segs[i].size;
        sp->records += sp->segs[i].records;
    }
    sp->dir_dirty = 1;
    if (e) {
        errno = e;
        return -1;
    }
    if (fsync(sp->dirfd) < 0) return -1;
    sp->dir_dirty = 0;
    return 0;
}
