#include "telemetry/prom_format.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { GPU_FIELD, PROC_FIELD } scope;

/* One metric family: where its figure comes from and how it is scaled to
 * the unit the name promises (dcgm-exporter's PROF fields are ratios). */
typedef struct {
    const char *name, *type, *help;
    scope where;
    size_t offset;     /* of a double in gpu_sample or gpu_proc_sample */
    double scale;
    size_t mig_offset; /* of the same figure in gpu_mig_sample; 0 (its instance id) for none */
} family;

#define G(f) GPU_FIELD, offsetof(gpu_sample, f)
#define P(f) PROC_FIELD, offsetof(gpu_proc_sample, f)
#define MIG(f) offsetof(gpu_mig_sample, f)
static const family families[] = {
    {"DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).", G(util_gpu), 1},
    {"DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %).", G(util_mem), 1},
    {"DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB).", G(mem_used_mib), 1, MIG(mem_used_mib)},
    {"DCGM_FI_DEV_FB_TOTAL", "gauge", "Framebuffer memory total (in MiB).", G(mem_total_mib), 1, MIG(mem_total_mib)},
    {"DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).", G(power_w), 1},
    {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "Total energy consumption since boot (in mJ).", G(energy_j),
     1000},
    {"DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz).", G(sm_clock_mhz), 1},
    {"DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz).", G(mem_clock_mhz), 1},
    {"DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).", G(temp_c), 1},
    /* DCGM's name since DCGM 3.3 (the old one, ..._CLOCK_THROTTLE_REASONS, is gone from dcgm-exporter) */
    {"DCGM_FI_DEV_CLOCKS_EVENT_REASONS", "gauge", "Current clock event reasons (bitmask of DCGM_CLOCKS_EVENT_REASON_*).",
     G(throttle_reasons), 1},
    {"DCGM_FI_PROF_SM_ACTIVE", "gauge", "The ratio of cycles an SM has at least 1 warp assigned.", G(sm_active), 0.01,
     MIG(sm_active)},
    {"DCGM_FI_PROF_SM_OCCUPANCY", "gauge", "The ratio of number of warps resident on an SM.", G(sm_occupancy), 0.01},
    {"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "gauge", "Ratio of cycles the tensor (HMMA) pipe is active.", G(tensor_active),
     0.01},
    {"DCGM_FI_PROF_DRAM_ACTIVE", "gauge", "Ratio of cycles the device memory interface is active sending or receiving data.",
     G(dram_active), 0.01},
    {"DCGM_FI_PROF_PCIE_TX_BYTES", "gauge", "The rate of data transmitted over the PCIe bus - including both protocol headers and data payloads - in bytes per second.",
     G(pcie_tx_mib_s), 1048576},
    {"DCGM_FI_PROF_PCIE_RX_BYTES", "gauge", "The rate of data received over the PCIe bus - including both protocol headers and data payloads - in bytes per second.",
     G(pcie_rx_mib_s), 1048576},
    {"cotenant_process_memory_used_mib", "gauge", "Device memory a process holds (in MiB).", P(mem_used_mib), 1},
    {"cotenant_process_sm_util", "gauge", "SM utilization of a process, from NVML's per-process samples (in %).",
     P(sm_util), 1},
    {"cotenant_process_mem_util", "gauge", "Memory-controller utilization of a process (in %).", P(mem_util), 1},
};
#undef G
#undef P
#undef MIG

/* A label value with \, " and newline escaped as the format requires. */
static void label_value(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '\\') fputs("\\\\", f);
        else if (*s == '"') fputs("\\\"", f);
        else if (*s == '\n') fputs("\\n", f);
        else fputc(*s, f);
    }
    fputc('"', f);
}

/* In dcgm-exporter's order: gpu, UUID, pci_bus_id, device, modelName, the
 * MIG instance's GPU_I_PROFILE and GPU_I_ID, hostname, then the driver's
 * version as a label of its own. */
static void gpu_labels(FILE *f, const gpu_sample *s, const prom_gpu_label *l, const gpu_mig_sample *mig,
                       const prom_node_label *node)
{
    fprintf(f, "gpu=\"%d\",UUID=", s->index);
    label_value(f, l->uuid);
    fputs(",pci_bus_id=", f);
    label_value(f, l->pci_bus_id);
    fprintf(f, ",device=\"nvidia%d\",modelName=", s->index);
    label_value(f, l->model_name);
    if (mig) {
        fputs(",GPU_I_PROFILE=", f);
        label_value(f, mig->profile);
        fprintf(f, ",GPU_I_ID=\"%d\"", mig->gpu_instance_id);
    }
    fputs(",hostname=", f);
    label_value(f, node->hostname);
    if (node->driver_version && node->driver_version[0]) {
        fputs(",DCGM_FI_DRIVER_VERSION=", f);
        label_value(f, node->driver_version);
    }
}

static void value(FILE *f, double v)
{
    /* integers print whole (counters in mJ can pass 2^53 only after
     * centuries); others with enough digits to round-trip */
    if (v == floor(v) && fabs(v) < 1e15) fprintf(f, " %.0f\n", v);
    else fprintf(f, " %.17g\n", v);
}

static void sample_line(FILE *f, const family *fam, const gpu_sample *g, const prom_gpu_label *l,
                        const prom_node_label *node, const char *base, size_t offset, const gpu_mig_sample *mig)
{
    double v;
    memcpy(&v, base + offset, sizeof v);
    if (!isfinite(v)) return;
    fprintf(f, "%s{", fam->name);
    gpu_labels(f, g, l, mig, node);
    if (fam->where == PROC_FIELD) {
        const gpu_proc_sample *p = (const gpu_proc_sample *)base;
        fprintf(f, ",pid=\"%u\",process=", p->pid);
        label_value(f, p->name);
    }
    fputc('}', f);
    value(f, v * fam->scale);
}

char *prom_format(const gpu_sample *s, const prom_gpu_label *labels, int n, const prom_node_label *node, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) return NULL;
    /* each family's HELP and TYPE once, then all its samples together:
     * the GPUs', their MIG instances' (with GPU_I_ID) and their processes' */
    for (size_t k = 0; k < sizeof families / sizeof families[0]; k++) {
        const family *fam = &families[k];
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name, fam->type);
        for (int i = 0; i < n; i++) {
            const gpu_sample *g = &s[i];
            if (fam->where == GPU_FIELD) {
                sample_line(f, fam, g, &labels[i], node, (const char *)g, fam->offset, NULL);
                for (int r = 0; r < g->nmig && fam->mig_offset; r++)
                    sample_line(f, fam, g, &labels[i], node, (const char *)&g->mig[r], fam->mig_offset, &g->mig[r]);
            } else {
                for (int r = 0; r < g->nprocs; r++)
                    sample_line(f, fam, g, &labels[i], node, (const char *)&g->procs[r], fam->offset, NULL);
            }
        }
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    if (len) *len = size;
    return buf;
}
