/* Batch norm kernels (see bn_gpu.h). Each pass gives a thread a short
 * vector of channels of one row (16-byte loads), and a block
 * 32 such vectors across by 256/32 rows down, so that a warp reads one
 * contiguous stretch of a row. */
#include <cuda_bf16.h>
#include <stdio.h>
#include <stdlib.h>

#include "bn_gpu.h"

template <typename T> struct vec;

template <> struct vec<__nv_bfloat16> {
    static constexpr int N = 8;
    static __device__ __forceinline__ void load(const __nv_bfloat16 *p, float *o)
    {
        uint4 u = *(const uint4 *)p;
        const __nv_bfloat162 *h = (const __nv_bfloat162 *)&u;
#pragma unroll
        for (int k = 0; k < 4; k++) {
            float2 f = __bfloat1622float2(h[k]);
            o[2 * k] = f.x;
            o[2 * k + 1] = f.y;
        }
    }
    static __device__ __forceinline__ void store(__nv_bfloat16 *p, const float *v)
    {
        uint4 u;
        __nv_bfloat162 *h = (__nv_bfloat162 *)&u;
#pragma unroll
        for (int k = 0; k < 4; k++) h[k] = __floats2bfloat162_rn(v[2 * k], v[2 * k + 1]);
        *(uint4 *)p = u;
    }
};

template <> struct vec<float> {
    static constexpr int N = 4;
    static __device__ __forceinline__ void load(const float *p, float *o)
    {
        float4 f = *(const float4 *)p;
        o[0] = f.x, o[1] = f.y, o[2] = f.z, o[3] = f.w;
    }
    static __device__ __forceinline__ void store(float *p, const float *v)
    {
        *(float4 *)p = make_float4(v[0], v[1], v[2], v[3]);
    }
};

/* Sums a block's per-thread pairs (a, b) over threadIdx.y and writes the
 * block's pair for each of its channels to part[blockIdx.x][0|1][c]. */
template <int N>
static __device__ void block_pairs_out(float *a, float *b, float *part, int C, int c0)
{
    extern __shared__ float sh[]; /* [2][ty][tx * N] */
    int tx = blockDim.x, ty = blockDim.y, w = tx * N;
    float *sa = sh, *sb = sh + ty * w;
    int at = threadIdx.y * w + threadIdx.x * N;
#pragma unroll
    for (int j = 0; j < N; j++) sa[at + j] = a[j], sb[at + j] = b[j];
    __syncthreads();
    for (int half = ty / 2; half > 0; half /= 2) {
        if ((int)threadIdx.y < half)
#pragma unroll
            for (int j = 0; j < N; j++) {
                sa[at + j] += sa[at + half * w + j];
                sb[at + j] += sb[at + half * w + j];
            }
        __syncthreads();
    }
    if (threadIdx.y) return;
    float *pa = part + (size_t)blockIdx.x * 2 * C, *pb = pa + C;
#pragma unroll
    for (int j = 0; j < N; j++) pa[c0 + j] = sa[at + j], pb[c0 + j] = sb[at + j];
}

/* Per channel: sum of (x - shift) and of its square. */
template <typename T>
__global__ void stats_kernel(const T *x, size_t rows, int C, const float *shift, float *part)
{
    constexpr int N = vec<T>::N;
    int c0 = (blockIdx.y * blockDim.x + threadIdx.x) * N;
    float k[N], s[N], q[N], v[N];
#pragma unroll
    for (int j = 0; j < N; j++) k[j] = shift[c0 + j], s[j] = 0, q[j] = 0;
    for (size_t r = (size_t)blockIdx.x * blockDim.y + threadIdx.y; r < rows; r += (size_t)gridDim.x * blockDim.y) {
        vec<T>::load(x + r * C + c0, v);
#pragma unroll
        for (int j = 0; j < N; j++) {
            float d = v[j] - k[j];
            s[j] += d;
            q[j] = fmaf(d, d, q[j]);
        }
    }
    block_pairs_out<N>(s, q, part, C, c0);
}

