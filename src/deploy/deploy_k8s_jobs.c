/* A segment's Kubernetes Jobs.
 *
 * A pod per workload, except that a load generator shares its server's
 * pod: containers of one pod share its network, so the generator reaches
 * the server on 127.0.0.1 as it does in a local run, and both land on the
 * node together. The generator's agent waits for the server to answer
 * ready. Only containers that compute ask for a GPU (or a MIG profile).
 * With the scenario's telemetry on, one more Job samples the node's GPUs
 * for the segment: `cotenant monitor --csv -` with every GPU visible
 * (NVIDIA_VISIBLE_DEVICES=all, no GPU requested, so it takes no replica)
 * and the node's PID namespace, so that it can tell which GPU process is
 * which workload's from their COTENANT_SEGMENT and COTENANT_WORKLOAD. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "deploy/deploy.h"
#include "telemetry/env_owner.h"

#define SAMPLER_SUFFIX "gpu-sampler"

static json_t *job_labels(const deploy_spec *d, const char *workload)
{
    json_t *l = json_pack("{s:s, s:s, s:s, s:s, s:s}", "app.kubernetes.io/name", "cotenant", "app.kubernetes.io/managed-by",
                          "cotenant", DEPLOY_LABEL_RUN, d->run_id, DEPLOY_LABEL_SEGMENT, d->segment, DEPLOY_LABEL_MODE,
                          d->mode);
    if (workload) {
        char w[64];
        deploy_dns_label(workload, w, 63);
        json_object_set_new(l, DEPLOY_LABEL_WORKLOAD, json_string(w));
    } else {
        json_object_set_new(l, DEPLOY_LABEL_ROLE, json_string(SAMPLER_SUFFIX));
    }
    return l;
}

/* All on the node the mode's label configured (or the one named). */
static json_t *node_selector(const deploy_spec *d)
{
    if (d->node) return json_pack("{s:s}", "kubernetes.io/hostname", d->node);
    char key[64];
    if (deploy_mode(d->mode)->mig_devices) {
        json_decref(deploy_mig_parted_config(d->sc, key, sizeof key));
        return json_pack("{s:s}", DEPLOY_MIG_CONFIG_LABEL, key);
    }
    json_decref(deploy_plugin_config(d->sc, d->mode, key, sizeof key));
    return json_pack("{s:s}", DEPLOY_PLUGIN_CONFIG_LABEL, key);
}

static json_t *job(const deploy_spec *d, const char *name, const char *workload, json_t *containers, bool host_pid)
{
    /* runAsNonRoot needs a numeric user to check: the image's */
    json_t *pod = json_pack("{s:s, s:i, s:o, s:{s:b, s:i, s:i}, s:o}", "restartPolicy", "Never",
                            "terminationGracePeriodSeconds", (int)ceil(d->grace_s), "nodeSelector", node_selector(d),
                            "securityContext", "runAsNonRoot", 1, "runAsUser", DEPLOY_IMAGE_UID, "runAsGroup",
                            DEPLOY_IMAGE_UID, "containers", containers);
    if (host_pid) json_object_set_new(pod, "hostPID", json_true());
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:{s:i, s:I, s:{s:{s:o}, s:o}}}", "apiVersion", "batch/v1", "kind", "Job",
                     "metadata", "name", name, "namespace", d->k8s_namespace, "labels", job_labels(d, workload), "spec",
                     "backoffLimit", 0, "activeDeadlineSeconds", (json_int_t)ceil(d->stop_after_s + d->grace_s + 600),
                     "template", "metadata", "labels", job_labels(d, workload), "spec", pod);
}

static json_t *env_list(json_t *envobj)
{
    json_t *env = json_array(), *v;
    const char *k;
    json_object_foreach(envobj, k, v) json_array_append_new(env, json_pack("{s:s, s:O}", "name", k, "value", v));
    json_decref(envobj);
    return env;
}

static json_t *workload_container(const deploy_spec *d, int i, const char *name, cot_err *err)
{
    const workload_spec *w = &d->sc->workloads[d->idx[i]];
    json_t *cmd = deploy_agent_command(d, i, NULL, err);
    if (!cmd) return NULL;
    json_t *limits = json_object();
    if (deploy_uses_gpu(d->sc, d->idx[i])) {
        char res[96];
        if (deploy_mode(d->mode)->mig_devices) snprintf(res, sizeof res, "nvidia.com/mig-%s", w->mig_profile ? w->mig_profile : "");
        else snprintf(res, sizeof res, "nvidia.com/gpu");
        json_object_set_new(limits, res, json_integer(1));
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:{s:o}}", "name", name, "image", d->image, "imagePullPolicy",
                     "IfNotPresent", "command", cmd, "env", env_list(deploy_env(d, i)), "resources", "limits", limits);
}

