/* NP, STP, ANTT and Jain against figures computed by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <cmocka.h>

#include "analysis/system_figures.h"
#include "plan/plan.h"

static void np(void **state)
{
    (void)state;
    assert_float_equal(figure_np(600, 1200), 0.5, 1e-12);
    assert_float_equal(figure_np(0, 1200), 0.0, 1e-12); /* shared ran and did nothing */
    assert_true(isnan(figure_np(600, 0)));
    assert_true(isnan(figure_np(NAN, 1200)));
    assert_true(isnan(figure_np(600, NAN)));
}

static void two_workloads(void **state)
{
    (void)state;
    /* NP 0.5 and 0.8: STP 1.3; ANTT (2 + 1.25) / 2 = 1.625;
     * Jain 1.3^2 / (2 (0.25 + 0.64)) = 1.69 / 1.78 */
    const double v[] = {0.5, 0.8};
    const bool units[] = {true, true};
    system_figures f;
    assert_int_equal(figures_of_repeat(v, units, 2, &f), 0);
    assert_float_equal(f.stp, 1.3, 1e-12);
    assert_float_equal(f.antt, 1.625, 1e-12);
    assert_float_equal(f.jain, 1.69 / 1.78, 1e-12);
}

static void server_counts_through_its_driver(void **state)
{
    (void)state;
    /* a server (0.9, not a unit), its load generator (0.6) and a trainer
     * (0.4): STP 1.0, ANTT (1/0.6 + 2.5) / 2, Jain 1 / (2 (0.36 + 0.16)) */
    const double v[] = {0.9, 0.6, 0.4};
    const bool units[] = {false, true, true};
    system_figures f;
    assert_int_equal(figures_of_repeat(v, units, 3, &f), 0);
    assert_float_equal(f.stp, 1.0, 1e-12);
    assert_float_equal(f.antt, (1 / 0.6 + 2.5) / 2, 1e-12);
    assert_float_equal(f.jain, 1.0 / 1.04, 1e-12);
}

static void incomplete_repeat(void **state)
{
    (void)state;
    const double v[] = {0.5, NAN};
    const bool units[] = {true, true};
    system_figures f;
    assert_int_equal(figures_of_repeat(v, units, 2, &f), -1);
    const double stalled[] = {0.0, 1.0}; /* a workload that made no progress shared: ANTT is infinite */
    assert_int_equal(figures_of_repeat(stalled, units, 2, &f), 0);
    assert_true(isinf(f.antt));
    assert_float_equal(f.stp, 1.0, 1e-12);
}

static void shares_rule(void **state)
{
    (void)state;
    scenario sc;
    scenario_init_defaults(&sc);
    char *modes[] = {"exclusive", "timeslice", "mig-emulated"};
    for (int i = 0; i < 3; i++) sc.modes[sc.nmodes++] = modes[i];
    sc.nworkloads = 2;
    assert_false(plan_mode_shares(&sc, 0)); /* the baseline never shares */
    assert_true(plan_mode_shares(&sc, 1));
    assert_true(plan_mode_shares(&sc, 2));
    sc.nworkloads = 1; /* nothing to share with */
    assert_false(plan_mode_shares(&sc, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(np), cmocka_unit_test(two_workloads),
                                       cmocka_unit_test(server_counts_through_its_driver),
                                       cmocka_unit_test(incomplete_repeat), cmocka_unit_test(shares_rule)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
