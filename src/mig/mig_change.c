#include "mig/mig_change.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/timeutil.h"

int mig_state_path(const char *gpu_uuid, char *out, size_t cap, cot_err *err)
{
    char dir[PATH_MAX];
    const char *d = getenv("COTENANT_STATE_DIR"), *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    if (d && *d) snprintf(dir, sizeof dir, "%s", d);
    else if (xdg && *xdg) snprintf(dir, sizeof dir, "%s/cotenant", xdg);
    else if (home && *home) snprintf(dir, sizeof dir, "%s/.local/state/cotenant", home);
    else return cot_errf(err, "no folder for the saved MIG state: set COTENANT_STATE_DIR or HOME");
    if ((size_t)snprintf(out, cap, "%s/mig-%s.json", dir, gpu_uuid) >= cap)
        return cot_errf(err, "the state folder's path is too long: %s", dir);
    return 0;
}

static void comm_of(unsigned pid, char *out, size_t cap)
{
    char path[64], *text = NULL;
    snprintf(path, sizeof path, "/proc/%u/comm", pid);
    snprintf(out, cap, "?");
    if (fs_read_file_limited(path, 256, &text, NULL, NULL) == 0) {
        text[strcspn(text, "\n")] = '\0';
        snprintf(out, cap, "%s", text);
    }
    free(text);
}

/* Adds d's compute and graphics processes to pids (no repeats). */
static void collect(const nvml_api *n, nvml_device d, unsigned *pids, int *np, int cap)
{
    int (*lists[2])(nvml_device, unsigned *, nvml_process_info *) = {n->compute_processes, n->graphics_processes};
    for (int l = 0; l < 2; l++) {
        if (!lists[l]) continue;
        nvml_process_info info[64];
        unsigned count = 64;
        if (lists[l](d, &count, info) != NVML_SUCCESS) continue;
        for (unsigned k = 0; k < count && k < 64; k++) {
            int seen = 0;
            for (int j = 0; j < *np; j++) seen |= pids[j] == info[k].pid;
            if (!seen && *np < cap) pids[(*np)++] = info[k].pid;
        }
    }
}

int mig_gpu_busy(const nvml_api *n, nvml_device d, char *why, size_t cap)
{
    unsigned pids[64];
    int np = 0;
    collect(n, d, pids, &np, 64);
    unsigned max = 0;
    if (n->max_mig_devices && n->mig_device_by_index && n->max_mig_devices(d, &max) == NVML_SUCCESS)
        for (unsigned i = 0; i < max; i++) {
            nvml_device m;
            if (n->mig_device_by_index(d, i, &m) == NVML_SUCCESS) collect(n, m, pids, &np, 64);
        }
    if (np == 0) return 0;
    size_t k = (size_t)snprintf(why, cap, "%d process%s use%s the GPU (", np, np == 1 ? "" : "es", np == 1 ? "s" : "");
    for (int i = 0; i < np && k < cap; i++) {
        char comm[64];
        comm_of(pids[i], comm, sizeof comm);
        k += (size_t)snprintf(why + k, cap - k, "%spid %u %s", i ? ", " : "", pids[i], comm);
    }
    if (k < cap) snprintf(why + k, cap - k, ")");
    return 1;
}

static int save_state(const char *path, const mig_state *now, const char *what, cot_err *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        if (dir[0] && fs_mkdir_p(dir, err) != 0) return cot_err_prefix(err, "cannot create the folder for the saved MIG state");
    }
    char when[64];
    wall_time_iso(when, sizeof when);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:o}", "saved_at", when, "saved_by", what ? what : "cotenant", "restore_with",
                            "cotenant mig restore", "state", mig_state_to_json(now));
    int rc = fs_write_json_atomic(path, doc, err);
    json_decref(doc);
    return rc;
}

static int load_state(const char *path, mig_state *saved, cot_err *err)
{
    json_t *doc = fs_read_json_file(path, 1 << 20, err);
    if (!doc) return -1;
    int rc = mig_state_from_json(json_object_get(doc, "state"), saved, err);
    json_decref(doc);
    if (rc != 0) cot_err_prefix(err, "%s", path);
    return rc;
}

static void say(const mig_change_opts *o, const char *fmt, const char *a, const char *b)
{
    if (o->out) fprintf(o->out, fmt, a, b);
}

/* Runs ops; on a failure, puts saved back and says how that went. */
static int run_or_restore(const nvml_api *n, nvml_device d, const mig_gpu *g, const mig_ops *ops, const mig_state *saved,
                          const char *path, const mig_change_opts *o, cot_err *err)
{
    int done = 0;
    if (mig_ops_run(n, d, saved->gpu_index, ops, o->out, &done, err) == 0) return 0;
    cot_err first = *err, e2 = {"the MIG state could not be read back"};
    mig_state now;
    mig_ops back;
    if (mig_state_read(n, d, g, &now, &e2) == 0) {
        mig_ops_for_restore(&now, saved, &back);
        if (o->out) fprintf(o->out, "failed; restoring the saved state (%d steps):\n", back.n);
        if (mig_ops_run(n, d, saved->gpu_index, &back, o->out, &done, &e2) == 0) {
            if (path) unlink(path);
            return cot_errf(err, "%s; the GPU's MIG state before was restored", first.msg);
        }
    }
    return cot_errf(err, "%s; restoring the state before ALSO failed (%s): it is kept in %s, and cotenant mig restore "
                         "tries again",
                    first.msg, e2.msg, path ? path : "memory only");
}

