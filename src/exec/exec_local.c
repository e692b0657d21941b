/* The local executor: each workload a child process of cotenant's, in a
 * process group (and, where the machine gives one, a cgroup) of its own,
 * its events on a pipe at PROC_EVENTS_FD and its stdout and stderr on
 * pipes that the segment reads into bounded logs. The mode is set up on
 * this host (prepare / teardown), and there is no project to write. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "exec/executor.h"
#include "exec/cpu_share.h"
#include "exec/keeper.h"

/* The table line, at the end of this file. */
extern const executor_ops executor_local;

static executor *open_local(const executor_opts *o, const char *run_dir, cot_err *err)
{
    (void)o, (void)run_dir;
    executor *ex = calloc(1, sizeof *ex);
    if (!ex) {
        cot_errf(err, "out of memory");
        return NULL;
    }
    ex->ops = &executor_local;
    return ex;
}

static void close_local(executor *ex)
{
    free(ex);
}

static int mode_up(executor *ex, mode_state *ms, cot_err *err)
{
    (void)ex;
    return ms->ops->prepare(ms, err);
}

static void mode_down(executor *ex, mode_state *ms)
{
    (void)ex;
    ms->ops->teardown(ms);
}

static int segment_up(executor *ex, const exec_segment *s, cot_err *err)
{
    (void)ex, (void)s, (void)err;
    return 0;
}

static void segment_down(executor *ex, const exec_segment *s)
{
    (void)ex, (void)s;
}

static int start(executor *ex, const exec_segment *s, int i, const char *dir, child_proc *proc, proc_cgroup *cg,
                 cot_err *err)
{
    (void)ex, (void)dir;
    const workload_spec *w = &s->sc->workloads[s->idx[i]];
    strvec argv = {0}, env = {0};
    int rc = -1;
    if (workload_argv(w, &s->addr[i], &argv, err) != 0 || strvec_from_environ(&env) != 0) goto out;
    if (s->mode->ops->env_for(s->mode, w, &env, err) != 0) goto out;
    if (workload_env(s->sc, w, s->mode->ops->name, s->seg->repeat, &s->addr[i], &env) != 0) {
        cot_errf(err, "out of memory");
        goto out;
    }
    char fd_text[8];
    snprintf(fd_text, sizeof fd_text, "%d", PROC_EVENTS_FD);
    strvec_setenv(&env, "COTENANT_EVENTS_FD", fd_text);
    char group[SCENARIO_NAME_MAX + 16];
    snprintf(group, sizeof group, "%d-%s", s->seg->index, w->name);
    keeper_workload_group(group, cg); /* none: the subreaper and the run's mark still find what escapes */
    /* output through pipes, so that cotenant keeps each log bounded */
    cpu_set_t cpus;
    bool confined = cpu_share_of(s->sc, s->idx[i], &cpus);
    spawn_opts o = {.argv = argv.v, .envp = env.v, .stdout_pipe = true, .stderr_pipe = true, .events_pipe = true,
                    .cgroup_procs = cg->dir[0] ? cg->procs : NULL, .cpus = confined ? &cpus : NULL,
                    .set_nice = w->nice_set, .nice = w->nice};
    rc = proc_spawn(&o, proc, err);
out:
    strvec_free(&argv);
    strvec_free(&env);
    return rc;
}

/* SIGTERM to the workload's process group; SIGKILL at once for kill. */
static int stop(executor *ex, const exec_segment *s, int i, bool kill, cot_err *err)
{
    (void)ex, (void)err;
    for (int k = i < 0 ? 0 : i; k < (i < 0 ? s->n : i + 1); k++)
        if (s->proc[k] && s->proc[k]->running) proc_signal_group(s->proc[k], kill ? SIGKILL : SIGTERM);
    return 0;
}

const executor_ops executor_local = {
    .name = "local",
    .same_host = true,
    .via_agent = false,
    .runs_cpu = true,
    .open = open_local,
    .close = close_local,
    .mode_up = mode_up,
    .mode_down = mode_down,
    .segment_up = segment_up,
    .start = start,
    .stop = stop,
    .segment_down = segment_down,
};
