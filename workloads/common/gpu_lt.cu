#include "gpu_lt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_check.h"

#define LT_PLANS 64
#define LT_TUNE_CANDIDATES 8 /* the heuristic's first few, timed when autotuning */
#define LT_TUNE_REPS 5
/* Shapes timed in a handle's life at most: a shape that changes every step
 * (the masked rows of a training head) would otherwise be timed at every
 * step; the steady shapes all come in the first step. */
#define LT_TUNE_BUDGET 32

typedef struct {
    /* the key */
    cublasOperation_t ta, tb;
    int m, n, k, lda, ldb, ldd;
    cudaDataType_t dtype;
    lt_epilogue epi;
    int beta_zero;
    /* what it maps to */
    int made, usable;
    long last_use;
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t la, lb, ld;
    cublasLtMatmulAlgo_t algo;
} lt_plan;

struct gpu_lt {
    cublasLtHandle_t h;
    cudaStream_t st;
    void *ws;
    size_t ws_bytes;
    int nplans, autotune, tuned;
    long uses;
    lt_plan plans[LT_PLANS];
};

static void lt_check(cublasStatus_t s, const char *call, const char *file, int line)
{
    if (s != CUBLAS_STATUS_SUCCESS) wl_gpu_fail(file, line, call, "cuBLASLt", cublasGetStatusString(s), NULL);
}
#define LT_CHECK(call) lt_check((call), #call, __FILE__, __LINE__)

static void plan_free(lt_plan *p)
{
    if (!p->made) return;
    cublasLtMatrixLayoutDestroy(p->la);
    cublasLtMatrixLayoutDestroy(p->lb);
    cublasLtMatrixLayoutDestroy(p->ld);
    cublasLtMatmulDescDestroy(p->desc);
    p->made = 0;
}

gpu_lt *gpu_lt_create(cudaStream_t st, size_t workspace_bytes)
{
    gpu_lt *lt = (gpu_lt *)calloc(1, sizeof *lt);
    if (!lt) return NULL;
    LT_CHECK(cublasLtCreate(&lt->h));
    lt->st = st;
    lt->ws_bytes = workspace_bytes;
    CUDA_CHECK(cudaMalloc(&lt->ws, workspace_bytes ? workspace_bytes : 1));
    return lt;
}

void gpu_lt_destroy(gpu_lt *lt)
{
    if (!lt) return;
    for (int i = 0; i < lt->nplans; i++) plan_free(&lt->plans[i]);
    cudaFree(lt->ws);
    cublasLtDestroy(lt->h);
    free(lt);
}

size_t gpu_lt_bytes(const gpu_lt *lt) { return lt ? lt->ws_bytes : 0; }

void gpu_lt_set_autotune(gpu_lt *lt, int on) { lt->autotune = on; }

/* Times each candidate on the call's own operands (beta is 0, so D is only
 * written, and the real call overwrites it) and returns the fastest; the
 * heuristic's first stays unless another beats it by more than 3%, so a
 * noisy timing does not change the answer from run to run. */
static int fastest(gpu_lt *lt, lt_plan *p, const cublasLtMatmulHeuristicResult_t *r, int found, const void *A,
                   const void *B, void *D)
{
    cudaEvent_t t0, t1;
    CUDA_CHECK(cudaEventCreate(&t0));
    CUDA_CHECK(cudaEventCreate(&t1));
    float alpha = 1.0f, beta = 0.0f, best_ms = 0;
    int best = 0;
    for (int i = 0; i < found; i++) {
        float ms = 0;
        int ok = 1;
        for (int rep = 0; rep < 1 + LT_TUNE_REPS && ok; rep++) {
            if (rep == 1) CUDA_CHECK(cudaEventRecord(t0, lt->st)); /* the first run warms up */
            ok = cublasLtMatmul(lt->h, p->desc, &alpha, A, p->la, B, p->lb, &beta, D, p->ld, D, p->ld, &r[i].algo,
                                lt->ws, lt->ws_bytes, lt->st) == CUBLAS_STATUS_SUCCESS;
        }
        CUDA_CHECK(cudaEventRecord(t1, lt->st));
        CUDA_CHECK(cudaEventSynchronize(t1));
        if (!ok) continue;
        CUDA_CHECK(cudaEventElapsedTime(&ms, t0, t1));
        if (i == 0) best_ms = ms;
        else if (ms < best_ms * 0.97f) best = i, best_ms = ms;
    }
    cudaEventDestroy(t0);
    cudaEventDestroy(t1);
    return best;
}

/* Descriptors and an algorithm for one shape: the heuristic's first, or
 * with autotuning the fastest of its first few. The bias pointer is set on
 * every call. */
