/* segment_window.h - the measured window's rules, as pure functions that a
 * unit test drives with scripted ticks.
 *
 * The window opens `warmup` after the last workload measured by events has
 * made its first progress (so a slow start never eats the measurement), or,
 * once the startup timeout has passed, `warmup` after that moment without
 * the workloads still silent. It closes `duration` later; where some
 * workload runs to completion (measure: wall_time), it closes instead when
 * the first of those ends. A segment stopped before the end (Ctrl-C, its
 * time limit) measured only up to the stop. A step that straddles an end
 * is the analysis's to apportion (analysis/throughput.c): so that it can,
 * the workloads are stopped only once each that has stepped has also sent
 * a step after the end (or the grace period has passed; the analysis then
 * measures it up to its last step inside the window). Times are
 * CLOCK_MONOTONIC nanoseconds on the workloads' clock (their events'). */
#ifndef COTENANT_SEGMENT_WINDOW_H
#define COTENANT_SEGMENT_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t t0_ns;                  /* when the workloads were started */
    int64_t warmup_ns, duration_ns;
    bool has_events;                /* some workload is measured by its events */
    bool has_wall;                  /* some workload runs to completion */
} window_rules;

typedef struct {
    bool counts;           /* measured by events, started, and still running */
    int64_t first_step_ns; /* its first step or latency event; 0: none yet */
    int64_t last_step_ns;  /* its latest one; 0: none yet */
} window_member;

typedef struct {
    int64_t start_ns, end_ns; /* 0: not (yet) known */
} window_span;

/* One tick at now. Opens the window when it can (see above); returns true
 * when it opened because the startup timeout had passed, so that the
 * caller can name the workloads that had sent nothing. */
bool segment_window_tick(window_span *w, const window_rules *r, const window_member *m, int n, int64_t now,
                 bool past_startup_limit);
/* The first wall-time workload ended at t: the window closes there. */
void segment_window_wall_exit(window_span *w, const window_rules *r, int64_t t);
/* Whether an events-only window is over at now. */
bool segment_window_over(const window_span *w, const window_rules *r, int64_t now);
/* After an events window closed: whether every member that counts and has
 * stepped has sent a step after the end, so the step that straddles it is
 * known. */
bool segment_window_tail_seen(const window_span *w, const window_member *m, int n);
/* The end of what was measured, for a segment stopped at stopped (0: not stopped early). */
int64_t segment_window_measured_end(const window_span *w, int64_t stopped);

#endif
