/* arrivals.h - when an open-loop load generator sends: a fixed-rate or
 * Poisson schedule, a pure function of (rate, start, seed, k), so every run
 * with the same seed sends at the same instants and tests can check them. */
#ifndef COTENANT_ARRIVALS_H
#define COTENANT_ARRIVALS_H

#include <stdint.h>

typedef struct {
    int poisson;
    double period_ns; /* mean gap: 1e9 / rate */
    int64_t start_ns;
    uint64_t seed, k;
    double t_ns; /* Poisson: the last arrival, relative to start */
} arrivals;

void arrivals_init(arrivals *a, int poisson, double rate_per_s, int64_t start_ns, uint64_t seed);
/* The next scheduled instant (CLOCK_MONOTONIC ns), advancing the schedule. */
int64_t arrivals_next(arrivals *a);

#endif
