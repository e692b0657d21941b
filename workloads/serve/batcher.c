#include "batcher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"

struct batcher {
    serve_model *model;
    batcher_opts o;
    serve_metrics *metrics;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* a request arrived, or stop */
    batch_req *head, *tail;
    int depth, queued_items;
    int stopping;
    pthread_t thread;
    unsigned char *in, *out; /* gathered inputs and outputs of one batch */
    size_t in_item, out_item;
};

static void deadline_ts(int64_t ns, struct timespec *ts)
{
    ts->tv_sec = (time_t)(ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
}

/* Waits, with the lock held, until a batch is due; returns its requests
 * (a list) and item count, or NULL when stopping with nothing queued. */
static batch_req *take_batch(batcher *b, int *items)
{
    while (!b->head && !b->stopping) pthread_cond_wait(&b->wake, &b->mu);
    if (!b->head) return NULL;
    while (!b->stopping && b->queued_items < b->o.max_batch) {
        int64_t due = b->head->enqueued_ns + b->o.max_delay_ns;
        if (events_now_ns() >= due) break;
        struct timespec ts;
        deadline_ts(due, &ts);
        pthread_cond_timedwait(&b->wake, &b->mu, &ts);
    }
    batch_req *first = b->head, *last = NULL;
    int n = 0;
    for (batch_req *r = b->head; r && n + r->items <= b->o.max_batch; r = r->next) {
        n += r->items;
        last = r;
        b->depth--;
    }
    b->head = last->next;
    if (!b->head) b->tail = NULL;
    last->next = NULL;
    b->queued_items -= n;
    *items = n;
    return first;
}

static void run_batch(batcher *b, batch_req *list, int items)
{
    int64_t start = events_now_ns();
    const void *in = list->input;
    void *out = list->output;
    if (list->next) { /* more than one request: gather into one batch */
        size_t off = 0;
        for (batch_req *r = list; r; r = r->next) {
            memcpy(b->in + off, r->input, (size_t)r->items * b->in_item);
            off += (size_t)r->items * b->in_item;
        }
        in = b->in, out = b->out;
    }
    char err[KS_ERR_MAX] = "";
    int rc = b->model->run(b->model, items, in, out, err, sizeof err);
    int64_t end = events_now_ns();
    if (b->metrics) serve_metrics_batch(b->metrics, items);
    size_t off = 0;
    for (batch_req *r = list, *next; r; r = next) {
        next = r->next; /* done() may free r */
        if (out == b->out) memcpy(r->output, b->out + off, (size_t)r->items * b->out_item);
        off += (size_t)r->items * b->out_item;
        r->started_ns = start, r->finished_ns = end;
        r->failed = rc != 0;
        if (rc) snprintf(r->err, sizeof r->err, "%s", err[0] ? err : "the model failed");
        r->done(r, r->arg);
    }
}

static void *loop(void *arg)
{
    batcher *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        int items = 0;
        batch_req *list = take_batch(b, &items);
        if (!list) break;
        if (b->metrics) serve_metrics_depth(b->metrics, b->depth);
        pthread_mutex_unlock(&b->mu);
        run_batch(b, list, items);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

batcher *batcher_start(serve_model *m, const batcher_opts *o, serve_metrics *metrics, char *err, size_t errcap)
{
    batcher *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    b->model = m, b->o = *o, b->metrics = metrics;
    b->in_item = ks_spec_bytes(&m->info.input);
    b->out_item = ks_spec_bytes(&m->info.output);
    b->in = malloc((size_t)o->max_batch * b->in_item + 1);
    b->out = malloc((size_t)o->max_batch * b->out_item + 1);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* deadlines are events_now_ns() times */
    pthread_cond_init(&b->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&b->mu, NULL);
    int rc = b->in && b->out ? pthread_create(&b->thread, NULL, loop, b) : ENOMEM;
    if (rc) {
        snprintf(err, errcap, "cannot start the batching thread: %s", strerror(rc));
        pthread_cond_destroy(&b->wake);
        pthread_mutex_destroy(&b->mu);
        free(b->in), free(b->out), free(b);
        return NULL;
    }
    return b;
}

submit_result batcher_submit(batcher *b, batch_req *r)
{
    r->next = NULL;
    r->enqueued_ns = events_now_ns();
    pthread_mutex_lock(&b->mu);
    submit_result res = SUBMIT_QUEUED;
    if (b->stopping) res = SUBMIT_STOPPED;
    else if (b->depth >= b->o.queue_capacity) res = SUBMIT_FULL;
    if (res == SUBMIT_QUEUED) {
        if (b->tail) b->tail->next = r;
        else b->head = r;
        b->tail = r;
        b->depth++;
        b->queued_items += r->items;
        /* the thread only needs waking for a first request or a full batch */
        if (b->depth == 1 || b->queued_items >= b->o.max_batch) pthread_cond_signal(&b->wake);
        if (b->metrics) serve_metrics_depth(b->metrics, b->depth);
    }
    pthread_mutex_unlock(&b->mu);
    return res;
}

int batcher_depth(batcher *b)
{
    pthread_mutex_lock(&b->mu);
    int d = b->depth;
    pthread_mutex_unlock(&b->mu);
    return d;
}

void batcher_stop(batcher *b)
{
    if (!b) return;
    pthread_mutex_lock(&b->mu);
    b->stopping = 1;
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
    pthread_cond_destroy(&b->wake);
    pthread_mutex_destroy(&b->mu);
    free(b->in), free(b->out), free(b);
}

