/* Any bytes as a segment's telemetry.csv (a results folder can be edited or
 * damaged): the loader must never crash, every process row must point into
 * its tick, and the figures computed from what loaded must hold together. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis/gpu_figures.h"
#include "analysis/telemetry_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"a", "b", "c"};
    if (size == 0) return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f) return 0;
    telem_series s;
    cot_err err;
    int rc = telem_series_read(f, "fuzz.csv", names, 3, &s, &err);
    fclose(f);
    if (rc != 0) return 0;
    int procs = 0;
    for (int i = 0; i < s.nticks; i++) {
        if (s.ticks[i].first_proc != procs || (i && s.ticks[i].t_ns <= s.ticks[i - 1].t_ns)) __builtin_trap();
        procs += s.ticks[i].nprocs;
    }
    if (procs != s.nprocs) __builtin_trap();
    for (int i = 0; i < s.nprocs; i++)
        if (s.procs[i].workload < -1 || s.procs[i].workload > 2) __builtin_trap();
    if (s.nticks) {
        gpu_figures g;
        int64_t a = s.ticks[0].t_ns, b = s.ticks[s.nticks - 1].t_ns;
        gpu_figures_compute(&s, 3, a + (b - a) / 3, b + 1000, &g);
        int members[3] = {0, 1, 2};
        double share[3];
        gpu_energy_shares(&g, members, 3, share);
        if (fabs(share[0] + share[1] + share[2] - 1) > 1e-9) __builtin_trap();
    }
    telem_series_free(&s);
    return 0;
}
