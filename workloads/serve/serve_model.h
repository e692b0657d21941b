/* serve_model.h - what the server runs: a model with one input and one
 * output tensor, executed a whole batch at a time.
 *
 * Backends are tables (struct of function pointers) chosen by name, so a new
 * model is one file and one line in serve_models.c. run() is called from one
 * thread only (the batcher's), so a backend needs no locking of its own. */
#ifndef COTENANT_SERVE_MODEL_H
#define COTENANT_SERVE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "kserve.h"

/* A model run's compute in Triton's three parts (ns): taking the input in
 * (to the device, into the model's layout), the forward pass, giving the
 * output back to host memory. */
typedef struct {
    int64_t input_ns, infer_ns, output_ns;
} serve_phases;

typedef struct serve_model serve_model;
struct serve_model {
    ks_model_info info;
    /* The last run's parts, set by run/run_parts; a model that leaves them
     * 0 has its whole run counted as the forward pass. */
    serve_phases last;
    /* n items of info.input at in -> n items of info.output at out, both on
     * the host. Returns 0, or -1 with err set. */
    int (*run)(serve_model *m, int n, const void *in, void *out, char *err, size_t errcap);
    /* Optional: the same from the requests' own buffers (nparts of them,
     * items[k] items each), so that no one gathers them on the host first. */
    int (*run_parts)(serve_model *m, int nparts, const void *const *in, const int *items, void *out, char *err,
                     size_t errcap);
    /* Optional: memory for request bodies that the model reads faster
     * (page-locked, for a GPU); alloc returns NULL when it has none left. */
    void *(*host_alloc)(serve_model *m, size_t bytes);
    void (*host_free)(serve_model *m, void *p);
    void (*destroy)(serve_model *m);
    void *ctx;
};

typedef struct {
    const char *name;      /* --model NAME */
    int max_batch;         /* --max-batch */
    double batch_time_s;   /* cpu models: a fixed cost added to every batch, to stand in for a device call */
    int gpu;               /* --gpu N */
    int seq;               /* bert: --seq */
    int algo_measured;     /* cuDNN algorithms timed at start rather than from its heuristics */
    int pinned_slots;      /* GPU models: page-locked request buffers (0: none) */
    ks_dtype input_dtype;  /* --input-dtype: what clients send (default FP32) */
    unsigned long long seed;
} serve_model_opts;

/* Builds the named model, or returns NULL with err set (unknown name, an
 * input datatype it does not take, no GPU...); *bad_usage says whether the
 * options were at fault rather than the machine. */
serve_model *serve_model_open(const serve_model_opts *o, int *bad_usage, char *err, size_t errcap);
/* The names --model accepts, for usage and error text. */
const char *serve_model_names(void);

#endif
