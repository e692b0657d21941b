/* prom_format.h - samples as the Prometheus text exposition format (0.0.4).
 *
 * Metric names and labels are dcgm-exporter's where it has the figure
 * (DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-...",device="nvidia0",
 * modelName="...",Hostname="..."}), so dashboards built for it work; MIG
 * instances add GPU_I_ID as it does. Per-process figures, which it lacks,
 * are cotenant_process_*. Figures that are not available are left out. */
#ifndef COTENANT_PROM_FORMAT_H
#define COTENANT_PROM_FORMAT_H

#include <stddef.h>

#include "telemetry/gpu_sample.h"

typedef struct {
    const char *model_name, *uuid;
} prom_gpu_label;

/* The exposition text for n GPUs' latest samples; malloc'd, NUL-ended, or
 * NULL when out of memory. */
char *prom_format(const gpu_sample *s, const prom_gpu_label *labels, int n, const char *hostname, size_t *len);

#endif
