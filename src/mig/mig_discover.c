#include "mig/mig_discover.h"

#include <stdio.h>
#include <string.h>

int mig_gpu_from_nvml(const nvml_api *n, nvml_device d, const char *device_name, mig_gpu *g, char *why, size_t cap)
{
    memset(g, 0, sizeof *g);
    snprintf(g->model, sizeof g->model, "%s", device_name);
    /* its PCI ids from the built-in table of its model, for device-filter */
    const mig_gpu *b = mig_gpu_by_device_name(device_name);
    if (b) memcpy(g->pci_ids, b->pci_ids, sizeof g->pci_ids), g->npci_ids = b->npci_ids;
    if (!n->gi_profile_info || !n->gi_placements) {
        snprintf(why, cap, "this driver's NVML has no nvmlDeviceGetGpuInstanceProfileInfoV or "
                           "nvmlDeviceGetGpuInstancePossiblePlacements_v2");
        return -1;
    }
    int last_rc = NVML_SUCCESS;
    for (unsigned index = 0; index < NVML_GI_PROFILE_INDICES && g->nprofiles < MIG_MAX_PROFILES; index++) {
        nvml_gi_profile_info info;
        memset(&info, 0, sizeof info);
        info.version = NVML_GI_PROFILE_INFO_V2;
        int rc = n->gi_profile_info(d, index, &info);
        if (rc != NVML_SUCCESS) { /* not a profile of this GPU (or no MIG at all) */
            last_rc = rc;
            continue;
        }
        nvml_gi_placement pl[MIG_MEMORY_SLICES];
        unsigned count = MIG_MEMORY_SLICES;
        /* the placements are asked for by the profile's id on the device (an
         * H100's 1g.10gb is index 0 but id 19), not by the index */
        rc = n->gi_placements(d, info.id, pl, &count);
        if (rc != NVML_SUCCESS) {
            snprintf(why, cap, "nvmlDeviceGetGpuInstancePossiblePlacements_v2 (profile id %u, %s) failed: %s", info.id,
                     info.name, n->error_string ? n->error_string(rc) : "?");
            return -1;
        }
        mig_profile *p = &g->profiles[g->nprofiles];
        memset(p, 0, sizeof *p);
        const char *name = info.name;
        if (!strncmp(name, "MIG ", 4)) name += 4;
        snprintf(p->name, sizeof p->name, "%s", name);
        p->nvml_id = (int)info.id;
        p->compute_slices = (int)info.slice_count;
        p->max_instances = (int)info.instance_count;
        p->sms = (int)info.multiprocessor_count;
        p->memory_gib = (double)info.memory_size_mb / 1024.0;
        p->media = strstr(p->name, "+me") != NULL;
        for (unsigned k = 0; k < count; k++) {
            if (pl[k].start >= MIG_MEMORY_SLICES || pl[k].size == 0 || pl[k].start + pl[k].size > MIG_MEMORY_SLICES)
                continue; /* outside the 8 slices the planner knows: leave it out rather than misplan */
            p->starts |= 1 << pl[k].start;
            p->memory_slices = (int)pl[k].size;
            if ((int)(pl[k].start + pl[k].size) > g->memory_slices) g->memory_slices = (int)(pl[k].start + pl[k].size);
        }
        if (!p->starts || !p->name[0]) continue;
        if (p->compute_slices > g->compute_slices) g->compute_slices = p->compute_slices, g->sms = p->sms;
        if (p->memory_gib > g->memory_gib) g->memory_gib = p->memory_gib;
        g->nprofiles++;
    }
    if (g->nprofiles == 0) {
        snprintf(why, cap, "nvmlDeviceGetGpuInstanceProfileInfoV answered no profile (last: %s): the GPU has no MIG",
                 n->error_string ? n->error_string(last_rc) : "?");
        return -1;
    }
    return 0;
}

int mig_gpu_for_index(int index, const char *device_name, mig_gpu *g, int *own, char *source, size_t cap)
{
    char why[512] = "";
    cot_err err;
    const nvml_api *n = nvml_get(&err);
    nvml_device d;
    *own = 0;
    int rc = n ? n->device_by_index((unsigned)index, &d) : -1;
    if (n && rc == NVML_SUCCESS && mig_gpu_from_nvml(n, d, device_name, g, why, sizeof why) == 0) {
        *own = 1;
        snprintf(source, cap, "GPU %d's own profiles, through NVML", index);
        return 0;
    }
    if (!why[0]) snprintf(why, sizeof why, "%s", n ? "nvmlDeviceGetHandleByIndex_v2 failed" : err.msg);
    const mig_gpu *b = mig_gpu_by_device_name(device_name);
    if (!b) {
        snprintf(source, cap, "GPU %d (%s) has no MIG profiles (%s); MIG needs an A100, H100 or H200", index, device_name,
                 why);
        return -1;
    }
    *g = *b;
    snprintf(source, cap, "built-in table for %s, matched from GPU %d's name (%s), as NVML gave none: %s", b->model, index,
             device_name, why);
    return 0;
}
