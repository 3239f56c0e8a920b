/* The historian's service loop; see historian.h. */
#include "historian.h"

#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "lograte.h"
#include "migrate.h"
#include "ow_clock.h"
#include "ow_daemon.h"
#include "ow_log.h"
#include "ow_sub.h"
#include "sitesync.h"
#include "spool.h"

/* ---- the service ---- */

typedef struct {
    char *topic, *body;
    size_t tl, bl;
} raw_t;

typedef struct {
    ow_msg_t msg;
    raw_t raw;
} held_t;

/* A batch and the frames of its messages (kept for the spool). */
typedef struct {
    ow_batch_t *batch;
    raw_t *raws;
    size_t nraws, craws;
} slot_t;

enum { FLY_IDLE = 0, FLY_QUEUED, FLY_DONE };

typedef struct {
    held_t *pending; /* module readings waiting for their string's reading */
    int npending;
    int64_t period_us; /* poll period in measurement time, from the heartbeat */
} gwstate_t;

struct ow_historian {
    ow_site_t *site;
    ow_historian_cfg_t cfg;
    ow_alarmd_cfg_t acfg;
    ow_sub_t *sub;
    ow_db_t *db;
    int64_t next_connect_mono, next_retention_mono;
    ow_spool_t *spool;
    int blocked; /* spool full and database away: not taking messages */
    slot_t cur;  /* the batch being filled */
    slot_t fly;  /* the batch the writer thread is writing */
    pthread_t writer;
    int writer_on, writer_stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fly_state; /* FLY_IDLE, FLY_QUEUED (writer's), FLY_DONE (result below) */
    int fly_rc;
    char fly_err[512];
    uint64_t fly_ins;
    int64_t batch_since_mono;
    int batch_dirty; /* positions changed since the last write */
    gwstate_t *gws;
    uint64_t taken, kept, skipped, spooled, written, inserted, write_failures, unheld;
    ow_db_devstats_t dev; /* field devices' words: rows written, messages unchanged */
};

static int raw_dup(raw_t *r, const char *t, size_t tl, const char *b, size_t bl)
{
    r->topic = malloc(tl ? tl : 1);
    r->body = malloc(bl ? bl : 1);
    if (!r->topic || !r->body) {
        free(r->topic);
        free(r->body);
        return -1;
    }
    memcpy(r->topic, t, tl);
    memcpy(r->body, b, bl);
    r->tl = tl, r->bl = bl;
    return 0;
}

static void raw_free(raw_t *r)
{
    free(r->topic);
    free(r->body);
    r->topic = r->body = NULL;
}

static void slot_reset(slot_t *sl)
{
    for (size_t i = 0; i < sl->nraws; i++)
        raw_free(&sl->raws[i]);
    sl->nraws = 0;
    ow_batch_clear(sl->batch);
}

static void slot_free(slot_t *sl)
{
    if (sl->raws) slot_reset(sl);
    free(sl->raws);
    ow_batch_destroy(&sl->batch);
}

/* Keep a message: into the batch, its frames beside it for the spool. */
/* A message that cannot be held (out of memory, or a batch naming
 * UINT16_MAX gateways) is not counted as kept: it is said by name and
 * counted as unheld, so that a loss is never silent (the stats line and
 * the log carry it). */
static void unheld(ow_historian_t *h, const ow_msg_t *m, const char *what)
{
    h->unheld++;
    log_warnx("%s seq %llu (epoch %llu) %s: out of memory", m->h.pub, (unsigned long long)m->h.seq,
              (unsigned long long)m->h.epoch, what);
}

static void keep(ow_historian_t *h, const ow_msg_t *m, const raw_t *frames)
{
    int r = ow_batch_add(h->cur.batch, m);
    if (r == 0) return;
    if (r < 0) {
        unheld(h, m, "not stored");
        return;
    }
    if (h->cur.nraws == h->cur.craws) {
        size_t nc = h->cur.craws ? h->cur.craws * 2 : 1024;
        raw_t *nr = realloc(h->cur.raws, nc * sizeof *nr);
        if (!nr) {
            unheld(h, m, "stored but not held for the spool");
            return;
        }
        h->cur.raws = nr, h->cur.craws = nc;
    }
    if (raw_dup(&h->cur.raws[h->cur.nraws], frames->topic, frames->tl, frames->body, frames->bl) !=
        0) {
        unheld(h, m, "stored but not held for the spool");
        return;
    }
    h->cur.nraws++;
    h->kept++;
}

