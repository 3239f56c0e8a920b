/* Publisher with journal and replay; see ow_pub.h. */
#include "ow_pub.h"

#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "ow_auth.h"
#include "ow_clock.h"
#include "ow_journal.h"
#include "ow_log.h"
#include "ow_zsock.h"

struct ow_pub {
    zsock_t *pub, *router;
    void *pub_raw, *router_raw;
    ow_journal_t *journal;
    char id[OW_ID_MAX];
    uint64_t epoch, seq;
    ow_pub_stats_t st;
};

ow_pub_t *ow_pub_new(const char *pub_id, const char *publish_ep, const char *replay_ep,
                     size_t journal_messages, char *err, size_t errlen)
{
    ow_pub_t *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (snprintf(p->id, sizeof p->id, "%s", pub_id) >= (int)sizeof p->id) {
        snprintf(err, errlen, "publisher id '%s' longer than %d characters", pub_id, OW_ID_MAX - 1);
        goto fail;
    }
    p->epoch = (uint64_t)ow_now_us();
    p->journal = ow_journal_new(journal_messages);
    p->pub = zsock_new(ZMQ_PUB);
    p->router = zsock_new(ZMQ_ROUTER);
    if (!p->journal || !p->pub || !p->router) {
        snprintf(err, errlen, "cannot create journal or sockets: %s", strerror(errno));
        goto fail;
    }
    ow_zsock_limit(p->pub, OW_ZSOCK_PUB);       /* bursts; subscriptions are short */
    ow_zsock_limit(p->router, OW_ZSOCK_REPLAY); /* frame limit, per-peer queue */
    zsock_set_linger(p->pub, 200);
    zsock_set_linger(p->router, 0);
    if (ow_auth_server(p->pub, publish_ep, err, errlen) < 0 ||
        ow_auth_server(p->router, replay_ep, err, errlen) < 0)
        goto fail;
    if (zsock_bind(p->pub, "%s", publish_ep) < 0) {
        snprintf(err, errlen, "cannot bind publish endpoint %s: %s", publish_ep,
                 zmq_strerror(errno));
        goto fail;
    }
    if (zsock_bind(p->router, "%s", replay_ep) < 0) {
        snprintf(err, errlen, "cannot bind replay endpoint %s: %s", replay_ep, zmq_strerror(errno));
        goto fail;
    }
    p->pub_raw = zsock_resolve(p->pub);
    p->router_raw = zsock_resolve(p->router);
    return p;
fail:
    ow_pub_destroy(&p);
    return NULL;
}

void ow_pub_destroy(ow_pub_t **pp)
{
    ow_pub_t *p = *pp;
    if (!p) return;
    zsock_destroy(&p->pub);
    zsock_destroy(&p->router);
    ow_journal_destroy(&p->journal);
    free(p);
    *pp = NULL;
}

uint64_t ow_pub_epoch(const ow_pub_t *p)
{
    return p->epoch;
}

uint64_t ow_pub_journal_first(const ow_pub_t *p)
{
    return ow_journal_first(p->journal);
}

uint64_t ow_pub_journal_last(const ow_pub_t *p)
{
    return ow_journal_last(p->journal);
}

const ow_pub_stats_t *ow_pub_stats(const ow_pub_t *p)
{
    return &p->st;
}

void *ow_pub_replay_socket(ow_pub_t *p)
{
    return p->router_raw;
}

int ow_pub_send(ow_pub_t *p, ow_msg_t *m)
{
    char topic[OW_TOPIC_MAX], body[OW_BODY_MAX], err[200];
    int tn, bn;

    snprintf(m->h.pub, sizeof m->h.pub, "%s", p->id);
    m->h.epoch = p->epoch;
    m->h.seq = p->seq + 1;
    tn = ow_topic(m, topic, sizeof topic);
    bn = ow_encode(m, body, sizeof body, err, sizeof err);
    if (tn < 0 || bn < 0) {
        /* A value outside the contract is a bug or a sensor fault upstream;
         * dropping it keeps the sequence contiguous for subscribers. */
        p->st.dropped++;
        log_warnx("not publishing %s: %s", ow_kind_name(m->kind), err);
        return -1;
    }
    p->seq++;
    if (ow_journal_append(p->journal, p->seq, topic, (size_t)tn, body, (size_t)bn) < 0)
        log_warn("journal append of seq %llu", (unsigned long long)p->seq);
    if (zmq_send(p->pub_raw, topic, (size_t)tn, ZMQ_SNDMORE) < 0 ||
        zmq_send(p->pub_raw, body, (size_t)bn, 0) < 0)
        log_warn("publish seq %llu", (unsigned long long)p->seq);
    p->st.published++;
    return 0;
}

/* Start a message to peer id. The ROUTER is mandatory (lib/ow_zsock.c): a
 * peer whose queue is full (it does not read) or that left refuses it, and
 * the caller abandons the answer instead of letting it pile up; the peer's
 * replay times out and it asks again when it reads. */
