/* report.h - metrics -> report.md and plots/ (PNG with the .dat and .gp
 * files that made them, so users can restyle a plot with gnuplot alone).
 * Reads run.json and metrics.json only. */
#ifndef COTENANT_REPORT_H
#define COTENANT_REPORT_H

#include "util/err.h"

int report_run(const char *dir, cot_err *err);

#endif
