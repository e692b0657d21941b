#include "exec/cpu_share.h"

#include <math.h>

/* How many of n CPUs a share of pct gets: at least one. */
static int cpus_for(int pct, int n)
{
    int k = (int)lround(pct * n / 100.0);
    return k < 1 ? 1 : k > n ? n : k;
}

bool cpu_share_from(const scenario *sc, int w, const cpu_set_t *pool, cpu_set_t *out)
{
    if (sc->workloads[w].cpu_pct <= 0) return false;
    int list[CPU_SETSIZE], n = 0;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, pool)) list[n++] = c;
    if (n == 0) return false;
    int start = 0;
    for (int i = 0; i < w; i++)
        if (sc->workloads[i].cpu_pct > 0) start += cpus_for(sc->workloads[i].cpu_pct, n);
    CPU_ZERO(out);
    for (int k = 0, take = cpus_for(sc->workloads[w].cpu_pct, n); k < take; k++) CPU_SET(list[(start + k) % n], out);
    return true;
}

bool cpu_share_of(const scenario *sc, int w, cpu_set_t *out)
{
    cpu_set_t pool;
    if (sched_getaffinity(0, sizeof pool, &pool) != 0) return false;
    return cpu_share_from(sc, w, &pool, out);
}
