/* throughput.h - samples finished inside a time window.
 *
 * A step event at t_i with n_i samples says n_i samples finished during
 * (t_{i-1}, t_i]. A window that cuts through a step gets the overlapping
 * fraction of its samples, so a 30 s window of 70 ms steps is not off by a
 * whole step at either edge. */
#ifndef COTENANT_THROUGHPUT_H
#define COTENANT_THROUGHPUT_H

#include <stdint.h>

typedef struct {
    int64_t t_ns;
    int64_t n;
} step_rec;

/* steps sorted by time; prev_ns: when the first step began (the start
 * event), or 0 when unknown (the first step then counts as an instant). */
double window_samples(const step_rec *steps, int n, int64_t prev_ns, int64_t ws_ns, int64_t we_ns);
/* Rate per second in consecutive bins of bin_ns from t0 (for plots). */
void binned_rates(const step_rec *steps, int n, int64_t prev_ns, int64_t t0_ns, int64_t bin_ns, double *rates, int nbins);

#endif
