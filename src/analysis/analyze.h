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

#endif
