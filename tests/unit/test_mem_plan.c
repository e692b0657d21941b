/* The memory plan: tensors live at the same time never share bytes, those
 * that are not may, and the total sits between the live peak and the sum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mem_plan.h"

static void uses(mem_plan *p, int id, long from, long to)
{
    /* touches at from and to, as an operation at each would */
    long save = p->clock;
    p->clock = from;
    mem_plan_touch(p, id);
    p->clock = to;
    mem_plan_touch(p, id);
    p->clock = save;
}

static void chain_reuses(void **state)
{
    (void)state;
    /* a -> b -> c, each read by the next operation only: a and c share */
    size_t sz[] = {100, 100, 100};
    mem_plan p;
    assert_int_equal(mem_plan_init(&p, 3, sz, 1), 0);
    uses(&p, 0, 0, 1);
    uses(&p, 1, 1, 2);
    uses(&p, 2, 2, 3);
    assert_int_equal(mem_plan_place(&p), 200);
    assert_int_equal(mem_plan_peak_live(&p), 200);
    assert_int_equal(p.t[0].offset, p.t[2].offset);
    assert_true(p.t[1].offset != p.t[0].offset);
    assert_false(mem_plan_conflicts(&p, NULL, NULL));
    mem_plan_free(&p);
}

static void touch_follows_the_clock(void **state)
{
    (void)state;
    size_t sz[] = {10, 10, 10};
    mem_plan p;
    assert_int_equal(mem_plan_init(&p, 3, sz, 1), 0);
    mem_plan_next_op(&p);
    mem_plan_touch(&p, 0);
    mem_plan_touch(&p, 1); /* same operation as tensor 0: live together */
    mem_plan_next_op(&p);
    mem_plan_touch(&p, 2); /* a later one: may reuse either */
    assert_int_equal(p.t[0].first, p.t[1].first);
    assert_true(p.t[2].first > p.t[0].last);
    assert_int_equal(mem_plan_place(&p), 20);
    assert_true(p.t[0].offset != p.t[1].offset);
    mem_plan_free(&p);
}

static void untouched_take_nothing(void **state)
{
    (void)state;
    size_t sz[] = {1000, 64, 0};
    mem_plan p;
    assert_int_equal(mem_plan_init(&p, 3, sz, 256), 0);
    uses(&p, 1, 5, 9);
    uses(&p, 2, 5, 9);
    assert_int_equal(mem_plan_place(&p), 256); /* one aligned 64-byte tensor */
    assert_int_equal(mem_plan_peak_live(&p), 64);
    mem_plan_free(&p);
}

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void random_lifetimes(void **state)
{
    (void)state;
    enum { N = 300 };
    uint64_t s = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 20; round++) {
        size_t sz[N], sum = 0;
        for (int i = 0; i < N; i++) {
            sz[i] = 1 + next(&s) % 100000;
            sum += (sz[i] + 255) / 256 * 256;
        }
        mem_plan p;
        assert_int_equal(mem_plan_init(&p, N, sz, 256), 0);
        for (int i = 0; i < N; i++) {
            long a = (long)(next(&s) % 1000), len = (long)(next(&s) % 100);
            if (i % 17 == 0) continue; /* some never used */
            uses(&p, i, a, a + len);
        }
        size_t total = mem_plan_place(&p);
        int x = -1, y = -1;
        assert_false(mem_plan_conflicts(&p, &x, &y));
        assert_true(total >= mem_plan_peak_live(&p));
        assert_true(total <= sum);
        for (int i = 0; i < N; i++) {
            assert_int_equal(p.t[i].offset % 256, 0);
            if (p.t[i].first <= p.t[i].last) assert_true(p.t[i].offset + p.t[i].bytes <= total);
        }
        mem_plan_free(&p);
    }
}

static void conflicts_are_found(void **state)
{
    (void)state;
    size_t sz[] = {100, 100};
    mem_plan p;
    assert_int_equal(mem_plan_init(&p, 2, sz, 1), 0);
    uses(&p, 0, 0, 5);
    uses(&p, 1, 3, 8);
    mem_plan_place(&p);
    assert_false(mem_plan_conflicts(&p, NULL, NULL));
    p.t[1].offset = 50; /* overlap them by hand */
    int x, y;
    assert_true(mem_plan_conflicts(&p, &x, &y));
    assert_int_equal(x, 0);
    assert_int_equal(y, 1);
    mem_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chain_reuses),           cmocka_unit_test(touch_follows_the_clock),
        cmocka_unit_test(untouched_take_nothing), cmocka_unit_test(random_lifetimes),
        cmocka_unit_test(conflicts_are_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
