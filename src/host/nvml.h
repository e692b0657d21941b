/* nvml.h - the few NVML calls cotenant needs, loaded at run time.
 *
 * libnvidia-ml.so.1 comes with the driver, so it is opened with dlopen and
 * its functions kept in a table with cotenant's own declarations: cotenant
 * builds without the NVIDIA headers and runs (and says why) without a
 * driver. COTENANT_NVML_LIBRARY names another library (a test double). */
#ifndef COTENANT_NVML_H
#define COTENANT_NVML_H

#include <stdbool.h>

#include "util/err.h"

typedef struct nvml_device_st *nvml_device;

typedef struct {
    unsigned long long total, free, used;
} nvml_memory;

enum { NVML_COMPUTE_DEFAULT = 0, NVML_COMPUTE_EXCLUSIVE_THREAD = 1, NVML_COMPUTE_PROHIBITED = 2,
       NVML_COMPUTE_EXCLUSIVE_PROCESS = 3 };

typedef struct {
    int (*init)(void);
    int (*shutdown)(void);
    const char *(*error_string)(int);
    int (*device_count)(unsigned *);
    int (*device_by_index)(unsigned, nvml_device *);
    int (*device_by_uuid)(const char *, nvml_device *);
    int (*device_name)(nvml_device, char *, unsigned);
    int (*device_uuid)(nvml_device, char *, unsigned);
    int (*device_index)(nvml_device, unsigned *);
    int (*device_memory)(nvml_device, nvml_memory *);
    int (*device_compute_mode)(nvml_device, int *);
    int (*driver_version)(char *, unsigned);
    int (*cuda_driver_version)(int *);
} nvml_api;

/* Loads and initialises NVML once; NULL with err set where it cannot. */
const nvml_api *nvml_get(cot_err *err);
/* "the NVML call X failed: <nvmlErrorString>" into err. */
int nvml_fail(cot_err *err, const char *call, int rc);
const char *nvml_compute_mode_name(int mode);

#endif
