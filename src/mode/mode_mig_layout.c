#include "mode/mode_mig_layout.h"

#include <stdio.h>
#include <string.h>

#include "mig/mig_discover.h"
#include "scenario/kinds.h"

static int needs_instance(const scenario *sc, int w)
{
    const workload_spec *ws = &sc->workloads[w];
    if (ws->target) return 0; /* a load generator: it sends requests, the server it drives computes */
    const builtin_kind *k = ws->kind ? kind_lookup(ws->kind) : NULL;
    return !k || k->device == DEVICE_GPU;
}

int mode_mig_layout_build(const scenario *sc, const host_info *host, mode_mig_layout *l, cot_err *why)
{
    memset(l, 0, sizeof *l);
    if (sc->device == DEVICE_CPU) return cot_errf(why, "MIG partitions a GPU; this scenario has device: cpu");
    if (!host->gpu_found) return cot_errf(why, "%s", host->gpu_why);
    if (mig_gpu_for_index(host->gpu_index, host->gpu_name, &l->g, &l->own, l->source, sizeof l->source) != 0)
        return cot_errf(why, "%s", l->source);
    const mig_profile *req[MIG_MAX_INSTANCES];
    int n = 0;
    size_t k = 0;
    for (int w = 0; w < sc->nworkloads; w++) {
        const workload_spec *ws = &sc->workloads[w];
        l->instance_of[w] = -1;
        if (!ws->mig_profile) {
            if (needs_instance(sc, w))
                return cot_errf(why, "workload %s has no mig: {profile: ...}; in the MIG modes every GPU workload needs "
                                     "one (cotenant mig profiles lists this GPU's)",
                                ws->name);
            continue;
        }
        const mig_profile *p = mig_profile_by_name(&l->g, ws->mig_profile);
        if (!p) return cot_errf(why, "workload %s: %s has no MIG profile '%s' (cotenant mig profiles lists them)", ws->name,
                                l->g.model, ws->mig_profile);
        if (n == MIG_MAX_INSTANCES) return cot_errf(why, "more than %d workloads ask for a MIG instance", MIG_MAX_INSTANCES);
        l->instance_of[w] = n;
        req[n++] = p;
        if (k < sizeof l->layout) k += (size_t)snprintf(l->layout + k, sizeof l->layout - k, "%s%s", k ? "," : "", p->name);
    }
    if (n == 0) return cot_errf(why, "no workload has mig: {profile: ...}");
    mig_plan_layout(&l->g, req, n, &l->plan);
    if (!l->plan.fits) return cot_errf(why, "the workloads' MIG layout %s does not fit %s: %s", l->layout, l->g.model, l->plan.why);
    return 0;
}
