/* The k8s executor: the GPU is a cluster node's, shared the way the NVIDIA
 * device plugin shares it. Per mode it applies the plugin's config (and,
 * for mig, mig-parted's), labels the node to select it, and waits until
 * the node offers what the mode needs; the label is put back afterwards,
 * whatever happened. Per segment it applies the Jobs (deploy/<segment>/
 * jobs.yaml: a pod per workload, or per server with its load generators,
 * and a GPU sampler), follows each container with `kubectl logs -f`,
 * stops them by deleting the Jobs, and removes what is left. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec_common.h"
#include "util/fs.h"
#include "util/timeutil.h"
#include "util/yaml_emit.h"

#define KUBECTL_TIMEOUT_S 120

typedef struct {
    exec_base b;
    deploy_k8s_names k8s; /* each workload's Job and container, the sampler's Job */
    /* the node labels before the run's mode changed them ("" none, "-" absent) */
    char plugin_label_before[128], mig_label_before[128];
    bool plugin_label_set, mig_label_set;
} k8s_exec;

/* kubectl WORDS...; stdout into out when given. */
static int kubectl(k8s_exec *p, const char *const *words, char *out, size_t cap, cot_err *err)
{
    strvec argv = {0};
    exec_kubectl_argv(&argv);
    for (int i = 0; words[i]; i++) strvec_push(&argv, words[i]);
    int rc = tool_run(argv.v, p->b.log_path, KUBECTL_TIMEOUT_S, out, cap, err);
    strvec_free(&argv);
    return rc;
}

/* A label key in kubectl's jsonpath, its dots escaped. */
static void jsonpath_key(const char *prefix, const char *key, char *out, size_t cap)
{
    size_t k = (size_t)snprintf(out, cap, "jsonpath={%s", prefix);
    for (const char *c = key; *c && k + 3 < cap; c++) {
        if (*c == '.') out[k++] = '\\';
        out[k++] = *c;
    }
    snprintf(out + k, cap - k, "}");
}

static int read_node_field(k8s_exec *p, const char *prefix, const char *key, char *out, size_t cap, cot_err *err)
{
    char path[256];
    jsonpath_key(prefix, key, path, sizeof path);
    const char *words[] = {"get", "node", p->b.o.node, "-o", path, NULL};
    return kubectl(p, words, out, cap, err);
}

static int set_label(k8s_exec *p, const char *key, const char *value, cot_err *err)
{
    char kv[256];
    if (value[0]) snprintf(kv, sizeof kv, "%s=%s", key, value);
    else snprintf(kv, sizeof kv, "%s-", key); /* it was not there: remove it */
    const char *words[] = {"label", "node", p->b.o.node, kv, "--overwrite", NULL};
    return kubectl(p, words, NULL, 0, err);
}

/* Saves the label's value, then sets it. */
static int move_label(k8s_exec *p, const char *key, const char *value, char *before, size_t cap, bool *set,
                      cot_err *err)
{
    if (!*set && read_node_field(p, ".metadata.labels.", key, before, cap, err) != 0) return -1;
    *set = true;
    return set_label(p, key, value, err);
}

/* What the node must offer before the mode's Jobs can be placed: the
 * replicas (timeslice, mps), a GPU (exclusive) or each MIG profile. */
static int wait_for_node(k8s_exec *p, const mode_state *ms, cot_err *err)
{
    const scenario *sc = ms->sc;
    char res[SCENARIO_MAX_WORKLOADS][96];
    int want[SCENARIO_MAX_WORKLOADS], nres = 0;
    const mode_desc *m = mode_desc_of(ms->ops);
    if (!m->mig_devices) { /* one GPU, or as many replicas as GPU workloads where the plugin shares it */
        snprintf(res[0], sizeof res[0], "nvidia.com/gpu");
        want[nres++] = m->plugin_sharing ? deploy_gpu_workloads(sc) : 1;
    } else {
        for (int i = 0; i < sc->nworkloads; i++) {
            const char *prof = sc->workloads[i].mig_profile;
            int seen_before = 0;
            for (int j = 0; j < i; j++) seen_before |= sc->workloads[j].mig_profile && prof && !strcmp(sc->workloads[j].mig_profile, prof);
            if (!prof || seen_before) continue;
            snprintf(res[nres], sizeof res[nres], "nvidia.com/mig-%s", prof);
            want[nres] = 0;
            for (int j = i; j < sc->nworkloads; j++) want[nres] += sc->workloads[j].mig_profile && !strcmp(sc->workloads[j].mig_profile, prof);
            nres++;
        }
    }
    int64_t deadline = now_ns() + (int64_t)(sc->startup_timeout_s * 1e9);
    for (;;) {
        char seen[512] = "";
        size_t k = 0;
        bool ready = true;
        for (int i = 0; i < nres; i++) {
            char val[64] = "";
            if (read_node_field(p, ".status.allocatable.", res[i], val, sizeof val, err) != 0) return -1;
            ready &= atoi(val) >= want[i];
            k += (size_t)snprintf(seen + k, k < sizeof seen ? sizeof seen - k : 0, "%s%s %s (needs %d)", k ? ", " : "", res[i],
                                  val[0] ? val : "0", want[i]);
        }
        if (ready) return 0;
        if (now_ns() > deadline)
            return cot_errf(err, "node %s does not offer what mode %s needs after %.0f s: %s. Is the device plugin reading "
                                 "ConfigMap %s (docs/containers.md)?",
                            p->b.o.node, ms->ops->name, sc->startup_timeout_s, seen, DEPLOY_PLUGIN_CONFIGMAP);
        sleep_ns(2 * NS_PER_S);
    }
}

