/* gpu_reader.h - reads gpu_samples from NVML, one GPU at a time.
 *
 * The reader keeps what a sample needs from the one before it: GPM's
 * previous sample (its metrics are rates between two), the timestamp of the
 * last per-process utilisation sample NVML gave us, and each process's
 * last utilisation (NVML refreshes those less often than we may ask). */
#ifndef COTENANT_GPU_READER_H
#define COTENANT_GPU_READER_H

#include <stdbool.h>

#include "telemetry/gpu_sample.h"
#include "util/err.h"

#define GPU_READER_MAX_GPUS 16

typedef struct gpu_reader gpu_reader;

/* Opens the GPUs that `gpus` names: "all", or a comma-separated list of
 * NVML indices or UUIDs. NULL with err set (no driver, no such GPU). */
gpu_reader *gpu_reader_open(const char *gpus, cot_err *err);
void gpu_reader_close(gpu_reader *r);

int gpu_reader_count(const gpu_reader *r);
const char *gpu_reader_name(const gpu_reader *r, int i);
const char *gpu_reader_uuid(const gpu_reader *r, int i);
int gpu_reader_index(const gpu_reader *r, int i);
/* Whether GPU i has GPM metrics (SM activity, occupancy, tensor, DRAM). */
bool gpu_reader_has_gpm(const gpu_reader *r, int i);

/* One sample of the reader's GPU i, stamped with now. Figures NVML cannot
 * give are NAN. -1 with err only where the GPU cannot be read at all. */
int gpu_reader_read(gpu_reader *r, int i, gpu_sample *out, cot_err *err);

#endif
