#include "exec/config_gpu.h"

#include <limits.h>

#include "gpuset/gpu_policy.h"
#include "host/nvml.h"
#include "scenario/mode_config.h"

static void state_path(const char *run_dir, char *out, size_t cap)
{
    snprintf(out, cap, "%s/gpu-settings-config.json", run_dir);
}

static gpu_policy_change change_of(const scenario *sc, int m)
{
    const mode_config *c = &sc->configs[m];
    gpu_policy_change ch = {c->compute_mode_set ? c->compute_mode : -1, c->timeslice_set ? c->timeslice : -1};
    return ch;
}

/* "compute mode Exclusive_Process, timeslice short": what p says, of what ch changes. */
static void describe(const gpu_policy_change *ch, const gpu_policy *p, char *out, size_t cap)
{
    int cm = ch->compute_mode >= 0 ? p->compute_mode : -1, ts = ch->timeslice >= 0 ? p->timeslice : -1;
    snprintf(out, cap, "%s%s%s%s%s", cm >= 0 ? "compute mode " : "", cm >= 0 ? nvml_compute_mode_name(cm) : "",
             cm >= 0 && ch->timeslice >= 0 ? ", " : "", ch->timeslice >= 0 ? "timeslice " : "",
             ch->timeslice >= 0 ? gpu_timeslice_name(ts) : "");
}

int config_gpu_up(const scenario *sc, int m, const host_info *host, const char *run_dir, json_t *info, cot_err *err)
{
    if (!scenario_config_changes_gpu(sc, m)) return 0;
    if (sc->device != DEVICE_GPU || !host->gpu_found)
        return cot_errf(err, "configuration %s sets the GPU's %s, and there is no GPU here", sc->modes[m],
                        sc->configs[m].timeslice_set ? "timeslice" : "compute mode");
    gpu_policy_change ch = change_of(sc, m);
    gpu_policy before, after;
    char path[PATH_MAX], was[128], set[128];
    state_path(run_dir, path, sizeof path);
    if (gpu_policy_read(host->gpu_index, &before, err) != 0 ||
        gpu_policy_apply(host->gpu_index, &ch, path, 0, NULL, err) != 0 || gpu_policy_read(host->gpu_index, &after, err) != 0)
        return cot_err_prefix(err, "configuration %s: cannot set the GPU's settings", sc->modes[m]);
    describe(&ch, &before, was, sizeof was);
    describe(&ch, &after, set, sizeof set);
    cot_info("%s: GPU set to %s (before: %s; saved in %s until it is put back)", sc->modes[m], set, was, path);
    json_object_set_new(info, "gpu_settings", json_pack("{s:s, s:s}", "set", set, "before", was));
    return 0;
}

void config_gpu_down(const scenario *sc, int m, const host_info *host, const char *run_dir)
{
    if (!scenario_config_changes_gpu(sc, m) || !host->gpu_found) return;
    char path[PATH_MAX];
    state_path(run_dir, path, sizeof path);
    cot_err err;
    if (gpu_policy_restore(host->gpu_index, path, 0, NULL, &err) == -1)
        cot_warn("%s: %s; cotenant mode restore --state %s tries again", sc->modes[m], err.msg, path);
}

void config_gpu_plan(const scenario *sc, int m, const host_info *host, FILE *out)
{
    if (!scenario_config_changes_gpu(sc, m)) return;
    const mode_config *c = &sc->configs[m];
    fprintf(out, "  sets the whole GPU's%s%s%s%s before its segments and puts it back after (--allow-gpu-settings)\n",
            c->compute_mode_set ? " compute mode " : "", c->compute_mode_set ? gpu_compute_mode_word(c->compute_mode) : "",
            c->timeslice_set ? (c->compute_mode_set ? " and timeslice " : " timeslice ") : "",
            c->timeslice_set ? gpu_timeslice_name(c->timeslice) : "");
    if (sc->device != DEVICE_GPU || !host->gpu_found) return;
    gpu_policy_change ch = change_of(sc, m);
    cot_err err;
    char path[PATH_MAX];
    state_path("RESULTS", path, sizeof path);
    if (gpu_policy_apply(host->gpu_index, &ch, path, 1, out, &err) != 0) fprintf(out, "  (cannot tell: %s)\n", err.msg);
}
