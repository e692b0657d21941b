/* layers_cpu.h - the plain-C reference of every ResNet layer, forward and
 * backward, fp32, NHWC activations and KRSC filters. It is what the GPU is
 * checked against and what --device cpu runs. Backward functions overwrite
 * their outputs (no accumulation) unless they say otherwise. */
#ifndef COTENANT_LAYERS_CPU_H
#define COTENANT_LAYERS_CPU_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int n, h, w, c;      /* input */
    int k, r, stride, pad; /* k filters of r x r x c */
    int p, q;            /* output height, width */
} conv_shape;

/* (n,h,w,c) x (k,r,r,c) -> (n,p,q,k) */
void conv_forward_cpu(const conv_shape *s, const float *x, const float *w, float *y);
/* dy (n,p,q,k) -> dx (n,h,w,c); accumulates into dx when accumulate is set. */
void conv_backward_data_cpu(const conv_shape *s, const float *dy, const float *w, float *dx, int accumulate);
/* dy, x -> dw (k,r,r,c) */
void conv_backward_filter_cpu(const conv_shape *s, const float *x, const float *dy, float *dw);

/* Training-mode batch norm over m rows of c channels. Saves the batch mean
 * and 1/sqrt(var + eps) for the backward pass and updates the running
 * statistics as PyTorch does (momentum 0.1, unbiased variance). */
void bn_forward_cpu(size_t m, int c, const float *x, const float *gamma, const float *beta, float *y, float *save_mean,
                    float *save_invstd, float *running_mean, float *running_var, float momentum, float eps);
void bn_backward_cpu(size_t m, int c, const float *x, const float *dy, const float *gamma, const float *save_mean,
                     const float *save_invstd, float *dx, float *dgamma, float *dbeta);

/* y = relu(y + z) in place, z optional (the residual add). */
void add_relu_cpu(size_t n, float *y, const float *z);
/* dy *= (y > 0): the gradient through the ReLU, given its output. */
void relu_backward_cpu(size_t n, const float *y, float *dy);

/* 3x3 max pool, stride 2, padding 1: (n,h,w,c) -> (n,p,q,c) */
void maxpool_forward_cpu(int n, int h, int w, int c, int p, int q, const float *x, float *y);
void maxpool_backward_cpu(int n, int h, int w, int c, int p, int q, const float *x, const float *y, const float *dy,
                          float *dx);
/* Global average pool: (n,h,w,c) -> (n,c) */
void avgpool_forward_cpu(int n, int hw, int c, const float *x, float *y);
void avgpool_backward_cpu(int n, int hw, int c, const float *dy, float *dx);

/* Fully connected: y (n,o) = x (n,i) W^T (o,i) + b */
void fc_forward_cpu(int n, int in, int out, const float *x, const float *w, const float *b, float *y);
void fc_backward_cpu(int n, int in, int out, const float *x, const float *w, const float *dy, float *dx, float *dw,
                     float *db);

/* Mean softmax cross-entropy over n rows; dlogits = (softmax - onehot) / n. */
float softmax_xent_cpu(int n, int classes, const float *logits, const int *labels, float *dlogits);

/* SGD with momentum and weight decay, as torch.optim.SGD:
 * g += wd p; m = mu m + g; p -= lr m */
void sgd_momentum_cpu(size_t n, float *p, const float *g, float *m, float lr, float mu, float wd);

#ifdef __cplusplus
}
#endif

#endif
