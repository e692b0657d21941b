/* proc_cgroup.h - a workload's processes in a cgroup of their own, so that
 * every one of them can be found and killed, whatever sessions it made or
 * environment it rewrote.
 *
 * cgroup v2 (the unified hierarchy at /sys/fs/cgroup, or at
 * /sys/fs/cgroup/unified on a hybrid machine) is preferred: cgroup.kill
 * ends a whole group at once. On a cgroup v1 machine the pids hierarchy
 * serves, its members killed until none is left. Either needs write access
 * to the cgroup cotenant runs in (root, or a delegated group); where there
 * is none, cotenant says so and falls back to its other means (the
 * subreaper and the run's environment mark, exec/keeper.h). Only grouping
 * is used: no controller is enabled and no limit set. */
#ifndef COTENANT_PROC_CGROUP_H
#define COTENANT_PROC_CGROUP_H

#include <limits.h>
#include <stdbool.h>

#include "util/err.h"

typedef struct {
    char dir[PATH_MAX];   /* "" when the group does not exist */
    char procs[PATH_MAX]; /* its cgroup.procs: what a process writes "0" to, to join */
    bool v2;
} proc_cgroup;

/* Creates the run's group NAME under cotenant's own cgroup: v2 first, then
 * v1's pids hierarchy. -1 with why set (no writable cgroup hierarchy). */
int proc_cgroup_create_base(const char *name, proc_cgroup *base, cot_err *why);
/* A group under base for one workload's run. -1 with why set. */
int proc_cgroup_create_child(const proc_cgroup *base, const char *name, proc_cgroup *g, cot_err *why);
/* Kills every process in g and its descendants, until none is left (a
 * bounded number of passes); returns how many were seen. */
int proc_cgroup_kill(const proc_cgroup *g);
/* Removes g (and groups below it, emptied first). */
void proc_cgroup_remove(proc_cgroup *g);
/* "cgroup v2" or "cgroup v1 (pids)", for the record. */
const char *proc_cgroup_kind(const proc_cgroup *g);

#endif
