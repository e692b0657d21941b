#include "sys/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/timeutil.h"

void proc_global_init(void)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);
}

static int open_output(const char *path)
{
    return open(path ? path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

/* In the child, after fork: only async-signal-safe calls until exec. */
static void child_exec(const spawn_opts *o, pid_t parent, int out_fd, int err_fd, int ev_w, int in_r, int report_fd)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127); /* the parent died before prctl took effect */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    int in_fd = in_r >= 0 ? in_r : open("/dev/null", O_RDONLY);
    if (in_fd < 0 || dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) goto fail;
    if (ev_w >= 0 && dup2(ev_w, PROC_EVENTS_FD) < 0) goto fail;
    if (o->cwd && chdir(o->cwd) != 0) goto fail;
    /* a sweep's CPU share and niceness, before exec so that every thread and
     * child of the workload inherits them */
    if (o->cpus && sched_setaffinity(0, sizeof *o->cpus, o->cpus) != 0) goto fail;
    if (o->set_nice && setpriority(PRIO_PROCESS, 0, o->nice) != 0) goto fail;
    if (o->cgroup_procs) { /* before exec, so that nothing it starts is outside */
        int cg = open(o->cgroup_procs, O_WRONLY | O_CLOEXEC);
        if (cg < 0 || write(cg, "0", 1) != 1) goto fail;
        close(cg);
    }
    execvpe(o->argv[0], o->argv, o->envp);
fail:;
    int e = errno;
    fs_write_best_effort(report_fd, &e, sizeof e);
    _exit(127);
}

int proc_spawn(const spawn_opts *o, child_proc *c, cot_err *err)
{
    memset(c, 0, sizeof *c);
    c->events_fd = c->stdin_fd = c->stdout_fd = c->stderr_fd = -1;
    int ev[2] = {-1, -1}, in[2] = {-1, -1}, report[2] = {-1, -1}, po[2] = {-1, -1}, pe[2] = {-1, -1};
    if ((o->stdout_pipe && pipe2(po, O_CLOEXEC) != 0) || (o->stderr_pipe && pipe2(pe, O_CLOEXEC) != 0)) {
        cot_errno(err, "cannot create a pipe for %s", o->argv[0]);
        for (int i = 0; i < 2; i++) {
            if (po[i] >= 0) close(po[i]);
            if (pe[i] >= 0) close(pe[i]);
        }
        return -1;
    }
    int out_fd = o->stdout_pipe ? po[1] : open_output(o->stdout_path);
    int err_fd = o->stderr_pipe ? pe[1] : open_output(o->stderr_path);
    if (out_fd < 0 || err_fd < 0) {
        cot_errno(err, "cannot create %s", out_fd < 0 ? o->stdout_path : o->stderr_path);
        goto fail;
    }
    if ((o->events_pipe && pipe2(ev, O_CLOEXEC) != 0) || (o->stdin_pipe && pipe2(in, O_CLOEXEC) != 0) ||
        pipe2(report, O_CLOEXEC) != 0) {
        cot_errno(err, "cannot create a pipe for %s", o->argv[0]);
        goto fail;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        cot_errno(err, "cannot fork to start %s", o->argv[0]);
        goto fail;
    }
    if (pid == 0) child_exec(o, parent, out_fd, err_fd, ev[1], in[0], report[1]);
    /* Set the group from the parent too, so a signal sent right after
     * spawn cannot miss the group before the child has set it. */
    setpgid(pid, pid);
    close(report[1]);
    report[1] = -1;
    int child_errno = 0;
    ssize_t n;
    while ((n = read(report[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
    }
    close(report[0]);
    report[0] = -1;
    close(out_fd);
    close(err_fd);
    if (ev[1] >= 0) close(ev[1]);
    if (in[0] >= 0) close(in[0]);
    if (n == (ssize_t)sizeof child_errno) {
        waitpid(pid, NULL, 0);
        if (ev[0] >= 0) close(ev[0]);
        if (in[1] >= 0) close(in[1]);
        if (po[0] >= 0) close(po[0]);
        if (pe[0] >= 0) close(pe[0]);
        errno = child_errno;
        return cot_errno(err, "cannot run '%s'", o->argv[0]);
    }
    const int readers[] = {ev[0], po[0], pe[0]};
    for (int k = 0; k < 3; k++)
        if (readers[k] >= 0) fcntl(readers[k], F_SETFL, fcntl(readers[k], F_GETFL) | O_NONBLOCK);
    c->pid = pid;
    c->stdout_fd = po[0];
    c->stderr_fd = pe[0];
    c->events_fd = ev[0];
    c->stdin_fd = in[1];
    c->started_ns = now_ns();
    c->running = true;
    return 0;
fail:
    if (out_fd >= 0) close(out_fd);
    if (err_fd >= 0) close(err_fd);
    if (po[0] >= 0) close(po[0]);
    if (pe[0] >= 0) close(pe[0]);
    for (int i = 0; i < 2; i++) {
        if (ev[i] >= 0) close(ev[i]);
        if (in[i] >= 0) close(in[i]);
        if (report[i] >= 0) close(report[i]);
    }
    return -1;
}

bool proc_poll(child_proc *c)
{
    if (!c->running) return true;
    int status;
    pid_t r = waitpid(c->pid, &status, WNOHANG);
    if (r == c->pid) {
        c->running = false;
        c->wait_status = status;
        c->ended_ns = now_ns();
        return true;
    }
    if (r < 0 && errno == ECHILD) { /* reaped elsewhere: treat as gone */
        c->running = false;
        c->ended_ns = now_ns();
        return true;
    }
    return false;
}

void proc_signal_group(const child_proc *c, int sig)
{
    if (c->pid > 0) kill(-c->pid, sig);
}

bool proc_wait_or_kill(child_proc *c, int64_t timeout_ns)
{
    int64_t deadline = now_ns() + timeout_ns;
    while (!proc_poll(c)) {
        if (now_ns() >= deadline) {
            proc_signal_group(c, SIGKILL);
            int status;
            while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
            }
            c->running = false;
            c->wait_status = status;
            c->ended_ns = now_ns();
            return false;
        }
        sleep_ns(10 * NS_PER_MS);
    }
    /* The leader is gone; anything left in its group goes too. */
    proc_signal_group(c, SIGKILL);
    return true;
}

/* The parent and process group of pid, from /proc/PID/stat; -1 if gone. */
static int stat_of_state(pid_t pid, pid_t *ppid, pid_t *pgrp, char *state_out)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: parse after the last ')'. */
    char *p = strrchr(buf, ')');
    char state;
    int pp, pg;
    if (!p || sscanf(p + 1, " %c %d %d", &state, &pp, &pg) != 3) return -1;
    *ppid = pp;
    *pgrp = pg;
    if (state_out) *state_out = state;
    return 0;
}

static int stat_of(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
    return stat_of_state(pid, ppid, pgrp, NULL);
}

int proc_tree_index(pid_t pid, const pid_t *roots, int n)
{
    /* 64 generations is deeper than any launcher chain; it also ends a loop
     * should /proc change under us. */
    for (int depth = 0; depth < 64 && pid > 1; depth++) {
        pid_t pp, pg;
        if (stat_of(pid, &pp, &pg) != 0) return -1;
        for (int i = 0; i < n; i++)
            if (roots[i] > 0 && (pid == roots[i] || pg == roots[i])) return i;
        pid = pp;
    }
    return -1;
}

static pid_t spared = -1;

void proc_spare(pid_t pid) { spared = pid; }

/* One pass over cotenant's children: kills and reaps every one not kept. */
static int kill_strays_once(const pid_t *keep, int nkeep)
{
    pid_t self = getpid(), victims[256];
    int nvictims = 0;
    DIR *d = opendir("/proc");
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)) && nvictims < (int)(sizeof victims / sizeof victims[0])) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        pid_t pp, pg;
        char state = 0;
        if (*end || pid <= 0 || stat_of_state((pid_t)pid, &pp, &pg, &state) != 0 || pp != self) continue;
        int kept = pid == spared;
        for (int i = 0; i < nkeep; i++) kept |= keep[i] == pid;
        if (kept) continue;
        if (state == 'Z') { /* it had ended already, orphaned to us: reaped, not counted */
            waitpid((pid_t)pid, NULL, WNOHANG);
            continue;
        }
        victims[nvictims++] = (pid_t)pid;
    }
    closedir(d);
    /* Reap exactly those we kill, so no other child's status is lost. */
    for (int i = 0; i < nvictims; i++) {
        kill(victims[i], SIGKILL);
        while (waitpid(victims[i], NULL, 0) < 0 && errno == EINTR) {
        }
    }
    return nvictims;
}

