/* cpu_share.h - a sweep's CPU share: the CPUs a workload is confined to.
 * The CPU's counterpart of MPS's active-thread percentage, so that
 * sharing settings can be swept on CPU workloads too (docs/scenario.md,
 * "Sweeps"). Of the CPUs cotenant itself may run on, a workload with
 * cpu_percentage P gets round(P% of them), at least one, taken in order
 * after those of the workloads before it in the scenario: disjoint while
 * the shares add up to 100% or less, wrapping round past that. */
#ifndef COTENANT_CPU_SHARE_H
#define COTENANT_CPU_SHARE_H

#include <sched.h>
#include <stdbool.h>

#include "scenario/scenario.h"

/* Workload w's CPUs in *out; false where it has no share (all CPUs). */
bool cpu_share_of(const scenario *sc, int w, cpu_set_t *out);
/* The same from a given pool of CPUs (for tests). */
bool cpu_share_from(const scenario *sc, int w, const cpu_set_t *pool, cpu_set_t *out);

#endif
