/* What each NVML call of the sampler costs on this machine: the mean wall
 * time of 200 calls each on GPU 0, then of one whole sample. Run on a GPU
 * machine: build/bin/cotenant-nvml-cost */
#include <stdio.h>

#include "host/nvml.h"
#include "telemetry/gpu_reader.h"
#include "util/timeutil.h"

#define N 200
#define TIME(label, call)                                                                                              \
    do {                                                                                                               \
        int64_t t0 = now_ns();                                                                                         \
        int rc = 0;                                                                                                    \
        for (int i = 0; i < N; i++) rc = (call);                                                                       \
        printf("%-44s %9.1f us  (rc %d)\n", label, (now_ns() - t0) / 1e3 / N, rc);                                     \
    } while (0)

int main(void)
{
    cot_err err;
    const nvml_api *n = nvml_get(&err);
    if (!n) {
        fprintf(stderr, "nvml-call-cost: %s\n", err.msg);
        return 1;
    }
    nvml_device d;
    if (n->device_by_index(0, &d) != NVML_SUCCESS) return 1;
    nvml_memory m;
    nvml_memory_v2 m2 = {.version = NVML_MEMORY_V2_VERSION};
    nvml_utilization u;
    unsigned v;
    unsigned long long ull;
    static nvml_process_info procs[256];
    static nvml_process_util putil[256];
    TIME("nvmlDeviceGetMemoryInfo", n->device_memory(d, &m));
    if (n->device_memory_v2) TIME("nvmlDeviceGetMemoryInfo_v2", n->device_memory_v2(d, &m2));
    if (n->utilization) TIME("nvmlDeviceGetUtilizationRates", n->utilization(d, &u));
    if (n->power_usage) TIME("nvmlDeviceGetPowerUsage", n->power_usage(d, &v));
    if (n->total_energy) TIME("nvmlDeviceGetTotalEnergyConsumption", n->total_energy(d, &ull));
    if (n->clock_info) TIME("nvmlDeviceGetClockInfo (SM)", n->clock_info(d, NVML_CLOCK_SM, &v));
    if (n->temperature) TIME("nvmlDeviceGetTemperature", n->temperature(d, NVML_TEMPERATURE_GPU, &v));
    if (n->clocks_event_reasons) TIME("nvmlDeviceGetCurrentClocksEventReasons", n->clocks_event_reasons(d, &ull));
    unsigned cnt;
    if (n->compute_processes) TIME("nvmlDeviceGetComputeRunningProcesses_v3", (cnt = 256, n->compute_processes(d, &cnt, procs)));
    if (n->process_utilization)
        TIME("nvmlDeviceGetProcessUtilization", (cnt = 256, n->process_utilization(d, putil, &cnt, 0)));
    nvml_gpm_sample gs;
    if (n->gpm_sample_alloc && n->gpm_sample_alloc(&gs) == NVML_SUCCESS) {
        TIME("nvmlGpmSampleGet", n->gpm_sample_get(d, gs));
        n->gpm_sample_free(gs);
    }
    gpu_reader *r = gpu_reader_open("0", &err);
    if (!r) {
        fprintf(stderr, "nvml-call-cost: %s\n", err.msg);
        return 1;
    }
    gpu_sample s;
    TIME("one whole sample (gpu_reader_read)", gpu_reader_read(r, 0, &s, &err));
    gpu_reader_close(r);
    return 0;
}
