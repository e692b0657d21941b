#include "bert_gpu_kernels.h"

#include <math.h>

#include "gpu_check.h"
#include "wl_rng.h"

#define LN_EPS 1e-12f
#define ROW_THREADS 256

/* Sum over the block; every thread gets it. */
__device__ static float block_sum(float v)
{
    __shared__ float part[32];
    __shared__ float total;
    for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads(); /* part[] may still be read by a previous call */
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float s = lane < (int)(blockDim.x >> 5) ? part[lane] : 0.0f;
        for (int o = 16; o; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (lane == 0) total = s;
    }
    __syncthreads();
    return total;
}

/* Normalises row x (as floats, from bf16) into y; returns through mean/rstd. */
__device__ static void ln_row(const bf16 *x, const float *g, const float *b, bf16 *y, int h, float *mean, float *rstd,
                              drop_t d, uint64_t base)
{
    float s = 0;
    for (int k = threadIdx.x; k < h; k += blockDim.x) s += __bfloat162float(x[k]);
    float m = block_sum(s) / h;
    float v = 0;
    for (int k = threadIdx.x; k < h; k += blockDim.x) {
        float c = __bfloat162float(x[k]) - m;
        v += c * c;
    }
    float rs = rsqrtf(block_sum(v) / h + LN_EPS);
    for (int k = threadIdx.x; k < h; k += blockDim.x)
        y[k] = __float2bfloat16(((__bfloat162float(x[k]) - m) * rs * g[k] + b[k]) * keep_scale(d, base + k));
    if (threadIdx.x == 0) *mean = m, *rstd = rs;
}

__global__ static void embed_ln_kernel(const int *ids, const float *word, const float *pos, const float *type,
                                       const float *g, const float *b, bf16 *sum, float *mean, float *rstd, bf16 *y,
                                       int t, int h, drop_t d)
{
    int r = blockIdx.x;
    const float *w = word + (size_t)ids[r] * h, *ps = pos + (size_t)(r % t) * h;
    bf16 *sr = sum + (size_t)r * h;
    for (int k = threadIdx.x; k < h; k += blockDim.x) sr[k] = __float2bfloat16(w[k] + ps[k] + type[k]);
    __syncthreads();
    ln_row(sr, g, b, y + (size_t)r * h, h, mean + r, rstd + r, d, (uint64_t)r * h);
}

void k_embed_ln(const int *ids, const float *word, const float *pos, const float *type, const float *g, const float *b,
                bf16 *sum, float *mean, float *rstd, bf16 *y, int n, int t, int h, drop_t d, cudaStream_t st)
{
    embed_ln_kernel<<<n, ROW_THREADS, 0, st>>>(ids, word, pos, type, g, b, sum, mean, rstd, y, t, h, d);
    CUDA_CHECK(cudaGetLastError());
}

__global__ static void residual_ln_kernel(const bf16 *proj, const float *bias, const bf16 *resid, const float *g,
                                          const float *b, bf16 *sum, float *mean, float *rstd, bf16 *y, int h, drop_t d)
{
    size_t r = blockIdx.x;
    bf16 *sr = sum + r * h;
    for (int k = threadIdx.x; k < h; k += blockDim.x) {
        size_t i = r * h + k;
        float v = (__bfloat162float(proj[i]) + bias[k]) * keep_scale(d, i) + __bfloat162float(resid[i]);
        sr[k] = __float2bfloat16(v);
    }
    __syncthreads();
    drop_t none = {0, 0, 0};
    ln_row(sr, g, b, y + r * h, h, mean + r, rstd + r, none, 0);
}

void k_residual_ln(const bf16 *proj, const float *bias, const bf16 *resid, const float *g, const float *b, bf16 *sum,
                   float *mean, float *rstd, bf16 *y, int n, int h, drop_t d, cudaStream_t st)
{
    residual_ln_kernel<<<n, ROW_THREADS, 0, st>>>(proj, bias, resid, g, b, sum, mean, rstd, y, h, d);
    CUDA_CHECK(cudaGetLastError());
}

