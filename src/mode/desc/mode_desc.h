/* mode_desc.h - what each sharing mode is, as data.
 *
 * A mode's behaviour (setting the GPU up and restoring it, a workload's
 * environment) is in mode/, one file each. What the rest of cotenant needs
 * to know about a mode is here, one table line each: whether it shares the
 * GPU, whether it means anything for CPU workloads, what its figures do not
 * show, and how the containers and the NVIDIA device plugin express it. No
 * other module compares a mode's name: it asks this table. This folder sits
 * below scenario/ in the layers, so that a scenario is checked against it. */
#ifndef COTENANT_MODE_DESC_H
#define COTENANT_MODE_DESC_H

#include <stdbool.h>

typedef struct {
    const char *name;
    const char *summary;
    const char *caveat;            /* what the mode's figures do not show; NULL: none */
    bool shares;                   /* false: each workload only ever runs alone (the baseline) */
    bool baseline;                 /* alone under it is alone on the whole GPU: the common baseline of every mode */
    bool cpu_ok;                   /* meaningful for device: cpu scenarios */
    bool by_default;               /* compared when a scenario names no modes (those of them its device allows) */
    bool mps_clients;              /* workloads are clients of an MPS daemon (cotenant's, Compose's service, the plugin's) */
    bool mig_devices;              /* each workload has a MIG instance of its own (its mig profile) */
    const char *container_refusal; /* why compose and k8s do not run it; NULL: they do */
    /* the device plugin's config: its sharing section ("timeSlicing", "mps";
     * NULL: none) and the name part of its key (cotenant-NAME[-REPLICAS]) */
    const char *plugin_sharing, *plugin_config;
} mode_desc;

/* NULL when no mode has the name. */
const mode_desc *mode_desc_lookup(const char *name);
/* "exclusive, timeslice, ...", from the table. */
const char *mode_desc_names(void);
/* The mode whose alone runs are the common baseline (docs/metrics.md). */
const mode_desc *mode_desc_baseline(void);
/* The modes a scenario without a list compares, for a GPU or a CPU
 * scenario: up to cap names into out; returns the count. */
int mode_desc_defaults(bool cpu, const char **out, int cap);

#endif
