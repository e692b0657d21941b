/* host.h - what machine and GPU a run happens on, for run.json and for the
 * modes' checks. Fields that could not be read stay empty / -1. */
#ifndef COTENANT_HOST_H
#define COTENANT_HOST_H

#include <stdbool.h>
#include <jansson.h>

typedef struct {
    char hostname[256], kernel[256], cpu_model[256];
    int cpus;
    long mem_mib;
    bool gpu_found;          /* the scenario's GPU is there and NVML answers */
    char gpu_why[2048];      /* why not, when !gpu_found */
    int gpu_count;
    int gpu_index;
    char gpu_name[96], gpu_uuid[96], driver_version[80], cuda_version[16];
    long gpu_mem_mib;
    int compute_mode;        /* NVML_COMPUTE_*, -1 unknown */
} host_info;

/* gpu: the scenario's selector (index or UUID), may be NULL for "0". */
void host_probe(host_info *h, const char *gpu);
json_t *host_to_json(const host_info *h);

#endif
