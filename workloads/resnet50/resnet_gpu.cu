/* The GPU ResNet-50: cuDNN for convolutions (algorithms chosen by measuring
 * once at start, like cudnn.benchmark) and max pooling; batch norm with its
 * ReLU and the residual add fused in, by our kernels (bn_gpu.h) or cuDNN's
 * NHWC persistent ones; cuBLAS for the classifier; our kernels for the rest. The whole step,
 * optimiser included, is captured once in a CUDA graph and replayed.
 *
 * Memory: the activations the backward pass needs (each conv output,
 * which batch norm normalises, and each batch norm output, the next
 * layer's input) and every gradient tensor are placed by a plan made from
 * their lifetimes in one recorded step (mem_plan.h): gradients reuse the
 * bytes of activations the backward pass has finished with. */
#include <cuda_bf16.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vector>

#include "bn_gpu.h"
#include "gpu_arena.h"
#include "gpu_check.h"
#include "mem_plan.h"
#include "resnet_backend.h"
#include "resnet_gpu_kernels.h"
#include "wl_bf16.h"

#define BN_EPS 1e-5
#define BN_MOMENTUM 0.1

/* The tensors the memory plan places, by id: per layer its conv output
 * (C), batch norm output (B) and batch norm reserve (R); the max pool's
 * output; the stem's tensors recomputed for the backward pass; and the
 * gradients: at each block boundary (GX(k) at block k's input, GX(blocks)
 * at the last block's output), inside each block, and in the stem. */
enum { G_A3, G_C3, G_AD, G_A2, G_G2, G_A1, G_PER_BLOCK }; /* gradients at: conv3 output, conv3 input, projection
                                                              output, conv2 output, conv2 input, conv1 output */
#define T_C(i) (i)
#define T_B(i) (RN_MAX_CONV + (i))
#define T_R(i) (2 * RN_MAX_CONV + (i))
#define T_POOL (3 * RN_MAX_CONV)
#define T_C0_AGAIN (T_POOL + 1)
#define T_B0_AGAIN (T_POOL + 2)
#define T_DSTEM_Y (T_POOL + 3) /* gradient at the stem's batch norm output */
#define T_DSTEM_C (T_POOL + 4) /* and at its conv output */
#define T_GX(k) (T_POOL + 5 + (k))
#define T_GB(k, j) (T_GX(RN_BLOCKS) + 1 + (k) * G_PER_BLOCK + (j))
#define T_PLANNED T_GB(RN_BLOCKS, 0)
#define T_XIN T_PLANNED /* the input batch: fixed, outside the plan */
#define T_ALL (T_XIN + 1)

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
    int bf16, sms;
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
    float *smean[RN_MAX_CONV], *sinv[RN_MAX_CONV];
    size_t reserve_size[RN_MAX_CONV];
    void *feat, *gfeat, *dlogits;
    /* the planned tensors */
    int planning; /* recording a step's uses, not running it */
    mem_plan plan;
    size_t plan_bytes, plan_peak_live, plan_unshared;
    char *planned; /* the plan's region of the arena */
    size_t scratch;   /* bytes of each of three scratch slices of it, for measuring algorithms */
    void *tp[T_ALL];
    float *logits, *dlogits_f, *loss_dev, *loss_host;
    cudnnTensorDescriptor_t in_desc[RN_MAX_CONV], out_desc[RN_MAX_CONV], bn_desc[RN_MAX_CONV], pool_desc, x_desc;
    cudnnFilterDescriptor_t w_desc[RN_MAX_CONV];
    cudnnConvolutionDescriptor_t conv_fwd[RN_MAX_CONV], conv_data[RN_MAX_CONV], conv_filter[RN_MAX_CONV];
    conv_algos algo[RN_MAX_CONV];
    cudnnPoolingDescriptor_t maxpool;
    cudnnActivationDescriptor_t relu;
    int warm;                 /* a first, eager, step has run */
    cudaGraphExec_t graph;    /* the step, captured */
    /* profiling: the step captured with an event before every call, replayed;
     * the times between events summed per kind of call and per layer */
    cudaGraphExec_t prof_graph;
    int profiling, layer;
    std::vector<cudaEvent_t> ev;
    std::vector<int> ev_kind, ev_layer;
    double prof_ms[P_N], prof_layer_ms[P_N][RN_MAX_CONV];
    int prof_steps;
    size_t peak;
};