/* The message's fate is settled (kept or skipped): the batch's position for
 * its publisher moves past it. The batch's age counts from its first one. */
static void decided(ow_historian_t *h, const ow_msg_t *m)
{
    if (!h->batch_dirty) h->batch_since_mono = ow_mono_us();
    ow_batch_position(h->cur.batch, m->h.pub, m->h.epoch, m->h.seq);
    h->batch_dirty = 1;
}

static int gw_index(const ow_historian_t *h, const char *gw)
{
    for (int i = 0; i < h->site->ngateways; i++)
        if (strcmp(h->site->gateways[i].id, gw) == 0) return i;
    return -1;
}

/* Decide the held module readings of string s (or all, s == NULL: a cycle
 * ended without its string reading, so keep them). */
static void decide_pending(ow_historian_t *h, int gi, const ow_string_t *s, int64_t ts)
{
    gwstate_t *g = &h->gws[gi];
    const ow_gateway_cfg_t *gc = &h->site->gateways[gi];
    int keep_it = !s || ow_lograte_keep(gc, s, ts, g->period_us);
    for (int i = 0; i < g->npending; i++) {
        held_t *p = &g->pending[i];
        if (keep_it || (s && p->msg.u.module.string != s->string))
            keep(h, &p->msg, &p->raw);
        else
            h->skipped++;
        decided(h, &p->msg);
        raw_free(&p->raw);
    }
    g->npending = 0;
}

static void on_message(ow_historian_t *h, const ow_delivery_t *d)
{
    const ow_msg_t *m = &d->msg;
    raw_t frames = {(char *)d->topic, (char *)d->body, d->topic_len, d->body_len};
    int gi = gw_index(h, m->h.gw);

    h->taken++;
    if (strncmp(m->h.pub, "busd.", 5) == 0 && gi >= 0) {
        gwstate_t *g = &h->gws[gi];
        switch (m->kind) {
        case OW_MSG_MODULE:
            if (g->npending < OW_MAX_MODULES && raw_dup(&g->pending[g->npending].raw, d->topic,
                                                        d->topic_len, d->body, d->body_len) == 0) {
                g->pending[g->npending++].msg = *m;
                return; /* decided with its string's reading */
            }
            keep(h, m, &frames);
            break;
        case OW_MSG_STRING:
            decide_pending(h, gi, &m->u.string, m->h.ts_us);
            keep(h, m, &frames);
            break;
        case OW_MSG_HEARTBEAT:
            if (m->u.heartbeat.period_us > 0) g->period_us = m->u.heartbeat.period_us;
            decide_pending(h, gi, NULL, m->h.ts_us);
            break;
        default:
            decide_pending(h, gi, NULL, m->h.ts_us);
            keep(h, m, &frames);
            break;
        }
    } else {
        keep(h, m, &frames); /* alarmd's events; kinds not stored are ignored */
    }
    decided(h, m);
}

static int pending_any(const ow_historian_t *h)
{
    for (int i = 0; i < h->site->ngateways; i++)
        if (h->gws[i].npending) return 1;
    return 0;
}

/* ---- database and spool ---- */

static void db_lost(ow_historian_t *h, const char *err)
{
    log_warnx("PostgreSQL unavailable: %s; spooling to %s", err, h->cfg.spool_dir);
    ow_db_close(&h->db);
    h->next_connect_mono = ow_mono_us() + 1000000;
}

static int db_connect(ow_historian_t *h)
{
    char err[512];
    int applied = 0;
    if (h->db) return 0;
    if (ow_mono_us() < h->next_connect_mono) return -1;
    h->next_connect_mono = ow_mono_us() + 1000000;
    h->db = ow_db_connect(h->cfg.dsn, err, sizeof err);
    if (!h->db) return -1;
    if (ow_migrate_apply(h->db, &applied, err, sizeof err) < 0 ||
        ow_sitesync_run(h->db, h->site, err, sizeof err) < 0) {
        db_lost(h, err);
        return -1;
    }
    log_info("connected to PostgreSQL (schema version %d, %d migration(s) applied)",
             ow_migrate_version(), applied);
    return 0;
}

typedef struct {
    ow_historian_t *h;
    ow_batch_t *b;
    int failed;
    int after_damage; /* a corrupt region was passed: rows only, no positions */
    char err[512];
} drain_t;

