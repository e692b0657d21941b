/* resnet_gpu_kernels.h - the few layers cuDNN and cuBLAS do not cover: global
 * average pooling, the loss, the classifier bias, the optimiser and
 * conversions. Each kernel has one job; its launcher sits below it in the
 * .cu. "bf16" selects __nv_bfloat16 activations, otherwise float. */
#ifndef COTENANT_RESNET_GPU_KERNELS_H
#define COTENANT_RESNET_GPU_KERNELS_H

#include <cuda_runtime.h>
#include <stddef.h>

/* (n, hw, c) -> (n, c) */
void avgpool_forward(int bf16, const void *x, void *y, int n, int hw, int c, cudaStream_t st);
/* (n, c) -> (n, hw, c), each dy / hw */
void avgpool_backward(int bf16, const void *dy, void *dx, int n, int hw, int c, cudaStream_t st);
/* logits (n, classes) fp32 plus bias; adds the mean cross-entropy into *loss
 * (zeroed by the caller) and writes (softmax - onehot) / n as fp32 and in
 * the activation type. */
void softmax_xent(int bf16, const float *logits, const float *bias, const int *labels, float *loss, float *dlogits_f32,
                  void *dlogits, int n, int classes, cudaStream_t st);
/* db[j] = sum over rows of dlogits[:, j] */
void bias_grad(const float *dlogits, float *db, int n, int classes, cudaStream_t st);
/* torch.optim.SGD: g += wd p; m = mu m + g; p -= lr m; and w = p in the
 * working type when w is not NULL (bf16 copies). g is in the working type
 * when g_bf16. */
void sgd_momentum(float *p, float *m, const void *g, int g_bf16, void *w, size_t n, float lr, float mu, float wd,
                  cudaStream_t st);
/* fp32 -> working copy */
void to_bf16(const float *src, void *dst, size_t n, cudaStream_t st);
/* working copy -> fp32 */
void from_bf16(const void *src, float *dst, size_t n, cudaStream_t st);

#endif
