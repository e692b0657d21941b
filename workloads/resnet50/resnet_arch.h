/* resnet_arch.h - ResNet-50 v1.5 as torchvision builds it, as data.
 *
 * The architecture is a list of convolutions and batch norms with their
 * shapes, grouped into the 16 bottleneck blocks; both backends (the plain-C
 * reference and cuDNN) walk the same lists, so they cannot disagree on the
 * model. Layout is NHWC for activations and KRSC (out, kh, kw, in) for
 * filters, as cuDNN's NHWC filter format.
 *
 * All parameters live in one flat fp32 vector: first the "matrix" weights
 * (convolutions and the classifier), which the GPU keeps a bf16 working copy
 * of, then the "vector" ones (batch-norm scale and shift, classifier bias),
 * which stay fp32. Each tensor starts on a 64-element boundary so that
 * every pointer into the vector is 128-byte aligned. */
#ifndef COTENANT_RESNET_ARCH_H
#define COTENANT_RESNET_ARCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RN_MAX_CONV 53
#define RN_BLOCKS 16
#define RN_ALIGN 64

typedef struct {
    int cin, cout, k, stride, pad;
    int hin, win, hout, wout;
    size_t w_off; /* in the flat parameter vector, cout*k*k*cin elements */
} rn_conv;

typedef struct {
    int c, h, w;          /* normalises over batch x h x w per channel */
    size_t gamma_off, beta_off;
    size_t stat_off;      /* into the running mean/var vectors */
} rn_bn;

typedef struct {
    int conv1, conv2, conv3, down; /* conv (= bn) indices; down -1 without a projection */
    int cin, cmid, cout, stride, hin, hout;
} rn_block;

typedef struct {
    int image, classes;
    int nconv;                  /* conv i is followed by bn i */
    rn_conv conv[RN_MAX_CONV];
    rn_bn bn[RN_MAX_CONV];
    rn_block block[RN_BLOCKS];
    int pool_h, pool_w;         /* after the 3x3/2 max pool */
    int feat_h, feat_w, feat_c; /* before global average pooling */
    size_t fc_w_off, fc_b_off;  /* classes x feat_c, classes */
    size_t n_matrix;            /* flat elements of conv + fc weights, padded */
    size_t n_flat;              /* n_matrix + vector params, padded */
    size_t n_stats;             /* running mean (and var) elements */
    size_t n_params;            /* the model's parameter count, unpadded */
} rn_arch;

/* image: input height = width (>= 32, multiple of 32); classes >= 2. */
int rn_arch_build(rn_arch *a, int image, int classes);

/* torchvision's initialisation: Kaiming normal (fan_out, ReLU) for
 * convolutions, BN scale 1 and shift 0, the classifier uniform in
 * +-1/sqrt(fan_in). Padding elements are 0. */
void rn_init_params(const rn_arch *a, float *params, uint64_t seed);

/* One named parameter tensor, for per-tensor comparisons and reports:
 * i from 0 while it returns 1. */
int rn_param_tensor(const rn_arch *a, int i, char *name, size_t name_len, size_t *off, size_t *count);

/* Forward multiply-accumulates of one image (convolutions and classifier). */
double rn_forward_macs(const rn_arch *a);

#ifdef __cplusplus
}
#endif

#endif
