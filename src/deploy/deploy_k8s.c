/* Kubernetes objects for the NVIDIA device plugin and the GPU Operator:
 *
 * - the device plugin's config (a ConfigMap, one key per mode, each a
 *   `version: v1` config with sharing.timeSlicing or sharing.mps replicas,
 *   or the mixed MIG strategy), selected on a node by the label
 *   nvidia.com/device-plugin.config=KEY;
 * - for mig, a mig-parted config (a ConfigMap the GPU Operator's MIG
 *   manager reads) selected by nvidia.com/mig.config=NAME, and each Job
 *   asking for its profile as nvidia.com/mig-<profile>;
 * - one Job per workload, labelled with the run, segment, workload and mode. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/deploy.h"
#include "scenario/kinds.h"
#include "util/yaml_emit.h"

/* Does the workload compute on the GPU? (a load generator does not) */
static bool uses_gpu(const scenario *sc, int w)
{
    const workload_spec *ws = &sc->workloads[w];
    if (ws->target) return false;
    const builtin_kind *k = ws->kind ? kind_lookup(ws->kind) : NULL;
    return !k || k->device == DEVICE_GPU;
}

int deploy_gpu_workloads(const scenario *sc)
{
    int n = 0;
    for (int i = 0; i < sc->nworkloads; i++) n += uses_gpu(sc, i);
    return n;
}

json_t *deploy_plugin_config(const scenario *sc, const char *mode, char *key, size_t keycap)
{
    int replicas = deploy_gpu_workloads(sc);
    json_t *cfg = json_pack("{s:s, s:{s:s}}", "version", "v1", "flags", "migStrategy", !strcmp(mode, "mig") ? "mixed" : "none");
    if (!strcmp(mode, "timeslice") || !strcmp(mode, "mps")) {
        /* renameByDefault false: the replicas keep the name nvidia.com/gpu, so
         * the same Job asks for a GPU whichever way it is shared */
        json_t *share = json_pack("{s:b, s:[{s:s, s:i}]}", "renameByDefault", 0, "resources", "name", "nvidia.com/gpu",
                                  "replicas", replicas);
        json_object_set_new(cfg, "sharing", json_pack("{s:o}", !strcmp(mode, "mps") ? "mps" : "timeSlicing", share));
        snprintf(key, keycap, "cotenant-%s-%d", !strcmp(mode, "mps") ? "mps" : "timeslicing", replicas);
    } else {
        snprintf(key, keycap, "cotenant-%s", !strcmp(mode, "mig") ? "mig-mixed" : "exclusive");
    }
    return cfg;
}

/* The mig-parted config for the scenario's profiles on every GPU of the
 * node ("devices: all"); its name says the layout. */
static json_t *mig_parted_config(const scenario *sc, char *name, size_t cap)
{
    json_t *devs = json_object();
    for (int i = 0; i < sc->nworkloads; i++) {
        const char *p = sc->workloads[i].mig_profile;
        if (!p) continue;
        json_t *c = json_object_get(devs, p);
        json_object_set_new(devs, p, json_integer(c ? json_integer_value(c) + 1 : 1));
    }
    char text[512] = "cotenant";
    size_t k = strlen(text);
    const char *p;
    json_t *c;
    json_object_foreach(devs, p, c) k += (size_t)snprintf(text + k, k < sizeof text ? sizeof text - k : 0, "-%dx%s",
                                                          (int)json_integer_value(c), p);
    deploy_dns_label(text, name, cap < 64 ? cap - 1 : 63);
    return json_pack("{s:s, s:{s:[{s:s, s:b, s:o}]}}", "version", "v1", "mig-configs", name, "devices", "all",
                     "mig-enabled", 1, "mig-devices", devs);
}

static json_t *config_map(const char *name, const char *ns, const char *run_id, json_t *data)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:o}", "apiVersion", "v1", "kind", "ConfigMap", "metadata",
                     "name", name, "namespace", ns, "labels", "app.kubernetes.io/managed-by", "cotenant", DEPLOY_LABEL_RUN,
                     run_id, "data", data);
}

/* A YAML text as a ConfigMap value. */
static int put_yaml(json_t *data, const char *key, json_t *value, cot_err *err)
{
    char *text = yaml_emit_string(value, err);
    json_decref(value);
    if (!text) return -1;
    json_object_set_new(data, key, json_string(text));
    free(text);
    return 0;
}

