/* ResNet-50 inference on the GPU: batch norm folded into the convolutions
 * (resnet_infer.h), so each layer is a cuDNN convolution followed by one
 * pass of ours that adds the bias, the residual and applies the ReLU; cuDNN's
 * max pool, our average pool, cuBLAS for the classifier. bf16 activations in
 * NHWC, fp32 accumulation. Each batch size gets its own descriptors,
 * algorithms (measured once, as cudnn.benchmark does, or cuDNN's heuristics)
 * and CUDA graph of the whole forward pass, made the first time it runs.
 *
 * Activations need no plan: inference keeps nothing for a backward pass, so
 * four buffers of the largest activation take turns. */
#include <cuda_bf16.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu_check.h"
#include "infer_engine.h"
#include "resnet_arch.h"
#include "resnet_gpu_kernels.h"
#include "resnet_infer.h"

#define NBUF 4
#define WORKSPACE_BYTES (256u << 20)

typedef struct {
    int n;
    cudnnTensorDescriptor_t in[RN_MAX_CONV], out[RN_MAX_CONV], pool;
    cudnnConvolutionFwdAlgo_t algo[RN_MAX_CONV];
    /* per batch size: an algorithm must run with the math type it was
     * measured or proposed with */
    cudnnConvolutionDescriptor_t conv[RN_MAX_CONV];
    cudaGraphExec_t graph;
} batch_plan;

typedef struct {
    infer_opts o;
    rn_arch a;
    cudaStream_t st;
    cudnnHandle_t dnn;
    cublasHandle_t blas;
    cudnnFilterDescriptor_t w_desc[RN_MAX_CONV];
    cudnnPoolingDescriptor_t maxpool;
    __nv_bfloat16 *W, *buf[NBUF], *xin, *feat;
    float *bias, *fc_b, *logits;
    void *xstage; /* the batch as it came from the host: FP32, or UINT8 with o.in_u8 */
    float *host_out; /* pinned staging for run_host's answers */
    cudaEvent_t mark[4]; /* run_host's parts: before the input, after it, after the forward pass, after the output */
    void *ws;
    batch_plan **plans; /* [max_batch + 1], made on first use */
    /* host_alloc's pool: equal slots of one page-locked allocation, a free
     * stack of their indices */
    pthread_mutex_t pool_mu;
    char *pool;
    size_t slot_bytes;
    int *free_slots, nfree, nslots;
    infer_engine e;
} rn_gpu;

/* ---- kernels ---- */

/* y = act(y + bias[c] (+ z)) over NHWC bf16, 8 channels a thread (C % 8 == 0). */
__global__ void bias_add_relu_kernel(__nv_bfloat16 *y, const float *bias, const __nv_bfloat16 *z, size_t n8, int c8,
                                     int relu)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= n8) return;
    int c0 = (int)(i % c8) * 8;
    uint4 yv = ((const uint4 *)y)[i], zv = z ? ((const uint4 *)z)[i] : make_uint4(0, 0, 0, 0);
    __nv_bfloat162 *yp = (__nv_bfloat162 *)&yv;
    const __nv_bfloat162 *zp = (const __nv_bfloat162 *)&zv;
    for (int k = 0; k < 4; k++) {
        float2 a = __bfloat1622float2(yp[k]);
        float2 b = __bfloat1622float2(zp[k]);
        a.x += bias[c0 + 2 * k] + b.x;
        a.y += bias[c0 + 2 * k + 1] + b.y;
        if (relu) a.x = fmaxf(a.x, 0.f), a.y = fmaxf(a.y, 0.f);
        yp[k] = __float22bfloat162_rn(a);
    }
    ((uint4 *)y)[i] = yv;
}

/* n images fp32 NCHW (as clients send them) -> bf16 NHWC */
__global__ void nchw_to_nhwc_kernel(const float *x, __nv_bfloat16 *y, int n, int c, int hw)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x, total = (size_t)n * c * hw;
    if (i >= total) return;
    int ch = (int)(i % c);
    size_t p = (i / c) % hw, b = i / ((size_t)c * hw);
    y[i] = __float2bfloat16(x[(b * c + ch) * hw + p]);
}

