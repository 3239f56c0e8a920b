/* The live event ring and its readers (hub.h). Events are kept as the
 * text they are sent as, so a hundred open pages cost one serialisation. */
#include "hub.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

typedef struct {
    uint64_t seq;
    char name[16];
    char key[64]; /* what a later event of the same key replaces: "gw/ID"; "" none */
    char *data;
    size_t len;
} event_t;

struct ow_web_stream {
    ow_web_hub_t *h;
    ow_web_stream_t *prev, *next;
    uint64_t pos;     /* the next sequence number it sends */
    uint64_t catchup; /* after a skip: until this sequence, only each key's newest */
    uint64_t ka_gen;
    int parked, ended;
    char token[48]; /* its session's; "" none */
    void *conn;
    char *pend; /* a chunk being sent, from poff */
    size_t plen, poff;
};

struct ow_web_hub {
    pthread_mutex_t mu;
    event_t *ring;
    size_t cap, max_bytes, bytes;
    size_t head, count;           /* ring[head] is the oldest held */
    uint64_t first_seq, next_seq; /* held: first_seq .. next_seq - 1 */
    ow_web_stream_t *streams;
    size_t nstreams;
    uint64_t ka_gen;
    int64_t ka_next_us;
    int closing;
    void (*park)(void *), (*wake)(void *);
    int (*alive)(void *, const char *);
    void *alive_ctx;
    ow_web_hub_stats_t st;
};

ow_web_hub_t *ow_web_hub_new(size_t max_events, size_t max_bytes, void (*park)(void *conn),
                             void (*wake)(void *conn))
{
    ow_web_hub_t *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->ring = calloc(max_events ? max_events : 1, sizeof *h->ring);
    if (!h->ring) {
        free(h);
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);
    h->cap = max_events ? max_events : 1;
    h->max_bytes = max_bytes;
    h->first_seq = h->next_seq = 1;
    h->park = park;
    h->wake = wake;
    return h;
}

/* Unparks every parked stream; their connections, to be woken after the
 * lock is released (a parked connection cannot go away meanwhile: the
 * server does not look at it until it is resumed). Under h->mu. */
static void **unpark_all(ow_web_hub_t *h, size_t *n)
{
    void **conns = calloc(h->nstreams + 1, sizeof *conns);
    *n = 0;
    for (ow_web_stream_t *s = h->streams; s && conns; s = s->next)
        if (s->parked) {
            s->parked = 0;
            conns[(*n)++] = s->conn;
        }
    return conns;
}

static void wake_all(ow_web_hub_t *h, void **conns, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (h->wake) h->wake(conns[i]);
    free(conns);
}

void ow_web_hub_close(ow_web_hub_t *h)
{
    if (!h) return;
    size_t n;
    pthread_mutex_lock(&h->mu);
    h->closing = 1;
    void **c = unpark_all(h, &n);
    pthread_mutex_unlock(&h->mu);
    wake_all(h, c, n);
}

void ow_web_hub_destroy(ow_web_hub_t **hp)
{
    ow_web_hub_t *h = *hp;
    if (!h) return;
    for (size_t i = 0; i < h->count; i++)
        free(h->ring[(h->head + i) % h->cap].data);
    /* Streams still open belong to connections the server has closed by
     * now; any left are detached so their free does not touch us. */
    for (ow_web_stream_t *s = h->streams; s; s = s->next)
        s->h = NULL;
    pthread_mutex_destroy(&h->mu);
    free(h->ring);
    free(h);
    *hp = NULL;
}

/* An event that holds a whole gateway's state ("gw", "alarms": data with
 * its "gw") is made stale by the next one of the same name and gateway. */
static void key_of(const char *event, const char *data, size_t len, char *key, size_t keylen)
{
    json_t *j = json_loadb(data, len, 0, NULL);
    const json_t *gw = json_object_get(j, "gw");
    key[0] = '\0';
    if (json_is_string(gw) && json_string_length(gw) < 40)
        snprintf(key, keylen, "%.15s/%s", event, json_string_value(gw));
    json_decref(j);
}

