#include "serve_metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Request latency buckets (seconds): 0.1 ms to 10 s, as SLOs are set. */
static const double latency_bounds_s[SERVE_LATENCY_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                               0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
static const char *reject_names[REJECT_NKINDS] = {"queue_full", "too_large", "bad_request", "draining", "unanswered"};

void serve_metrics_init(serve_metrics *m, const char *model, int max_batch)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    m->model = model;
    m->max_batch = max_batch;
}

void serve_metrics_destroy(serve_metrics *m) { pthread_mutex_destroy(&m->mu); }

void serve_metrics_request(serve_metrics *m, int ok, int64_t total_ns, int64_t queue_ns, const serve_phases *compute)
{
    double s = (double)total_ns * 1e-9;
    int b = 0;
    while (b < SERVE_LATENCY_BUCKETS && s > latency_bounds_s[b]) b++;
    pthread_mutex_lock(&m->mu);
    if (ok) {
        m->success++;
        m->request_us += (uint64_t)(total_ns / 1000);
        m->queue_us += (uint64_t)(queue_ns / 1000);
        m->compute_input_us += (uint64_t)(compute->input_ns / 1000);
        m->compute_infer_us += (uint64_t)(compute->infer_ns / 1000);
        m->compute_output_us += (uint64_t)(compute->output_ns / 1000);
    } else {
        m->failure++;
    }
    m->latency_le[b]++;
    m->latency_sum_s += s;
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_reject(serve_metrics *m, serve_reject why)
{
    pthread_mutex_lock(&m->mu);
    m->rejected[why]++;
    pthread_mutex_unlock(&m->mu);
}

/* Batch-size buckets are powers of two: 1, 2, 4, ... 2048. */
void serve_metrics_batch(serve_metrics *m, int items)
{
    int b = 0;
    while (b < SERVE_BATCH_BUCKETS && items > (1 << b)) b++;
    pthread_mutex_lock(&m->mu);
    m->batches++;
    m->items += (uint64_t)items;
    m->batch_le[b]++;
    m->batch_sum += (uint64_t)items;
    pthread_mutex_unlock(&m->mu);
}

void serve_metrics_depth(serve_metrics *m, int depth)
{
    pthread_mutex_lock(&m->mu);
    m->queue_depth = depth;
    pthread_mutex_unlock(&m->mu);
}

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} text;

static void put(text *t, const char *fmt, ...)
{
    if (t->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) { t->oom = 1; return; }
        if ((size_t)n < t->cap - t->len) { t->len += (size_t)n; return; }
        size_t cap = t->cap * 2 + (size_t)n;
        char *q = realloc(t->p, cap);
        if (!q) { t->oom = 1; return; }
        t->p = q, t->cap = cap;
    }
}

static void counter(text *t, const char *name, const char *help, const char *model, uint64_t v)
{
    put(t, "# HELP %s %s\n# TYPE %s counter\n%s{model=\"%s\",version=\"1\"} %llu\n", name, help, name, name, model,
        (unsigned long long)v);
}

