#include "bert_gpu_attn.h"

#include <math.h>
#include <mma.h>

#include "gpu_check.h"

using namespace nvcuda;

#define HD 64      /* head size */
#define TILE 64    /* rows of a query or key tile */
#define WARPS 4    /* a warp owns 16 of a tile's rows */
#define LDB 72     /* bf16 row stride in shared memory: padded against bank conflicts, 16-byte rows */
#define LDF 68     /* fp32 row stride */
#define TILE_BYTES (TILE * LDB * 2)
#define WARP_F32 (16 * LDF)
#define WARP_BYTES (2 * WARP_F32 * 4 + 16 * LDB * 2) /* two fp32 16 x 64 buffers and one bf16 */

typedef wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> frag_a;
typedef wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> frag_bt; /* B given transposed */
typedef wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major> frag_b;
typedef wmma::fragment<wmma::accumulator, 16, 16, 16, float> frag_c;

bool attn_fused_fits(int t, int head_size) { return head_size == HD && t % TILE == 0; }

/* 64 rows of 64 bf16 from global rows `stride` apart into a padded tile. */
__device__ static void load_tile(bf16 *dst, const bf16 *src, size_t stride)
{
    for (int k = threadIdx.x; k < TILE * 8; k += blockDim.x) {
        int r = k >> 3, c = (k & 7) * 8;
        *(uint4 *)(dst + r * LDB + c) = *(const uint4 *)(src + r * stride + c);
    }
}

/* out (16 x 64 fp32, row stride LDF) = A (16 x 64) B^T where B is 64 rows
 * of 64 (a tile): the rows of A against the rows of B. */
__device__ static void mm_abt(float *out, const bf16 *a, const bf16 *b)
{
    for (int n = 0; n < 4; n++) {
        frag_c acc;
        wmma::fill_fragment(acc, 0.0f);
        for (int k = 0; k < 4; k++) {
            frag_a fa;
            frag_bt fb;
            wmma::load_matrix_sync(fa, a + k * 16, LDB);
            wmma::load_matrix_sync(fb, b + n * 16 * LDB + k * 16, LDB);
            wmma::mma_sync(acc, fa, fb, acc);
        }
        wmma::store_matrix_sync(out + n * 16, acc, LDF, wmma::mem_row_major);
    }
}

/* acc[n] (16 x 16 each, 16 x 64 in all) += A (16 x 64, bf16, stride LDB) B (64 x 64 tile). */
__device__ static void mm_ab_acc(frag_c acc[4], const bf16 *a, const bf16 *b)
{
    for (int n = 0; n < 4; n++)
        for (int k = 0; k < 4; k++) {
            frag_a fa;
            frag_b fb;
            wmma::load_matrix_sync(fa, a + k * 16, LDB);
            wmma::load_matrix_sync(fb, b + k * 16 * LDB + n * 16, LDB);
            wmma::mma_sync(acc[n], fa, fb, acc[n]);
        }
}

/* 32 values as bf16 to global memory, 16 bytes at a time. */
__device__ static void store32(bf16 *dst, const float *v, float scale)
{
    for (int c = 0; c < 32; c += 8) {
        __align__(16) bf16 x[8];
        for (int e = 0; e < 8; e++) x[e] = __float2bfloat16(v[c + e] * scale);
        *(uint4 *)(dst + c) = *(const uint4 *)x;
    }
}

/* Grid (t / 64 query tiles, heads, b). Each warp: 16 queries; each lane:
 * half a query row (32 keys of a tile, 32 output columns): row lane % 16,
 * half lane / 16. A lane starts its walk along the row at a column rotated
 * by its row and half, so the 32 lanes hit 32 different banks of shared
 * memory at every step. */
