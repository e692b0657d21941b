/* proc.h - starting, watching and stopping child processes, never through a shell.
 *
 * Each child runs in its own process group, so a stop reaches everything it
 * started; it dies with cotenant (PR_SET_PDEATHSIG) if cotenant itself is
 * killed; and cotenant is a child subreaper, so grandchildren that escape
 * their group are still ours to find and stop. */
#ifndef COTENANT_PROC_H
#define COTENANT_PROC_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

#define PROC_EVENTS_FD 3

typedef struct {
    pid_t pid;           /* also the process group id */
    int events_fd;       /* read end of the event pipe, or -1 */
    int stdin_fd;        /* write end of a stdin pipe, or -1 */
    int stdout_fd, stderr_fd; /* read ends of stdout/stderr pipes (non-blocking), or -1 */
    int64_t started_ns, ended_ns;
    bool running;
    int wait_status;     /* as waitpid gives it, valid once !running */
} child_proc;

typedef struct {
    char *const *argv;
    char *const *envp;
    const char *stdout_path;  /* NULL: /dev/null */
    const char *stderr_path;  /* NULL: /dev/null */
    bool events_pipe;         /* give the child PROC_EVENTS_FD */
    bool stdin_pipe;          /* give the parent a pipe to the child's stdin */
    bool stdout_pipe;         /* the child's stdout into a pipe the parent reads (stdout_path ignored) */
    bool stderr_pipe;         /* the same for stderr */
    const char *cwd;          /* NULL: cotenant's own; else the child starts there */
    const char *cgroup_procs; /* NULL, or a cgroup.procs the child joins before exec (sys/proc_cgroup.h) */
    const cpu_set_t *cpus;    /* NULL, or the CPUs the child may run on (sched_setaffinity) */
    bool set_nice;            /* the child takes niceness `nice` (setpriority) */
    int nice;
} spawn_opts;

/* Makes cotenant a child subreaper and ignores SIGPIPE; call once at start. */
void proc_global_init(void);
int proc_spawn(const spawn_opts *o, child_proc *c, cot_err *err);
/* Non-blocking reap; returns true if the child has ended (now or before). */
bool proc_poll(child_proc *c);
/* Signals the whole process group. */
void proc_signal_group(const child_proc *c, int sig);
/* Waits for the child up to timeout_ns, then kills its group and reaps it.
 * Returns true if it ended without SIGKILL. */
bool proc_wait_or_kill(child_proc *c, int64_t timeout_ns);
/* Kills and reaps every other child of cotenant (grandchildren adopted
 * through the subreaper), except the pids listed in keep. */
int proc_kill_strays(const pid_t *keep, int nkeep);
/* A child of cotenant's that proc_kill_strays always leaves (the keeper). */
void proc_spare(pid_t pid);
/* Which of the process trees rooted at roots[] (each root also leads its
 * own process group) pid belongs to: found by its process group, or by
 * walking its parents, through /proc. -1 for none of them. */
int proc_tree_index(pid_t pid, const pid_t *roots, int n);
/* "exit code 3", "killed by signal 9 (Killed)"... */
/* Why path cannot be run, as a phrase after the path ("does not exist",
 * "is not executable: chmod +x it" ...); "" when it can. */
void proc_why_not_executable(const char *path, char *why, size_t cap);
void proc_describe_status(int wait_status, char *out, size_t cap);
/* Looks an executable up: an absolute/relative path as is, otherwise next
 * to cotenant's own binary, then on PATH. Fills out (PATH_MAX). */
int proc_find_executable(const char *name, char *out, size_t cap);

#endif
