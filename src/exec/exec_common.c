#include "exec/exec_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sys/proc.h"
#include "util/fs.h"

/* The results folder's name and six random hex digits. The suffix keeps two
 * runs whose folders share a name (results/x on two machines, or two CI
 * jobs on one host) from taking each other's Compose projects and Jobs, or
 * each other's GPU processes by COTENANT_SEGMENT. */
static void make_run_id(const char *run_dir, char *out, size_t cap)
{
    const char *base = strrchr(run_dir, '/');
    base = base && base[1] ? base + 1 : run_dir;
    char label[32];
    deploy_dns_label(base, label, 23); /* with "-xxxxxx", at most 30: room for "-s<N>-<workload>" in a name */
    unsigned r;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = (unsigned)ts.tv_nsec ^ (unsigned)getpid() * 2654435761u;
    }
    snprintf(out, cap, "%s-%06x", label, r & 0xffffffu);
}

int exec_segment_spec(exec_base *b, const exec_segment *s, deploy_spec *d, cot_err *err)
{
    memset(d, 0, sizeof *d);
    d->sc = s->sc;
    d->mode = s->mode->ops->name;
    d->repeat = s->seg->repeat;
    d->n = s->n;
    for (int i = 0; i < s->n; i++) d->idx[i] = s->idx[i], d->addr[i] = s->addr[i];
    d->image = b->o.image ? b->o.image : DEPLOY_DEFAULT_IMAGE;
    /* a name per segment, so a segment's objects never meet the last one's
     * while those are still being removed */
    char text[96];
    snprintf(text, sizeof text, "%s-s%d", b->run_id, s->seg->index);
    deploy_dns_label(text, b->project, 40);
    d->name = b->project;
    d->run_id = b->run_id;
    d->segment = s->seg->id;
    d->stop_after_s = s->stop_after_s;
    d->grace_s = s->sc->grace_s;
    char name[PATH_MAX];
    snprintf(name, sizeof name, "deploy/%s", s->seg->id);
    return fs_path_join(b->dir, sizeof b->dir, b->run_dir, name, err) || fs_mkdir_p(b->dir, err) ? -1 : 0;
}

int exec_follow_start(executor *ex, const exec_segment *s, int i, const char *dir, child_proc *proc, proc_cgroup *cg,
                      cot_err *err)
{
    (void)cg; /* a container's processes are the container engine's */
    exec_base *b = (exec_base *)ex;
    strvec argv = {0};
    char follow_path[PATH_MAX];
    if (fs_path_join(follow_path, sizeof follow_path, dir, "follow.log", err)) return -1;
    if (b->follow_argv(ex, s, i, &argv) != 0 || !argv.v) {
        strvec_free(&argv);
        return cot_errf(err, "out of memory");
    }
    spawn_opts o = {.argv = argv.v, .envp = environ, .stderr_path = follow_path, .stdout_pipe = true};
    int rc = proc_spawn(&o, proc, err);
    if (rc == 0) { /* the segment reads the stream where it reads events */
        proc->events_fd = proc->stdout_fd;
        proc->stdout_fd = -1;
    }
    strvec_free(&argv);
    return rc;
}

/* Compose v2 (the docker CLI's plugin) where `docker compose version`
 * answers, else v1 (docker-compose) where it is installed, else v2 again,
 * so that the error names the command a user would install. Asked once per
 * run; the probe is logged with the other commands. */
static const char *const *compose_words(const char *log_path)
{
    static const char *const v2[] = {"docker", "compose", NULL}, *const v1[] = {"docker-compose", NULL};
    static const char *const *chosen;
    if (chosen) return chosen;
    char *const probe[] = {"docker", "compose", "version", NULL};
    char found[PATH_MAX];
    cot_err e;
    if (tool_run(probe, log_path, 30, NULL, 0, &e) == 0) chosen = v2;
    else chosen = proc_find_executable("docker-compose", found, sizeof found) == 0 ? v1 : v2;
    return chosen;
}

void exec_compose_argv(const exec_base *b, strvec *argv)
{
    /* the probe only where COTENANT_COMPOSE does not say */
    const char *v = getenv("COTENANT_COMPOSE");
    bool said = v && v[strspn(v, " ")];
    static const char *const unused[] = {NULL};
    tool_argv(argv, "COTENANT_COMPOSE", said ? unused : compose_words(b->log_path));
    strvec_push(argv, "-f");
    strvec_push(argv, b->file);
    strvec_push(argv, "-p");
    strvec_push(argv, b->project);
}

void exec_kubectl_argv(strvec *argv)
{
    static const char *const def[] = {"kubectl", NULL};
    tool_argv(argv, "COTENANT_KUBECTL", def);
}

void *exec_base_new(size_t size, const executor_ops *ops, const executor_opts *o, const char *run_dir, cot_err *err)
{
    exec_base *b = calloc(1, size);
    if (!b) {
        cot_errf(err, "out of memory");
        return NULL;
    }
    b->o = *o;
    snprintf(b->run_dir, sizeof b->run_dir, "%s", run_dir);
    char dir[PATH_MAX];
    if (fs_path_join(dir, sizeof dir, run_dir, "deploy", err) || fs_mkdir_p(dir, err) ||
        fs_path_join(b->log_path, sizeof b->log_path, dir, "commands.log", err)) {
        free(b);
        return NULL;
    }
    make_run_id(run_dir, b->run_id, sizeof b->run_id);
    b->ex.ops = ops;
    b->ex.run_id = b->run_id;
    return b;
}

void exec_base_close(executor *ex)
{
    free(ex);
}