__global__ void __launch_bounds__(WARPS * 32) attn_fwd(const bf16 *qkv, bf16 *out, float *lse, int t, int heads, float scale,
                                                       drop_t dr)
{
    extern __shared__ __align__(128) unsigned char sm[];
    bf16 *Qs = (bf16 *)sm, *Ks = Qs + TILE * LDB, *Vs = Ks + TILE * LDB;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    float *S = (float *)(sm + 3 * TILE_BYTES + warp * WARP_BYTES), *O = S + WARP_F32;
    bf16 *P = (bf16 *)(O + WARP_F32);
    const int qt = blockIdx.x, hh = blockIdx.y, s = blockIdx.z, h = heads * HD;
    const size_t rs = 3 * (size_t)h;
    const bf16 *base = qkv + (size_t)s * t * rs + hh * HD;
    load_tile(Qs, base + (size_t)qt * TILE * rs, rs);
    const int r = lane & 15, c0 = (lane >> 4) * 32, rot = r + (lane >> 4) * 16, qi = qt * TILE + warp * 16 + r;
    for (int c = 0; c < 32; c++) O[r * LDF + c0 + c] = 0.0f;
    const uint64_t prow = (((uint64_t)s * heads + hh) * t + qi) * (uint64_t)t;
    float m = -INFINITY, l = 0.0f;
    for (int kt = 0; kt < t / TILE; kt++) {
        __syncthreads(); /* every warp is done with the last K and V */
        load_tile(Ks, base + h + (size_t)kt * TILE * rs, rs);
        load_tile(Vs, base + 2 * h + (size_t)kt * TILE * rs, rs);
        __syncthreads();
        mm_abt(S, Qs + warp * 16 * LDB, Ks);
        __syncwarp();
        float v[32], mx = -INFINITY;
#pragma unroll
        for (int i = 0; i < 32; i++) mx = fmaxf(mx, v[i] = S[r * LDF + c0 + ((i + rot) & 31)] * scale);
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 16));
        const float mnew = fmaxf(m, mx), alpha = __expf(m - mnew);
        float sum = 0.0f;
#pragma unroll
        for (int i = 0; i < 32; i++) {
            const int c = c0 + ((i + rot) & 31);
            float p = __expf(v[i] - mnew);
            sum += p;
            P[r * LDB + c] = __float2bfloat16(p * keep_scale(dr, prow + kt * TILE + c));
        }
        sum += __shfl_xor_sync(0xffffffffu, sum, 16);
        l = l * alpha + sum;
        m = mnew;
        __syncwarp();
        /* this tile's P V into S, then O = O alpha + P V */
        frag_c acc[4];
        for (int n = 0; n < 4; n++) wmma::fill_fragment(acc[n], 0.0f);
        mm_ab_acc(acc, P, Vs);
        for (int n = 0; n < 4; n++) wmma::store_matrix_sync(S + n * 16, acc[n], LDF, wmma::mem_row_major);
        __syncwarp();
        for (int i = 0; i < 32; i++) {
            const int c = r * LDF + c0 + ((i + rot) & 31);
            O[c] = O[c] * alpha + S[c];
        }
        __syncwarp();
    }
    store32(out + ((size_t)s * t + qi) * h + hh * HD + c0, O + r * LDF + c0, 1.0f / l);
    if (lane < 16) lse[((size_t)s * heads + hh) * t + qi] = m + logf(l);
}

/* delta[row] = dout[row] . out[row] over the head's 64 columns: one warp a row. */
__global__ void attn_delta(const bf16 *out, const bf16 *dout, float *delta, int rows, int t, int heads)
{
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    int i = row % t, hh = (row / t) % heads, s = row / (t * heads);
    size_t off = ((size_t)s * t + i) * heads * HD + hh * HD + 2 * lane;
    float v = __bfloat162float(out[off]) * __bfloat162float(dout[off]) +
              __bfloat162float(out[off + 1]) * __bfloat162float(dout[off + 1]);
    for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (!lane) delta[row] = v;
}

/* Grid (t / 64 key tiles, heads, b): dK and dV of a key tile, the query
 * tiles streamed. Each warp: 16 keys; each lane: half a key row (32
 * queries of a tile). Works on the transposed scores S^T (keys x queries). */
