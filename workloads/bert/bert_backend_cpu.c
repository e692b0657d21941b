/* The plain-C reference as a training backend: fp32 throughout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bert_backend.h"
#include "bert_cpu.h"
#include "bert_layers_cpu.h"

typedef struct {
    bert_backend b;
    bert_run_config c;
    bert_cpu *model;
    bert_batch batch;
    float *p, *g, *m, *v;
    long step;
} cpu_backend;

float bert_lr_at(const bert_run_config *c, long step)
{
    return c->warmup_steps > 0 && step < c->warmup_steps ? c->lr * (float)(step + 1) / (float)c->warmup_steps : c->lr;
}

static int cpu_step(bert_backend *base, float *loss)
{
    cpu_backend *k = (cpu_backend *)base;
    const bert_arch *a = &k->c.arch;
    bert_batch_make(&k->batch, k->c.data, a->c.vocab, k->c.seed, (uint64_t)k->step);
    double l = bert_cpu_loss_grads(k->model, k->p, &k->batch, k->c.seed, (uint64_t)k->step, k->g, NULL);
    if (k->c.clip > 0) {
        double norm = global_norm_cpu(a->n_flat, k->g);
        if (norm > k->c.clip)
            for (size_t i = 0; i < a->n_flat; i++) k->g[i] *= (float)(k->c.clip / norm);
    }
    adamw_cpu(a->n_flat, a->n_matrix, k->p, k->g, k->m, k->v, bert_lr_at(&k->c, k->step), 0.9f, 0.999f, 1e-6f,
              k->c.weight_decay, k->step + 1);
    k->step++;
    *loss = (float)l;
    return 0;
}

static int cpu_loss_grads(bert_backend *base, const bert_batch *bt, uint64_t step, double *loss, float *grads,
                          float *logits)
{
    cpu_backend *k = (cpu_backend *)base;
    *loss = bert_cpu_loss_grads(k->model, k->p, bt, k->c.seed, step, grads, logits);
    return 0;
}

static void cpu_destroy(bert_backend *base)
{
    cpu_backend *k = (cpu_backend *)base;
    bert_cpu_free(k->model);
    bert_batch_free(&k->batch);
    free(k->p), free(k->g), free(k->m), free(k->v);
    free(k);
}

bert_backend *bert_backend_cpu(const bert_run_config *c, const float *params)
{
    cpu_backend *k = calloc(1, sizeof *k);
    size_t n = c->arch.n_flat;
    if (!k) goto oom;
    k->c = *c;
    k->p = malloc(n * sizeof *k->p), k->g = malloc(n * sizeof *k->g);
    k->m = calloc(n, sizeof *k->m), k->v = calloc(n, sizeof *k->v);
    k->model = bert_cpu_new(&k->c.arch, c->batch, c->seq, c->dropout);
    if (!k->p || !k->g || !k->m || !k->v || !k->model || bert_batch_alloc(&k->batch, c->batch, c->seq) != 0) {
        cpu_destroy(&k->b);
        goto oom;
    }
    memcpy(k->p, params, n * sizeof *k->p);
    k->b.name = "CPU";
    k->b.step = cpu_step;
    k->b.loss_grads = cpu_loss_grads;
    k->b.destroy = cpu_destroy;
    return &k->b;
oom:
    fprintf(stderr, "%s: out of memory for the CPU reference at batch %d, sequence %d\n", c->prog, c->batch, c->seq);
    return NULL;
}
