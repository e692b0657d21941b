/* The GPU ResNet-50: cuDNN for convolutions (algorithms chosen by measuring
 * once at start, like cudnn.benchmark), batch norm with its ReLU and the
 * residual add fused in (cuDNN's NHWC persistent kernels) and max pooling;
 * cuBLAS for the classifier; our kernels for the rest. The whole step,
 * optimiser included, is captured once in a CUDA graph and replayed.
 *
 * Memory: every activation the backward pass needs is kept (the conv
 * output that batch norm normalises, and the batch norm output, which is
 * the next layer's input); gradients flow through a pool of four buffers,
 * reused block after block (see allocate()). */
#include <cuda_bf16.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vector>

#include "gpu_arena.h"
#include "gpu_check.h"
#include "resnet_backend.h"
#include "resnet_gpu_kernels.h"
#include "wl_bf16.h"

#define BN_EPS 1e-5
#define BN_MOMENTUM 0.1
#define NGRAD 4

enum { P_CONV_FWD, P_CONV_DGRAD, P_CONV_WGRAD, P_BN_FWD, P_BN_BWD, P_POOL, P_HEAD, P_SGD, P_N };
static const char *prof_names[P_N] = {"conv forward", "conv backward data", "conv backward filter", "batch norm forward",
                                      "batch norm backward", "pooling", "classifier and loss", "optimiser"};

struct conv_algos {
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
    cudnnMathType_t fwd_math, data_math, filter_math;
    size_t ws;
};

struct gpu_model {
    rn_config cfg;
    const rn_arch *a;
    char name[256];
    int bf16;
    size_t es; /* bytes an activation element */
    cudnnDataType_t dt;
    cudaStream_t st;
    cudnnHandle_t dnn;
    cublasHandle_t blas;
    gpu_arena arena;
    void *ws;
    size_t ws_size;
    /* parameters: fp32 master P, momentum M, vector grads Gv (fp32), matrix
     * grads Gm and working copy W in the activation type (W is P in fp32) */
    float *P, *M, *Gv, *run_mean, *run_var;
    void *W, *Gm;
    int nbatches, next;
    void *xin, *xb[RN_LEARNABLE_BATCHES];
    int *lin, *lb[RN_LEARNABLE_BATCHES];
    void *c[RN_MAX_CONV], *b[RN_MAX_CONV];
    float *smean[RN_MAX_CONV], *sinv[RN_MAX_CONV];
    void *reserve[RN_MAX_CONV];
    size_t reserve_size[RN_MAX_CONV];
    void *pool, *feat, *gfeat, *dlogits, *g[NGRAD];
    float *logits, *dlogits_f, *loss_dev, *loss_host;
    cudnnTensorDescriptor_t in_desc[RN_MAX_CONV], out_desc[RN_MAX_CONV], bn_desc[RN_MAX_CONV], pool_desc, x_desc;
    cudnnFilterDescriptor_t w_desc[RN_MAX_CONV];
    cudnnConvolutionDescriptor_t conv_fwd[RN_MAX_CONV], conv_data[RN_MAX_CONV], conv_filter[RN_MAX_CONV];
    conv_algos algo[RN_MAX_CONV];
    cudnnPoolingDescriptor_t maxpool;
    cudnnActivationDescriptor_t relu;
    cudaGraphExec_t graph;
    int graph_state; /* 0 not yet, 1 captured, -1 not used */
    /* profiling: events around every call of one step, summed per kind */
    int profiling;
    std::vector<cudaEvent_t> ev;
    std::vector<int> ev_kind;
    double prof_ms[P_N];
    int prof_steps;
    size_t peak;
};

static void prof_mark(gpu_model *m, int kind)
{
    if (!m->profiling) return;
    cudaEvent_t e;
    CUDA_CHECK(cudaEventCreate(&e));
    CUDA_CHECK(cudaEventRecord(e, m->st));
    m->ev.push_back(e);
    m->ev_kind.push_back(kind);
}

/* ---- set-up ---- */

static void tensor_nhwc(cudnnTensorDescriptor_t *d, cudnnDataType_t dt, int n, int c, int h, int w)
{
    CUDNN_CHECK(cudnnCreateTensorDescriptor(d));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(*d, CUDNN_TENSOR_NHWC, dt, n, c, h, w));
}

static size_t conv_out_elems(const gpu_model *m, int i)
{
    const rn_conv *c = &m->a->conv[i];
    return (size_t)m->cfg.batch * c->hout * c->wout * c->cout;
}

/* cuDNN's NHWC persistent batch norm, as PyTorch uses for channels-last
 * training: the fast one. Its reductions are less precise than a plain
 * fp32 sum (see resnet_check.c). */
static cudnnBatchNormMode_t bn_mode(const gpu_model *m)
{
    (void)m;
    return CUDNN_BATCHNORM_SPATIAL_PERSISTENT;
}

