/* batcher.h - dynamic batching: requests queue up and run together.
 *
 * As in Triton's dynamic batcher, a batch goes to the model when it holds
 * max_batch items or when its oldest request has waited max_delay, whichever
 * comes first; requests are taken in arrival order and never split. The
 * queue fills while batches run. The queue is bounded (in requests): a full queue
 * refuses at once, which the server answers 503, rather than growing without
 * limit under overload. With several model instances, each has a thread
 * and whichever is free takes the next batch. */
#ifndef COTENANT_BATCHER_H
#define COTENANT_BATCHER_H

#include <stdint.h>

#include "serve_metrics.h"
#include "serve_model.h"

typedef struct batch_req batch_req;
struct batch_req {
    int items;
    const void *input; /* items of the model's input */
    void *output;      /* items of the model's output, written before done() */
    int64_t enqueued_ns, started_ns, finished_ns;
    serve_phases phases; /* started..finished in Triton's parts; they add up to it */
    int failed;        /* the model's run failed: err says why */
    char err[KS_ERR_MAX];
    /* Called on the batcher's thread once output (or err) is set. */
    void (*done)(batch_req *r, void *arg);
    void *arg;
    batch_req *next;
};

typedef struct {
    int max_batch;        /* items */
    int64_t max_delay_ns; /* how long the oldest request may wait for others */
    int queue_capacity;   /* requests */
} batcher_opts;

typedef struct batcher batcher;

/* Starts one thread per model instance (the same model opened ninst times,
 * as Triton's instance groups: while one instance computes, another copies
 * its batch in); NULL with err set when it cannot. metrics may be NULL. */
batcher *batcher_start(serve_model **models, int ninst, const batcher_opts *o, serve_metrics *metrics, char *err,
                       size_t errcap);
typedef enum { SUBMIT_QUEUED, SUBMIT_FULL, SUBMIT_STOPPED } submit_result;
submit_result batcher_submit(batcher *b, batch_req *r);
int batcher_depth(batcher *b);
/* Runs what is queued, then stops the thread and frees the batcher. */
void batcher_stop(batcher *b);

#endif