__global__ static void ln_kernel(const bf16 *x, const float *g, const float *b, float *mean, float *rstd, bf16 *y, int h)
{
    size_t r = blockIdx.x;
    drop_t none = {0, 0, 0};
    ln_row(x + r * h, g, b, y + r * h, h, mean + r, rstd + r, none, 0);
}

void k_ln(const bf16 *x, const float *g, const float *b, float *mean, float *rstd, bf16 *y, int n, int h, cudaStream_t st)
{
    ln_kernel<<<n, ROW_THREADS, 0, st>>>(x, g, b, mean, rstd, y, h);
    CUDA_CHECK(cudaGetLastError());
}

/* Each block takes LN_BWD_ROWS rows, so that its gamma, beta and bias
 * gradients go out as one atomic add a column. */
#define LN_BWD_ROWS 16
#define LN_MAX_COLS_PER_THREAD 16

__global__ static void ln_bwd_kernel(const bf16 *dy, const bf16 *dy2, const bf16 *x, const float *mean,
                                     const float *rstd, const float *g, bf16 *dx, float *dg, float *db, drop_t in_drop,
                                     bf16 *dbranch, float *dbias, drop_t branch_drop, int n, int h)
{
    float acc_g[LN_MAX_COLS_PER_THREAD] = {0}, acc_b[LN_MAX_COLS_PER_THREAD] = {0}, acc_bias[LN_MAX_COLS_PER_THREAD] = {0};
    int r0 = blockIdx.x * LN_BWD_ROWS;
    for (int r = r0; r < r0 + LN_BWD_ROWS && r < n; r++) {
        size_t base = (size_t)r * h;
        float m = mean[r], rs = rstd[r], s1 = 0, s2 = 0;
        for (int k = threadIdx.x, j = 0; k < h; k += blockDim.x, j++) {
            size_t i = base + k;
            float d = __bfloat162float(dy[i]) + (dy2 ? __bfloat162float(dy2[i]) : 0.0f);
            d *= keep_scale(in_drop, i);
            float xh = (__bfloat162float(x[i]) - m) * rs, dxh = d * g[k];
            s1 += dxh;
            s2 += dxh * xh;
            acc_g[j] += d * xh;
            acc_b[j] += d;
        }
        s1 = block_sum(s1) / h;
        s2 = block_sum(s2) / h;
        for (int k = threadIdx.x, j = 0; k < h; k += blockDim.x, j++) {
            size_t i = base + k;
            float d = __bfloat162float(dy[i]) + (dy2 ? __bfloat162float(dy2[i]) : 0.0f);
            d *= keep_scale(in_drop, i);
            float xh = (__bfloat162float(x[i]) - m) * rs, v = rs * (d * g[k] - s1 - xh * s2);
            dx[i] = __float2bfloat16(v);
            if (dbranch) {
                float bv = v * keep_scale(branch_drop, i);
                dbranch[i] = __float2bfloat16(bv);
                acc_bias[j] += bv;
            }
        }
    }
    for (int k = threadIdx.x, j = 0; k < h; k += blockDim.x, j++) {
        atomicAdd(dg + k, acc_g[j]);
        atomicAdd(db + k, acc_b[j]);
        if (dbranch) atomicAdd(dbias + k, acc_bias[j]);
    }
}

void k_ln_bwd(const bf16 *dy, const bf16 *dy2, const bf16 *x, const float *mean, const float *rstd, const float *g,
              bf16 *dx, float *dg, float *db, drop_t in_drop, bf16 *dbranch, float *dbias, drop_t branch_drop, int n,
              int h, cudaStream_t st)
{
    if (h > ROW_THREADS * LN_MAX_COLS_PER_THREAD) {
        fprintf(stderr, "%s: hidden size %d is over the layer norm kernel's %d\n", wl_gpu_prog, h,
                ROW_THREADS * LN_MAX_COLS_PER_THREAD);
        exit(2);
    }
    ln_bwd_kernel<<<(n + LN_BWD_ROWS - 1) / LN_BWD_ROWS, ROW_THREADS, 0, st>>>(dy, dy2, x, mean, rstd, g, dx, dg, db, in_drop,
                                                                              dbranch, dbias, branch_drop, n, h);
    CUDA_CHECK(cudaGetLastError());
}