/* n images of UINT8 pixels NCHW -> bf16 NHWC, as ToTensor() then
 * Normalize(ImageNet's mean and std) would give them */
__global__ void nchw_u8_to_nhwc_kernel(const unsigned char *x, __nv_bfloat16 *y, int n, int c, int hw)
{
    const float mean[3] = {0.485f, 0.456f, 0.406f}, inv_std[3] = {1 / 0.229f, 1 / 0.224f, 1 / 0.225f};
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x, total = (size_t)n * c * hw;
    if (i >= total) return;
    int ch = (int)(i % c);
    size_t p = (i / c) % hw, b = i / ((size_t)c * hw);
    float v = x[(b * c + ch) * hw + p] * (1.f / 255.f);
    y[i] = __float2bfloat16((v - mean[ch % 3]) * inv_std[ch % 3]);
}

__global__ void add_bias_kernel(float *y, const float *b, int n, int c)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n * c) y[i] += b[i % c];
}

__global__ void fill_normal_kernel(__nv_bfloat16 *x, size_t n, unsigned long long seed)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= n) return;
    /* a cheap hash to two uniforms, Box-Muller: synthetic pixels only */
    unsigned long long h = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
    h ^= h >> 31, h *= 0xBF58476D1CE4E5B9ull, h ^= h >> 29;
    float u1 = ((h >> 40) + 1.0f) / 16777217.0f, u2 = ((h >> 8) & 0xffffff) / 16777216.0f;
    x[i] = __float2bfloat16(sqrtf(-2.f * logf(u1)) * cospif(2.f * u2));
}

static unsigned blocks(size_t n, int t) { return (unsigned)((n + t - 1) / t); }

/* ---- set-up ---- */

static size_t max_act_elems(const rn_arch *a)
{
    size_t m = (size_t)a->pool_h * a->pool_w * 64;
    for (int i = 0; i < a->nconv; i++) {
        size_t e = (size_t)a->conv[i].hout * a->conv[i].wout * a->conv[i].cout;
        if (e > m) m = e;
    }
    return m;
}

static void *dalloc(rn_gpu *g, size_t bytes)
{
    void *p;
    CUDA_CHECK(cudaMalloc(&p, bytes));
    g->e.device_bytes += bytes;
    return p;
}

static void tensor(cudnnTensorDescriptor_t *d, int n, int c, int h, int w)
{
    CUDNN_CHECK(cudnnCreateTensorDescriptor(d));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(*d, CUDNN_TENSOR_NHWC, CUDNN_DATA_BFLOAT16, n, c, h, w));
}

static const float one = 1.0f, zero = 0.0f;

static void conv_layer(rn_gpu *g, batch_plan *p, int i, const void *x, void *y, const void *z, int relu)
{
    const rn_conv *c = &g->a.conv[i];
    CUDNN_CHECK(cudnnConvolutionForward(g->dnn, &one, p->in[i], x, g->w_desc[i], g->W + c->w_off, p->conv[i], p->algo[i],
                                        g->ws, WORKSPACE_BYTES, &zero, p->out[i], y));
    size_t n8 = (size_t)p->n * c->hout * c->wout * c->cout / 8;
    bias_add_relu_kernel<<<blocks(n8, 256), 256, 0, g->st>>>((__nv_bfloat16 *)y, g->bias + g->a.bn[i].stat_off,
                                                             (const __nv_bfloat16 *)z, n8, c->cout / 8, relu);
}