/* Adds up the blocks' pairs for 32 channels a block, 16 partial sums at a
 * time, in double. Leaves the totals in tot[0..31] and tot[32..63]. */
static __device__ void sum_parts(const float *part, int parts, int C, int c, double *tot)
{
    __shared__ double red[2][16][32];
    double a = 0, b = 0;
    if (c < C)
        for (int p = threadIdx.y; p < parts; p += blockDim.y) {
            a += part[(size_t)p * 2 * C + c];
            b += part[(size_t)p * 2 * C + C + c];
        }
    red[0][threadIdx.y][threadIdx.x] = a;
    red[1][threadIdx.y][threadIdx.x] = b;
    __syncthreads();
    if (threadIdx.y == 0) {
        for (int y = 1; y < (int)blockDim.y; y++) a += red[0][y][threadIdx.x], b += red[1][y][threadIdx.x];
        tot[0] = a;
        tot[1] = b;
    }
}

/* Mean and variance; saved and running statistics; and the affine form of
 * the forward pass, y = x scale + bias, for the element-wise kernel. */
__global__ void stats_finish_kernel(const float *part, int parts, int C, size_t rows, const float *gamma,
                                    const float *beta, float factor, float eps, float *run_mean, float *run_var,
                                    float *save_mean, float *save_invstd, float *scale, float *bias)
{
    int c = blockIdx.x * 32 + threadIdx.x;
    double t[2];
    sum_parts(part, parts, C, c, t);
    if (threadIdx.y || c >= C) return;
    double d = t[0] / (double)rows, var = t[1] / (double)rows - d * d;
    if (var < 0) var = 0;
    double mean = run_mean[c] + d; /* the shift the sums were taken against */
    float inv = (float)(1.0 / sqrt(var + eps));
    save_mean[c] = (float)mean;
    save_invstd[c] = inv;
    if (factor != 0) {
        double unbiased = rows > 1 ? var * (double)rows / (double)(rows - 1) : var;
        run_mean[c] = (float)((1 - factor) * run_mean[c] + factor * mean);
        run_var[c] = (float)((1 - factor) * run_var[c] + factor * unbiased);
    }
    float sc = gamma[c] * inv;
    scale[c] = sc;
    bias[c] = (float)(beta[c] - mean * sc);
}

template <typename T>
__global__ void forward_apply_kernel(const T *x, const T *z, T *y, size_t nvec, int cvec, const float *scale,
                                     const float *bias, int relu)
{
    constexpr int N = vec<T>::N;
    float v[N], w[N];
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < nvec; i += (size_t)gridDim.x * blockDim.x) {
        int c0 = (int)(i % cvec) * N;
        vec<T>::load(x + i * N, v);
        if (z) vec<T>::load(z + i * N, w);
#pragma unroll
        for (int j = 0; j < N; j++) {
            float o = fmaf(v[j], __ldg(scale + c0 + j), __ldg(bias + c0 + j));
            if (z) o += w[j];
            v[j] = relu ? fmaxf(o, 0.0f) : o;
        }
        vec<T>::store(y + i * N, v);
    }
}