__device__ static inline float gelu(float x)
{
    return 0.5f * x * (1.0f + erff(x * 0.70710678f));
}

__global__ static void bias_gelu_kernel(const bf16 *y, const float *bias, bf16 *inter, bf16 *act, size_t total, int c)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        bf16 vb = y[i];
        if (bias) { /* else the product's epilogue added it, and inter is y */
            vb = __float2bfloat16(__bfloat162float(vb) + bias[i % c]);
            inter[i] = vb;
        }
        act[i] = __float2bfloat16(gelu(__bfloat162float(vb)));
    }
}

static int grid_for(size_t total)
{
    size_t g = (total + 255) / 256;
    return (int)(g < 65535 * 8 ? g : 65535 * 8);
}

/* The same, eight elements (16 bytes) a thread: the scalar form moved
 * 1.2 TB/s on the H100, a third of what the memory gives. */
__global__ static void bias_gelu8_kernel(const bf16 *y, const float *bias, bf16 *inter, bf16 *act, size_t total8, int c)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total8; i += (size_t)gridDim.x * blockDim.x) {
        uint4 v = ((const uint4 *)y)[i], o;
        bf16 *e = (bf16 *)&v, *r = (bf16 *)&o;
        if (bias) {
            int col = (int)((i * 8) % (size_t)c);
            for (int k = 0; k < 8; k++) e[k] = __float2bfloat16(__bfloat162float(e[k]) + bias[col + k]);
            ((uint4 *)inter)[i] = v;
        }
        for (int k = 0; k < 8; k++) r[k] = __float2bfloat16(gelu(__bfloat162float(e[k])));
        ((uint4 *)act)[i] = o;
    }
}

static int aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }

void k_bias_gelu(const bf16 *y, const float *bias, bf16 *inter, bf16 *act, int n, int c, cudaStream_t st)
{
    size_t total = (size_t)n * c;
    if (c % 8 == 0 && aligned16(y) && aligned16(inter) && aligned16(act))
        bias_gelu8_kernel<<<grid_for(total / 8), 256, 0, st>>>(y, bias, inter, act, total / 8, c);
    else bias_gelu_kernel<<<grid_for(total), 256, 0, st>>>(y, bias, inter, act, total, c);
    CUDA_CHECK(cudaGetLastError());
}

__global__ static void gelu_bwd_kernel(const bf16 *dy, const bf16 *inter, bf16 *dx, size_t total)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        float x = __bfloat162float(inter[i]);
        float cdf = 0.5f * (1.0f + erff(x * 0.70710678f)), pdf = expf(-0.5f * x * x) * 0.39894228f;
        dx[i] = __float2bfloat16(__bfloat162float(dy[i]) * (cdf + x * pdf));
    }
}

void k_gelu_bwd(const bf16 *dy, const bf16 *inter, bf16 *dx, int n, int c, cudaStream_t st)
{
    size_t total = (size_t)n * c;
    gelu_bwd_kernel<<<grid_for(total), 256, 0, st>>>(dy, inter, dx, total);
    CUDA_CHECK(cudaGetLastError());
}

__global__ static void bias_add_kernel(bf16 *y, const float *bias, size_t total, int c)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x)
        y[i] = __float2bfloat16(__bfloat162float(y[i]) + bias[i % c]);
}

/* The same, eight elements (16 bytes) a thread: rows of c % 8 == 0. */
__global__ static void bias_add8_kernel(bf16 *y, const float *bias, size_t total8, int c8)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= total8) return;
    const int c0 = (int)(i % c8) * 8;
    uint4 v = ((const uint4 *)y)[i];
    __nv_bfloat162 *p = (__nv_bfloat162 *)&v;
    for (int k = 0; k < 4; k++) {
        float2 f = __bfloat1622float2(p[k]);
        f.x += bias[c0 + 2 * k], f.y += bias[c0 + 2 * k + 1];
        p[k] = __float22bfloat162_rn(f);
    }
    ((uint4 *)y)[i] = v;
}