static int drain_flush(drain_t *dr)
{
    uint64_t ins = 0;
    if (ow_db_write(dr->h->db, dr->b, &ins, dr->err, sizeof dr->err) < 0) return -1;
    dr->h->inserted += ins;
    ow_db_devstats_take(dr->h->db, &dr->h->dev);
    ow_batch_clear(dr->b);
    return 0;
}

static int drain_one(void *ctx, const char *t, size_t tl, const char *b, size_t bl)
{
    drain_t *dr = ctx;
    ow_msg_t m;
    char err[200];
    if (ow_decode(t, tl, b, bl, &m, err, sizeof err, NULL) != OW_PERR_OK) {
        log_warnx("dropping a spooled message that no longer decodes: %s", err);
        return 0;
    }
    ow_batch_add(dr->b, &m);
    /* Past a damaged region the spool has a hole: a position here would
     * claim what the hole held. Rows stay idempotent (keys), so storing them
     * now and again from the journal's replay makes no second row. */
    if (!dr->after_damage) ow_batch_position(dr->b, m.h.pub, m.h.epoch, m.h.seq);
    if ((int)ow_batch_rows(dr->b) >= dr->h->cfg.batch_rows && drain_flush(dr) < 0) return 1;
    return 0;
}

static void drain_damage(void *ctx, const ow_spool_damage_t *d)
{
    drain_t *dr = ctx;
    (void)d;
    dr->after_damage = 1;
}

static void log_damage(const ow_historian_t *h, const ow_spool_damage_t *d)
{
    if (d->torn)
        log_warnx("spool %s: spool-%06llu.seg: cut %llu byte(s) at offset %llu, a torn last "
                  "write (the newest segment's end: a crash while spooling); resuming after the "
                  "last whole record",
                  h->cfg.spool_dir, (unsigned long long)d->seg, (unsigned long long)d->bytes,
                  (unsigned long long)d->off);
    else
        log_warnx("spool %s: spool-%06llu.seg: %llu corrupt byte(s) at offset %llu skipped "
                  "(checksum mismatch, not a torn write); reading on from the next valid record, "
                  "asking the publishers' journals again for what was lost, the segment goes to "
                  "%s/damaged/ after draining",
                  h->cfg.spool_dir, (unsigned long long)d->seg, (unsigned long long)d->bytes,
                  (unsigned long long)d->off, h->cfg.spool_dir);
}

static int resubscribe(ow_historian_t *h, char *err, size_t errlen);

/* Write what the spool holds, then forget it. 0 written, -1 failed; 1 when
 * the drain found damage that open had not seen: the subscriptions were then
 * rewound to what PostgreSQL holds, and the batch being filled dropped
 * (the journals' replay brings it again). */
static int drain_spool(ow_historian_t *h)
{
    if (!ow_spool_records(h->spool)) return 0;
    const ow_spool_damage_t *dl;
    size_t known = ow_spool_damage(h->spool, &dl);
    drain_t dr = {h, ow_batch_new(), 0, 0, ""};
    uint64_t n = ow_spool_records(h->spool), damaged = ow_spool_damaged(h->spool);
    int rc = ow_spool_foreach(h->spool, drain_one, drain_damage, &dr);
    if (rc == 0 && ow_batch_rows(dr.b)) rc = drain_flush(&dr);
    ow_batch_destroy(&dr.b);
    if (rc != 0) {
        db_lost(h, dr.err[0] ? dr.err : "spool read error");
        return -1;
    }
    size_t now = ow_spool_damage(h->spool, &dl);
    for (size_t i = known; i < now; i++)
        log_damage(h, &dl[i]);
    if (ow_spool_clear(h->spool) < 0)
        log_warn("spool %s: clearing after the drain", h->cfg.spool_dir);
    log_info("wrote %llu spooled message(s) to PostgreSQL", (unsigned long long)n);
    if (dr.after_damage)
        log_warnx("spool %s: %llu corrupt byte(s) in all since start; damaged segment(s) kept in "
                  "%s/damaged/",
                  h->cfg.spool_dir, (unsigned long long)ow_spool_damaged(h->spool),
                  h->cfg.spool_dir);
    if (ow_spool_damaged(h->spool) > damaged) {
        char err[512];
        if (resubscribe(h, err, sizeof err) < 0) {
            db_lost(h, err);
            return -1;
        }
        return 1;
    }
    return 0;
}

