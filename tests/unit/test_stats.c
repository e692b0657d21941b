/* Statistics and throughput against hand-computed values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "analysis/latency.h"
#include "analysis/stats.h"
#include "analysis/throughput.h"

static void basics(void **state)
{
    (void)state;
    double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
    assert_float_equal(stats_mean(x, 8), 5.0, 1e-12);
    assert_float_equal(stats_stddev(x, 8), sqrt(32.0 / 7), 1e-12);
    /* t(0.975, 7) = 2.364624 */
    assert_float_equal(stats_ci95_half(x, 8), 2.364624 * sqrt(32.0 / 7) / sqrt(8), 1e-5);
    assert_true(isnan(stats_ci95_half(x, 1)));
    double s[] = {1, 2, 3, 4};
    assert_float_equal(stats_percentile_sorted(s, 4, 50), 2.5, 1e-12);
    assert_float_equal(stats_percentile_sorted(s, 4, 99), 3.97, 1e-12);
    double eq[] = {0.5, 0.5}, uneq[] = {1.0, 0.0};
    assert_float_equal(stats_jain(eq, 2), 1.0, 1e-12);
    assert_float_equal(stats_jain(uneq, 2), 0.5, 1e-12);
}

static void window(void **state)
{
    (void)state;
    /* Steps of 10 samples every 100 ns from t=0: 100 samples per 1000 ns. */
    step_rec st[20];
    for (int i = 0; i < 20; i++) st[i] = (step_rec){(i + 1) * 100, 10};
    assert_float_equal(window_samples(st, 20, 0, 0, 1000), 100.0, 1e-9);
    /* A window cutting steps in half counts half of each edge step. */
    assert_float_equal(window_samples(st, 20, 0, 250, 750), 50.0, 1e-9);
    double rates[2];
    binned_rates(st, 20, 0, 0, 1000, rates, 2);
    assert_float_equal(rates[0], 100 * 1e9 / 1000, 1e6);
}

/* Two streams of one workload with different step sizes, each prorated
 * against its own previous step: exact whatever the window's phase. */
static void window_streams(void **state)
{
    (void)state;
    step_rec st[2100];
    int n = 0;
    for (int64_t t = 10; t <= 20000; t += 10) {
        if (t % 2000 == 0) st[n++] = (step_rec){t, 200, 1}; /* 200 every 2000 ns */
        st[n++] = (step_rec){t, 1, 0};                      /* 1 every 10 ns */
    }
    for (int64_t ws = 0; ws < 2000; ws += 250) {
        window_rate r = window_rate_of(st, n, 1, ws + 3000, ws + 12000);
        assert_float_equal(r.rate, 0.2e9, 1);
        assert_int_equal(r.streams, 2);
        assert_int_equal(r.cut, 0);
    }
    /* the same steps as one stream are off by the phase of the big step,
     * and are told apart as two sizes in one stream */
    int64_t small, large;
    assert_false(window_mixed_sizes(st, n, 0, 3500, 12500, &small, &large));
    for (int i = 0; i < n; i++) st[i].stream = 0;
    window_rate merged = window_rate_of(st, n, 1, 3500, 12500);
    assert_true(merged.rate < 0.199e9 || merged.rate > 0.201e9);
    assert_true(window_mixed_sizes(st, n, 0, 3500, 12500, &small, &large));
    assert_int_equal(small, 1);
    assert_int_equal(large, 200);
    /* a training run's short last batch is not a second stream */
    step_rec epoch[100];
    for (int i = 0; i < 100; i++) epoch[i] = (step_rec){(i + 1) * 100, i == 99 ? 32 : 128, 0};
    assert_false(window_mixed_sizes(epoch, 100, 0, 0, 20000, &small, &large));
}

/* A stream stopped mid-step (no step after the window) is measured up to its
 * last step inside the window; one silent in and after it cannot be measured. */
static void window_cut_at_the_last_step(void **state)
{
    (void)state;
    step_rec st[7];
    for (int i = 0; i < 7; i++) st[i] = (step_rec){(i + 1) * 100, 10, 0}; /* the last at 700 */
    window_rate r = window_rate_of(st, 7, 1, 250, 1000);
    assert_float_equal(r.rate, 0.1e9, 1e-3); /* (5 + 4 x 10) samples in 450 ns */
    assert_int_equal(r.cut, 1);
    assert_int_equal(r.cut_end_ns, 700);
    assert_true(r.measurable);
    r = window_rate_of(st, 7, 1, 800, 1000);
    assert_false(r.measurable);
    assert_float_equal(r.rate, 0, 0);
}

