/* cotenant mode: the GPU settings behind the sharing modes, outside a run.
 *   cotenant mode status
 *   cotenant mode timeslice [--timeslice LEVEL] [--compute-mode MODE] [--dry-run] [--state FILE]
 *   cotenant mode restore [--dry-run] [--state FILE]
 *   cotenant mode mps enable|disable [--pipe-dir D] [--log-dir D] [--exclusive] [--dry-run]
 * What scripts/gpu-configs/ wraps. Changes save the values before
 * (gpu_policy.c) and say every operation they make. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "sys/proc.h"
#include "gpuset/gpu_policy.h"
#include "host/host.h"
#include "host/nvml.h"
#include "mode/mode.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strvec.h"
#include "util/timeutil.h"

typedef struct {
    const char *gpu, *timeslice, *compute_mode, *state, *pipe_dir, *log_dir;
    int dry_run, exclusive;
} mode_opts;

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "cotenant mode: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry: cotenant mode --help\n");
    return EXIT_USAGE;
}

static int gpu_here(const mode_opts *o, host_info *h)
{
    host_probe(h, o->gpu);
    if (!h->gpu_found) {
        fprintf(stderr, "cotenant mode: no GPU: %s\n", h->gpu_why);
        return EXIT_USAGE;
    }
    return 0;
}

static int state_path(const mode_opts *o, const host_info *h, char *out, size_t cap)
{
    cot_err err;
    if (o->state) return snprintf(out, cap, "%s", o->state), 0;
    if (gpu_policy_state_path(h->gpu_uuid, out, cap, &err) == 0) return 0;
    fprintf(stderr, "cotenant mode: %s\n", err.msg);
    return EXIT_USAGE;
}

static int status(const mode_opts *o)
{
    host_info h;
    int rc = gpu_here(o, &h);
    if (rc) return rc;
    gpu_policy p;
    cot_err err;
    if (gpu_policy_read(h.gpu_index, &p, &err) != 0) {
        fprintf(stderr, "cotenant mode: %s\n", err.msg);
        return EXIT_RUN_FAILED;
    }
    printf("GPU %d (%s, %s)\n", h.gpu_index, h.gpu_name, h.gpu_uuid);
    printf("  compute mode  %s%s\n", nvml_compute_mode_name(p.compute_mode),
           p.compute_mode == NVML_COMPUTE_DEFAULT ? " (processes share the GPU by time slicing)" : "");
    if (p.timeslice >= 0) printf("  timeslice     %s (nvidia-smi compute-policy)\n", gpu_timeslice_name(p.timeslice));
    else printf("  timeslice     unknown: %s\n", p.timeslice_why);
    char path[PATH_MAX];
    if (state_path(o, &h, path, sizeof path) == 0 && fs_path_exists(path))
        printf("  saved values wait in %s: cotenant mode restore puts them back\n", path);
    return EXIT_OK;
}

static int timeslice_cmd(const mode_opts *o)
{
    gpu_policy_change c = {-1, -1};
    if (o->timeslice && (c.timeslice = gpu_timeslice_parse(o->timeslice)) < 0)
        return bad("--timeslice '%s': expected default, short, medium or long (or 0-3)", o->timeslice);
    if (o->compute_mode && (c.compute_mode = gpu_compute_mode_parse(o->compute_mode)) < 0)
        return bad("--compute-mode '%s': expected default, exclusive-process or prohibited", o->compute_mode);
    if (c.timeslice < 0 && c.compute_mode < 0) return status(o);
    host_info h;
    char path[PATH_MAX];
    int rc = gpu_here(o, &h);
    if (rc || (rc = state_path(o, &h, path, sizeof path))) return rc;
    cot_err err;
    if (gpu_policy_apply(h.gpu_index, &c, path, o->dry_run, stdout, &err) != 0) {
        fprintf(stderr, "cotenant mode: %s\n", err.msg);
        return EXIT_RUN_FAILED;
    }
    return EXIT_OK;
}

static int restore(const mode_opts *o)
{
    host_info h;
    char path[PATH_MAX];
    int rc = gpu_here(o, &h);
    if (rc || (rc = state_path(o, &h, path, sizeof path))) return rc;
    cot_err err;
    rc = gpu_policy_restore(h.gpu_index, path, o->dry_run, stdout, &err);
    if (rc != 0) {
        fprintf(stderr, "cotenant mode: %s\n", err.msg);
        return rc == -2 ? EXIT_USAGE : EXIT_RUN_FAILED;
    }
    if (!o->dry_run) printf("restored the values saved in %s\n", path);
    return EXIT_OK;
}

/* Starts or stops a persistent MPS daemon for other programs (a run starts
 * its own, private one). */
