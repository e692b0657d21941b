/* config_gpu.h - a sweep configuration's settings of the whole GPU (the
 * driver's timeslice, the compute mode): set before its mode is set up and
 * put back after it is torn down, so that every other configuration, the
 * baselines included, runs with the GPU as it was.
 *
 * The values before go to the results folder first
 * (gpu-settings-config.json, gpuset/gpu_policy.h); a run killed outright
 * leaves them there for `cotenant mode restore --state FILE`. The run asks
 * for --allow-gpu-settings before any of this (cli/cmd_run.c). */
#ifndef COTENANT_CONFIG_GPU_H
#define COTENANT_CONFIG_GPU_H

#include <stdio.h>
#include <jansson.h>

#include "host/host.h"
#include "scenario/scenario.h"
#include "util/err.h"

/* 0 where configuration m sets nothing of the GPU's, or once it is set,
 * with what was set and what it was into info's "gpu_settings"; -1 with
 * err, and nothing left changed. */
int config_gpu_up(const scenario *sc, int m, const host_info *host, const char *run_dir, json_t *info, cot_err *err);
/* Puts back what config_gpu_up set; where that fails, a warning names the
 * state file to restore from. Safe where nothing was set. */
void config_gpu_down(const scenario *sc, int m, const host_info *host, const char *run_dir);
/* For --plan: what configuration m would set, and, on a GPU, each NVML
 * call or nvidia-smi command, changing nothing. */
void config_gpu_plan(const scenario *sc, int m, const host_info *host, FILE *out);

#endif
