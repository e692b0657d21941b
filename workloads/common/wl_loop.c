#include "wl_loop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "events.h"
#include "flags.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Loss at steps 1, 2, 4, 8, ...: enough to see a trend, few lines. */
static int log_this_step(long n)
{
    return n > 0 && (n & (n - 1)) == 0;
}

int wl_run(const wl_opts *o, const wl_task *t, wl_summary *s)
{
    s->steps = 0;
    s->seconds = 0;
    s->per_s = s->step_ms_p50 = s->step_ms_p99 = 0;
    s->first_loss = s->last_loss = NAN;
    events_start(t->unit);
    float loss = NAN;
    for (int i = 0; i < o->warmup_steps && !workload_stop; i++)
        if (t->step(t->ctx, &loss) != 0) return -1;

    size_t cap = 1024;
    double *ms = malloc(cap * sizeof *ms);
    if (!ms) {
        fprintf(stderr, "%s: out of memory for step times\n", o->prog);
        return -1;
    }
    int64_t t0 = events_now_ns(), until = o->duration_s > 0 ? t0 + (int64_t)(o->duration_s * 1e9) : 0;
    int rc = 0;
    while (!workload_stop && (o->steps <= 0 || s->steps < o->steps) && (!until || events_now_ns() < until)) {
        int64_t a = events_now_ns();
        if (t->step(t->ctx, &loss) != 0) {
            rc = -1;
            break;
        }
        int64_t b = events_now_ns();
        events_step_loss(t->samples_per_step, loss);
        if ((size_t)s->steps == cap) {
            double *bigger = realloc(ms, 2 * cap * sizeof *ms);
            if (!bigger) {
                fprintf(stderr, "%s: out of memory for step times\n", o->prog);
                rc = -1;
                break;
            }
            ms = bigger;
            cap *= 2;
        }
        ms[s->steps++] = (double)(b - a) / 1e6;
        if (s->steps == 1) s->first_loss = loss;
        s->last_loss = loss;
        if (log_this_step(s->steps)) printf("%s: step %ld loss %.4f\n", o->prog, s->steps, loss);
    }
    s->seconds = (double)(events_now_ns() - t0) / 1e9;
    events_end();
    if (s->steps > 0) {
        s->per_s = s->seconds > 0 ? (double)s->steps * (double)t->samples_per_step / s->seconds : 0;
        qsort(ms, (size_t)s->steps, sizeof *ms, cmp_double);
        s->step_ms_p50 = ms[s->steps / 2];
        long i99 = (long)((double)s->steps * 0.99);
        s->step_ms_p99 = ms[i99 < s->steps ? i99 : s->steps - 1];
    }
    free(ms);
    return rc;
}
