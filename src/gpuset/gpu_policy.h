/* gpu_policy.h - a GPU's compute mode and the driver's timeslice: read,
 * changed behind an explicit request, and put back.
 *
 * The compute mode goes through NVML (nvmlDeviceGetComputeMode /
 * SetComputeMode). The timeslice has no NVML call: it is read and set with
 * `nvidia-smi compute-policy` (-l, --set-timeslice=0..3), started without a
 * shell. As with MIG, the values before are written to a state file before
 * the first change, and a failure puts them back. */
#ifndef COTENANT_GPU_POLICY_H
#define COTENANT_GPU_POLICY_H

#include <stdio.h>

#include "util/err.h"

enum { GPU_TIMESLICE_DEFAULT = 0, GPU_TIMESLICE_SHORT, GPU_TIMESLICE_MEDIUM, GPU_TIMESLICE_LONG, GPU_TIMESLICE_LEVELS };

typedef struct {
    int compute_mode; /* NVML_COMPUTE_* */
    int timeslice;    /* GPU_TIMESLICE_*, or -1 when nvidia-smi could not say */
    char timeslice_why[256]; /* why it is -1 */
} gpu_policy;

typedef struct {
    int compute_mode; /* -1: leave it */
    int timeslice;    /* -1: leave it */
} gpu_policy_change;

/* "default|short|medium|long" or 0..3; -1 when neither. */
int gpu_timeslice_parse(const char *text);
const char *gpu_timeslice_name(int level);
/* "default|exclusive-process|prohibited" (nvidia-smi -c's names too); -1 when none. */
int gpu_compute_mode_parse(const char *text);
/* The name gpu_compute_mode_parse reads back: "default", "exclusive-process", "prohibited". */
const char *gpu_compute_mode_word(int mode);

/* Reads both for GPU index; 0, or -1 with err when NVML cannot say the compute mode. */
int gpu_policy_read(int gpu_index, gpu_policy *p, cot_err *err);
/* Parses `nvidia-smi compute-policy -l` output for GPU index: the level, or -1. */
int gpu_timeslice_from_smi(const char *text, int gpu_index);

/* Saves the values before in state_path (unless it exists: the first saved
 * state is kept), then changes what c asks for. dry_run: prints the
 * operations to out and changes nothing. 0, or -1 with err (after putting
 * back what had changed). */
int gpu_policy_apply(int gpu_index, const gpu_policy_change *c, const char *state_path, int dry_run, FILE *out,
                     cot_err *err);
/* Puts back state_path's values and removes it; -2 when there is none. */
int gpu_policy_restore(int gpu_index, const char *state_path, int dry_run, FILE *out, cot_err *err);
/* $COTENANT_STATE_DIR/... as for MIG: gpu-policy-<uuid>.json. */
int gpu_policy_state_path(const char *gpu_uuid, char *out, size_t cap, cot_err *err);

#endif