/* Order-statistic intervals against the binomial by hand: for the median of
 * 20 samples, ranks 6 and 15 (P(B <= 5) = 0.0207, P(B <= 14) = 0.9793 for
 * B ~ Bin(20, 0.5)); for p99 of 100, rank 97 below (P(B <= 96) = 0.0184)
 * and none above (P(B <= 99) = 0.634); 99 samples are too few for p99. */
static void quantile_intervals(void **state)
{
    (void)state;
    double x[100];
    for (int i = 0; i < 100; i++) x[i] = i + 1;
    stats_quantile q = stats_quantile_ci(x, 20, 50);
    assert_float_equal(q.value, 10.5, 1e-12);
    assert_float_equal(q.lo, 6, 0);
    assert_float_equal(q.hi, 15, 0);
    q = stats_quantile_ci(x, 100, 99);
    assert_float_equal(q.value, 99.01, 1e-9);
    assert_float_equal(q.lo, 97, 0);
    assert_false(isfinite(q.hi));
    q = stats_quantile_ci(x, 99, 99);
    assert_false(isfinite(q.value));
    assert_int_equal(q.need, 100);
    assert_int_equal(stats_quantile_ci(x, 100, 99.9).need, 1000);
}

/* Pooled across repeats: 10 requests of 10 ms in one repeat, 1000 of 0.1 ..
 * 100 ms in the other. The mean of per-repeat p99s is (10 + 99.001) / 2 =
 * 54.5; the p99 of the 1010 together is 98.991 (rank 998.91 of the pool:
 * 98.9 + 0.91 x 0.1). An unanswered request's age below it makes it a
 * lower bound. */
static void pooled_percentiles(void **state)
{
    (void)state;
    latency_pool p;
    latency_pool_init(&p);
    for (int i = 0; i < 10; i++) latency_pool_add(&p, 10.0, true);
    for (int i = 1; i <= 1000; i++) latency_pool_add(&p, i / 10.0, true);
    json_t *j = latency_pool_json(&p);
    json_t *p99 = json_object_get(j, "p99");
    assert_float_equal(json_real_value(json_object_get(p99, "value")), 98.991, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(p99, "n")), 1010);
    assert_true(json_is_false(json_object_get(p99, "at_least")));
    assert_true(json_real_value(json_object_get(p99, "ci95_low")) <= 98.991);
    assert_true(json_real_value(json_object_get(p99, "ci95_high")) >= 98.991);
    /* p99.9 of 1010: a value, and no upper bound (P(B <= 1009) = 1 - 0.999^1010 = 0.636 < 0.975) */
    assert_true(json_is_real(json_object_get(json_object_get(j, "p99_9"), "value")));
    assert_true(json_is_null(json_object_get(json_object_get(j, "p99_9"), "ci95_high")));
    json_decref(j);
    latency_pool_add(&p, 50, false);
    j = latency_pool_json(&p);
    assert_int_equal(json_integer_value(json_object_get(j, "failed_or_unanswered")), 1);
    assert_true(json_is_true(json_object_get(json_object_get(j, "p99"), "at_least")));
    json_decref(j);
    latency_pool_free(&p);
}

/* Intervals of a bounded figure stay in its range. */
static void bounded_intervals(void **state)
{
    (void)state;
    double jain[3] = {0.99, 1.0, 0.97};
    json_t *s = stats_summary_json_in(jain, 3, 0, 1);
    assert_float_equal(json_real_value(json_object_get(s, "ci95_high")), 1.0, 0);
    assert_true(json_real_value(json_object_get(s, "ci95_low")) < 0.99);
    json_decref(s);
    assert_int_equal(stats_repeats_to_separate(0.1, 0.0322, 0.0322, 1000), 5);
    assert_int_equal(stats_repeats_to_separate(0, 0.03, 0.03, 1000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(basics), cmocka_unit_test(window), cmocka_unit_test(window_streams),
                                       cmocka_unit_test(window_cut_at_the_last_step), cmocka_unit_test(quantile_intervals),
                                       cmocka_unit_test(pooled_percentiles), cmocka_unit_test(bounded_intervals)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
