/* hub.c: events read in order with their ids, a stream that parks when
 * caught up and is woken by the next publish, Last-Event-ID, the ring's
 * wrap by count and by bytes, a stream too far behind skipping ahead with
 * a comment, keep-alives every 15 s, reads in pieces smaller than an
 * event, data with line breaks, and the close that ends every stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "ow_test.h"

static int parks, wakes;
static void park(void *c)
{
    (void)c;
    parks++;
}
static void wake(void *c)
{
    (void)c;
    wakes++;
}

static int session_ok = 1, asked;
static int alive(void *ctx, const char *token)
{
    (void)ctx;
    asked++;
    return session_ok && strcmp(token, "tok-a") == 0;
}

/* Everything s has now, as one string. */
static const char *drain(ow_web_stream_t *s, size_t piece)
{
    static char out[65536];
    size_t n = 0;
    ssize_t k;
    while ((k = ow_web_hub_read(s, out + n,
                                piece < sizeof out - 1 - n ? piece : sizeof out - 1 - n)) > 0)
        n += (size_t)k;
    out[n] = '\0';
    return out;
}

int main(void)
{
    ow_web_hub_t *h = ow_web_hub_new(4, 1 << 20, park, wake);
    ow_web_stream_t *s = ow_web_hub_open(h, 0, 0, NULL, (void *)1);
    CHECK(ow_web_hub_read(s, (char[8]){0}, 8) == 0 && parks == 1);
    CHECK(ow_web_hub_publish(h, "gw", "{\"gw\":\"a\"}") == 1);
    CHECK(wakes == 1); /* the parked stream woken */
    CHECK(ow_web_hub_publish(h, "alarms", "{\"n\":1}") == 2);
    CHECK(wakes == 1); /* not parked any more: nothing to wake */
    CHECK_STR(drain(s, 4096), "id: 1\nevent: gw\ndata: {\"gw\":\"a\"}\n\n"
                              "id: 2\nevent: alarms\ndata: {\"n\":1}\n\n");
    CHECK(parks == 2);

    /* Pieces of 3 bytes make the same text. */
    ow_web_hub_publish(h, "gw", "{\"gw\":\"b\",\"v\":[1,2,3]}");
    CHECK(wakes == 2);
    CHECK_STR(drain(s, 3), "id: 3\nevent: gw\ndata: {\"gw\":\"b\",\"v\":[1,2,3]}\n\n");

    /* Last-Event-ID: after 1 -> 2 and 3; an id from a webd before a
     * restart (ahead of ours): everything held. */
    ow_web_stream_t *r = ow_web_hub_open(h, 1, 1, NULL, (void *)2);
    CHECK_CONTAINS(drain(r, 4096), "id: 2\nevent: alarms");
    ow_web_hub_stream_free(r);
    r = ow_web_hub_open(h, 1, 999, NULL, (void *)2);
    const char *all = drain(r, 4096);
    CHECK(strncmp(all, "id: 1\n", 6) == 0 && strstr(all, "id: 3\n"));
    ow_web_hub_stream_free(r);

    /* The ring holds 4: after 9 events a stream at 4 has lost 4..5. */
    r = ow_web_hub_open(h, 1, 3, NULL, (void *)3);
    for (int i = 4; i <= 9; i++)
        ow_web_hub_publish(h, "gw", "{}");
    CHECK(ow_web_hub_last(h) == 9);
    const char *got = drain(r, 4096);
    CHECK_MSG(strncmp(got, ": skipped 2 events (too far behind)\n\nid: 6\n", 42) == 0, "%s", got);
    CHECK(strstr(got, "id: 9\n") && !strstr(got, "id: 5\n"));
    CHECK(ow_web_hub_stats(h).skipped == 1);
    ow_web_hub_stream_free(r);
    drain(s, 4096);

    /* Too far behind with keys: of each gateway only the newest "gw" and
     * "alarms" held; an event without a gateway always. */
    r = ow_web_hub_open(h, 1, 9, NULL, (void *)3);
    static const char *const ev[][2] = {
        {"gw", "{\"gw\":\"a\",\"v\":1}"},
        {"gw", "{\"gw\":\"b\",\"v\":1}"},
        {"alarms", "{\"gw\":\"a\",\"n\":0}"},
        {"gw", "{\"gw\":\"a\",\"v\":2}"},
        {"note", "{\"x\":1}"},
        {"gw", "{\"gw\":\"a\",\"v\":3}"},
    };
    for (size_t i = 0; i < 6; i++)
        ow_web_hub_publish(h, ev[i][0], ev[i][1]); /* 10..15; 12..15 held */
    got = drain(r, 4096);
    CHECK_MSG(strcmp(got, ": skipped 3 events (too far behind)\n\n"
                          "id: 12\nevent: alarms\ndata: {\"gw\":\"a\",\"n\":0}\n\n"
                          "id: 14\nevent: note\ndata: {\"x\":1}\n\n"
                          "id: 15\nevent: gw\ndata: {\"gw\":\"a\",\"v\":3}\n\n") == 0,
              "%s", got);
    /* Caught up: every event again, superseded or not. */
    ow_web_hub_publish(h, "gw", "{\"gw\":\"a\",\"v\":4}");
    ow_web_hub_publish(h, "gw", "{\"gw\":\"a\",\"v\":5}");
    got = drain(r, 4096);
    CHECK(strstr(got, "id: 16\n") && strstr(got, "id: 17\n"));
    ow_web_hub_stream_free(r);
    drain(s, 4096);

    /* Line breaks in data: one data: line each. */
    ow_web_hub_publish(h, "note", "a\nb");
    CHECK_STR(drain(s, 4096), "id: 18\nevent: note\ndata: a\ndata: b\n\n");

    /* Keep-alive: the first tick starts the clock, one 15 s later sends. */
    int w = wakes;
    ow_web_hub_tick(h, 1000000);
    CHECK(drain(s, 4096)[0] == '\0');
    ow_web_hub_tick(h, 15999999);
    CHECK(wakes == w + 1); /* the first tick woke it too (nothing to send) */
    ow_web_hub_tick(h, 16000000);
    CHECK(wakes == w + 2);
    CHECK_STR(drain(s, 4096), ": keep-alive\n\n");
    CHECK(ow_web_hub_stats(h).keepalives == 1);

    /* A stream whose session has ended ends at the next keep-alive. */
    ow_web_hub_set_alive(h, alive, NULL);
    ow_web_stream_t *sess = ow_web_hub_open(h, 0, 0, "tok-a", (void *)4);
    CHECK(ow_web_hub_read(sess, (char[8]){0}, 8) == 0); /* parked */
    ow_web_hub_tick(h, 31000000);
    CHECK_STR(drain(sess, 4096), ": keep-alive\n\n");
    CHECK_STR(drain(s, 4096), ": keep-alive\n\n"); /* no token: never asked */
    session_ok = 0;
    ow_web_hub_tick(h, 46000000);
    CHECK(ow_web_hub_read(sess, (char[8]){0}, 8) == -1);
    CHECK(ow_web_hub_stats(h).ended == 1 && asked == 2);
    ow_web_hub_stream_free(sess);
    drain(s, 4096);

    /* Close: every stream ends (-1), parked ones woken first. */
    w = wakes;
    ow_web_hub_close(h);
    CHECK(wakes == w + 1);
    CHECK(ow_web_hub_read(s, (char[8]){0}, 8) == -1);
    ow_web_hub_stats_t st = ow_web_hub_stats(h);
    CHECK(st.published == 18 && st.streams == 6 && st.open == 1);
    ow_web_hub_stream_free(s);
    ow_web_hub_destroy(&h);
    CHECK(h == NULL);

    /* By bytes: 100 bytes hold two 40-byte events, not three. */
    char d40[41];
    memset(d40, 'x', 40);
    d40[40] = '\0';
    h = ow_web_hub_new(100, 100, park, wake);
    s = ow_web_hub_open(h, 1, 0, NULL, NULL);
    for (int i = 0; i < 3; i++)
        ow_web_hub_publish(h, "gw", d40);
    got = drain(s, 4096);
    CHECK_MSG(strncmp(got, ": skipped 1 events", 18) == 0, "%s", got);
    CHECK(strstr(got, "id: 2\n") && strstr(got, "id: 3\n"));
    ow_web_hub_stream_free(s);
    ow_web_hub_destroy(&h);
    return ow_test_done("webd_hub_test");
}