void k_bias_add(bf16 *y, const float *bias, int n, int c, cudaStream_t st)
{
    size_t total = (size_t)n * c;
    if (c % 8 == 0) {
        bias_add8_kernel<<<(unsigned)((total / 8 + 255) / 256), 256, 0, st>>>(y, bias, total / 8, c / 8);
    } else {
        bias_add_kernel<<<grid_for(total), 256, 0, st>>>(y, bias, total, c);
    }
    CUDA_CHECK(cudaGetLastError());
}

/* 32 columns a block, 8 row lanes, COLSUM_ROWS rows a block. */
#define COLSUM_ROWS 256
__global__ static void colsum_kernel(const bf16 *dy, float *db, int n, int c, int ld)
{
    __shared__ float part[8][33];
    int col = blockIdx.x * 32 + threadIdx.x, r0 = blockIdx.y * COLSUM_ROWS;
    float s = 0;
    if (col < c)
        for (int r = r0 + threadIdx.y; r < r0 + COLSUM_ROWS && r < n; r += 8) s += __bfloat162float(dy[(size_t)r * ld + col]);
    part[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && col < c) {
        for (int k = 1; k < 8; k++) s += part[k][threadIdx.x];
        atomicAdd(db + col, s);
    }
}

void k_colsum(const bf16 *dy, float *db, int n, int c, int ld, cudaStream_t st)
{
    dim3 grid((c + 31) / 32, (n + COLSUM_ROWS - 1) / COLSUM_ROWS), block(32, 8);
    colsum_kernel<<<grid, block, 0, st>>>(dy, db, n, c, ld);
    CUDA_CHECK(cudaGetLastError());
}

/* One warp a row of t scores (t <= 32 x SOFTMAX_MAX_PER_LANE). */
#define SOFTMAX_MAX_PER_LANE 32
__global__ static void softmax_kernel(bf16 *s, bf16 *pd, int rows, int t, drop_t d)
{
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    bf16 *sr = s + (size_t)row * t;
    float v[SOFTMAX_MAX_PER_LANE], mx = -INFINITY, z = 0;
    for (int j = lane, k = 0; j < t; j += 32, k++) mx = fmaxf(mx, v[k] = __bfloat162float(sr[j]));
    for (int o = 16; o; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    for (int j = lane, k = 0; j < t; j += 32, k++) z += (v[k] = __expf(v[k] - mx));
    for (int o = 16; o; o >>= 1) z += __shfl_xor_sync(0xffffffffu, z, o);
    for (int j = lane, k = 0; j < t; j += 32, k++) {
        size_t i = (size_t)row * t + j;
        bf16 p = __float2bfloat16(v[k] / z);
        sr[j] = p;
        pd[i] = __float2bfloat16(__bfloat162float(p) * keep_scale(d, i));
    }
}

static void softmax_limits(int t)
{
    if (t > 32 * SOFTMAX_MAX_PER_LANE) {
        fprintf(stderr, "%s: sequence length %d is over the softmax kernel's %d\n", wl_gpu_prog, t, 32 * SOFTMAX_MAX_PER_LANE);
        exit(2);
    }
}

void k_softmax(bf16 *s, bf16 *pd, int rows, int t, drop_t d, cudaStream_t st)
{
    softmax_limits(t);
    softmax_kernel<<<(rows + 7) / 8, 256, 0, st>>>(s, pd, rows, t, d);
    CUDA_CHECK(cudaGetLastError());
}

__global__ static void dropout_kernel(const bf16 *x, bf16 *y, size_t n, drop_t d)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        y[i] = __float2bfloat16(__bfloat162float(x[i]) * keep_scale(d, i));
}

