#include <cuda_bf16.h>

#include "resnet_gpu_kernels.h"

static __device__ __forceinline__ float ld(const __nv_bfloat16 *p, size_t i) { return __bfloat162float(p[i]); }
static __device__ __forceinline__ float ld(const float *p, size_t i) { return p[i]; }
static __device__ __forceinline__ void st(__nv_bfloat16 *p, size_t i, float v) { p[i] = __float2bfloat16(v); }
static __device__ __forceinline__ void st(float *p, size_t i, float v) { p[i] = v; }

static unsigned blocks_for(size_t n, unsigned threads)
{
    size_t b = (n + threads - 1) / threads;
    return (unsigned)(b > 65535 * 16 ? 65535 * 16 : b);
}

/* One thread per (image, channel): consecutive threads read consecutive
 * channels, so every load of the NHWC input is coalesced. */
template <typename T>
__global__ void avgpool_forward_kernel(const T *x, T *y, int n, int hw, int c)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n * c) return;
    int b = i / c, k = i % c;
    float s = 0;
    for (int j = 0; j < hw; j++) s += ld(x, ((size_t)b * hw + j) * c + k);
    st(y, i, s / hw);
}

void avgpool_forward(int bf16, const void *x, void *y, int n, int hw, int c, cudaStream_t s)
{
    unsigned g = blocks_for((size_t)n * c, 256);
    if (bf16) avgpool_forward_kernel<<<g, 256, 0, s>>>((const __nv_bfloat16 *)x, (__nv_bfloat16 *)y, n, hw, c);
    else avgpool_forward_kernel<<<g, 256, 0, s>>>((const float *)x, (float *)y, n, hw, c);
}

template <typename T>
__global__ void avgpool_backward_kernel(const T *dy, T *dx, int n, int hw, int c)
{
    size_t total = (size_t)n * hw * c;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t k = i % c, b = i / ((size_t)hw * c);
        st(dx, i, ld(dy, b * c + k) / hw);
    }
}

void avgpool_backward(int bf16, const void *dy, void *dx, int n, int hw, int c, cudaStream_t s)
{
    unsigned g = blocks_for((size_t)n * hw * c, 256);
    if (bf16) avgpool_backward_kernel<<<g, 256, 0, s>>>((const __nv_bfloat16 *)dy, (__nv_bfloat16 *)dx, n, hw, c);
    else avgpool_backward_kernel<<<g, 256, 0, s>>>((const float *)dy, (float *)dx, n, hw, c);
}

/* One block a row: the row's maximum, the sum of exponentials, then the
 * loss and the gradient. */
template <typename T>
__global__ void softmax_xent_kernel(const float *logits, const float *bias, const int *labels, float *loss, float *df,
                                    T *dl, int classes, float inv_n)
{
    __shared__ float red[32];
    int row = blockIdx.x;
    const float *l = logits + (size_t)row * classes;
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < classes; j += blockDim.x) mx = fmaxf(mx, l[j] + bias[j]);
    for (int o = 16; o; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, o));
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = mx;
    __syncthreads();
    mx = -INFINITY;
    for (int w = 0; w < (int)(blockDim.x >> 5); w++) mx = fmaxf(mx, red[w]);
    __syncthreads();
    float z = 0;
    for (int j = threadIdx.x; j < classes; j += blockDim.x) z += __expf(l[j] + bias[j] - mx);
    for (int o = 16; o; o >>= 1) z += __shfl_xor_sync(0xffffffff, z, o);
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = z;
    __syncthreads();
    z = 0;
    for (int w = 0; w < (int)(blockDim.x >> 5); w++) z += red[w];
    int y = labels[row];
    for (int j = threadIdx.x; j < classes; j += blockDim.x) {
        float p = __expf(l[j] + bias[j] - mx) / z, g = (p - (j == y)) * inv_n;
        df[(size_t)row * classes + j] = g;
        st(dl, (size_t)row * classes + j, g);
    }
    if (threadIdx.x == 0) atomicAdd(loss, (logf(z) + mx - (l[y] + bias[y])) * inv_n);
}

void softmax_xent(int bf16, const float *logits, const float *bias, const int *labels, float *loss, float *df, void *dl,
                  int n, int classes, cudaStream_t s)
{
    if (bf16)
        softmax_xent_kernel<<<n, 256, 0, s>>>(logits, bias, labels, loss, df, (__nv_bfloat16 *)dl, classes, 1.0f / n);
    else softmax_xent_kernel<<<n, 256, 0, s>>>(logits, bias, labels, loss, df, (float *)dl, classes, 1.0f / n);
}

__global__ void bias_grad_kernel(const float *dl, float *db, int n, int classes)
{
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= classes) return;
    float s = 0;
    for (int i = 0; i < n; i++) s += dl[(size_t)i * classes + j];
    db[j] = s;
}

void bias_grad(const float *dl, float *db, int n, int classes, cudaStream_t s)
{
    bias_grad_kernel<<<(classes + 255) / 256, 256, 0, s>>>(dl, db, n, classes);
}

template <typename G>
__global__ void sgd_kernel(float *p, float *m, const G *g, __nv_bfloat16 *w, size_t n, float lr, float mu, float wd)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float pi = p[i], d = ld(g, i) + wd * pi, mi = mu * m[i] + d;
        pi -= lr * mi;
        m[i] = mi;
        p[i] = pi;
        if (w) w[i] = __float2bfloat16(pi);
    }
}

void sgd_momentum(float *p, float *m, const void *g, int g_bf16, void *w, size_t n, float lr, float mu, float wd, cudaStream_t s)
{
    unsigned b = blocks_for(n, 256);
    if (g_bf16) sgd_kernel<<<b, 256, 0, s>>>(p, m, (const __nv_bfloat16 *)g, (__nv_bfloat16 *)w, n, lr, mu, wd);
    else sgd_kernel<<<b, 256, 0, s>>>(p, m, (const float *)g, (__nv_bfloat16 *)w, n, lr, mu, wd);
}

__global__ void to_bf16_kernel(const float *src, __nv_bfloat16 *dst, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = __float2bfloat16(src[i]);
}

void to_bf16(const float *src, void *dst, size_t n, cudaStream_t s)
{
    to_bf16_kernel<<<blocks_for(n, 256), 256, 0, s>>>(src, (__nv_bfloat16 *)dst, n);
}

__global__ void from_bf16_kernel(const __nv_bfloat16 *src, float *dst, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = __bfloat162float(src[i]);
}

void from_bf16(const void *src, float *dst, size_t n, cudaStream_t s)
{
    from_bf16_kernel<<<blocks_for(n, 256), 256, 0, s>>>((const __nv_bfloat16 *)src, dst, n);
}