static int mps(const mode_opts *o, const char *what)
{
    char control[PATH_MAX];
    if (mode_mps_find_control(control, sizeof control) != 0) {
        fprintf(stderr, "cotenant mode: nvidia-cuda-mps-control was not found on PATH or in /usr/local/nvidia/bin; it "
                        "comes with the NVIDIA driver's compute utilities\n");
        return EXIT_USAGE;
    }
    const char *pipe = o->pipe_dir ? o->pipe_dir : "/tmp/nvidia-mps", *logd = o->log_dir ? o->log_dir : "/tmp/nvidia-log";
    int enable = !strcmp(what, "enable");
    host_info h;
    int rc = gpu_here(o, &h);
    if (rc) return rc;
    char path[PATH_MAX];
    if ((rc = state_path(o, &h, path, sizeof path))) return rc;
    cot_err err;
    if (enable && o->exclusive) {
        gpu_policy_change c = {NVML_COMPUTE_EXCLUSIVE_PROCESS, -1};
        if (gpu_policy_apply(h.gpu_index, &c, path, o->dry_run, stdout, &err) != 0) {
            fprintf(stderr, "cotenant mode: %s\n", err.msg);
            return EXIT_RUN_FAILED;
        }
    }
    printf("  %sCUDA_MPS_PIPE_DIRECTORY=%s CUDA_MPS_LOG_DIRECTORY=%s %s%s\n", enable ? "" : "echo quit | ", pipe, logd,
           control, enable ? " -d" : "");
    if (o->dry_run) {
        if (!enable && fs_path_exists(path)) printf("  then: cotenant mode restore (the compute mode saved in %s)\n", path);
        return EXIT_OK;
    }
    if (enable && (fs_mkdir_p(pipe, &err) != 0 || fs_mkdir_p(logd, &err) != 0)) {
        fprintf(stderr, "cotenant mode: %s\n", err.msg);
        return EXIT_RUN_FAILED;
    }
    strvec env = {0};
    strvec_from_environ(&env);
    strvec_setenv(&env, "CUDA_MPS_PIPE_DIRECTORY", pipe);
    strvec_setenv(&env, "CUDA_MPS_LOG_DIRECTORY", logd);
    char *argv[] = {control, enable ? "-d" : NULL, NULL};
    spawn_opts so = {.argv = argv, .envp = env.v, .stdin_pipe = !enable};
    child_proc c;
    rc = proc_spawn(&so, &c, &err);
    strvec_free(&env);
    if (rc != 0) {
        fprintf(stderr, "cotenant mode: cannot start %s: %s\n", control, err.msg);
        return EXIT_RUN_FAILED;
    }
    if (!enable) {
        if (write(c.stdin_fd, "quit\n", 5) != 5) cot_warn("could not send quit to the MPS control daemon");
        close(c.stdin_fd);
    }
    proc_wait_or_kill(&c, 15 * NS_PER_S);
    if (!WIFEXITED(c.wait_status) || WEXITSTATUS(c.wait_status) != 0) {
        char st[128];
        proc_describe_status(c.wait_status, st, sizeof st);
        fprintf(stderr, "cotenant mode: %s %s failed (%s); see %s/control.log\n", control, enable ? "-d" : "quit", st, logd);
        return EXIT_RUN_FAILED;
    }
    if (enable) {
        printf("MPS is on: clients need CUDA_MPS_PIPE_DIRECTORY=%s (and CUDA_MPS_LOG_DIRECTORY=%s)\n", pipe, logd);
        return EXIT_OK;
    }
    printf("MPS daemon with pipe folder %s told to quit\n", pipe);
    if (fs_path_exists(path)) {
        rc = gpu_policy_restore(h.gpu_index, path, 0, stdout, &err);
        if (rc == -1) {
            fprintf(stderr, "cotenant mode: %s\n", err.msg);
            return EXIT_RUN_FAILED;
        }
    }
    return EXIT_OK;
}

int cmd_mode(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(usage_mode, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1], *mps_what = NULL;
    mode_opts o = {0};
    int i = 2;
    if (!strcmp(sub, "mps")) {
        if (argc < 3 || (strcmp(argv[2], "enable") && strcmp(argv[2], "disable")))
            return bad("mps %s: expected mps enable or mps disable", argc < 3 ? "" : argv[2]);
        mps_what = argv[2];
        i = 3;
    }
    for (; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--dry-run")) o.dry_run = 1;
        else if (!strcmp(a, "--exclusive") && mps_what) o.exclusive = 1;
        else if (has && !strcmp(a, "--gpu")) o.gpu = argv[++i];
        else if (has && !strcmp(a, "--state")) o.state = argv[++i];
        else if (has && !strcmp(a, "--timeslice") && !strcmp(sub, "timeslice")) o.timeslice = argv[++i];
        else if (has && !strcmp(a, "--compute-mode") && !strcmp(sub, "timeslice")) o.compute_mode = argv[++i];
        else if (has && !strcmp(a, "--pipe-dir") && mps_what) o.pipe_dir = argv[++i];
        else if (has && !strcmp(a, "--log-dir") && mps_what) o.log_dir = argv[++i];
        else return bad("unexpected '%s'", a);
    }
    if (!strcmp(sub, "status")) return status(&o);
    if (!strcmp(sub, "timeslice")) return timeslice_cmd(&o);
    if (!strcmp(sub, "restore")) return restore(&o);
    if (mps_what) return mps(&o, mps_what);
    return bad("unknown subcommand '%s'; expected status, timeslice, restore or mps", sub);
}
