/* exec_common.h - what the container executors share: their state and the
 * deploy_spec of a segment. */
#ifndef COTENANT_EXEC_COMMON_H
#define COTENANT_EXEC_COMMON_H

#include <limits.h>

#include "deploy/deploy.h"
#include "exec/executor.h"
#include "exec/tool_run.h"
#include "util/strvec.h"

typedef struct {
    executor ops;
    executor_opts o;
    char run_dir[PATH_MAX];
    char log_path[PATH_MAX];  /* deploy/commands.log */
    char run_id[48];          /* the cotenant.io/run label: the results folder's name, a random suffix */
    char project[64];         /* this segment's Compose project / Job name prefix */
    char file[PATH_MAX];      /* this segment's compose.yaml / jobs.yaml */
    char names[SCENARIO_MAX_WORKLOADS][64]; /* compose: the services */
    deploy_k8s_names k8s;                   /* k8s: each workload's Job and container, the sampler's Job */
    char mig_ids[SCENARIO_MAX_WORKLOADS][96]; /* compose, mig: each workload's MIG device */
    /* k8s: the node labels before the run's mode changed them ("" none, "-" absent) */
    char plugin_label_before[128], mig_label_before[128];
    bool plugin_label_set, mig_label_set;
} exec_priv;

/* A segment as a deploy_spec: the image, names and labels from the run. */
void exec_segment_spec(exec_priv *p, const exec_segment *s, deploy_spec *d);

/* The tool's argv prefix: docker compose (COTENANT_COMPOSE) or kubectl (COTENANT_KUBECTL). */
void exec_compose_argv(const exec_priv *p, strvec *argv);
void exec_kubectl_argv(strvec *argv);

/* The state both constructors start from: deploy/ made, the run id chosen. */
exec_priv *exec_priv_new(const executor_opts *o, const char *run_dir, cot_err *err);

#endif