static void plan_make(gpu_lt *lt, lt_plan *p, const void *A, const void *B, void *D, const void *bias)
{
    LT_CHECK(cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    p->made = 1;
    LT_CHECK(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &p->ta, sizeof p->ta));
    LT_CHECK(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &p->tb, sizeof p->tb));
    cublasLtEpilogue_t e = p->epi == LT_BIAS ? CUBLASLT_EPILOGUE_BIAS : p->epi == LT_BGRADB ? CUBLASLT_EPILOGUE_BGRADB
                                                                                           : CUBLASLT_EPILOGUE_DEFAULT;
    LT_CHECK(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &e, sizeof e));
    if (p->epi != LT_PLAIN) {
        /* a bias in D's datatype; bias gradients in fp32 */
        int32_t bt = p->epi == LT_BIAS ? p->dtype : CUDA_R_32F;
        LT_CHECK(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof bt));
        LT_CHECK(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    }
    int ar = p->ta == CUBLAS_OP_N ? p->m : p->k, ac = p->ta == CUBLAS_OP_N ? p->k : p->m;
    int br = p->tb == CUBLAS_OP_N ? p->k : p->n, bc = p->tb == CUBLAS_OP_N ? p->n : p->k;
    LT_CHECK(cublasLtMatrixLayoutCreate(&p->la, CUDA_R_16BF, ar, ac, p->lda));
    LT_CHECK(cublasLtMatrixLayoutCreate(&p->lb, CUDA_R_16BF, br, bc, p->ldb));
    LT_CHECK(cublasLtMatrixLayoutCreate(&p->ld, p->dtype, p->m, p->n, p->ldd));
    cublasLtMatmulPreference_t pref;
    LT_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    LT_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &lt->ws_bytes,
                                                  sizeof lt->ws_bytes));
    cublasLtMatmulHeuristicResult_t r[LT_TUNE_CANDIDATES];
    int found = 0, want = lt->autotune && p->beta_zero && lt->tuned < LT_TUNE_BUDGET ? LT_TUNE_CANDIDATES : 1;
    cudaStreamCaptureStatus cap = cudaStreamCaptureStatusNone;
    if (want > 1 && (cudaStreamIsCapturing(lt->st, &cap) != cudaSuccess || cap != cudaStreamCaptureStatusNone))
        want = 1; /* nothing may wait for the GPU inside a capture */
    cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(lt->h, p->desc, p->la, p->lb, p->ld, p->ld, pref, want, r, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    p->usable = s == CUBLAS_STATUS_SUCCESS && found > 0;
    if (found > 1) lt->tuned++;
    if (p->usable) p->algo = r[found > 1 ? fastest(lt, p, r, found, A, B, D) : 0].algo;
    else if (p->epi == LT_PLAIN)
        lt_check(s == CUBLAS_STATUS_SUCCESS ? CUBLAS_STATUS_NOT_SUPPORTED : s, "cublasLtMatmulAlgoGetHeuristic", __FILE__,
                 __LINE__);
}

int gpu_lt_matmul(gpu_lt *lt, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const void *A, int lda,
                  const void *B, int ldb, void *D, cudaDataType_t dtype, int ldd, float alpha, float beta, lt_epilogue epi,
                  const void *bias)
{
    lt_plan *p = NULL;
    int bz = beta == 0.0f;
    for (int i = 0; i < lt->nplans && !p; i++) {
        lt_plan *q = &lt->plans[i];
        if (q->ta == ta && q->tb == tb && q->m == m && q->n == n && q->k == k && q->lda == lda && q->ldb == ldb &&
            q->ldd == ldd && q->dtype == dtype && q->epi == epi && q->beta_zero == bz)
            p = q;
    }
    if (!p) {
        /* A shape that changes every step (the masked rows of a head) must
         * not crowd out the steady ones: the least recently used plan goes. */
        if (lt->nplans < LT_PLANS) {
            p = &lt->plans[lt->nplans++];
        } else {
            p = &lt->plans[0];
            for (int i = 1; i < LT_PLANS; i++)
                if (lt->plans[i].last_use < p->last_use) p = &lt->plans[i];
            plan_free(p);
        }
        memset(p, 0, sizeof *p);
        p->ta = ta, p->tb = tb, p->m = m, p->n = n, p->k = k, p->lda = lda, p->ldb = ldb, p->ldd = ldd;
        p->dtype = dtype, p->epi = epi, p->beta_zero = bz;
        plan_make(lt, p, A, B, D, bias);
    }
    p->last_use = ++lt->uses;
    if (!p->usable) return -1;
    if (epi != LT_PLAIN)
        LT_CHECK(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    LT_CHECK(cublasLtMatmul(lt->h, p->desc, &alpha, A, p->la, B, p->lb, &beta, D, p->ld, D, p->ld, &p->algo, lt->ws,
                            lt->ws_bytes, lt->st));
    return 0;
}
