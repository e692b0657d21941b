#include "analysis/mps_clients.h"

mps_client_count mps_clients_of(const telem_series *s, int w, int64_t from_ns, int64_t to_ns)
{
    mps_client_count c = {0, 0};
    for (int i = 0; i < s->nticks; i++) {
        const telem_tick *k = &s->ticks[i];
        if (k->t_ns < from_ns || k->t_ns > to_ns) continue;
        for (int j = 0; j < k->nprocs; j++) {
            const telem_proc *p = &s->procs[k->first_proc + j];
            if (p->workload != w || p->mps_client < 0) continue;
            c.rows++;
            c.clients += p->mps_client;
        }
    }
    return c;
}
