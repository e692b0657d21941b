/* plan.h - the order of segments a run goes through.
 *
 * For each repeat and mode: each workload alone (the baseline its slowdown
 * is measured against), then all of them together. Segments of one mode stay
 * together so a mode is set up once per repeat; with shuffle, the order of
 * modes within a repeat and of segments within a mode is drawn from the
 * seed, so drift in the machine does not line up with one mode. */
#ifndef COTENANT_PLAN_H
#define COTENANT_PLAN_H

#include <stdint.h>

#include "scenario/scenario.h"

typedef enum { SEG_ALONE, SEG_SHARED } segment_kind;

typedef struct {
    int index;          /* 1-based position in the plan */
    int repeat;         /* 1-based */
    int mode;           /* index into scenario.modes */
    segment_kind kind;
    int workload;       /* SEG_ALONE: which; SEG_SHARED: -1 (all) */
    char id[SCENARIO_NAME_MAX * 2 + 64];
} plan_segment;

typedef struct {
    plan_segment *segs;
    int n;
} plan;

/* Whether mode m of the scenario has a shared segment: a mode that shares
 * the GPU, and more than one unit to share it (a server and its load
 * generator are one unit). The one rule, for the plan and the analysis. */
bool plan_mode_shares(const scenario *sc, int m);
/* Whether mode m runs alone segments of its own: the baseline does, and
 * so does every mode unless the scenario asks for the common baseline
 * only (own_baselines: false) and has one. */
bool plan_mode_runs_alone(const scenario *sc, int m);
int plan_build(const scenario *sc, plan *p);
void plan_free(plan *p);
/* Which workloads a segment runs, servers first: fills idx, returns the count. */
int plan_segment_workloads(const scenario *sc, const plan_segment *s, int *idx);
const char *segment_kind_name(segment_kind k);

#endif
