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
/* Repeats at which two means this far apart, with these standard deviations,
 * would likely have 95% intervals that no longer overlap (the smallest n
 * with t(0.975, n-1) (s1 + s2) / sqrt(n) < distance); 0 past max_n or
 * where it cannot be told (no spread, or no distance). */
int stats_repeats_to_separate(double distance, double s1, double s2, int max_n);
/* Percentile p (0..100) of sorted data, linear interpolation between
 * closest ranks (numpy's default); NAN for n == 0. */
double stats_percentile_sorted(const double *sorted, int n, double p);
void stats_sort(double *x, int n);
/* Jain's fairness index (sum x)^2 / (n sum x^2): 1 when all are equal. */
double stats_jain(const double *x, int n);
/* {mean, ci95_low, ci95_high, stddev, n, values}; null when n == 0. */
json_t *stats_summary_json(const double *x, int n);
/* The same for a quantity bounded to [lo, hi] (a fraction, an index):
 * the interval is clamped to the range. */
json_t *stats_summary_json_in(const double *x, int n, double lo, double hi);

/* A percentile of pooled samples with a distribution-free 95% confidence
 * interval from order statistics: [x_(l), x_(u)] with the ranks l and u
 * from the binomial distribution of the count of samples below the true
 * percentile, so that P(x_(l) <= true < x_(u)) >= 0.95. */
typedef struct {
    double value;  /* NAN when n < need */
    double lo, hi; /* NAN where n is too small for that side */
    int n, need;   /* samples, and the fewest the percentile's rank needs: 100 / (100 - p) */
} stats_quantile;
stats_quantile stats_quantile_ci(const double *sorted, int n, double p);

#endif
