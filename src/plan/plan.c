#include "mode/desc/mode_desc.h"
#include "plan/plan.h"

#include "scenario/mode_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void shuffle_ints(int *v, int n, uint64_t *rng)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(splitmix64(rng) % (uint64_t)(i + 1));
        int t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

const char *segment_kind_name(segment_kind k)
{
    return k == SEG_ALONE ? "alone" : "shared";
}

bool plan_mode_shares(const scenario *sc, int m)
{
    const mode_desc *d = mode_desc_lookup(scenario_mode_kind(sc, m));
    return d && d->shares && scenario_units(sc) > 1;
}

bool plan_mode_runs_alone(const scenario *sc, int m)
{
    const mode_desc *base = mode_desc_baseline();
    if (!sc->common_baseline_only || !plan_mode_shares(sc, m)) return true;
    for (int b = 0; b < sc->nmodes; b++)
        if (mode_desc_lookup(scenario_mode_kind(sc, b)) == base && !scenario_mode_is_config(sc, b)) return false;
    return true;
}

int plan_build(const scenario *sc, plan *p)
{
    int per_mode = sc->nworkloads + 1;
    p->segs = calloc((size_t)(sc->repeats * sc->nmodes * per_mode), sizeof *p->segs);
    p->n = 0;
    if (!p->segs) return -1;
    uint64_t rng = sc->seed;
    for (int r = 1; r <= sc->repeats; r++) {
        /* Counterbalanced unless shuffled: the modes rotate one place each
         * repeat, and alone and shared swap order every other repeat, so a
         * drift over the run (heat, clocks, a neighbour) favours no side. */
        int modes[SCENARIO_MAX_MODES];
        for (int m = 0; m < sc->nmodes; m++) modes[m] = (m + r - 1) % sc->nmodes;
        if (sc->shuffle) shuffle_ints(modes, sc->nmodes, &rng);
        for (int mi = 0; mi < sc->nmodes; mi++) {
            int m = modes[mi];
            /* Slots 0..n-1 are the alone segments, slot n the shared one. */
            /* servers are not slots: they run with the workload that drives them */
            int order[SCENARIO_MAX_WORKLOADS + 1], nslots = 0;
            for (int i = 0; i < sc->nworkloads && plan_mode_runs_alone(sc, m); i++)
                if (scenario_driver_of(sc, i) < 0) order[nslots++] = i;
            if (plan_mode_shares(sc, m)) order[nslots++] = sc->nworkloads;
            if (sc->shuffle) shuffle_ints(order, nslots, &rng);
            else if (r % 2 == 0)
                for (int k = 0; k < nslots / 2; k++) {
                    int t = order[k];
                    order[k] = order[nslots - 1 - k];
                    order[nslots - 1 - k] = t;
                }
            for (int k = 0; k < nslots; k++) {
                plan_segment *s = &p->segs[p->n++];
                s->index = p->n;
                s->repeat = r;
                s->mode = m;
                s->kind = order[k] == sc->nworkloads ? SEG_SHARED : SEG_ALONE;
                s->workload = s->kind == SEG_ALONE ? order[k] : -1;
                snprintf(s->id, sizeof s->id, "%03d-r%d-%s-%s%s%s", s->index, r, sc->modes[m],
                         segment_kind_name(s->kind), s->kind == SEG_ALONE ? "-" : "",
                         s->kind == SEG_ALONE ? sc->workloads[s->workload].name : "");
            }
        }
    }
    return 0;
}

void plan_free(plan *p)
{
    free(p->segs);
    p->segs = NULL;
    p->n = 0;
}

int plan_segment_workloads(const scenario *sc, const plan_segment *s, int *idx)
{
    /* servers first: they must be up before their load generators start */
    int n = 0;
    if (s->kind == SEG_ALONE) {
        int t = scenario_target_of(sc, s->workload);
        if (t >= 0) idx[n++] = t;
        idx[n++] = s->workload;
        return n;
    }
    for (int i = 0; i < sc->nworkloads; i++)
        if (scenario_driver_of(sc, i) >= 0) idx[n++] = i;
    for (int i = 0; i < sc->nworkloads; i++)
        if (scenario_driver_of(sc, i) < 0) idx[n++] = i;
    return n;
}