static void prof_mark(gpu_model *m, int kind)
{
    if (!m->profiling) return;
    cudaEvent_t e;
    CUDA_CHECK(cudaEventCreate(&e));
    /* inside a capture only an external record becomes a timed graph node */
    CUDA_CHECK(cudaEventRecordWithFlags(e, m->st, cudaEventRecordExternal));
    m->ev.push_back(e);
    m->ev_kind.push_back(kind);
    m->ev_layer.push_back(m->layer);
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

/* cuDNN's NHWC persistent batch norm (its other NHWC bf16 mode is some
 * twenty times slower); its reductions are less precise than a plain fp32
 * sum (see resnet_check.c). */
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

static bn_gpu_shape bn_shape(const gpu_model *m, int i)
{
    const rn_conv *c = &m->a->conv[i];
    bn_gpu_shape s = {m->bf16, (size_t)m->cfg.batch * c->hout * c->wout, c->cout, m->sms, (float *)m->ws, m->st};
    return s;
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
        m->reserve_size[i] = 0;
        if (m->cfg.bn_cudnn)
            CUDNN_CHECK(cudnnGetBatchNormalizationTrainingExReserveSpaceSize(
                m->dnn, bn_mode(m), bn_ops(m, i), m->relu, m->out_desc[i], &m->reserve_size[i]));
    }
    tensor_nhwc(&m->pool_desc, m->dt, n, 64, a->pool_h, a->pool_w);
    CUDNN_CHECK(cudnnCreatePoolingDescriptor(&m->maxpool));
    CUDNN_CHECK(cudnnSetPooling2dDescriptor(m->maxpool, CUDNN_POOLING_MAX_DETERMINISTIC, CUDNN_NOT_PROPAGATE_NAN, 3, 3, 1, 1, 2, 2));
}

/* Bytes of each planned tensor. */
static void plan_sizes(const gpu_model *m, size_t *sz)
{
    const rn_arch *a = m->a;
    size_t es = m->es, pool = (size_t)m->cfg.batch * a->pool_h * a->pool_w * 64 * es;
    memset(sz, 0, T_PLANNED * sizeof *sz);
    for (int i = 0; i < a->nconv; i++) {
        sz[T_C(i)] = sz[T_B(i)] = conv_out_elems(m, i) * es;
        sz[T_R(i)] = m->reserve_size[i];
    }
    sz[T_POOL] = pool;
    sz[T_C0_AGAIN] = sz[T_B0_AGAIN] = sz[T_DSTEM_Y] = sz[T_DSTEM_C] = conv_out_elems(m, 0) * es;
    for (int k = 0; k <= RN_BLOCKS; k++) sz[T_GX(k)] = k ? conv_out_elems(m, a->block[k - 1].conv3) * es : pool;
    for (int k = 0; k < RN_BLOCKS; k++) {
        const rn_block *bl = &a->block[k];
        sz[T_GB(k, G_A3)] = conv_out_elems(m, bl->conv3) * es;
        sz[T_GB(k, G_C3)] = sz[T_GB(k, G_A2)] = conv_out_elems(m, bl->conv2) * es;
        sz[T_GB(k, G_AD)] = bl->down >= 0 ? conv_out_elems(m, bl->down) * es : 0;
        sz[T_GB(k, G_G2)] = sz[T_GB(k, G_A1)] = conv_out_elems(m, bl->conv1) * es;
    }
}

static void step_body(gpu_model *m, int upd);

