/* prom_format.h - samples as the Prometheus text exposition format (0.0.4).
 *
 * Metric names, help texts and labels are dcgm-exporter's where it has the
 * figure (DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-...",pci_bus_id="...",
 * device="nvidia0",modelName="...",hostname="...",
 * DCGM_FI_DRIVER_VERSION="580.95.05"}), so dashboards built for it work;
 * MIG instances add GPU_I_PROFILE and GPU_I_ID as it does. Per-process
 * figures, which it lacks, are cotenant_process_*. Figures that are not
 * available are left out. */
#ifndef COTENANT_PROM_FORMAT_H
#define COTENANT_PROM_FORMAT_H

#include <stddef.h>

#include "telemetry/gpu_sample.h"

typedef struct {
    const char *model_name, *uuid, *pci_bus_id;
} prom_gpu_label;

/* What every sample carries beside its GPU's labels: the node's name (as
 * dcgm-exporter: NODE_NAME where set, else the host's name) and the
 * driver's version (NULL or "": left out). */
typedef struct {
    const char *hostname, *driver_version;
} prom_node_label;

/* The exposition text for n GPUs' latest samples; malloc'd, NUL-ended, or
 * NULL when out of memory. */
char *prom_format(const gpu_sample *s, const prom_gpu_label *labels, int n, const prom_node_label *node, size_t *len);

#endif