static cudnnBatchNormOps_t bn_ops(const gpu_model *m, int i)
{
    for (int k = 0; k < RN_BLOCKS; k++) {
        if (m->a->block[k].conv3 == i) return CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION;
        if (m->a->block[k].down == i) return CUDNN_BATCHNORM_OPS_BN;
    }
    return CUDNN_BATCHNORM_OPS_BN_ACTIVATION;
}

static void make_descriptors(gpu_model *m)
{
    const rn_arch *a = m->a;
    int n = m->cfg.batch;
    cudnnMathType_t math = m->bf16 ? CUDNN_TENSOR_OP_MATH
                           : m->cfg.precision == WL_TF32 ? CUDNN_DEFAULT_MATH
                                                         : CUDNN_FMA_MATH;
    for (int i = 0; i < a->nconv; i++) {
        const rn_conv *c = &a->conv[i];
        tensor_nhwc(&m->in_desc[i], m->dt, n, c->cin, c->hin, c->win);
        tensor_nhwc(&m->out_desc[i], m->dt, n, c->cout, c->hout, c->wout);
        CUDNN_CHECK(cudnnCreateFilterDescriptor(&m->w_desc[i]));
        CUDNN_CHECK(cudnnSetFilter4dDescriptor(m->w_desc[i], m->dt, CUDNN_TENSOR_NHWC, c->cout, c->cin, c->k, c->k));
        cudnnConvolutionDescriptor_t *d[3] = {&m->conv_fwd[i], &m->conv_data[i], &m->conv_filter[i]};
        for (int j = 0; j < 3; j++) {
            CUDNN_CHECK(cudnnCreateConvolutionDescriptor(d[j]));
            CUDNN_CHECK(cudnnSetConvolution2dDescriptor(*d[j], c->pad, c->pad, c->stride, c->stride, 1, 1,
                                                        CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
            CUDNN_CHECK(cudnnSetConvolutionMathType(*d[j], math));
        }
        CUDNN_CHECK(cudnnCreateTensorDescriptor(&m->bn_desc[i]));
        CUDNN_CHECK(cudnnDeriveBNTensorDescriptor(m->bn_desc[i], m->out_desc[i], bn_mode(m)));
        CUDNN_CHECK(cudnnGetBatchNormalizationTrainingExReserveSpaceSize(
            m->dnn, bn_mode(m), bn_ops(m, i), m->relu, m->out_desc[i], &m->reserve_size[i]));
    }
    tensor_nhwc(&m->pool_desc, m->dt, n, 64, a->pool_h, a->pool_w);
    CUDNN_CHECK(cudnnCreatePoolingDescriptor(&m->maxpool));
    CUDNN_CHECK(cudnnSetPooling2dDescriptor(m->maxpool, CUDNN_POOLING_MAX_DETERMINISTIC, CUDNN_NOT_PROPAGATE_NAN, 3, 3, 1, 1, 2, 2));
}

/* Runs twice: measuring, then assigning (see gpu_arena.h). */
static void allocate(gpu_model *m)
{
    const rn_arch *a = m->a;
    gpu_arena *ar = &m->arena;
    size_t n = (size_t)m->cfg.batch, es = m->es, nvec = a->n_flat - a->n_matrix;
    m->P = (float *)gpu_arena_alloc(ar, a->n_flat * 4);
    m->M = (float *)gpu_arena_alloc(ar, a->n_flat * 4);
    m->Gm = gpu_arena_alloc(ar, a->n_matrix * es);
    m->Gv = (float *)gpu_arena_alloc(ar, nvec * 4);
    m->W = m->bf16 ? gpu_arena_alloc(ar, a->n_matrix * es) : (void *)m->P;
    m->run_mean = (float *)gpu_arena_alloc(ar, a->n_stats * 4);
    m->run_var = (float *)gpu_arena_alloc(ar, a->n_stats * 4);
    size_t img = n * a->image * a->image * 3;
    m->nbatches = rn_data_batches(&m->cfg);
    for (int i = 0; i < m->nbatches; i++) {
        m->xb[i] = gpu_arena_alloc(ar, img * es);
        m->lb[i] = (int *)gpu_arena_alloc(ar, n * sizeof(int));
    }
    /* One batch is the graph's input itself; several are copied into it. */
    m->xin = m->nbatches > 1 ? gpu_arena_alloc(ar, img * es) : m->xb[0];
    m->lin = m->nbatches > 1 ? (int *)gpu_arena_alloc(ar, n * sizeof(int)) : m->lb[0];
    size_t biggest = n * a->pool_h * a->pool_w * 64, mid = 0;
    for (int i = 0; i < a->nconv; i++) {
        size_t e = conv_out_elems(m, i);
        biggest = e > biggest ? e : biggest;
        m->c[i] = gpu_arena_alloc(ar, e * es);
        m->b[i] = bn_ops(m, i) == CUDNN_BATCHNORM_OPS_BN ? NULL : gpu_arena_alloc(ar, e * es);
        m->smean[i] = (float *)gpu_arena_alloc(ar, a->conv[i].cout * 4);
        m->sinv[i] = (float *)gpu_arena_alloc(ar, a->conv[i].cout * 4);
        m->reserve[i] = m->reserve_size[i] ? gpu_arena_alloc(ar, m->reserve_size[i]) : NULL;
    }
    for (int k = 0; k < RN_BLOCKS; k++) {
        size_t e = conv_out_elems(m, a->block[k].conv2);
        mid = e > mid ? e : mid;
    }
    m->pool = gpu_arena_alloc(ar, n * a->pool_h * a->pool_w * 64 * es);
    /* Three gradient buffers of the largest activation's size, and one for
     * the gradients at conv3's input, which have a quarter of the channels. */
    for (int i = 0; i < NGRAD - 1; i++) m->g[i] = gpu_arena_alloc(ar, biggest * es);
    m->g[NGRAD - 1] = gpu_arena_alloc(ar, mid * es);
    /* A projection's batch-norm output lives only until the block's last
     * batch norm adds it, and the gradient buffers are idle during the
     * forward pass: it borrows one. */
    for (int k = 0; k < RN_BLOCKS; k++)
        if (a->block[k].down >= 0) m->b[a->block[k].down] = m->g[0];
    m->feat = gpu_arena_alloc(ar, n * a->feat_c * es);
    m->gfeat = gpu_arena_alloc(ar, n * a->feat_c * es);
    m->logits = (float *)gpu_arena_alloc(ar, n * a->classes * 4);
    m->dlogits_f = (float *)gpu_arena_alloc(ar, n * a->classes * 4);
    m->dlogits = gpu_arena_alloc(ar, n * a->classes * es);
    m->loss_dev = (float *)gpu_arena_alloc(ar, 4);
}

/* The fastest algorithm whose workspace fits, of those cuDNN measures;
 * layers of the same shape share one measurement. */
static void choose_algorithms(gpu_model *m)
{
    const rn_arch *a = m->a;
    void *tmp = NULL;
    size_t limit = m->cfg.workspace_limit;
    if (limit) CUDA_CHECK(cudaMalloc(&tmp, limit));
    const int want = 16;
    for (int i = 0; i < a->nconv; i++) {
        const rn_conv *c = &a->conv[i];
        int same = -1;
        for (int j = 0; j < i && same < 0; j++) {
            const rn_conv *d = &a->conv[j];
            if (d->cin == c->cin && d->cout == c->cout && d->k == c->k && d->stride == c->stride && d->hin == c->hin)
                same = j;
        }
        conv_algos *al = &m->algo[i];
        if (same >= 0) {
            *al = m->algo[same];
        } else {
            int got = 0, k;
            cudnnConvolutionFwdAlgoPerf_t pf[want];
            void *x = i == 0 ? m->xin : m->g[0], *dy = m->g[1], *dx = m->g[2];
            CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(m->dnn, m->in_desc[i], x, m->w_desc[i],
                                                               (char *)m->W + c->w_off * m->es, m->conv_fwd[i],
                                                               m->out_desc[i], m->c[i], want, &got, pf, tmp, limit));
            for (k = 0; k < got && (pf[k].status != CUDNN_STATUS_SUCCESS || pf[k].memory > limit); k++) {}
            if (k == got) goto none;
            al->fwd = pf[k].algo;
            al->fwd_math = pf[k].mathType;
            al->ws = pf[k].memory;
            cudnnConvolutionBwdDataAlgoPerf_t pd[want];
            if (i > 0) {
                CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
                    m->dnn, m->w_desc[i], (char *)m->W + c->w_off * m->es, m->out_desc[i], dy, m->conv_data[i],
                    m->in_desc[i], dx, want, &got, pd, tmp, limit));
                for (k = 0; k < got && (pd[k].status != CUDNN_STATUS_SUCCESS || pd[k].memory > limit); k++) {}
                if (k == got) goto none;
                al->bwd_data = pd[k].algo;
                al->data_math = pd[k].mathType;
                al->ws = pd[k].memory > al->ws ? pd[k].memory : al->ws;
            }
            cudnnConvolutionBwdFilterAlgoPerf_t pw[want];
            CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(
                m->dnn, m->in_desc[i], x, m->out_desc[i], dy, m->conv_filter[i], m->w_desc[i],
                (char *)m->Gm + c->w_off * m->es, want, &got, pw, tmp, limit));
            for (k = 0; k < got && (pw[k].status != CUDNN_STATUS_SUCCESS || pw[k].memory > limit); k++) {}
            if (k == got) goto none;
            al->bwd_filter = pw[k].algo;
            al->filter_math = pw[k].mathType;
            al->ws = pw[k].memory > al->ws ? pw[k].memory : al->ws;
        }
        if (m->cfg.precision != WL_FP32) {
            /* the math type each measurement was taken with */
            CUDNN_CHECK(cudnnSetConvolutionMathType(m->conv_fwd[i], al->fwd_math));
            if (i > 0) CUDNN_CHECK(cudnnSetConvolutionMathType(m->conv_data[i], al->data_math));
            CUDNN_CHECK(cudnnSetConvolutionMathType(m->conv_filter[i], al->filter_math));
        }
        m->ws_size = al->ws > m->ws_size ? al->ws : m->ws_size;
        continue;
    none:
        fprintf(stderr, "%s: cuDNN has no algorithm for convolution %d (%dx%d, %d -> %d channels, stride %d) within a %zu MiB "
                        "workspace; raise --workspace\n",
                m->cfg.prog, i, c->k, c->k, c->cin, c->cout, c->stride, limit >> 20);
        exit(1);
    }
    if (tmp) CUDA_CHECK(cudaFree(tmp));
    /* batch norm's own workspaces come out of the same buffer */
    for (int i = 0; i < a->nconv; i++) {
        size_t f = 0, b = 0;
        cudnnBatchNormOps_t ops = bn_ops(m, i);
        cudnnTensorDescriptor_t z = ops == CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION ? m->out_desc[i] : NULL;
        CUDNN_CHECK(cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize(
            m->dnn, bn_mode(m), ops, m->out_desc[i], z, m->out_desc[i], m->bn_desc[i], m->relu, &f));
        CUDNN_CHECK(cudnnGetBatchNormalizationBackwardExWorkspaceSize(
            m->dnn, bn_mode(m), ops, m->out_desc[i], m->out_desc[i], m->out_desc[i], z,
            m->out_desc[i], m->bn_desc[i], m->relu, &b));
        f = f > b ? f : b;
        m->ws_size = f > m->ws_size ? f : m->ws_size;
    }
    if (m->ws_size) CUDA_CHECK(cudaMalloc(&m->ws, m->ws_size));
}

