/* bert_gpu_attn.h - attention that never writes the (t x t) score matrix:
 * each block holds a tile of queries (or keys) on chip and streams the
 * other side through shared memory, with the softmax kept running
 * (max and sum rescaled as tiles arrive), as flash attention does. The
 * backward pass recomputes the probabilities from the saved log-sum-exp.
 * The products run on the tensor cores (bf16 in, fp32 accumulate).
 *
 * Dropout on the probabilities uses the CPU reference's mask: element
 * (seq, head, i, j) of the (b, heads, t, t) tensor is kept when
 * wl_uniform(seed, stream, index) >= p, so no mask is stored either. */
#ifndef COTENANT_BERT_GPU_ATTN_H
#define COTENANT_BERT_GPU_ATTN_H

#include <stdbool.h>

#include "bert_gpu_kernels.h"

/* The shapes these kernels take: head size 64, sequences a multiple of 64. */
bool attn_fused_fits(int t, int head_size);

/* qkv (b t, 3 h) row-major, Q | K | V with head k at columns k*64 of each;
 * out (b t, h); lse (b heads t) the rows' log-sum-exp of the scaled scores. */
void k_attn_fwd(const bf16 *qkv, bf16 *out, float *lse, int b, int t, int heads, float scale, drop_t d, cudaStream_t st);

/* From dout (b t, h): dqkv (b t, 3 h), every column written. delta
 * (b heads t) is scratch: each row's dout . out. */
void k_attn_bwd(const bf16 *qkv, const bf16 *out, const float *lse, const bf16 *dout, float *delta, bf16 *dqkv, int b, int t,
                int heads, float scale, drop_t d, cudaStream_t st);

#endif
