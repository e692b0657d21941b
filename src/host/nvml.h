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

/* nvmlPciInfo_t, as nvmlDeviceGetPciInfo_v3 fills it. */
typedef struct {
    char bus_id_legacy[16];
    unsigned domain, bus, device;
    unsigned pci_device_id; /* device id << 16 | vendor id: 0x233010DE */
    unsigned pci_subsystem_id;
    char bus_id[32];        /* "00000000:0F:00.0" */
} nvml_pci_info;

typedef struct nvml_device_st *nvml_device;

typedef struct {
    unsigned long long total, free, used;
} nvml_memory;

/* nvmlDeviceGetMemoryInfo_v2's: "used" without the memory the driver
 * reserves, as nvidia-smi reports it (v1's "used" includes it). */
typedef struct {
    unsigned version;
    unsigned long long total, reserved, free, used;
} nvml_memory_v2;
#define NVML_MEMORY_V2_VERSION ((unsigned)(sizeof(nvml_memory_v2) | (2u << 24)))

enum { NVML_COMPUTE_DEFAULT = 0, NVML_COMPUTE_EXCLUSIVE_THREAD = 1, NVML_COMPUTE_PROHIBITED = 2,
       NVML_COMPUTE_EXCLUSIVE_PROCESS = 3 };

typedef struct {
    unsigned gpu, memory; /* percent of the last sample period */
} nvml_utilization;

/* Per process: memory from the running-process list, utilisation from
 * nvmlDeviceGetProcessUtilization's samples. */
typedef struct {
    unsigned pid;
    unsigned long long used_gpu_memory;
    unsigned gpu_instance_id, compute_instance_id;
} nvml_process_info;

typedef struct {
    unsigned pid;
    unsigned long long timestamp_us;
    unsigned sm_util, mem_util, enc_util, dec_util;
} nvml_process_util;

/* Hopper's GPU performance monitoring (GPM): metrics between two samples. */
typedef struct nvml_gpm_sample_st *nvml_gpm_sample;
enum { NVML_GPM_SM_UTIL = 2, NVML_GPM_SM_OCCUPANCY = 3, NVML_GPM_ANY_TENSOR_UTIL = 5, NVML_GPM_DRAM_BW_UTIL = 10,
       NVML_GPM_PCIE_TX_PER_SEC = 20, NVML_GPM_PCIE_RX_PER_SEC = 21 };
/* The metrics array is as long as in the newest header (CUDA 13): NVML
 * reads numMetrics entries of it. */
#define NVML_GPM_METRIC_ARRAY 333
typedef struct {
    unsigned metric_id;
    int nvml_return;
    double value;
    struct {
        char *short_name, *long_name, *unit;
    } info;
} nvml_gpm_metric;
typedef struct {
    unsigned version; /* 1 */
    unsigned num_metrics;
    nvml_gpm_sample sample1, sample2;
    nvml_gpm_metric metrics[NVML_GPM_METRIC_ARRAY];
} nvml_gpm_metrics_get;
typedef struct {
    unsigned version; /* 1 */
    unsigned is_supported_device;
} nvml_gpm_support;

/* nvmlGpuInstanceProfileInfo_v2_t and nvmlGpuInstancePlacement_t */
typedef struct {
    unsigned version; /* NVML_GI_PROFILE_INFO_V2 */
    unsigned id, is_p2p_supported, slice_count, instance_count, multiprocessor_count, copy_engine_count,
        decoder_count, encoder_count, jpeg_count, ofa_count;
    unsigned long long memory_size_mb;
    char name[96];
} nvml_gi_profile_info;
#define NVML_GI_PROFILE_INFO_V2 ((unsigned)(sizeof(nvml_gi_profile_info) | (2u << 24)))
typedef struct {
    unsigned start, size;
} nvml_gi_placement;
/* Profiles are asked for by index (NVML_GPU_INSTANCE_PROFILE_1_SLICE = 0 ...;
 * this many cover every one defined so far); the answer's id, which
 * differs, is what the placement and instance calls take. */
#define NVML_GI_PROFILE_INDICES 16

/* Existing and new MIG instances (nvmlGpuInstanceInfo_t,
 * nvmlComputeInstanceInfo_t as nvmlComputeInstanceGetInfo_v2 fills it,
 * nvmlComputeInstanceProfileInfo_v2_t). */
typedef struct nvml_gpu_instance_st *nvml_gpu_instance;
typedef struct nvml_compute_instance_st *nvml_compute_instance;
typedef struct {
    nvml_device device;
    unsigned id, profile_id;
    nvml_gi_placement placement;
} nvml_gi_info;
typedef struct {
    nvml_device device;
    nvml_gpu_instance gpu_instance;
    unsigned id, profile_id;
    nvml_gi_placement placement; /* compute slices within the GPU instance */
} nvml_ci_info;
typedef struct {
    unsigned version; /* NVML_CI_PROFILE_INFO_V2 */
    unsigned id, slice_count, instance_count, multiprocessor_count, shared_copy_engine_count, shared_decoder_count,
        shared_encoder_count, shared_jpeg_count, shared_ofa_count;
    char name[96];
} nvml_ci_profile_info;
#define NVML_CI_PROFILE_INFO_V2 ((unsigned)(sizeof(nvml_ci_profile_info) | (2u << 24)))
/* NVML_COMPUTE_INSTANCE_PROFILE_1_SLICE = 0 ... _COUNT; engine profile SHARED = 0 */
#define NVML_CI_PROFILE_INDICES 10