/* ---- the step ---- */

static const float one = 1.0f, zero = 0.0f;

static void *wm(gpu_model *m, int i) { return (char *)m->W + m->a->conv[i].w_off * m->es; }
static void *gm(gpu_model *m, int i) { return (char *)m->Gm + m->a->conv[i].w_off * m->es; }
static float *gv(gpu_model *m, size_t off) { return m->Gv + (off - m->a->n_matrix); }

static void conv_bn_forward(gpu_model *m, int i, const void *in, const void *z)
{
    const rn_bn *bn = &m->a->bn[i];
    prof_mark(m, P_CONV_FWD);
    CUDNN_CHECK(cudnnConvolutionForward(m->dnn, &one, m->in_desc[i], in, m->w_desc[i], wm(m, i), m->conv_fwd[i],
                                        m->algo[i].fwd, m->ws, m->ws_size, &zero, m->out_desc[i], m->c[i]));
    prof_mark(m, P_BN_FWD);
    cudnnBatchNormOps_t ops = bn_ops(m, i);
    CUDNN_CHECK(cudnnBatchNormalizationForwardTrainingEx(
        m->dnn, bn_mode(m), ops, &one, &zero, m->out_desc[i], m->c[i], z ? m->out_desc[i] : NULL,
        z, m->out_desc[i], m->b[i], m->bn_desc[i], m->P + bn->gamma_off, m->P + bn->beta_off, BN_MOMENTUM,
        m->run_mean + bn->stat_off, m->run_var + bn->stat_off, BN_EPS, m->smean[i], m->sinv[i],
        ops == CUDNN_BATCHNORM_OPS_BN ? NULL : m->relu, m->ws, m->ws_size, m->reserve[i], m->reserve_size[i]));
}

