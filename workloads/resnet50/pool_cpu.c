#include <float.h>
#include <string.h>

#include "layers_cpu.h"

void maxpool_forward_cpu(int n, int h, int w, int c, int p, int q, const float *x, float *y)
{
    for (int b = 0; b < n; b++)
        for (int i = 0; i < p; i++)
            for (int j = 0; j < q; j++) {
                float *yo = y + (((size_t)b * p + i) * q + j) * c;
                for (int k = 0; k < c; k++) yo[k] = -FLT_MAX;
                for (int r = 0; r < 3; r++)
                    for (int s = 0; s < 3; s++) {
                        int hh = 2 * i - 1 + r, ww = 2 * j - 1 + s;
                        if (hh < 0 || hh >= h || ww < 0 || ww >= w) continue;
                        const float *xi = x + (((size_t)b * h + hh) * w + ww) * c;
                        for (int k = 0; k < c; k++)
                            if (xi[k] > yo[k]) yo[k] = xi[k];
                    }
            }
}

/* The gradient goes to the first input in the window equal to the maximum.
 * Ties only happen among zeros after a ReLU, whose gradient the ReLU then
 * drops, so the choice does not change the result. */
void maxpool_backward_cpu(int n, int h, int w, int c, int p, int q, const float *x, const float *y, const float *dy,
                          float *dx)
{
    memset(dx, 0, (size_t)n * h * w * c * sizeof *dx);
    for (int b = 0; b < n; b++)
        for (int i = 0; i < p; i++)
            for (int j = 0; j < q; j++) {
                size_t o = (((size_t)b * p + i) * q + j) * c;
                for (int k = 0; k < c; k++) {
                    int done = 0;
                    for (int r = 0; r < 3 && !done; r++)
                        for (int s = 0; s < 3 && !done; s++) {
                            int hh = 2 * i - 1 + r, ww = 2 * j - 1 + s;
                            if (hh < 0 || hh >= h || ww < 0 || ww >= w) continue;
                            size_t xi = (((size_t)b * h + hh) * w + ww) * c + k;
                            if (x[xi] == y[o + k]) {
                                dx[xi] += dy[o + k];
                                done = 1;
                            }
                        }
                }
            }
}

void avgpool_forward_cpu(int n, int hw, int c, const float *x, float *y)
{
    for (int b = 0; b < n; b++)
        for (int k = 0; k < c; k++) {
            double s = 0;
            for (int i = 0; i < hw; i++) s += x[((size_t)b * hw + i) * c + k];
            y[(size_t)b * c + k] = (float)(s / hw);
        }
}

void avgpool_backward_cpu(int n, int hw, int c, const float *dy, float *dx)
{
    for (int b = 0; b < n; b++)
        for (int i = 0; i < hw; i++)
            for (int k = 0; k < c; k++) dx[((size_t)b * hw + i) * c + k] = dy[(size_t)b * c + k] / (float)hw;
}
