/* The notebook simulation's cells: the same seed gives the same cells, their
 * sizes and counts stay in range, think times average what was asked, and
 * the CPU backend runs them. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cells.h"

static void cells_are_reproducible_and_in_range(void **state)
{
    (void)state;
    double think = 0, sizes_small = 0;
    enum { N = 20000 };
    for (uint64_t k = 0; k < N; k++) {
        cell a, b;
        cell_make(7, k, 4096, 2.0, &a);
        cell_make(7, k, 4096, 2.0, &b);
        assert_int_equal(a.ops, b.ops);
        assert_int_equal(a.n, b.n);
        assert_true(a.think_s == b.think_s);
        assert_true(a.ops >= 1 && a.ops <= 16);
        assert_true(a.n >= 256 && a.n <= 4096 && a.n % 64 == 0);
        assert_true(a.think_s >= 0);
        think += a.think_s;
        sizes_small += a.n <= 1024;
    }
    assert_float_equal(think / N, 2.0, 0.1); /* exponential with mean 2 s */
    /* log-uniform sizes: half of them at most sqrt(256 * 4096) = 1024 */
    assert_float_equal(sizes_small / N, 0.5, 0.03);
    cell c;
    cell_make(8, 0, 4096, 2.0, &c);
    cell d;
    cell_make(7, 0, 4096, 2.0, &d);
    assert_true(c.n != d.n || c.ops != d.ops || c.think_s != d.think_s); /* another seed, another cell */
    assert_float_equal(cell_flops(&(cell){.ops = 2, .n = 1000}), 4e9, 1);
}

static void cpu_backend_runs_cells(void **state)
{
    (void)state;
    cell_backend *b = cell_backend_cpu(1024);
    assert_non_null(b);
    assert_int_equal(b->max_n, 64);
    cell c = {.ops = 3, .n = 1024};
    assert_int_equal(b->run(b, &c), 0);
    b->destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cells_are_reproducible_and_in_range),
        cmocka_unit_test(cpu_backend_runs_cells),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
