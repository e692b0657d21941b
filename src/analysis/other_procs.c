#include "analysis/other_procs.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* The MPS server holds the GPU for the segment's MPS clients: part of the
 * mode, not a tenant. Its comm is cut to 15 characters by the kernel. */
static bool is_mps_server(const char *name)
{
    return !strncmp(name, "nvidia-cuda-mps", 15);
}

typedef struct {
    unsigned pid;
    const char *name;
    double peak_mem, sm_sum;
    int ticks, sm_n;
} other;

/* Past this many distinct processes in one window, more are not counted. */
#define OTHER_PROCS_TRACKED 64

json_t *other_procs_in_window(const telem_series *s, int64_t from_ns, int64_t to_ns)
{
    other seen[OTHER_PROCS_TRACKED];
    int n = 0, window_ticks = 0;
    for (int i = 0; i < s->nticks; i++) {
        const telem_tick *k = &s->ticks[i];
        if (k->t_ns < from_ns || k->t_ns > to_ns) continue;
        window_ticks++;
        for (int j = 0; j < k->nprocs; j++) {
            const telem_proc *p = &s->procs[k->first_proc + j];
            if (p->workload >= 0 || is_mps_server(p->name)) continue;
            other *o = NULL;
            for (int q = 0; q < n && !o; q++)
                if (seen[q].pid == p->pid && !strcmp(seen[q].name, p->name)) o = &seen[q];
            if (!o && n == OTHER_PROCS_TRACKED) continue;
            if (!o) {
                o = &seen[n++];
                *o = (other){.pid = p->pid, .name = p->name, .peak_mem = NAN};
            }
            o->ticks++;
            if (isfinite(p->mem_mib) && !(p->mem_mib <= o->peak_mem)) o->peak_mem = p->mem_mib;
            if (isfinite(p->sm_util)) o->sm_sum += p->sm_util, o->sm_n++;
        }
    }
    if (!n) return NULL;
    json_t *list = json_array();
    for (int q = 0; q < n && q < OTHER_PROCS_MAX; q++) {
        const other *o = &seen[q];
        json_t *e = json_pack("{s:I, s:s, s:f}", "pid", (json_int_t)o->pid, "process", o->name, "window_pct",
                              100.0 * o->ticks / window_ticks);
        json_object_set_new(e, "peak_memory_mib", isfinite(o->peak_mem) ? json_real(o->peak_mem) : json_null());
        json_object_set_new(e, "sm_util_pct", o->sm_n ? json_real(o->sm_sum / o->sm_n) : json_null());
        json_array_append_new(list, e);
    }
    return json_pack("{s:o, s:i}", "processes", list, "more", n > OTHER_PROCS_MAX ? n - OTHER_PROCS_MAX : 0);
}
