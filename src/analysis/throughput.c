#include "analysis/throughput.h"

static double overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
    int64_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    return hi > lo ? (double)(hi - lo) : 0.0;
}

double window_samples(const step_rec *steps, int n, int64_t prev_ns, int64_t ws, int64_t we)
{
    double total = 0;
    int64_t prev = prev_ns;
    for (int i = 0; i < n; i++) {
        int64_t t = steps[i].t_ns;
        if (prev > 0 && t > prev) {
            total += (double)steps[i].n * overlap(prev, t, ws, we) / (double)(t - prev);
        } else if (t > ws && t <= we) {
            total += (double)steps[i].n; /* no known start: count it where it ended */
        }
        prev = t;
    }
    return total;
}

void binned_rates(const step_rec *steps, int n, int64_t prev_ns, int64_t t0, int64_t bin_ns, double *rates, int nbins)
{
    for (int b = 0; b < nbins; b++) {
        int64_t ws = t0 + (int64_t)b * bin_ns;
        rates[b] = window_samples(steps, n, prev_ns, ws, ws + bin_ns) * 1e9 / (double)bin_ns;
    }
}