int proc_kill_strays(const pid_t *keep, int nkeep)
{
    /* Killing a stray hands its own children to us (the subreaper): a
     * chain of setsid'd shells or a double fork comes one generation a
     * pass, so pass until one finds nothing. 64 generations is deeper
     * than any launcher chain. */
    int total = 0;
    for (int round = 0; round < 64; round++) {
        int n = kill_strays_once(keep, nkeep);
        if (n == 0) break;
        total += n;
    }
    return total;
}

void proc_describe_status(int st, char *out, size_t cap)
{
    if (WIFEXITED(st))
        snprintf(out, cap, "exit code %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(out, cap, "killed by signal %d (%s)%s", WTERMSIG(st), strsignal(WTERMSIG(st)),
                 WCOREDUMP(st) ? ", core dumped" : "");
    else
        snprintf(out, cap, "wait status %d", st);
}

void proc_why_not_executable(const char *path, char *why, size_t cap)
{
    struct stat st;
    if (stat(path, &st) != 0)
        snprintf(why, cap, "%s", errno == ENOENT ? "does not exist" : strerror(errno));
    else if (S_ISDIR(st.st_mode))
        snprintf(why, cap, "is a folder, not a program");
    else if (!S_ISREG(st.st_mode))
        snprintf(why, cap, "is not a regular file");
    else if (access(path, X_OK) != 0)
        snprintf(why, cap, "is not executable: chmod +x it, or give its interpreter first ([python3, %s])", path);
    else
        why[0] = '\0';
}

static int is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int proc_find_executable(const char *name, char *out, size_t cap)
{
    if (strchr(name, '/')) {
        snprintf(out, cap, "%s", name);
        return is_executable(out) ? 0 : -1;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            if (snprintf(out, cap, "%s/%s", self, name) < (int)cap && is_executable(out)) return 0;
        }
    }
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        if (len > 0 && snprintf(out, cap, "%.*s/%s", (int)len, path, name) < (int)cap && is_executable(out))
            return 0;
        path += len + (path[len] == ':');
    }
    return -1;
}
