#include "analysis/throughput.h"

#include <math.h>

static double overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
    int64_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    return hi > lo ? (double)(hi - lo) : 0.0;
}

/* Each stream's samples inside [ws, we[s]] (one end per stream), into out[]. */
static void stream_samples(const step_rec *steps, int n, int64_t start_ns, int64_t ws, const int64_t *we, double *out)
{
    int64_t prev[THROUGHPUT_MAX_STREAMS];
    for (int s = 0; s < THROUGHPUT_MAX_STREAMS; s++) prev[s] = start_ns, out[s] = 0;
    for (int i = 0; i < n; i++) {
        int s = steps[i].stream;
        int64_t t = steps[i].t_ns;
        if (prev[s] > 0 && t > prev[s])
            out[s] += (double)steps[i].n * overlap(prev[s], t, ws, we[s]) / (double)(t - prev[s]);
        else if (t > ws && t <= we[s])
            out[s] += (double)steps[i].n; /* no known start: count it where it ended */
        prev[s] = t;
    }
}

double window_samples(const step_rec *steps, int n, int64_t start_ns, int64_t ws, int64_t we)
{
    int64_t end[THROUGHPUT_MAX_STREAMS];
    double per[THROUGHPUT_MAX_STREAMS], total = 0;
    for (int s = 0; s < THROUGHPUT_MAX_STREAMS; s++) end[s] = we;
    stream_samples(steps, n, start_ns, ws, end, per);
    for (int s = 0; s < THROUGHPUT_MAX_STREAMS; s++) total += per[s];
    return total;
}

window_rate window_rate_of(const step_rec *steps, int n, int64_t start_ns, int64_t ws, int64_t we)
{
    window_rate r = {0};
    bool seen[THROUGHPUT_MAX_STREAMS] = {0}, after[THROUGHPUT_MAX_STREAMS] = {0};
    int64_t last_in[THROUGHPUT_MAX_STREAMS] = {0}, end[THROUGHPUT_MAX_STREAMS];
    int inside[THROUGHPUT_MAX_STREAMS] = {0};
    for (int i = 0; i < n; i++) {
        int s = steps[i].stream;
        seen[s] = true;
        if (steps[i].t_ns > we) after[s] = true;
        else last_in[s] = steps[i].t_ns;
        inside[s] += steps[i].t_ns > ws && steps[i].t_ns <= we;
    }
    for (int s = 0; s < THROUGHPUT_MAX_STREAMS; s++) end[s] = after[s] ? we : last_in[s];
    double per[THROUGHPUT_MAX_STREAMS];
    stream_samples(steps, n, start_ns, ws, end, per);
    for (int s = 0; s < THROUGHPUT_MAX_STREAMS; s++) {
        if (!seen[s]) continue;
        r.streams++;
        if (end[s] <= ws) continue; /* silent in and after the window: no work of it there */
        if (!r.measurable || inside[s] < r.min_steps_inside) r.min_steps_inside = inside[s];
        r.measurable = true;
        r.rate += per[s] * 1e9 / (double)(end[s] - ws);
        if (!after[s] && end[s] < we) {
            r.cut++;
            if (!r.cut_end_ns || end[s] < r.cut_end_ns) r.cut_end_ns = end[s];
        }
    }
    return r;
}

void binned_rates(const step_rec *steps, int n, int64_t start_ns, int64_t t0, int64_t bin_ns, double *rates, int nbins)
{
    for (int b = 0; b < nbins; b++) {
        int64_t ws = t0 + (int64_t)b * bin_ns;
        rates[b] = window_samples(steps, n, start_ns, ws, ws + bin_ns) * 1e9 / (double)bin_ns;
    }
}

bool window_mixed_sizes(const step_rec *steps, int n, int stream, int64_t ws, int64_t we, int64_t *small, int64_t *large)
{
    int64_t lo = INT64_MAX, hi = 0;
    int count = 0;
    for (int i = 0; i < n; i++)
        if (steps[i].stream == stream && steps[i].t_ns > ws && steps[i].t_ns <= we && steps[i].n > 0) {
            if (steps[i].n < lo) lo = steps[i].n;
            if (steps[i].n > hi) hi = steps[i].n;
            count++;
        }
    if (count < 2 || hi < 4 * lo) return false;
    /* each size class must carry a tenth of the samples: a rare short last
     * batch is not a second stream */
    double mid = sqrt((double)lo * (double)hi), in_small = 0, total = 0;
    for (int i = 0; i < n; i++)
        if (steps[i].stream == stream && steps[i].t_ns > ws && steps[i].t_ns <= we && steps[i].n > 0) {
            total += (double)steps[i].n;
            if ((double)steps[i].n < mid) in_small += (double)steps[i].n;
        }
    *small = lo, *large = hi;
    return in_small * 10 >= total && (total - in_small) * 10 >= total;
}
