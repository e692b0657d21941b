/* The interactive workload's GPU backend: each cell is a chain of cuBLAS
 * bf16 products of its size, ping-ponging between two buffers, then a
 * synchronisation, as a notebook cell waits for its result. */
#include <cuda_bf16.h>
#include <stdio.h>
#include <stdlib.h>

#include "cells.h"
#include "gpu_check.h"

typedef struct {
    cell_backend b;
    cudaStream_t st;
    cublasHandle_t blas;
    __nv_bfloat16 *a, *x, *y;
    void *held;
} gpu_cells;

static int gpu_run(cell_backend *base, const cell *c)
{
    gpu_cells *g = (gpu_cells *)base;
    const float one = 1.0f, zero = 0.0f;
    __nv_bfloat16 *x = g->x, *y = g->y;
    for (int op = 0; op < c->ops; op++) {
        CUBLAS_CHECK(cublasGemmEx(g->blas, CUBLAS_OP_N, CUBLAS_OP_N, c->n, c->n, c->n, &one, g->a, CUDA_R_16BF, c->n, x,
                                  CUDA_R_16BF, c->n, &zero, y, CUDA_R_16BF, c->n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        __nv_bfloat16 *t = x;
        x = y, y = t;
    }
    CUDA_CHECK(cudaStreamSynchronize(g->st));
    return 0;
}

static void gpu_destroy(cell_backend *base)
{
    gpu_cells *g = (gpu_cells *)base;
    cudaFree(g->a), cudaFree(g->x), cudaFree(g->y), cudaFree(g->held);
    cublasDestroy(g->blas);
    cudaStreamDestroy(g->st);
    free(g);
}

/* Small values, so that chained products stay finite. */
__global__ void fill_kernel(__nv_bfloat16 *p, size_t n, float v)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n) p[i] = __float2bfloat16(v);
}

extern "C" cell_backend *cell_backend_gpu(const char *prog, int gpu, int max_n, double hold_bytes)
{
    wl_gpu_prog = prog;
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
        fprintf(stderr, "%s: no CUDA device (cudaGetDeviceCount found none); check the driver with nvidia-smi, "
                        "or run the cells on the CPU with --device cpu\n", prog);
        return NULL;
    }
    CUDA_CHECK(cudaSetDevice(gpu));
    gpu_cells *g = (gpu_cells *)calloc(1, sizeof *g);
    CUDA_CHECK(cudaStreamCreateWithFlags(&g->st, cudaStreamNonBlocking));
    CUBLAS_CHECK(cublasCreate(&g->blas));
    CUBLAS_CHECK(cublasSetStream(g->blas, g->st));
    size_t e = (size_t)max_n * max_n;
    CUDA_CHECK(cudaMalloc(&g->a, e * sizeof(__nv_bfloat16)));
    CUDA_CHECK(cudaMalloc(&g->x, e * sizeof(__nv_bfloat16)));
    CUDA_CHECK(cudaMalloc(&g->y, e * sizeof(__nv_bfloat16)));
    unsigned blocks = (unsigned)((e + 255) / 256);
    fill_kernel<<<blocks, 256, 0, g->st>>>(g->a, e, 1.0f / max_n);
    fill_kernel<<<blocks, 256, 0, g->st>>>(g->x, e, 1.0f);
    if (hold_bytes > 0) { /* what a live notebook keeps: tensors, a model, the allocator's cache */
        CUDA_CHECK(cudaMalloc(&g->held, (size_t)hold_bytes));
        CUDA_CHECK(cudaMemsetAsync(g->held, 0, (size_t)hold_bytes, g->st));
    }
    CUDA_CHECK(cudaStreamSynchronize(g->st));
    g->b.name = "GPU";
    g->b.max_n = max_n;
    g->b.held_gib = (hold_bytes + 3.0 * e * sizeof(__nv_bfloat16)) / (1 << 30);
    g->b.run = gpu_run, g->b.destroy = gpu_destroy;
    return &g->b;
}
