/* exec_common.h - what the container executors share: the state every one
 * of them starts from, the deploy_spec of a segment, and how a workload is
 * followed. Each keeps the rest of its state in a struct of its own whose
 * first member is an exec_base. */
#ifndef COTENANT_EXEC_COMMON_H
#define COTENANT_EXEC_COMMON_H

#include <limits.h>

#include "deploy/deploy.h"
#include "exec/executor.h"
#include "exec/tool_run.h"
#include "util/strvec.h"

typedef struct {
    executor ex;
    executor_opts o;
    char run_dir[PATH_MAX];
    char log_path[PATH_MAX];  /* deploy/commands.log */
    char run_id[48];          /* the cotenant.io/run label: the results folder's name, a random suffix */
    char project[64];         /* this segment's Compose project / Job name prefix */
    char dir[PATH_MAX];       /* this segment's deploy/<segment>/ */
    char file[PATH_MAX];      /* this segment's compose.yaml / jobs.yaml */
    /* A command whose stdout is the i-th workload's tagged log stream. */
    int (*follow_argv)(executor *ex, const exec_segment *s, int i, strvec *argv);
} exec_base;

/* A new executor's state, size bytes of which the exec_base is the start:
 * deploy/ made, the run id chosen. */
void *exec_base_new(size_t size, const executor_ops *ops, const executor_opts *o, const char *run_dir, cot_err *err);
void exec_base_close(executor *ex);

/* The segment as a deploy_spec (the image, names and labels from the run),
 * and its folder deploy/<segment>/ made (b->dir). */
int exec_segment_spec(exec_base *b, const exec_segment *s, deploy_spec *d, cot_err *err);

/* start for the container executors: a follower of the workload's log
 * stream (b->follow_argv), whose stdout the segment reads as it would read
 * a local workload's events; its own stderr goes to follow.log in dir. */
int exec_follow_start(executor *ex, const exec_segment *s, int i, const char *dir, child_proc *proc, proc_cgroup *cg,
                      cot_err *err);

/* The tool's argv prefix: docker compose (COTENANT_COMPOSE) or kubectl (COTENANT_KUBECTL). */
void exec_compose_argv(const exec_base *b, strvec *argv);
void exec_kubectl_argv(strvec *argv);

#endif