static void forward(rn_gpu *g, batch_plan *p)
{
    const rn_arch *a = &g->a;
    int n = p->n;
    conv_layer(g, p, 0, g->xin, g->buf[0], NULL, 1);
    CUDNN_CHECK(cudnnPoolingForward(g->dnn, g->maxpool, &one, p->out[0], g->buf[0], &zero, p->pool, g->buf[1]));
    int cur = 1;
    for (int k = 0; k < RN_BLOCKS; k++) {
        const rn_block *bl = &a->block[k];
        int f[3], nf = 0; /* the three buffers the block's input is not in */
        for (int b = 0; b < NBUF; b++)
            if (b != cur) f[nf++] = b;
        __nv_bfloat16 *x = g->buf[cur], *t1 = g->buf[f[0]], *t2 = g->buf[f[1]], *y = g->buf[f[2]];
        conv_layer(g, p, bl->conv1, x, t1, NULL, 1);
        conv_layer(g, p, bl->conv2, t1, t2, NULL, 1);
        const __nv_bfloat16 *z = x;
        if (bl->down >= 0) { /* t1 is free again: the projection goes there */
            conv_layer(g, p, bl->down, x, t1, NULL, 0);
            z = t1;
        }
        conv_layer(g, p, bl->conv3, t2, y, z, 1);
        cur = f[2];
    }
    avgpool_forward(1, g->buf[cur], g->feat, n, a->feat_h * a->feat_w, a->feat_c, g->st);
    /* logits (n x classes, fp32) = feat (n x 2048) W^T, column-major in cuBLAS's terms */
    CUBLAS_CHECK(cublasGemmEx(g->blas, CUBLAS_OP_T, CUBLAS_OP_N, a->classes, n, a->feat_c, &one, g->W + a->fc_w_off,
                              CUDA_R_16BF, a->feat_c, g->feat, CUDA_R_16BF, a->feat_c, &zero, g->logits, CUDA_R_32F,
                              a->classes, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    add_bias_kernel<<<blocks((size_t)n * a->classes, 256), 256, 0, g->st>>>(g->logits, g->fc_b, n, a->classes);
    CUDA_CHECK(cudaGetLastError());
}

static void choose_algorithms(rn_gpu *g, batch_plan *p)
{
    const rn_arch *a = &g->a;
    for (int i = 0; i < a->nconv; i++) {
        const rn_conv *c = &a->conv[i];
        int same = -1; /* a layer of the same shape was measured already */
        for (int j = 0; j < i && same < 0; j++) {
            const rn_conv *d = &a->conv[j];
            if (d->cin == c->cin && d->cout == c->cout && d->k == c->k && d->stride == c->stride && d->hin == c->hin)
                same = j;
        }
        if (same >= 0) {
            p->algo[i] = p->algo[same];
            cudnnMathType_t mt;
            CUDNN_CHECK(cudnnGetConvolutionMathType(p->conv[same], &mt));
            CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv[i], mt));
            continue;
        }
        cudnnConvolutionFwdAlgoPerf_t pf[8];
        int got = 0;
        if (g->o.algo_heuristic)
            CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(g->dnn, p->in[i], g->w_desc[i], p->conv[i], p->out[i], 8,
                                                               &got, pf));
        else
            CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(g->dnn, p->in[i], i ? (void *)g->buf[0] : (void *)g->xin,
                                                               g->w_desc[i], g->W + c->w_off, p->conv[i], p->out[i],
                                                               g->buf[1], 8, &got, pf, g->ws, WORKSPACE_BYTES));
        int k = 0;
        while (k < got && (pf[k].status != CUDNN_STATUS_SUCCESS || pf[k].memory > WORKSPACE_BYTES)) k++;
        if (k == got) {
            fprintf(stderr, "%s: cuDNN offers no forward algorithm for convolution %d at batch %d within %u MiB\n",
                    g->o.prog, i, p->n, WORKSPACE_BYTES >> 20);
            exit(1);
        }
        p->algo[i] = pf[k].algo;
        CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv[i], pf[k].mathType));
    }
}

