#include "host/host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "host/nvml.h"

static void read_cpu_model(char *out, size_t cap)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        char *colon = strchr(line, ':');
        if (!colon) continue;
        colon += 1 + (colon[1] == ' ');
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(out, cap, "%s", colon);
        break;
    }
    fclose(f);
}

static void probe_gpu(host_info *h, const char *gpu)
{
    cot_err err;
    const nvml_api *nv = nvml_get(&err);
    if (!nv) {
        snprintf(h->gpu_why, sizeof h->gpu_why, "%s", err.msg);
        return;
    }
    unsigned count = 0;
    int rc = nv->device_count(&count);
    if (rc != 0) {
        nvml_fail(&err, "nvmlDeviceGetCount_v2", rc);
        snprintf(h->gpu_why, sizeof h->gpu_why, "%s", err.msg);
        return;
    }
    h->gpu_count = (int)count;
    if (count == 0) {
        snprintf(h->gpu_why, sizeof h->gpu_why, "the NVIDIA driver is loaded but reports no GPU");
        return;
    }
    nvml_device dev;
    if (!gpu) gpu = "0";
    if (!strncmp(gpu, "GPU-", 4) || !strncmp(gpu, "MIG-", 4)) {
        rc = nv->device_by_uuid(gpu, &dev);
        if (rc != 0) {
            nvml_fail(&err, "nvmlDeviceGetHandleByUUID", rc);
            snprintf(h->gpu_why, sizeof h->gpu_why, "GPU %.100s not found (%.1800s); nvidia-smi -L lists this machine's GPUs", gpu, err.msg);
            return;
        }
    } else {
        unsigned idx = (unsigned)atoi(gpu);
        if (idx >= count) {
            snprintf(h->gpu_why, sizeof h->gpu_why, "GPU index %u does not exist: this machine has %u GPU%s (0..%u)",
                     idx, count, count == 1 ? "" : "s", count - 1);
            return;
        }
        rc = nv->device_by_index(idx, &dev);
        if (rc != 0) {
            nvml_fail(&err, "nvmlDeviceGetHandleByIndex_v2", rc);
            snprintf(h->gpu_why, sizeof h->gpu_why, "%s", err.msg);
            return;
        }
    }
    h->gpu_found = true;
    unsigned index = 0;
    if (nv->device_index(dev, &index) == 0) h->gpu_index = (int)index;
    nv->device_name(dev, h->gpu_name, sizeof h->gpu_name);
    nv->device_uuid(dev, h->gpu_uuid, sizeof h->gpu_uuid);
    nvml_memory mem;
    if (nv->device_memory(dev, &mem) == 0) h->gpu_mem_mib = (long)(mem.total >> 20);
    int mode;
    if (nv->device_compute_mode(dev, &mode) == 0) h->compute_mode = mode;
    nv->driver_version(h->driver_version, sizeof h->driver_version);
    int cuda = 0;
    if (nv->cuda_driver_version(&cuda) == 0)
        snprintf(h->cuda_version, sizeof h->cuda_version, "%d.%d", cuda / 1000, (cuda % 1000) / 10);
}

void host_probe(host_info *h, const char *gpu)
{
    memset(h, 0, sizeof *h);
    h->compute_mode = -1;
    h->gpu_index = -1;
    gethostname(h->hostname, sizeof h->hostname - 1);
    struct utsname u;
    if (uname(&u) == 0) snprintf(h->kernel, sizeof h->kernel, "%s %s %s", u.sysname, u.release, u.machine);
    read_cpu_model(h->cpu_model, sizeof h->cpu_model);
    h->cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) h->mem_mib = (long)((double)pages * page / (1 << 20));
    probe_gpu(h, gpu);
}

json_t *host_to_json(const host_info *h)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:I}", "hostname", h->hostname, "kernel", h->kernel,
                          "cpu_model", h->cpu_model, "cpus", h->cpus, "mem_mib", (json_int_t)h->mem_mib);
    if (h->gpu_found) {
        json_object_set_new(o, "gpu", json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:s, s:i}", "index", h->gpu_index,
                                                "name", h->gpu_name, "uuid", h->gpu_uuid, "driver_version",
                                                h->driver_version, "cuda_version", h->cuda_version, "mem_mib",
                                                (json_int_t)h->gpu_mem_mib, "compute_mode",
                                                nvml_compute_mode_name(h->compute_mode), "gpu_count", h->gpu_count));
    } else {
        json_object_set_new(o, "gpu", json_null());
        json_object_set_new(o, "gpu_missing_reason", json_string(h->gpu_why));
    }
    return o;
}