static int spool_slot(ow_historian_t *h, slot_t *sl)
{
    for (size_t i = 0; i < sl->nraws; i++) {
        if (ow_spool_append(h->spool, sl->raws[i].topic, sl->raws[i].tl, sl->raws[i].body,
                            sl->raws[i].bl) < 0) {
            if (errno == ENOSPC) {
                if (!h->blocked)
                    log_warnx("spool full (%llu MB in %s): not taking readings until "
                              "PostgreSQL is back; busd's journal covers the gap while it lasts, "
                              "beyond that readings are lost and counted",
                              (unsigned long long)(h->cfg.spool_max_bytes >> 20), h->cfg.spool_dir);
            } else {
                log_warn("spool write in %s", h->cfg.spool_dir);
            }
            h->blocked = 1;
            /* Keep the rest (from i) in memory for the next attempt; the
             * batch stays whole (re-writing the spooled part is harmless). */
            for (size_t k = 0; k < i; k++)
                raw_free(&sl->raws[k]);
            memmove(sl->raws, sl->raws + i, (sl->nraws - i) * sizeof *sl->raws);
            sl->nraws -= i;
            return -1;
        }
        h->spooled++;
    }
    ow_spool_sync(h->spool);
    slot_reset(sl);
    return 0;
}

/* ---- the writer thread: PostgreSQL's share of the work overlaps with
 * taking and deciding the next batch. Only the writer touches the
 * connection while a batch is queued; the main thread waits for it before
 * any other use of the database. ---- */

static void *writer_main(void *arg)
{
    ow_historian_t *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (h->fly_state != FLY_QUEUED && !h->writer_stop)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->fly_state != FLY_QUEUED) break;
        pthread_mutex_unlock(&h->mu);
        uint64_t ins = 0;
        char err[512] = "";
        int rc = ow_db_write(h->db, h->fly.batch, &ins, err, sizeof err);
        pthread_mutex_lock(&h->mu);
        h->fly_rc = rc, h->fly_ins = ins;
        memcpy(h->fly_err, err, sizeof err);
        h->fly_state = FLY_DONE;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Wait for the batch in flight and take its result. Afterwards the writer
 * is idle; a failed batch was spooled (or is kept if the spool is full). */
static void fly_wait(ow_historian_t *h)
{
    pthread_mutex_lock(&h->mu);
    while (h->fly_state == FLY_QUEUED)
        pthread_cond_wait(&h->cv, &h->mu);
    int done = h->fly_state == FLY_DONE;
    h->fly_state = FLY_IDLE;
    pthread_mutex_unlock(&h->mu);
    if (!done) return;
    if (h->fly_rc == 0) {
        h->written += ow_batch_rows(h->fly.batch);
        h->inserted += h->fly_ins;
        ow_db_devstats_take(h->db, &h->dev);
        if (h->blocked) log_info("PostgreSQL is back: taking readings again");
        h->blocked = 0;
        slot_reset(&h->fly);
        return;
    }
    h->write_failures++;
    db_lost(h, h->fly_err);
    spool_slot(h, &h->fly);
}

/* A batch left in the writer's slot by a full spool: try again. */
static int fly_leftover(ow_historian_t *h)
{
    char err[512];
    uint64_t ins = 0;
    if (!h->fly.nraws) return 0;
    int dr = db_connect(h) == 0 ? drain_spool(h) : -1;
    if (dr == 1) return 0; /* the leftover was dropped: replay brings it */
    if (dr == 0 && ow_db_write(h->db, h->fly.batch, &ins, err, sizeof err) == 0) {
        h->written += ow_batch_rows(h->fly.batch);
        h->inserted += ins;
        ow_db_devstats_take(h->db, &h->dev);
        slot_reset(&h->fly);
        return 0;
    }
    if (h->db) db_lost(h, dr == 0 ? err : "spool drain failed");
    return spool_slot(h, &h->fly);
}

/* Hand the batch to the writer, or spool it. Called only with no module
 * reading held (so its positions cover exactly what it decided). */
