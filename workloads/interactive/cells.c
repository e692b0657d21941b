#include "cells.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wl_rng.h"

void cell_make(uint64_t seed, uint64_t k, int max_n, double think_mean_s, cell *c)
{
    /* ops: geometric-ish, most cells a handful of kernels */
    double u = (double)wl_uniform(seed, 31, k);
    c->ops = 1 + (int)floor(-log(1.0 - u * 0.999) * 3.0);
    if (c->ops > 16) c->ops = 16;
    /* size: log-uniform from 256 to max_n, rounded to a multiple of 64 */
    double lo = log(256.0), hi = log((double)(max_n > 256 ? max_n : 256));
    double n = exp(lo + (hi - lo) * (double)wl_uniform(seed, 32, k));
    c->n = ((int)n + 63) / 64 * 64;
    if (c->n > max_n) c->n = max_n;
    double v = 1.0 - (double)wl_uniform(seed, 33, k); /* (0, 1] */
    c->think_s = -log(v) * think_mean_s;
}

double cell_flops(const cell *c) { return 2.0 * c->ops * (double)c->n * c->n * c->n; }

/* ---- the CPU backend: the same cells at a size a CPU answers in
 * milliseconds, for tests and machines without a GPU ---- */

typedef struct {
    cell_backend b;
    float *a, *x, *y;
} cpu_cells;

static int cpu_run(cell_backend *base, const cell *c)
{
    cpu_cells *p = (cpu_cells *)base;
    int n = c->n / 16 < 16 ? 16 : c->n / 16; /* 256 -> 16, 4096 -> 256 */
    if (n > base->max_n) n = base->max_n;
    for (int op = 0; op < c->ops; op++) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int k = 0; k < n; k++) s += p->a[i * n + k] * p->x[k * n + j];
                p->y[i * n + j] = s;
            }
        float *t = p->x;
        p->x = p->y, p->y = t;
    }
    return 0;
}

static void cpu_destroy(cell_backend *base)
{
    cpu_cells *p = (cpu_cells *)base;
    free(p->a), free(p->x), free(p->y), free(p);
}

cell_backend *cell_backend_cpu(int max_n)
{
    cpu_cells *p = calloc(1, sizeof *p);
    int n = max_n / 16 < 16 ? 16 : max_n / 16;
    size_t e = (size_t)n * n;
    p->a = malloc(e * sizeof(float)), p->x = malloc(e * sizeof(float)), p->y = malloc(e * sizeof(float));
    if (!p->a || !p->x || !p->y) {
        cpu_destroy(&p->b);
        return NULL;
    }
    for (size_t i = 0; i < e; i++) p->a[i] = 1.0f / (float)n, p->x[i] = 1.0f;
    p->b.name = "CPU";
    p->b.max_n = n;
    p->b.run = cpu_run, p->b.destroy = cpu_destroy;
    return &p->b;
}