/* dy: the gradient at BN i's output (before its ReLU); writes the conv
 * output's gradient into gc, dz (the residual input's) where the BN adds
 * one, dW, and the layer input's gradient into din (accumulating when
 * beta is 1; none for the stem). */
static void conv_bn_backward(gpu_model *m, int i, const void *in, const void *dy, void *gc, void *dz, void *din, float beta)
{
    const rn_bn *bn = &m->a->bn[i];
    cudnnBatchNormOps_t ops = bn_ops(m, i);
    prof_mark(m, P_BN_BWD);
    CUDNN_CHECK(cudnnBatchNormalizationBackwardEx(
        m->dnn, bn_mode(m), ops, &one, &zero, &one, &zero, m->out_desc[i], m->c[i],
        m->out_desc[i], m->b[i], m->out_desc[i], dy, dz ? m->out_desc[i] : NULL, dz, m->out_desc[i], gc, m->bn_desc[i],
        m->P + bn->gamma_off, m->P + bn->beta_off, gv(m, bn->gamma_off), gv(m, bn->beta_off), BN_EPS, m->smean[i],
        m->sinv[i], ops == CUDNN_BATCHNORM_OPS_BN ? NULL : m->relu, m->ws, m->ws_size, m->reserve[i], m->reserve_size[i]));
    prof_mark(m, P_CONV_WGRAD);
    CUDNN_CHECK(cudnnConvolutionBackwardFilter(m->dnn, &one, m->in_desc[i], in, m->out_desc[i], gc, m->conv_filter[i],
                                               m->algo[i].bwd_filter, m->ws, m->ws_size, &zero, m->w_desc[i], gm(m, i)));
    if (din) {
        prof_mark(m, P_CONV_DGRAD);
        CUDNN_CHECK(cudnnConvolutionBackwardData(m->dnn, &one, m->w_desc[i], wm(m, i), m->out_desc[i], gc, m->conv_data[i],
                                                 m->algo[i].bwd_data, m->ws, m->ws_size, &beta, m->in_desc[i], din));
    }
}

