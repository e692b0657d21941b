/* Direct convolution in NHWC/KRSC: every inner loop runs over contiguous
 * channels, which the compiler vectorises. */
#include <string.h>

#include "layers_cpu.h"

static float dot(const float *a, const float *b, int n)
{
    float s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void axpy(float a, const float *x, float *y, int n)
{
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

void conv_forward_cpu(const conv_shape *s, const float *x, const float *w, float *y)
{
    for (int n = 0; n < s->n; n++)
        for (int p = 0; p < s->p; p++)
            for (int q = 0; q < s->q; q++) {
                float *yo = y + (((size_t)n * s->p + p) * s->q + q) * s->k;
                memset(yo, 0, (size_t)s->k * sizeof *yo);
                for (int r = 0; r < s->r; r++) {
                    int h = p * s->stride - s->pad + r;
                    if (h < 0 || h >= s->h) continue;
                    for (int t = 0; t < s->r; t++) {
                        int ww = q * s->stride - s->pad + t;
                        if (ww < 0 || ww >= s->w) continue;
                        const float *xi = x + (((size_t)n * s->h + h) * s->w + ww) * s->c;
                        for (int k = 0; k < s->k; k++)
                            yo[k] += dot(xi, w + (((size_t)k * s->r + r) * s->r + t) * s->c, s->c);
                    }
                }
            }
}

void conv_backward_data_cpu(const conv_shape *s, const float *dy, const float *w, float *dx, int accumulate)
{
    if (!accumulate) memset(dx, 0, (size_t)s->n * s->h * s->w * s->c * sizeof *dx);
    for (int n = 0; n < s->n; n++)
        for (int p = 0; p < s->p; p++)
            for (int q = 0; q < s->q; q++) {
                const float *g = dy + (((size_t)n * s->p + p) * s->q + q) * s->k;
                for (int r = 0; r < s->r; r++) {
                    int h = p * s->stride - s->pad + r;
                    if (h < 0 || h >= s->h) continue;
                    for (int t = 0; t < s->r; t++) {
                        int ww = q * s->stride - s->pad + t;
                        if (ww < 0 || ww >= s->w) continue;
                        float *dxi = dx + (((size_t)n * s->h + h) * s->w + ww) * s->c;
                        for (int k = 0; k < s->k; k++)
                            axpy(g[k], w + (((size_t)k * s->r + r) * s->r + t) * s->c, dxi, s->c);
                    }
                }
            }
}

void conv_backward_filter_cpu(const conv_shape *s, const float *x, const float *dy, float *dw)
{
    memset(dw, 0, (size_t)s->k * s->r * s->r * s->c * sizeof *dw);
    for (int n = 0; n < s->n; n++)
        for (int p = 0; p < s->p; p++)
            for (int q = 0; q < s->q; q++) {
                const float *g = dy + (((size_t)n * s->p + p) * s->q + q) * s->k;
                for (int r = 0; r < s->r; r++) {
                    int h = p * s->stride - s->pad + r;
                    if (h < 0 || h >= s->h) continue;
                    for (int t = 0; t < s->r; t++) {
                        int ww = q * s->stride - s->pad + t;
                        if (ww < 0 || ww >= s->w) continue;
                        const float *xi = x + (((size_t)n * s->h + h) * s->w + ww) * s->c;
                        for (int k = 0; k < s->k; k++)
                            axpy(g[k], xi, dw + (((size_t)k * s->r + r) * s->r + t) * s->c, s->c);
                    }
                }
            }
}
