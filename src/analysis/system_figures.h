/* system_figures.h - the figures of one repeat of a sharing mode, from each
 * workload's throughput alone and shared (docs/metrics.md defines them):
 *   NP   normalized progress, shared / alone, per workload;
 *   STP  system throughput, the sum of NP over the units;
 *   ANTT average normalized turnaround time, the mean of 1/NP;
 *   Jain fairness over the units' NP, (sum x)^2 / (n sum x^2).
 * A unit is a workload that no other drives: a server counts through the
 * load generator that drives it, not twice. Pure functions, so that each
 * is tested against figures computed by hand. */
#ifndef COTENANT_SYSTEM_FIGURES_H
#define COTENANT_SYSTEM_FIGURES_H

#include <stdbool.h>

/* NAN unless both throughputs are known and alone is positive. */
double figure_np(double shared, double alone);

typedef struct {
    double stp, antt, jain;
} system_figures;

/* From n workloads' NP; is_unit[i] says whether workload i counts. 0, or
 * -1 when a unit's NP is not a number (the repeat is not complete). */
int figures_of_repeat(const double *np, const bool *is_unit, int n, system_figures *out);

#endif