enum { NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2, NVML_TEMPERATURE_GPU = 0 };
enum { NVML_SUCCESS = 0, NVML_ERROR_NO_PERMISSION = 4, NVML_ERROR_NOT_SUPPORTED = 3, NVML_ERROR_NOT_FOUND = 6,
       NVML_ERROR_INSUFFICIENT_SIZE = 7, NVML_ERROR_IN_USE = 19 };

typedef struct {
    int (*init)(void);
    int (*shutdown)(void);
    const char *(*error_string)(int);
    int (*device_count)(unsigned *);
    int (*device_by_index)(unsigned, nvml_device *);
    int (*device_by_uuid)(const char *, nvml_device *);
    int (*device_name)(nvml_device, char *, unsigned);
    int (*device_uuid)(nvml_device, char *, unsigned);
    int (*pci_info)(nvml_device, nvml_pci_info *); /* optional: NULL where the driver lacks it */
    int (*device_index)(nvml_device, unsigned *);
    int (*device_memory)(nvml_device, nvml_memory *);
    int (*device_compute_mode)(nvml_device, int *);
    int (*driver_version)(char *, unsigned);
    int (*cuda_driver_version)(int *);
    /* The sampler's calls: NULL where the driver lacks them, and the
     * figure is then reported as not available. */
    int (*device_memory_v2)(nvml_device, nvml_memory_v2 *);
    int (*utilization)(nvml_device, nvml_utilization *);
    int (*power_usage)(nvml_device, unsigned *);                    /* mW */
    int (*total_energy)(nvml_device, unsigned long long *);         /* mJ since the driver loaded */
    int (*clock_info)(nvml_device, int, unsigned *);                /* MHz */
    int (*temperature)(nvml_device, int, unsigned *);               /* C */
    int (*clocks_event_reasons)(nvml_device, unsigned long long *); /* throttle reasons */
    int (*compute_processes)(nvml_device, unsigned *, nvml_process_info *);
    /* the compute processes that are MPS clients (the same list less the rest) */
    int (*mps_processes)(nvml_device, unsigned *, nvml_process_info *);
    int (*process_utilization)(nvml_device, nvml_process_util *, unsigned *, unsigned long long);
    int (*mig_mode)(nvml_device, unsigned *, unsigned *);
    int (*max_mig_devices)(nvml_device, unsigned *);
    int (*mig_device_by_index)(nvml_device, unsigned, nvml_device *);
    int (*gpu_instance_id)(nvml_device, unsigned *);
    int (*gi_profile_info)(nvml_device, unsigned, nvml_gi_profile_info *);
    int (*gi_placements)(nvml_device, unsigned, nvml_gi_placement *, unsigned *);
    /* MIG changes (cotenant mig apply / restore) and their reads */
    int (*set_mig_mode)(nvml_device, unsigned, int *activation_status);
    int (*gpu_instances)(nvml_device, unsigned profile_id, nvml_gpu_instance *, unsigned *);
    int (*gpu_instance_by_id)(nvml_device, unsigned, nvml_gpu_instance *);
    int (*gi_info)(nvml_gpu_instance, nvml_gi_info *);
    int (*create_gi_with_placement)(nvml_device, unsigned profile_id, const nvml_gi_placement *, nvml_gpu_instance *);
    int (*gi_destroy)(nvml_gpu_instance);
    int (*ci_profile_info)(nvml_gpu_instance, unsigned profile, unsigned engine_profile, nvml_ci_profile_info *);
    int (*compute_instances)(nvml_gpu_instance, unsigned profile_id, nvml_compute_instance *, unsigned *);
    int (*compute_instance_by_id)(nvml_gpu_instance, unsigned, nvml_compute_instance *);
    int (*create_ci)(nvml_gpu_instance, unsigned profile_id, nvml_compute_instance *);
    int (*create_ci_with_placement)(nvml_gpu_instance, unsigned profile_id, const nvml_gi_placement *,
                                    nvml_compute_instance *);
    int (*ci_info)(nvml_compute_instance, nvml_ci_info *);
    int (*ci_destroy)(nvml_compute_instance);
    int (*compute_instance_id)(nvml_device, unsigned *);
    int (*graphics_processes)(nvml_device, unsigned *, nvml_process_info *);
    int (*set_compute_mode)(nvml_device, int);
    int (*gpm_query_support)(nvml_device, nvml_gpm_support *);
    int (*gpm_sample_alloc)(nvml_gpm_sample *);
    int (*gpm_sample_free)(nvml_gpm_sample);
    int (*gpm_sample_get)(nvml_device, nvml_gpm_sample);
    int (*gpm_mig_sample_get)(nvml_device, unsigned, nvml_gpm_sample);
    int (*gpm_metrics_get)(nvml_gpm_metrics_get *);
} nvml_api;

/* Loads and initialises NVML once; NULL with err set where it cannot. */
const nvml_api *nvml_get(cot_err *err);
/* NVML and the handle of GPU index: 0, or -1 with err (no NVML, or the call that failed). */
int nvml_device_at(int index, const nvml_api **n, nvml_device *d, cot_err *err);
/* "the NVML call X failed: <nvmlErrorString>" into err. */
int nvml_fail(cot_err *err, const char *call, int rc);
const char *nvml_compute_mode_name(int mode);

#endif
