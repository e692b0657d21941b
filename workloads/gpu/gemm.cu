/* cotenant-gemm - cuBLAS matrix products in a loop: the placeholder GPU
 * workload of the built-in GPU default until the training and serving
 * workloads exist. Each step is --per-step products of --size^3, reported
 * through the event protocol (unit "gemms"); at start one small product is
 * checked against a plain-C reference on the CPU. */
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "flags.h"

#define CUDA_CHECK(call) cuda_check((call), #call, __FILE__, __LINE__)
#define CUBLAS_CHECK(call) cublas_check((call), #call, __FILE__, __LINE__)

static void cuda_check(cudaError_t e, const char *call, const char *file, int line)
{
    if (e == cudaSuccess) return;
    fprintf(stderr, "cotenant-gemm: %s:%d: %s failed: %s (%s)\n", file, line, call, cudaGetErrorString(e), cudaGetErrorName(e));
    exit(1);
}

static void cublas_check(cublasStatus_t s, const char *call, const char *file, int line)
{
    if (s == CUBLAS_STATUS_SUCCESS) return;
    fprintf(stderr, "cotenant-gemm: %s:%d: %s failed: %s\n", file, line, call, cublasGetStatusString(s));
    exit(1);
}

/* Deterministic pseudo-random values in [-1, 1): never zeros, which would
 * hide unwritten outputs and run faster than real data. */
__global__ void fill_random(void *p, size_t n, unsigned seed, int bf16)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        unsigned x = (unsigned)i * 2654435761u ^ seed;
        x ^= x >> 13;
        x *= 0x5bd1e995u;
        x ^= x >> 15;
        float v = (float)(x & 0xffffff) / 8388608.0f - 1.0f;
        if (bf16) ((__nv_bfloat16 *)p)[i] = __float2bfloat16(v);
        else ((float *)p)[i] = v;
    }
}

static void gemm(cublasHandle_t h, int bf16, int n, const void *a, const void *b, void *c)
{
    const float alpha = 1.0f, beta = 0.0f;
    cudaDataType_t t = bf16 ? CUDA_R_16BF : CUDA_R_32F;
    cublasComputeType_t ct = bf16 ? CUBLAS_COMPUTE_32F : CUBLAS_COMPUTE_32F_FAST_TF32;
    CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a, t, n, b, t, n, &beta, c, t, n, ct,
                              CUBLAS_GEMM_DEFAULT));
}

static float to_float(const void *p, size_t i, int bf16)
{
    return bf16 ? __bfloat162float(((const __nv_bfloat16 *)p)[i]) : ((const float *)p)[i];
}

/* One 256^3 product on the GPU against the CPU (column-major, as cuBLAS). */
static void self_check(cublasHandle_t h, int bf16)
{
    const int n = 256;
    size_t elem = bf16 ? 2 : 4, bytes = (size_t)n * n * elem;
    void *a, *b, *c;
    CUDA_CHECK(cudaMalloc(&a, bytes));
    CUDA_CHECK(cudaMalloc(&b, bytes));
    CUDA_CHECK(cudaMalloc(&c, bytes));
    fill_random<<<64, 256>>>(a, (size_t)n * n, 1, bf16);
    fill_random<<<64, 256>>>(b, (size_t)n * n, 2, bf16);
    CUDA_CHECK(cudaMemset(c, 0xff, bytes)); /* poison: every output must be written */
    CUDA_CHECK(cudaGetLastError());
    gemm(h, bf16, n, a, b, c);
    char *ha = (char *)malloc(bytes), *hb = (char *)malloc(bytes), *hc = (char *)malloc(bytes);
    CUDA_CHECK(cudaMemcpy(ha, a, bytes, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(hb, b, bytes, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(hc, c, bytes, cudaMemcpyDeviceToHost));
    double num = 0, den = 0;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
            double ref = 0;
            for (int k = 0; k < n; k++) ref += (double)to_float(ha, (size_t)k * n + i, bf16) * to_float(hb, (size_t)j * n + k, bf16);
            double got = to_float(hc, (size_t)j * n + i, bf16);
            num += (got - ref) * (got - ref);
            den += ref * ref;
        }
    double rel = sqrt(num / den);
    double bound = bf16 ? 1e-2 : 1e-3;
    if (!(rel < bound)) {
        fprintf(stderr, "cotenant-gemm: self-check failed: relative error %.3g against the CPU reference (bound %.0e)\n", rel, bound);
        exit(1);
    }
    printf("cotenant-gemm: self-check passed (relative error %.2e, bound %.0e)\n", rel, bound);
    free(ha);
    free(hb);
    free(hc);
    cudaFree(a);
    cudaFree(b);
    cudaFree(c);
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: cotenant-gemm [--size N] [--precision bf16|fp32] [--per-step K] [--duration S]\n\n"
               "cuBLAS products of N x N matrices (default 8192, bf16 with fp32 accumulation;\n"
               "fp32 uses TF32 tensor cores), K a step (default 8). --duration 0, the default,\n"
               "runs until SIGTERM. Reports through cotenant's event protocol.\n");
}