/* Records one training step's uses of the planned tensors, without
 * running it, and places them. */
static void plan_memory(gpu_model *m)
{
    size_t sz[T_PLANNED];
    plan_sizes(m, sz);
    if (mem_plan_init(&m->plan, T_PLANNED, sz, 256) != 0) {
        fprintf(stderr, "%s: out of host memory for the memory plan\n", m->cfg.prog);
        exit(1);
    }
    m->planning = 1;
    step_body(m, 1);
    m->planning = 0;
    m->plan_bytes = mem_plan_place(&m->plan);
    m->plan_peak_live = mem_plan_peak_live(&m->plan);
    m->plan_unshared = 0;
    for (int i = 0; i < T_PLANNED; i++)
        if (m->plan.t[i].first <= m->plan.t[i].last) m->plan_unshared += sz[i];
    int x, y;
    if (mem_plan_conflicts(&m->plan, &x, &y)) { /* a bug in mem_plan.c, never in the model */
        fprintf(stderr, "%s: internal error: the memory plan overlaps tensors %d and %d\n", m->cfg.prog, x, y);
        exit(1);
    }
    /* Measuring algorithms needs three buffers as large as the largest
     * activation, before any tensor holds anything: slices of the region. */
    size_t biggest = 0;
    for (int i = 0; i < T_PLANNED; i++) biggest = sz[i] > biggest ? sz[i] : biggest;
    m->scratch = (biggest + 255) / 256 * 256;
    if (m->plan_bytes < 3 * m->scratch) m->plan_bytes = 3 * m->scratch;
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
    for (int i = 0; i < a->nconv; i++) {
        m->smean[i] = (float *)gpu_arena_alloc(ar, a->conv[i].cout * 4);
        m->sinv[i] = (float *)gpu_arena_alloc(ar, a->conv[i].cout * 4);
    }
    m->feat = gpu_arena_alloc(ar, n * a->feat_c * es);
    m->gfeat = gpu_arena_alloc(ar, n * a->feat_c * es);
    m->logits = (float *)gpu_arena_alloc(ar, n * a->classes * 4);
    m->dlogits_f = (float *)gpu_arena_alloc(ar, n * a->classes * 4);
    m->dlogits = gpu_arena_alloc(ar, n * a->classes * es);
    m->loss_dev = (float *)gpu_arena_alloc(ar, 4);
    m->planned = (char *)gpu_arena_alloc(ar, m->plan_bytes);
    if (!m->planned) return;
    for (int i = 0; i < T_PLANNED; i++) {
        const mem_plan_tensor *t = &m->plan.t[i];
        m->tp[i] = t->bytes && t->first <= t->last ? m->planned + t->offset : NULL;
    }
    m->tp[T_XIN] = m->xin;
}

/* One line naming how many layers use each cuDNN algorithm, per direction:
 * choices made by measurement can differ between runs, and that is the
 * first thing to compare when two runs differ in speed. */
static void print_algorithms(const gpu_model *m)
{
    enum { NALGO = 8 };
    int n[3][NALGO] = {{0}};
    for (int i = 0; i < m->a->nconv; i++) {
        const conv_algos *al = &m->algo[i];
        if ((int)al->fwd < NALGO) n[0][al->fwd]++;
        if (i > 0 && (int)al->bwd_data < NALGO) n[1][al->bwd_data]++;
        if ((int)al->bwd_filter < NALGO) n[2][al->bwd_filter]++;
    }
    static const char *dir[3] = {"forward", "backward data", "backward filter"};
    printf("%s: convolution algorithms (%s), cuDNN algorithm:layers;", m->cfg.prog,
           m->cfg.algo_heuristic ? "heuristic" : "measured");
    for (int d = 0; d < 3; d++) {
        printf(" %s", dir[d]);
        for (int k = 0; k < NALGO; k++)
            if (n[d][k]) printf(" %d:%d", k, n[d][k]);
        printf(d < 2 ? ";" : "\n");
    }
}

