/* executor.h - where a segment's workloads run.
 *
 * The local executor (no executor object) starts them as cotenant's own
 * child processes. The container executors (compose, k8s) start them
 * through docker or kubectl, each workload wrapped in `cotenant agent`,
 * and follow each one's log stream, in which the agent tags event lines,
 * the workload's stdout and how it ended (agent.h). The segment logic
 * (window, stop, results) is the same for all of them. */
#ifndef COTENANT_EXECUTOR_H
#define COTENANT_EXECUTOR_H

#include <stdbool.h>

#include "workload/workload_cmd.h"
#include "mode/mode.h"
#include "plan/plan.h"
#include "util/err.h"
#include "util/strvec.h"


typedef struct executor executor;

/* One segment as an executor sees it. */
typedef struct {
    const scenario *sc;
    const plan_segment *seg;
    mode_state *mode;
    const char *run_dir;
    int n;
    int idx[SCENARIO_MAX_WORKLOADS];           /* into sc->workloads */
    workload_addr addr[SCENARIO_MAX_WORKLOADS]; /* ports of servers and load generators */
    double stop_after_s;                        /* the agents' own limit, a safety net */
} exec_segment;

struct executor {
    const char *name;
    /* Per mode: what the host or cluster needs (MIG layout, device plugin
     * config and node label), undone by mode_down on every way out. */
    int (*mode_up)(executor *ex, mode_state *ms, cot_err *err);
    void (*mode_down)(executor *ex, mode_state *ms);
    /* Writes the segment's project into dir and starts it. */
    int (*segment_up)(executor *ex, const exec_segment *s, const char *dir, cot_err *err);
    /* A command whose stdout is the i-th workload's tagged log stream. */
    int (*follow_argv)(executor *ex, const exec_segment *s, int i, strvec *argv);
    /* Stops every workload of the segment: SIGTERM, or at once (kill). */
    int (*stop)(executor *ex, const exec_segment *s, bool kill, cot_err *err);
    /* Removes what segment_up created; called on every way out. */
    void (*segment_down)(executor *ex, const exec_segment *s);
    /* Where the GPU is not on this host: a command whose stdout is the
     * stream of a sampler on the GPU's machine (`cotenant monitor --csv -`),
     * started with the segment's workloads; NULL: none. */
    int (*telemetry_argv)(executor *ex, const exec_segment *s, strvec *argv);
    /* The workloads run on this host: its GPU is sampled here, and a
     * server's readiness is checked on 127.0.0.1. Otherwise the agents
     * check it (agent --wait-ready) and telemetry_argv gives the samples. */
    bool same_host;
    /* The cotenant.io/run label, and the first half of every workload's
     * COTENANT_SEGMENT (workload_segment_tag). */
    const char *run_id;
    void *priv;
};

/* What a container executor is told on the command line. */
typedef struct {
    const char *image;            /* NULL: DEPLOY_DEFAULT_IMAGE */
    const char *k8s_namespace;    /* NULL: default */
    const char *plugin_namespace; /* NULL: gpu-operator */
    const char *node;             /* k8s: the node whose GPU is shared (required) */
} executor_opts;

/* An executor from the table of executors (exec_common.c) for a run whose
 * results go to run_dir; NULL with err for an unknown name or missing
 * options. Which modes the container executors run is the modes' own
 * knowledge (mode/desc/mode_desc.h, deploy_mode_unsupported). */
executor *executor_open(const char *name, const executor_opts *o, const char *run_dir, cot_err *err);
void executor_close(executor *ex);

/* The two container executors' constructors (exec_compose.c, exec_k8s.c). */
executor *executor_compose_new(const executor_opts *o, const char *run_dir, cot_err *err);
executor *executor_k8s_new(const executor_opts *o, const char *run_dir, cot_err *err);

#endif
