/* mig-emulated: the scenario's MIG layout where MIG cannot be changed. Each
 * workload is an MPS client (the mps mode's daemon) limited like its MIG
 * instance: CUDA_MPS_ACTIVE_THREAD_PERCENTAGE = the profile's SMs over the
 * GPU's (rounded up, so it gets at least as many) and
 * CUDA_MPS_PINNED_DEVICE_MEM_LIMIT = the profile's memory. What MPS does
 * not partition (L2 cache, memory bandwidth, error containment) stays
 * shared, so figures can be better or worse than real MIG's; the mode's
 * name and its caveat go into every result and report line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mode/mode.h"
#include "mode/mode_mig_layout.h"

/* MPS does the sharing; this mode adds the partition (mode_mps.c). */
extern const mode_ops mode_mps;

typedef struct {
    void *mps; /* the mps mode's own state */
    mode_mig_layout l;
    int pct[SCENARIO_MAX_WORKLOADS];
    long mem_mib[SCENARIO_MAX_WORKLOADS];
} emu_priv;

static int check(const scenario *sc, const host_info *host, cot_err *why)
{
    mode_mig_layout l;
    if (mode_mig_layout_build(sc, host, &l, why) != 0) return -1;
    return mode_mps.check(sc, host, why);
}

/* The mps mode's functions see their own state in st->priv. */
static int with_mps(mode_state *st, emu_priv *e, int (*fn)(mode_state *, cot_err *), cot_err *err)
{
    st->priv = e->mps;
    int rc = fn(st, err);
    e->mps = st->priv;
    st->priv = e;
    return rc;
}

static int prepare(mode_state *st, cot_err *err)
{
    emu_priv *e = calloc(1, sizeof *e);
    if (!e) return cot_errf(err, "out of memory");
    st->priv = e;
    if (mode_mig_layout_build(st->sc, st->host, &e->l, err) != 0) return -1;
    if (with_mps(st, e, mode_mps.prepare, err) != 0) return -1;
    const mig_gpu *g = &e->l.g;
    json_t *inst = json_array();
    for (int w = 0; w < st->sc->nworkloads; w++) {
        int i = e->l.instance_of[w];
        if (i < 0) continue;
        const mig_profile *p = e->l.plan.inst[i].profile;
        e->pct[w] = (int)ceil(100.0 * p->sms / g->sms);
        if (e->pct[w] > 100) e->pct[w] = 100;
        e->mem_mib[w] = (long)floor(p->memory_gib * 1024.0);
        json_array_append_new(inst, json_pack("{s:s, s:s, s:i, s:i, s:i, s:I}", "workload", st->sc->workloads[w].name,
                                              "profile", p->name, "profile_sms", p->sms, "gpu_sms", g->sms,
                                              "active_thread_percentage", e->pct[w], "pinned_memory_limit_mib",
                                              (json_int_t)e->mem_mib[w]));
    }
    json_object_set_new(st->info, "emulated", json_true());
    json_object_set_new(st->info, "layout", json_string(e->l.layout));
    json_object_set_new(st->info, "profiles_from", json_string(e->l.source));
    json_object_set_new(st->info, "instances", inst);
    json_object_set_new(st->info, "caveat", json_string(mode_desc_of(st->ops)->caveat));
    return 0;
}

static int env_for(mode_state *st, const workload_spec *w, strvec *env, cot_err *err)
{
    emu_priv *e = st->priv;
    st->priv = e->mps;
    int rc = mode_mps.env_for(st, w, env, err);
    st->priv = e;
    if (rc != 0) return -1;
    int idx = (int)(w - st->sc->workloads);
    if (idx < 0 || idx >= st->sc->nworkloads || e->l.instance_of[idx] < 0) return 0;
    char pct[16], lim[48];
    snprintf(pct, sizeof pct, "%d", e->pct[idx]);
    snprintf(lim, sizeof lim, "0=%ldM", e->mem_mib[idx]);
    if (strvec_setenv(env, "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE", pct) != 0 ||
        strvec_setenv(env, "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT", lim) != 0)
        return cot_errf(err, "out of memory");
    return 0;
}

static void teardown(mode_state *st)
{
    emu_priv *e = st->priv;
    if (!e) return;
    st->priv = e->mps;
    mode_mps.teardown(st);
    free(e);
    st->priv = NULL;
}

const mode_ops mode_mig_emulated = {
    .name = "mig-emulated",
    .check = check,
    .prepare = prepare,
    .env_for = env_for,
    .teardown = teardown,
};
