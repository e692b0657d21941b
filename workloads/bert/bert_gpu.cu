/* The GPU BERT: cuBLASLt for every linear layer (bf16 in, fp32 accumulate),
 * with the bias added and the bias gradient reduced in the products'
 * epilogues; our kernels (bert_gpu_kernels.h) for the rest, with bias,
 * dropout, residual add and layer norm fused where they meet. fp32 master
 * weights and AdamW state, a bf16 copy of the matrices for the products.
 * The MLM head runs on the masked positions alone.
 *
 * Attention either stores the probabilities (b, heads, t, t) of every layer
 * and runs its products through cuBLAS, batched over heads (the default:
 * the faster on the H100), or runs fused (bert_gpu_attn.h) without them.
 * No CUDA graph yet: the host enqueues a step's 400-odd launches well ahead
 * of a 20 ms step, so a graph could close only the gap at each step's start,
 * and the masked-row count changes the head's shapes every step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bert_backend.h"
#include "bert_gpu_attn.h"
#include "bert_gpu_kernels.h"
#include "gpu_check.h"
#include "gpu_lt.h"
#include "gpu_prof.h"

typedef struct {
    bf16 *x;                 /* input (n, h) */
    bf16 *qkv;               /* (n, 3h) */
    bf16 *probs;             /* stored attention: (b heads, t, t) after softmax, before dropout */
    float *lse;              /* fused attention: (b heads t) log-sum-exp of each row's scores */
    bf16 *att;               /* (n, h) */
    bf16 *sum1, *h1, *inter, *act, *sum2;
    float *mean1, *rstd1, *mean2, *rstd2;
    /* stored attention, per (sequence, head): Q, K, V, S and O, for the batched products */
    const void **pq, **pk, **pv, **ps, **po;
} glayer;

/* The kinds of call --profile reports. */
enum {
    PK_EMBED, PK_LINEAR, PK_ATTN, PK_RESID_LN, PK_GELU, PK_HEAD, PK_HEAD_BWD, PK_LINEAR_DX, PK_LINEAR_DW, PK_BIAS_GRAD,
    PK_ATTN_BWD, PK_LN_BWD, PK_GELU_BWD, PK_EMBED_BWD, PK_OPTIMIZER, PK_KINDS
};
static const char *const prof_names[PK_KINDS] = {
    "embeddings + layer norm (forward)", "linear layers (forward, bias fused)", "attention (forward)",
    "bias + dropout + residual + layer norm", "GELU (forward)", "MLM head + loss (forward)", "MLM head (backward)",
    "linear layers (input gradient)", "linear layers (weight + bias gradient)", "bias gradients (not fused)",
    "attention (backward)", "layer norm backward (+ dropout, bias grad)", "GELU (backward)", "embeddings (backward)",
    "gradient norm + AdamW"};

typedef struct {
    bert_backend b;
    bert_run_config c;
    char name[256];
    cudaStream_t st;
    cublasHandle_t blas;
    gpu_lt *lt;
    gpu_prof *prof;
    bool fused;              /* attention without the score matrix (bert_gpu_attn.h) */
    int n, h, in, heads, d, v;
    float *P, *G, *M, *V;    /* fp32 master, gradient, moments */
    bf16 *W;                 /* bf16 copy of every parameter: the products' operands and their biases */
    int *ids, *mpos, *mlabels;
    bf16 *emb, *out;
    float *emb_mean, *emb_rstd;
    glayer L[BERT_MAX_LAYERS];
    bf16 *pd;                /* stored attention: dropped probabilities, scratch (b heads, t, t) */
    float *delta;            /* fused attention: scratch (b heads t) */
    bf16 *hm, *hd, *hg, *hl;
    int head_cap;            /* rows the logits buffers hold; grown when a batch masks more */
    int vld;                 /* their row stride: the vocabulary rounded up to 64, so rows stay 16-byte aligned */
    bf16 *logits, *glog;     /* (head_cap, vld) */
    float *hmean, *hrstd, *loss;
    double *sumsq;
    bf16 *g1, *g2, *g3, *gi, *gqkv, *gx, *gs;
    /* stored attention, per (sequence, head) pointers into the shared buffers: P', dO (g2), dS (gs), dQ, dK, dV (gqkv) */
    const void **ppd, **gpo, **gps, **gpq, **gpk, **gpv;
    bert_batch batch;
    long step;
    size_t bytes;
    int max_batch;           /* sequences the buffers hold */
    float *dec_bias;         /* inference: the decoder bias padded to vld */
    bf16 *dec_bias16;        /* the same in bf16, for the product's epilogue */
    float *row_f32;          /* inference: one row of logits in fp32, for copies out */
    bf16 *word_pad;          /* inference: the decoder's matrix with zero rows up to vld (aligned shapes) */
} gpu_bert;

