/* mode_mig_layout.h - what the two MIG modes share: the scenario's layout.
 *
 * Each workload with `mig: {profile: ...}` gets one GPU instance of that
 * profile, in the scenario's order; a load generator (a workload that drives
 * a server) or a CPU workload needs none; any other workload without a
 * profile is an error, since it would have no instance to run on. */
#ifndef COTENANT_MODE_MIG_LAYOUT_H
#define COTENANT_MODE_MIG_LAYOUT_H

#include "host/host.h"
#include "mig/mig_plan.h"
#include "scenario/scenario.h"
#include "util/err.h"

typedef struct {
    mig_gpu g;
    int own;                                /* g is the GPU's own, through NVML */
    char source[768];                       /* where g came from */
    char layout[512];                       /* "3g.40gb,2g.20gb" */
    mig_plan plan;                          /* fits, when built */
    int instance_of[SCENARIO_MAX_WORKLOADS]; /* index into plan.inst, or -1 */
} mode_mig_layout;

/* 0 with a plan that fits, or -1 with why (no profile, not MIG-capable,
 * an unknown profile, or the reason it does not fit). */
int mode_mig_layout_build(const scenario *sc, const host_info *host, mode_mig_layout *l, cot_err *why);

#endif