static void flush(ow_historian_t *h)
{
    if (!ow_batch_rows(h->cur.batch) && !h->batch_dirty && !h->cur.nraws) return;
    fly_wait(h);
    if (fly_leftover(h) < 0) return; /* spool full: keep the current batch too */
    int dr = db_connect(h) == 0 ? drain_spool(h) : -1;
    if (dr == 1) return; /* rewound: the current batch was dropped */
    if (dr == 0) {
        slot_t t = h->fly;
        h->fly = h->cur;
        h->cur = t;
        h->batch_dirty = 0;
        pthread_mutex_lock(&h->mu);
        h->fly_state = FLY_QUEUED;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
        return;
    }
    if (h->cur.nraws)
        spool_slot(h, &h->cur);
    else
        ow_batch_clear(h->cur.batch); /* only positions: the next write carries them */
    h->batch_dirty = 0;
}

/* Where each publisher stopped: the database's positions, moved forward by
 * what the spool already holds. */
typedef struct {
    char pub[64][OW_ID_MAX];
    uint64_t epoch[64], seq[64];
    int n;
} positions_t;

static void pos_set(void *ctx, const char *pub, uint64_t epoch, uint64_t seq)
{
    positions_t *p = ctx;
    int i;
    for (i = 0; i < p->n && strcmp(p->pub[i], pub) != 0; i++)
        ;
    if (i == p->n) {
        if (p->n == 64) return;
        snprintf(p->pub[p->n++], OW_ID_MAX, "%s", pub);
    }
    p->epoch[i] = epoch, p->seq[i] = seq;
}

typedef struct {
    positions_t *pos;
    int frozen; /* a corrupt region was passed */
} spool_pos_t;

static int spool_pos(void *ctx, const char *t, size_t tl, const char *b, size_t bl)
{
    spool_pos_t *sp = ctx;
    ow_msg_t m;
    /* Past a hole, the records say nothing about what the hole held: the
     * position stays where the spool was still whole, and the journals
     * replay the rest (what is also in the spool is stored once: keys). */
    if (!sp->frozen && ow_decode(t, tl, b, bl, &m, NULL, 0, NULL) == OW_PERR_OK)
        pos_set(sp->pos, m.h.pub, m.h.epoch, m.h.seq); /* in order: the last one wins */
    return 0;
}

static void spool_pos_damage(void *ctx, const ow_spool_damage_t *d)
{
    (void)d;
    ((spool_pos_t *)ctx)->frozen = 1;
}

/* Connect to every publisher and resume each after pos. */
static int subscribe(ow_historian_t *h, const positions_t *pos, char *err, size_t errlen)
{
    h->sub = ow_sub_new();
    if (!h->sub) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < h->site->ngateways; i++) {
        if (ow_sub_add(h->sub, h->site->gateways[i].publish_connect,
                       h->site->gateways[i].replay_connect) < 0) {
            snprintf(err, errlen, "cannot connect to %s", h->site->gateways[i].publish_connect);
            return -1;
        }
    }
    if (ow_sub_add(h->sub, h->acfg.publish_connect, h->acfg.replay_connect) < 0) {
        snprintf(err, errlen, "cannot connect to alarmd at %s", h->acfg.publish_connect);
        return -1;
    }
    ow_sub_subscribe(h->sub, "");
    /* Nothing stored yet from a publisher: take all its journal still holds. */
    ow_sub_from_start(h->sub, 1);
    ow_sub_replay_timeout(h->sub, 10000);
    for (int i = 0; i < pos->n; i++) {
        ow_sub_resume(h->sub, pos->pub[i], pos->epoch[i], pos->seq[i]);
        log_info("resuming %s after seq %llu (epoch %llu)", pos->pub[i],
                 (unsigned long long)pos->seq[i], (unsigned long long)pos->epoch[i]);
    }
    return 0;
}

/* The spool lost messages this run had already taken past: start the
 * subscriptions again from what PostgreSQL holds (the drain just wrote the
 * spool's whole part with its positions), so the journals' replay fills the
 * hole. What is held in memory is newer than the hole and dropped: it comes
 * again, in order, with the replay. */
static int resubscribe(ow_historian_t *h, char *err, size_t errlen)
{
    positions_t pos = {.n = 0};
    for (int i = 0; i < h->site->ngateways; i++) {
        for (int k = 0; k < h->gws[i].npending; k++)
            raw_free(&h->gws[i].pending[k].raw);
        h->gws[i].npending = 0;
    }
    slot_reset(&h->cur);
    slot_reset(&h->fly);
    h->batch_dirty = 0;
    h->blocked = 0;
    if (ow_db_positions(h->db, pos_set, &pos, err, errlen) < 0) return -1;
    ow_sub_destroy(&h->sub);
    log_warnx("spool damage found while draining: rewinding the subscriptions to PostgreSQL's "
              "positions");
    return subscribe(h, &pos, err, errlen);
}