int main(int argc, char **argv)
{
    const char *prog = "cotenant-gemm";
    flag_version_exit(prog, argc, argv);
    int n = 8192, per_step = 8, bf16 = 1;
    double duration = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--size")) {
            n = (int)flag_long(prog, a, v, 64, 32768);
            i++;
        } else if (!strcmp(a, "--per-step")) {
            per_step = (int)flag_long(prog, a, v, 1, 10000);
            i++;
        } else if (!strcmp(a, "--precision") && v && (!strcmp(v, "bf16") || !strcmp(v, "fp32"))) {
            bf16 = !strcmp(v, "bf16");
            i++;
        } else if (!strcmp(a, "--duration")) {
            duration = flag_seconds(prog, a, v);
            i++;
        } else {
            fprintf(stderr, "%s: unknown or incomplete option '%s'\n", prog, a);
            usage(stderr);
            return 2;
        }
    }
    workload_install_stop();
    events_open();
    cublasHandle_t h;
    CUBLAS_CHECK(cublasCreate(&h));
    self_check(h, bf16);
    size_t elem = bf16 ? 2 : 4, bytes = (size_t)n * n * elem;
    void *a, *b, *c;
    CUDA_CHECK(cudaMalloc(&a, bytes));
    CUDA_CHECK(cudaMalloc(&b, bytes));
    CUDA_CHECK(cudaMalloc(&c, bytes));
    fill_random<<<1024, 256>>>(a, (size_t)n * n, 3, bf16);
    fill_random<<<1024, 256>>>(b, (size_t)n * n, 4, bf16);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
    events_start("gemms");
    gemm(h, bf16, n, a, b, c); /* warm-up: cuBLAS picks and loads its kernel */
    CUDA_CHECK(cudaDeviceSynchronize());
    int64_t t0 = events_now_ns();
    long steps = 0;
    while (!workload_stop && (duration <= 0 || events_now_ns() - t0 < (int64_t)(duration * 1e9))) {
        for (int k = 0; k < per_step; k++) gemm(h, bf16, n, a, b, c);
        CUDA_CHECK(cudaDeviceSynchronize());
        steps++;
        events_step(per_step);
    }
    double secs = (double)(events_now_ns() - t0) / 1e9;
    events_end();
    double flops = 2.0 * n * (double)n * n * per_step * steps;
    printf("cotenant-gemm: %d^3 %s, %ld products in %.2f s: %.1f TFLOP/s\n", n, bf16 ? "bf16" : "fp32/tf32", steps * per_step,
           secs, secs > 0 ? flops / secs / 1e12 : 0.0);
    cudaFree(a);
    cudaFree(b);
    cudaFree(c);
    cublasDestroy(h);
    return 0;
}
