/* executor.h - where a segment's workloads run.
 *
 * Every executor is one static const executor_ops, and a line in the table
 * of exec_table.c. The local executor (exec_local.c) starts the workloads
 * as cotenant's own child processes. The container executors (compose,
 * k8s) start them through docker or kubectl, each workload wrapped in
 * `cotenant agent`, and follow each one's log stream, in which the agent
 * tags event lines, the workload's stdout and how it ended (agent.h). The
 * segment logic (window, stop, results) is the same for all of them. */
#ifndef COTENANT_EXECUTOR_H
#define COTENANT_EXECUTOR_H

#include <stdbool.h>

#include "workload/workload_cmd.h"
#include "mode/mode.h"
#include "plan/plan.h"
#include "sys/proc.h"
#include "sys/proc_cgroup.h"
#include "util/err.h"
#include "util/strvec.h"

typedef struct executor executor;
typedef struct executor_ops executor_ops;

/* One segment as an executor sees it. */
typedef struct {
    const scenario *sc;
    const plan_segment *seg;
    mode_state *mode;
    const char *run_dir;
    int n;
    int idx[SCENARIO_MAX_WORKLOADS];            /* into sc->workloads */
    workload_addr addr[SCENARIO_MAX_WORKLOADS]; /* ports of servers and load generators */
    double stop_after_s;                        /* the agents' own limit, a safety net */
    child_proc *proc[SCENARIO_MAX_WORKLOADS];   /* what start gave each workload; NULL: not started */
} exec_segment;

/* What a container executor is told on the command line. */
typedef struct {
    const char *image;            /* NULL: DEPLOY_DEFAULT_IMAGE */
    const char *k8s_namespace;    /* NULL: default */
    const char *plugin_namespace; /* NULL: gpu-operator */
    const char *node;             /* k8s: the node whose GPU is shared (required) */
} executor_opts;

struct executor_ops {
    const char *name;
    /* The workloads run on this host: its GPU is sampled here, a server's
     * readiness is checked on 127.0.0.1, and the mode's host checks apply.
     * Otherwise the agents check readiness (agent --wait-ready) and
     * telemetry_argv gives the samples. */
    bool same_host;
    /* Each workload runs under `cotenant agent` in a container: start gives
     * a follower of its tagged log stream, its events carry its node's
     * clock, its GPU processes are known by COTENANT_SEGMENT (not by pid),
     * its program is looked up in the image (not on this host), and which
     * modes it runs is deploy_mode_unsupported's to say. */
    bool via_agent;
    /* It runs CPU scenarios (device: cpu) too. */
    bool runs_cpu;
    /* A new executor for a run whose results go to run_dir; NULL with err
     * for missing options. */
    executor *(*open)(const executor_opts *o, const char *run_dir, cot_err *err);
    void (*close)(executor *ex);
    /* Per mode: what the host or cluster needs (GPU settings, MIG layout,
     * device plugin config and node label), undone by mode_down on every
     * way out. */
    int (*mode_up)(executor *ex, mode_state *ms, cot_err *err);
    void (*mode_down)(executor *ex, mode_state *ms);
    /* Writes the segment's project (deploy/<segment>/) and starts it. */
    int (*segment_up)(executor *ex, const exec_segment *s, cot_err *err);
    /* Starts the i-th workload, whose results folder is dir: proc's
     * events_fd carries its events (or its tagged stream), its stdout_fd
     * and stderr_fd its output where piped; cg its own cgroup, if any. */
    int (*start)(executor *ex, const exec_segment *s, int i, const char *dir, child_proc *proc, proc_cgroup *cg,
                 cot_err *err);
    /* Stops the i-th workload (-1: every one still running): SIGTERM, or at
     * once (kill). Containers are stopped with their segment: for one
     * workload, the container executors do nothing until then. */
    int (*stop)(executor *ex, const exec_segment *s, int i, bool kill, cot_err *err);
    /* Removes what segment_up created; called on every way out. */
    void (*segment_down)(executor *ex, const exec_segment *s);
    /* Where the GPU is not on this host: a command whose stdout is the
     * stream of a sampler on the GPU's machine (`cotenant monitor --csv -`),
     * started with the segment's workloads; NULL: none. */
    int (*telemetry_argv)(executor *ex, const exec_segment *s, strvec *argv);
};

struct executor {
    const executor_ops *ops;
    /* The cotenant.io/run label, and the first half of every workload's
     * COTENANT_SEGMENT (workload_segment_tag); NULL for the local one. */
    const char *run_id;
};

/* An executor's description by name, from the table (exec_table.c); NULL
 * for none. executor_names() lists them ("local, compose or k8s"). */
const executor_ops *executor_lookup(const char *name);
const char *executor_names(void);
/* The first line of the table: local, the executor of a run that names none. */
const executor_ops *executor_default(void);
void executor_close(executor *ex);

#endif
