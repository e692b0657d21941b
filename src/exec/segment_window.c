#include "exec/segment_window.h"

bool segment_window_tick(window_span *w, const window_rules *r, const window_member *m, int n, int64_t now,
                 bool past_startup_limit)
{
    if (w->start_ns || !r->has_events) return false;
    int64_t ready = r->t0_ns;
    bool all = true;
    for (int i = 0; i < n; i++) {
        if (!m[i].counts) continue;
        if (!m[i].first_step_ns) all = false;
        else if (m[i].first_step_ns > ready) ready = m[i].first_step_ns;
    }
    bool by_limit = false;
    if (all) {
        w->start_ns = ready + r->warmup_ns;
    } else if (past_startup_limit) {
        w->start_ns = now + r->warmup_ns;
        by_limit = true;
    }
    if (w->start_ns && !r->has_wall) w->end_ns = w->start_ns + r->duration_ns;
    return by_limit;
}

void segment_window_wall_exit(window_span *w, const window_rules *r, int64_t t)
{
    if (r->has_wall && t && !w->end_ns) w->end_ns = t;
}

bool segment_window_over(const window_span *w, const window_rules *r, int64_t now)
{
    return !r->has_wall && w->end_ns && now >= w->end_ns;
}

int64_t segment_window_measured_end(const window_span *w, int64_t stopped)
{
    return w->end_ns && stopped && stopped < w->end_ns ? stopped : w->end_ns;
}

bool segment_window_tail_seen(const window_span *w, const window_member *m, int n)
{
    for (int i = 0; i < n; i++)
        if (m[i].counts && m[i].last_step_ns && m[i].last_step_ns <= w->end_ns) return false;
    return true;
}
