#include "util/signal_hold.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "util/fsutil.h"

static volatile sig_atomic_t held;

static void on_signal(int sig)
{
    (void)sig;
    if (held++ == 0) {
        static const char msg[] = "\ncotenant: interrupted: finishing the files being written first (a few seconds)\n";
        write_best_effort(2, msg, sizeof msg - 1);
    }
}

void signal_hold_start(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int signal_hold_count(void) { return held; }
