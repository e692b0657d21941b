/* wl_rng.h - seeded, counter-based random numbers for synthetic data and
 * initial weights.
 *
 * Every value is a pure function of (seed, stream, index), so the CPU
 * reference and the GPU produce bit-identical inputs and weights without
 * sharing state, and any element can be regenerated on its own. Usable from
 * C and from CUDA device code. */
#ifndef COTENANT_WL_RNG_H
#define COTENANT_WL_RNG_H

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define WL_RNG_FN static __host__ __device__ inline
#else
#define WL_RNG_FN static inline
#endif

/* splitmix64's finaliser over a mixed key: good avalanche, no state. */
WL_RNG_FN uint64_t wl_hash(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t z = seed * 0x9E3779B97F4A7C15ull ^ (stream + 0x632BE59BD9B4E019ull) * 0xD1B54A32D192ED03ull ^ index;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1), 24 bits. */
WL_RNG_FN float wl_uniform(uint64_t seed, uint64_t stream, uint64_t index)
{
    return (float)(wl_hash(seed, stream, index) >> 40) * (1.0f / 16777216.0f);
}

/* Standard normal by Box-Muller on two halves of one hash. */
WL_RNG_FN float wl_normal(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t h = wl_hash(seed, stream, index);
    float u1 = ((float)(h >> 40) + 1.0f) * (1.0f / 16777217.0f); /* (0, 1] */
    float u2 = (float)((h >> 8) & 0xffffff) * (1.0f / 16777216.0f);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

#endif
