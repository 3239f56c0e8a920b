/* Logger shared by all services; see ow_log.h. */
#include "ow_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *log_service = "ohmwatch";
static int log_verbosity = 0; /* 0: info and above, 1+: debug, <0: nothing (fuzzers) */

static const char *level_names[] = {"error", "warning", "info", "debug"};

void ow_log_init(const char *service, int verbosity)
{
    log_service = service;
    log_verbosity = verbosity;
}

void ow_log_set_verbosity(int verbosity)
{
    log_verbosity = verbosity;
}

int ow_log_enabled(enum ow_log_level level)
{
    return log_verbosity >= 0 && (level <= OW_LOG_INFO || log_verbosity > 0);
}

/* A message often holds what a stranger sent (a URL, a user name, a
 * register map's text): a newline in it would start a line that looks like
 * ours in the journal, an escape sequence would rewrite an operator's
 * terminal. So every control character becomes '?', and a line is a line. */
void ow_log_clean(char *msg)
{
    for (unsigned char *p = (unsigned char *)msg; *p; p++)
        if (*p < 0x20 || *p == 0x7f) *p = '?';
}

void ow_log(enum ow_log_level level, const char *func, int with_errno, const char *fmt, ...)
{
    int saved = errno;
    char msg[1024];
    va_list ap;

    if (!ow_log_enabled(level)) return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ow_log_clean(msg);

    struct timespec ts;
    struct tm tm;
    char tbuf[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);
    if (with_errno)
        fprintf(stderr, "%s.%03ldZ %s[%s] %s: %s: %s\n", tbuf, ts.tv_nsec / 1000000, log_service,
                level_names[level], func, msg, strerror(saved));
    else
        fprintf(stderr, "%s.%03ldZ %s[%s] %s: %s\n", tbuf, ts.tv_nsec / 1000000, log_service,
                level_names[level], func, msg);
    errno = saved;
}
