/* wl_loop.h - the measured loop every built-in training workload runs:
 * warm-up steps, then steps until --duration/--steps or SIGTERM, each one
 * reported through the event protocol with its loss, and a summary line at
 * the end (also after SIGTERM, which ends the loop at the next step
 * boundary). */
#ifndef COTENANT_WL_LOOP_H
#define COTENANT_WL_LOOP_H

#include <stdint.h>

#include "wl_opts.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *unit;         /* "images", "sequences" */
    int64_t samples_per_step; /* the batch */
    /* One step, finished on the device when it returns. Returns 0, or -1
     * after printing what failed. *loss is the step's loss (NAN if none). */
    int (*step)(void *ctx, float *loss);
    void *ctx;
} wl_task;

typedef struct {
    long steps;
    double seconds;
    double per_s;                 /* samples a second over the timed steps */
    double step_ms_p50, step_ms_p99;
    float first_loss, last_loss;  /* of the timed steps */
} wl_summary;

/* Returns 0, or -1 if a step failed. */
int wl_run(const wl_opts *o, const wl_task *t, wl_summary *s);

#ifdef __cplusplus
}
#endif

#endif
