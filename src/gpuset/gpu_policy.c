#include "gpuset/gpu_policy.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "sys/proc.h"
#include "host/nvml.h"
#include "mig/mig_change.h"
#include "util/fs.h"
#include "util/timeutil.h"

static const char *const levels[] = {"default", "short", "medium", "long"};

int gpu_timeslice_parse(const char *text)
{
    for (int i = 0; i < GPU_TIMESLICE_LEVELS; i++)
        if (!strcasecmp(text, levels[i]) || (text[0] == '0' + i && !text[1])) return i;
    return -1;
}

const char *gpu_timeslice_name(int level)
{
    return level >= 0 && level < GPU_TIMESLICE_LEVELS ? levels[level] : "unknown";
}

int gpu_compute_mode_parse(const char *text)
{
    if (!strcasecmp(text, "default") || !strcmp(text, "0")) return NVML_COMPUTE_DEFAULT;
    if (!strcasecmp(text, "exclusive-process") || !strcasecmp(text, "exclusive_process") || !strcmp(text, "3"))
        return NVML_COMPUTE_EXCLUSIVE_PROCESS;
    if (!strcasecmp(text, "prohibited") || !strcmp(text, "2")) return NVML_COMPUTE_PROHIBITED;
    return -1;
}

const char *gpu_compute_mode_word(int mode)
{
    return mode == NVML_COMPUTE_EXCLUSIVE_PROCESS ? "exclusive-process" : mode == NVML_COMPUTE_PROHIBITED ? "prohibited"
                                                                                                           : "default";
}

int gpu_timeslice_from_smi(const char *text, int gpu_index)
{
    /* rows such as "|   0   Timeslice       Default       |" */
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        int idx;
        char name[32], value[32];
        if (sscanf(line, "| %d %31s %31s", &idx, name, value) == 3 && idx == gpu_index && !strcasecmp(name, "Timeslice"))
            return gpu_timeslice_parse(value);
    }
    return -1;
}

/* Runs nvidia-smi with args; its output (at most 64 KiB) into *out. */
static int smi(char *const args[], char **out, cot_err *err)
{
    char exe[PATH_MAX], log[] = "/tmp/cotenant-smi-XXXXXX";
    if (proc_find_executable("nvidia-smi", exe, sizeof exe) != 0)
        return cot_errf(err, "nvidia-smi was not found on PATH; it comes with the NVIDIA driver");
    int fd = mkstemp(log);
    if (fd < 0) return cot_errno(err, "cannot create a temporary file for nvidia-smi's output");
    close(fd);
    char *argv[16] = {exe};
    for (int i = 0; args[i] && i < 14; i++) argv[i + 1] = args[i];
    spawn_opts o = {.argv = argv, .stdout_path = log, .stderr_path = log};
    extern char **environ;
    o.envp = environ;
    child_proc c;
    int rc = proc_spawn(&o, &c, err);
    if (rc == 0) proc_wait_or_kill(&c, 30 * NS_PER_S);
    char *text = NULL;
    fs_read_file_limited(log, 64 << 10, &text, NULL, NULL);
    unlink(log);
    if (rc != 0) {
        free(text);
        return -1;
    }
    if (!WIFEXITED(c.wait_status) || WEXITSTATUS(c.wait_status) != 0) {
        char st[128];
        proc_describe_status(c.wait_status, st, sizeof st);
        char cmd[256] = "nvidia-smi";
        for (int i = 0; args[i]; i++) snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " %s", args[i]);
        size_t n = text ? strlen(text) : 0;
        while (n && isspace((unsigned char)text[n - 1])) text[--n] = '\0';
        for (char *p = text; p && *p; p++)
            if (*p == '\n') *p = ' ';
        cot_errf(err, "%s failed (%s): %.300s", cmd, st, n ? text : "no output");
        free(text);
        return -1;
    }
    *out = text ? text : strdup("");
    return 0;
}

