/* Gap-filling subscriber; see ow_sub.h for the contract. */
#include "ow_sub.h"

#include <czmq.h>
#include <jansson.h>
#include <string.h>

#include "ow_auth.h"
#include "ow_clock.h"
#include "ow_log.h"
#include "ow_zsock.h"

#define MAX_SOURCES 64
#define MAX_WAKE    4
#define HOLD_MAX    500000 /* live messages held during a replay, at most */
#define MAX_RESUMES 64
/* A known publisher silent this long gets its journal's end asked for: the
 * live stream drops messages silently at the ZMQ high-water mark (a
 * subscriber busy catching up), and without a later message nothing shows
 * the gap; a busd that finished its cycles or an alarmd between events
 * sends none. One small request a second per quiet publisher. */
#define QUIET_PROBE_US 1000000

/* A message held in a queue: raw frames plus what ordering needs. */
typedef struct item {
    struct item *next;
    uint64_t epoch, seq;
    int replayed;
    int source;
    size_t topic_len, body_len;
    ow_msg_t *msg; /* decoded on arrival when it goes straight out; NULL when
                      held (memory: a hold queue can be long), decoded then */
    char *data;    /* topic then body */
} item_t;

typedef struct {
    item_t *head, *tail;
    size_t n;
} queue_t;

typedef struct {
    void *sub;    /* zsock_t* SUB */
    void *dealer; /* zsock_t* DEALER, NULL if no replay */
    char pub[OW_ID_MAX];
    int known;
    uint64_t epoch;
    uint64_t last; /* last delivered seq in epoch */
    int replaying;
    int probing, probed;     /* asked the journal who/where the publisher is */
    uint64_t probe_last;     /* its journal's last seq, from the probe */
    int64_t heard_us;        /* monotonic µs of the last live or replay traffic (or probe) */
    int overflow;            /* live messages dropped while holding was full */
    int64_t replay_deadline; /* monotonic µs */
    queue_t held;            /* live messages waiting for a replay to finish */
} source_t;

typedef struct {
    char pub[OW_ID_MAX];
    uint64_t epoch, seq;
    int used;
} resume_t;

struct ow_sub {
    source_t src[MAX_SOURCES];
    int nsrc;
    int tracking; /* subscribed to everything: sequence tracking on */
    int from_start;
    int replay_timeout_ms;
    resume_t resumes[MAX_RESUMES];
    int nresumes;
    queue_t ready;   /* in order, ready to deliver */
    item_t *current; /* the item last handed out (freed on next recv) */
    ow_sub_stats_t st;
    void *wake[MAX_WAKE]; /* the caller's sockets that end a wait (ow_sub_wake_on) */
    int nwake;
};

/* One allocation: the item, the decoded message if given, then the frames.
 * sizeof(item_t) is a multiple of its alignment, which ow_msg_t shares. */
static item_t *item_new(int source, const ow_msg_t *m, const char *t, size_t tl, const char *b,
                        size_t bl, int replayed)
{
    size_t msz = m ? sizeof(ow_msg_t) : 0;
    item_t *it = malloc(sizeof *it + msz + tl + bl);
    if (!it) return NULL;
    it->msg = m ? (ow_msg_t *)(it + 1) : NULL;
    if (m) *it->msg = *m;
    it->data = (char *)(it + 1) + msz;
    uint64_t epoch = m ? m->h.epoch : 0, seq = m ? m->h.seq : 0;
    it->source = source;
    it->next = NULL;
    it->epoch = epoch, it->seq = seq, it->replayed = replayed;
    it->topic_len = tl, it->body_len = bl;
    memcpy(it->data, t, tl);
    memcpy(it->data + tl, b, bl);
    return it;
}

static void q_push(queue_t *q, item_t *it)
{
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->n++;
}

