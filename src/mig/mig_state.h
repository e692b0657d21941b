/* mig_state.h - what is on a GPU's MIG side now: the mode (current and
 * pending), its GPU instances with their compute instances, and the MIG
 * devices CUDA sees (MIG-<uuid>), read through NVML; and the same as JSON,
 * which is what cotenant saves before it changes anything. */
#ifndef COTENANT_MIG_STATE_H
#define COTENANT_MIG_STATE_H

#include <jansson.h>

#include "host/nvml.h"
#include "mig/mig_plan.h"
#include "mig/mig_profiles.h"
#include "util/err.h"

#define MIG_MAX_CI 8
#define MIG_MAX_GI 8
#define MIG_MAX_DEVICES 16

typedef struct {
    unsigned id, profile_id;
    int start, size; /* compute slices within the GPU instance */
} mig_ci_state;

typedef struct {
    unsigned id, profile_id;
    int start, size; /* memory slices */
    char profile[MIG_NAME_MAX];
    int nci;
    mig_ci_state ci[MIG_MAX_CI];
} mig_gi_state;

typedef struct {
    unsigned gi, ci;
    char uuid[96], name[64];
} mig_device_state;

typedef struct {
    char gpu_uuid[96];
    int gpu_index;
    unsigned mode_current, mode_pending; /* 1: enabled */
    int ngi;
    mig_gi_state gi[MIG_MAX_GI]; /* by memory slice */
    int ndev;
    mig_device_state dev[MIG_MAX_DEVICES];
} mig_state;

/* Reads GPU d's MIG state; g gives the GPU-instance profile ids to list
 * (from mig_gpu_from_nvml). 0, or -1 with the NVML call that failed. */
int mig_state_read(const nvml_api *n, nvml_device d, const mig_gpu *g, mig_state *s, cot_err *err);
/* The MIG device (MIG-<uuid>) of GPU instance gi, or NULL. */
const mig_device_state *mig_state_device(const mig_state *s, unsigned gi);
/* The GPU instance placed at memory slice start, or NULL. */
const mig_gi_state *mig_state_gi_at(const mig_state *s, int start);

json_t *mig_state_to_json(const mig_state *s);
/* 0, or -1 with err naming the field that is missing or wrong. */
int mig_state_from_json(const json_t *j, mig_state *s, cot_err *err);
/* "MIG enabled; 3g.40gb at 0:4 (GPU instance 1, MIG-...), ..." for people. */
void mig_state_print(const mig_state *s, FILE *f);

#endif