int gpu_policy_read(int gpu_index, gpu_policy *p, cot_err *err)
{
    memset(p, 0, sizeof *p);
    const nvml_api *n;
    nvml_device d;
    if (nvml_device_at(gpu_index, &n, &d, err) != 0) return -1;
    int rc = n->device_compute_mode(d, &p->compute_mode);
    if (rc != NVML_SUCCESS) return nvml_fail(err, "nvmlDeviceGetComputeMode", rc);
    char idx[16], *text = NULL;
    snprintf(idx, sizeof idx, "%d", gpu_index);
    char *args[] = {"compute-policy", "-i", idx, "-l", NULL};
    cot_err e;
    p->timeslice = -1;
    if (smi(args, &text, &e) != 0) {
        snprintf(p->timeslice_why, sizeof p->timeslice_why, "%s", e.msg);
        return 0;
    }
    p->timeslice = gpu_timeslice_from_smi(text, gpu_index);
    if (p->timeslice < 0) snprintf(p->timeslice_why, sizeof p->timeslice_why, "nvidia-smi compute-policy -l gave no timeslice row for GPU %d", gpu_index);
    free(text);
    return 0;
}

static int set_compute_mode(int gpu_index, int mode, int dry_run, FILE *out, cot_err *err)
{
    if (out) fprintf(out, "  nvmlDeviceSetComputeMode(GPU %d, %s)%s\n", gpu_index, nvml_compute_mode_name(mode),
                     dry_run ? "" : ": doing");
    if (dry_run) return 0;
    const nvml_api *n;
    nvml_device d;
    if (nvml_device_at(gpu_index, &n, &d, err) != 0) return -1;
    if (!n->set_compute_mode) return cot_errf(err, "this driver's NVML has no nvmlDeviceSetComputeMode");
    int rc = n->set_compute_mode(d, mode);
    if (rc == NVML_ERROR_NO_PERMISSION) return cot_errf(err, "nvmlDeviceSetComputeMode: no permission; changing the compute mode needs root");
    return rc == NVML_SUCCESS ? 0 : nvml_fail(err, "nvmlDeviceSetComputeMode", rc);
}

static int set_timeslice(int gpu_index, int level, int dry_run, FILE *out, cot_err *err)
{
    char idx[16], val[32];
    snprintf(idx, sizeof idx, "%d", gpu_index);
    snprintf(val, sizeof val, "--set-timeslice=%d", level);
    if (out) fprintf(out, "  nvidia-smi compute-policy -i %s %s (%s)%s\n", idx, val, gpu_timeslice_name(level),
                     dry_run ? "" : ": doing");
    if (dry_run) return 0;
    char *args[] = {"compute-policy", "-i", idx, val, NULL}, *text = NULL;
    if (smi(args, &text, err) != 0) return -1;
    free(text);
    return 0;
}

int gpu_policy_state_path(const char *gpu_uuid, char *out, size_t cap, cot_err *err)
{
    char mig[PATH_MAX];
    if (mig_state_path(gpu_uuid, mig, sizeof mig, err) != 0) return -1;
    char *slash = strrchr(mig, '/');
    *slash = '\0';
    if ((size_t)snprintf(out, cap, "%s/gpu-policy-%s.json", mig, gpu_uuid) >= cap) return cot_errf(err, "state path too long");
    return 0;
}

static int put_back(int gpu_index, const gpu_policy *before, const gpu_policy *now, FILE *out, cot_err *err)
{
    int rc = 0;
    if (before->timeslice >= 0 && before->timeslice != now->timeslice)
        rc |= set_timeslice(gpu_index, before->timeslice, 0, out, err);
    if (before->compute_mode != now->compute_mode) rc |= set_compute_mode(gpu_index, before->compute_mode, 0, out, err);
    return rc ? -1 : 0;
}

static int load(const char *path, gpu_policy *p, cot_err *err)
{
    json_t *doc = fs_read_json_file(path, 1 << 16, err);
    if (!doc) return -1;
    json_t *cm = json_object_get(doc, "compute_mode"), *ts = json_object_get(doc, "timeslice");
    int ok = json_is_string(cm) && gpu_compute_mode_parse(json_string_value(cm)) >= 0 &&
             (json_is_null(ts) || (json_is_string(ts) && gpu_timeslice_parse(json_string_value(ts)) >= 0));
    if (ok) {
        p->compute_mode = gpu_compute_mode_parse(json_string_value(cm));
        p->timeslice = json_is_null(ts) ? -1 : gpu_timeslice_parse(json_string_value(ts));
    }
    json_decref(doc);
    return ok ? 0 : cot_errf(err, "%s: expected compute_mode (default, exclusive-process, prohibited) and timeslice", path);
}