static item_t *q_pop(queue_t *q)
{
    item_t *it = q->head;
    if (!it) return NULL;
    q->head = it->next;
    if (!q->head) q->tail = NULL;
    q->n--;
    it->next = NULL;
    return it;
}

static void q_clear(queue_t *q)
{
    item_t *it;
    while ((it = q_pop(q)))
        free(it);
}

ow_sub_t *ow_sub_new(void)
{
    ow_sub_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->replay_timeout_ms = 3000;
    return s;
}

void ow_sub_destroy(ow_sub_t **sp)
{
    ow_sub_t *s = *sp;
    if (!s) return;
    for (int i = 0; i < s->nsrc; i++) {
        ow_auth_forget(s->src[i].sub);
        ow_auth_forget(s->src[i].dealer);
        zsock_destroy((zsock_t **)&s->src[i].sub);
        if (s->src[i].dealer) zsock_destroy((zsock_t **)&s->src[i].dealer);
        q_clear(&s->src[i].held);
    }
    q_clear(&s->ready);
    free(s->current);
    free(s);
    *sp = NULL;
}

int ow_sub_add(ow_sub_t *s, const char *pub_ep, const char *replay_ep)
{
    source_t *src;
    if (s->nsrc >= MAX_SOURCES) return -1;
    src = &s->src[s->nsrc];
    memset(src, 0, sizeof *src);
    zsock_t *sub = zsock_new(ZMQ_SUB);
    if (!sub) return -1;
    ow_zsock_limit(sub, OW_ZSOCK_SUB); /* bursts of a poll cycle; frame limit */
    char err[512];
    if (ow_auth_client_keep(sub, pub_ep, err, sizeof err) < 0 ||
        zsock_connect(sub, "%s", pub_ep) < 0) {
        log_warnx("cannot connect to %s", pub_ep);
        zsock_destroy(&sub);
        return -1;
    }
    src->sub = sub;
    if (replay_ep && *replay_ep) {
        zsock_t *d = zsock_new(ZMQ_DEALER);
        if (d) ow_zsock_limit(d, OW_ZSOCK_REPLAY_CLIENT);
        if (!d || ow_auth_client_keep(d, replay_ep, err, sizeof err) < 0 ||
            zsock_connect(d, "%s", replay_ep) < 0) {
            log_warnx("cannot connect to replay %s", replay_ep);
            zsock_destroy(&d);
            zsock_destroy(&sub);
            return -1;
        }
        src->dealer = d;
    }
    return s->nsrc++;
}

int ow_sub_subscribe(ow_sub_t *s, const char *prefix)
{
    if (prefix[0] == '\0') s->tracking = 1;
    for (int i = 0; i < s->nsrc; i++)
        zsock_set_subscribe(s->src[i].sub, prefix);
    return 0;
}

int ow_sub_resume(ow_sub_t *s, const char *pub, uint64_t epoch, uint64_t last_seq)
{
    if (s->nresumes >= MAX_RESUMES) return -1;
    resume_t *r = &s->resumes[s->nresumes++];
    snprintf(r->pub, sizeof r->pub, "%s", pub);
    r->epoch = epoch, r->seq = last_seq, r->used = 0;
    return 0;
}

void ow_sub_from_start(ow_sub_t *s, int on)
{
    s->from_start = on;
}

void ow_sub_replay_timeout(ow_sub_t *s, int ms)
{
    s->replay_timeout_ms = ms;
}

const ow_sub_stats_t *ow_sub_stats(const ow_sub_t *s)
{
    return &s->st;
}

int ow_sub_position(const ow_sub_t *s, int source, char *pub, size_t publen, uint64_t *epoch,
                    uint64_t *seq)
{
    if (source < 0 || source >= s->nsrc || !s->src[source].known) return -1;
    snprintf(pub, publen, "%s", s->src[source].pub);
    *epoch = s->src[source].epoch;
    *seq = s->src[source].last;
    return 0;
}

/* Only the header is needed to order a message; a full decode validates it
 * (and is what the caller gets), so do it once here. */
