#include "host/nvml.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

static nvml_api api;
static int state; /* 0 untried, 1 ready, -1 failed */
static cot_err first_error;

static const struct {
    const char *symbol;
    size_t offset;
    bool optional;
} symbols[] = {
    {"nvmlInit_v2", offsetof(nvml_api, init)},
    {"nvmlShutdown", offsetof(nvml_api, shutdown)},
    {"nvmlErrorString", offsetof(nvml_api, error_string)},
    {"nvmlDeviceGetCount_v2", offsetof(nvml_api, device_count)},
    {"nvmlDeviceGetHandleByIndex_v2", offsetof(nvml_api, device_by_index)},
    {"nvmlDeviceGetHandleByUUID", offsetof(nvml_api, device_by_uuid)},
    {"nvmlDeviceGetName", offsetof(nvml_api, device_name)},
    {"nvmlDeviceGetUUID", offsetof(nvml_api, device_uuid)},
    {"nvmlDeviceGetIndex", offsetof(nvml_api, device_index)},
    {"nvmlDeviceGetMemoryInfo", offsetof(nvml_api, device_memory)},
    {"nvmlDeviceGetComputeMode", offsetof(nvml_api, device_compute_mode)},
    {"nvmlSystemGetDriverVersion", offsetof(nvml_api, driver_version)},
    {"nvmlSystemGetCudaDriverVersion", offsetof(nvml_api, cuda_driver_version)},
    {"nvmlDeviceGetMemoryInfo_v2", offsetof(nvml_api, device_memory_v2), true},
    {"nvmlDeviceGetPciInfo_v3", offsetof(nvml_api, pci_info), true},
    {"nvmlDeviceGetUtilizationRates", offsetof(nvml_api, utilization), true},
    {"nvmlDeviceGetPowerUsage", offsetof(nvml_api, power_usage), true},
    {"nvmlDeviceGetTotalEnergyConsumption", offsetof(nvml_api, total_energy), true},
    {"nvmlDeviceGetClockInfo", offsetof(nvml_api, clock_info), true},
    {"nvmlDeviceGetTemperature", offsetof(nvml_api, temperature), true},
    /* the same call under its old name and, where the driver has it, its new one */
    {"nvmlDeviceGetCurrentClocksThrottleReasons", offsetof(nvml_api, clocks_event_reasons), true},
    {"nvmlDeviceGetCurrentClocksEventReasons", offsetof(nvml_api, clocks_event_reasons), true},
    {"nvmlDeviceGetComputeRunningProcesses_v3", offsetof(nvml_api, compute_processes), true},
    {"nvmlDeviceGetMPSComputeRunningProcesses_v3", offsetof(nvml_api, mps_processes), true},
    {"nvmlDeviceGetProcessUtilization", offsetof(nvml_api, process_utilization), true},
    {"nvmlDeviceGetMigMode", offsetof(nvml_api, mig_mode), true},
    {"nvmlDeviceGetMaxMigDeviceCount", offsetof(nvml_api, max_mig_devices), true},
    {"nvmlDeviceGetMigDeviceHandleByIndex", offsetof(nvml_api, mig_device_by_index), true},
    {"nvmlDeviceGetGpuInstanceId", offsetof(nvml_api, gpu_instance_id), true},
    {"nvmlDeviceGetGpuInstanceProfileInfoV", offsetof(nvml_api, gi_profile_info), true},
    {"nvmlDeviceGetGpuInstancePossiblePlacements_v2", offsetof(nvml_api, gi_placements), true},
    {"nvmlDeviceSetMigMode", offsetof(nvml_api, set_mig_mode), true},
    {"nvmlDeviceGetGpuInstances", offsetof(nvml_api, gpu_instances), true},
    {"nvmlDeviceGetGpuInstanceById", offsetof(nvml_api, gpu_instance_by_id), true},
    {"nvmlGpuInstanceGetInfo", offsetof(nvml_api, gi_info), true},
    {"nvmlDeviceCreateGpuInstanceWithPlacement", offsetof(nvml_api, create_gi_with_placement), true},
    {"nvmlGpuInstanceDestroy", offsetof(nvml_api, gi_destroy), true},
    {"nvmlGpuInstanceGetComputeInstanceProfileInfoV", offsetof(nvml_api, ci_profile_info), true},
    {"nvmlGpuInstanceGetComputeInstances", offsetof(nvml_api, compute_instances), true},
    {"nvmlGpuInstanceGetComputeInstanceById", offsetof(nvml_api, compute_instance_by_id), true},
    {"nvmlGpuInstanceCreateComputeInstance", offsetof(nvml_api, create_ci), true},
    {"nvmlGpuInstanceCreateComputeInstanceWithPlacement", offsetof(nvml_api, create_ci_with_placement), true},
    {"nvmlComputeInstanceGetInfo_v2", offsetof(nvml_api, ci_info), true},
    {"nvmlComputeInstanceDestroy", offsetof(nvml_api, ci_destroy), true},
    {"nvmlDeviceGetComputeInstanceId", offsetof(nvml_api, compute_instance_id), true},
    {"nvmlDeviceGetGraphicsRunningProcesses_v3", offsetof(nvml_api, graphics_processes), true},
    {"nvmlDeviceSetComputeMode", offsetof(nvml_api, set_compute_mode), true},
    {"nvmlGpmQueryDeviceSupport", offsetof(nvml_api, gpm_query_support), true},
    {"nvmlGpmSampleAlloc", offsetof(nvml_api, gpm_sample_alloc), true},
    {"nvmlGpmSampleFree", offsetof(nvml_api, gpm_sample_free), true},
    {"nvmlGpmSampleGet", offsetof(nvml_api, gpm_sample_get), true},
    {"nvmlGpmMigSampleGet", offsetof(nvml_api, gpm_mig_sample_get), true},
    {"nvmlGpmMetricsGet", offsetof(nvml_api, gpm_metrics_get), true},
};