__global__ void __launch_bounds__(WARPS * 32) attn_bwd_kv(const bf16 *qkv, const bf16 *dout, const float *lse,
                                                          const float *delta, bf16 *dqkv, int t, int heads, float scale,
                                                          drop_t dr)
{
    extern __shared__ __align__(128) unsigned char sm[];
    bf16 *Ks = (bf16 *)sm, *Vs = Ks + TILE * LDB, *Qs = Vs + TILE * LDB, *Ds = Qs + TILE * LDB;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    float *A = (float *)(sm + 4 * TILE_BYTES + warp * WARP_BYTES), *C = A + WARP_F32;
    bf16 *P = (bf16 *)(C + WARP_F32);
    float *lse_s = (float *)(sm + 4 * TILE_BYTES + WARPS * WARP_BYTES), *delta_s = lse_s + TILE;
    const int kt = blockIdx.x, hh = blockIdx.y, s = blockIdx.z, h = heads * HD;
    const size_t rs = 3 * (size_t)h;
    const bf16 *base = qkv + (size_t)s * t * rs + hh * HD, *dbase = dout + (size_t)s * t * h + hh * HD;
    const float *lrow = lse + ((size_t)s * heads + hh) * t, *drow = delta + ((size_t)s * heads + hh) * t;
    load_tile(Ks, base + h + (size_t)kt * TILE * rs, rs);
    load_tile(Vs, base + 2 * h + (size_t)kt * TILE * rs, rs);
    const int r = lane & 15, c0 = (lane >> 4) * 32, rot = r + (lane >> 4) * 16, kj = kt * TILE + warp * 16 + r;
    const uint64_t head0 = ((uint64_t)s * heads + hh) * t;
    frag_c dK[4], dV[4];
    for (int n = 0; n < 4; n++) wmma::fill_fragment(dK[n], 0.0f), wmma::fill_fragment(dV[n], 0.0f);
    for (int qt = 0; qt < t / TILE; qt++) {
        __syncthreads();
        load_tile(Qs, base + (size_t)qt * TILE * rs, rs);
        load_tile(Ds, dbase + (size_t)qt * TILE * h, h);
        if (threadIdx.x < TILE) lse_s[threadIdx.x] = lrow[qt * TILE + threadIdx.x], delta_s[threadIdx.x] = drow[qt * TILE + threadIdx.x];
        __syncthreads();
        mm_abt(A, Ks + warp * 16 * LDB, Qs); /* S^T */
        mm_abt(C, Vs + warp * 16 * LDB, Ds); /* dP'^T: the dropped probabilities' gradient */
        __syncwarp();
#pragma unroll 4
        for (int i = 0; i < 32; i++) {
            const int q = c0 + ((i + rot) & 31);
            float p = __expf(A[r * LDF + q] * scale - lse_s[q]);
            float keep = keep_scale(dr, (head0 + qt * TILE + q) * (uint64_t)t + kj);
            P[r * LDB + q] = __float2bfloat16(p * keep);
            A[r * LDF + q] = p * (C[r * LDF + q] * keep - delta_s[q]); /* dS^T */
        }
        __syncwarp();
        mm_ab_acc(dV, P, Ds); /* dV += P'^T dO */
        __syncwarp();
        for (int i = 0; i < 32; i++) {
            const int c = c0 + ((i + rot) & 31);
            P[r * LDB + c] = __float2bfloat16(A[r * LDF + c]);
        }
        __syncwarp();
        mm_ab_acc(dK, P, Qs); /* dK += dS^T Q (scaled at the end) */
        __syncwarp();
    }
    bf16 *row = dqkv + ((size_t)s * t + kj) * rs + hh * HD + c0;
    for (int n = 0; n < 4; n++) wmma::store_matrix_sync(A + n * 16, dK[n], LDF, wmma::mem_row_major);
    __syncwarp();
    store32(row + h, A + r * LDF + c0, scale);
    __syncwarp();
    for (int n = 0; n < 4; n++) wmma::store_matrix_sync(A + n * 16, dV[n], LDF, wmma::mem_row_major);
    __syncwarp();
    store32(row + 2 * h, A + r * LDF + c0, 1.0f);
}

