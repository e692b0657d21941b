/* cells.h - what a notebook user runs: a sequence of cells, each a few
 * matrix products on the GPU (from a couple of small kernels up to a short
 * burst the size of a forward pass), separated by think times.
 *
 * Cell k is a pure function of (seed, k): its number of products (1 to 16,
 * most cells small), their size (256 to max_n, log-uniform), and the think
 * time before it (exponential, mean think_s). So a run alone and a run
 * shared replay the same cells, and their latencies compare one to one. */
#ifndef COTENANT_CELLS_H
#define COTENANT_CELLS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int ops;        /* matrix products in the cell */
    int n;          /* each n x n x n */
    double think_s; /* idle before the cell */
} cell;

void cell_make(uint64_t seed, uint64_t k, int max_n, double think_mean_s, cell *c);
/* Multiply-adds x 2 of a cell. */
double cell_flops(const cell *c);

/* Where cells run: the GPU (cuBLAS) or the CPU (a plain loop, small sizes). */
typedef struct cell_backend cell_backend;
struct cell_backend {
    const char *name;
    int max_n;
    int (*run)(cell_backend *b, const cell *c); /* returns when the cell's work is done */
    void (*destroy)(cell_backend *b);
    double held_gib; /* memory held between cells, as a live kernel does */
};

/* NULL after printing why. hold_bytes of GPU memory are allocated and
 * touched at start and kept until the end. */
cell_backend *cell_backend_gpu(const char *prog, int gpu, int max_n, double hold_bytes);
cell_backend *cell_backend_cpu(int max_n);

#ifdef __cplusplus
}
#endif

#endif