static int mode_up(executor *ex, mode_state *ms, cot_err *err)
{
    k8s_exec *p = (k8s_exec *)ex;
    char label[64], mig_config[64], path[PATH_MAX], name[96];
    const char *plugin_ns = p->b.o.plugin_namespace ? p->b.o.plugin_namespace : "gpu-operator";
    json_t *objs = deploy_k8s_mode_objects(ms->sc, ms->ops->name, plugin_ns, p->b.run_id, label, sizeof label, mig_config,
                                           sizeof mig_config, err);
    if (!objs) return -1;
    snprintf(name, sizeof name, "deploy/mode-%s.yaml", ms->ops->name);
    int rc = fs_path_join(path, sizeof path, p->b.run_dir, name, err) ||
             yaml_write_file(path, "# Written by cotenant run --executor k8s: the device plugin's config\n", objs, err);
    json_decref(objs);
    if (rc) return -1;
    const char *apply[] = {"apply", "-f", path, NULL};
    if (kubectl(p, apply, NULL, 0, err) != 0) return -1;
    /* MIG first: the device plugin's mixed strategy lists what the MIG manager made */
    if (mig_config[0] && move_label(p, DEPLOY_MIG_CONFIG_LABEL, mig_config, p->mig_label_before,
                                    sizeof p->mig_label_before, &p->mig_label_set, err) != 0)
        return -1;
    if (move_label(p, DEPLOY_PLUGIN_CONFIG_LABEL, label, p->plugin_label_before, sizeof p->plugin_label_before,
                   &p->plugin_label_set, err) != 0)
        return -1;
    json_object_set_new(ms->info, "executor", json_string("k8s"));
    json_object_set_new(ms->info, "node", json_string(p->b.o.node));
    json_object_set_new(ms->info, "node_labels", json_pack("{s:s}", DEPLOY_PLUGIN_CONFIG_LABEL, label));
    if (mig_config[0]) json_object_set_new(json_object_get(ms->info, "node_labels"), DEPLOY_MIG_CONFIG_LABEL, json_string(mig_config));
    return wait_for_node(p, ms, err);
}

/* The labels as they were before the run: the next mode saves nothing new. */
static void mode_down(executor *ex, mode_state *ms)
{
    (void)ms;
    k8s_exec *p = (k8s_exec *)ex;
    cot_err e;
    if (p->plugin_label_set && set_label(p, DEPLOY_PLUGIN_CONFIG_LABEL, p->plugin_label_before, &e) != 0)
        cot_warn("could not put back node %s's label %s: %s", p->b.o.node, DEPLOY_PLUGIN_CONFIG_LABEL, e.msg);
    if (p->mig_label_set && set_label(p, DEPLOY_MIG_CONFIG_LABEL, p->mig_label_before, &e) != 0)
        cot_warn("could not put back node %s's label %s: %s", p->b.o.node, DEPLOY_MIG_CONFIG_LABEL, e.msg);
    p->plugin_label_set = p->mig_label_set = false;
}

