/* flags.h - the command-line style every built-in workload shares:
 * --name VALUE, with durations in seconds ("30", "30s", "2m") and a common
 * SIGTERM/SIGINT handling that ends the run at the next step boundary. */
#ifndef COTENANT_WORKLOAD_FLAGS_H
#define COTENANT_WORKLOAD_FLAGS_H

#include <signal.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Set by SIGTERM/SIGINT once workload_install_stop() ran. */
extern volatile sig_atomic_t workload_stop;
void workload_install_stop(void);

/* Parsers that exit(2) with "PROG: --flag 'x': expected ..." on bad input. */
long flag_long(const char *prog, const char *flag, const char *value, long lo, long hi);
double flag_double(const char *prog, const char *flag, const char *value, double lo, double hi);
double flag_seconds(const char *prog, const char *flag, const char *value);
/* A byte count with an optional K, M or G (binary) suffix. */
long long flag_bytes(const char *prog, const char *flag, const char *value, long long lo, long long hi);
/* --version (or -V) anywhere before "--" in argv: prints "PROG VERSION
 * (git REV)", cotenant's own, and exits 0. Called first in every main. */
void flag_version_exit(const char *prog, int argc, char **argv);
/* The seed to use when --seed is not given: COTENANT_SEED, which cotenant
 * run sets per repeat (the same alone and shared), or else fallback. */
unsigned long long flag_default_seed(unsigned long long fallback);

#ifdef __cplusplus
}
#endif

#endif