static void forward(gpu_model *m)
{
    const rn_arch *a = m->a;
    int n = m->cfg.batch;
    conv_bn_forward(m, 0, m->xin, NULL);
    prof_mark(m, P_POOL);
    CUDNN_CHECK(cudnnPoolingForward(m->dnn, m->maxpool, &one, m->out_desc[0], m->b[0], &zero, m->pool_desc, m->pool));
    const void *cur = m->pool;
    for (int k = 0; k < RN_BLOCKS; k++) {
        const rn_block *bl = &a->block[k];
        conv_bn_forward(m, bl->conv1, cur, NULL);
        conv_bn_forward(m, bl->conv2, m->b[bl->conv1], NULL);
        const void *z = cur;
        if (bl->down >= 0) {
            conv_bn_forward(m, bl->down, cur, NULL);
            z = m->b[bl->down];
        }
        conv_bn_forward(m, bl->conv3, m->b[bl->conv2], z); /* relu(bn(conv) + z) */
        cur = m->b[bl->conv3];
    }
    prof_mark(m, P_POOL);
    avgpool_forward(m->bf16, cur, m->feat, n, a->feat_h * a->feat_w, a->feat_c, m->st);
    prof_mark(m, P_HEAD);
    /* logits (n x classes, fp32) = feat (n x 2048) W^T, in cuBLAS's column-major terms */
    cudaDataType_t t = m->bf16 ? CUDA_R_16BF : CUDA_R_32F;
    cublasComputeType_t ct = m->cfg.precision == WL_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    CUBLAS_CHECK(cublasGemmEx(m->blas, CUBLAS_OP_T, CUBLAS_OP_N, a->classes, n, a->feat_c, &one,
                              (char *)m->W + a->fc_w_off * m->es, t, a->feat_c, m->feat, t, a->feat_c, &zero, m->logits,
                              CUDA_R_32F, a->classes, ct, CUBLAS_GEMM_DEFAULT));
    CUDA_CHECK(cudaMemsetAsync(m->loss_dev, 0, 4, m->st));
    softmax_xent(m->bf16, m->logits, m->P + a->fc_b_off, m->lin, m->loss_dev, m->dlogits_f, m->dlogits, n, a->classes, m->st);
    CUDA_CHECK(cudaGetLastError());
}

static void backward(gpu_model *m)
{
    const rn_arch *a = m->a;
    int n = m->cfg.batch;
    cudaDataType_t t = m->bf16 ? CUDA_R_16BF : CUDA_R_32F;
    cublasComputeType_t ct = m->cfg.precision == WL_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    bias_grad(m->dlogits_f, gv(m, a->fc_b_off), n, a->classes, m->st);
    /* dW (classes x 2048) = dlogits^T feat; dfeat (n x 2048) = dlogits W */
    CUBLAS_CHECK(cublasGemmEx(m->blas, CUBLAS_OP_N, CUBLAS_OP_T, a->feat_c, a->classes, n, &one, m->feat, t, a->feat_c,
                              m->dlogits, t, a->classes, &zero, (char *)m->Gm + a->fc_w_off * m->es, t, a->feat_c, ct,
                              CUBLAS_GEMM_DEFAULT));
    CUBLAS_CHECK(cublasGemmEx(m->blas, CUBLAS_OP_N, CUBLAS_OP_N, a->feat_c, n, a->classes, &one,
                              (char *)m->W + a->fc_w_off * m->es, t, a->feat_c, m->dlogits, t, a->classes, &zero, m->gfeat,
                              t, a->feat_c, ct, CUBLAS_GEMM_DEFAULT));
    prof_mark(m, P_POOL);
    int cur = 0; /* the gradient buffer holding the block output's gradient */
    avgpool_backward(m->bf16, m->gfeat, m->g[cur], n, a->feat_h * a->feat_w, a->feat_c, m->st);
    CUDA_CHECK(cudaGetLastError());
    for (int k = RN_BLOCKS - 1; k >= 0; k--) {
        const rn_block *bl = &a->block[k];
        const void *in = k ? m->b[a->block[k - 1].conv3] : m->pool;
        /* G holds the block output's gradient; A and B are the other two
         * large buffers, C the small one (mid channels at the output size). */
        int p = (cur + 1) % (NGRAD - 1), q = (cur + 2) % (NGRAD - 1);
        void *G = m->g[cur], *A = m->g[p], *B = m->g[q], *C = m->g[NGRAD - 1];
        /* bn3: the ReLU of the sum, then the gradient reaches bn3 (A) and the shortcut (B) */
        conv_bn_backward(m, bl->conv3, m->b[bl->conv2], G, A, B, C, 0.0f); /* conv3's input gradient into C */
        if (bl->down >= 0) conv_bn_backward(m, bl->down, in, B, G, NULL, B, 0.0f); /* B := shortcut input grad */
        conv_bn_backward(m, bl->conv2, m->b[bl->conv1], C, A, NULL, G, 0.0f);
        conv_bn_backward(m, bl->conv1, in, G, A, NULL, B, 1.0f); /* adds the main branch into B */
        cur = q;
    }
    prof_mark(m, P_POOL);
    int o = cur, p = (cur + 1) % (NGRAD - 1), q = (cur + 2) % (NGRAD - 1);
    CUDNN_CHECK(cudnnPoolingBackward(m->dnn, m->maxpool, &one, m->pool_desc, m->pool, m->pool_desc, m->g[o],
                                     m->out_desc[0], m->b[0], &zero, m->out_desc[0], m->g[p]));
    conv_bn_backward(m, 0, m->xin, m->g[p], m->g[q], NULL, NULL, 0.0f);
}

