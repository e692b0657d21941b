/* stats.h - the few statistics the metrics need (docs/metrics.md). */
#ifndef COTENANT_STATS_H
#define COTENANT_STATS_H

#include <jansson.h>

double stats_mean(const double *x, int n);
/* Adds v to a running sum and count where it is a number (NAN means "not available"). */
void stats_add_finite(double v, double *sum, int *n);
/* Sample standard deviation (n-1); NAN for n < 2. */
double stats_stddev(const double *x, int n);
/* Half-width of the 95% confidence interval of the mean, Student's t with
 * n-1 degrees of freedom; NAN for n < 2. */
double stats_ci95_half(const double *x, int n);
/* Percentile p (0..100) of sorted data, linear interpolation between
 * closest ranks (numpy's default); NAN for n == 0. */
double stats_percentile_sorted(const double *sorted, int n, double p);
void stats_sort(double *x, int n);
/* Jain's fairness index (sum x)^2 / (n sum x^2): 1 when all are equal. */
double stats_jain(const double *x, int n);
/* {mean, ci95_low, ci95_high, stddev, n, values}; null when n == 0. */
json_t *stats_summary_json(const double *x, int n);

#endif