/* The fastest algorithm whose workspace fits, of those cuDNN measures (or,
 * with --algorithms heuristic, the first cuDNN's heuristics rank, measuring
 * nothing); layers of the same shape share one choice. */
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
            void *x = i == 0 ? m->xin : m->planned, *dy = m->planned + m->scratch, *dx = m->planned + 2 * m->scratch;
            if (m->cfg.algo_heuristic)
                CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(m->dnn, m->in_desc[i], m->w_desc[i], m->conv_fwd[i],
                                                                   m->out_desc[i], want, &got, pf));
            else
                CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(m->dnn, m->in_desc[i], x, m->w_desc[i],
                                                                   (char *)m->W + c->w_off * m->es, m->conv_fwd[i],
                                                                   m->out_desc[i], dy, want, &got, pf, tmp, limit));
            for (k = 0; k < got && (pf[k].status != CUDNN_STATUS_SUCCESS || pf[k].memory > limit); k++) {}
            if (k == got) goto none;
            al->fwd = pf[k].algo;
            al->fwd_math = pf[k].mathType;
            al->ws = pf[k].memory;
            cudnnConvolutionBwdDataAlgoPerf_t pd[want];
            if (i > 0) {
                if (m->cfg.algo_heuristic)
                    CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(m->dnn, m->w_desc[i], m->out_desc[i],
                                                                            m->conv_data[i], m->in_desc[i], want, &got, pd));
                else
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
            if (m->cfg.algo_heuristic)
                CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(m->dnn, m->in_desc[i], m->out_desc[i],
                                                                          m->conv_filter[i], m->w_desc[i], want, &got, pw));
            else
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
    for (int i = 0; i < a->nconv && !m->cfg.bn_cudnn; i++) {
        bn_gpu_shape s = bn_shape(m, i);
        size_t w = bn_gpu_workspace(m->bf16, s.rows, s.channels, m->sms);
        m->ws_size = w > m->ws_size ? w : m->ws_size;
    }
    for (int i = 0; i < a->nconv && m->cfg.bn_cudnn; i++) {
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

/* The step's code runs twice before the first real step: once recording
 * which tensors each operation touches (no GPU work), for the memory plan,
 * then for real. begin() starts an operation and says whether to run it;
 * T() gives a tensor for it (NULL for -1). */
static int begin(gpu_model *m, int kind)
{
    if (kind != P_CONV_FWD && kind != P_CONV_DGRAD && kind != P_CONV_WGRAD && kind != P_BN_FWD && kind != P_BN_BWD)
        m->layer = -1;
    if (m->planning) {
        mem_plan_next_op(&m->plan);
        return 0;
    }
    prof_mark(m, kind);
    return 1;
}

static void *T(gpu_model *m, int id)
{
    if (id < 0) return NULL;
    if (m->planning && id < T_PLANNED) mem_plan_touch(&m->plan, id);
    return m->tp[id];
}

/* Convolution i from tensor in into c, then its batch norm into y; the
 * residual z is added before the ReLU where the layer has one. factor is
 * the running statistics' update (0 when recomputing). */
static void conv_bn_forward(gpu_model *m, int i, int in, int z, int c, int y, double factor)
{
    const rn_bn *bn = &m->a->bn[i];
    m->layer = i;
    int run = begin(m, P_CONV_FWD);
    void *xp = T(m, in), *cp = T(m, c);
    if (run)
        CUDNN_CHECK(cudnnConvolutionForward(m->dnn, &one, m->in_desc[i], xp, m->w_desc[i], wm(m, i), m->conv_fwd[i],
                                            m->algo[i].fwd, m->ws, m->ws_size, &zero, m->out_desc[i], cp));
    run = begin(m, P_BN_FWD);
    cp = T(m, c);
    void *zp = T(m, z), *yp = T(m, y), *rs = T(m, T_R(i));
    if (!run) return;
    cudnnBatchNormOps_t ops = bn_ops(m, i);
    int add = ops == CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION;
    if (!m->cfg.bn_cudnn) {
        bn_gpu_shape s = bn_shape(m, i);
        bn_gpu_forward(&s, cp, add ? zp : NULL, yp, ops != CUDNN_BATCHNORM_OPS_BN, m->P + bn->gamma_off,
                       m->P + bn->beta_off, (float)factor, (float)BN_EPS, m->run_mean + bn->stat_off,
                       m->run_var + bn->stat_off, m->smean[i], m->sinv[i]);
        return;
    }
    CUDNN_CHECK(cudnnBatchNormalizationForwardTrainingEx(
        m->dnn, bn_mode(m), ops, &one, &zero, m->out_desc[i], cp, add ? m->out_desc[i] : NULL, add ? zp : NULL,
        m->out_desc[i], yp, m->bn_desc[i], m->P + bn->gamma_off, m->P + bn->beta_off, factor,
        m->run_mean + bn->stat_off, m->run_var + bn->stat_off, BN_EPS, m->smean[i], m->sinv[i],
        ops == CUDNN_BATCHNORM_OPS_BN ? NULL : m->relu, m->ws, m->ws_size, rs, m->reserve_size[i]));
}

/* The backward of conv_bn_forward. dy: the gradient at the layer's output
 * y (before its ReLU is undone); writes the conv output's gradient into gc,
 * the residual's into dz where the layer adds one, dW, and the layer
 * input's gradient into din (accumulating when beta is 1; none for the
 * stem). */
static void conv_bn_backward(gpu_model *m, int i, int in, int c, int y, int dy, int gc, int dz, int din, float beta)
{
    const rn_bn *bn = &m->a->bn[i];
    cudnnBatchNormOps_t ops = bn_ops(m, i);
    int add = ops == CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION, act = ops != CUDNN_BATCHNORM_OPS_BN;
    m->layer = i;
    int run = begin(m, P_BN_BWD);
    void *cp = T(m, c), *yp = T(m, y), *dyp = T(m, dy), *gcp = T(m, gc), *dzp = T(m, dz), *rs = T(m, T_R(i));
    if (run && !m->cfg.bn_cudnn) {
        bn_gpu_shape s = bn_shape(m, i);
        bn_gpu_backward(&s, cp, yp, dyp, gcp, add ? dzp : NULL, act, m->P + bn->gamma_off, m->smean[i], m->sinv[i],
                        gv(m, bn->gamma_off), gv(m, bn->beta_off));
    } else if (run) {
        /* without an activation cuDNN does not read y: give it x */
        CUDNN_CHECK(cudnnBatchNormalizationBackwardEx(
            m->dnn, bn_mode(m), ops, &one, &zero, &one, &zero, m->out_desc[i], cp, m->out_desc[i], act ? yp : cp,
            m->out_desc[i], dyp, add ? m->out_desc[i] : NULL, add ? dzp : NULL, m->out_desc[i], gcp, m->bn_desc[i],
            m->P + bn->gamma_off, m->P + bn->beta_off, gv(m, bn->gamma_off), gv(m, bn->beta_off), BN_EPS, m->smean[i],
            m->sinv[i], act ? m->relu : NULL, m->ws, m->ws_size, rs, m->reserve_size[i]));
    }
    run = begin(m, P_CONV_WGRAD);
    void *xp = T(m, in);
    gcp = T(m, gc);
    if (run)
        CUDNN_CHECK(cudnnConvolutionBackwardFilter(m->dnn, &one, m->in_desc[i], xp, m->out_desc[i], gcp, m->conv_filter[i],
                                                   m->algo[i].bwd_filter, m->ws, m->ws_size, &zero, m->w_desc[i], gm(m, i)));
    if (din < 0) return;
    run = begin(m, P_CONV_DGRAD);
    gcp = T(m, gc);
    void *dinp = T(m, din);
    if (run)
        CUDNN_CHECK(cudnnConvolutionBackwardData(m->dnn, &one, m->w_desc[i], wm(m, i), m->out_desc[i], gcp, m->conv_data[i],
                                                 m->algo[i].bwd_data, m->ws, m->ws_size, &beta, m->in_desc[i], dinp));
}

static void forward(gpu_model *m)
{
    const rn_arch *a = m->a;
    int n = m->cfg.batch;
    conv_bn_forward(m, 0, T_XIN, -1, T_C(0), T_B(0), BN_MOMENTUM);
    int run = begin(m, P_POOL);
    void *x = T(m, T_B(0)), *y = T(m, T_POOL);
    if (run) CUDNN_CHECK(cudnnPoolingForward(m->dnn, m->maxpool, &one, m->out_desc[0], x, &zero, m->pool_desc, y));
    int cur = T_POOL;
    for (int k = 0; k < RN_BLOCKS; k++) {
        const rn_block *bl = &a->block[k];
        conv_bn_forward(m, bl->conv1, cur, -1, T_C(bl->conv1), T_B(bl->conv1), BN_MOMENTUM);
        conv_bn_forward(m, bl->conv2, T_B(bl->conv1), -1, T_C(bl->conv2), T_B(bl->conv2), BN_MOMENTUM);
        int z = cur;
        if (bl->down >= 0) {
            conv_bn_forward(m, bl->down, cur, -1, T_C(bl->down), T_B(bl->down), BN_MOMENTUM);
            z = T_B(bl->down);
        }
        /* relu(bn(conv) + z) */
        conv_bn_forward(m, bl->conv3, T_B(bl->conv2), z, T_C(bl->conv3), T_B(bl->conv3), BN_MOMENTUM);
        cur = T_B(bl->conv3);
    }
    run = begin(m, P_POOL);
    x = T(m, cur);
    if (run) avgpool_forward(m->bf16, x, m->feat, n, a->feat_h * a->feat_w, a->feat_c, m->st);
    if (!begin(m, P_HEAD)) return;
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
    if (begin(m, P_HEAD)) {
        cudaDataType_t t = m->bf16 ? CUDA_R_16BF : CUDA_R_32F;
        cublasComputeType_t ct = m->cfg.precision == WL_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
        bias_grad(m->dlogits_f, gv(m, a->fc_b_off), n, a->classes, m->st);
        /* dW (classes x 2048) = dlogits^T feat; dfeat (n x 2048) = dlogits W */
        CUBLAS_CHECK(cublasGemmEx(m->blas, CUBLAS_OP_N, CUBLAS_OP_T, a->feat_c, a->classes, n, &one, m->feat, t, a->feat_c,
                                  m->dlogits, t, a->classes, &zero, (char *)m->Gm + a->fc_w_off * m->es, t, a->feat_c,
                                  ct, CUBLAS_GEMM_DEFAULT));
        CUBLAS_CHECK(cublasGemmEx(m->blas, CUBLAS_OP_N, CUBLAS_OP_N, a->feat_c, n, a->classes, &one,
                                  (char *)m->W + a->fc_w_off * m->es, t, a->feat_c, m->dlogits, t, a->classes, &zero,
                                  m->gfeat, t, a->feat_c, ct, CUBLAS_GEMM_DEFAULT));
    }
    int run = begin(m, P_POOL);
    void *g = T(m, T_GX(RN_BLOCKS));
    if (run) {
        avgpool_backward(m->bf16, m->gfeat, g, n, a->feat_h * a->feat_w, a->feat_c, m->st);
        CUDA_CHECK(cudaGetLastError());
    }
    for (int k = RN_BLOCKS - 1; k >= 0; k--) {
        const rn_block *bl = &a->block[k];
        int in = k ? T_B(a->block[k - 1].conv3) : T_POOL;
        /* bn3: the ReLU of the sum; the gradient reaches conv3 and the
         * shortcut, whose share starts the block input's gradient GX(k) */
        conv_bn_backward(m, bl->conv3, T_B(bl->conv2), T_C(bl->conv3), T_B(bl->conv3), T_GX(k + 1), T_GB(k, G_A3),
                         T_GX(k), T_GB(k, G_C3), 0.0f);
        if (bl->down >= 0) /* the projection replaces it with its input's gradient */
            conv_bn_backward(m, bl->down, in, T_C(bl->down), -1, T_GX(k), T_GB(k, G_AD), -1, T_GX(k), 0.0f);
        conv_bn_backward(m, bl->conv2, T_B(bl->conv1), T_C(bl->conv2), T_B(bl->conv2), T_GB(k, G_C3), T_GB(k, G_A2), -1,
                         T_GB(k, G_G2), 0.0f);
        /* the main branch adds its share */
        conv_bn_backward(m, bl->conv1, in, T_C(bl->conv1), T_B(bl->conv1), T_GB(k, G_G2), T_GB(k, G_A1), -1, T_GX(k), 1.0f);
    }
    /* The stem's conv and batch norm outputs (two 112x112x64 tensors) are
     * recomputed here rather than kept through the whole step: they would
     * otherwise be live at the memory peak, the end of the forward pass. */
    int c0 = T_C(0), b0 = T_B(0);
    if (!m->cfg.keep_stem) {
        c0 = T_C0_AGAIN;
        b0 = T_B0_AGAIN;
        conv_bn_forward(m, 0, T_XIN, -1, c0, b0, 0.0);
    }
    run = begin(m, P_POOL);
    void *py = T(m, T_POOL), *pdy = T(m, T_GX(0)), *px = T(m, b0), *pdx = T(m, T_DSTEM_Y);
    if (run)
        CUDNN_CHECK(cudnnPoolingBackward(m->dnn, m->maxpool, &one, m->pool_desc, py, m->pool_desc, pdy, m->out_desc[0], px,
                                         &zero, m->out_desc[0], pdx));
    conv_bn_backward(m, 0, T_XIN, c0, b0, T_DSTEM_Y, T_DSTEM_C, -1, -1, 0.0f);
}

static void update(gpu_model *m)
{
    const rn_arch *a = m->a;
    if (!begin(m, P_SGD)) return;
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
    if (begin(m, -1)) CUDA_CHECK(cudaMemcpyAsync(m->loss_host, m->loss_dev, 4, cudaMemcpyDeviceToHost, m->st));
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
        if (m->ev_kind[i] < 0) continue;
        m->prof_ms[m->ev_kind[i]] += ms;
        if (m->ev_layer[i] >= 0) m->prof_layer_ms[m->ev_kind[i]][m->ev_layer[i]] += ms;
    }
    m->prof_steps++;
}

