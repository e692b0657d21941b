/* mig_plan.h - does a MIG layout fit a GPU, and where does each instance go.
 *
 * A layout is a list of GPU-instance profiles ("3g.40gb,2g.20gb,1g.10gb",
 * "2x3g.40gb"). The planner places every instance at one of its profile's
 * allowed starts with no two sharing a memory slice, within the per-profile
 * instance limits, the 7 compute slices and one media-engine instance; it
 * searches every placement, so "does not fit" means no placement exists,
 * and then says which instance found every start taken, and by what. */
#ifndef COTENANT_MIG_PLAN_H
#define COTENANT_MIG_PLAN_H

#include <stddef.h>

#include "mig/mig_profiles.h"

#define MIG_MAX_INSTANCES 7

typedef struct {
    const mig_profile *profile;
    int start; /* first memory slice */
} mig_placed;

typedef struct {
    int n;
    mig_placed inst[MIG_MAX_INSTANCES]; /* in the layout's order */
    int fits;
    int compute_slices, memory_slices;  /* used, when it fits */
    char why[512];                      /* when it does not */
} mig_plan;

/* Parses a layout against g's profiles: 0, or -1 with err naming the entry
 * and the profiles g has (bad input). */
int mig_layout_parse(const mig_gpu *g, const char *text, const mig_profile **out, int *n, char *err, size_t errcap);
/* Plans n instances; plan->fits says whether they fit. */
void mig_plan_layout(const mig_gpu *g, const mig_profile *const *req, int n, mig_plan *plan);

#endif
