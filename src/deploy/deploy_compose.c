/* A Compose project: one service per workload, the GPU reserved through
 * deploy.resources.reservations.devices (driver nvidia), for MPS a daemon
 * service sharing its pipe folder with the workloads (ipc: host), the
 * results folder mounted. Services use the host's network, so a server
 * and its load generator talk over 127.0.0.1 as they do locally. */
#include <stdio.h>
#include <string.h>

#include "deploy/deploy.h"

#define MPS_SERVICE "mps-daemon"

static json_t *gpu_reservation(const char *device_id)
{
    return json_pack("{s:{s:{s:[{s:s, s:[s], s:[s]}]}}}", "resources", "reservations", "devices", "driver", "nvidia",
                     "device_ids", device_id, "capabilities", "gpu");
}

static json_t *labels(const deploy_spec *d, const char *workload)
{
    json_t *l = json_pack("{s:s, s:s, s:s}", DEPLOY_LABEL_RUN, d->run_id, DEPLOY_LABEL_SEGMENT, d->segment,
                          DEPLOY_LABEL_MODE, d->mode);
    if (workload) json_object_set_new(l, DEPLOY_LABEL_WORKLOAD, json_string(workload));
    return l;
}

/* The GPU a workload gets: the scenario's GPU, its MIG device, or none (a
 * load generator, a CPU workload). */
static const char *device_of(const deploy_spec *d, int i)
{
    if (deploy_mode(d->mode)->mig_devices) return d->mig_device[i];
    return deploy_uses_gpu(d->sc, d->idx[i]) ? d->gpu : NULL;
}

json_t *deploy_compose(const deploy_spec *d, cot_err *err)
{
    bool mps = deploy_mode(d->mode)->mps_clients;
    json_t *services = json_object();
    json_t *doc = json_pack("{s:o}", "services", services);
    if (mps) {
        json_t *daemon = json_pack("{s:s, s:[s, s], s:s, s:{s:s, s:s}, s:[s], s:o, s:o}", "image", d->image, "command",
                                   "nvidia-cuda-mps-control", "-f", "ipc", "host", "environment", "CUDA_MPS_PIPE_DIRECTORY",
                                   DEPLOY_MPS_MOUNT "/pipe", "CUDA_MPS_LOG_DIRECTORY", DEPLOY_MPS_MOUNT "/log", "volumes",
                                   "./mps:" DEPLOY_MPS_MOUNT, "labels", labels(d, NULL), "deploy", gpu_reservation(d->gpu));
        /* the daemon's clients must be its own user */
        if (d->user) json_object_set_new(daemon, "user", json_string(d->user));
        /* ready once its pipe exists: a client started before that would
         * run without MPS, silently (each agent checks it too) */
        json_object_set_new(daemon, "healthcheck",
                            json_pack("{s:[s, s, s, s], s:s, s:s, s:i}", "test", "CMD", "test", "-e",
                                      DEPLOY_MPS_MOUNT "/pipe/control", "interval", "1s", "timeout", "5s", "retries", 60));
        json_object_set_new(services, MPS_SERVICE, daemon);
    }
    for (int i = 0; i < d->n; i++) {
        const workload_spec *w = &d->sc->workloads[d->idx[i]];
        json_t *cmd = deploy_agent_command(d, i, d->results_dir ? w->name : NULL, err);
        if (!cmd) {
            json_decref(doc);
            return NULL;
        }
        json_t *svc = json_pack("{s:s, s:o, s:o, s:s}", "image", d->image, "command", cmd, "environment", deploy_env(d, i),
                                "network_mode", "host");
        json_t *vols = json_array();
        if (d->results_dir) json_array_append_new(vols, json_sprintf("%s:%s", d->results_dir, DEPLOY_RESULTS_MOUNT));
        json_t *after = json_object();
        if (mps) {
            json_object_set_new(svc, "ipc", json_string("host"));
            json_array_append_new(vols, json_string("./mps:" DEPLOY_MPS_MOUNT));
            json_object_set_new(after, MPS_SERVICE, json_pack("{s:s}", "condition", "service_healthy"));
        }
        /* a load generator starts after its server (and waits for it to answer ready) */
        int target = scenario_target_of(d->sc, d->idx[i]);
        if (target >= 0)
            json_object_set_new(after, d->sc->workloads[target].name, json_pack("{s:s}", "condition", "service_started"));
        if (json_object_size(after)) json_object_set_new(svc, "depends_on", after);
        else json_decref(after);
        if (json_array_size(vols)) json_object_set_new(svc, "volumes", vols);
        else json_decref(vols);
        if (d->user) json_object_set_new(svc, "user", json_string(d->user));
        json_object_set_new(svc, "stop_signal", json_string("SIGTERM"));
        json_object_set_new(svc, "stop_grace_period", json_sprintf("%.0fs", d->grace_s));
        json_object_set_new(svc, "labels", labels(d, w->name));
        const char *dev = device_of(d, i);
        if (dev) json_object_set_new(svc, "deploy", gpu_reservation(dev));
        json_object_set_new(services, w->name, svc);
    }
    return doc;
}
