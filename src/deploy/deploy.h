/* deploy.h - a scenario's workloads as a Docker Compose project or as
 * Kubernetes objects for the NVIDIA device plugin.
 *
 * Both are built as jansson trees (written as YAML by util/yaml_emit) from
 * one description of what runs: which workloads, under which mode, with
 * which image. Every workload runs inside `cotenant agent` with the same
 * argv and COTENANT_* environment the local executor gives it
 * (workload/workload_cmd.h), so a result means the same thing wherever it was
 * measured. docs/containers.md describes the files. */
#ifndef COTENANT_DEPLOY_H
#define COTENANT_DEPLOY_H

#include <jansson.h>
#include <stdbool.h>

#include "mode/desc/mode_desc.h"
#include "workload/workload_cmd.h"
#include "scenario/scenario.h"
#include "util/err.h"

#define DEPLOY_DEFAULT_IMAGE "cotenant:latest"
/* Where the image keeps things, and where volumes are mounted. */
#define DEPLOY_RESULTS_MOUNT "/cotenant/results"
#define DEPLOY_MPS_MOUNT "/cotenant/mps"
/* The image's user, by number, so a kubelet can check runAsNonRoot. */
#define DEPLOY_IMAGE_UID 1000
/* The labels that tie every object to its run (Kubernetes; Compose labels too). */
#define DEPLOY_LABEL_RUN "cotenant.io/run"
#define DEPLOY_LABEL_SEGMENT "cotenant.io/segment"
#define DEPLOY_LABEL_WORKLOAD "cotenant.io/workload"
#define DEPLOY_LABEL_MODE "cotenant.io/mode"
#define DEPLOY_LABEL_ROLE "cotenant.io/role" /* gpu-sampler: the Job that samples the node's GPU */
/* The device plugin's and the GPU Operator's MIG manager's node labels. */
#define DEPLOY_PLUGIN_CONFIG_LABEL "nvidia.com/device-plugin.config"
#define DEPLOY_MIG_CONFIG_LABEL "nvidia.com/mig.config"
#define DEPLOY_PLUGIN_CONFIGMAP "cotenant-device-plugin-config"
#define DEPLOY_MIG_CONFIGMAP "cotenant-mig-parted-config"

typedef struct {
    const scenario *sc;
    const char *mode;          /* exclusive, timeslice, mps or mig */
    int repeat;                /* for COTENANT_SEED */
    int n;
    int idx[SCENARIO_MAX_WORKLOADS];            /* into sc->workloads */
    workload_addr addr[SCENARIO_MAX_WORKLOADS]; /* servers' ports (Compose runs them on the host's network) */
    const char *image;
    const char *name;          /* Compose project / prefix of Kubernetes names: a DNS-1123 label */
    const char *run_id;        /* DEPLOY_LABEL_RUN's value */
    const char *segment;       /* DEPLOY_LABEL_SEGMENT's value */
    double stop_after_s;       /* each agent stops its workload then, whatever happens */
    double grace_s;            /* SIGTERM to SIGKILL */
    /* Compose */
    const char *results_dir;   /* host folder mounted at DEPLOY_RESULTS_MOUNT; NULL: none */
    const char *user;          /* "uid:gid" the containers run as (to write results_dir); NULL: the image's */
    const char *gpu;           /* device_ids entry: "0" or "GPU-..." */
    const char *mig_device[SCENARIO_MAX_WORKLOADS]; /* mig: each workload's "MIG-..." (NULL: none) */
    /* Kubernetes */
    const char *k8s_namespace;
    const char *node;          /* kubernetes.io/hostname to run on; NULL: any node the config label selects */
} deploy_spec;

/* A mode's description (mode/desc/mode_desc.h); one that says nothing for
 * a name no mode has. */
const mode_desc *deploy_mode(const char *mode);
/* Which modes the container executors support, and why not the others.
 * cpu_ok: the target runs CPU scenarios (Compose does: its containers need
 * no GPU; Kubernetes here is for sharing a node's GPU). */
const char *deploy_mode_unsupported(const scenario *sc, const char *mode, bool cpu_ok);

/* A valid DNS-1123 label from text ("Train_A" -> "train-a"), at most max
 * characters. */
void deploy_dns_label(const char *text, char *out, size_t max);

/* The workload's container command: cotenant agent ... -- argv. */
json_t *deploy_agent_command(const deploy_spec *d, int i, const char *results_subdir, cot_err *err);
/* Its environment, as {KEY: value} in order. */
json_t *deploy_env(const deploy_spec *d, int i);

/* The Compose project (compose.yaml's content). NULL with err. */
json_t *deploy_compose(const deploy_spec *d, cot_err *err);

/* Does workload w compute on the GPU? (a load generator or a CPU kind does not) */
bool deploy_uses_gpu(const scenario *sc, int w);
/* Workloads that compute on the GPU: the replicas a sharing config offers. */
int deploy_gpu_workloads(const scenario *sc);
/* The mig-parted config for the scenario's profiles on every GPU of the
 * node ("devices: all"); its name, which says the layout, into name. */
json_t *deploy_mig_parted_config(const scenario *sc, char *name, size_t cap);

/* The replicas a sharing config offers: the GPU workloads, at least 2 (the
 * device plugin refuses fewer). */
int deploy_plugin_replicas(const scenario *sc);
/* Workloads whose mps.active_thread_percentage is above what the device
 * plugin's MPS daemon gives a replica (100 / replicas), so it caps them:
 * how many, and the sentence saying which into why. */
int deploy_mps_capped(const scenario *sc, char *why, size_t cap);
/* The device plugin's config for a mode (version: v1 ...), its key in
 * DEPLOY_PLUGIN_CONFIGMAP, which DEPLOY_PLUGIN_CONFIG_LABEL selects. */
json_t *deploy_plugin_config(const scenario *sc, const char *mode, char *key, size_t keycap);
/* Kubernetes objects a mode needs before its Jobs: the device plugin's
 * ConfigMap (every mode of the scenario, one key each) and, for mig, the
 * mig-parted ConfigMap. The node label for the mode goes into
 * label_key/label_value; a mig scenario's mig-parted config name into
 * mig_config (else ""). NULL with err. */
json_t *deploy_k8s_mode_objects(const scenario *sc, const char *mode, const char *plugin_namespace, const char *run_id,
                                char *label_value, size_t cap, char *mig_config, size_t mcap, cot_err *err);
/* Where each workload of a segment runs on Kubernetes. */
typedef struct {
    char job[SCENARIO_MAX_WORKLOADS][64];       /* the Job of its pod */
    char container[SCENARIO_MAX_WORKLOADS][64]; /* its container in that pod */
    char sampler[64];                           /* the GPU sampler's Job; "" for none */
} deploy_k8s_names;

/* A segment's Jobs: one per pod, a pod being a workload or a server with
 * its load generators (which reach it on 127.0.0.1, as in a local run);
 * and, with the scenario's telemetry on, a GPU sampler on the node
 * (`cotenant monitor --csv -`, hostPID, no GPU requested). names (may be
 * NULL) says where each workload went. NULL with err. */
json_t *deploy_k8s_jobs(const deploy_spec *d, deploy_k8s_names *names, cot_err *err);

#endif
