/* analyze.h - raw records -> metrics (metrics.json, summary.csv).
 *
 * Reads only run.json and the segments folder, so it re-runs on any old
 * results folder; definitions of every figure are in docs/metrics.md. */
#ifndef COTENANT_ANALYZE_H
#define COTENANT_ANALYZE_H

#include "util/err.h"

#define RUN_JSON_MAX_BYTES (64 << 20)
#define TIMESERIES_MIN_BIN_S 0.25
#define CDF_POINTS 200

int analyze_run(const char *dir, cot_err *err);
/* The same on a run still going (adaptive repeats ask after each repeat):
 * segments it has yet to reach count against nothing, where analyze_run
 * leaves them out as not run (a run that stopped short). */
int analyze_run_so_far(const char *dir, cot_err *err);

#endif