void k_dropout(const bf16 *x, bf16 *y, size_t n, drop_t d, cudaStream_t st)
{
    dropout_kernel<<<grid_for(n), 256, 0, st>>>(x, y, n, d);
    CUDA_CHECK(cudaGetLastError());
}

__global__ static void softmax_bwd_kernel(const bf16 *dpd, const bf16 *p, bf16 *ds, int rows, int t, float scale, drop_t d)
{
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    float dp[SOFTMAX_MAX_PER_LANE], pv[SOFTMAX_MAX_PER_LANE], dot = 0;
    for (int j = lane, k = 0; j < t; j += 32, k++) {
        size_t i = (size_t)row * t + j;
        dp[k] = __bfloat162float(dpd[i]) * keep_scale(d, i);
        pv[k] = __bfloat162float(p[i]);
        dot += dp[k] * pv[k];
    }
    for (int o = 16; o; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
    for (int j = lane, k = 0; j < t; j += 32, k++) ds[(size_t)row * t + j] = __float2bfloat16(pv[k] * (dp[k] - dot) * scale);
}

void k_softmax_bwd(const bf16 *dpd, const bf16 *p, bf16 *ds, int rows, int t, float scale, drop_t d, cudaStream_t st)
{
    softmax_limits(t);
    softmax_bwd_kernel<<<(rows + 7) / 8, 256, 0, st>>>(dpd, p, ds, rows, t, scale, d);
    CUDA_CHECK(cudaGetLastError());
}

__global__ static void gather_kernel(const bf16 *x, const int *pos, bf16 *rows, int h, int scatter)
{
    size_t k = blockIdx.x, src = (size_t)pos[k];
    for (int j = threadIdx.x; j < h; j += blockDim.x) {
        if (scatter) rows[src * h + j] = x[k * h + j];
        else rows[k * h + j] = x[src * h + j];
    }
}

void k_gather_rows(const bf16 *x, const int *pos, bf16 *rows, int m, int h, cudaStream_t st)
{
    gather_kernel<<<m, ROW_THREADS, 0, st>>>(x, pos, rows, h, 0);
    CUDA_CHECK(cudaGetLastError());
}

void k_scatter_rows(const bf16 *rows, const int *pos, bf16 *x, int m, int h, cudaStream_t st)
{
    gather_kernel<<<m, ROW_THREADS, 0, st>>>(rows, pos, x, h, 1);
    CUDA_CHECK(cudaGetLastError());
}

__global__ static void xent_kernel(const bf16 *logits, const float *bias, const int *labels, float *loss, bf16 *dl, int m,
                                   int v, int ld)
{
    size_t r = blockIdx.x;
    const bf16 *l = logits + r * ld;
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < v; j += blockDim.x) mx = fmaxf(mx, __bfloat162float(l[j]) + bias[j]);
    /* max over the block: the sum helper on -inf-safe values would not do */
    __shared__ float red[32];
    for (int o = 16; o; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = mx;
    __syncthreads();
    mx = -INFINITY;
    for (int k = 0; k < (int)(blockDim.x >> 5); k++) mx = fmaxf(mx, red[k]);
    float z = 0;
    for (int j = threadIdx.x; j < v; j += blockDim.x) z += __expf(__bfloat162float(l[j]) + bias[j] - mx);
    z = block_sum(z);
    int y = labels[r];
    for (int j = threadIdx.x; j < v; j += blockDim.x) {
        float pr = __expf(__bfloat162float(l[j]) + bias[j] - mx) / z;
        dl[r * ld + j] = __float2bfloat16((pr - (j == y ? 1.0f : 0.0f)) / m);
    }
    if (threadIdx.x == 0) atomicAdd(loss, (logf(z) + mx - (__bfloat162float(l[y]) + bias[y])) / m);
}

void k_xent(const bf16 *logits, const float *bias, const int *labels, float *loss, bf16 *dlogits, int m, int v, int ld,
            cudaStream_t st)
{
    xent_kernel<<<m, 512, 0, st>>>(logits, bias, labels, loss, dlogits, m, v, ld);
    CUDA_CHECK(cudaGetLastError());
}

__global__ static void sumsq_kernel(const float *g, size_t n, double *out)
{
    float s = 0;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) s += g[i] * g[i];
    s = block_sum(s);
    if (threadIdx.x == 0) atomicAdd(out, (double)s);
}

