/* latency.h - request latencies pooled across a mode's repeats
 * (docs/metrics.md, "Latency").
 *
 * A request belongs to the window in which it was due (its event's t minus
 * its latency: the load generator measures from the scheduled time), not
 * the one in which it finished, so a backlog at the window's end is not
 * dropped. Failed and unanswered requests are in the pool with their age
 * (a lower bound on what they would have taken). Percentiles come from
 * every repeat's samples together, with their count and a distribution-free
 * interval; one whose rank the count cannot reach is not given. */
#ifndef COTENANT_LATENCY_H
#define COTENANT_LATENCY_H

#include <stdbool.h>
#include <jansson.h>

typedef struct {
    double *ms;
    int n, cap;
    int not_ok;          /* failed or unanswered */
    double min_not_ok;   /* the smallest age among them; INFINITY: none */
} latency_pool;

#define LATENCY_PCTS 4
extern const double latency_pcts[LATENCY_PCTS];     /* 50, 95, 99, 99.9 */
extern const char *const latency_pct_names[LATENCY_PCTS]; /* "p50" ... "p99_9" */

void latency_pool_init(latency_pool *p);
/* 0, or -1 out of memory. */
int latency_pool_add(latency_pool *p, double ms, bool ok);
/* {requests, failed_or_unanswered, p50 .. p99_9}; each percentile
 * {value, ci95_low, ci95_high, n, at_least} or, where the samples are too
 * few for its rank, {value: null, n, need, n_too_small}. Sorts the pool.
 * NULL for an empty pool. */
json_t *latency_pool_json(latency_pool *p);
void latency_pool_free(latency_pool *p);

#endif
