/* mig_discover.h - a GPU's own MIG profiles, as its driver answers through
 * NVML (nvmlDeviceGetGpuInstanceProfileInfoV and
 * nvmlDeviceGetGpuInstancePossiblePlacements_v2): exact memory sizes, SM
 * counts and placements, also with MIG disabled. */
#ifndef COTENANT_MIG_DISCOVER_H
#define COTENANT_MIG_DISCOVER_H

#include <stddef.h>

#include "host/nvml.h"
#include "mig/mig_profiles.h"

/* Fills g (its model is the device's name) with every profile the driver
 * reports; 0, or -1 with why (the call that failed and its message, or no
 * profiles at all: the GPU has no MIG). */
int mig_gpu_from_nvml(const nvml_api *n, nvml_device d, const char *device_name, mig_gpu *g, char *why, size_t cap);

/* GPU index's profiles: its own through NVML where it gives them, else the
 * built-in table its name matches. source says which, and why. 0, or -1
 * with why (no NVML, or a GPU without MIG). own: 1 when from NVML (only
 * those carry the ids that changing MIG needs). */
int mig_gpu_for_index(int index, const char *device_name, mig_gpu *g, int *own, char *source, size_t cap);

#endif
