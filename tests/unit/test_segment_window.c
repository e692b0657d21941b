/* The measured window's rules, driven tick by tick with scripted events
 * (seconds below are on the workloads' clock, from t0 = 100 s). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "exec/segment_window.h"

#define S(x) ((int64_t)((x) * 1e9))

static const window_rules events_only = {.t0_ns = S(100), .warmup_ns = S(2), .duration_ns = S(10), .has_events = true};

static void opens_after_the_last_first_step(void **state)
{
    (void)state;
    window_span w = {0};
    window_member m[2] = {{.counts = true, .first_step_ns = S(101)}, {.counts = true}};
    assert_false(segment_window_tick(&w, &events_only, m, 2, S(101.5), false));
    assert_int_equal(w.start_ns, 0); /* one is still silent */
    m[1].first_step_ns = S(103);
    assert_false(segment_window_tick(&w, &events_only, m, 2, S(103.1), false));
    assert_int_equal(w.start_ns, S(105)); /* 2 s of warm-up after the later first step */
    assert_int_equal(w.end_ns, S(115));
    assert_false(segment_window_over(&w, &events_only, S(114.9)));
    assert_true(segment_window_over(&w, &events_only, S(115)));
    /* once open, it stays where it opened */
    m[0].first_step_ns = S(120);
    segment_window_tick(&w, &events_only, m, 2, S(121), false);
    assert_int_equal(w.start_ns, S(105));
}

static void a_step_before_t0_counts_from_t0(void **state)
{
    (void)state;
    window_span w = {0};
    window_member m[1] = {{.counts = true, .first_step_ns = S(99)}}; /* a clock a little behind */
    segment_window_tick(&w, &events_only, m, 1, S(100.5), false);
    assert_int_equal(w.start_ns, S(102));
}

static void opens_by_the_startup_limit_without_the_silent(void **state)
{
    (void)state;
    window_span w = {0};
    window_member m[2] = {{.counts = true, .first_step_ns = S(101)}, {.counts = true}};
    assert_false(segment_window_tick(&w, &events_only, m, 2, S(150), false));
    assert_true(segment_window_tick(&w, &events_only, m, 2, S(220), true)); /* the limit passed */
    assert_int_equal(w.start_ns, S(222));
    assert_int_equal(w.end_ns, S(232));
}

static void ended_workloads_do_not_hold_it(void **state)
{
    (void)state;
    window_span w = {0};
    /* the second one ended (or never started): it no longer counts */
    window_member m[2] = {{.counts = true, .first_step_ns = S(101)}, {.counts = false}};
    segment_window_tick(&w, &events_only, m, 2, S(101), false);
    assert_int_equal(w.start_ns, S(103));
}

static void wall_time_closes_at_the_first_exit(void **state)
{
    (void)state;
    window_rules r = events_only;
    r.has_wall = true;
    window_span w = {0};
    window_member m[2] = {{.counts = true, .first_step_ns = S(101)}, {.counts = false}};
    segment_window_tick(&w, &r, m, 2, S(101), false);
    assert_int_equal(w.start_ns, S(103));
    assert_int_equal(w.end_ns, 0); /* no duration: the wall-time workload decides */
    assert_false(segment_window_over(&w, &r, S(500)));
    segment_window_wall_exit(&w, &r, 0); /* none ended yet */
    assert_int_equal(w.end_ns, 0);
    segment_window_wall_exit(&w, &r, S(140));
    segment_window_wall_exit(&w, &r, S(150)); /* the first one decides */
    assert_int_equal(w.end_ns, S(140));
}

static void no_event_workloads_no_window(void **state)
{
    (void)state;
    window_rules r = {.t0_ns = S(100), .warmup_ns = S(2), .duration_ns = S(10), .has_wall = true};
    window_span w = {0};
    assert_false(segment_window_tick(&w, &r, NULL, 0, S(300), true));
    assert_int_equal(w.start_ns, 0);
}

/* The workloads are stopped once each that stepped has a step after the end
 * (so the analysis knows the step that straddles it); one that has never
 * stepped, or has ended, holds nothing up. */
static void the_stop_waits_for_a_step_past_the_end(void **state)
{
    (void)state;
    window_span w = {.start_ns = 1000, .end_ns = 5000};
    window_member m[3] = {{.counts = true, .first_step_ns = 900, .last_step_ns = 5200},
                          {.counts = true, .first_step_ns = 950, .last_step_ns = 4700},
                          {.counts = true}};
    assert_false(segment_window_tail_seen(&w, m, 3));
    m[1].last_step_ns = 5000; /* exactly at the end: the step after it is still to come */
    assert_false(segment_window_tail_seen(&w, m, 3));
    m[1].last_step_ns = 7400;
    assert_true(segment_window_tail_seen(&w, m, 3));
    m[1].last_step_ns = 4700, m[1].counts = false; /* it ended */
    assert_true(segment_window_tail_seen(&w, m, 3));
}

static void a_stop_cuts_what_was_measured(void **state)
{
    (void)state;
    window_span w = {.start_ns = S(105), .end_ns = S(115)};
    assert_int_equal(segment_window_measured_end(&w, 0), S(115));
    assert_int_equal(segment_window_measured_end(&w, S(110)), S(110)); /* Ctrl-C mid-window */
    assert_int_equal(segment_window_measured_end(&w, S(116)), S(115)); /* stopped after it closed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(opens_after_the_last_first_step), cmocka_unit_test(a_step_before_t0_counts_from_t0),
        cmocka_unit_test(opens_by_the_startup_limit_without_the_silent), cmocka_unit_test(ended_workloads_do_not_hold_it),
        cmocka_unit_test(wall_time_closes_at_the_first_exit), cmocka_unit_test(no_event_workloads_no_window),
        cmocka_unit_test(a_stop_cuts_what_was_measured), cmocka_unit_test(the_stop_waits_for_a_step_past_the_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