ow_historian_t *ow_historian_new(const char *site_path, char *err, size_t errlen)
{
    ow_historian_t *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->site = ow_site_load(site_path, err, errlen);
    if (!h->site || ow_site_historian(h->site, &h->cfg, err, errlen) < 0 ||
        ow_site_alarmd(h->site, &h->acfg, err, errlen) < 0)
        goto fail;
    if (!h->cfg.dsn[0]) {
        snprintf(err, errlen, "%s: no database: set services.historian.dsn or $OHMWATCH_PG_DSN",
                 site_path);
        goto fail;
    }
    h->spool = ow_spool_open(h->cfg.spool_dir, h->cfg.spool_max_bytes, err, errlen);
    if (!h->spool) goto fail;
    const ow_spool_damage_t *dl;
    size_t nd = ow_spool_damage(h->spool, &dl);
    for (size_t i = 0; i < nd; i++)
        log_damage(h, &dl[i]);
    h->cur.batch = ow_batch_new();
    h->fly.batch = ow_batch_new();
    h->gws = calloc((size_t)h->site->ngateways, sizeof *h->gws);
    if (!h->cur.batch || !h->fly.batch || !h->gws) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int i = 0; i < h->site->ngateways; i++) {
        h->gws[i].pending = calloc(OW_MAX_MODULES, sizeof(held_t));
        h->gws[i].period_us = (int64_t)h->site->gateways[i].poll_ms * 1000;
        if (!h->gws[i].pending) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (pthread_create(&h->writer, NULL, writer_main, h) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        goto fail;
    }
    h->writer_on = 1;

    positions_t pos = {.n = 0};
    if (db_connect(h) == 0) {
        if (ow_db_positions(h->db, pos_set, &pos, err, errlen) < 0) goto fail;
    } else {
        log_warnx("PostgreSQL not reachable at start; spooling to %s until it is",
                  h->cfg.spool_dir);
    }
    spool_pos_t spw = {&pos, 0};
    ow_spool_foreach(h->spool, spool_pos, spool_pos_damage, &spw);
    if (spw.frozen)
        log_warnx("spool %s is damaged: resuming from PostgreSQL's positions and the spool's "
                  "records before the first damage, so the journals replay what it lost",
                  h->cfg.spool_dir);
    if (subscribe(h, &pos, err, errlen) < 0) goto fail;
    return h;
fail:
    ow_historian_destroy(&h);
    return NULL;
}

void ow_historian_destroy(ow_historian_t **hp)
{
    ow_historian_t *h = *hp;
    if (!h) return;
    if (h->gws) {
        for (int i = 0; i < h->site->ngateways; i++) {
            for (int k = 0; k < h->gws[i].npending; k++)
                raw_free(&h->gws[i].pending[k].raw);
            free(h->gws[i].pending);
        }
        free(h->gws);
    }
    if (h->writer_on) {
        pthread_mutex_lock(&h->mu);
        h->writer_stop = 1;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->writer, NULL);
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cv);
    }
    slot_free(&h->cur);
    slot_free(&h->fly);
    ow_sub_destroy(&h->sub);
    ow_db_close(&h->db);
    ow_spool_close(&h->spool);
    ow_site_destroy(&h->site);
    free(h);
    *hp = NULL;
}

static void retention(ow_historian_t *h)
{
    char err[512];
    int dropped = 0;
    if (!h->cfg.retention_days || !h->db || ow_mono_us() < h->next_retention_mono) return;
    h->next_retention_mono = ow_mono_us() + 3600LL * 1000000;
    if (ow_db_retention(h->db, ow_now_us(), h->cfg.retention_days, &dropped, err, sizeof err) < 0)
        log_warnx("retention: %s", err);
    else if (dropped)
        log_info("retention: dropped %d partition(s) older than %d days", dropped,
                 h->cfg.retention_days);
}