json_t *deploy_k8s_mode_objects(const scenario *sc, const char *mode, const char *plugin_namespace, const char *run_id,
                                char *label_value, size_t cap, char *mig_config, size_t mcap, cot_err *err)
{
    json_t *data = json_object(), *objs = json_array();
    char key[64];
    /* every mode of the scenario, so the label can move between them
     * without waiting for a ConfigMap update to reach the plugin */
    for (int m = 0; m < sc->nmodes; m++) {
        if (deploy_mode_unsupported(sc, sc->modes[m], true)) continue;
        json_t *cfg = deploy_plugin_config(sc, sc->modes[m], key, sizeof key);
        if (put_yaml(data, key, cfg, err) != 0) goto fail;
        if (!strcmp(sc->modes[m], mode)) snprintf(label_value, cap, "%s", key);
    }
    json_array_append_new(objs, config_map(DEPLOY_PLUGIN_CONFIGMAP, plugin_namespace, run_id, data));
    data = NULL;
    if (mig_config) mig_config[0] = 0;
    if (!strcmp(mode, "mig") && mig_config) {
        json_t *mdata = json_object();
        if (put_yaml(mdata, "config.yaml", mig_parted_config(sc, mig_config, mcap), err) != 0) {
            json_decref(mdata);
            goto fail;
        }
        json_array_append_new(objs, config_map(DEPLOY_MIG_CONFIGMAP, plugin_namespace, run_id, mdata));
    }
    return objs;
fail:
    json_decref(data);
    json_decref(objs);
    return NULL;
}

static json_t *job_labels(const deploy_spec *d, const char *workload)
{
    char w[64];
    deploy_dns_label(workload, w, 63);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "app.kubernetes.io/name", "cotenant", "app.kubernetes.io/managed-by",
                     "cotenant", DEPLOY_LABEL_RUN, d->run_id, DEPLOY_LABEL_SEGMENT, d->segment, DEPLOY_LABEL_WORKLOAD, w,
                     DEPLOY_LABEL_MODE, d->mode);
}

json_t *deploy_k8s_jobs(const deploy_spec *d, cot_err *err)
{
    json_t *jobs = json_array();
    char names[EXECUTOR_MAX_WORKLOADS][64];
    char plugin_key[64];
    json_decref(deploy_plugin_config(d->sc, d->mode, plugin_key, sizeof plugin_key));
    char mig_name[64] = "";
    if (!strcmp(d->mode, "mig")) json_decref(mig_parted_config(d->sc, mig_name, sizeof mig_name));
    for (int i = 0; i < d->n; i++) {
        const workload_spec *w = &d->sc->workloads[d->idx[i]];
        char text[160];
        snprintf(text, sizeof text, "%s-%s", d->name, w->name);
        deploy_dns_label(text, names[i], 63);
        for (int j = 0; j < i; j++)
            if (!strcmp(names[i], names[j])) {
                cot_errf(err, "workloads %s and %s would both be Job %s; rename one (Kubernetes names are lower case, "
                              "with dashes for other characters)",
                         d->sc->workloads[d->idx[j]].name, w->name, names[i]);
                json_decref(jobs);
                return NULL;
            }
        json_t *cmd = deploy_agent_command(d, i, NULL, err);
        if (!cmd) {
            json_decref(jobs);
            return NULL;
        }
        json_t *env = json_array(), *envobj = deploy_env(d, i);
        const char *k;
        json_t *v;
        json_object_foreach(envobj, k, v) json_array_append_new(env, json_pack("{s:s, s:O}", "name", k, "value", v));
        json_decref(envobj);
        json_t *limits = json_object();
        if (uses_gpu(d->sc, d->idx[i])) {
            char res[96];
            if (!strcmp(d->mode, "mig")) snprintf(res, sizeof res, "nvidia.com/mig-%s", w->mig_profile ? w->mig_profile : "");
            else snprintf(res, sizeof res, "nvidia.com/gpu");
            json_object_set_new(limits, res, json_integer(1));
        }
        json_t *container = json_pack("{s:s, s:s, s:s, s:o, s:o, s:{s:o}}", "name", "workload", "image", d->image,
                                      "imagePullPolicy", "IfNotPresent", "command", cmd, "env", env, "resources",
                                      "limits", limits);
        /* All on the node the mode's label configured (or the one named). */
        json_t *selector = d->node ? json_pack("{s:s}", "kubernetes.io/hostname", d->node)
                           : mig_name[0] ? json_pack("{s:s}", DEPLOY_MIG_CONFIG_LABEL, mig_name)
                                         : json_pack("{s:s}", DEPLOY_PLUGIN_CONFIG_LABEL, plugin_key);
        json_t *pod = json_pack("{s:s, s:i, s:o, s:{s:b}, s:[o]}", "restartPolicy", "Never", "terminationGracePeriodSeconds",
                                (int)ceil(d->grace_s), "nodeSelector", selector, "securityContext", "runAsNonRoot", 1,
                                "containers", container);
        json_t *job = json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:{s:i, s:I, s:{s:{s:o}, s:o}}}", "apiVersion", "batch/v1",
                                "kind", "Job", "metadata", "name", names[i], "namespace", d->k8s_namespace, "labels",
                                job_labels(d, w->name), "spec", "backoffLimit", 0, "activeDeadlineSeconds",
                                (json_int_t)ceil(d->stop_after_s + d->grace_s + 600), "template", "metadata", "labels",
                                job_labels(d, w->name), "spec", pod);
        json_array_append_new(jobs, job);
    }
    return jobs;
}
