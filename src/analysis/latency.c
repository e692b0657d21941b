#include "analysis/latency.h"

#include <math.h>
#include <stdlib.h>

#include "analysis/stats.h"
#include "util/array.h"

const double latency_pcts[LATENCY_PCTS] = {50, 95, 99, 99.9};
const char *const latency_pct_names[LATENCY_PCTS] = {"p50", "p95", "p99", "p99_9"};

void latency_pool_init(latency_pool *p)
{
    *p = (latency_pool){.min_not_ok = INFINITY};
}

int latency_pool_add(latency_pool *p, double ms, bool ok)
{
    if (array_grow((void **)&p->ms, &p->cap, p->n + 1, sizeof *p->ms) != 0) return -1;
    p->ms[p->n++] = ms;
    if (!ok) {
        p->not_ok++;
        if (ms < p->min_not_ok) p->min_not_ok = ms;
    }
    return 0;
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *latency_pool_json(latency_pool *p)
{
    if (p->n == 0) return NULL;
    stats_sort(p->ms, p->n);
    json_t *o = json_pack("{s:i, s:i}", "requests", p->n, "failed_or_unanswered", p->not_ok);
    for (int i = 0; i < LATENCY_PCTS; i++) {
        stats_quantile q = stats_quantile_ci(p->ms, p->n, latency_pcts[i]);
        json_t *e;
        if (!isfinite(q.value)) {
            e = json_pack("{s:n, s:i, s:i, s:s}", "value", "n", q.n, "need", q.need, "n_too_small",
                          "fewer requests than the percentile's rank needs");
        } else {
            /* a request whose age so far is below the value might have
             * finished above it: the value is then only a lower bound */
            e = json_pack("{s:f, s:o, s:o, s:i, s:b}", "value", q.value, "ci95_low", num_or_null(q.lo), "ci95_high",
                          num_or_null(q.hi), "n", q.n, "at_least", p->min_not_ok < q.value);
        }
        json_object_set_new(o, latency_pct_names[i], e);
    }
    return o;
}

void latency_pool_free(latency_pool *p)
{
    free(p->ms);
    latency_pool_init(p);
}
