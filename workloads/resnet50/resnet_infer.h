/* resnet_infer.h - ResNet-50 inference: batch norm with its running
 * statistics, folded into the convolutions.
 *
 * In inference, batch norm is a fixed per-channel affine map, so it folds
 * into the convolution before it: w' = w * gamma / sqrt(var + eps) per
 * output channel, and a bias b' = beta - mean * gamma / sqrt(var + eps).
 * Each layer is then conv + bias (+ residual) + ReLU. The fold is plain C,
 * used as is by the GPU engine; rn_infer_cpu() is the unfolded reference
 * the GPU and the fold are checked against. */
#ifndef COTENANT_RESNET_INFER_H
#define COTENANT_RESNET_INFER_H

#include <stdint.h>

#include "resnet_arch.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RN_BN_EPS 1e-5f

/* Batch-norm scale, shift and running statistics away from their initial
 * values (1, 0, 0, 1), so that checks exercise the fold. */
void rn_random_bn(const rn_arch *a, float *params, float *mean, float *var, uint64_t seed);
/* w: n_matrix elements (the convolutions folded, the classifier as is);
 * bias: n_stats elements, at each batch norm's stat_off. */
void rn_fold_bn(const rn_arch *a, const float *params, const float *mean, const float *var, float *w, float *bias);
/* n images (n, image, image, 3) -> logits (n, classes), batch norm from the
 * running statistics. */
void rn_infer_cpu(const rn_arch *a, const float *params, const float *mean, const float *var, int n, const float *x,
                  float *logits);
/* The same from folded weights: conv + bias (+ residual) + ReLU. */
void rn_infer_folded_cpu(const rn_arch *a, const float *w, const float *bias, const float *fc_bias, int n,
                         const float *x, float *logits);

#ifdef __cplusplus
}
#endif

#endif