static json_t *sampler_container(const deploy_spec *d)
{
    char tag[160];
    workload_segment_tag(d->run_id, d->segment, tag, sizeof tag);
    json_t *cmd = json_pack("[s, s, s, s, s, s, s, o, s, o, s, s]", "cotenant", "monitor", "--no-tui", "--quiet", "--csv", "-",
                            "--interval", json_sprintf("%.0fms", d->sc->telemetry_interval_s * 1e3), "--duration",
                            json_sprintf("%.0fs", ceil(d->stop_after_s + d->grace_s)), "--workloads-of", tag);
    json_t *env = json_pack("[{s:s, s:s}, {s:s, s:s}]", "name", "NVIDIA_VISIBLE_DEVICES", "value", "all", "name",
                            "NVIDIA_DRIVER_CAPABILITIES", "value", "utility");
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "name", "sampler", "image", d->image, "imagePullPolicy", "IfNotPresent",
                     "command", cmd, "env", env);
}

/* Where each workload goes: its own pod, or its server's (-1: none). */
static int pod_of(const deploy_spec *d, int i)
{
    int t = scenario_target_of(d->sc, d->idx[i]);
    for (int j = 0; t >= 0 && j < d->n; j++)
        if (d->idx[j] == t && j != i) return j;
    return i;
}

static bool name_taken(const char *name, char names[][64], int n)
{
    for (int k = 0; k < n; k++)
        if (!strcmp(names[k], name)) return true;
    return false;
}

json_t *deploy_k8s_jobs(const deploy_spec *d, deploy_k8s_names *names, cot_err *err)
{
    deploy_k8s_names local;
    if (!names) names = &local;
    memset(names, 0, sizeof *names);
    json_t *jobs = json_array();
    char text[160], taken[SCENARIO_MAX_WORKLOADS + 1][64];
    int ntaken = 0;
    bool sampler = d->sc->telemetry_interval_s > 0;
    if (sampler) {
        snprintf(text, sizeof text, "%s-%s", d->name, SAMPLER_SUFFIX);
        deploy_dns_label(text, names->sampler, 63);
        snprintf(taken[ntaken++], sizeof taken[0], "%s", names->sampler);
    }
    for (int p = 0; p < d->n; p++) {
        if (pod_of(d, p) != p) continue;
        const workload_spec *server = &d->sc->workloads[d->idx[p]];
        char jname[64];
        snprintf(text, sizeof text, "%s-%s", d->name, server->name);
        deploy_dns_label(text, jname, 63);
        if (name_taken(jname, taken, ntaken)) {
            cot_errf(err, "workload %s would be Job %s, a name already taken in this segment; rename it (Kubernetes "
                          "names are lower case, with dashes for other characters)",
                     server->name, jname);
            goto fail;
        }
        snprintf(taken[ntaken++], sizeof taken[0], "%s", jname);
        json_t *containers = json_array();
        char cnames[SCENARIO_MAX_WORKLOADS][64];
        int nc = 0;
        for (int i = 0; i < d->n; i++) {
            if (pod_of(d, i) != p) continue;
            const workload_spec *w = &d->sc->workloads[d->idx[i]];
            deploy_dns_label(w->name, cnames[nc], 63);
            json_t *c = NULL;
            if (name_taken(cnames[nc], cnames, nc))
                cot_errf(err, "workload %s would be container %s of Job %s, a name already taken there; rename it",
                         w->name, cnames[nc], jname);
            else
                c = workload_container(d, i, cnames[nc], err);
            if (!c) {
                json_decref(containers);
                goto fail;
            }
            json_array_append_new(containers, c);
            snprintf(names->job[i], sizeof names->job[i], "%s", jname);
            snprintf(names->container[i], sizeof names->container[i], "%s", cnames[nc]);
            nc++;
        }
        json_array_append_new(jobs, job(d, jname, server->name, containers, false));
    }
    if (sampler) json_array_append_new(jobs, job(d, names->sampler, NULL, json_pack("[o]", sampler_container(d)), true));
    return jobs;
fail:
    json_decref(jobs);
    return NULL;
}
