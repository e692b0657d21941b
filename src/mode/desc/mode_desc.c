#include "mode/desc/mode_desc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const mode_desc modes[] = {
    {.name = "exclusive",
     .summary = "each workload alone on the GPU: the baseline",
     .shares = false,
     .baseline = true,
     .cpu_ok = true,
     .plugin_config = "exclusive"},
    {.name = "timeslice",
     .summary = "the driver's default time slicing between processes (on CPU scenarios: the OS scheduler)",
     .shares = true,
     .cpu_ok = true,
     .by_default = true,
     .plugin_sharing = "timeSlicing",
     .plugin_config = "timeslicing"},
    {.name = "mps",
     .summary = "CUDA MPS: one server runs every workload's kernels concurrently",
     .shares = true,
     .by_default = true,
     .mps_clients = true,
     .plugin_sharing = "mps",
     .plugin_config = "mps"},
    {.name = "mig",
     .summary = "MIG: each workload on its own GPU instance (the scenario's mig profiles), applied and restored",
     .caveat = "each workload's alone figures are on its own MIG instance, so normalized progress and STP measure the "
               "interference between instances, not what the partition costs against the whole GPU: compare Shared /s "
               "across modes for that",
     .shares = true,
     .mig_devices = true,
     .plugin_config = "mig-mixed"},
    {.name = "mig-emulated",
     .summary = "the scenario's MIG layout emulated with MPS limits (SM share and memory per profile); changes nothing",
     .caveat = "emulated with MPS: each workload gets its MIG profile's SM share and memory limit, but L2 cache, memory "
               "bandwidth and fault isolation stay shared, unlike real MIG; alone figures are on the emulated instance, so "
               "normalized progress and STP measure interference, not the partition's cost: compare Shared /s across modes",
     .shares = true,
     .mps_clients = true,
     .container_refusal = "mig-emulated sets per-client MPS limits on a daemon cotenant runs itself; run it with the local "
                          "executor"},
};
#define NMODES ((int)(sizeof modes / sizeof modes[0]))

const mode_desc *mode_desc_lookup(const char *name)
{
    for (int i = 0; name && i < NMODES; i++)
        if (!strcmp(modes[i].name, name)) return &modes[i];
    return NULL;
}

static char names[256];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void build_names(void)
{
    size_t n = 0;
    for (int i = 0; i < NMODES && n < sizeof names; i++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", modes[i].name);
}

const char *mode_desc_names(void)
{
    pthread_once(&names_once, build_names);
    return names;
}

const mode_desc *mode_desc_baseline(void)
{
    for (int i = 0; i < NMODES; i++)
        if (modes[i].baseline) return &modes[i];
    return NULL;
}

int mode_desc_defaults(bool cpu, const char **out, int cap)
{
    int n = 0;
    for (int i = 0; i < NMODES && n < cap; i++)
        if (modes[i].by_default && (!cpu || modes[i].cpu_ok)) out[n++] = modes[i].name;
    return n;
}