/* Grid (t / 64 query tiles, heads, b): dQ of a query tile, the key tiles streamed. */
__global__ void __launch_bounds__(WARPS * 32) attn_bwd_q(const bf16 *qkv, const bf16 *dout, const float *lse,
                                                         const float *delta, bf16 *dqkv, int t, int heads, float scale,
                                                         drop_t dr)
{
    extern __shared__ __align__(128) unsigned char sm[];
    bf16 *Qs = (bf16 *)sm, *Ds = Qs + TILE * LDB, *Ks = Ds + TILE * LDB, *Vs = Ks + TILE * LDB;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    float *A = (float *)(sm + 4 * TILE_BYTES + warp * WARP_BYTES), *C = A + WARP_F32;
    bf16 *P = (bf16 *)(C + WARP_F32);
    const int qt = blockIdx.x, hh = blockIdx.y, s = blockIdx.z, h = heads * HD;
    const size_t rs = 3 * (size_t)h;
    const bf16 *base = qkv + (size_t)s * t * rs + hh * HD, *dbase = dout + (size_t)s * t * h + hh * HD;
    load_tile(Qs, base + (size_t)qt * TILE * rs, rs);
    load_tile(Ds, dbase + (size_t)qt * TILE * h, h);
    const int r = lane & 15, c0 = (lane >> 4) * 32, rot = r + (lane >> 4) * 16, qi = qt * TILE + warp * 16 + r;
    const size_t hrow = ((size_t)s * heads + hh) * t + qi;
    const float my_lse = lse[hrow], my_delta = delta[hrow];
    const uint64_t prow = (uint64_t)hrow * (uint64_t)t;
    frag_c dQ[4];
    for (int n = 0; n < 4; n++) wmma::fill_fragment(dQ[n], 0.0f);
    for (int kt = 0; kt < t / TILE; kt++) {
        __syncthreads();
        load_tile(Ks, base + h + (size_t)kt * TILE * rs, rs);
        load_tile(Vs, base + 2 * h + (size_t)kt * TILE * rs, rs);
        __syncthreads();
        mm_abt(A, Qs + warp * 16 * LDB, Ks); /* S */
        mm_abt(C, Ds + warp * 16 * LDB, Vs); /* dP' */
        __syncwarp();
#pragma unroll 4
        for (int i = 0; i < 32; i++) {
            const int k = c0 + ((i + rot) & 31);
            float p = __expf(A[r * LDF + k] * scale - my_lse);
            float keep = keep_scale(dr, prow + kt * TILE + k);
            P[r * LDB + k] = __float2bfloat16(p * (C[r * LDF + k] * keep - my_delta));
        }
        __syncwarp();
        mm_ab_acc(dQ, P, Ks); /* dQ += dS K (scaled at the end) */
        __syncwarp();
    }
    for (int n = 0; n < 4; n++) wmma::store_matrix_sync(A + n * 16, dQ[n], LDF, wmma::mem_row_major);
    __syncwarp();
    store32(dqkv + ((size_t)s * t + qi) * rs + hh * HD + c0, A + r * LDF + c0, scale);
}

static size_t fwd_smem(void) { return 3 * TILE_BYTES + WARPS * WARP_BYTES; }
static size_t bwd_smem(void) { return 4 * TILE_BYTES + WARPS * WARP_BYTES + 2 * TILE * sizeof(float); }

/* Over 48 KiB of shared memory a block must be asked for, once per kernel. */
static void allow_smem(void)
{
    static int done;
    if (done) return;
    done = 1;
    CUDA_CHECK(cudaFuncSetAttribute(attn_fwd, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)fwd_smem()));
    CUDA_CHECK(cudaFuncSetAttribute(attn_bwd_kv, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bwd_smem()));
    CUDA_CHECK(cudaFuncSetAttribute(attn_bwd_q, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bwd_smem()));
}

void k_attn_fwd(const bf16 *qkv, bf16 *out, float *lse, int b, int t, int heads, float scale, drop_t d, cudaStream_t st)
{
    allow_smem();
    dim3 grid(t / TILE, heads, b);
    attn_fwd<<<grid, WARPS * 32, fwd_smem(), st>>>(qkv, out, lse, t, heads, scale, d);
    CUDA_CHECK(cudaGetLastError());
}

void k_attn_bwd(const bf16 *qkv, const bf16 *out, const float *lse, const bf16 *dout, float *delta, bf16 *dqkv, int b, int t,
                int heads, float scale, drop_t d, cudaStream_t st)
{
    allow_smem();
    int rows = b * heads * t;
    attn_delta<<<(rows + 7) / 8, 256, 0, st>>>(out, dout, delta, rows, t, heads);
    CUDA_CHECK(cudaGetLastError());
    dim3 grid(t / TILE, heads, b);
    attn_bwd_kv<<<grid, WARPS * 32, bwd_smem(), st>>>(qkv, dout, lse, delta, dqkv, t, heads, scale, d);
    CUDA_CHECK(cudaGetLastError());
    attn_bwd_q<<<grid, WARPS * 32, bwd_smem(), st>>>(qkv, dout, lse, delta, dqkv, t, heads, scale, d);
    CUDA_CHECK(cudaGetLastError());
}
