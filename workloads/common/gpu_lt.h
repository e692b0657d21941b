/* gpu_lt.h - matrix products through cuBLASLt, with a bias added in the
 * epilogue or a bias gradient reduced in it, so that neither costs a pass
 * over the output of its own.
 *
 * Column-major, as cuBLAS: D (m x n) = alpha op(A) op(B) + beta D, A and B
 * bf16, fp32 accumulation, D bf16 or fp32. Each shape's descriptors and the
 * algorithm cuBLASLt's heuristic picks are made on first use and kept; with
 * autotuning, the fastest of the heuristic's first few instead, timed on the
 * first call's operands (as cudnn.benchmark times convolutions). */
#ifndef COTENANT_GPU_LT_H
#define COTENANT_GPU_LT_H

#include <cublasLt.h>
#include <cuda_runtime.h>
#include <stddef.h>

typedef enum {
    LT_PLAIN,
    LT_BIAS,  /* D += bias (one value a row of D, in D's datatype: cuBLASLt takes no fp32 bias with a bf16
               * D on the H100), broadcast over the columns */
    LT_BGRADB /* bias (fp32, one value a column of D) = sums of op(B) over k: a linear layer's bias gradient */
} lt_epilogue;

typedef struct gpu_lt gpu_lt;

/* workspace_bytes of device memory for cuBLASLt's use; counted in gpu_lt_bytes. */
gpu_lt *gpu_lt_create(cudaStream_t st, size_t workspace_bytes);
void gpu_lt_destroy(gpu_lt *lt);
size_t gpu_lt_bytes(const gpu_lt *lt);
/* Time the candidates for each new shape whose beta is 0 (off by default),
 * for the first 32 such shapes of the handle's life. The first call of a
 * shape then waits for the GPU, so shapes met inside a stream capture keep
 * the heuristic's choice. */
void gpu_lt_set_autotune(gpu_lt *lt, int on);

/* 0, or -1 when cuBLASLt has no algorithm for this epilogue at this shape
 * (nothing is run: the caller does the epilogue's work itself). Other
 * failures print the call and exit, as CUBLAS_CHECK does. */
int gpu_lt_matmul(gpu_lt *lt, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const void *A, int lda,
                  const void *B, int ldb, void *D, cudaDataType_t dtype, int ldd, float alpha, float beta, lt_epilogue epi,
                  const void *bias);

#endif
