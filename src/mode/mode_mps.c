/* mps: one MPS control daemon that cotenant starts for the run's mps
 * segments, with private pipe and log folders, so it touches no one else's
 * MPS setup; clients find it through CUDA_MPS_PIPE_DIRECTORY. Teardown asks
 * the daemon to quit, waits for it and its server, kills them only if they
 * will not go, and removes the folders (their logs are copied to the run).
 *
 * A CUDA program whose daemon cannot be reached silently runs without MPS,
 * so cotenant refuses to start next to a daemon it did not start: the
 * results would not say which one served the workloads. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/proc.h"
#include "host/nvml.h"
#include "mode/mode.h"
#include "util/fs.h"
#include "util/timeutil.h"

#define MPS_TMP_PREFIX "/tmp/cotenant-mps-"
#define MPS_CONTROL "nvidia-cuda-mps-control"

typedef struct {
    char root[64], pipe_dir[128], log_dir[128], control[PATH_MAX];
    pid_t daemon_pid;
} mps_priv;

int mode_mps_find_control(char *out, size_t cap)
{
    if (proc_find_executable(MPS_CONTROL, out, cap) == 0) return 0;
    static const char *const dirs[] = {"/usr/local/nvidia/bin", "/usr/bin", "/usr/local/bin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(out, cap, "%s/%s", dirs[i], MPS_CONTROL);
        if (access(out, X_OK) == 0) return 0;
    }
    return -1;
}

/* The MPS pipe folder a process was started with, from its environment;
 * "" when it has none, "?" when its environment cannot be read. */
static void process_pipe_dir(pid_t pid, char *out, size_t cap)
{
    char path[64], buf[65536];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    snprintf(out, cap, "?");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) return;
    buf[n] = '\0';
    snprintf(out, cap, "%s", "");
    for (char *p = buf; p < buf + n; p += strlen(p) + 1)
        if (!strncmp(p, "CUDA_MPS_PIPE_DIRECTORY=", 24)) snprintf(out, cap, "%s", p + 24);
}

/* Whether a process has ended and waits only to be reaped (state Z or X in
 * /proc/PID/stat, after the parenthesised name). */
static bool has_ended(long pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return true;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close = strrchr(buf, ')');
    return !close || close[1] != ' ' || close[2] == 'Z' || close[2] == 'X';
}

/* Calls fn for every MPS control daemon or server process on the machine. */
static int for_each_mps_process(int (*fn)(pid_t pid, const char *comm, void *arg), void *arg)
{
    DIR *d = opendir("/proc");
    if (!d) return 0;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0) continue;
        char path[64], comm[64] = "";
        snprintf(path, sizeof path, "/proc/%ld/comm", pid);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
        /* comm is cut at 15 characters: both programs start the same way;
         * a daemon that has ended but is not yet reaped runs nothing */
        if (!strncmp(comm, "nvidia-cuda-mps", 15) && !has_ended(pid)) rc = fn((pid_t)pid, comm, arg);
    }
    closedir(d);
    return rc;
}

static int refuse_foreign(pid_t pid, const char *comm, void *arg)
{
    cot_err *why = arg;
    char dir[PATH_MAX];
    process_pipe_dir(pid, dir, sizeof dir);
    if (!strncmp(dir, MPS_TMP_PREFIX, strlen(MPS_TMP_PREFIX)))
        return cot_errf(why, "an MPS daemon left by an earlier cotenant run that did not finish is still running "
                             "(%s, pid %d); stop it with: echo quit | CUDA_MPS_PIPE_DIRECTORY=%s %s",
                        comm, (int)pid, dir, MPS_CONTROL);
    return cot_errf(why, "an MPS daemon that cotenant did not start is running (%s, pid %d, pipe folder %s); "
                         "cotenant will not measure next to it: stop it (echo quit | %s) or leave mps out of modes",
                    comm, (int)pid, dir[0] && strcmp(dir, "?") ? dir : "the default /tmp/nvidia-mps", MPS_CONTROL);
}

static int check(const scenario *sc, const host_info *host, cot_err *why)
{
    if (sc->device == DEVICE_CPU) return cot_errf(why, "MPS shares a GPU; this scenario has device: cpu");
    if (mode_check_gpu(sc, host, why) != 0) return -1;
    char control[PATH_MAX];
    if (mode_mps_find_control(control, sizeof control) != 0)
        return cot_errf(why, "%s was not found on PATH or in /usr/local/nvidia/bin; it comes with the NVIDIA driver's "
                             "compute utilities (e.g. the nvidia-compute-utils package)", MPS_CONTROL);
    if (host->compute_mode == NVML_COMPUTE_PROHIBITED)
        return cot_errf(why, "the GPU's compute mode is Prohibited: no process, MPS server included, may use it");
    return for_each_mps_process(refuse_foreign, why);
}