int gpu_policy_apply(int gpu_index, const gpu_policy_change *c, const char *state_path, int dry_run, FILE *out,
                     cot_err *err)
{
    gpu_policy now, before;
    if (gpu_policy_read(gpu_index, &now, err) != 0) return -1;
    if (c->timeslice >= 0 && now.timeslice < 0)
        return cot_errf(err, "the timeslice cannot be read back (%s), so it would not be restored; nothing was changed",
                        now.timeslice_why);
    int have = fs_path_exists(state_path);
    if (out) fprintf(out, "%sGPU %d now: compute mode %s, timeslice %s\n", dry_run ? "dry run: nothing is changed. " : "",
                     gpu_index, nvml_compute_mode_name(now.compute_mode), gpu_timeslice_name(now.timeslice));
    if (dry_run) {
        if (out) fprintf(out, have ? "the values saved in %s would be kept\n" : "these values would be saved to %s first\n",
                         state_path);
        if (c->compute_mode >= 0 && c->compute_mode != now.compute_mode) set_compute_mode(gpu_index, c->compute_mode, 1, out, err);
        if (c->timeslice >= 0 && c->timeslice != now.timeslice) set_timeslice(gpu_index, c->timeslice, 1, out, err);
        return 0;
    }
    if (have) {
        if (load(state_path, &before, err) != 0) return -1;
    } else {
        before = now;
        char when[64];
        wall_time_iso(when, sizeof when);
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", state_path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        if (slash && dir[0] && fs_mkdir_p(dir, err) != 0) return -1;
        json_t *doc = json_pack("{s:s, s:i, s:s, s:o, s:s}", "saved_at", when, "gpu_index", gpu_index, "compute_mode",
                                gpu_compute_mode_word(now.compute_mode), "timeslice",
                                now.timeslice >= 0 ? json_string(gpu_timeslice_name(now.timeslice)) : json_null(),
                                "restore_with", "cotenant mode restore");
        int rc = fs_write_json_atomic(state_path, doc, err);
        json_decref(doc);
        if (rc != 0) return cot_err_prefix(err, "nothing was changed");
        if (out) fprintf(out, "saved these values in %s\n", state_path);
    }
    if ((c->compute_mode >= 0 && c->compute_mode != now.compute_mode &&
         set_compute_mode(gpu_index, c->compute_mode, 0, out, err) != 0) ||
        (c->timeslice >= 0 && c->timeslice != now.timeslice && set_timeslice(gpu_index, c->timeslice, 0, out, err) != 0)) {
        cot_err first = *err, e2;
        gpu_policy after;
        if (gpu_policy_read(gpu_index, &after, &e2) == 0 && put_back(gpu_index, &before, &after, out, &e2) == 0) {
            if (!have) unlink(state_path);
            return cot_errf(err, "%s; the values before were put back", first.msg);
        }
        return cot_errf(err, "%s; putting the values back ALSO failed (%s): they stay in %s for cotenant mode restore",
                        first.msg, e2.msg, state_path);
    }
    return 0;
}

int gpu_policy_restore(int gpu_index, const char *state_path, int dry_run, FILE *out, cot_err *err)
{
    if (!fs_path_exists(state_path)) {
        cot_errf(err, "nothing to restore: no saved compute mode or timeslice in %s", state_path);
        return -2;
    }
    gpu_policy before, now;
    if (load(state_path, &before, err) != 0 || gpu_policy_read(gpu_index, &now, err) != 0) return -1;
    if (dry_run) {
        if (out) fprintf(out, "dry run: nothing is changed. Saved in %s: compute mode %s, timeslice %s\n", state_path,
                         nvml_compute_mode_name(before.compute_mode), gpu_timeslice_name(before.timeslice));
        if (before.timeslice >= 0 && before.timeslice != now.timeslice) set_timeslice(gpu_index, before.timeslice, 1, out, err);
        if (before.compute_mode != now.compute_mode) set_compute_mode(gpu_index, before.compute_mode, 1, out, err);
        return 0;
    }
    if (put_back(gpu_index, &before, &now, out, err) != 0)
        return cot_err_prefix(err, "restore stopped (the saved values stay in %s)", state_path);
    unlink(state_path);
    return 0;
}
