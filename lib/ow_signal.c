/* See ow_signal.h. */
#include "ow_signal.h"

#include <czmq.h>

volatile sig_atomic_t ow_sig_stop;
volatile sig_atomic_t ow_sig_reload;

static void on_stop(int sig)
{
    (void)sig;
    ow_sig_stop = 1;
}

static void on_hup(int sig)
{
    (void)sig;
    ow_sig_reload = 1;
}

void ow_signals_init(void)
{
    struct sigaction sa;
    zsys_init();
    zsys_handler_set(NULL);
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}
