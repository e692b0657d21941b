#include "batcher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"

#define MAX_INSTANCES 16

/* One model instance and the thread that runs it. */
typedef struct {
    batcher *b;
    serve_model *model;
    pthread_t thread;
    int started;
    unsigned char *in, *out; /* gathered inputs and outputs of one batch */
} instance;

struct batcher {
    instance inst[MAX_INSTANCES];
    int ninst;
    batcher_opts o;
    serve_metrics *metrics;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* a request arrived, or stop */
    batch_req *head, *tail;
    int depth, queued_items;
    int stopping;
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
    /* another instance may take the queue while this one waits: look again
     * after every wake */
    for (;;) {
        while (!b->head && !b->stopping) pthread_cond_wait(&b->wake, &b->mu);
        if (!b->head) return NULL;
        if (b->stopping || b->queued_items >= b->o.max_batch) break;
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
    if (b->head) pthread_cond_signal(&b->wake); /* more waiting: an idle instance takes them */
    return first;
}

/* A batch's compute in Triton's parts: gathering the requests' inputs
 * counts as input, scattering the outputs as output, with the model's own
 * parts inside its run; the forward pass is the rest, so the three add up
 * to the batch's whole time. */
static serve_phases batch_phases(const serve_phases *model, int64_t start, int64_t gathered, int64_t ran, int64_t end)
{
    serve_phases p = {(gathered - start) + model->input_ns, 0, model->output_ns + (end - ran)};
    int64_t rest = (end - start) - p.input_ns - p.output_ns;
    p.infer_ns = rest > 0 ? rest : 0;
    return p;
}

static void run_batch(instance *ins, batch_req *list, int items)
{
    batcher *b = ins->b;
    int64_t start = events_now_ns(), gathered = start;
    const void *in = list->input;
    void *out = list->output;
    char err[KS_ERR_MAX] = "";
    int rc;
    if (list->next) out = ins->out; /* more than one request: outputs are scattered after */
    if (list->next && ins->model->run_parts) {
        const void *parts[b->o.max_batch];
        int counts[b->o.max_batch], n = 0;
        for (batch_req *r = list; r; r = r->next) parts[n] = r->input, counts[n++] = r->items;
        ins->model->last = (serve_phases){0};
        rc = ins->model->run_parts(ins->model, n, parts, counts, out, err, sizeof err);
    } else {
        if (list->next) { /* gather into one batch */
            size_t off = 0;
            for (batch_req *r = list; r; r = r->next) {
                memcpy(ins->in + off, r->input, (size_t)r->items * b->in_item);
                off += (size_t)r->items * b->in_item;
            }
            in = ins->in;
            gathered = events_now_ns();
        }
        ins->model->last = (serve_phases){0};
        rc = ins->model->run(ins->model, items, in, out, err, sizeof err);
    }
    int64_t ran = events_now_ns();
    if (out == ins->out) {
        size_t off = 0;
        for (batch_req *r = list; r; r = r->next) {
            memcpy(r->output, ins->out + off, (size_t)r->items * b->out_item);
            off += (size_t)r->items * b->out_item;
        }
    }
    int64_t end = events_now_ns();
    serve_phases phases = batch_phases(&ins->model->last, start, gathered, ran, end);
    if (b->metrics) serve_metrics_batch(b->metrics, items);
    for (batch_req *r = list, *next; r; r = next) {
        next = r->next; /* done() may free r */
        r->started_ns = start, r->finished_ns = end, r->phases = phases;
        r->failed = rc != 0;
        if (rc) snprintf(r->err, sizeof r->err, "%s", err[0] ? err : "the model failed");
        r->done(r, r->arg);
    }
}

static void *loop(void *arg)
{
    instance *ins = arg;
    batcher *b = ins->b;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        int items = 0;
        batch_req *list = take_batch(b, &items);
        if (!list) break;
        if (b->metrics) serve_metrics_depth(b->metrics, b->depth);
        pthread_mutex_unlock(&b->mu);
        run_batch(ins, list, items);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static void free_batcher(batcher *b)
{
    for (int i = 0; i < b->ninst; i++) free(b->inst[i].in), free(b->inst[i].out);
    pthread_cond_destroy(&b->wake);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

batcher *batcher_start(serve_model **models, int ninst, const batcher_opts *o, serve_metrics *metrics, char *err,
                       size_t errcap)
{
    batcher *b = calloc(1, sizeof *b);
    if (!b || ninst < 1 || ninst > MAX_INSTANCES) {
        snprintf(err, errcap, b ? "instances: 1 to %d" : "out of memory", MAX_INSTANCES);
        free(b);
        return NULL;
    }
    b->o = *o, b->metrics = metrics, b->ninst = ninst;
    b->in_item = ks_spec_bytes(&models[0]->info.input);
    b->out_item = ks_spec_bytes(&models[0]->info.output);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* deadlines are events_now_ns() times */
    pthread_cond_init(&b->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&b->mu, NULL);
    for (int i = 0; i < ninst; i++) {
        instance *ins = &b->inst[i];
        ins->b = b, ins->model = models[i];
        ins->in = malloc((size_t)o->max_batch * b->in_item + 1);
        ins->out = malloc((size_t)o->max_batch * b->out_item + 1);
        int rc = ins->in && ins->out ? pthread_create(&ins->thread, NULL, loop, ins) : ENOMEM;
        if (rc) {
            snprintf(err, errcap, "cannot start the batching thread of instance %d: %s", i, strerror(rc));
            b->ninst = i + 1;
            batcher_stop(b);
            return NULL;
        }
        ins->started = 1;
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
        /* a waiting thread only needs waking for a first request or a full batch */
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
    pthread_cond_broadcast(&b->wake);
    pthread_mutex_unlock(&b->mu);
    for (int i = 0; i < b->ninst; i++)
        if (b->inst[i].started) pthread_join(b->inst[i].thread, NULL);
    free_batcher(b);
}