static cudaGraphExec_t capture(gpu_model *m, int profiling)
{
    cudaGraph_t g;
    cudaGraphExec_t e;
    m->profiling = profiling;
    CUDA_CHECK(cudaStreamBeginCapture(m->st, cudaStreamCaptureModeThreadLocal));
    step_body(m, 1);
    CUDA_CHECK(cudaStreamEndCapture(m->st, &g));
    CUDA_CHECK(cudaGraphInstantiate(&e, g, 0));
    CUDA_CHECK(cudaGraphDestroy(g));
    m->profiling = 0;
    return e;
}

static int gpu_step(rn_backend *b, int upd, float *loss)
{
    gpu_model *m = (gpu_model *)b->impl;
    next_batch(m);
    /* The first training step runs eagerly (cuDNN and cuBLAS finish their
     * lazy set-up there); then the step is captured once and replayed. */
    int profiled = 0;
    if (upd && m->warm && m->cfg.profile) {
        if (!m->prof_graph) m->prof_graph = capture(m, 1);
        CUDA_CHECK(cudaGraphLaunch(m->prof_graph, m->st));
        profiled = 1;
    } else if (upd && m->warm && m->cfg.use_graph) {
        if (!m->graph) m->graph = capture(m, 0);
        CUDA_CHECK(cudaGraphLaunch(m->graph, m->st));
    } else {
        step_body(m, upd);
        m->warm |= upd;
    }
    CUDA_CHECK(cudaStreamSynchronize(m->st));
    if (profiled) collect_profile(m);
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
    int n = m->prof_steps;
    printf("%s: GPU time per step by kind of call, over %d replays of the captured step:\n", m->cfg.prog, n);
    for (int i = 0; i < P_N; i++)
        printf("  %-22s %8.2f ms  %5.1f%%\n", prof_names[i], m->prof_ms[i] / n, 100 * m->prof_ms[i] / total);
    printf("  %-22s %8.2f ms\n", "total", total / n);
    /* the ten most expensive calls, by layer */
    printf("%s: the costliest calls (layer numbers as in the parameter names' order):\n", m->cfg.prog);
    int used[P_N][RN_MAX_CONV] = {{0}};
    for (int r = 0; r < 10; r++) {
        int bk = -1, bl = -1;
        for (int k = 0; k < P_N; k++)
            for (int l = 0; l < m->a->nconv; l++)
                if (!used[k][l] && (bk < 0 || m->prof_layer_ms[k][l] > m->prof_layer_ms[bk][bl])) bk = k, bl = l;
        if (bk < 0 || m->prof_layer_ms[bk][bl] <= 0) break;
        used[bk][bl] = 1;
        const rn_conv *c = &m->a->conv[bl];
        printf("  %-22s layer %2d (%dx%d, %4d -> %4d, stride %d, %3dx%-3d out) %6.3f ms\n", prof_names[bk], bl, c->k,
               c->k, c->cin, c->cout, c->stride, c->hout, c->wout, m->prof_layer_ms[bk][bl] / n);
    }
    m->cfg.profile = 0; /* the measured run that follows uses the plain graph */
    if (m->prof_graph) cudaGraphExecDestroy(m->prof_graph);
    m->prof_graph = NULL;
    for (cudaEvent_t e : m->ev) cudaEventDestroy(e);
    m->ev.clear();
    m->ev_kind.clear();
    m->ev_layer.clear();
}