static batch_plan *plan_for(rn_gpu *g, int n)
{
    if (g->plans[n]) return g->plans[n];
    const rn_arch *a = &g->a;
    batch_plan *p = (batch_plan *)calloc(1, sizeof *p);
    p->n = n;
    for (int i = 0; i < a->nconv; i++) {
        const rn_conv *c = &a->conv[i];
        tensor(&p->in[i], n, c->cin, c->hin, c->win);
        tensor(&p->out[i], n, c->cout, c->hout, c->wout);
        CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p->conv[i]));
        CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p->conv[i], c->pad, c->pad, c->stride, c->stride, 1, 1,
                                                    CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
        CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv[i], CUDNN_TENSOR_OP_MATH));
    }
    tensor(&p->pool, n, 64, a->pool_h, a->pool_w);
    choose_algorithms(g, p);
    if (g->o.use_graph) {
        cudaGraph_t graph;
        forward(g, p); /* once eagerly: cuDNN and cuBLAS set up outside the capture */
        CUDA_CHECK(cudaStreamSynchronize(g->st));
        CUDA_CHECK(cudaStreamBeginCapture(g->st, cudaStreamCaptureModeThreadLocal));
        forward(g, p);
        CUDA_CHECK(cudaStreamEndCapture(g->st, &graph));
        CUDA_CHECK(cudaGraphInstantiate(&p->graph, graph, 0));
        CUDA_CHECK(cudaGraphDestroy(graph));
    }
    g->plans[n] = p;
    return p;
}

static void run(rn_gpu *g, int n)
{
    batch_plan *p = plan_for(g, n);
    if (p->graph) CUDA_CHECK(cudaGraphLaunch(p->graph, g->st));
    else forward(g, p);
}

static int run_resident(infer_engine *e, int n)
{
    rn_gpu *g = (rn_gpu *)e->impl;
    run(g, n);
    CUDA_CHECK(cudaStreamSynchronize(g->st));
    return 0;
}

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Each part goes straight from the request's buffer to the GPU: the driver
 * stages pageable memory itself, and no one gathers the batch on the host. */
static int run_host(infer_engine *e, int nparts, const void *const *in, const int *items, float *out)
{
    rn_gpu *g = (rn_gpu *)e->impl;
    const rn_arch *a = &g->a;
    size_t item = (size_t)3 * a->image * a->image, esize = g->o.in_u8 ? 1 : sizeof(float), off = 0;
    int n = 0;
    CUDA_CHECK(cudaEventRecord(g->mark[0], g->st));
    for (int k = 0; k < nparts; k++) {
        CUDA_CHECK(cudaMemcpyAsync((char *)g->xstage + off * esize, in[k], (size_t)items[k] * item * esize,
                                   cudaMemcpyHostToDevice, g->st));
        off += (size_t)items[k] * item;
        n += items[k];
    }
    size_t in_elems = off, out_elems = (size_t)n * a->classes;
    if (g->o.in_u8)
        nchw_u8_to_nhwc_kernel<<<blocks(in_elems, 256), 256, 0, g->st>>>((const unsigned char *)g->xstage, g->xin, n, 3,
                                                                          a->image * a->image);
    else
        nchw_to_nhwc_kernel<<<blocks(in_elems, 256), 256, 0, g->st>>>((const float *)g->xstage, g->xin, n, 3,
                                                                       a->image * a->image);
    CUDA_CHECK(cudaEventRecord(g->mark[1], g->st));
    run(g, n);
    CUDA_CHECK(cudaEventRecord(g->mark[2], g->st));
    CUDA_CHECK(cudaMemcpyAsync(g->host_out, g->logits, out_elems * sizeof(float), cudaMemcpyDeviceToHost, g->st));
    CUDA_CHECK(cudaEventRecord(g->mark[3], g->st));
    CUDA_CHECK(cudaStreamSynchronize(g->st));
    int64_t copy0 = mono_ns();
    memcpy(out, g->host_out, out_elems * sizeof(float));
    float ms[3];
    for (int k = 0; k < 3; k++) CUDA_CHECK(cudaEventElapsedTime(&ms[k], g->mark[k], g->mark[k + 1]));
    e->input_ns = (int64_t)(ms[0] * 1e6), e->infer_ns = (int64_t)(ms[1] * 1e6);
    e->output_ns = (int64_t)(ms[2] * 1e6) + (mono_ns() - copy0);
    return 0;
}

