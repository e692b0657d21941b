/* mode.h - a sharing mode: how workloads are placed on the GPU.
 *
 * Every mode implements the same few functions (DESIGN.md):
 *   check    can it run here, and if not, why (one sentence);
 *   prepare  set the GPU up, remembering what to restore;
 *   env_for  what a workload's process gets (CUDA_VISIBLE_DEVICES, CUDA_MPS_*);
 *   teardown restore exactly what prepare changed; safe to call twice and
 *            after a failed prepare, and called on every path out of a run.
 * What a mode is, as data (shares, cpu_ok, caveat, how containers express
 * it), is its line in mode/desc/mode_desc.c. Adding a mode is one file
 * here, one line in the table of mode_table.c and one in mode_desc.c
 * (docs/architecture.md has the recipe). */
#ifndef COTENANT_MODE_H
#define COTENANT_MODE_H

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

#include "host/host.h"
#include "mode/desc/mode_desc.h"
#include "scenario/scenario.h"
#include "util/err.h"
#include "util/strvec.h"

typedef struct mode_ops mode_ops;

typedef struct {
    const mode_ops *ops;
    const scenario *sc;
    const host_info *host;
    char run_dir[4096];
    json_t *info;      /* what prepare found and did; goes into segment.json */
    void *priv;        /* the mode's own state */
    pid_t keep_pids[4]; /* processes the mode started that outlive segments (daemons) */
    int nkeep;
    bool prepared;
} mode_state;

struct mode_ops {
    const char *name;  /* its line in the description table (mode/desc/mode_desc.h) */
    int (*check)(const scenario *sc, const host_info *host, cot_err *why);
    int (*prepare)(mode_state *st, cot_err *err);
    int (*env_for)(mode_state *st, const workload_spec *w, strvec *env, cot_err *err);
    void (*teardown)(mode_state *st);
};

const mode_ops *mode_lookup(const char *name);
/* A mode's description: never NULL for a mode of the table. */
const mode_desc *mode_desc_of(const mode_ops *m);
int mode_count(void);
const mode_ops *mode_at(int i);

/* Shared by the GPU modes: CUDA_VISIBLE_DEVICES pointing at the scenario's GPU. */
int mode_env_visible_gpu(const mode_state *st, strvec *env, cot_err *err);
/* env_for and teardown of a mode that changes nothing: the workload gets the
 * scenario's GPU, and there is nothing to undo. */
int mode_env_gpu_only(mode_state *st, const workload_spec *w, strvec *env, cot_err *err);
void mode_teardown_nothing(mode_state *st);
/* Shared by every mode's check: a GPU scenario needs the GPU it names. */
int mode_check_gpu(const scenario *sc, const host_info *host, cot_err *why);

/* nvidia-cuda-mps-control: on PATH, else where drivers put it. 0, or -1. */
int mode_mps_find_control(char *out, size_t cap);
/* An MPS client's own limits from the scenario (CUDA_MPS_ACTIVE_THREAD_PERCENTAGE,
 * CUDA_MPS_PINNED_DEVICE_MEM_LIMIT for device 0). 0, or -1 when out of memory. */
int mode_mps_client_limits(const workload_spec *w, strvec *env);

#endif
