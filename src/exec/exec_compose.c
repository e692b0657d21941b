/* The compose executor: each segment a Compose project of its own
 * (deploy/<segment>/compose.yaml), started with `docker compose up -d`,
 * each service's log followed with `docker compose logs -f`, stopped with
 * `docker compose kill -s SIGTERM` and removed with `docker compose down`.
 * The GPU is on this host, so the mode's host side (the MIG layout) is set
 * up as for local runs and telemetry is sampled here; MPS is a daemon
 * service inside each project. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exec/exec_common.h"
#include "util/fs.h"
#include "util/yaml_emit.h"

typedef struct {
    exec_base b;
    char names[SCENARIO_MAX_WORKLOADS][64];   /* the services */
    char mig_ids[SCENARIO_MAX_WORKLOADS][96]; /* mig: each workload's MIG device */
} compose_exec;

/* The MPS daemon is a service of each project: no host daemon. */
static bool host_side(const mode_state *ms)
{
    return !mode_desc_of(ms->ops)->mps_clients;
}

static int mode_up(executor *ex, mode_state *ms, cot_err *err)
{
    (void)ex;
    json_object_set_new(ms->info, "executor", json_string("compose"));
    if (!host_side(ms)) {
        json_object_set_new(ms->info, "mps_daemon", json_string("a service of each segment's Compose project"));
        return 0;
    }
    return ms->ops->prepare(ms, err);
}

static void mode_down(executor *ex, mode_state *ms)
{
    (void)ex;
    if (host_side(ms)) ms->ops->teardown(ms);
}

static int run_compose(exec_base *b, const char *const *words, double timeout_s, cot_err *err)
{
    strvec argv = {0};
    exec_compose_argv(b, &argv);
    for (int i = 0; words[i]; i++) strvec_push(&argv, words[i]);
    int rc = tool_run(argv.v, b->log_path, timeout_s, NULL, 0, err);
    strvec_free(&argv);
    return rc;
}

static int segment_up(executor *ex, const exec_segment *s, cot_err *err)
{
    compose_exec *p = (compose_exec *)ex;
    deploy_spec d;
    if (exec_segment_spec(&p->b, s, &d, err) != 0) return -1;
    const char *dir = p->b.dir;
    char uid_gid[32], results[PATH_MAX], mps[PATH_MAX];
    snprintf(uid_gid, sizeof uid_gid, "%u:%u", (unsigned)getuid(), (unsigned)getgid());
    d.user = uid_gid;
    d.gpu = s->sc->gpu ? s->sc->gpu : "0";
    if (fs_path_join(results, sizeof results, dir, "results", err) || fs_mkdir_p(results, err) ||
        fs_path_join(mps, sizeof mps, dir, "mps", err) || (deploy_mode(d.mode)->mps_clients && fs_mkdir_p(mps, err)))
        return -1;
    d.results_dir = "./results";
    /* Under mig, the mode put each workload on its MIG device; Compose
     * reserves that device instead. */
    if (deploy_mode(d.mode)->mig_devices) {
        for (int i = 0; i < s->n; i++) {
            strvec env = {0};
            if (s->mode->ops->env_for(s->mode, &s->sc->workloads[s->idx[i]], &env, err) != 0) {
                strvec_free(&env);
                return -1;
            }
            const char *id = strvec_getenv(&env, "CUDA_VISIBLE_DEVICES");
            snprintf(p->mig_ids[i], sizeof p->mig_ids[i], "%s", id ? id : "");
            d.mig_device[i] = p->mig_ids[i][0] ? p->mig_ids[i] : NULL;
            strvec_free(&env);
        }
    }
    for (int i = 0; i < s->n; i++) snprintf(p->names[i], sizeof p->names[i], "%s", s->sc->workloads[s->idx[i]].name);
    json_t *doc = deploy_compose(&d, err);
    if (!doc) return -1;
    json_t *docs = json_pack("[o]", doc);
    int rc = fs_path_join(p->b.file, sizeof p->b.file, dir, "compose.yaml", err) ||
             yaml_write_file(p->b.file, "# Written by cotenant run --executor compose for this segment\n", docs, err);
    json_decref(docs);
    if (rc) return -1;
    const char *up[] = {"up", "-d", NULL};
    return run_compose(&p->b, up, s->sc->startup_timeout_s, err);
}

static int follow_argv(executor *ex, const exec_segment *s, int i, strvec *argv)
{
    (void)s;
    compose_exec *p = (compose_exec *)ex;
    exec_compose_argv(&p->b, argv);
    const char *words[] = {"logs", "-f", "--no-color", "--no-log-prefix", p->names[i], NULL};
    for (int k = 0; words[k]; k++) strvec_push(argv, words[k]);
    return 0;
}

static int stop(executor *ex, const exec_segment *s, int i, bool kill, cot_err *err)
{
    (void)s;
    if (i >= 0) return 0; /* its container stops with the project */
    const char *words[] = {"kill", "-s", kill ? "SIGKILL" : "SIGTERM", NULL};
    return run_compose((exec_base *)ex, words, 60, err);
}

static void segment_down(executor *ex, const exec_segment *s)
{
    char grace[32];
    snprintf(grace, sizeof grace, "%.0f", s->sc->grace_s);
    const char *words[] = {"down", "--volumes", "--remove-orphans", "--timeout", grace, NULL};
    cot_err e;
    if (run_compose((exec_base *)ex, words, s->sc->grace_s + 120, &e) != 0) cot_warn("%s", e.msg);
}

/* The table line, at the end of this file. */
extern const executor_ops executor_compose;

static executor *open_compose(const executor_opts *o, const char *run_dir, cot_err *err)
{
    compose_exec *p = exec_base_new(sizeof *p, &executor_compose, o, run_dir, err);
    if (!p) return NULL;
    p->b.follow_argv = follow_argv;
    return &p->b.ex;
}

const executor_ops executor_compose = {
    .name = "compose",
    .same_host = true,
    .via_agent = true,
    .runs_cpu = true,
    .open = open_compose,
    .close = exec_base_close,
    .mode_up = mode_up,
    .mode_down = mode_down,
    .segment_up = segment_up,
    .start = exec_follow_start,
    .stop = stop,
    .segment_down = segment_down,
};