static void *host_alloc(infer_engine *e, size_t bytes)
{
    rn_gpu *g = (rn_gpu *)e->impl;
    if (!g->pool || bytes > g->slot_bytes) return NULL;
    pthread_mutex_lock(&g->pool_mu);
    void *p = g->nfree ? g->pool + (size_t)g->free_slots[--g->nfree] * g->slot_bytes : NULL;
    pthread_mutex_unlock(&g->pool_mu);
    return p;
}

static void host_free(infer_engine *e, void *p)
{
    rn_gpu *g = (rn_gpu *)e->impl;
    pthread_mutex_lock(&g->pool_mu);
    g->free_slots[g->nfree++] = (int)(((char *)p - g->pool) / g->slot_bytes);
    pthread_mutex_unlock(&g->pool_mu);
}

static void close_engine(infer_engine *e)
{
    rn_gpu *g = (rn_gpu *)e->impl;
    if (g->pool) cudaFreeHost(g->pool);
    free(g->free_slots);
    pthread_mutex_destroy(&g->pool_mu);
    for (int n = 0; n <= g->o.max_batch; n++) {
        batch_plan *p = g->plans[n];
        if (!p) continue;
        if (p->graph) cudaGraphExecDestroy(p->graph);
        for (int i = 0; i < g->a.nconv; i++)
            cudnnDestroyTensorDescriptor(p->in[i]), cudnnDestroyTensorDescriptor(p->out[i]), cudnnDestroyConvolutionDescriptor(p->conv[i]);
        cudnnDestroyTensorDescriptor(p->pool);
        free(p);
    }
    free(g->plans);
    cudaFreeHost(g->host_out);
    for (int i = 0; i < g->a.nconv; i++) cudnnDestroyFilterDescriptor(g->w_desc[i]);
    cudnnDestroyPoolingDescriptor(g->maxpool);
    void *bufs[] = {g->W, g->xin, g->feat, g->bias, g->fc_b, g->logits, g->xstage, g->ws};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) cudaFree(bufs[i]);
    for (int b = 0; b < NBUF; b++) cudaFree(g->buf[b]);
    cublasDestroy(g->blas);
    cudnnDestroy(g->dnn);
    for (int k = 0; k < 4; k++) cudaEventDestroy(g->mark[k]);
    cudaStreamDestroy(g->st);
    free(g);
}