static void gpu_destroy(rn_backend *b)
{
    gpu_model *m = (gpu_model *)b->impl;
    if (m->graph) cudaGraphExecDestroy(m->graph);
    if (m->prof_graph) cudaGraphExecDestroy(m->prof_graph);
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
    mem_plan_free(&m->plan);
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
    m->sms = prop.multiProcessorCount;
    CUDA_CHECK(cudaStreamCreateWithFlags(&m->st, cudaStreamNonBlocking));
    CUDNN_CHECK(cudnnCreate(&m->dnn));
    CUDNN_CHECK(cudnnSetStream(m->dnn, m->st));
    CUBLAS_CHECK(cublasCreate(&m->blas));
    CUBLAS_CHECK(cublasSetStream(m->blas, m->st));
    if (c->precision == WL_FP32) CUBLAS_CHECK(cublasSetMathMode(m->blas, CUBLAS_PEDANTIC_MATH));
    CUDNN_CHECK(cudnnCreateActivationDescriptor(&m->relu));
    CUDNN_CHECK(cudnnSetActivationDescriptor(m->relu, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0));
    make_descriptors(m);
    plan_memory(m);
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
    const double gib = 1 << 30;
    printf("%s: %s, device memory %.2f GiB: activations and gradients %.2f (at most %.2f live at once; %.2f "
           "unshared), parameters and state %.2f, cuDNN workspace %.2f\n",
           c->prog, m->name, m->peak / gib, m->plan_bytes / gib, m->plan_peak_live / gib, m->plan_unshared / gib,
           (m->arena.size - m->plan_bytes) / gib, m->ws_size / gib);
    print_algorithms(m);
    return b;
}
