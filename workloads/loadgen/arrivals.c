#include "arrivals.h"

#include <math.h>

#include "wl_rng.h"

void arrivals_init(arrivals *a, int poisson, double rate_per_s, int64_t start_ns, uint64_t seed)
{
    a->poisson = poisson;
    a->period_ns = 1e9 / rate_per_s;
    a->start_ns = start_ns;
    a->seed = seed;
    a->k = 0;
    a->t_ns = 0;
}

int64_t arrivals_next(arrivals *a)
{
    uint64_t k = a->k++;
    if (!a->poisson) return a->start_ns + (int64_t)((double)k * a->period_ns); /* from k: no drift */
    /* exponential gaps; 1 - U is in (0, 1], so the log is finite */
    double u = 1.0 - (double)wl_uniform(a->seed, 17, k);
    a->t_ns += -log(u) * a->period_ns;
    return a->start_ns + (int64_t)a->t_ns;
}
