/* bn_gpu.h - batch norm in training mode over NHWC tensors (rows = N*H*W,
 * channels innermost), with the ReLU and the residual add fused in: our
 * kernels, in place of cuDNN's persistent ones.
 *
 * Why: cuDNN's NHWC persistent batch norm keeps its blocks resident and
 * waits on each other; when two processes share the GPU under MPS, neither
 * gets all its blocks resident and both all but stall. These kernels never
 * wait on other blocks: partial sums per block, a small kernel to finish
 * them, then an element-wise pass. That is how PyTorch's own batch norm for
 * channels-last bf16 tensors works.
 *
 * Statistics: fp32 sums of (x - running mean) per thread and block, finished
 * in double; the shift keeps the variance free of cancellation once the
 * running mean has found the data. "bf16" selects __nv_bfloat16 tensors,
 * otherwise float; channels must be a multiple of 8. */
#ifndef COTENANT_BN_GPU_H
#define COTENANT_BN_GPU_H

#include <cuda_runtime.h>
#include <stddef.h>

typedef struct {
    int bf16;
    size_t rows;
    int channels;
    int sms;      /* the device's multiprocessors: sizes the grids */
    float *ws;    /* workspace of bn_gpu_workspace() bytes */
    cudaStream_t st;
} bn_gpu_shape;

size_t bn_gpu_workspace(int bf16, size_t rows, int channels, int sms);

/* y = relu?(gamma (x - mean) invstd + beta [+ z]); z may be NULL. Saves the
 * batch mean and inverse standard deviation; updates the running
 * statistics by factor (unbiased variance, as PyTorch), not at all when
 * factor is 0. */
void bn_gpu_forward(const bn_gpu_shape *s, const void *x, const void *z, void *y, int relu, const float *gamma,
                    const float *beta, float factor, float eps, float *run_mean, float *run_var, float *save_mean,
                    float *save_invstd);

/* From dy at the output y (after the ReLU, undone here when relu): dx, the
 * parameter gradients (overwritten), and dz, the gradient reaching the
 * residual input (the ReLU's backward), where dz is not NULL. */
void bn_gpu_backward(const bn_gpu_shape *s, const void *x, const void *y, const void *dy, void *dx, void *dz, int relu,
                     const float *gamma, const float *save_mean, const float *save_invstd, float *dgamma,
                     float *dbeta);

#endif
