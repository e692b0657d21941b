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
    /* Adaptive repeats: called after each repeat with the modes still
     * running (active[m]); it may clear some, each with its reason in
     * why[m], and returns true to stop the run there, with its reason in
     * *stop_why. The segments not run are "skipped" in run.json. NULL: a
     * fixed number of repeats. */
    bool (*after_repeat)(void *arg, int repeat, bool *active, char (*why)[160], char *stop_why, size_t cap);
    void *after_arg;
} run_request;

/* Returns EXIT_OK, EXIT_RUN_FAILED (failures or interrupted) or EXIT_USAGE. */
int runner_run(const run_request *req, cot_err *err);

#endif
