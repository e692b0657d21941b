#include "flags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

volatile sig_atomic_t workload_stop;

static void on_stop(int sig)
{
    (void)sig;
    workload_stop = 1;
}

void workload_install_stop(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

long flag_long(const char *prog, const char *flag, const char *value, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = value ? strtol(value, &end, 10) : 0;
    if (!value || *end || end == value || errno || v < lo || v > hi) {
        fprintf(stderr, "%s: %s '%s': expected a whole number from %ld to %ld\n", prog, flag, value ? value : "", lo, hi);
        exit(2);
    }
    return v;
}

double flag_double(const char *prog, const char *flag, const char *value, double lo, double hi)
{
    char *end;
    double v = value ? strtod(value, &end) : 0;
    if (!value || end == value || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "%s: %s '%s': expected a number from %g to %g\n", prog, flag, value ? value : "", lo, hi);
        exit(2);
    }
    return v;
}

double flag_seconds(const char *prog, const char *flag, const char *value)
{
    char *end;
    double v = value ? strtod(value, &end) : -1;
    double scale = 1;
    if (value && end != value) {
        if (!strcmp(end, "s") || !*end) scale = 1;
        else if (!strcmp(end, "m")) scale = 60;
        else if (!strcmp(end, "ms")) scale = 1e-3;
        else if (!strcmp(end, "us")) scale = 1e-6;
        else v = -1;
    }
    if (!value || end == value || !(v >= 0 && v < 1e9)) {
        fprintf(stderr, "%s: %s '%s': expected seconds (30, 30s, 2m, 500ms, 200us)\n", prog, flag, value ? value : "");
        exit(2);
    }
    return v * scale;
}

long long flag_bytes(const char *prog, const char *flag, const char *value, long long lo, long long hi)
{
    char *end;
    errno = 0;
    long long v = value ? strtoll(value, &end, 10) : -1;
    long long scale = 1;
    if (value && end != value) {
        if (!strcmp(end, "K") || !strcmp(end, "KiB")) scale = 1LL << 10;
        else if (!strcmp(end, "M") || !strcmp(end, "MiB")) scale = 1LL << 20;
        else if (!strcmp(end, "G") || !strcmp(end, "GiB")) scale = 1LL << 30;
        else if (*end) v = -1;
    }
    if (!value || end == value || errno || v < 0 || v > hi / scale || v * scale < lo) {
        fprintf(stderr, "%s: %s '%s': expected a size from %lld to %lld bytes (e.g. 4096, 64K, 16M)\n", prog, flag,
                value ? value : "", lo, hi);
        exit(2);
    }
    return v * scale;
}

unsigned long long flag_default_seed(unsigned long long fallback)
{
    const char *v = getenv("COTENANT_SEED");
    char *end;
    if (!v || !*v) return fallback;
    unsigned long long s = strtoull(v, &end, 10);
    return *end ? fallback : s;
}

void flag_version_exit(const char *prog, int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
            printf("%s %s (git %s)\n", prog, COTENANT_VERSION, COTENANT_GIT_REV);
            exit(0);
        }
}