extern "C" infer_engine *infer_resnet50_gpu(const infer_opts *o)
{
    wl_gpu_prog = o->prog;
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
        fprintf(stderr, "%s: no CUDA device (cudaGetDeviceCount found none); check the driver with nvidia-smi\n", o->prog);
        return NULL;
    }
    CUDA_CHECK(cudaSetDevice(o->gpu));
    rn_gpu *g = (rn_gpu *)calloc(1, sizeof *g);
    g->o = *o;
    rn_arch *a = &g->a;
    if (rn_arch_build(a, o->image, o->classes)) {
        fprintf(stderr, "%s: --image %d: expected a multiple of 32, at least 32\n", o->prog, o->image);
        free(g);
        return NULL;
    }
    infer_resnet50_params hp;
    if (infer_resnet50_params_make(o, &hp)) {
        fprintf(stderr, "%s: out of host memory for the parameters\n", o->prog);
        free(g);
        return NULL;
    }
    float *w = (float *)malloc(a->n_matrix * sizeof(float)), *bias = (float *)malloc(a->n_stats * sizeof(float));
    rn_fold_bn(a, hp.params, hp.mean, hp.var, w, bias);
    __nv_bfloat16 *wb = (__nv_bfloat16 *)malloc(a->n_matrix * sizeof(__nv_bfloat16));
    for (size_t i = 0; i < a->n_matrix; i++) wb[i] = __float2bfloat16(w[i]);

    CUDA_CHECK(cudaStreamCreateWithFlags(&g->st, cudaStreamNonBlocking));
    for (int k = 0; k < 4; k++) CUDA_CHECK(cudaEventCreate(&g->mark[k]));
    CUDNN_CHECK(cudnnCreate(&g->dnn));
    CUDNN_CHECK(cudnnSetStream(g->dnn, g->st));
    CUBLAS_CHECK(cublasCreate(&g->blas));
    CUBLAS_CHECK(cublasSetStream(g->blas, g->st));
    int nb = o->max_batch;
    size_t act = max_act_elems(a) * nb, in_elems = (size_t)nb * 3 * a->image * a->image;
    g->W = (__nv_bfloat16 *)dalloc(g, a->n_matrix * sizeof(__nv_bfloat16));
    g->bias = (float *)dalloc(g, a->n_stats * sizeof(float));
    g->fc_b = (float *)dalloc(g, a->classes * sizeof(float));
    for (int b = 0; b < NBUF; b++) g->buf[b] = (__nv_bfloat16 *)dalloc(g, act * sizeof(__nv_bfloat16));
    g->xin = (__nv_bfloat16 *)dalloc(g, in_elems * sizeof(__nv_bfloat16));
    size_t in_esize = o->in_u8 ? 1 : sizeof(float);
    g->xstage = dalloc(g, in_elems * in_esize);
    g->feat = (__nv_bfloat16 *)dalloc(g, (size_t)nb * a->feat_c * sizeof(__nv_bfloat16));
    g->logits = (float *)dalloc(g, (size_t)nb * a->classes * sizeof(float));
    g->ws = dalloc(g, WORKSPACE_BYTES);
    CUDA_CHECK(cudaMallocHost((void **)&g->host_out, (size_t)nb * a->classes * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(g->W, wb, a->n_matrix * sizeof(__nv_bfloat16), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(g->bias, bias, a->n_stats * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(g->fc_b, hp.params + a->fc_b_off, a->classes * sizeof(float), cudaMemcpyHostToDevice));
    fill_normal_kernel<<<blocks(in_elems, 256), 256, 0, g->st>>>(g->xin, in_elems, o->seed);
    CUDA_CHECK(cudaStreamSynchronize(g->st));
    free(w), free(bias), free(wb);
    infer_resnet50_params_free(&hp);

    for (int i = 0; i < a->nconv; i++) {
        const rn_conv *c = &a->conv[i];
        CUDNN_CHECK(cudnnCreateFilterDescriptor(&g->w_desc[i]));
        CUDNN_CHECK(cudnnSetFilter4dDescriptor(g->w_desc[i], CUDNN_DATA_BFLOAT16, CUDNN_TENSOR_NHWC, c->cout, c->cin, c->k, c->k));
    }
    CUDNN_CHECK(cudnnCreatePoolingDescriptor(&g->maxpool));
    CUDNN_CHECK(cudnnSetPooling2dDescriptor(g->maxpool, CUDNN_POOLING_MAX_DETERMINISTIC, CUDNN_NOT_PROPAGATE_NAN, 3, 3, 1,
                                           1, 2, 2));
    g->plans = (batch_plan **)calloc((size_t)nb + 1, sizeof *g->plans);
    pthread_mutex_init(&g->pool_mu, NULL);
    if (o->pinned_slots > 0) {
        /* a one-image request: the tensor and a JSON header of up to 64 KiB */
        g->slot_bytes = in_elems / nb * in_esize + (64u << 10);
        g->nslots = o->pinned_slots;
        CUDA_CHECK(cudaMallocHost((void **)&g->pool, g->slot_bytes * g->nslots));
        g->free_slots = (int *)malloc(g->nslots * sizeof(int));
        for (int i = 0; i < g->nslots; i++) g->free_slots[i] = g->nslots - 1 - i;
        g->nfree = g->nslots;
    }

    infer_engine *e = &g->e;
    e->model = "resnet50", e->unit = "images", e->max_batch = nb;
    e->in_name = "input", e->out_name = "logits";
    e->in_rank = 3, e->in_dims[0] = 3, e->in_dims[1] = a->image, e->in_dims[2] = a->image;
    e->out_rank = 1, e->out_dims[0] = a->classes;
    e->flops_per_item = 2 * rn_forward_macs(a);
    e->run_resident = run_resident, e->run_host = run_host, e->close = close_engine;
    e->host_alloc = host_alloc, e->host_free = host_free;
    e->impl = g;
    return e;
}
