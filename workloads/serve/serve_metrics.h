/* serve_metrics.h - the server's counters, exposed at /metrics in the
 * Prometheus text format.
 *
 * Where Triton has the figure, the name and meaning are Triton's
 * (nv_inference_request_success, nv_inference_count, nv_inference_exec_count,
 * nv_inference_request_duration_us, nv_inference_queue_duration_us,
 * nv_inference_compute_{input,infer,output}_duration_us), so dashboards built for Triton
 * read it; the queue depth and the batch-size and latency histograms, which
 * Triton lacks, are cotenant_serve_*. Updated under one mutex: a few
 * additions per request. */
#ifndef COTENANT_SERVE_METRICS_H
#define COTENANT_SERVE_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "serve_model.h"

#define SERVE_LATENCY_BUCKETS 16
#define SERVE_BATCH_BUCKETS 12

/* UNANSWERED: the connection ended before the answer went out (the client
 * closed it, or the server cut it for sending too slowly). */
typedef enum {
    REJECT_QUEUE_FULL, REJECT_TOO_LARGE, REJECT_BAD_REQUEST, REJECT_DRAINING, REJECT_UNANSWERED, REJECT_NKINDS
} serve_reject;

typedef struct {
    pthread_mutex_t mu;
    const char *model;
    int max_batch;
    uint64_t success, failure, items, batches;
    /* cumulative, successful requests */
    uint64_t request_us, queue_us, compute_input_us, compute_infer_us, compute_output_us;
    uint64_t rejected[REJECT_NKINDS];
    uint64_t latency_le[SERVE_LATENCY_BUCKETS + 1]; /* per bucket, the last is +Inf */
    double latency_sum_s;
    uint64_t batch_le[SERVE_BATCH_BUCKETS + 1];
    uint64_t batch_sum;
    int queue_depth;
} serve_metrics;

void serve_metrics_init(serve_metrics *m, const char *model, int max_batch);
void serve_metrics_destroy(serve_metrics *m);
/* One request answered: total and queued times (ns), its batch's compute
 * in parts; ok or not. */
void serve_metrics_request(serve_metrics *m, int ok, int64_t total_ns, int64_t queue_ns, const serve_phases *compute);
void serve_metrics_reject(serve_metrics *m, serve_reject why);
void serve_metrics_batch(serve_metrics *m, int items);
void serve_metrics_depth(serve_metrics *m, int depth);
/* The exposition text; malloc'd, NUL-ended, or NULL when out of memory. */
char *serve_metrics_render(serve_metrics *m, size_t *len);

#endif