static void update(gpu_model *m)
{
    const rn_arch *a = m->a;
    prof_mark(m, P_SGD);
    sgd_momentum(m->P, m->M, m->Gm, m->bf16, m->bf16 ? m->W : NULL, a->n_matrix, m->cfg.lr, m->cfg.momentum,
                 m->cfg.weight_decay, m->st);
    sgd_momentum(m->P + a->n_matrix, m->M + a->n_matrix, m->Gv, 0, NULL, a->n_flat - a->n_matrix, m->cfg.lr,
                 m->cfg.momentum, m->cfg.weight_decay, m->st);
    CUDA_CHECK(cudaGetLastError());
}

static void step_body(gpu_model *m, int upd)
{
    forward(m);
    backward(m);
    if (upd) update(m);
    prof_mark(m, -1);
    CUDA_CHECK(cudaMemcpyAsync(m->loss_host, m->loss_dev, 4, cudaMemcpyDeviceToHost, m->st));
}

static void next_batch(gpu_model *m)
{
    if (m->nbatches == 1) return;
    const rn_arch *a = m->a;
    size_t img = (size_t)m->cfg.batch * a->image * a->image * 3 * m->es;
    CUDA_CHECK(cudaMemcpyAsync(m->xin, m->xb[m->next], img, cudaMemcpyDeviceToDevice, m->st));
    CUDA_CHECK(cudaMemcpyAsync(m->lin, m->lb[m->next], m->cfg.batch * sizeof(int), cudaMemcpyDeviceToDevice, m->st));
    m->next = (m->next + 1) % m->nbatches;
}

static void collect_profile(gpu_model *m)
{
    for (size_t i = 0; i + 1 < m->ev.size(); i++) {
        float ms = 0;
        CUDA_CHECK(cudaEventElapsedTime(&ms, m->ev[i], m->ev[i + 1]));
        if (m->ev_kind[i] >= 0) m->prof_ms[m->ev_kind[i]] += ms;
    }
    for (cudaEvent_t e : m->ev) cudaEventDestroy(e);
    m->ev.clear();
    m->ev_kind.clear();
    m->prof_steps++;
}

static int gpu_step(rn_backend *b, int upd, float *loss)
{
    gpu_model *m = (gpu_model *)b->impl;
    next_batch(m);
    /* The first training step runs eagerly (cuDNN and cuBLAS finish their
     * lazy set-up there); the second is captured, and replayed from then on. */
    if (upd && m->graph_state == 2) {
        cudaGraph_t g;
        CUDA_CHECK(cudaStreamBeginCapture(m->st, cudaStreamCaptureModeThreadLocal));
        step_body(m, 1);
        CUDA_CHECK(cudaStreamEndCapture(m->st, &g));
        CUDA_CHECK(cudaGraphInstantiate(&m->graph, g, 0));
        CUDA_CHECK(cudaGraphDestroy(g));
        m->graph_state = 1;
    }
    if (upd && m->graph_state == 1) {
        CUDA_CHECK(cudaGraphLaunch(m->graph, m->st));
    } else {
        m->profiling = m->cfg.profile;
        step_body(m, upd);
        if (upd && m->graph_state == 0 && m->cfg.use_graph) m->graph_state = 2;
    }
    CUDA_CHECK(cudaStreamSynchronize(m->st));
    if (m->profiling) collect_profile(m);
    *loss = *m->loss_host;
    return 0;
}

