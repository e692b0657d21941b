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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(basics), cmocka_unit_test(window)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
