/* ohmwatch-webd's life: the site, the users, the hub, the parts (the bus
 * side, the database pool: routes.c's ow_web_parts), then HTTPS. The main
 * thread runs the parts' steps; the HTTP pool's threads answer requests. */
#include "webd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "http.h"
#include "hub.h"
#include "ow_daemon.h"
#include "ow_log.h"

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

ow_webd_t *ow_webd_new(const char *site_path, char *err, size_t errlen)
{
    ow_webd_t *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->site = ow_site_load(site_path, err, errlen);
    if (!d->site || ow_site_webd(d->site, &d->cfg, err, errlen) < 0) goto fail;
    ow_web_auth_cfg_t ac = {.users_file = d->cfg.users_file,
                            .initial_password_file = d->cfg.initial_password_file,
                            .session_idle_s = d->cfg.session_idle_s,
                            .session_max_s = d->cfg.session_max_s,
                            .login_failures = d->cfg.login_failures,
                            .login_lock_s = d->cfg.login_lock_s};
    d->auth = ow_web_auth_new(&ac, err, errlen);
    if (!d->auth) goto fail;
    d->hub =
        ow_web_hub_new(OW_WEB_HUB_EVENTS, OW_WEB_HUB_BYTES, ow_web_http_park, ow_web_http_wake);
    if (!d->hub) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    ow_web_hub_set_alive(d->hub, ow_web_auth_alive, d->auth);
    for (size_t i = 0; i < ow_web_nparts; i++) {
        char perr[512] = "";
        if (ow_web_parts[i].open && ow_web_parts[i].open(d, perr, sizeof perr) < 0) {
            snprintf(err, errlen, "%s: %s", ow_web_parts[i].name, perr);
            /* Close what opened: the failed one cleans up after itself. */
            while (i-- > 0)
                if (ow_web_parts[i].close) ow_web_parts[i].close(d);
            ow_web_hub_destroy(&d->hub);
            goto fail;
        }
    }
    d->http = ow_web_http_new(d, err, errlen);
    if (!d->http) {
        for (size_t i = ow_web_nparts; i-- > 0;)
            if (ow_web_parts[i].close) ow_web_parts[i].close(d);
        ow_web_hub_destroy(&d->hub);
        goto fail;
    }
    return d;
fail:
    ow_web_auth_destroy(&d->auth);
    ow_site_destroy(&d->site);
    free(d);
    return NULL;
}

int ow_webd_run(ow_webd_t *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    size_t nstep = 0;
    for (size_t i = 0; i < ow_web_nparts; i++)
        nstep += ow_web_parts[i].step != NULL;
    while (!*stop) {
        ow_daemon_hup_refused(reload);
        /* The steps wait for their sockets; the loop's pace is theirs. */
        for (size_t i = 0; i < ow_web_nparts; i++)
            if (ow_web_parts[i].step) ow_web_parts[i].step(d, (int)(100 / nstep));
        if (!nstep) usleep(100000);
        ow_web_hub_tick(d->hub, mono_us());
    }
    ow_web_hub_stats_t hs = ow_web_hub_stats(d->hub);
    ow_web_auth_stats_t as = ow_web_auth_stats(d->auth);
    log_info("stopping: %llu events published, %llu streams opened (%llu open, %llu ended with "
             "their session), %llu skipped ahead; logins %llu ok, %llu failed, %llu refused while "
             "locked; %llu sessions "
             "expired",
             (unsigned long long)hs.published, (unsigned long long)hs.streams,
             (unsigned long long)hs.open, (unsigned long long)hs.ended,
             (unsigned long long)hs.skipped, (unsigned long long)as.logins_ok,
             (unsigned long long)as.logins_failed, (unsigned long long)as.logins_locked,
             (unsigned long long)as.sessions_expired);
    return 0;
}

void ow_webd_destroy(ow_webd_t **dp)
{
    ow_webd_t *d = *dp;
    if (!d) return;
    /* Event streams end first: the server cannot stop with a connection
     * suspended. */
    ow_web_hub_close(d->hub);
    ow_web_http_destroy(&d->http);
    for (size_t i = ow_web_nparts; i-- > 0;)
        if (ow_web_parts[i].close) ow_web_parts[i].close(d);
    ow_web_hub_destroy(&d->hub);
    ow_web_auth_destroy(&d->auth);
    ow_site_destroy(&d->site);
    free(d);
    *dp = NULL;
}