static int peek(ow_sub_t *s, const char *t, size_t tl, const char *b, size_t bl, ow_msg_t *m)
{
    char err[200];
    if (ow_decode(t, tl, b, bl, m, err, sizeof err, &s->st.proto) != OW_PERR_OK) {
        s->st.malformed++;
        log_warnx("dropping malformed message on '%.*s': %s", (int)(tl > 60 ? 60 : tl), t, err);
        return -1;
    }
    return 0;
}

static void request_replay(ow_sub_t *s, source_t *src)
{
    char req[128];
    if (!src->dealer) {
        src->replaying = 0;
        return;
    }
    snprintf(req, sizeof req, "{\"epoch\":%llu,\"from\":%llu,\"max\":%d}",
             (unsigned long long)src->epoch, (unsigned long long)src->last + 1, OW_REPLAY_MAX);
    zstr_sendm(src->dealer, OW_REPLAY_REQ);
    zstr_send(src->dealer, req);
    src->replaying = 1;
    src->replay_deadline = ow_mono_us() + (int64_t)s->replay_timeout_ms * 1000;
}

/* Hand over a message that is next in sequence. */
static void deliver(ow_sub_t *s, source_t *src, item_t *it)
{
    src->last = it->seq;
    if (it->replayed) s->st.replayed++;
    q_push(&s->ready, it);
}

static void lost(ow_sub_t *s, source_t *src, uint64_t from, uint64_t to, const char *why)
{
    if (to < from) return;
    s->st.lost += to - from + 1;
    log_warnx("%s: seq %llu..%llu of epoch %llu lost (%s)", src->pub, (unsigned long long)from,
              (unsigned long long)to, (unsigned long long)src->epoch, why);
}

/* The replay is over (done, refused or timed out): release held messages in
 * order, declaring any hole that remains lost. */
static void finish_replay(ow_sub_t *s, source_t *src, const char *why)
{
    item_t *it;
    src->replaying = 0;
    while ((it = q_pop(&src->held))) {
        if (it->epoch != src->epoch || it->seq <= src->last) {
            s->st.duplicates += it->epoch == src->epoch;
            free(it);
            continue;
        }
        if (it->seq > src->last + 1) lost(s, src, src->last + 1, it->seq - 1, why);
        deliver(s, src, it);
    }
}

/* First contact with a publisher: where to start. default_last is where we
 * start without a resume point or from_start: the message before the first
 * live one, or the journal's end when learnt from a probe. */
static void first_contact(ow_sub_t *s, source_t *src, const char *pub, uint64_t epoch,
                          uint64_t default_last)
{
    src->known = 1;
    src->heard_us = ow_mono_us();
    snprintf(src->pub, sizeof src->pub, "%s", pub);
    src->epoch = epoch;
    src->last = s->from_start ? 0 : default_last;
    for (int i = 0; i < s->nresumes; i++) {
        resume_t *r = &s->resumes[i];
        if (!r->used && strcmp(r->pub, pub) == 0) {
            r->used = 1;
            if (r->epoch == epoch)
                src->last = r->seq;
            else /* it restarted since: all of this epoch is new to us */
                src->last = 0, s->st.restarts++;
        }
    }
}

