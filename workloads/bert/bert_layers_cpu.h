/* bert_layers_cpu.h - the plain-C reference of every BERT layer, forward
 * and backward, fp32 (sums in double). It is what the GPU is checked
 * against and what --device cpu runs.
 *
 * Activations are row-major (tokens, features). Backward functions
 * overwrite the input gradient and ADD to parameter gradients, since the
 * word embeddings get gradient from both the input and the tied decoder;
 * the caller zeroes the gradients before each step.
 *
 * Dropout masks come from the counter-based generator (wl_rng.h): element
 * i of a tensor is kept when wl_uniform(seed, stream, i) >= p, so the GPU
 * can draw the very same mask. */
#ifndef COTENANT_BERT_LAYERS_CPU_H
#define COTENANT_BERT_LAYERS_CPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y (n, out) = x (n, in) W^T + b, W (out, in); b may be NULL. */
void linear_fwd_cpu(size_t n, int in, int out, const float *x, const float *w, const float *b, float *y);
/* dx = dy W (dx may be NULL); dw += dy^T x; db += colsum(dy) (db may be NULL). */
void linear_bwd_cpu(size_t n, int in, int out, const float *x, const float *w, const float *dy, float *dx, float *dw,
                    float *db);

/* Layer norm over c features of n rows, eps 1e-12 as BERT; saves each
 * row's mean and 1/sqrt(var + eps). */
void layernorm_fwd_cpu(size_t n, int c, const float *x, const float *g, const float *b, float *y, float *mean,
                       float *rstd);
void layernorm_bwd_cpu(size_t n, int c, const float *x, const float *dy, const float *g, const float *mean,
                       const float *rstd, float *dx, float *dg, float *db);

/* GELU, erf form: x/2 (1 + erf(x/sqrt 2)). */
void gelu_fwd_cpu(size_t n, const float *x, float *y);
void gelu_bwd_cpu(size_t n, const float *x, const float *dy, float *dx);

/* y = x * keep / (1 - p), in place allowed; p = 0 copies. */
void dropout_fwd_cpu(size_t n, const float *x, float *y, float p, uint64_t seed, uint64_t stream);
/* The same mask applied to the gradient. */
void dropout_bwd_cpu(size_t n, const float *dy, float *dx, float p, uint64_t seed, uint64_t stream);

/* Self-attention of b sequences of t tokens, `heads` heads of d = hidden /
 * heads: qkv (b t, 3 hidden) holds Q, K and V side by side; out (b t,
 * hidden). probs (b, heads, t, t) keeps the softmax, before dropout, for
 * the backward pass; dropout p applies to the probabilities. */
void attention_fwd_cpu(int b, int t, int hidden, int heads, const float *qkv, float *probs, float *out, float p,
                       uint64_t seed, uint64_t stream);
void attention_bwd_cpu(int b, int t, int hidden, int heads, const float *qkv, const float *probs, const float *dout,
                       float *dqkv, float p, uint64_t seed, uint64_t stream);

/* x (n, h) = word[ids] + pos[position] + type[types]; types may be NULL (all 0). */
void embed_fwd_cpu(int b, int t, int h, const int *ids, const int *types, const float *word, const float *pos,
                   const float *type, float *x);
/* Adds dx's rows to the rows of the tables they came from. */
void embed_bwd_cpu(int b, int t, int h, const int *ids, const int *types, const float *dx, float *dword, float *dpos,
                   float *dtype);

/* Mean softmax cross-entropy over n rows of v logits; dlogits = (softmax -
 * onehot) / n, written when not NULL. */
double xent_fwd_bwd_cpu(size_t n, int v, const float *logits, const int *labels, float *dlogits);

/* AdamW as torch.optim.AdamW, step t >= 1: decoupled weight decay wd on
 * the first n_decay elements only. */
void adamw_cpu(size_t n, size_t n_decay, float *p, const float *g, float *m, float *v, float lr, float b1, float b2,
               float eps, float wd, long t);
/* sqrt(sum g^2), in double. */
double global_norm_cpu(size_t n, const float *g);

#ifdef __cplusplus
}
#endif

#endif
