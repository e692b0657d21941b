/* keeper.h - no process of a run outlives cotenant, even a SIGKILLed one.
 *
 * Workloads are cotenant's children in process groups of their own, with
 * SIGKILL as their parent-death signal, and cotenant is a subreaper: what a
 * workload leaves behind comes back to cotenant, which kills it at the end
 * of each segment (proc_kill_strays). None of that survives SIGKILL to
 * cotenant itself: the parent-death signal reaches only direct children,
 * and orphans then go to init. So a run starts a keeper: a small process in
 * a session of its own that waits on a pipe from cotenant. cotenant marks
 * its environment with KEEPER_MARK_VAR=<token>, which every process it
 * starts inherits, however deep and whatever sessions they make. At a
 * normal end cotenant tells the keeper so; if the pipe closes without that
 * word, cotenant died, and the keeper kills the run's cgroup (where there
 * is one) and every process that carries the token, until a pass finds
 * none. Without a cgroup, a process that rewrites its environment and
 * leaves its session escapes a SIGKILLed cotenant. */
#ifndef COTENANT_KEEPER_H
#define COTENANT_KEEPER_H

#include <sys/types.h>

#include "sys/proc_cgroup.h"
#include "util/err.h"

#define KEEPER_MARK_VAR "COTENANT_RUN_MARK"

/* Starts the keeper and sets the mark in cotenant's environment; also
 * creates the run's cgroup where the machine allows (sys/proc_cgroup.h). */
int keeper_start(cot_err *err);
/* How the run's processes are tracked, for run.json: "cgroup v2",
 * "cgroup v1 (pids)", or the environment mark and why no cgroup. */
const char *keeper_tracking(void);
/* A cgroup of the run's for one workload's run; -1 (g->dir "") when the
 * run has none. */
int keeper_workload_group(const char *name, proc_cgroup *g);
/* A normal end (every segment's processes already killed): the keeper
 * leaves without looking. Safe to call when keeper_start was not. */
void keeper_release(void);

#endif
