#include "analysis/stats.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdbool.h>
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

int stats_repeats_to_separate(double distance, double s1, double s2, int max_n)
{
    if (!(distance > 0) || !isfinite(s1) || !isfinite(s2) || s1 + s2 <= 0) return 0;
    for (int n = 2; n <= max_n; n++)
        if (gsl_cdf_tdist_Pinv(0.975, n - 1) * (s1 + s2) / sqrt((double)n) < distance) return n;
    return 0;
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

json_t *stats_summary_json_in(const double *x, int n, double lo, double hi)
{
    if (n <= 0) return json_null();
    double m = stats_mean(x, n), h = stats_ci95_half(x, n);
    double l = m - h < lo ? lo : m - h, u = m + h > hi ? hi : m + h;
    json_t *vals = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(vals, num_or_null(x[i]));
    return json_pack("{s:o, s:o, s:o, s:o, s:i, s:o}", "mean", num_or_null(m), "ci95_low", num_or_null(l),
                     "ci95_high", num_or_null(u), "stddev", num_or_null(stats_stddev(x, n)), "n", n, "values", vals);
}

json_t *stats_summary_json(const double *x, int n)
{
    return stats_summary_json_in(x, n, -INFINITY, INFINITY);
}

/* P(B <= k) for B ~ Binomial(n, q); 0 for k < 0. */
static double binom_cdf(long k, double q, int n)
{
    return k < 0 ? 0.0 : k >= n ? 1.0 : gsl_cdf_binomial_P((unsigned)k, q, (unsigned)n);
}

/* The largest k in [-1, n] with P(B <= k) <= level (first) or the smallest
 * with P(B <= k) >= level (!first): the CDF rises with k. */
static long binom_search(double q, int n, double level, bool largest_below)
{
    long lo = -1, hi = n;
    while (lo < hi) {
        long mid = largest_below ? lo + (hi - lo + 1) / 2 : lo + (hi - lo) / 2;
        double f = binom_cdf(mid, q, n);
        if (largest_below) {
            if (f <= level) lo = mid;
            else hi = mid - 1;
        } else {
            if (f >= level) hi = mid;
            else lo = mid + 1;
        }
    }
    return lo;
}

stats_quantile stats_quantile_ci(const double *s, int n, double p)
{
    stats_quantile r = {NAN, NAN, NAN, n, (int)ceil(100.0 / (100.0 - p) - 1e-9)};
    if (n <= 0 || n < r.need) return r;
    r.value = stats_percentile_sorted(s, n, p);
    double q = p / 100.0;
    long l = binom_search(q, n, 0.025, true) + 1; /* 1-based rank of the lower bound; 0: none */
    long u = binom_search(q, n, 0.975, false) + 1;
    if (l >= 1) r.lo = s[l - 1];
    if (u <= n) r.hi = s[u - 1];
    /* the interval holds the estimate, whatever the rounding of ranks */
    if (isfinite(r.lo) && r.lo > r.value) r.lo = r.value;
    if (isfinite(r.hi) && r.hi < r.value) r.hi = r.value;
    return r;
}