static int send_id(ow_pub_t *p, zframe_t *id)
{
    return zmq_send(p->router_raw, zframe_data(id), zframe_size(id), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
               ? -1
               : 0;
}

static int send_ctl(ow_pub_t *p, zframe_t *id, const char *kind, const char *body)
{
    if (send_id(p, id) < 0) return -1;
    zmq_send(p->router_raw, kind, strlen(kind), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(p->router_raw, body, strlen(body), ZMQ_DONTWAIT);
    return 0;
}

/* A peer's bytes made safe for a log line: printable ASCII, at most 80. */
static const char *printable(char *s)
{
    size_t i;
    for (i = 0; s[i] && i < 80; i++)
        if (s[i] < 0x20 || s[i] > 0x7e) s[i] = '?';
    s[i] = '\0';
    return s;
}

/* Answer one replay request: [id, "replay", {"epoch","from","max"}]. */
void ow_pub_serve(ow_pub_t *p)
{
    zmsg_t *req = zmsg_recv(p->router);
    zframe_t *id;
    char *kind = NULL, *body = NULL, buf[256];
    json_t *o = NULL;
    json_error_t jerr;

    if (!req) return;
    id = zmsg_pop(req);
    kind = zmsg_popstr(req);
    body = zmsg_popstr(req);
    if (!id || !kind || strcmp(kind, OW_REPLAY_REQ) != 0 || !body ||
        !(o = json_loads(body, 0, &jerr)) || !json_is_integer(json_object_get(o, "from")) ||
        !json_is_integer(json_object_get(o, "epoch"))) {
        char kb[84];
        snprintf(kb, sizeof kb, "%s", kind ? kind : "no command");
        p->st.bad_requests++;
        log_warnx("malformed replay request #%llu (%s%s%s)", (unsigned long long)p->st.bad_requests,
                  printable(kb), body ? ": " : "", body ? printable(body) : "");
        goto out;
    }
    p->st.replay_requests++;
    uint64_t epoch = (uint64_t)json_integer_value(json_object_get(o, "epoch"));
    json_int_t from = json_integer_value(json_object_get(o, "from"));
    json_int_t max = json_is_integer(json_object_get(o, "max"))
                         ? json_integer_value(json_object_get(o, "max"))
                         : OW_REPLAY_MAX;
    uint64_t first = ow_journal_first(p->journal), last = ow_journal_last(p->journal);
    /* At most one chunk whatever was asked: the answer is a bounded piece of
     * the loop, and the client asks again while "more" (ow_zsock.h). */
    if (max <= 0 || max > OW_REPLAY_CHUNK) max = OW_REPLAY_CHUNK;
    if (from < 1) from = 1;
    snprintf(buf, sizeof buf, "{\"epoch\":%llu,\"first\":%llu,\"last\":%llu,\"pub\":\"%s\"}",
             (unsigned long long)p->epoch, (unsigned long long)first, (unsigned long long)last,
             p->id);
    uint64_t next = (uint64_t)from < first ? first : (uint64_t)from;
    int sent = 0;
    if (send_ctl(p, id, OW_REPLAY_BEGIN, buf) < 0) goto abandon;
    if (epoch == p->epoch) {
        for (; next <= last && sent < max; next++, sent++) {
            const char *t, *bd;
            size_t tl, bl;
            if (ow_journal_get(p->journal, next, &t, &tl, &bd, &bl) < 0) break;
            if (send_id(p, id) < 0) goto abandon;
            zmq_send(p->router_raw, OW_REPLAY_MSG, strlen(OW_REPLAY_MSG),
                     ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(p->router_raw, t, tl, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(p->router_raw, bd, bl, ZMQ_DONTWAIT);
        }
    }
    snprintf(buf, sizeof buf, "{\"epoch\":%llu,\"next\":%llu,\"more\":%s}",
             (unsigned long long)p->epoch, (unsigned long long)next,
             epoch == p->epoch && next <= last ? "true" : "false");
    if (send_ctl(p, id, OW_REPLAY_END, buf) < 0) goto abandon;
    p->st.replay_sent += (uint64_t)sent;
    log_debug("replay from %lld: sent %d", (long long)from, sent);
    goto out;
abandon:
    p->st.replay_sent += (uint64_t)sent;
    /* The first and then every 1000th: a stuck peer must not flood the log. */
    if (p->st.replay_abandoned++ % 1000 == 0)
        log_warnx("replay answer abandoned after %d messages (#%llu): %s", sent,
                  (unsigned long long)p->st.replay_abandoned,
                  errno == EAGAIN ? "the peer does not read" : zmq_strerror(errno));
out:
    json_decref(o);
    free(kind);
    free(body);
    zframe_destroy(&id);
    zmsg_destroy(&req);
}

void ow_pub_serve_until(ow_pub_t *p, int64_t until, volatile sig_atomic_t *stop)
{
    for (;;) {
        int64_t wait = until - ow_mono_us();
        if (wait < 0) wait = 0;
        zmq_pollitem_t it = {p->router_raw, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&it, 1, (long)(wait / 1000));
        if (rc < 0 && errno != EINTR) return;
        if (rc > 0) ow_pub_serve(p);
        if ((stop && *stop) || ow_mono_us() >= until) return;
    }
}
