/* wl_bf16.h - bf16 rounding on the host, as the GPU's __float2bfloat16
 * (round to nearest, ties to even), so that the CPU reference can be fed
 * exactly the values a bf16 GPU run sees. */
#ifndef COTENANT_WL_BF16_H
#define COTENANT_WL_BF16_H

#include <stdint.h>
#include <string.h>

static inline uint16_t wl_float_to_bf16_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* NaN stays NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float wl_bf16_bits_to_float(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float wl_round_bf16(float f)
{
    return wl_bf16_bits_to_float(wl_float_to_bf16_bits(f));
}

#endif