void k_sumsq(const float *g, size_t n, double *sumsq, cudaStream_t st)
{
    sumsq_kernel<<<1024, 256, 0, st>>>(g, n, sumsq);
    CUDA_CHECK(cudaGetLastError());
}

__global__ static void adamw_kernel(float *p, const float *g, float *m, float *v, bf16 *w, size_t n, size_t n_decay,
                                    size_t n_w, float lr, float wd, float c1, float c2, const double *sumsq, float clip)
{
    float scale = 1.0f;
    if (clip > 0) {
        float norm = (float)sqrt(*sumsq);
        if (norm > clip) scale = clip / norm;
    }
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float gi = g[i] * scale, pi = p[i];
        if (i < n_decay) pi -= lr * wd * pi;
        float mi = 0.9f * m[i] + 0.1f * gi, vi = 0.999f * v[i] + 0.001f * gi * gi;
        m[i] = mi, v[i] = vi;
        pi -= lr * (mi / c1) / (sqrtf(vi / c2) + 1e-6f);
        p[i] = pi;
        if (i < n_w) w[i] = __float2bfloat16(pi);
    }
}

void k_adamw(float *p, const float *g, float *m, float *v, bf16 *w, size_t n, size_t n_decay, size_t n_w, float lr,
             float wd, long t, const double *sumsq, float clip, cudaStream_t st)
{
    float c1 = (float)(1 - pow(0.9, (double)t)), c2 = (float)(1 - pow(0.999, (double)t));
    adamw_kernel<<<grid_for(n), 256, 0, st>>>(p, g, m, v, w, n, n_decay, n_w, lr, wd, c1, c2, sumsq, clip);
    CUDA_CHECK(cudaGetLastError());
}

__global__ static void to_bf16_kernel(const float *x, bf16 *y, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        y[i] = __float2bfloat16(x[i]);
}

void k_to_bf16(const float *x, bf16 *y, size_t n, cudaStream_t st)
{
    to_bf16_kernel<<<grid_for(n), 256, 0, st>>>(x, y, n);
    CUDA_CHECK(cudaGetLastError());
}

__global__ static void from_bf16_kernel(const bf16 *x, float *y, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        y[i] = __bfloat162float(x[i]);
}

void k_from_bf16(const bf16 *x, float *y, size_t n, cudaStream_t st)
{
    from_bf16_kernel<<<grid_for(n), 256, 0, st>>>(x, y, n);
    CUDA_CHECK(cudaGetLastError());
}

__global__ static void add_kernel(bf16 *y, const bf16 *x, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        y[i] = __float2bfloat16(__bfloat162float(y[i]) + __bfloat162float(x[i]));
}

void k_add(bf16 *y, const bf16 *x, size_t n, cudaStream_t st)
{
    add_kernel<<<grid_for(n), 256, 0, st>>>(y, x, n);
    CUDA_CHECK(cudaGetLastError());
}

__global__ static void embed_bwd_kernel(const int *ids, const bf16 *dx, float *dword, float *dpos, float *dtype, int t, int h)
{
    size_t r = blockIdx.x;
    float *w = dword + (size_t)ids[r] * h, *p = dpos + (size_t)(r % t) * h;
    for (int k = threadIdx.x; k < h; k += blockDim.x) {
        float v = __bfloat162float(dx[r * h + k]);
        atomicAdd(w + k, v);
        atomicAdd(p + k, v);
        atomicAdd(dtype + k, v);
    }
}

void k_embed_bwd(const int *ids, const bf16 *dx, float *dword, float *dpos, float *dtype, int n, int t, int h,
                 cudaStream_t st)
{
    embed_bwd_kernel<<<n, ROW_THREADS, 0, st>>>(ids, dx, dword, dpos, dtype, t, h);
    CUDA_CHECK(cudaGetLastError());
}