int mig_apply(const nvml_api *n, nvml_device d, const mig_gpu *g, const mig_plan *plan, const mig_change_opts *o,
              mig_state *after, cot_err *err)
{
    mig_state now, saved;
    if (mig_state_read(n, d, g, &now, err) != 0) return -1;
    char path[PATH_MAX], why[1024];
    if (o->state_path) snprintf(path, sizeof path, "%s", o->state_path);
    else if (mig_state_path(now.gpu_uuid, path, sizeof path, err) != 0) return -1;
    mig_ops ops;
    if (plan) mig_ops_for_layout(&now, g, plan, &ops);
    else mig_ops_for_disable(&now, &ops);
    int busy = mig_gpu_busy(n, d, why, sizeof why);
    int have_saved = fs_path_exists(path);
    if (o->dry_run) {
        if (o->out) {
            fprintf(o->out, "dry run: nothing is changed. ");
            mig_state_print(&now, o->out);
            if (busy) fprintf(o->out, "a real run would refuse now: %s\n", why);
            if (have_saved) fprintf(o->out, "the state saved in %s would be kept (restore returns to it)\n", path);
            else fprintf(o->out, "the state above would be saved to %s first\n", path);
            fprintf(o->out, "%d NVML operation%s, in order:\n", ops.n, ops.n == 1 ? "" : "s");
            mig_ops_print(&ops, now.gpu_index, o->out);
        }
        *after = now;
        return 0;
    }
    if (busy) return cot_errf(err, "MIG cannot be changed while %s; stop them and try again", why);
    if (have_saved) {
        if (load_state(path, &saved, err) != 0) return -1;
        say(o, "keeping the state saved earlier in %s%s: cotenant mig restore returns to it\n", path, "");
    } else {
        saved = now;
        if (save_state(path, &now, o->what, err) != 0) return cot_err_prefix(err, "nothing was changed");
        say(o, "saved the MIG state before in %s%s\n", path, "");
    }
    if (o->out) fprintf(o->out, "%d NVML operation%s:\n", ops.n, ops.n == 1 ? "" : "s");
    if (run_or_restore(n, d, g, &ops, &saved, have_saved ? NULL : path, o, err) != 0) return -1;
    return mig_state_read(n, d, g, after, err);
}

int mig_restore(const nvml_api *n, nvml_device d, const mig_gpu *g, const mig_change_opts *o, mig_state *after,
                cot_err *err)
{
    mig_state now, saved;
    if (mig_state_read(n, d, g, &now, err) != 0) return -1;
    char path[PATH_MAX], why[1024];
    if (o->state_path) snprintf(path, sizeof path, "%s", o->state_path);
    else if (mig_state_path(now.gpu_uuid, path, sizeof path, err) != 0) return -1;
    if (!fs_path_exists(path)) {
        cot_errf(err, "nothing to restore: no saved MIG state in %s (cotenant mig apply writes it)", path);
        return -2;
    }
    if (load_state(path, &saved, err) != 0) return -1;
    if (strcmp(saved.gpu_uuid, now.gpu_uuid))
        return cot_errf(err, "%s was saved for GPU %s, not this one (%s)", path, saved.gpu_uuid, now.gpu_uuid);
    mig_ops ops;
    mig_ops_for_restore(&now, &saved, &ops);
    if (o->dry_run) {
        if (o->out) {
            fprintf(o->out, "dry run: nothing is changed. Now: ");
            mig_state_print(&now, o->out);
            fprintf(o->out, "saved in %s: ", path);
            mig_state_print(&saved, o->out);
            fprintf(o->out, "%d NVML operation%s, in order:\n", ops.n, ops.n == 1 ? "" : "s");
            mig_ops_print(&ops, now.gpu_index, o->out);
        }
        *after = now;
        return 0;
    }
    if (mig_gpu_busy(n, d, why, sizeof why)) return cot_errf(err, "MIG cannot be changed while %s; stop them and try again", why);
    int done = 0;
    if (o->out) fprintf(o->out, "%d NVML operation%s:\n", ops.n, ops.n == 1 ? "" : "s");
    if (mig_ops_run(n, d, now.gpu_index, &ops, o->out, &done, err) != 0)
        return cot_err_prefix(err, "restore stopped (the saved state stays in %s; run cotenant mig restore again once the cause is fixed)",
                              path);
    unlink(path);
    return mig_state_read(n, d, g, after, err);
}