static void env_for_daemon(const mode_state *st, const mps_priv *m, strvec *env)
{
    strvec_from_environ(env);
    strvec_setenv(env, "CUDA_MPS_PIPE_DIRECTORY", m->pipe_dir);
    strvec_setenv(env, "CUDA_MPS_LOG_DIRECTORY", m->log_dir);
    strvec_setenv(env, "CUDA_VISIBLE_DEVICES", st->host->gpu_uuid[0] ? st->host->gpu_uuid : st->sc->gpu);
}

static pid_t read_pid_file(const mps_priv *m)
{
    char path[PATH_MAX + 64], *text = NULL;
    snprintf(path, sizeof path, "%s/nvidia-cuda-mps-control.pid", m->pipe_dir);
    if (fs_read_file_limited(path, 64, &text, NULL, NULL) != 0) return -1;
    pid_t pid = (pid_t)atoi(text);
    free(text);
    return pid > 0 ? pid : -1;
}

static int prepare(mode_state *st, cot_err *err)
{
    mps_priv *m = calloc(1, sizeof *m);
    if (!m) return cot_errf(err, "out of memory");
    st->priv = m;
    if (mode_mps_find_control(m->control, sizeof m->control) != 0) return cot_errf(err, "%s not found", MPS_CONTROL);
    snprintf(m->root, sizeof m->root, "%sXXXXXX", MPS_TMP_PREFIX);
    if (!mkdtemp(m->root)) return cot_errno(err, "cannot create a private MPS folder under /tmp");
    snprintf(m->pipe_dir, sizeof m->pipe_dir, "%s/pipe", m->root);
    snprintf(m->log_dir, sizeof m->log_dir, "%s/log", m->root);
    if (fs_mkdir_p(m->pipe_dir, err) != 0 || fs_mkdir_p(m->log_dir, err) != 0) return -1;

    strvec env = {0};
    env_for_daemon(st, m, &env);
    char log[PATH_MAX + 32];
    snprintf(log, sizeof log, "%s/mps-control-start.log", st->run_dir);
    char *argv[] = {m->control, "-d", NULL};
    spawn_opts o = {.argv = argv, .envp = env.v, .stdout_path = log, .stderr_path = log};
    child_proc c;
    int rc = proc_spawn(&o, &c, err);
    strvec_free(&env);
    if (rc != 0) return cot_err_prefix(err, "cannot start the MPS control daemon");
    /* -d forks the daemon and returns; the daemon is adopted by cotenant. */
    proc_wait_or_kill(&c, 15 * NS_PER_S);
    if (!WIFEXITED(c.wait_status) || WEXITSTATUS(c.wait_status) != 0) {
        char status[128], *tail = fs_file_tail(log, 400);
        proc_describe_status(c.wait_status, status, sizeof status);
        cot_errf(err, "%s -d failed (%s): %s", m->control, status, tail && *tail ? tail : "no output");
        free(tail);
        return -1;
    }
    for (int i = 0; i < 500 && (m->daemon_pid = read_pid_file(m)) < 0; i++) sleep_ns(10 * NS_PER_MS);
    if (m->daemon_pid < 0)
        return cot_errf(err, "the MPS control daemon started but wrote no pid file in %s within 5 s; see %s/control.log",
                        m->pipe_dir, m->log_dir);
    st->keep_pids[st->nkeep++] = m->daemon_pid;
    json_object_set_new(st->info, "pipe_directory", json_string(m->pipe_dir));
    json_object_set_new(st->info, "daemon_pid", json_integer(m->daemon_pid));
    json_object_set_new(st->info, "compute_mode", json_string(nvml_compute_mode_name(st->host->compute_mode)));
    /* A record on disk, so a run killed outright can be cleaned up by hand. */
    char state_path[PATH_MAX + 32];
    snprintf(state_path, sizeof state_path, "%s/mps-daemon.json", st->run_dir);
    json_t *state = json_pack("{s:s, s:i, s:s}", "pipe_directory", m->pipe_dir, "pid", (int)m->daemon_pid, "stop",
                              "echo quit | CUDA_MPS_PIPE_DIRECTORY=<pipe_directory> nvidia-cuda-mps-control");
    fs_write_json_atomic(state_path, state, NULL);
    json_decref(state);
    return 0;
}