/* Per channel: sum of g and of g xhat, g being dy through the ReLU. */
template <typename T>
__global__ void grad_sums_kernel(const T *x, const T *y, const T *dy, size_t rows, int C, int relu, const float *mean,
                                 const float *invstd, float *part)
{
    constexpr int N = vec<T>::N;
    int c0 = (blockIdx.y * blockDim.x + threadIdx.x) * N;
    float mu[N], is[N], sg[N], sgx[N], xv[N], yv[N], g[N];
#pragma unroll
    for (int j = 0; j < N; j++) mu[j] = mean[c0 + j], is[j] = invstd[c0 + j], sg[j] = 0, sgx[j] = 0;
    for (size_t r = (size_t)blockIdx.x * blockDim.y + threadIdx.y; r < rows; r += (size_t)gridDim.x * blockDim.y) {
        size_t at = r * C + c0;
        vec<T>::load(x + at, xv);
        vec<T>::load(dy + at, g);
        if (relu) vec<T>::load(y + at, yv);
#pragma unroll
        for (int j = 0; j < N; j++) {
            float gj = relu && !(yv[j] > 0.0f) ? 0.0f : g[j];
            sg[j] += gj;
            sgx[j] = fmaf(gj, (xv[j] - mu[j]) * is[j], sgx[j]);
        }
    }
    block_pairs_out<N>(sg, sgx, part, C, c0);
}

/* Parameter gradients, and dx = a g + b (x - mean) + c per channel. */
__global__ void grad_finish_kernel(const float *part, int parts, int C, size_t rows, const float *gamma,
                                   const float *invstd, float *dgamma, float *dbeta, float *ca, float *cb, float *cc)
{
    int c = blockIdx.x * 32 + threadIdx.x;
    double t[2];
    sum_parts(part, parts, C, c, t);
    if (threadIdx.y || c >= C) return;
    dbeta[c] = (float)t[0];
    dgamma[c] = (float)t[1];
    double k = (double)gamma[c] * invstd[c];
    ca[c] = (float)k;
    cb[c] = (float)(-k * invstd[c] * t[1] / (double)rows);
    cc[c] = (float)(-k * t[0] / (double)rows);
}

template <typename T>
__global__ void backward_apply_kernel(const T *x, const T *y, const T *dy, T *dx, T *dz, size_t nvec, int cvec,
                                      int relu, const float *mean, const float *ca, const float *cb, const float *cc)
{
    constexpr int N = vec<T>::N;
    float xv[N], yv[N], g[N];
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < nvec; i += (size_t)gridDim.x * blockDim.x) {
        int c0 = (int)(i % cvec) * N;
        vec<T>::load(x + i * N, xv);
        vec<T>::load(dy + i * N, g);
        if (relu) vec<T>::load(y + i * N, yv);
#pragma unroll
        for (int j = 0; j < N; j++) {
            if (relu && !(yv[j] > 0.0f)) g[j] = 0.0f;
            int c = c0 + j;
            xv[j] = fmaf(__ldg(ca + c), g[j], fmaf(__ldg(cb + c), xv[j] - __ldg(mean + c), __ldg(cc + c)));
        }
        vec<T>::store(dx + i * N, xv);
        if (dz) vec<T>::store(dz + i * N, g);
    }
}

/* ---- launchers ---- */

struct geometry {
    dim3 grid, block;
    size_t shared;
    int parts;
};

static geometry reduction_geometry(size_t rows, int C, int n_vec, int sms)
{
    int cvec = C / n_vec, tx = cvec < 32 ? cvec : 32, ty = 256 / tx, gy = cvec / tx;
    if (C % n_vec || (cvec > 32 && cvec % 32) || (tx & (tx - 1))) {
        fprintf(stderr, "cotenant: internal error: batch norm over %d channels is not supported\n", C);
        exit(1);
    }
    /* about eight blocks a multiprocessor in all, each row stretch long enough to pay */
    size_t want = (size_t)sms * 8 / gy, most = (rows + ty - 1) / ty;
    if (want < 1) want = 1;
    geometry g;
    g.parts = (int)(want < most ? want : most);
    g.grid = dim3(g.parts, gy);
    g.block = dim3(tx, ty);
    g.shared = 2 * (size_t)ty * tx * n_vec * sizeof(float);
    return g;
}

static unsigned elementwise_blocks(size_t nvec, int sms)
{
    size_t b = (nvec + 255) / 256, most = (size_t)sms * 16;
    return (unsigned)(b < most ? b : most);
}