const nvml_api *nvml_get(cot_err *err)
{
    if (state == 1) return &api;
    if (state == -1) {
        if (err) *err = first_error;
        return NULL;
    }
    state = -1;
    const char *lib = getenv("COTENANT_NVML_LIBRARY");
    if (!lib || !*lib) lib = "libnvidia-ml.so.1";
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        cot_errf(&first_error, "the NVIDIA driver's %s could not be loaded (%s)", lib, dlerror());
        goto out;
    }
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        void *fn = dlsym(h, symbols[i].symbol);
        if (!fn && symbols[i].optional) continue;
        if (!fn) {
            cot_errf(&first_error, "%s has no %s; the NVIDIA driver is too old for cotenant", lib, symbols[i].symbol);
            goto out;
        }
        memcpy((char *)&api + symbols[i].offset, &fn, sizeof fn);
    }
    int rc = api.init();
    if (rc != 0) {
        nvml_fail(&first_error, "nvmlInit_v2", rc);
        goto out;
    }
    state = 1;
    return &api;
out:
    if (err) *err = first_error;
    return NULL;
}

int nvml_fail(cot_err *err, const char *call, int rc)
{
    const char *msg = api.error_string ? api.error_string(rc) : "unknown error";
    return cot_errf(err, "NVML call %s failed: %s (code %d)", call, msg ? msg : "unknown error", rc);
}

const char *nvml_compute_mode_name(int mode)
{
    switch (mode) {
    case NVML_COMPUTE_DEFAULT: return "Default";
    case NVML_COMPUTE_EXCLUSIVE_THREAD: return "Exclusive_Thread";
    case NVML_COMPUTE_PROHIBITED: return "Prohibited";
    case NVML_COMPUTE_EXCLUSIVE_PROCESS: return "Exclusive_Process";
    default: return "unknown";
    }
}

int nvml_device_at(int index, const nvml_api **n, nvml_device *d, cot_err *err)
{
    if (!(*n = nvml_get(err))) return -1;
    int rc = (*n)->device_by_index((unsigned)index, d);
    return rc == NVML_SUCCESS ? 0 : nvml_fail(err, "nvmlDeviceGetHandleByIndex_v2", rc);
}