uint64_t ow_web_hub_publish(ow_web_hub_t *h, const char *event, const char *data)
{
    size_t len = strlen(data), n;
    char key[64];
    key_of(event, data, len, key, sizeof key);
    char *copy = malloc(len + 1);
    if (!copy) return 0;
    memcpy(copy, data, len + 1);
    pthread_mutex_lock(&h->mu);
    while (h->count && (h->count == h->cap || h->bytes + len > h->max_bytes)) {
        event_t *old = &h->ring[h->head];
        h->bytes -= old->len;
        free(old->data);
        old->data = NULL;
        h->head = (h->head + 1) % h->cap;
        h->count--;
        h->first_seq++;
    }
    event_t *e = &h->ring[(h->head + h->count) % h->cap];
    e->seq = h->next_seq++;
    snprintf(e->name, sizeof e->name, "%s", event);
    snprintf(e->key, sizeof e->key, "%s", key);
    e->data = copy;
    e->len = len;
    h->bytes += len;
    h->count++;
    h->st.published++;
    uint64_t seq = e->seq;
    void **c = unpark_all(h, &n);
    pthread_mutex_unlock(&h->mu);
    wake_all(h, c, n);
    return seq;
}

void ow_web_hub_tick(ow_web_hub_t *h, int64_t now_us)
{
    size_t n;
    pthread_mutex_lock(&h->mu);
    if (now_us < h->ka_next_us) {
        pthread_mutex_unlock(&h->mu);
        return;
    }
    /* The first tick only starts the clock: a stream just opened has sent
     * its headers, which is as good as a keep-alive. */
    if (h->ka_next_us) h->ka_gen++;
    h->ka_next_us = now_us + OW_WEB_KEEPALIVE_US;
    void **c = unpark_all(h, &n);
    pthread_mutex_unlock(&h->mu);
    wake_all(h, c, n);
}

uint64_t ow_web_hub_last(ow_web_hub_t *h)
{
    pthread_mutex_lock(&h->mu);
    uint64_t v = h->next_seq - 1;
    pthread_mutex_unlock(&h->mu);
    return v;
}

void ow_web_hub_set_alive(ow_web_hub_t *h, int (*alive)(void *ctx, const char *token), void *ctx)
{
    pthread_mutex_lock(&h->mu);
    h->alive = alive;
    h->alive_ctx = ctx;
    pthread_mutex_unlock(&h->mu);
}

ow_web_stream_t *ow_web_hub_open(ow_web_hub_t *h, int from_last, uint64_t last_id,
                                 const char *token, void *conn)
{
    ow_web_stream_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->h = h;
    s->conn = conn;
    snprintf(s->token, sizeof s->token, "%s", token ? token : "");
    pthread_mutex_lock(&h->mu);
    s->pos = from_last ? last_id + 1 : h->next_seq;
    /* An id from before a restart (ahead of ours): everything held. */
    if (s->pos > h->next_seq) s->pos = h->first_seq;
    s->ka_gen = h->ka_gen;
    s->next = h->streams;
    if (h->streams) h->streams->prev = s;
    h->streams = s;
    h->nstreams++;
    h->st.streams++;
    pthread_mutex_unlock(&h->mu);
    return s;
}

static const event_t *at(const ow_web_hub_t *h, uint64_t seq)
{
    return &h->ring[(h->head + (seq - h->first_seq)) % h->cap];
}

/* 1 when a later held event has the same key as event seq. Under mu. */
static int superseded(const ow_web_hub_t *h, uint64_t seq)
{
    const event_t *e = at(h, seq);
    if (!e->key[0]) return 0;
    for (uint64_t q = seq + 1; q < h->next_seq; q++)
        if (strcmp(at(h, q)->key, e->key) == 0) return 1;
    return 0;
}

