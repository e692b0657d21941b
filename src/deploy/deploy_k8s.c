/* Kubernetes objects for the NVIDIA device plugin and the GPU Operator:
 *
 * - the device plugin's config (a ConfigMap, one key per mode, each a
 *   `version: v1` config with sharing.timeSlicing or sharing.mps replicas,
 *   or the mixed MIG strategy), selected on a node by the label
 *   nvidia.com/device-plugin.config=KEY;
 * - for mig, a mig-parted config (a ConfigMap the GPU Operator's MIG
 *   manager reads) selected by nvidia.com/mig.config=NAME, and each Job
 *   asking for its profile as nvidia.com/mig-<profile>;
 * - the Jobs of a segment (deploy_k8s_jobs.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/deploy.h"
#include "mig/mig_parted.h"
#include "scenario/kinds.h"
#include "util/yaml_emit.h"

bool deploy_uses_gpu(const scenario *sc, int w)
{
    const workload_spec *ws = &sc->workloads[w];
    if (ws->target || sc->device == DEVICE_CPU) return false;
    const builtin_kind *k = ws->kind ? kind_lookup(ws->kind) : NULL;
    return !k || k->device == DEVICE_GPU;
}

int deploy_gpu_workloads(const scenario *sc)
{
    int n = 0;
    for (int i = 0; i < sc->nworkloads; i++) n += deploy_uses_gpu(sc, i);
    return n;
}

int deploy_plugin_replicas(const scenario *sc)
{
    /* the device plugin refuses fewer than 2 replicas in a sharing config
     * (api/config/v1/replicas.go): a scenario with one GPU workload still
     * shares the GPU with its other modes' label, so it asks for 2 */
    int n = deploy_gpu_workloads(sc);
    return n < 2 ? 2 : n;
}

int deploy_mps_capped(const scenario *sc, char *why, size_t cap)
{
    int cap_pct = 100 / deploy_plugin_replicas(sc), n = 0;
    size_t k = 0;
    why[0] = 0;
    for (int i = 0; i < sc->nworkloads; i++) {
        const workload_spec *w = &sc->workloads[i];
        if (w->mps_active_thread_pct <= cap_pct || !deploy_uses_gpu(sc, i)) continue;
        k += (size_t)snprintf(why + k, k < cap ? cap - k : 0, "%s%s asks for %d%%", n ? ", " : "", w->name,
                              w->mps_active_thread_pct);
        n++;
    }
    if (n)
        snprintf(why + (k < cap ? k : cap - 1), k < cap ? cap - k : 1,
                 ", but the device plugin's MPS daemon gives each of its %d replicas %d%% of the SMs and a client cannot "
                 "go above its daemon's limit: those workloads get %d%% (docs/containers.md)",
                 deploy_plugin_replicas(sc), cap_pct, cap_pct);
    return n;
}

json_t *deploy_plugin_config(const scenario *sc, const char *mode, char *key, size_t keycap)
{
    int replicas = deploy_plugin_replicas(sc);
    const mode_desc *m = deploy_mode(mode);
    json_t *cfg = json_pack("{s:s, s:{s:s}}", "version", "v1", "flags", "migStrategy", m->mig_devices ? "mixed" : "none");
    if (m->plugin_sharing) {
        /* renameByDefault false: the replicas keep the name nvidia.com/gpu, so
         * the same Job asks for a GPU whichever way it is shared */
        json_t *share = json_pack("{s:b, s:[{s:s, s:i}]}", "renameByDefault", 0, "resources", "name", "nvidia.com/gpu",
                                  "replicas", replicas);
        json_object_set_new(cfg, "sharing", json_pack("{s:o}", m->plugin_sharing, share));
        snprintf(key, keycap, "cotenant-%s-%d", m->plugin_config, replicas);
    } else {
        snprintf(key, keycap, "cotenant-%s", m->plugin_config ? m->plugin_config : m->name);
    }
    return cfg;
}

json_t *deploy_mig_parted_config(const scenario *sc, char *name, size_t cap)
{
    const char *profiles[SCENARIO_MAX_WORKLOADS];
    int counts[SCENARIO_MAX_WORKLOADS], n = 0;
    for (int i = 0; i < sc->nworkloads; i++) {
        const char *p = sc->workloads[i].mig_profile;
        if (!p) continue;
        int k = 0;
        while (k < n && strcmp(profiles[k], p)) k++;
        if (k == n) profiles[n] = p, counts[n++] = 0;
        counts[k]++;
    }
    char text[512] = "cotenant";
    size_t len = strlen(text);
    for (int k = 0; k < n; k++)
        len += (size_t)snprintf(text + len, len < sizeof text ? sizeof text - len : 0, "-%dx%s", counts[k], profiles[k]);
    deploy_dns_label(text, name, cap < 64 ? cap - 1 : 63);
    return migparted_config_json(name, json_string("all"), profiles, counts, n);
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
    char key[64], capped[1024];
    if (deploy_mode(mode)->mps_clients && deploy_mps_capped(sc, capped, sizeof capped)) cot_warn("%s", capped);
    /* every mode of the scenario, so the label can move between them
     * without waiting for a ConfigMap update to reach the plugin */
    for (int m = 0; m < sc->nmodes; m++) {
        if (deploy_mode_unsupported(sc, sc->modes[m], false)) continue;
        json_t *cfg = deploy_plugin_config(sc, sc->modes[m], key, sizeof key);
        if (put_yaml(data, key, cfg, err) != 0) goto fail;
        if (!strcmp(sc->modes[m], mode)) snprintf(label_value, cap, "%s", key);
    }
    json_array_append_new(objs, config_map(DEPLOY_PLUGIN_CONFIGMAP, plugin_namespace, run_id, data));
    data = NULL;
    if (mig_config) mig_config[0] = 0;
    if (deploy_mode(mode)->mig_devices && mig_config) {
        json_t *mdata = json_object(), *parted = deploy_mig_parted_config(sc, mig_config, mcap);
        /* The GPU Operator labels MIG-capable nodes all-disabled by default,
         * and puts a node back to it: a MIG manager pointed at this
         * ConfigMap must still find that config, and all-enabled. */
        json_t *configs = json_object_get(parted, "mig-configs");
        json_object_set_new(configs, "all-disabled", json_pack("[{s:s, s:b}]", "devices", "all", "mig-enabled", 0));
        json_object_set_new(configs, "all-enabled",
                            json_pack("[{s:s, s:b, s:{}}]", "devices", "all", "mig-enabled", 1, "mig-devices"));
        if (put_yaml(mdata, "config.yaml", parted, err) != 0) {
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
