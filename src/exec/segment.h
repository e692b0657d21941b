/* segment.h - one segment: a mode set up, some workloads running together.
 *
 * The runner starts the workloads, reads their events, and decides the
 * measured window: it opens `warmup` after the last workload reports its
 * first step (so a slow start never eats the measurement) and closes
 * `duration` later, when every workload is stopped with SIGTERM (SIGKILL
 * after the grace period). Workloads measured by wall time run to the end
 * instead, and the window of the others closes when the first of them ends.
 *
 * Everything goes into a hidden folder renamed into place only when the
 * segment is complete, so a crash never leaves a half-written segment that
 * looks finished. */
#ifndef COTENANT_SEGMENT_H
#define COTENANT_SEGMENT_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "exec/executor.h"
#include "mode/mode.h"
#include "plan/plan.h"
#include "scenario/scenario.h"
#include "telemetry/gpu_reader.h"
#include "util/err.h"

typedef struct {
    int64_t t0_ns, window_start_ns, window_end_ns; /* 0 = not (yet) known */
    int running;
} segment_progress;

typedef struct {
    const scenario *sc;
    const plan_segment *seg;
    mode_state *mode;
    const char *run_dir;
    volatile sig_atomic_t *stop_requests;  /* >0: stop; >1: stop without grace */
    void (*on_tick)(void *arg, const segment_progress *p);
    void *tick_arg;
    gpu_reader *gpu;        /* sampled into telemetry.csv while the segment runs; NULL: no telemetry */
    executor *ex;           /* where the workloads run (executor.h) */
} segment_job;

typedef struct {
    int failures;          /* workloads that failed */
    bool interrupted;
    char dir[PATH_MAX];    /* where the segment ended up */
    json_t *failed;        /* [{workload, reason}] */
} segment_outcome;

/* Returns 0 when the segment ran (failures are in the outcome), -1 when it
 * could not be run at all (err says why). */
int segment_run(const segment_job *job, segment_outcome *out, cot_err *err);

#endif