/* ---- results back to the host ---- */

static void to_host_f32(gpu_model *m, const void *src, int is_act_type, size_t n, float *out)
{
    if (m->bf16 && is_act_type) {
        float *tmp;
        CUDA_CHECK(cudaMalloc(&tmp, n * 4));
        from_bf16(src, tmp, n, m->st);
        CUDA_CHECK(cudaMemcpyAsync(out, tmp, n * 4, cudaMemcpyDeviceToHost, m->st));
        CUDA_CHECK(cudaStreamSynchronize(m->st));
        CUDA_CHECK(cudaFree(tmp));
    } else {
        CUDA_CHECK(cudaMemcpyAsync(out, src, n * 4, cudaMemcpyDeviceToHost, m->st));
        CUDA_CHECK(cudaStreamSynchronize(m->st));
    }
}

static int gpu_read_logits(rn_backend *b, float *out)
{
    gpu_model *m = (gpu_model *)b->impl;
    const rn_arch *a = m->a;
    /* the classifier's bias is added inside the loss kernel: add it here too */
    to_host_f32(m, m->logits, 0, (size_t)m->cfg.batch * a->classes, out);
    std::vector<float> bias(a->classes);
    to_host_f32(m, m->P + a->fc_b_off, 0, a->classes, bias.data());
    for (int i = 0; i < m->cfg.batch; i++)
        for (int j = 0; j < a->classes; j++) out[(size_t)i * a->classes + j] += bias[j];
    return 0;
}

static int gpu_read_grads(rn_backend *b, float *out)
{
    gpu_model *m = (gpu_model *)b->impl;
    const rn_arch *a = m->a;
    to_host_f32(m, m->Gm, 1, a->n_matrix, out);
    to_host_f32(m, m->Gv, 0, a->n_flat - a->n_matrix, out + a->n_matrix);
    return 0;
}

static int gpu_read_params(rn_backend *b, float *out)
{
    gpu_model *m = (gpu_model *)b->impl;
    to_host_f32(m, m->P, 0, m->a->n_flat, out);
    return 0;
}

static int gpu_read_running(rn_backend *b, float *mean, float *var)
{
    gpu_model *m = (gpu_model *)b->impl;
    to_host_f32(m, m->run_mean, 0, m->a->n_stats, mean);
    to_host_f32(m, m->run_var, 0, m->a->n_stats, var);
    return 0;
}

static void gpu_report(rn_backend *b)
{
    gpu_model *m = (gpu_model *)b->impl;
    double total = 0;
    for (int i = 0; i < P_N; i++) total += m->prof_ms[i];
    if (!m->prof_steps || total <= 0) return;
    printf("%s: time per step by layer kind, over %d eager steps (no graph):\n", m->cfg.prog, m->prof_steps);
    for (int i = 0; i < P_N; i++)
        printf("  %-22s %8.2f ms  %5.1f%%\n", prof_names[i], m->prof_ms[i] / m->prof_steps, 100 * m->prof_ms[i] / total);
    printf("  %-22s %8.2f ms\n", "total", total / m->prof_steps);
    m->cfg.profile = 0; /* the measured run that follows uses the graph */
    m->cfg.use_graph = 1;
}

static void gpu_destroy(rn_backend *b)
{
    gpu_model *m = (gpu_model *)b->impl;
    if (m->graph_state == 1) cudaGraphExecDestroy(m->graph);
    for (int i = 0; i < m->a->nconv; i++) {
        cudnnDestroyTensorDescriptor(m->in_desc[i]);
        cudnnDestroyTensorDescriptor(m->out_desc[i]);
        cudnnDestroyTensorDescriptor(m->bn_desc[i]);
        cudnnDestroyFilterDescriptor(m->w_desc[i]);
        cudnnDestroyConvolutionDescriptor(m->conv_fwd[i]);
        cudnnDestroyConvolutionDescriptor(m->conv_data[i]);
        cudnnDestroyConvolutionDescriptor(m->conv_filter[i]);
    }
    cudnnDestroyTensorDescriptor(m->pool_desc);
    cudnnDestroyPoolingDescriptor(m->maxpool);
    cudnnDestroyActivationDescriptor(m->relu);
    if (m->ws) cudaFree(m->ws);
    cudaFreeHost(m->loss_host);
    gpu_arena_release(&m->arena);
    cudnnDestroy(m->dnn);
    cublasDestroy(m->blas);
    cudaStreamDestroy(m->st);
    delete m;
    free(b);
}

/* ---- creation ---- */