static int env_for(mode_state *st, const workload_spec *w, strvec *env, cot_err *err)
{
    mps_priv *m = st->priv;
    /* Clients must not set CUDA_VISIBLE_DEVICES: the server already exposes
     * only the scenario's GPU, renumbered from 0. */
    strvec_unsetenv(env, "CUDA_VISIBLE_DEVICES");
    if (strvec_setenv(env, "CUDA_MPS_PIPE_DIRECTORY", m->pipe_dir) != 0 ||
        strvec_setenv(env, "CUDA_MPS_LOG_DIRECTORY", m->log_dir) != 0)
        return cot_errf(err, "out of memory");
    return mode_mps_client_limits(w, env) == 0 ? 0 : cot_errf(err, "out of memory");
}

int mode_mps_client_limits(const workload_spec *w, strvec *env)
{
    int rc = 0;
    if (w->mps_active_thread_pct > 0) {
        char pct[16];
        snprintf(pct, sizeof pct, "%d", w->mps_active_thread_pct);
        rc |= strvec_setenv(env, "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE", pct);
    }
    if (w->mps_pinned_mem_limit) {
        char lim[80];
        snprintf(lim, sizeof lim, "0=%s", w->mps_pinned_mem_limit);
        rc |= strvec_setenv(env, "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT", lim);
    }
    return rc ? -1 : 0;
}

static int kill_ours(pid_t pid, const char *comm, void *arg)
{
    (void)comm;
    const mps_priv *m = arg;
    char dir[PATH_MAX];
    process_pipe_dir(pid, dir, sizeof dir);
    if (!strcmp(dir, m->pipe_dir)) kill(pid, SIGKILL);
    return 0;
}

static int any_ours(pid_t pid, const char *comm, void *arg)
{
    (void)comm;
    const mps_priv *m = arg;
    char dir[PATH_MAX];
    process_pipe_dir(pid, dir, sizeof dir);
    return !strcmp(dir, m->pipe_dir);
}

static void copy_logs(const mode_state *st, const mps_priv *m)
{
    static const char *const names[] = {"control.log", "server.log"};
    for (size_t i = 0; i < 2; i++) {
        char from[PATH_MAX + 32], to[PATH_MAX + 32], *text;
        size_t len;
        snprintf(from, sizeof from, "%s/%s", m->log_dir, names[i]);
        snprintf(to, sizeof to, "%s/mps-%s", st->run_dir, names[i]);
        if (fs_read_file_limited(from, 16 << 20, &text, &len, NULL) == 0) {
            fs_write_file_atomic(to, text, len, NULL);
            free(text);
        }
    }
}

static void teardown(mode_state *st)
{
    mps_priv *m = st->priv;
    if (!m) return;
    if (m->root[0] && m->daemon_pid > 0) {
        strvec env = {0};
        env_for_daemon(st, m, &env);
        char *argv[] = {m->control, NULL};
        spawn_opts o = {.argv = argv, .envp = env.v, .stdin_pipe = true};
        child_proc c;
        if (proc_spawn(&o, &c, NULL) == 0) {
            if (write(c.stdin_fd, "quit\n", 5) != 5) cot_warn("could not send quit to the MPS control daemon");
            close(c.stdin_fd);
            proc_wait_or_kill(&c, 10 * NS_PER_S);
        }
        strvec_free(&env);
        /* The daemon is our adopted child: reap it, or kill it if it stays. */
        int64_t deadline = now_ns() + 15 * NS_PER_S;
        int status;
        while (waitpid(m->daemon_pid, &status, WNOHANG) == 0 && now_ns() < deadline) sleep_ns(20 * NS_PER_MS);
        while (for_each_mps_process(any_ours, m) && now_ns() < deadline) sleep_ns(20 * NS_PER_MS);
        if (for_each_mps_process(any_ours, m)) {
            cot_warn("the MPS daemon did not quit within 15 s; killing it");
            for_each_mps_process(kill_ours, m);
            waitpid(m->daemon_pid, &status, 0);
        }
        copy_logs(st, m);
        char state_path[PATH_MAX + 32];
        snprintf(state_path, sizeof state_path, "%s/mps-daemon.json", st->run_dir);
        unlink(state_path);
    }
    if (m->root[0]) fs_remove_tree(m->root);
    free(m);
    st->priv = NULL;
}

const mode_ops mode_mps = {
    .name = "mps",
    .check = check,
    .prepare = prepare,
    .env_for = env_for,
    .teardown = teardown,
};
