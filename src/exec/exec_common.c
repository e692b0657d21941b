#include "exec/exec_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/fsutil.h"

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

void exec_segment_spec(exec_priv *p, const exec_segment *s, deploy_spec *d)
{
    memset(d, 0, sizeof *d);
    d->sc = s->sc;
    d->mode = s->mode->ops->name;
    d->repeat = s->seg->repeat;
    d->n = s->n;
    for (int i = 0; i < s->n; i++) d->idx[i] = s->idx[i], d->addr[i] = s->addr[i];
    d->image = p->o.image ? p->o.image : DEPLOY_DEFAULT_IMAGE;
    /* a name per segment, so a segment's objects never meet the last one's
     * while those are still being removed */
    char text[96];
    snprintf(text, sizeof text, "%s-s%d", p->run_id, s->seg->index);
    deploy_dns_label(text, p->project, 40);
    d->name = p->project;
    d->run_id = p->run_id;
    d->segment = s->seg->id;
    d->stop_after_s = s->stop_after_s;
    d->grace_s = s->sc->grace_s;
}

void exec_compose_argv(const exec_priv *p, strvec *argv)
{
    static const char *const def[] = {"docker", "compose", NULL};
    tool_argv(argv, "COTENANT_COMPOSE", def);
    strvec_push(argv, "-f");
    strvec_push(argv, p->file);
    strvec_push(argv, "-p");
    strvec_push(argv, p->project);
}

void exec_kubectl_argv(strvec *argv)
{
    static const char *const def[] = {"kubectl", NULL};
    tool_argv(argv, "COTENANT_KUBECTL", def);
}

/* The executors by name. The local one runs workloads as cotenant's own
 * children and needs no object (segment.c). */
static const struct {
    const char *name;
    executor *(*open)(const executor_opts *o, const char *run_dir, cot_err *err);
} executors[] = {{"compose", executor_compose_new}, {"k8s", executor_k8s_new}};

executor *executor_open(const char *name, const executor_opts *o, const char *run_dir, cot_err *err)
{
    for (size_t i = 0; i < sizeof executors / sizeof executors[0]; i++)
        if (!strcmp(executors[i].name, name)) return executors[i].open(o, run_dir, err);
    cot_errf(err, "unknown executor '%s'; expected local, compose or k8s", name);
    return NULL;
}

void executor_close(executor *ex)
{
    free(ex ? ex->priv : NULL);
}

exec_priv *exec_priv_new(const executor_opts *o, const char *run_dir, cot_err *err)
{
    exec_priv *p = calloc(1, sizeof *p);
    if (!p) {
        cot_errf(err, "out of memory");
        return NULL;
    }
    p->o = *o;
    snprintf(p->run_dir, sizeof p->run_dir, "%s", run_dir);
    char dir[PATH_MAX];
    if (path_join(dir, sizeof dir, run_dir, "deploy", err) || mkdir_p(dir, err) ||
        path_join(p->log_path, sizeof p->log_path, dir, "commands.log", err)) {
        free(p);
        return NULL;
    }
    make_run_id(run_dir, p->run_id, sizeof p->run_id);
    p->ops.priv = p;
    return p;
}
