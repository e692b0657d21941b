/* runner.h - a whole run: every segment of the plan, modes set up and torn
 * down around their segments, run.json kept current after each segment. */
#ifndef COTENANT_RUNNER_H
#define COTENANT_RUNNER_H

#include <stdbool.h>

#include "exec/executor.h"
#include "host/host.h"
#include "scenario/scenario.h"
#include "util/err.h"

typedef struct {
    const scenario *sc;
    const host_info *host;
    const char *out_dir;
    json_t *command_line;    /* argv of cotenant, for run.json */
    json_t *skipped_modes;   /* [{mode, reason}] dropped before the run */
    const char *scenario_text; /* the file as given, copied into the results; may be NULL */
    size_t scenario_len;
    bool progress;           /* a live progress line on stderr */
    json_t *gpu_settings;    /* compute mode / timeslice set for the run ({"set", "before"}), or NULL */
    executor *ex;            /* where the workloads run (executor.h) */
} run_request;

/* Returns EXIT_OK, EXIT_RUN_FAILED (failures or interrupted) or EXIT_USAGE. */
int runner_run(const run_request *req, cot_err *err);

#endif
