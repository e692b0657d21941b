/* advise.h - the recommendation (docs/metrics.md, "Recommendation"): of
 * the sharing configurations whose figures meet every constraint (SLOs on
 * latency percentiles and attainment, least NP) and can be trusted, the
 * best for the objective (STP, fairness, or one workload's throughput).
 * A configuration is named the best only where its 95% interval separates
 * from the next one's; otherwise the set it cannot be told from is. Where
 * none meets the constraints, the one that misses them by least is named
 * as the closest. Read from metrics.json alone, so `cotenant advise` asks
 * again with another objective without re-running anything. */
#ifndef COTENANT_ADVISE_H
#define COTENANT_ADVISE_H

#include <jansson.h>
#include <stdio.h>

#include "scenario/scenario.h"

/* {objective, figure, constraints: [sentence], configurations: [{mode,
 *  value, ci95_low, ci95_high, meets, violations: [..], uncertain: [..]}]
 *  (best first), verdict: best | indistinguishable | untested | none_meets |
 *  no_figures, best, tied: [..], sentence}. */
json_t *advise(const json_t *metrics, const scenario *sc, const objective_spec *o);
/* The recommendation for people: its sentence, then each configuration
 * left out and why. prefix starts every line ("" or "> "). */
void advise_print(FILE *f, const json_t *rec, const char *prefix);
/* Workload `name`'s entry in a mode entry of metrics.json, or NULL. */
const json_t *advise_workload(const json_t *mode_entry, const char *name);

#endif
