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
/* "00000000:0F:00.0", or "" where NVML does not say. */
const char *gpu_reader_pci_bus_id(const gpu_reader *r, int i);
/* The driver's version ("580.95.05"), or "". */
const char *gpu_reader_driver_version(const gpu_reader *r);
int gpu_reader_index(const gpu_reader *r, int i);
/* Whether GPU i has GPM metrics (SM activity, occupancy, tensor, DRAM). */
bool gpu_reader_has_gpm(const gpu_reader *r, int i);

/* Two NVML calls cost milliseconds of CPU each on an H100 with driver 580
 * (nvmlDeviceGetTotalEnergyConsumption about 4.2 ms, per-process
 * utilisation about 2.8 ms, against 5-60 us for the others), so they are
 * made at most this often; between two energy readings the energy figure
 * is the last reading plus the power samples integrated over time. 0 reads
 * them at every sample. */
#define GPU_READER_ENERGY_EVERY_NS 1000000000LL
#define GPU_READER_PROC_UTIL_EVERY_NS 500000000LL
void gpu_reader_set_costly_intervals(gpu_reader *r, int64_t energy_ns, int64_t proc_util_ns);

/* One sample of the reader's GPU i, stamped with now. Figures NVML cannot
 * give are NAN. -1 with err only where the GPU cannot be read at all. */
int gpu_reader_read(gpu_reader *r, int i, gpu_sample *out, cot_err *err);

#endif
