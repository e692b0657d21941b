/* adaptive.h - adaptive repeats (docs/metrics.md, "Adaptive repeats"):
 * after each repeat, from the metrics so far, which configurations are
 * still worth measuring and whether the answer is precise enough to stop.
 * Racing: a sharing configuration whose objective figure's 95% interval
 * lies wholly below the leader's (the best that meets every constraint)
 * is dropped, as is one whose constrained figure's interval lies wholly
 * past its limit while another may still meet every constraint. The run
 * stops once every configuration left (one, or several) has each NP's
 * interval within +-precision and each constrained latency percentile
 * enough requests for its rank, or once every one left clearly misses a
 * constraint. */
#ifndef COTENANT_ADAPTIVE_H
#define COTENANT_ADAPTIVE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "scenario/scenario.h"

/* active[m]: the scenario's modes still running; cleared for those
 * dropped, with why[m]. true: stop, with stop_why. */
bool adaptive_decide(const json_t *metrics, const scenario *sc, int repeat, bool *active, char (*why)[160],
                     char *stop_why, size_t cap);

#endif
