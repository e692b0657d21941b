/* gpu_figures.h - what the GPU did over an interval of a segment, from the
 * segment's telemetry, and how its energy is shared among the workloads.
 * docs/metrics.md defines each figure. */
#ifndef COTENANT_GPU_FIGURES_H
#define COTENANT_GPU_FIGURES_H

#include "analysis/telemetry_load.h"
#include "scenario/scenario.h"

typedef struct {
    int nticks;                  /* samples inside the interval */
    double util_gpu, sm_active;  /* means over the interval, %; NAN: not available */
    double power_w;              /* mean over the interval */
    double energy_j;             /* used over the interval */
    double peak_mem_mib;         /* the GPU's, over the whole segment */
    double sm_clock_mhz;         /* mean over the interval; NAN: not available */
    double temp_c_max;           /* the hottest sample of the interval */
    unsigned long long throttle; /* every clocks event reason seen in the interval, OR'd */
    bool throttle_known;
    double wl_sm_util[SCENARIO_MAX_WORKLOADS];      /* each workload's processes' SM use, mean over the interval */
    double wl_peak_mem_mib[SCENARIO_MAX_WORKLOADS]; /* each workload's processes' memory, peak over the segment */
} gpu_figures;

void gpu_figures_compute(const telem_series *s, int nworkloads, int64_t from_ns, int64_t to_ns, gpu_figures *out);

/* Fills share[k] for each of the n workloads members[k] (fractions summing
 * to 1): by their SM use where NVML gave it for every one of them and it is
 * not all zero, else equal shares. Returns the rule used, "sm_util" or
 * "equal". */
const char *gpu_energy_shares(const gpu_figures *f, const int *members, int n, double *share);

#endif
