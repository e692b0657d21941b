/* gpu_check.h - every CUDA, cuDNN and cuBLAS call of the built-in workloads
 * goes through these: on failure they print the program, file:line, the
 * call, the library's own message and what to try, then exit(1). */
#ifndef COTENANT_GPU_CHECK_H
#define COTENANT_GPU_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdio.h>
#include <stdlib.h>

/* The program name the messages start with; set once by the workload. */
extern const char *wl_gpu_prog;

static inline void wl_gpu_fail(const char *file, int line, const char *call, const char *lib, const char *msg, const char *hint)
{
    fprintf(stderr, "%s: %s:%d: %s failed: %s: %s%s%s\n", wl_gpu_prog, file, line, call, lib, msg, hint ? "; " : "",
            hint ? hint : "");
    exit(1);
}

static inline void wl_cuda_check(cudaError_t e, const char *call, const char *file, int line)
{
    if (e == cudaSuccess) return;
    const char *hint = e == cudaErrorMemoryAllocation ? "lower --batch, or free the GPU (nvidia-smi lists its processes)"
                       : e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver
                           ? "check the driver with nvidia-smi, or run the CPU reference with --device cpu"
                           : NULL;
    wl_gpu_fail(file, line, call, "CUDA", cudaGetErrorString(e), hint);
}

static inline void wl_cudnn_check(cudnnStatus_t s, const char *call, const char *file, int line)
{
    if (s == CUDNN_STATUS_SUCCESS) return;
    char detail[512];
    cudnnGetLastErrorString(detail, sizeof detail);
    char msg[800];
    snprintf(msg, sizeof msg, "%s%s%s", cudnnGetErrorString(s), detail[0] ? " - " : "", detail);
    wl_gpu_fail(file, line, call, "cuDNN", msg, NULL);
}

static inline void wl_cublas_check(cublasStatus_t s, const char *call, const char *file, int line)
{
    if (s == CUBLAS_STATUS_SUCCESS) return;
    wl_gpu_fail(file, line, call, "cuBLAS", cublasGetStatusString(s), NULL);
}

#define CUDA_CHECK(call) wl_cuda_check((call), #call, __FILE__, __LINE__)
#define CUDNN_CHECK(call) wl_cudnn_check((call), #call, __FILE__, __LINE__)
#define CUBLAS_CHECK(call) wl_cublas_check((call), #call, __FILE__, __LINE__)

#endif