char *serve_metrics_render(serve_metrics *m, size_t *len)
{
    text t = {.cap = 4096};
    t.p = malloc(t.cap);
    if (!t.p) return NULL;
    t.p[0] = 0;
    pthread_mutex_lock(&m->mu);
    serve_metrics s = *m; /* a consistent copy, formatted outside the lock */
    pthread_mutex_unlock(&m->mu);
    const char *md = s.model;
    counter(&t, "nv_inference_request_success", "Number of successful inference requests, all batch sizes", md,
            s.success);
    /* by Triton's reasons: refused for load (REJECTED), the client gone
     * (CANCELED), the model's run failed (BACKEND: every failure not one of
     * the others), a request that could not be taken (OTHER) */
    uint64_t rejected = s.rejected[REJECT_QUEUE_FULL] + s.rejected[REJECT_DRAINING],
             canceled = s.rejected[REJECT_UNANSWERED],
             other = s.rejected[REJECT_BAD_REQUEST] + s.rejected[REJECT_TOO_LARGE],
             named = rejected + canceled + other, backend = s.failure > named ? s.failure - named : 0;
    const struct { const char *reason; uint64_t n; } failures[] = {
        {"REJECTED", rejected}, {"CANCELED", canceled}, {"BACKEND", backend}, {"OTHER", other}};
    put(&t, "# HELP nv_inference_request_failure Number of failed inference requests, all batch sizes\n"
            "# TYPE nv_inference_request_failure counter\n");
    for (int i = 0; i < 4; i++)
        put(&t, "nv_inference_request_failure{model=\"%s\",reason=\"%s\",version=\"1\"} %llu\n", md, failures[i].reason,
            (unsigned long long)failures[i].n);
    put(&t, "# HELP nv_inference_pending_request_count Instantaneous number of pending requests awaiting execution "
            "per-model.\n# TYPE nv_inference_pending_request_count gauge\n"
            "nv_inference_pending_request_count{model=\"%s\",version=\"1\"} %d\n", md, s.queue_depth);
    counter(&t, "nv_inference_count", "Number of inferences performed (items, not requests)", md, s.items);
    counter(&t, "nv_inference_exec_count", "Number of model executions (batches)", md, s.batches);
    /* Triton's help texts; no response cache here, so "cached" changes nothing */
    counter(&t, "nv_inference_request_duration_us",
            "Cumulative inference request duration in microseconds (includes cached requests)", md, s.request_us);
    counter(&t, "nv_inference_queue_duration_us",
            "Cumulative inference queuing duration in microseconds (includes cached requests)", md, s.queue_us);
    counter(&t, "nv_inference_compute_input_duration_us",
            "Cumulative compute input duration in microseconds (does not include cached requests)", md, s.compute_input_us);
    counter(&t, "nv_inference_compute_infer_duration_us",
            "Cumulative compute inference duration in microseconds (does not include cached requests)", md,
            s.compute_infer_us);
    counter(&t, "nv_inference_compute_output_duration_us",
            "Cumulative inference compute output duration in microseconds (does not include cached requests)", md,
            s.compute_output_us);
    put(&t, "# HELP cotenant_serve_rejected_total Requests refused before reaching the model\n"
            "# TYPE cotenant_serve_rejected_total counter\n");
    for (int i = 0; i < REJECT_NKINDS; i++)
        put(&t, "cotenant_serve_rejected_total{model=\"%s\",reason=\"%s\"} %llu\n", md, reject_names[i],
            (unsigned long long)s.rejected[i]);
    put(&t, "# HELP cotenant_serve_queue_depth Requests waiting for a batch\n# TYPE cotenant_serve_queue_depth gauge\n"
            "cotenant_serve_queue_depth{model=\"%s\"} %d\n", md, s.queue_depth);

    put(&t, "# HELP cotenant_serve_batch_size Items per model execution\n# TYPE cotenant_serve_batch_size histogram\n");
    uint64_t cum = 0;
    for (int b = 0; b < SERVE_BATCH_BUCKETS; b++) {
        cum += s.batch_le[b];
        put(&t, "cotenant_serve_batch_size_bucket{model=\"%s\",le=\"%d\"} %llu\n", md, 1 << b, (unsigned long long)cum);
        if ((1 << b) >= s.max_batch) break; /* larger buckets would all repeat the count */
    }
    put(&t, "cotenant_serve_batch_size_bucket{model=\"%s\",le=\"+Inf\"} %llu\n", md, (unsigned long long)s.batches);
    put(&t, "cotenant_serve_batch_size_sum{model=\"%s\"} %llu\ncotenant_serve_batch_size_count{model=\"%s\"} %llu\n", md,
        (unsigned long long)s.batch_sum, md, (unsigned long long)s.batches);

    put(&t, "# HELP cotenant_serve_request_duration_seconds Time from a request's arrival to its answer\n"
            "# TYPE cotenant_serve_request_duration_seconds histogram\n");
    cum = 0;
    uint64_t total = 0;
    for (int b = 0; b <= SERVE_LATENCY_BUCKETS; b++) total += s.latency_le[b];
    for (int b = 0; b < SERVE_LATENCY_BUCKETS; b++) {
        cum += s.latency_le[b];
        put(&t, "cotenant_serve_request_duration_seconds_bucket{model=\"%s\",le=\"%g\"} %llu\n", md, latency_bounds_s[b],
            (unsigned long long)cum);
    }
    put(&t, "cotenant_serve_request_duration_seconds_bucket{model=\"%s\",le=\"+Inf\"} %llu\n", md, (unsigned long long)total);
    put(&t, "cotenant_serve_request_duration_seconds_sum{model=\"%s\"} %.9g\n"
            "cotenant_serve_request_duration_seconds_count{model=\"%s\"} %llu\n", md, s.latency_sum_s, md,
        (unsigned long long)total);
    if (t.oom) {
        free(t.p);
        return NULL;
    }
    *len = t.len;
    return t.p;
}
