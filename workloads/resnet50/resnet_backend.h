/* resnet_backend.h - one ResNet-50 training step behind an interface, so
 * the program, the GPU-vs-CPU check and the tests drive the plain-C
 * reference and the cuDNN implementation the same way. */
#ifndef COTENANT_RESNET_BACKEND_H
#define COTENANT_RESNET_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "resnet_arch.h"
#include "wl_opts.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RN_DATA_RANDOM, RN_DATA_LEARNABLE } rn_data_kind;

typedef struct {
    rn_arch arch;
    int batch;
    wl_precision precision;
    float lr, momentum, weight_decay;
    rn_data_kind data;
    uint64_t seed;
    int gpu;
    int use_graph;          /* capture the step in a CUDA graph */
    size_t workspace_limit; /* bytes of cuDNN workspace a convolution may use */
    int profile;            /* time each layer (GPU, no graph) */
    /* batch norm by cuDNN's NHWC persistent kernels (1) or by ours (0,
     * bn_gpu.h: slower, a little less memory). ReLU and residual add are
     * fused in either way. */
    int bn_cudnn;
    /* Convolution algorithms from cuDNN's heuristics (1) or measured at
     * start (0). Measured beside another process, the timings are the
     * other process's as much as ours: two trainings started together
     * under MPS picked algorithms that ran at 0.15 of their speed alone. */
    int algo_heuristic;
    int keep_stem; /* keep the stem's 112x112 tensors rather than recompute them for the backward pass */
    const char *prog;
} rn_config;

typedef struct rn_backend rn_backend;
struct rn_backend {
    const char *name;
    void *impl;
    /* Forward and backward on the next batch of the data; the optimiser
     * too when update is set. Returns 0, or -1 after printing what failed. */
    int (*step)(rn_backend *b, int update, float *loss);
    /* Copies of the last step's results, as fp32 on the host. */
    int (*read_logits)(rn_backend *b, float *out);        /* batch x classes */
    int (*read_grads)(rn_backend *b, float *out);         /* n_flat */
    int (*read_params)(rn_backend *b, float *out);        /* n_flat */
    int (*read_running)(rn_backend *b, float *mean, float *var); /* n_stats each */
    void (*report)(rn_backend *b);                        /* optional: per-layer timings */
    void (*destroy)(rn_backend *b);
    size_t peak_bytes; /* device (or host) memory the backend holds */
};

/* Both take the initial flat parameters (n_flat fp32). */
rn_backend *rn_backend_cpu(const rn_config *c, const float *params);
/* NULL after printing why where there is no GPU or no CUDA build. */
rn_backend *rn_backend_gpu(const rn_config *c, const float *params);

/* The synthetic data: one fixed ImageNet-shaped batch of N(0,1) pixels and
 * uniform labels, or a learnable task (RN_LEARNABLE_BATCHES fixed batches,
 * RN_LEARNABLE_CLASSES classes, each image its class's template plus
 * noise), on which the loss must fall. */
#define RN_LEARNABLE_BATCHES 4
#define RN_LEARNABLE_CLASSES 10
int rn_data_batches(const rn_config *c);
void rn_data_fill(const rn_config *c, int index, float *x, int *labels);

#ifdef __cplusplus
}
#endif

#endif