static void upload_data(gpu_model *m)
{
    const rn_arch *a = m->a;
    size_t img = (size_t)m->cfg.batch * a->image * a->image * 3;
    std::vector<float> x(img);
    std::vector<int> labels(m->cfg.batch);
    std::vector<uint16_t> h(m->bf16 ? img : 0);
    for (int i = 0; i < m->nbatches; i++) {
        rn_data_fill(&m->cfg, i, x.data(), labels.data());
        if (m->bf16) {
            for (size_t j = 0; j < img; j++) h[j] = wl_float_to_bf16_bits(x[j]);
            CUDA_CHECK(cudaMemcpy(m->xb[i], h.data(), img * 2, cudaMemcpyHostToDevice));
        } else {
            CUDA_CHECK(cudaMemcpy(m->xb[i], x.data(), img * 4, cudaMemcpyHostToDevice));
        }
        CUDA_CHECK(cudaMemcpy(m->lb[i], labels.data(), m->cfg.batch * sizeof(int), cudaMemcpyHostToDevice));
    }
}

rn_backend *rn_backend_gpu(const rn_config *c, const float *params)
{
    wl_gpu_prog = c->prog;
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        fprintf(stderr, "%s: no CUDA GPU is usable here (%s); run the CPU reference with --device cpu\n", c->prog,
                e != cudaSuccess ? cudaGetErrorString(e) : "no devices");
        return NULL;
    }
    if (c->gpu >= count) {
        fprintf(stderr, "%s: --gpu %d: this machine has %d CUDA device%s (0 to %d)\n", c->prog, c->gpu, count,
                count == 1 ? "" : "s", count - 1);
        return NULL;
    }
    CUDA_CHECK(cudaSetDevice(c->gpu));
    gpu_model *m = new gpu_model();
    m->cfg = *c;
    m->a = &m->cfg.arch;
    const rn_arch *a = m->a;
    m->bf16 = c->precision == WL_BF16;
    m->es = m->bf16 ? 2 : 4;
    m->dt = m->bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, c->gpu));
    snprintf(m->name, sizeof m->name, "%s", prop.name);
    CUDA_CHECK(cudaStreamCreateWithFlags(&m->st, cudaStreamNonBlocking));
    CUDNN_CHECK(cudnnCreate(&m->dnn));
    CUDNN_CHECK(cudnnSetStream(m->dnn, m->st));
    CUBLAS_CHECK(cublasCreate(&m->blas));
    CUBLAS_CHECK(cublasSetStream(m->blas, m->st));
    if (c->precision == WL_FP32) CUBLAS_CHECK(cublasSetMathMode(m->blas, CUBLAS_PEDANTIC_MATH));
    CUDNN_CHECK(cudnnCreateActivationDescriptor(&m->relu));
    CUDNN_CHECK(cudnnSetActivationDescriptor(m->relu, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0));
    make_descriptors(m);
    allocate(m); /* measuring */
    gpu_arena_reserve(&m->arena);
    allocate(m); /* assigning */
    /* cuDNN measures its algorithms on the real buffers, before they hold
     * anything. */
    choose_algorithms(m);
    /* Poison everything (NaN in both types): whatever a step fails to write
     * shows up in the check. Then the state a step starts from. */
    CUDA_CHECK(cudaMemset(m->arena.base, 0xff, m->arena.size));
    CUDA_CHECK(cudaMemcpy(m->P, params, a->n_flat * 4, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(m->M, 0, a->n_flat * 4));
    CUDA_CHECK(cudaMemset(m->run_mean, 0, a->n_stats * 4));
    std::vector<float> ones(a->n_stats, 1.0f);
    CUDA_CHECK(cudaMemcpy(m->run_var, ones.data(), a->n_stats * 4, cudaMemcpyHostToDevice));
    if (m->bf16) to_bf16(m->P, m->W, a->n_matrix, m->st);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaStreamSynchronize(m->st));
    upload_data(m);
    if (m->nbatches > 1) {
        size_t img = (size_t)c->batch * a->image * a->image * 3 * m->es;
        CUDA_CHECK(cudaMemcpy(m->xin, m->xb[0], img, cudaMemcpyDeviceToDevice));
        CUDA_CHECK(cudaMemcpy(m->lin, m->lb[0], c->batch * sizeof(int), cudaMemcpyDeviceToDevice));
    }
    CUDA_CHECK(cudaMallocHost((void **)&m->loss_host, 4));
    m->graph_state = c->use_graph ? 0 : -1;
    m->peak = m->arena.size + m->ws_size;

    rn_backend *b = (rn_backend *)calloc(1, sizeof *b);
    b->name = m->name;
    b->impl = m;
    b->step = gpu_step;
    b->read_logits = gpu_read_logits;
    b->read_grads = gpu_read_grads;
    b->read_params = gpu_read_params;
    b->read_running = gpu_read_running;
    b->report = gpu_report;
    b->destroy = gpu_destroy;
    b->peak_bytes = m->peak;
    printf("%s: %s, device memory %.2f GiB (tensors %.2f + cuDNN workspace %.2f)\n", c->prog, m->name,
           (double)m->peak / (1 << 30), (double)m->arena.size / (1 << 30), (double)m->ws_size / (1 << 30));
    return b;
}