int ow_historian_run(ow_historian_t *h, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    log_info("%d gateway(s) and alarmd; batches of %d rows or %d ms; spool %s (max %llu MB)",
             h->site->ngateways, h->cfg.batch_rows, h->cfg.batch_ms, h->cfg.spool_dir,
             (unsigned long long)(h->cfg.spool_max_bytes >> 20));
    int64_t last_stats = ow_mono_us();
    while (!*stop) {
        ow_daemon_hup_refused(reload);
        if (h->blocked) {
            /* Not taking messages: try the database, then look again. */
            flush(h);
            if (h->blocked) {
                zclock_sleep(200);
                continue;
            }
        }
        ow_delivery_t d;
        int got = 0;
        while (got < h->cfg.batch_rows && ow_sub_recv(h->sub, &d, got ? 0 : 50) == 1) {
            on_message(h, &d);
            got++;
            if ((int)ow_batch_rows(h->cur.batch) >= h->cfg.batch_rows && !pending_any(h)) break;
        }
        int64_t age_ms = (ow_mono_us() - h->batch_since_mono) / 1000;
        if (!pending_any(h) && ((int)ow_batch_rows(h->cur.batch) >= h->cfg.batch_rows ||
                                ((ow_batch_rows(h->cur.batch) || h->batch_dirty || h->cur.nraws) &&
                                 age_ms >= h->cfg.batch_ms)))
            flush(h);
        /* Draining the spool and retention use the connection: only with
         * the writer idle. */
        if (ow_spool_records(h->spool)) {
            fly_wait(h);
            if (ow_spool_records(h->spool) && db_connect(h) == 0) drain_spool(h);
        }
        if (h->cfg.retention_days && h->db && ow_mono_us() >= h->next_retention_mono) {
            fly_wait(h);
            retention(h);
        }
        if (ow_mono_us() - last_stats > 60 * 1000000LL) {
            last_stats = ow_mono_us();
            log_info("taken %llu, kept %llu, skipped by log rate %llu, written %llu (inserted "
                     "%llu), spooled %llu, spool now %llu record(s), spool damage %llu byte(s) "
                     "skipped, %llu torn, %llu not held (out of memory); device words: %llu "
                     "row(s), %llu module row(s), %llu message(s) unchanged",
                     (unsigned long long)h->taken, (unsigned long long)h->kept,
                     (unsigned long long)h->skipped, (unsigned long long)h->written,
                     (unsigned long long)h->inserted, (unsigned long long)h->spooled,
                     (unsigned long long)ow_spool_records(h->spool),
                     (unsigned long long)ow_spool_damaged(h->spool),
                     (unsigned long long)ow_spool_torn(h->spool), (unsigned long long)h->unheld,
                     (unsigned long long)h->dev.rows, (unsigned long long)h->dev.module_rows,
                     (unsigned long long)h->dev.unchanged);
        }
    }
    /* Cycles cut short by the stop are kept as they are. */
    for (int i = 0; i < h->site->ngateways; i++)
        decide_pending(h, i, NULL, 0);
    flush(h);
    fly_wait(h);
    fly_leftover(h);
    const ow_sub_stats_t *st = ow_sub_stats(h->sub);
    log_info("stopping: taken %llu (replayed %llu, lost %llu, malformed %llu), written %llu, "
             "inserted %llu, spooled %llu, spool holds %llu (damaged bytes skipped %llu, torn "
             "%llu); device words: %llu row(s), %llu module row(s), %llu message(s) unchanged",
             (unsigned long long)h->taken, (unsigned long long)st->replayed,
             (unsigned long long)st->lost, (unsigned long long)st->malformed,
             (unsigned long long)h->written, (unsigned long long)h->inserted,
             (unsigned long long)h->spooled, (unsigned long long)ow_spool_records(h->spool),
             (unsigned long long)ow_spool_damaged(h->spool),
             (unsigned long long)ow_spool_torn(h->spool), (unsigned long long)h->dev.rows,
             (unsigned long long)h->dev.module_rows, (unsigned long long)h->dev.unchanged);
    return 0;
}

int ow_historian_migrate(const char *site_path, char *err, size_t errlen)
{
    ow_historian_cfg_t cfg;
    int applied = 0, rc = -1;
    ow_site_t *site = ow_site_load(site_path, err, errlen);
    if (!site || ow_site_historian(site, &cfg, err, errlen) < 0) goto out;
    ow_db_t *db = ow_db_connect(cfg.dsn, err, errlen);
    if (!db) goto out;
    rc = ow_migrate_apply(db, &applied, err, errlen);
    if (rc == 0) rc = ow_sitesync_run(db, site, err, errlen);
    if (rc == 0)
        log_info("schema at version %d (%d migration(s) applied)", ow_migrate_version(), applied);
    ow_db_close(&db);
out:
    ow_site_destroy(&site);
    return rc;
}