#define MARK(kind) gpu_prof_mark(g->prof, kind)

static void *dalloc(gpu_bert *g, size_t bytes)
{
    void *p;
    CUDA_CHECK(cudaMalloc(&p, bytes ? bytes : 1));
    g->bytes += bytes;
    return p;
}

/* Every linear layer goes through cuBLASLt (or cublasGemmEx with
 * --gemm cublas, to compare). Row-major y (n, out; rows ldy apart) = x (n,
 * in) W^T + bias, W (out, in): column-major Y' = W'^T X'. The bias is added
 * in the product's epilogue, or after it where cuBLASLt has no such
 * algorithm. */
static void gemm(gpu_bert *g, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const void *A, int lda,
                 const void *B, int ldb, void *C, cudaDataType_t ct, int ldc, float alpha, float beta)
{
    if (g->c.gemm == BERT_GEMM_CUBLAS)
        CUBLAS_CHECK(cublasGemmEx(g->blas, ta, tb, m, n, k, &alpha, A, CUDA_R_16BF, lda, B, CUDA_R_16BF, ldb, &beta, C, ct,
                                  ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    else gpu_lt_matmul(g->lt, ta, tb, m, n, k, A, lda, B, ldb, C, ct, ldc, alpha, beta, LT_PLAIN, NULL);
}
/* y = x w^T + the bias at b_off (NO_BIAS: none). cuBLASLt adds the bias in
 * the product's epilogue, from its bf16 copy (as autocast would); otherwise
 * a pass of our own adds the fp32 one. */
#define NO_BIAS ((size_t)-1)
static void linear_fwd(gpu_bert *g, const bf16 *x, size_t w_off, size_t b_off, int n, int in, int out, bf16 *y, int ldy)
{
    const bf16 *w = g->W + w_off;
    if (b_off != NO_BIAS && g->c.gemm != BERT_GEMM_CUBLAS &&
        gpu_lt_matmul(g->lt, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, w, in, x, in, y, CUDA_R_16BF, ldy, 1, 0, LT_BIAS,
                      g->W + b_off) == 0)
        return;
    gemm(g, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, w, in, x, in, y, CUDA_R_16BF, ldy, 1, 0);
    if (b_off != NO_BIAS) k_bias_add(y, g->P + b_off, n, out, g->st);
}
static void linear_dx(gpu_bert *g, const bf16 *dy, int ldy, size_t w_off, int n, int in, int out, bf16 *dx)
{
    gemm(g, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, g->W + w_off, in, dy, ldy, dx, CUDA_R_16BF, in, 1, 0);
}
/* dW += dy^T x (fp32, accumulated: the word embeddings get two); dbias, when
 * given, = the column sums of dy, reduced in the same product. */
static void linear_dw(gpu_bert *g, const bf16 *x, const bf16 *dy, int ldy, size_t w_off, float *dbias, int n, int in,
                      int out)
{
    float *dw = g->G + w_off;
    if (dbias && g->c.gemm != BERT_GEMM_CUBLAS &&
        gpu_lt_matmul(g->lt, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, x, in, dy, ldy, dw, CUDA_R_32F, in, 1, 1, LT_BGRADB,
                      dbias) == 0)
        return;
    gemm(g, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, x, in, dy, ldy, dw, CUDA_R_32F, in, 1, 1);
    if (dbias) {
        MARK(PK_LINEAR_DW);
        k_colsum(dy, dbias, n, out, ldy, g->st);
        MARK(PK_BIAS_GRAD);
    }
}

static void batched(gpu_bert *g, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const void **A, int lda,
                    const void **B, int ldb, void **C, int ldc, float alpha, int count)
{
    float beta = 0;
    CUBLAS_CHECK(cublasGemmBatchedEx(g->blas, ta, tb, m, n, k, &alpha, A, CUDA_R_16BF, lda, B, CUDA_R_16BF, ldb, &beta, C,
                                     CUDA_R_16BF, ldc, count, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

/* Device arrays of per-(sequence, head) pointers into a tensor. */
static const void **ptrs(gpu_bert *g, const void *base, size_t seq_stride, size_t head_stride)
{
    int b = g->c.batch, nh = g->heads;
    const void **host = (const void **)malloc((size_t)b * nh * sizeof *host), **dev;
    for (int s = 0; s < b; s++)
        for (int h = 0; h < nh; h++) host[s * nh + h] = (const char *)base + (s * seq_stride + h * head_stride) * sizeof(bf16);
    dev = (const void **)dalloc(g, (size_t)b * nh * sizeof *dev);
    CUDA_CHECK(cudaMemcpy(dev, host, (size_t)b * nh * sizeof *dev, cudaMemcpyHostToDevice));
    free(host);
    return dev;
}

enum { D_EMB, D_ATT_PROBS, D_ATT_OUT, D_FFN_OUT, D_PLACES };
static drop_t drop_at(const gpu_bert *g, uint64_t step, int layer, int place)
{
    drop_t d = {g->c.dropout, g->c.seed, (step * (BERT_MAX_LAYERS + 1) + (uint64_t)(layer + 1)) * D_PLACES + (uint64_t)place};
    return d;
}

/* The logits and their gradient for nm masked rows. Sized at first for
 * 15% of the tokens plus six standard deviations of a batch's count, not
 * for every token (4 GiB at batch 64 x 512); a batch that masks more grows
 * them. */
static void head_rows(gpu_bert *g, int nm)
{
    if (nm <= g->head_cap) return;
    if (g->logits) {
        CUDA_CHECK(cudaStreamSynchronize(g->st));
        CUDA_CHECK(cudaFree(g->logits));
        CUDA_CHECK(cudaFree(g->glog));
        g->bytes -= 2 * (size_t)g->head_cap * g->vld * sizeof(bf16);
    }
    double mean = 0.15 * g->n, sd = sqrt(g->n * 0.15 * 0.85);
    int cap = (int)ceil(mean + 6 * sd) + 64;
    if (cap < nm) cap = nm;
    if (cap > g->n) cap = g->n;
    g->head_cap = cap;
    g->logits = (bf16 *)dalloc(g, (size_t)cap * g->vld * sizeof(bf16));
    g->glog = (bf16 *)dalloc(g, (size_t)cap * g->vld * sizeof(bf16));
    if (g->bytes > g->b.peak_bytes) g->b.peak_bytes = g->bytes;
}

/* Stored attention: S = Q K^T scale through cuBLAS, softmax (+ dropout), O = P' V. */
static void attention_stored_fwd(gpu_bert *g, glayer *L, int l, uint64_t step, float scale)
{
    const int b = g->c.batch, t = g->c.seq, h = g->h, nh = g->heads, d = g->d, rows = b * nh * t;
    /* column-major S'(j, i) = K'^T Q' */
    batched(g, CUBLAS_OP_T, CUBLAS_OP_N, t, t, d, L->pk, 3 * h, L->pq, 3 * h, (void **)L->ps, t, scale, b * nh);
    k_softmax(L->probs, g->pd, rows, t, drop_at(g, step, l, D_ATT_PROBS), g->st);
    /* O' = V' P'c */
    batched(g, CUBLAS_OP_N, CUBLAS_OP_N, d, t, t, L->pv, 3 * h, g->ppd, t, (void **)L->po, h, 1, b * nh);
}

/* Stored attention backward: dO in g2; dQ, dK, dV into gqkv. */
static void attention_stored_bwd(gpu_bert *g, glayer *L, int l, uint64_t step, float scale)
{
    const int b = g->c.batch, t = g->c.seq, h = g->h, nh = g->heads, d = g->d, rows = b * nh * t;
    k_dropout(L->probs, g->pd, (size_t)rows * t, drop_at(g, step, l, D_ATT_PROBS), g->st);
    /* dP' (c-major dPc = V'^T dO') into gs */
    batched(g, CUBLAS_OP_T, CUBLAS_OP_N, t, t, d, L->pv, 3 * h, (const void **)g->gpo, h, (void **)g->gps, t, 1, b * nh);
    /* dV' = dO' P'c^T */
    batched(g, CUBLAS_OP_N, CUBLAS_OP_T, d, t, t, (const void **)g->gpo, h, g->ppd, t, (void **)g->gpv, 3 * h, 1, b * nh);
    k_softmax_bwd(g->gs, L->probs, g->gs, rows, t, scale, drop_at(g, step, l, D_ATT_PROBS), g->st);
    /* dQ' = K' dSc ; dK' = Q' dSc^T */
    batched(g, CUBLAS_OP_N, CUBLAS_OP_N, d, t, t, L->pk, 3 * h, (const void **)g->gps, t, (void **)g->gpq, 3 * h, 1, b * nh);
    batched(g, CUBLAS_OP_N, CUBLAS_OP_T, d, t, t, L->pq, 3 * h, (const void **)g->gps, t, (void **)g->gpk, 3 * h, 1, b * nh);
}

/* Embeddings and every layer on the tokens in g->ids, into g->out. */
static void forward_layers(gpu_bert *g, uint64_t step)
{
    const bert_arch *a = &g->c.arch;
    const int b = g->c.batch, t = g->c.seq, h = g->h, in = g->in, n = g->n, nh = g->heads;
    const float scale = 1.0f / sqrtf((float)g->d);
    cudaStream_t st = g->st;
    k_embed_ln(g->ids, g->P + a->word, g->P + a->pos, g->P + a->type, g->P + a->emb_ln_g, g->P + a->emb_ln_b, g->emb,
               g->emb_mean, g->emb_rstd, g->L[0].x, n, t, h, drop_at(g, step, -1, D_EMB), st);
    MARK(PK_EMBED);
    for (int l = 0; l < a->c.layers; l++) {
        const bert_layer_offs *O = &a->layer[l];
        glayer *L = &g->L[l];
        bf16 *next = l + 1 < a->c.layers ? g->L[l + 1].x : g->out;
        linear_fwd(g, L->x, O->qkv_w, O->qkv_b, n, h, 3 * h, L->qkv, 3 * h);
        MARK(PK_LINEAR);
        if (g->fused) k_attn_fwd(L->qkv, L->att, L->lse, b, t, nh, scale, drop_at(g, step, l, D_ATT_PROBS), st);
        else attention_stored_fwd(g, L, l, step, scale);
        MARK(PK_ATTN);
        linear_fwd(g, L->att, O->ao_w, NO_BIAS, n, h, h, g->g1, h);
        MARK(PK_LINEAR);
        k_residual_ln(g->g1, g->P + O->ao_b, L->x, g->P + O->ln1_g, g->P + O->ln1_b, L->sum1, L->mean1, L->rstd1, L->h1, n,
                      h, drop_at(g, step, l, D_ATT_OUT), st);
        MARK(PK_RESID_LN);
        linear_fwd(g, L->h1, O->in_w, O->in_b, n, h, in, L->inter, in);
        MARK(PK_LINEAR);
        k_bias_gelu(L->inter, NULL, L->inter, L->act, n, in, st);
        MARK(PK_GELU);
        linear_fwd(g, L->act, O->out_w, NO_BIAS, n, in, h, g->g1, h);
        MARK(PK_LINEAR);
        k_residual_ln(g->g1, g->P + O->out_b, L->h1, g->P + O->ln2_g, g->P + O->ln2_b, L->sum2, L->mean2, L->rstd2, next, n,
                      h, drop_at(g, step, l, D_FFN_OUT), st);
        MARK(PK_RESID_LN);
    }
}

/* Forward and backward of one batch; the loss lands in g->loss, the
 * gradients in g->G. */
static void forward_backward(gpu_bert *g, const bert_batch *bt, uint64_t step)
{
    const bert_arch *a = &g->c.arch;
    const int b = g->c.batch, t = g->c.seq, h = g->h, in = g->in, n = g->n, nh = g->heads, V = g->v;
    const int nm = bt->nmasked;
    const float scale = 1.0f / sqrtf((float)g->d);
    const drop_t none = {0, 0, 0};
    cudaStream_t st = g->st;
    head_rows(g, nm);
    CUDA_CHECK(cudaMemcpyAsync(g->ids, bt->ids, (size_t)n * sizeof(int), cudaMemcpyHostToDevice, st));
    CUDA_CHECK(cudaMemcpyAsync(g->mpos, bt->mpos, (size_t)nm * sizeof(int), cudaMemcpyHostToDevice, st));
    CUDA_CHECK(cudaMemcpyAsync(g->mlabels, bt->mlabels, (size_t)nm * sizeof(int), cudaMemcpyHostToDevice, st));
    CUDA_CHECK(cudaMemsetAsync(g->G, 0, a->n_flat * sizeof(float), st));
    CUDA_CHECK(cudaMemsetAsync(g->loss, 0, sizeof(float), st));

    /* ---- forward ---- */
    forward_layers(g, step);
    k_gather_rows(g->out, g->mpos, g->hm, nm, h, st);
    linear_fwd(g, g->hm, a->head_w, a->head_b, nm, h, h, g->hd, h);
    k_bias_gelu(g->hd, NULL, g->hd, g->hg, nm, h, st);
    k_ln(g->hg, g->P + a->head_ln_g, g->P + a->head_ln_b, g->hmean, g->hrstd, g->hl, nm, h, st);
    linear_fwd(g, g->hl, a->word, NO_BIAS, nm, h, V, g->logits, g->vld);
    k_xent(g->logits, g->P + a->dec_b, g->mlabels, g->loss, g->glog, nm, V, g->vld, st);
    MARK(PK_HEAD);

    /* ---- backward ---- */
    linear_dw(g, g->hl, g->glog, g->vld, a->word, g->G + a->dec_b, nm, h, V);
    linear_dx(g, g->glog, g->vld, a->word, nm, h, V, g->g1);
    k_ln_bwd(g->g1, NULL, g->hg, g->hmean, g->hrstd, g->P + a->head_ln_g, g->g2, g->G + a->head_ln_g, g->G + a->head_ln_b,
             none, NULL, NULL, none, nm, h, st);
    k_gelu_bwd(g->g2, g->hd, g->g2, nm, h, st);
    linear_dw(g, g->hm, g->g2, h, a->head_w, g->G + a->head_b, nm, h, h);
    linear_dx(g, g->g2, h, a->head_w, nm, h, h, g->g1);
    CUDA_CHECK(cudaMemsetAsync(g->gx, 0, (size_t)n * h * sizeof(bf16), st));
    k_scatter_rows(g->g1, g->mpos, g->gx, nm, h, st);
    MARK(PK_HEAD_BWD);
    for (int l = a->c.layers - 1; l >= 0; l--) {
        const bert_layer_offs *O = &a->layer[l];
        glayer *L = &g->L[l];
        /* LN2: gx -> g2 (gradient of sum2 = h1 + dropout(out + bias)); g3 the FFN branch, out's bias gradient */
        k_ln_bwd(g->gx, NULL, L->sum2, L->mean2, L->rstd2, g->P + O->ln2_g, g->g2, g->G + O->ln2_g, g->G + O->ln2_b, none,
                 g->g3, g->G + O->out_b, drop_at(g, step, l, D_FFN_OUT), n, h, st);
        MARK(PK_LN_BWD);
        linear_dw(g, L->act, g->g3, h, O->out_w, NULL, n, in, h);
        MARK(PK_LINEAR_DW);
        linear_dx(g, g->g3, h, O->out_w, n, in, h, g->gi);
        MARK(PK_LINEAR_DX);
        k_gelu_bwd(g->gi, L->inter, g->gi, n, in, st);
        MARK(PK_GELU_BWD);
        linear_dw(g, L->h1, g->gi, in, O->in_w, g->G + O->in_b, n, h, in);
        MARK(PK_LINEAR_DW);
        linear_dx(g, g->gi, in, O->in_w, n, h, in, g->g3);
        MARK(PK_LINEAR_DX);
        /* LN1: the gradient of h1 is the FFN's plus the residual's (g2) */
        k_ln_bwd(g->g3, g->g2, L->sum1, L->mean1, L->rstd1, g->P + O->ln1_g, g->g1, g->G + O->ln1_g, g->G + O->ln1_b, none,
                 g->g3, g->G + O->ao_b, drop_at(g, step, l, D_ATT_OUT), n, h, st);
        MARK(PK_LN_BWD);
        /* g1: gradient of sum1 (the residual to x); g3 the attention branch */
        linear_dw(g, L->att, g->g3, h, O->ao_w, NULL, n, h, h);
        MARK(PK_LINEAR_DW);
        linear_dx(g, g->g3, h, O->ao_w, n, h, h, g->g2);
        MARK(PK_LINEAR_DX);
        /* attention: g2 is dO */
        if (g->fused)
            k_attn_bwd(L->qkv, L->att, L->lse, g->g2, g->delta, g->gqkv, b, t, nh, scale, drop_at(g, step, l, D_ATT_PROBS), st);
        else attention_stored_bwd(g, L, l, step, scale);
        MARK(PK_ATTN_BWD);
        linear_dw(g, L->x, g->gqkv, 3 * h, O->qkv_w, g->G + O->qkv_b, n, h, 3 * h);
        MARK(PK_LINEAR_DW);
        linear_dx(g, g->gqkv, 3 * h, O->qkv_w, n, h, 3 * h, g->gx);
        MARK(PK_LINEAR_DX);
        k_add(g->gx, g->g1, (size_t)n * h, st); /* plus the residual path */
        MARK(PK_LN_BWD);
    }
    k_ln_bwd(g->gx, NULL, g->emb, g->emb_mean, g->emb_rstd, g->P + a->emb_ln_g, g->g2, g->G + a->emb_ln_g, g->G + a->emb_ln_b,
             drop_at(g, step, -1, D_EMB), NULL, NULL, none, n, h, st);
    k_embed_bwd(g->ids, g->g2, g->G + a->word, g->G + a->pos, g->G + a->type, n, t, h, st);
    MARK(PK_EMBED_BWD);
}

static int gpu_loss_grads(bert_backend *base, const bert_batch *bt, uint64_t step, double *loss, float *grads, float *logits)
{
    gpu_bert *g = (gpu_bert *)base;
    if (g->c.infer) {
        fprintf(stderr, "%s: a backend made for inference has no gradients\n", g->c.prog);
        return -1;
    }
    forward_backward(g, bt, step);
    float l;
    CUDA_CHECK(cudaMemcpyAsync(&l, g->loss, sizeof l, cudaMemcpyDeviceToHost, g->st));
    if (grads) CUDA_CHECK(cudaMemcpyAsync(grads, g->G, g->c.arch.n_flat * sizeof(float), cudaMemcpyDeviceToHost, g->st));
    if (logits) {
        size_t nl = (size_t)bt->nmasked * g->v;
        float *tmp;
        bf16 *packed;
        CUDA_CHECK(cudaMalloc(&tmp, nl * sizeof(float)));
        CUDA_CHECK(cudaMalloc(&packed, nl * sizeof(bf16)));
        CUDA_CHECK(cudaMemcpy2DAsync(packed, g->v * sizeof(bf16), g->logits, g->vld * sizeof(bf16), g->v * sizeof(bf16),
                                     bt->nmasked, cudaMemcpyDeviceToDevice, g->st));
        k_from_bf16(packed, tmp, nl, g->st);
        CUDA_CHECK(cudaMemcpyAsync(logits, tmp, nl * sizeof(float), cudaMemcpyDeviceToHost, g->st));
        CUDA_CHECK(cudaStreamSynchronize(g->st));
        CUDA_CHECK(cudaFree(tmp));
        CUDA_CHECK(cudaFree(packed));
    }
    CUDA_CHECK(cudaStreamSynchronize(g->st));
    *loss = l;
    return 0;
}

/* The MLM head over all n rows of g->out into g->logits, decoder bias included. */
static void head_all(gpu_bert *g)
{
    const bert_arch *a = &g->c.arch;
    const int n = g->n, h = g->h;
    linear_fwd(g, g->out, a->head_w, a->head_b, n, h, h, g->hd, h);
    k_bias_gelu(g->hd, NULL, g->hd, g->hg, n, h, g->st);
    k_ln(g->hg, g->P + a->head_ln_g, g->P + a->head_ln_b, g->hmean, g->hrstd, g->hl, n, h, g->st);
    /* over vld rows of the decoder, not the vocabulary's 30522: aligned
     * shapes run at several times the speed; the extra logits are 0 */
    if (gpu_lt_matmul(g->lt, CUBLAS_OP_T, CUBLAS_OP_N, g->vld, n, h, g->word_pad, h, g->hl, h, g->logits, CUDA_R_16BF,
                      g->vld, 1, 0, LT_BIAS, g->dec_bias16)) {
        gemm(g, CUBLAS_OP_T, CUBLAS_OP_N, g->vld, n, h, g->word_pad, h, g->hl, h, g->logits, CUDA_R_16BF, g->vld, 1, 0);
        k_bias_add(g->logits, g->dec_bias, n, g->vld, g->st);
    }
    MARK(PK_HEAD);
}

static int gpu_infer(bert_backend *base, const int *ids, int nseq, const int *rows, int nrows, float *logits)
{
    gpu_bert *g = (gpu_bert *)base;
    const int t = g->c.seq, max_seqs = g->max_batch;
    if (!g->c.infer || nseq < 1 || nseq > max_seqs) {
        fprintf(stderr, "%s: inference of %d sequences on a backend made for %d%s\n", g->c.prog, nseq, max_seqs,
                g->c.infer ? "" : " training sequences");
        return -1;
    }
    /* the kernels read the batch's size from here: a smaller batch uses the front of every buffer */
    g->c.batch = nseq;
    g->n = nseq * t;
    if (ids) CUDA_CHECK(cudaMemcpyAsync(g->ids, ids, (size_t)g->n * sizeof(int), cudaMemcpyHostToDevice, g->st));
    gpu_prof_begin(g->prof);
    forward_layers(g, 0);
    head_all(g);
    gpu_prof_end(g->prof);
    for (int k = 0; k < nrows; k++) {
        if (rows[k] < 0 || rows[k] >= g->n) continue;
        float *tmp = g->row_f32;
        k_from_bf16(g->logits + (size_t)rows[k] * g->vld, tmp, (size_t)g->v, g->st);
        CUDA_CHECK(cudaMemcpyAsync(logits + (size_t)k * g->v, tmp, (size_t)g->v * sizeof(float), cudaMemcpyDeviceToHost, g->st));
    }
    CUDA_CHECK(cudaStreamSynchronize(g->st));
    return 0;
}

static int gpu_step(bert_backend *base, float *loss)
{
    gpu_bert *g = (gpu_bert *)base;
    if (g->c.infer) {
        fprintf(stderr, "%s: a backend made for inference cannot train\n", g->c.prog);
        return -1;
    }
    const bert_arch *a = &g->c.arch;
    bert_batch_make(&g->batch, g->c.data, a->c.vocab, g->c.seed, (uint64_t)g->step);
    gpu_prof_begin(g->prof);
    forward_backward(g, &g->batch, (uint64_t)g->step);
    CUDA_CHECK(cudaMemsetAsync(g->sumsq, 0, sizeof(double), g->st));
    k_sumsq(g->G, a->n_flat, g->sumsq, g->st);
    k_adamw(g->P, g->G, g->M, g->V, g->W, a->n_flat, a->n_matrix, a->n_flat, bert_lr_at(&g->c, g->step),
            g->c.weight_decay, g->step + 1, g->sumsq, g->c.clip, g->st);
    MARK(PK_OPTIMIZER);
    gpu_prof_end(g->prof);
    CUDA_CHECK(cudaMemcpyAsync(loss, g->loss, sizeof *loss, cudaMemcpyDeviceToHost, g->st));
    CUDA_CHECK(cudaStreamSynchronize(g->st));
    g->step++;
    return 0;
}

static void gpu_destroy(bert_backend *base)
{
    gpu_bert *g = (gpu_bert *)base;
    /* the process ends right after; the driver frees the device memory */
    gpu_prof_print(g->prof, stdout, g->c.prog);
    gpu_prof_destroy(g->prof);
    gpu_lt_destroy(g->lt);
    cublasDestroy(g->blas);
    cudaStreamDestroy(g->st);
    bert_batch_free(&g->batch);
    free(g);
}

bert_backend *bert_backend_gpu(const bert_run_config *c, const float *params)
{
    wl_gpu_prog = c->prog;
    if (c->precision != WL_BF16) {
        fprintf(stderr, "%s: this version trains BERT in bf16 only; drop --precision or use bf16\n", c->prog);
        return NULL;
    }
    gpu_bert *g = (gpu_bert *)calloc(1, sizeof *g);
    g->c = *c;
    const bert_arch *a = &g->c.arch;
    CUDA_CHECK(cudaSetDevice(c->gpu));
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, c->gpu));

    CUDA_CHECK(cudaStreamCreate(&g->st));
    CUBLAS_CHECK(cublasCreate(&g->blas));
    CUBLAS_CHECK(cublasSetStream(g->blas, g->st));
    /* cuBLASLt's workspace is ours, so it counts in the memory figure */
    const size_t lt_ws = 32u << 20;
    g->lt = gpu_lt_create(g->st, lt_ws);
    gpu_lt_set_autotune(g->lt, c->gemm_autotune);
    g->bytes += lt_ws;
    if (c->profile) g->prof = gpu_prof_create(g->st, prof_names, PK_KINDS);
    const int b = c->batch, t = c->seq;
    g->n = b * t, g->h = a->c.hidden, g->in = a->c.inter, g->heads = a->c.heads, g->d = g->h / g->heads, g->v = a->c.vocab;
    g->vld = (g->v + 63) / 64 * 64;
    g->fused = c->attention == BERT_ATTN_FUSED && attn_fused_fits(t, g->d);
    snprintf(g->name, sizeof g->name, "%s, %s attention", prop.name, g->fused ? "fused" : "stored");
    if (c->attention == BERT_ATTN_FUSED && !g->fused) {
        fprintf(stderr, "%s: --attention fused needs a head size of 64 and --seq a multiple of 64 (here %d and %d)\n",
                c->prog, g->d, t);
        return NULL;
    }
    const size_t n = (size_t)g->n, h = (size_t)g->h, in = (size_t)g->in, att = (size_t)b * g->heads * t * t;
    const size_t rows = (size_t)b * g->heads * t;
    size_t nf = a->n_flat;
    const int inf = c->infer;
    g->max_batch = b;
    g->P = (float *)dalloc(g, nf * sizeof(float));
    g->W = (bf16 *)dalloc(g, nf * sizeof(bf16));
    CUDA_CHECK(cudaMemcpy(g->P, params, nf * sizeof(float), cudaMemcpyHostToDevice));
    if (!inf) { /* gradients and AdamW's moments */
        g->G = (float *)dalloc(g, nf * sizeof(float));
        g->M = (float *)dalloc(g, nf * sizeof(float));
        g->V = (float *)dalloc(g, nf * sizeof(float));
        CUDA_CHECK(cudaMemset(g->M, 0, nf * sizeof(float)));
        CUDA_CHECK(cudaMemset(g->V, 0, nf * sizeof(float)));
    }
    k_to_bf16(g->P, g->W, nf, g->st);
    g->ids = (int *)dalloc(g, n * sizeof(int));
    g->mpos = (int *)dalloc(g, n * sizeof(int));
    g->mlabels = (int *)dalloc(g, n * sizeof(int));
#define B16(count) (bf16 *)dalloc(g, (count) * sizeof(bf16))
#define F32(count) (float *)dalloc(g, (count) * sizeof(float))
    g->emb = B16(n * h), g->out = B16(n * h), g->emb_mean = F32(n), g->emb_rstd = F32(n);
    for (int l = 0; l < a->c.layers; l++) {
        glayer *L = &g->L[l];
        if (inf && l >= 2) { /* nothing is kept for a backward pass: layers take turns with two sets of buffers */
            *L = g->L[l % 2];
            continue;
        }
        L->x = B16(n * h), L->qkv = B16(n * 3 * h), L->att = B16(n * h);
        L->sum1 = B16(n * h), L->h1 = B16(n * h), L->inter = B16(n * in), L->act = B16(n * in), L->sum2 = B16(n * h);
        L->mean1 = F32(n), L->rstd1 = F32(n), L->mean2 = F32(n), L->rstd2 = F32(n);
        if (g->fused) {
            L->lse = F32(rows);
            continue;
        }
        L->probs = B16(att);
        L->pq = ptrs(g, L->qkv, (size_t)t * 3 * h, g->d);
        L->pk = ptrs(g, L->qkv + h, (size_t)t * 3 * h, g->d);
        L->pv = ptrs(g, L->qkv + 2 * h, (size_t)t * 3 * h, g->d);
        L->ps = ptrs(g, L->probs, (size_t)g->heads * t * t, (size_t)t * t);
        L->po = ptrs(g, L->att, (size_t)t * h, g->d);
    }
    g->hd = B16(n * h), g->hg = B16(n * h), g->hl = B16(n * h);
    g->hmean = F32(n), g->hrstd = F32(n), g->loss = F32(1);
    g->g1 = B16(n * h);
    if (inf) {
        if (!g->fused) g->pd = B16(att), g->ppd = ptrs(g, g->pd, (size_t)g->heads * t * t, (size_t)t * t);
        g->dec_bias = F32(g->vld);
        g->row_f32 = F32(g->v);
        CUDA_CHECK(cudaMemset(g->dec_bias, 0, g->vld * sizeof(float)));
        CUDA_CHECK(cudaMemcpy(g->dec_bias, params + a->dec_b, g->v * sizeof(float), cudaMemcpyHostToDevice));
        g->dec_bias16 = B16(g->vld);
        k_to_bf16(g->dec_bias, g->dec_bias16, g->vld, g->st);
        g->head_cap = g->n; /* logits for every token */
        g->logits = B16((size_t)g->n * g->vld);
        g->word_pad = B16((size_t)g->vld * h);
        CUDA_CHECK(cudaMemsetAsync(g->word_pad, 0, (size_t)g->vld * h * sizeof(bf16), g->st));
        CUDA_CHECK(cudaMemcpyAsync(g->word_pad, g->W + a->word, (size_t)g->v * h * sizeof(bf16), cudaMemcpyDeviceToDevice,
                                   g->st));
    }
    if (!inf) {
    g->hm = B16(n * h);
    g->sumsq = (double *)dalloc(g, sizeof(double));
    g->g2 = B16(n * h), g->g3 = B16(n * h), g->gx = B16(n * h);
    g->gi = B16(n * in), g->gqkv = B16(n * 3 * h);
    }
    if (inf) {
    } else if (g->fused) {
        g->delta = F32(rows);
    } else {
        g->pd = B16(att), g->gs = B16(att);
        g->ppd = ptrs(g, g->pd, (size_t)g->heads * t * t, (size_t)t * t);
        g->gps = ptrs(g, g->gs, (size_t)g->heads * t * t, (size_t)t * t);
        g->gpo = ptrs(g, g->g2, (size_t)t * h, g->d);
        g->gpq = ptrs(g, g->gqkv, (size_t)t * 3 * h, g->d);
        g->gpk = ptrs(g, g->gqkv + h, (size_t)t * 3 * h, g->d);
        g->gpv = ptrs(g, g->gqkv + 2 * h, (size_t)t * 3 * h, g->d);
    }
#undef B16
#undef F32
    if (!inf) head_rows(g, 1);
    if (bert_batch_alloc(&g->batch, b, t) != 0) {
        fprintf(stderr, "%s: out of host memory for the batch\n", c->prog);
        return NULL;
    }
    CUDA_CHECK(cudaStreamSynchronize(g->st));
    g->b.name = g->name;
    if (g->bytes > g->b.peak_bytes) g->b.peak_bytes = g->bytes;
    g->b.step = gpu_step;
    g->b.loss_grads = gpu_loss_grads;
    g->b.infer = gpu_infer;
    if (inf) { /* a first batch of tokens on the GPU, for benchmarks that keep their input there */
        bert_batch_make(&g->batch, BERT_DATA_RANDOM, a->c.vocab, c->seed, 0);
        CUDA_CHECK(cudaMemcpy(g->ids, g->batch.ids, n * sizeof(int), cudaMemcpyHostToDevice));
    }
    g->b.destroy = gpu_destroy;
    return &g->b;
}