size_t bn_gpu_workspace(int bf16, size_t rows, int channels, int sms)
{
    geometry g = reduction_geometry(rows, channels, bf16 ? 8 : 4, sms);
    return ((size_t)g.parts * 2 * channels + 3 * (size_t)channels) * sizeof(float);
}

void bn_gpu_forward(const bn_gpu_shape *s, const void *x, const void *z, void *y, int relu, const float *gamma,
                    const float *beta, float factor, float eps, float *run_mean, float *run_var, float *save_mean,
                    float *save_invstd)
{
    int C = s->channels, nv = s->bf16 ? 8 : 4;
    geometry g = reduction_geometry(s->rows, C, nv, s->sms);
    float *part = s->ws, *scale = part + (size_t)g.parts * 2 * C, *bias = scale + C;
    if (s->bf16)
        stats_kernel<<<g.grid, g.block, g.shared, s->st>>>((const __nv_bfloat16 *)x, s->rows, C, run_mean, part);
    else stats_kernel<<<g.grid, g.block, g.shared, s->st>>>((const float *)x, s->rows, C, run_mean, part);
    stats_finish_kernel<<<(C + 31) / 32, dim3(32, 16), 0, s->st>>>(part, g.parts, C, s->rows, gamma, beta, factor, eps,
                                                                   run_mean, run_var, save_mean, save_invstd, scale, bias);
    size_t nvec = s->rows * C / nv;
    unsigned b = elementwise_blocks(nvec, s->sms);
    if (s->bf16)
        forward_apply_kernel<<<b, 256, 0, s->st>>>((const __nv_bfloat16 *)x, (const __nv_bfloat16 *)z, (__nv_bfloat16 *)y,
                                                   nvec, C / nv, scale, bias, relu);
    else forward_apply_kernel<<<b, 256, 0, s->st>>>((const float *)x, (const float *)z, (float *)y, nvec, C / nv, scale, bias, relu);
}

void bn_gpu_backward(const bn_gpu_shape *s, const void *x, const void *y, const void *dy, void *dx, void *dz, int relu,
                     const float *gamma, const float *save_mean, const float *save_invstd, float *dgamma, float *dbeta)
{
    int C = s->channels, nv = s->bf16 ? 8 : 4;
    geometry g = reduction_geometry(s->rows, C, nv, s->sms);
    float *part = s->ws, *ca = part + (size_t)g.parts * 2 * C, *cb = ca + C, *cc = cb + C;
    if (s->bf16)
        grad_sums_kernel<<<g.grid, g.block, g.shared, s->st>>>((const __nv_bfloat16 *)x, (const __nv_bfloat16 *)y,
                                                               (const __nv_bfloat16 *)dy, s->rows, C, relu, save_mean,
                                                               save_invstd, part);
    else grad_sums_kernel<<<g.grid, g.block, g.shared, s->st>>>((const float *)x, (const float *)y, (const float *)dy, s->rows,
                                                               C, relu, save_mean, save_invstd, part);
    grad_finish_kernel<<<(C + 31) / 32, dim3(32, 16), 0, s->st>>>(part, g.parts, C, s->rows, gamma, save_invstd, dgamma,
                                                                  dbeta, ca, cb, cc);
    size_t nvec = s->rows * C / nv;
    unsigned b = elementwise_blocks(nvec, s->sms);
    if (s->bf16)
        backward_apply_kernel<<<b, 256, 0, s->st>>>((const __nv_bfloat16 *)x, (const __nv_bfloat16 *)y,
                                                    (const __nv_bfloat16 *)dy, (__nv_bfloat16 *)dx, (__nv_bfloat16 *)dz,
                                                    nvec, C / nv, relu, save_mean, ca, cb, cc);
    else backward_apply_kernel<<<b, 256, 0, s->st>>>((const float *)x, (const float *)y, (const float *)dy, (float *)dx,
                                                    (float *)dz, nvec, C / nv, relu, save_mean, ca, cb, cc);
}
