/* bert_backend.h - one BERT training step behind an interface, so the
 * program, the GPU-vs-CPU check and the tests drive the plain-C reference
 * and the GPU implementation the same way. */
#ifndef COTENANT_BERT_BACKEND_H
#define COTENANT_BERT_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "bert_arch.h"
#include "bert_data.h"
#include "wl_opts.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the GPU computes attention: with the probabilities stored (cuBLAS
 * batched products and our softmax; the default, being the faster on the
 * H100 at sequence 128 and 512), or fused (bert_gpu_attn.h), which never
 * writes the score matrix and takes less memory. */
typedef enum { BERT_ATTN_STORED, BERT_ATTN_FUSED } bert_attention;

/* What runs the GPU's linear layers: cuBLASLt with bias and bias-gradient
 * epilogues, or cublasGemmEx with our own bias kernels (to compare). */
typedef enum { BERT_GEMM_LT, BERT_GEMM_CUBLAS } bert_gemm;

typedef struct {
    const char *prog;
    bert_arch arch;
    int batch, seq;
    wl_precision precision;
    uint64_t seed;
    int gpu;
    bert_data_kind data;
    float lr, weight_decay, clip, dropout; /* clip: the gradients' global norm at most this; 0 = off */
    long warmup_steps;                     /* the learning rate rises linearly over these, then stays */
    bert_attention attention;              /* GPU only */
    bert_gemm gemm;                        /* GPU only */
    int profile;                           /* GPU only: time each kind of call, print a table at the end */
    int infer;                             /* GPU only: forward passes alone (infer), in less memory */
    int gemm_autotune;                     /* GPU only: time cuBLASLt's candidate algorithms for each shape */
} bert_run_config;

typedef struct bert_backend {
    const char *name;   /* "CPU", or the GPU's name */
    size_t peak_bytes;  /* device memory at its peak */
    /* One training step on the next batch; *loss is its loss. 0, or -1 after printing what failed. */
    int (*step)(struct bert_backend *b, float *loss);
    /* Forward and backward of bt with the dropout masks of `step`, no
     * update: the loss, and (where not NULL) every parameter's gradient
     * (n_flat) and the masked rows' logits (nmasked, vocab). For --check. */
    int (*loss_grads)(struct bert_backend *b, const bert_batch *bt, uint64_t step, double *loss, float *grads,
                      float *logits);
    /* Inference (GPU, infer set): embeddings, every layer and the MLM head
     * over every token of nseq <= batch sequences, as BertForMaskedLM
     * answers without labels; no dropout. ids: nseq x seq from the host, or
     * NULL for the tokens already on the GPU. Where rows is given, copies
     * those rows' logits (nrows x vocab, fp32) to logits. Returns once the
     * GPU has finished. */
    int (*infer)(struct bert_backend *b, const int *ids, int nseq, const int *rows, int nrows, float *logits);
    void (*destroy)(struct bert_backend *b);
} bert_backend;

bert_backend *bert_backend_cpu(const bert_run_config *c, const float *params);
bert_backend *bert_backend_gpu(const bert_run_config *c, const float *params);

/* The learning rate of step (from 0): linear warm-up to lr over warmup_steps. */
float bert_lr_at(const bert_run_config *c, long step);

#ifdef __cplusplus
}
#endif

#endif
