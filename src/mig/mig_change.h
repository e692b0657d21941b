/* mig_change.h - apply a MIG layout and put back what was there before.
 *
 * Before the first change, the GPU's MIG state (mode, instances and their
 * placements) is written to a state file, atomically; a later apply keeps
 * the first file, so restore always returns to the state before cotenant
 * touched the GPU. A change refuses while any process uses the GPU, and a
 * failure at any step restores the saved state at once. */
#ifndef COTENANT_MIG_CHANGE_H
#define COTENANT_MIG_CHANGE_H

#include <stdio.h>

#include "host/nvml.h"
#include "mig/mig_ops.h"
#include "mig/mig_state.h"

typedef struct {
    const char *state_path; /* the saved state; mig_state_path's when NULL */
    const char *what;       /* "cotenant mig apply 3g.40gb,..." for the state file */
    int dry_run;            /* print the operations, change nothing, write nothing */
    FILE *out;              /* progress and the dry run's list; NULL: silent */
} mig_change_opts;

/* The state file for a GPU: $COTENANT_STATE_DIR, else $XDG_STATE_HOME/cotenant,
 * else ~/.local/state/cotenant; named mig-<GPU uuid>.json. */
int mig_state_path(const char *gpu_uuid, char *out, size_t cap, cot_err *err);

/* 1 when a process uses the GPU or one of its MIG devices (listed in why:
 * pids and names), 0 when none does. */
int mig_gpu_busy(const nvml_api *n, nvml_device d, char *why, size_t cap);

/* To plan's layout, or with plan NULL to MIG disabled. 0, or -1 with err
 * (refused, or failed and restored, or failed and not restored: it says). */
int mig_apply(const nvml_api *n, nvml_device d, const mig_gpu *g, const mig_plan *plan, const mig_change_opts *o,
              mig_state *after, cot_err *err);
/* Back to the saved state, then the state file is removed. 0; -1 with err;
 * -2 when nothing is saved. */
int mig_restore(const nvml_api *n, nvml_device d, const mig_gpu *g, const mig_change_opts *o, mig_state *after,
                cot_err *err);

#endif
