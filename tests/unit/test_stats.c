/* Statistics and throughput against hand-computed values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

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
    /* the same steps as one stream are off by the phase of the big step */
    for (int i = 0; i < n; i++) st[i].stream = 0;
    window_rate merged = window_rate_of(st, n, 1, 3500, 12500);
    assert_true(merged.rate < 0.199e9 || merged.rate > 0.201e9);
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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(basics), cmocka_unit_test(window), cmocka_unit_test(window_streams),
                                       cmocka_unit_test(window_cut_at_the_last_step)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