static void on_live(ow_sub_t *s, source_t *src, int source, const char *t, size_t tl, const char *b,
                    size_t bl)
{
    ow_msg_t m;
    item_t *it;

    s->st.received++;
    src->heard_us = ow_mono_us();
    if (peek(s, t, tl, b, bl, &m) < 0) return;
    if (!s->tracking) { /* filtered stream: deliver as it comes */
        if ((it = item_new(source, &m, t, tl, b, bl, 0))) q_push(&s->ready, it);
        return;
    }
    if (!src->known || strcmp(src->pub, m.h.pub) != 0) {
        first_contact(s, src, m.h.pub, m.h.epoch, m.h.seq - 1);
    } else if (m.h.epoch != src->epoch) {
        /* Publisher restarted: what the old epoch still had unsent is gone
         * with it; the new epoch is replayed from its start. */
        log_info("%s restarted (epoch %llu -> %llu)", src->pub, (unsigned long long)src->epoch,
                 (unsigned long long)m.h.epoch);
        s->st.restarts++;
        if (src->replaying) finish_replay(s, src, "publisher restarted");
        src->epoch = m.h.epoch;
        src->last = 0;
    }
    if (m.h.seq <= src->last) {
        s->st.duplicates++;
        return;
    }
    if (!src->replaying && m.h.seq == src->last + 1) {
        if ((it = item_new(source, &m, t, tl, b, bl, 0))) deliver(s, src, it);
        return;
    }
    if (src->replaying && src->held.n >= HOLD_MAX) {
        /* Far behind: this message is in the publisher's journal too, so
         * drop it and go on catching up through replay rather than hold an
         * unbounded queue (or declare it lost). */
        src->overflow = 1;
        s->st.deferred++;
        return;
    }
    it = item_new(source, NULL, t, tl, b, bl, 0);
    if (!it) return;
    it->epoch = m.h.epoch, it->seq = m.h.seq;
    q_push(&src->held, it);
    if (!src->replaying) {
        s->st.gaps++;
        if (src->dealer)
            request_replay(s, src);
        else
            finish_replay(s, src, "no replay endpoint");
    }
}

static int json_u64(json_t *o, const char *k, uint64_t *v)
{
    json_t *j = json_object_get(o, k);
    if (!json_is_integer(j) || json_integer_value(j) < 0) return -1;
    *v = (uint64_t)json_integer_value(j);
    return 0;
}

static void on_replay(ow_sub_t *s, source_t *src, int source)
{
    zmsg_t *msg = zmsg_recv(src->dealer);
    char *kind;
    if (!msg) return;
    kind = zmsg_popstr(msg);
    if (!kind) goto out;
    src->heard_us = ow_mono_us();
    if (src->probing) {
        /* The answer to the probe sent at start: a publisher that is quiet
         * now (alarmd between events, a busd that finished) still has a
         * journal to catch up from. */
        if (strcmp(kind, OW_REPLAY_BEGIN) == 0) {
            char *body = zmsg_popstr(msg);
            json_t *o = body ? json_loads(body, 0, NULL) : NULL;
            uint64_t epoch = 0, last = 0;
            const char *pub = json_string_value(json_object_get(o, "pub"));
            if (!src->known && pub && json_u64(o, "epoch", &epoch) == 0 &&
                json_u64(o, "last", &last) == 0 && last > 0) {
                first_contact(s, src, pub, epoch, last);
                src->probe_last = last;
            } else if (src->known && json_u64(o, "epoch", &epoch) == 0 && epoch == src->epoch &&
                       json_u64(o, "last", &last) == 0) {
                src->probe_last = last; /* a quiet publisher's journal end */
            }
            json_decref(o);
            free(body);
        } else if (strcmp(kind, OW_REPLAY_END) == 0) {
            src->probing = 0;
            if (src->known && !src->replaying && src->probe_last > src->last) {
                s->st.gaps++;
                request_replay(s, src);
            }
        }
        goto out;
    }
    if (!src->replaying) /* a late answer to a request we gave up on */
        goto out;
    if (strcmp(kind, OW_REPLAY_MSG) == 0) {
        zframe_t *tf = zmsg_first(msg), *bf = zmsg_next(msg);
        ow_msg_t m;
        if (!tf || !bf) goto out;
        if (peek(s, (char *)zframe_data(tf), zframe_size(tf), (char *)zframe_data(bf),
                 zframe_size(bf), &m) < 0)
            goto out;
        if (m.h.epoch != src->epoch || m.h.seq <= src->last) {
            s->st.duplicates++;
            goto out;
        }
        if (m.h.seq > src->last + 1)
            lost(s, src, src->last + 1, m.h.seq - 1, "no longer in the publisher's journal");
        item_t *it = item_new(source, &m, (char *)zframe_data(tf), zframe_size(tf),
                              (char *)zframe_data(bf), zframe_size(bf), 1);
        if (it) deliver(s, src, it);
        src->replay_deadline = ow_mono_us() + (int64_t)s->replay_timeout_ms * 1000;
    } else if (strcmp(kind, OW_REPLAY_BEGIN) == 0 || strcmp(kind, OW_REPLAY_END) == 0) {
        char *body = zmsg_popstr(msg);
        json_t *o = body ? json_loads(body, 0, NULL) : NULL;
        uint64_t epoch = 0, first = 0, last = 0, next = 0;
        free(body);
        if (!o || json_u64(o, "epoch", &epoch) < 0) {
            log_warnx("%s: malformed replay %s frame", src->pub, kind);
            json_decref(o);
            goto out;
        }
        if (epoch != src->epoch) {
            json_decref(o);
            finish_replay(s, src, "publisher restarted, old journal gone");
            goto out;
        }
        if (strcmp(kind, OW_REPLAY_BEGIN) == 0) {
            if (json_u64(o, "first", &first) == 0 && json_u64(o, "last", &last) == 0 && first &&
                first > src->last + 1) {
                lost(s, src, src->last + 1, first - 1, "no longer in the publisher's journal");
                src->last = first - 1;
            }
        } else {
            int more = json_is_true(json_object_get(o, "more"));
            json_u64(o, "next", &next);
            /* Ask again while the publisher says there is more and the held
             * queue still starts beyond what we have, or live messages were
             * dropped while we caught up (they are in the journal). */
            if ((more && (!src->held.head || src->held.head->seq > src->last + 1)) ||
                src->overflow) {
                src->overflow = 0;
                request_replay(s, src);
            } else
                finish_replay(s, src, "not in the publisher's journal");
        }
        json_decref(o);
    }
out:
    free(kind);
    zmsg_destroy(&msg);
}

