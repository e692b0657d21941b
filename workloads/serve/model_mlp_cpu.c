/* The "mlp" model: a two-layer perceptron in plain C (64 -> 256 ReLU -> 10),
 * weights drawn from the seed. It is the server's CPU backend: small enough
 * that tests and the load generator's benchmarks measure the server rather
 * than the model, and exact, so tests can check every answer.
 * batch_time_s adds a fixed cost to every batch, as a device call has; it
 * makes dynamic batching observable without a GPU. */
#include "model_mlp_cpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wl_rng.h"

typedef struct {
    float w1[MLP_HIDDEN][MLP_IN], b1[MLP_HIDDEN], w2[MLP_OUT][MLP_HIDDEN], b2[MLP_OUT];
    double batch_time_s;
    float *x, *y; /* a batch's inputs and outputs, aligned: max_batch items each */
} mlp;

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

void mlp_cpu_weights(unsigned long long seed, float *w1, float *b1, float *w2, float *b2)
{
    for (int i = 0; i < MLP_HIDDEN * MLP_IN; i++) w1[i] = wl_normal(seed, 1, (uint64_t)i) * 0.125f; /* 1/sqrt(64) */
    for (int i = 0; i < MLP_HIDDEN; i++) b1[i] = wl_normal(seed, 2, (uint64_t)i) * 0.1f;
    for (int i = 0; i < MLP_OUT * MLP_HIDDEN; i++) w2[i] = wl_normal(seed, 3, (uint64_t)i) * 0.0625f; /* 1/sqrt(256) */
    for (int i = 0; i < MLP_OUT; i++) b2[i] = wl_normal(seed, 4, (uint64_t)i) * 0.1f;
}

void mlp_cpu_forward(const float *w1, const float *b1, const float *w2, const float *b2, const float *x, float *y)
{
    float h[MLP_HIDDEN];
    for (int j = 0; j < MLP_HIDDEN; j++) {
        float s = b1[j];
        for (int i = 0; i < MLP_IN; i++) s += w1[j * MLP_IN + i] * x[i];
        h[j] = s > 0 ? s : 0;
    }
    for (int k = 0; k < MLP_OUT; k++) {
        float s = b2[k];
        for (int j = 0; j < MLP_HIDDEN; j++) s += w2[k * MLP_HIDDEN + j] * h[j];
        y[k] = s;
    }
}

static int run(serve_model *m, int n, const void *in, void *out, char *err, size_t errcap)
{
    (void)err, (void)errcap;
    mlp *p = m->ctx;
    /* binary inputs arrive unaligned: the forward pass reads and writes
     * aligned copies, which are the input and output parts of the run */
    int64_t t0 = mono_ns();
    memcpy(p->x, in, (size_t)n * MLP_IN * sizeof(float));
    int64_t t1 = mono_ns();
    for (int b = 0; b < n; b++)
        mlp_cpu_forward(&p->w1[0][0], p->b1, &p->w2[0][0], p->b2, p->x + (size_t)b * MLP_IN, p->y + (size_t)b * MLP_OUT);
    if (p->batch_time_s > 0) {
        struct timespec ts = {(time_t)p->batch_time_s, (long)(fmod(p->batch_time_s, 1.0) * 1e9)};
        while (nanosleep(&ts, &ts)) {}
    }
    int64_t t2 = mono_ns();
    memcpy(out, p->y, (size_t)n * MLP_OUT * sizeof(float));
    m->last = (serve_phases){t1 - t0, t2 - t1, mono_ns() - t2};
    return 0;
}

static void destroy(serve_model *m)
{
    mlp *p = m->ctx;
    free(p->x), free(p->y);
    free(m->ctx);
    free(m);
}

serve_model *mlp_cpu_open(const serve_model_opts *o, char *err, size_t errcap)
{
    serve_model *m = calloc(1, sizeof *m);
    mlp *p = calloc(1, sizeof *p);
    float *x = p ? calloc((size_t)o->max_batch * MLP_IN, sizeof *x) : NULL;
    float *y = p ? calloc((size_t)o->max_batch * MLP_OUT, sizeof *y) : NULL;
    if (!m || !p || !x || !y) {
        free(m), free(p), free(x), free(y);
        snprintf(err, errcap, "model 'mlp': out of memory");
        return NULL;
    }
    mlp_cpu_weights(o->seed, &p->w1[0][0], p->b1, &p->w2[0][0], p->b2);
    p->batch_time_s = o->batch_time_s;
    p->x = x, p->y = y;
    m->info = (ks_model_info){.name = "mlp", .version = "1", .platform = "cotenant_cpu",
                              .input = {.name = "INPUT0", .dtype = KS_FP32, .rank = 1, .dims = {MLP_IN}},
                              .output = {.name = "OUTPUT0", .dtype = KS_FP32, .rank = 1, .dims = {MLP_OUT}},
                              .max_batch = o->max_batch};
    m->run = run, m->destroy = destroy, m->ctx = p;
    return m;
}
