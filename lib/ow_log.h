/* Logging for every ohmwatch daemon: one line per event, naming the service
 * and the function, with levels (OpenBSD log_warn/log_warnx habit: the plain
 * form appends strerror(errno), the _x form does not). Lines go to stderr so
 * that docker and systemd collect them. */
#ifndef OW_LOG_H
#define OW_LOG_H

#include <stdarg.h>

enum ow_log_level { OW_LOG_ERR = 0, OW_LOG_WARN, OW_LOG_INFO, OW_LOG_DEBUG };

void ow_log_init(const char *service, int verbosity);
void ow_log_set_verbosity(int verbosity);
int ow_log_enabled(enum ow_log_level level);
void ow_log(enum ow_log_level level, const char *func, int with_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_warn(...)  ow_log(OW_LOG_WARN, __func__, 1, __VA_ARGS__)
#define log_warnx(...) ow_log(OW_LOG_WARN, __func__, 0, __VA_ARGS__)
#define log_errx(...)  ow_log(OW_LOG_ERR, __func__, 0, __VA_ARGS__)
#define log_err(...)   ow_log(OW_LOG_ERR, __func__, 1, __VA_ARGS__)
#define log_info(...)  ow_log(OW_LOG_INFO, __func__, 0, __VA_ARGS__)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (ow_log_enabled(OW_LOG_DEBUG)) ow_log(OW_LOG_DEBUG, __func__, 0, __VA_ARGS__);          \
    } while (0)

/* Control characters of msg (newline, escape, DEL) to '?', in place: what
 * ow_log does to every message. */
void ow_log_clean(char *msg);

#endif