/* The next chunk for s into s->pend: 1, or 0 when there is none. Under mu. */
static int next_chunk(ow_web_hub_t *h, ow_web_stream_t *s)
{
    char head[96];
    if (s->ka_gen != h->ka_gen) {
        s->ka_gen = h->ka_gen;
        /* A page left open after its logout must not go on showing the
         * plant: the session is asked as often as a keep-alive goes out. */
        if (s->token[0] && h->alive && !h->alive(h->alive_ctx, s->token)) {
            s->ended = 1;
            h->st.ended++;
            return 0;
        }
        h->st.keepalives++;
        s->pend = strdup(": keep-alive\n\n");
    } else if (s->pos < h->first_seq) {
        /* Too far behind (a slow client, a long suspend): what it missed
         * is gone. Each "gw" event is a whole gateway, so the newest held
         * one of each brings it up to date: those, and the events without
         * a key, up to the newest, then everything again. */
        uint64_t skipped = h->first_seq - s->pos;
        s->pos = h->first_seq;
        s->catchup = h->next_seq;
        for (uint64_t q = s->pos; q < s->catchup; q++)
            skipped += superseded(h, q);
        snprintf(head, sizeof head, ": skipped %" PRIu64 " events (too far behind)\n\n", skipped);
        h->st.skipped++;
        s->pend = strdup(head);
    } else if (s->pos < h->next_seq) {
        while (s->pos < s->catchup && s->pos < h->next_seq - 1 && superseded(h, s->pos))
            s->pos++;
        const event_t *e = &h->ring[(h->head + (s->pos - h->first_seq)) % h->cap];
        int hl = snprintf(head, sizeof head, "id: %" PRIu64 "\nevent: %s\ndata: ", e->seq, e->name);
        size_t nl = 0;
        for (size_t i = 0; i < e->len; i++)
            nl += e->data[i] == '\n';
        /* A line break inside the data would end the field: each line is a
         * data: line of its own (the client joins them with "\n"). */
        char *p = malloc((size_t)hl + e->len + nl * 6 + 3);
        if (!p) return 0;
        size_t o = (size_t)hl;
        memcpy(p, head, (size_t)hl);
        for (size_t i = 0; i < e->len; i++) {
            if (e->data[i] == '\n') {
                memcpy(p + o, "\ndata: ", 7);
                o += 7;
                continue;
            }
            p[o++] = e->data[i];
        }
        memcpy(p + o, "\n\n", 3);
        s->pend = p;
        s->pos++;
    } else {
        return 0;
    }
    if (!s->pend) return 0;
    s->plen = strlen(s->pend);
    s->poff = 0;
    return 1;
}

ssize_t ow_web_hub_read(ow_web_stream_t *s, char *buf, size_t max)
{
    ow_web_hub_t *h = s->h;
    size_t out = 0;
    if (!h) return -1;
    pthread_mutex_lock(&h->mu);
    while (out < max && !s->ended) {
        if (!s->pend && (h->closing || !next_chunk(h, s))) break;
        size_t n = s->plen - s->poff;
        if (n > max - out) n = max - out;
        memcpy(buf + out, s->pend + s->poff, n);
        out += n;
        s->poff += n;
        if (s->poff == s->plen) {
            free(s->pend);
            s->pend = NULL;
        }
    }
    if (out == 0 && (h->closing || s->ended)) {
        pthread_mutex_unlock(&h->mu);
        return -1;
    }
    if (out == 0) {
        /* Parked under the lock: a publish after this wakes it. */
        s->parked = 1;
        if (h->park) h->park(s->conn);
    }
    pthread_mutex_unlock(&h->mu);
    return (ssize_t)out;
}

void ow_web_hub_stream_free(ow_web_stream_t *s)
{
    if (!s) return;
    ow_web_hub_t *h = s->h;
    if (h) {
        pthread_mutex_lock(&h->mu);
        if (s->prev)
            s->prev->next = s->next;
        else
            h->streams = s->next;
        if (s->next) s->next->prev = s->prev;
        h->nstreams--;
        pthread_mutex_unlock(&h->mu);
    }
    free(s->pend);
    free(s);
}

ow_web_hub_stats_t ow_web_hub_stats(ow_web_hub_t *h)
{
    pthread_mutex_lock(&h->mu);
    ow_web_hub_stats_t st = h->st;
    st.open = h->nstreams;
    pthread_mutex_unlock(&h->mu);
    return st;
}

int ow_api_events(ow_web_req_t *rq, ow_web_resp_t *rs)
{
    (void)rq;
    rs->status = 200;
    rs->sse = 1;
    return 0;
}
