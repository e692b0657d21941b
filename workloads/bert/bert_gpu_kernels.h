/* bert_gpu_kernels.h - the BERT layers cuBLAS does not cover, in bf16 with
 * fp32 arithmetic: layer norms with the residual add, bias and dropout
 * fused in, GELU, the attention softmax, the masked-row head's gather and
 * scatter, cross-entropy, bias gradients and AdamW. Dropout masks are the
 * CPU reference's (bert_layers_cpu.h): element i of a tensor is kept when
 * wl_uniform(seed, stream, i) >= p. */
#ifndef COTENANT_BERT_GPU_KERNELS_H
#define COTENANT_BERT_GPU_KERNELS_H

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

typedef __nv_bfloat16 bf16;

typedef struct {
    float p;
    uint64_t seed, stream;
} drop_t;

#ifdef __CUDACC__
#include "wl_rng.h"
/* Element i's dropout factor: 0 where dropped, 1 / (1 - p) where kept. */
__device__ static inline float keep_scale(drop_t d, uint64_t i)
{
    if (d.p <= 0) return 1.0f;
    return wl_uniform(d.seed, d.stream, i) < d.p ? 0.0f : 1.0f / (1.0f - d.p);
}
#endif

/* sum = word[ids] + pos + type[0] (rounded to bf16, kept); y = dropout(LN(sum)). */
void k_embed_ln(const int *ids, const float *word, const float *pos, const float *type, const float *g, const float *b,
                bf16 *sum, float *mean, float *rstd, bf16 *y, int n, int t, int h, drop_t d, cudaStream_t st);
/* sum = resid + dropout(proj + bias) (kept); y = LN(sum). */
void k_residual_ln(const bf16 *proj, const float *bias, const bf16 *resid, const float *g, const float *b, bf16 *sum,
                   float *mean, float *rstd, bf16 *y, int n, int h, drop_t d, cudaStream_t st);
/* y = LN(x), x kept by the caller. */
void k_ln(const bf16 *x, const float *g, const float *b, float *mean, float *rstd, bf16 *y, int n, int h, cudaStream_t st);
/* Layer norm backward of y = LN(x): dy_total = dy + dy2 (dy2 may be NULL),
 * first masked by in_drop when in_drop.p > 0 (the embeddings' dropout
 * after their LN). Writes dx; adds dgamma, dbeta. When dbranch is given,
 * also writes dbranch = dropout(dx) with branch_drop and adds its column
 * sums into dbias (the sublayer's bias, before the dropout). */
void k_ln_bwd(const bf16 *dy, const bf16 *dy2, const bf16 *x, const float *mean, const float *rstd, const float *g,
              bf16 *dx, float *dg, float *db, drop_t in_drop, bf16 *dbranch, float *dbias, drop_t branch_drop, int n,
              int h, cudaStream_t st);
/* inter = y + bias (kept), act = GELU(inter); y may be inter. With bias NULL, inter must be y: act = GELU(y). */
void k_bias_gelu(const bf16 *y, const float *bias, bf16 *inter, bf16 *act, int n, int c, cudaStream_t st);
/* dx = dy * GELU'(inter), in place allowed. */
void k_gelu_bwd(const bf16 *dy, const bf16 *inter, bf16 *dx, int n, int c, cudaStream_t st);
/* y += bias, row-wise. */
void k_bias_add(bf16 *y, const float *bias, int n, int c, cudaStream_t st);
/* db[j] += sum over the n rows (ld apart) of dy[:, j]. */
void k_colsum(const bf16 *dy, float *db, int n, int c, int ld, cudaStream_t st);
/* Softmax of rows of t scores, in place (P); pd = dropout(P) for the PV product. */
void k_softmax(bf16 *s, bf16 *pd, int rows, int t, drop_t d, cudaStream_t st);
/* pd = dropout(P) again, for the backward pass. */
void k_dropout(const bf16 *x, bf16 *y, size_t n, drop_t d, cudaStream_t st);
/* From dP' (gradient of the dropped probabilities) and P: dS = P (dP - sum(dP P)) scale, dP = mask dP'; in place into ds. */
void k_softmax_bwd(const bf16 *dpd, const bf16 *p, bf16 *ds, int rows, int t, float scale, drop_t d, cudaStream_t st);
/* rows[k] = x[pos[k]] / x[pos[k]] = rows[k] (the rest of x zeroed first by the caller) */
void k_gather_rows(const bf16 *x, const int *pos, bf16 *rows, int m, int h, cudaStream_t st);
void k_scatter_rows(const bf16 *rows, const int *pos, bf16 *x, int m, int h, cudaStream_t st);
/* logits (m, v; rows ld apart) plus bias; *loss += mean cross-entropy (zeroed by the caller); dlogits (same
 * layout) = (softmax - onehot) / m. */
void k_xent(const bf16 *logits, const float *bias, const int *labels, float *loss, bf16 *dlogits, int m, int v, int ld,
            cudaStream_t st);
/* *sumsq += sum g^2 (zeroed by the caller) */
void k_sumsq(const float *g, size_t n, double *sumsq, cudaStream_t st);
/* AdamW step t on n parameters, the gradient scaled by clip / norm where the
 * norm (sqrt(*sumsq)) exceeds clip > 0; decay on the first n_decay; the bf16
 * copy w of the first n_w refreshed. */
void k_adamw(float *p, const float *g, float *m, float *v, bf16 *w, size_t n, size_t n_decay, size_t n_w, float lr,
             float wd, long t, const double *sumsq, float clip, cudaStream_t st);
/* y += x */
void k_add(bf16 *y, const bf16 *x, size_t n, cudaStream_t st);
/* Adds each row of dx (n, h) to the word (ids), position (row % t) and type 0 rows of the gradients. */
void k_embed_bwd(const int *ids, const bf16 *dx, float *dword, float *dpos, float *dtype, int n, int t, int h,
                 cudaStream_t st);
void k_to_bf16(const float *x, bf16 *y, size_t n, cudaStream_t st);
void k_from_bf16(const bf16 *x, float *y, size_t n, cudaStream_t st);

#endif
