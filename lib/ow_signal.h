/* Signals for every ohmwatch process: handlers only set a flag, the loop
 * acts on it (SIGTERM/SIGINT quit, SIGHUP reload). Also takes czmq's own
 * handler out of the way and ignores SIGPIPE. */
#ifndef OW_SIGNAL_H
#define OW_SIGNAL_H

#include <signal.h>

extern volatile sig_atomic_t ow_sig_stop;
extern volatile sig_atomic_t ow_sig_reload;

void ow_signals_init(void);

#endif
