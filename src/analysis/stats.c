#include "analysis/stats.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>

void stats_add_finite(double v, double *sum, int *n)
{
    if (isfinite(v)) *sum += v, (*n)++;
}

double stats_mean(const double *x, int n)
{
    if (n <= 0) return NAN;
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return s / n;
}

double stats_stddev(const double *x, int n)
{
    if (n < 2) return NAN;
    double m = stats_mean(x, n), ss = 0;
    for (int i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    return sqrt(ss / (n - 1));
}

double stats_ci95_half(const double *x, int n)
{
    if (n < 2) return NAN;
    return gsl_cdf_tdist_Pinv(0.975, n - 1) * stats_stddev(x, n) / sqrt((double)n);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void stats_sort(double *x, int n)
{
    if (n > 1) qsort(x, (size_t)n, sizeof *x, cmp_double);
}

double stats_percentile_sorted(const double *s, int n, double p)
{
    if (n <= 0) return NAN;
    if (p <= 0) return s[0];
    if (p >= 100) return s[n - 1];
    double rank = p / 100.0 * (n - 1);
    int lo = (int)floor(rank);
    double frac = rank - lo;
    return lo + 1 < n ? s[lo] + frac * (s[lo + 1] - s[lo]) : s[lo];
}

double stats_jain(const double *x, int n)
{
    if (n <= 0) return NAN;
    double s = 0, ss = 0;
    for (int i = 0; i < n; i++) {
        s += x[i];
        ss += x[i] * x[i];
    }
    return ss > 0 ? s * s / (n * ss) : NAN;
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *stats_summary_json(const double *x, int n)
{
    if (n <= 0) return json_null();
    double m = stats_mean(x, n), h = stats_ci95_half(x, n);
    json_t *vals = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(vals, num_or_null(x[i]));
    return json_pack("{s:o, s:o, s:o, s:o, s:i, s:o}", "mean", num_or_null(m), "ci95_low", num_or_null(m - h),
                     "ci95_high", num_or_null(m + h), "stddev", num_or_null(stats_stddev(x, n)), "n", n, "values", vals);
}
