/* throughput.h - samples finished inside a time window.
 *
 * A step event at t_i with n_i samples says n_i samples finished during
 * (t_{i-1}, t_i], t_{i-1} being the previous step of the same stream (a
 * workload's threads may each report their own: the step's "stream"). A
 * window that cuts through a step gets the overlapping fraction of its
 * samples, so a 30 s window of 70 ms steps is not off by a whole step at
 * either edge. A stream that sent no step after the window's end (it was
 * stopped mid-step, or ended) is measured up to its last step inside the
 * window, so the step it never finished costs it nothing. */
#ifndef COTENANT_THROUGHPUT_H
#define COTENANT_THROUGHPUT_H

#include <stdbool.h>
#include <stdint.h>

/* Streams a workload may name; steps of more are not read. */
#define THROUGHPUT_MAX_STREAMS 64

typedef struct {
    int64_t t_ns;
    int64_t n;
    int stream; /* 0..THROUGHPUT_MAX_STREAMS-1; 0 also for steps that name none */
} step_rec;

typedef struct {
    double rate;          /* samples a second, the streams' rates summed */
    int streams;          /* streams that stepped */
    int cut;              /* streams measured up to their last step inside the window */
    int64_t cut_end_ns;   /* the earliest of those last steps; 0: none cut */
    bool measurable;      /* some stream stepped inside the window or after it */
    int min_steps_inside; /* the fewest steps a measured stream finished inside the window */
} window_rate;

/* steps sorted by time; start_ns: when the streams began (the start event),
 * or 0 when unknown (each stream's first step then counts as an instant). */
double window_samples(const step_rec *steps, int n, int64_t start_ns, int64_t ws_ns, int64_t we_ns);
/* The rate in [ws, we], each stream cut at its last step where it sent none after we. */
window_rate window_rate_of(const step_rec *steps, int n, int64_t start_ns, int64_t ws_ns, int64_t we_ns);
/* Whether the steps of one stream inside [ws, we] come in two sizes at
 * least 4 times apart, each carrying a tenth of the samples (threads of different
 * step sizes reporting as one stream, whose edges are then apportioned
 * against each other's steps); the two typical sizes into small, large. */
bool window_mixed_sizes(const step_rec *steps, int n, int stream, int64_t ws_ns, int64_t we_ns, int64_t *small,
                        int64_t *large);
/* Rate per second in consecutive bins of bin_ns from t0 (for plots). */
void binned_rates(const step_rec *steps, int n, int64_t start_ns, int64_t t0_ns, int64_t bin_ns, double *rates, int nbins);

#endif
