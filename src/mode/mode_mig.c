/* mig: real MIG. prepare applies the workloads' layout (cotenant mig apply's
 * code, with the GPU's state saved first in the run folder), env_for pins
 * each workload to its instance with CUDA_VISIBLE_DEVICES=MIG-<uuid>, and
 * teardown restores the saved state: at the end, after a failure, and
 * after SIGINT/SIGTERM (the runner calls it on every way out). A run killed
 * outright leaves the state file, and its path is printed at the start so
 * `cotenant mig restore --state FILE` can finish the job. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/mig_change.h"
#include "mode/mode.h"
#include "mode/mode_mig_layout.h"

typedef struct {
    mode_mig_layout l;
    const nvml_api *n;
    nvml_device d;
    char state_path[PATH_MAX], log_path[PATH_MAX];
    char uuid[SCENARIO_MAX_WORKLOADS][96];
    int applied;
} mig_priv;

static int check(const scenario *sc, const host_info *host, cot_err *why)
{
    mode_mig_layout l;
    if (mode_mig_layout_build(sc, host, &l, why) != 0) return -1;
    if (!l.own)
        return cot_errf(why, "changing MIG needs the GPU's own profiles through NVML, and it gave none (%s); "
                             "mig-emulated runs the same layout under MPS",
                        l.source);
    const nvml_api *n;
    nvml_device d;
    if (nvml_device_at(host->gpu_index, &n, &d, why) != 0) return -1;
    char busy[1024];
    if (mig_gpu_busy(n, d, busy, sizeof busy))
        return cot_errf(why, "MIG cannot be changed while %s; mig-emulated needs no change", busy);
    return 0;
}

static int prepare(mode_state *st, cot_err *err)
{
    mig_priv *m = calloc(1, sizeof *m);
    if (!m) return cot_errf(err, "out of memory");
    st->priv = m;
    if (mode_mig_layout_build(st->sc, st->host, &m->l, err) != 0) return -1;
    if (nvml_device_at(st->host->gpu_index, &m->n, &m->d, err) != 0) return -1;
    snprintf(m->state_path, sizeof m->state_path, "%s/mig-state-before.json", st->run_dir);
    snprintf(m->log_path, sizeof m->log_path, "%s/mig-changes.log", st->run_dir);
    FILE *log = fopen(m->log_path, "a");
    cot_info("mig: applying %s; if this run is killed outright, cotenant mig restore --state %s puts the GPU back",
             m->l.layout, m->state_path);
    mig_change_opts o = {.state_path = m->state_path, .what = "cotenant run, mode mig", .out = log};
    mig_state after;
    if (log) fprintf(log, "apply %s\n", m->l.layout);
    int rc = mig_apply(m->n, m->d, &m->l.g, &m->l.plan, &o, &after, err);
    if (log) fclose(log);
    if (rc != 0) return cot_err_prefix(err, "mig apply %s (see %s)", m->l.layout, m->log_path);
    m->applied = 1;
    json_t *inst = json_array();
    for (int w = 0; w < st->sc->nworkloads; w++) {
        int i = m->l.instance_of[w];
        if (i < 0) continue;
        const mig_gi_state *gi = mig_state_gi_at(&after, m->l.plan.inst[i].start);
        const mig_device_state *dev = gi ? mig_state_device(&after, gi->id) : NULL;
        if (!dev) return cot_errf(err, "the %s instance at memory slice %d has no MIG device after apply", m->l.plan.inst[i].profile->name,
                                  m->l.plan.inst[i].start);
        snprintf(m->uuid[w], sizeof m->uuid[w], "%s", dev->uuid);
        json_array_append_new(inst, json_pack("{s:s, s:s, s:i, s:i, s:s}", "workload", st->sc->workloads[w].name, "profile",
                                              m->l.plan.inst[i].profile->name, "start", m->l.plan.inst[i].start, "sms",
                                              m->l.plan.inst[i].profile->sms, "uuid", dev->uuid));
    }
    json_object_set_new(st->info, "layout", json_string(m->l.layout));
    json_object_set_new(st->info, "instances", inst);
    json_object_set_new(st->info, "state_saved_in", json_string(m->state_path));
    return 0;
}

static int env_for(mode_state *st, const workload_spec *w, strvec *env, cot_err *err)
{
    mig_priv *m = st->priv;
    int idx = (int)(w - st->sc->workloads);
    /* a workload without an instance (a load generator) sees no GPU at all */
    const char *id = idx >= 0 && idx < st->sc->nworkloads && m->uuid[idx][0] ? m->uuid[idx] : "";
    if (strvec_setenv(env, "CUDA_VISIBLE_DEVICES", id) != 0) return cot_errf(err, "out of memory");
    return 0;
}

static void teardown(mode_state *st)
{
    mig_priv *m = st->priv;
    if (!m) return;
    if (m->applied || (m->state_path[0] && access(m->state_path, F_OK) == 0)) {
        FILE *log = fopen(m->log_path, "a");
        if (log) fprintf(log, "restore\n");
        mig_change_opts o = {.state_path = m->state_path, .out = log};
        mig_state after;
        cot_err err;
        int rc = mig_restore(m->n, m->d, &m->l.g, &o, &after, &err);
        if (log) fclose(log);
        if (rc == -1) cot_warn("mig: %s; the GPU keeps the run's layout until cotenant mig restore --state %s", err.msg,
                               m->state_path);
    }
    free(m);
    st->priv = NULL;
}

const mode_ops mode_mig = {
    .name = "mig",
    .check = check,
    .prepare = prepare,
    .env_for = env_for,
    .teardown = teardown,
};
