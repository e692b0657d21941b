#include "analysis/gpu_figures.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "analysis/stats.h"

/* The energy counter at t, interpolated between the samples around it;
 * t must lie within the samples that have a reading. */
static double energy_at(const telem_series *s, int64_t t)
{
    const telem_tick *prev = NULL;
    for (int i = 0; i < s->nticks; i++) {
        const telem_tick *k = &s->ticks[i];
        if (!isfinite(k->energy_j)) continue;
        if (k->t_ns >= t) {
            if (!prev || k->t_ns == t) return k->energy_j;
            double f = (double)(t - prev->t_ns) / (double)(k->t_ns - prev->t_ns);
            return prev->energy_j + f * (k->energy_j - prev->energy_j);
        }
        prev = k;
    }
    return prev ? prev->energy_j : NAN;
}

/* Energy over [a, b]: the counter's difference over the part the samples
 * cover, plus the mean power over any part they miss (the interval may
 * begin before the first sample). Without a counter, mean power x time. */
static double energy_over(const telem_series *s, int64_t a, int64_t b, double mean_power)
{
    int64_t first = 0, last = 0;
    for (int i = 0; i < s->nticks; i++)
        if (isfinite(s->ticks[i].energy_j)) {
            if (!first) first = s->ticks[i].t_ns;
            last = s->ticks[i].t_ns;
        }
    double span = (double)(b - a) / 1e9;
    int64_t lo = a > first ? a : first, hi = b < last ? b : last;
    if (!first || hi <= lo) return mean_power * span;
    double e = energy_at(s, hi) - energy_at(s, lo);
    if (!(e >= 0)) return mean_power * span; /* the counter went back: the driver reloaded */
    double missed = span - (double)(hi - lo) / 1e9;
    if (missed > 0) e += isfinite(mean_power) ? mean_power * missed : NAN;
    return e;
}

void gpu_figures_compute(const telem_series *s, int nw, int64_t a, int64_t b, gpu_figures *out)
{
    memset(out, 0, sizeof *out);
    double su = 0, ss = 0, sp = 0, sc = 0, wsm[SCENARIO_MAX_WORKLOADS] = {0};
    int nu = 0, ns = 0, np = 0, nc = 0;
    out->temp_c_max = NAN;
    bool wl_util_seen[SCENARIO_MAX_WORKLOADS] = {false};
    out->peak_mem_mib = NAN;
    for (int w = 0; w < SCENARIO_MAX_WORKLOADS; w++) out->wl_peak_mem_mib[w] = out->wl_sm_util[w] = NAN;
    for (int i = 0; i < s->nticks; i++) {
        const telem_tick *k = &s->ticks[i];
        if (isfinite(k->mem_used_mib) && !(k->mem_used_mib <= out->peak_mem_mib)) out->peak_mem_mib = k->mem_used_mib;
        double mem[SCENARIO_MAX_WORKLOADS] = {0}, sm[SCENARIO_MAX_WORKLOADS] = {0};
        bool mem_seen[SCENARIO_MAX_WORKLOADS] = {false};
        for (int j = 0; j < k->nprocs; j++) {
            const telem_proc *p = &s->procs[k->first_proc + j];
            if (p->workload < 0 || p->workload >= nw) continue;
            if (isfinite(p->mem_mib)) mem[p->workload] += p->mem_mib, mem_seen[p->workload] = true;
            if (isfinite(p->sm_util)) sm[p->workload] += p->sm_util, wl_util_seen[p->workload] |= k->t_ns >= a && k->t_ns <= b;
        }
        for (int w = 0; w < nw; w++)
            if (mem_seen[w] && !(mem[w] <= out->wl_peak_mem_mib[w])) out->wl_peak_mem_mib[w] = mem[w];
        if (k->t_ns < a || k->t_ns > b) continue;
        out->nticks++;
        stats_add_finite(k->util_gpu, &su, &nu);
        stats_add_finite(k->sm_active, &ss, &ns);
        stats_add_finite(k->power_w, &sp, &np);
        stats_add_finite(k->sm_clock_mhz, &sc, &nc);
        if (isfinite(k->temp_c) && !(k->temp_c <= out->temp_c_max)) out->temp_c_max = k->temp_c;
        if (isfinite(k->throttle) && k->throttle >= 0) {
            out->throttle |= (unsigned long long)k->throttle;
            out->throttle_known = true;
        }
        /* a workload with no process on the GPU at this tick used none of it */
        for (int w = 0; w < nw; w++) wsm[w] += sm[w];
    }
    out->util_gpu = nu ? su / nu : NAN;
    out->sm_active = ns ? ss / ns : NAN;
    out->power_w = np ? sp / np : NAN;
    out->sm_clock_mhz = nc ? sc / nc : NAN;
    for (int w = 0; w < nw; w++)
        if (wl_util_seen[w]) out->wl_sm_util[w] = wsm[w] / out->nticks;
    out->energy_j = b > a && s->nticks ? energy_over(s, a, b, out->power_w) : NAN;
}

const char *gpu_energy_shares(const gpu_figures *f, const int *members, int n, double *share)
{
    double total = 0;
    bool all = true;
    for (int k = 0; k < n; k++) {
        double u = f->wl_sm_util[members[k]];
        all &= isfinite(u);
        if (isfinite(u)) total += u;
    }
    if (all && total > 0) {
        for (int k = 0; k < n; k++) share[k] = f->wl_sm_util[members[k]] / total;
        return "sm_util";
    }
    for (int k = 0; k < n; k++) share[k] = 1.0 / n;
    return "equal";
}
