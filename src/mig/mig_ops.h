/* mig_ops.h - the NVML operations that turn one MIG state into another,
 * as a list made before anything is touched: --dry-run prints it, apply and
 * restore run it, and a failure says at which step it stopped.
 *
 * Order matters to the driver: compute instances go before their GPU
 * instance, every GPU instance before MIG can be disabled, and MIG must be
 * enabled before any instance is created. */
#ifndef COTENANT_MIG_OPS_H
#define COTENANT_MIG_OPS_H

#include <stdio.h>

#include "host/nvml.h"
#include "mig/mig_plan.h"
#include "mig/mig_state.h"
#include "util/err.h"

typedef enum { MIG_OP_SET_MODE, MIG_OP_DESTROY_CI, MIG_OP_DESTROY_GI, MIG_OP_CREATE_GI, MIG_OP_CREATE_CI } mig_op_kind;

typedef struct {
    mig_op_kind kind;
    unsigned mode;              /* SET_MODE: 1 enable, 0 disable */
    unsigned gi_id, ci_id;      /* DESTROY_*: the instances, by id */
    int profile_id;             /* CREATE_*: the profile's id; CREATE_CI: -1 = the one covering the whole GPU instance */
    int start, size;            /* CREATE_GI: memory slices; CREATE_CI with placed: compute slices */
    int placed;                 /* CREATE_CI: at start:size (restore), else wherever the driver puts it */
    int gi_step;                /* CREATE_CI: the CREATE_GI step whose instance it goes in */
    int slices;                 /* CREATE_CI with profile_id -1: the GPU instance's compute slices */
    char profile[MIG_NAME_MAX]; /* CREATE_GI: for people */
} mig_op;

#define MIG_MAX_OPS 64

typedef struct {
    int n;
    mig_op op[MIG_MAX_OPS];
} mig_ops;

/* From now to plan's layout: MIG enabled, every instance there destroyed,
 * the plan's GPU instances created where it placed them, each with one
 * compute instance covering it (as nvidia-smi mig -cgi ... -C does).
 * g gives the profiles' NVML ids. */
void mig_ops_for_layout(const mig_state *now, const mig_gpu *g, const mig_plan *plan, mig_ops *ops);
/* From now to MIG disabled with no instances. */
void mig_ops_for_disable(const mig_state *now, mig_ops *ops);
/* From now back to saved: every instance destroyed, saved's recreated at
 * their placements with their compute instances, the mode as saved. */
void mig_ops_for_restore(const mig_state *now, const mig_state *saved, mig_ops *ops);

/* One line: the NVML call and its arguments. */
void mig_op_describe(const mig_op *op, int gpu_index, char *buf, size_t cap);
/* Prints "  N. call" for each; the dry run. */
void mig_ops_print(const mig_ops *ops, int gpu_index, FILE *f);

/* Runs ops in order, each line to log (NULL: none) as it is done. 0, or -1
 * with err naming the step, its call and NVML's message; *done says how
 * many steps completed. */
int mig_ops_run(const nvml_api *n, nvml_device d, int gpu_index, const mig_ops *ops, FILE *log, int *done, cot_err *err);

#endif