/* Read one whole message without blocking: 2 for [topic, body], another
 * count for a malformed one (extra parts are discarded), -1 if none. */
static int recv_frames(void *sock, zmq_msg_t f[2])
{
    int n = 0, more = 1;
    zmq_msg_init(&f[0]);
    zmq_msg_init(&f[1]);
    while (more) {
        zmq_msg_t tmp, *dst = n < 2 ? &f[n] : &tmp;
        if (n >= 2) zmq_msg_init(&tmp);
        if (zmq_msg_recv(dst, sock, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            if (n >= 2) zmq_msg_close(&tmp);
            return n == 0 ? -1 : n;
        }
        more = zmq_msg_more(dst);
        if (n >= 2) zmq_msg_close(&tmp);
        n++;
    }
    return n;
}

int ow_sub_wake_on(ow_sub_t *s, void *socket)
{
    if (s->nwake >= MAX_WAKE || !socket) return -1;
    s->wake[s->nwake++] = zsock_resolve(socket);
    return 0;
}

int ow_sub_recv(ow_sub_t *s, ow_delivery_t *out, int timeout_ms)
{
    ow_auth_tick(); /* reconnect what a failed handshake cut off */
    int64_t until = timeout_ms < 0 ? INT64_MAX : ow_mono_us() + (int64_t)timeout_ms * 1000;
    int polled = 0, woken = 0;

    free(s->current);
    s->current = NULL;
    for (;;) {
        item_t *it = q_pop(&s->ready);
        if (it) {
            char err[200];
            /* Frames were validated when they arrived; a held one is decoded
             * again now, the rest was kept decoded. */
            if (it->msg)
                out->msg = *it->msg;
            else if (ow_decode(it->data, it->topic_len, it->data + it->topic_len, it->body_len,
                               &out->msg, err, sizeof err, NULL) != OW_PERR_OK) {
                free(it);
                continue;
            }
            out->topic = it->data;
            out->topic_len = it->topic_len;
            out->body = it->data + it->topic_len;
            out->body_len = it->body_len;
            out->replayed = it->replayed;
            out->source = it->source;
            s->current = it;
            s->st.delivered++;
            return 1;
        }
        if (woken) return 0;

        int64_t now = ow_mono_us(), wait_us = until == INT64_MAX ? -1 : until - now;
        if (s->tracking)
            for (int i = 0; i < s->nsrc; i++) {
                source_t *src = &s->src[i];
                if (!src->dealer || src->probing || src->replaying) continue;
                int first = !src->known && !src->probed;
                int quiet = src->known && now - src->heard_us >= QUIET_PROBE_US;
                if (first || quiet) {
                    src->probed = src->probing = 1;
                    src->probe_last = 0;
                    src->heard_us = now;
                    zstr_sendm(src->dealer, OW_REPLAY_REQ);
                    zstr_send(src->dealer, "{\"epoch\":0,\"from\":1,\"max\":0}");
                } else if (src->known) {
                    int64_t due = src->heard_us + QUIET_PROBE_US - now;
                    if (wait_us < 0 || due < wait_us) wait_us = due;
                }
            }
        zmq_pollitem_t items[MAX_SOURCES * 2 + MAX_WAKE];
        int map[MAX_SOURCES * 2], n = 0;
        for (int i = 0; i < s->nsrc; i++) {
            source_t *src = &s->src[i];
            if (src->replaying) {
                if (now >= src->replay_deadline) {
                    finish_replay(s, src, "replay timed out");
                    continue;
                }
                if (wait_us < 0 || src->replay_deadline - now < wait_us)
                    wait_us = src->replay_deadline - now;
            }
            items[n] = (zmq_pollitem_t){zsock_resolve(src->sub), 0, ZMQ_POLLIN, 0};
            map[n++] = i;
            if (src->dealer) {
                items[n] = (zmq_pollitem_t){zsock_resolve(src->dealer), 0, ZMQ_POLLIN, 0};
                map[n++] = -1 - i;
            }
        }
        if (s->ready.head) continue;
        /* Once the time is up the sockets are still looked at once, without
         * waiting: a timeout of 0 means "what has arrived", not "nothing". */
        int expired = until != INT64_MAX && now >= until;
        if (expired && polled) return 0;
        long ms = expired ? 0 : wait_us < 0 ? -1 : (long)((wait_us + 999) / 1000);
        for (int w = 0; w < s->nwake; w++)
            items[n + w] = (zmq_pollitem_t){s->wake[w], 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(items, n + s->nwake, ms);
        if (rc < 0) return -1;
        polled = 1;
        for (int w = 0; w < s->nwake; w++)
            if (items[n + w].revents & ZMQ_POLLIN) woken = 1;
        for (int k = 0; k < n; k++) {
            if (!(items[k].revents & ZMQ_POLLIN)) continue;
            if (map[k] >= 0) {
                source_t *src = &s->src[map[k]];
                /* Drain what is there, bounded so replies are not starved. */
                for (int burst = 0; burst < 1000; burst++) {
                    zmq_msg_t f[2];
                    int nf = recv_frames(zsock_resolve(src->sub), f);
                    if (nf < 0) break;
                    if (nf == 2)
                        on_live(s, src, map[k], zmq_msg_data(&f[0]), zmq_msg_size(&f[0]),
                                zmq_msg_data(&f[1]), zmq_msg_size(&f[1]));
                    else
                        s->st.malformed++;
                    zmq_msg_close(&f[0]);
                    zmq_msg_close(&f[1]);
                }
            } else {
                on_replay(s, &s->src[-1 - map[k]], -1 - map[k]);
            }
        }
    }
}