static int segment_up(executor *ex, const exec_segment *s, cot_err *err)
{
    k8s_exec *p = (k8s_exec *)ex;
    deploy_spec d;
    if (exec_segment_spec(&p->b, s, &d, err) != 0) return -1;
    const char *dir = p->b.dir;
    d.k8s_namespace = p->b.o.k8s_namespace ? p->b.o.k8s_namespace : "default";
    d.node = p->b.o.node;
    json_t *jobs = deploy_k8s_jobs(&d, &p->k8s, err);
    if (!jobs) return -1;
    int rc = fs_path_join(p->b.file, sizeof p->b.file, dir, "jobs.yaml", err) ||
             yaml_write_file(p->b.file, "# Written by cotenant run --executor k8s for this segment\n", jobs, err);
    json_decref(jobs);
    if (rc) return -1;
    const char *apply[] = {"apply", "-f", p->b.file, NULL};
    return kubectl(p, apply, NULL, 0, err);
}

/* kubectl logs -f of one container of a Job's pod. */
static void logs_argv(k8s_exec *p, const exec_segment *s, const char *job, const char *container, strvec *argv)
{
    exec_kubectl_argv(argv);
    strvec_push(argv, "logs");
    strvec_push(argv, "-f");
    strvec_push(argv, "-n");
    strvec_push(argv, p->b.o.k8s_namespace ? p->b.o.k8s_namespace : "default");
    strvec_pushf(argv, "job/%s", job);
    strvec_push(argv, "-c");
    strvec_push(argv, container);
    /* the pod may wait for its image and its GPU first */
    strvec_pushf(argv, "--pod-running-timeout=%.0fs", s->sc->startup_timeout_s);
}

static int follow_argv(executor *ex, const exec_segment *s, int i, strvec *argv)
{
    k8s_exec *p = (k8s_exec *)ex;
    logs_argv(p, s, p->k8s.job[i], p->k8s.container[i], argv);
    return 0;
}

static int telemetry_argv(executor *ex, const exec_segment *s, strvec *argv)
{
    k8s_exec *p = (k8s_exec *)ex;
    if (!p->k8s.sampler[0]) return -1;
    logs_argv(p, s, p->k8s.sampler, "sampler", argv);
    return 0;
}

/* The segment's objects, by label. */
static void selector(k8s_exec *p, const exec_segment *s, char *out, size_t cap)
{
    snprintf(out, cap, "%s=%s,%s=%s", DEPLOY_LABEL_RUN, p->b.run_id, DEPLOY_LABEL_SEGMENT, s->seg->id);
}

static int stop(executor *ex, const exec_segment *s, int i, bool kill, cot_err *err)
{
    k8s_exec *p = (k8s_exec *)ex;
    if (i >= 0) return 0; /* its Job goes with the segment's */
    char sel[256];
    selector(p, s, sel, sizeof sel);
    const char *ns = p->b.o.k8s_namespace ? p->b.o.k8s_namespace : "default";
    /* Deleting a Job sends its pod SIGTERM, SIGKILL after
     * terminationGracePeriodSeconds; the agent passes the SIGTERM on. */
    const char *term[] = {"delete", "job", "-n", ns, "-l", sel, "--wait=false", "--cascade=foreground", NULL};
    const char *now[] = {"delete", "pod", "-n", ns, "-l", sel, "--wait=false", "--grace-period=0", "--force", NULL};
    return kubectl(p, kill ? now : term, NULL, 0, err);
}

static void segment_down(executor *ex, const exec_segment *s)
{
    k8s_exec *p = (k8s_exec *)ex;
    char sel[256];
    selector(p, s, sel, sizeof sel);
    const char *ns = p->b.o.k8s_namespace ? p->b.o.k8s_namespace : "default";
    const char *words[] = {"delete", "job", "-n", ns, "-l", sel, "--ignore-not-found", "--cascade=foreground", "--wait=true",
                           "--timeout=120s", NULL};
    cot_err e;
    if (kubectl(p, words, NULL, 0, &e) != 0) cot_warn("%s", e.msg);
}

/* The table line, at the end of this file. */
extern const executor_ops executor_k8s;

static executor *open_k8s(const executor_opts *o, const char *run_dir, cot_err *err)
{
    if (!o->node) {
        cot_errf(err, "--executor k8s needs --node NAME: the node whose GPU the workloads share");
        return NULL;
    }
    k8s_exec *p = exec_base_new(sizeof *p, &executor_k8s, o, run_dir, err);
    if (!p) return NULL;
    p->b.follow_argv = follow_argv;
    return &p->b.ex;
}

const executor_ops executor_k8s = {
    .name = "k8s",
    .same_host = false,
    .via_agent = true,
    .open = open_k8s,
    .close = exec_base_close,
    .mode_up = mode_up,
    .mode_down = mode_down,
    .segment_up = segment_up,
    .start = exec_follow_start,
    .stop = stop,
    .segment_down = segment_down,
    .telemetry_argv = telemetry_argv,
};
