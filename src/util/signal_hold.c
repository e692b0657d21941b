#include "util/signal_hold.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "util/fs.h"

static volatile sig_atomic_t held;

static void on_signal(int sig)
{
    (void)sig;
    if (held++ == 0) {
        static const char msg[] = "\ncotenant: interrupted: finishing the files being written first (a few seconds)\n";
        fs_write_best_effort(2, msg, sizeof msg - 1);
    }
}

void signal_handle_stops(void (*fn)(int), bool with_hup, bool restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (with_hup) sigaction(SIGHUP, &sa, NULL);
}

void signal_hold_start(void)
{
    signal_handle_stops(on_signal, false, true);
}

int signal_hold_count(void) { return held; }
