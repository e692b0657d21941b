/* Batch norm in training mode and the element-wise layers around it.
 * Statistics are summed in double: the reference must be the accurate side
 * of every comparison. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers_cpu.h"

void bn_forward_cpu(size_t m, int c, const float *x, const float *gamma, const float *beta, float *y, float *save_mean,
                    float *save_invstd, float *running_mean, float *running_var, float momentum, float eps)
{
    double *sum = calloc((size_t)c, sizeof *sum), *sq = calloc((size_t)c, sizeof *sq);
    for (size_t i = 0; i < m; i++)
        for (int j = 0; j < c; j++) sum[j] += x[i * c + j];
    for (int j = 0; j < c; j++) sum[j] /= (double)m;
    for (size_t i = 0; i < m; i++)
        for (int j = 0; j < c; j++) {
            double d = x[i * c + j] - sum[j];
            sq[j] += d * d;
        }
    for (int j = 0; j < c; j++) {
        double var = sq[j] / (double)m, invstd = 1.0 / sqrt(var + eps);
        save_mean[j] = (float)sum[j];
        save_invstd[j] = (float)invstd;
        if (running_mean) {
            double unbiased = m > 1 ? var * (double)m / (double)(m - 1) : var;
            running_mean[j] = (float)((1 - momentum) * running_mean[j] + momentum * sum[j]);
            running_var[j] = (float)((1 - momentum) * running_var[j] + momentum * unbiased);
        }
        sq[j] = invstd;
    }
    for (size_t i = 0; i < m; i++)
        for (int j = 0; j < c; j++) y[i * c + j] = (float)(gamma[j] * (x[i * c + j] - sum[j]) * sq[j] + beta[j]);
    free(sum);
    free(sq);
}

void bn_backward_cpu(size_t m, int c, const float *x, const float *dy, const float *gamma, const float *save_mean,
                     const float *save_invstd, float *dx, float *dgamma, float *dbeta)
{
    double *sdy = calloc((size_t)c, sizeof *sdy), *sdyx = calloc((size_t)c, sizeof *sdyx);
    for (size_t i = 0; i < m; i++)
        for (int j = 0; j < c; j++) {
            double xhat = (x[i * c + j] - save_mean[j]) * save_invstd[j];
            sdy[j] += dy[i * c + j];
            sdyx[j] += dy[i * c + j] * xhat;
        }
    for (int j = 0; j < c; j++) {
        dgamma[j] = (float)sdyx[j];
        dbeta[j] = (float)sdy[j];
    }
    for (size_t i = 0; i < m; i++)
        for (int j = 0; j < c; j++) {
            double xhat = (x[i * c + j] - save_mean[j]) * save_invstd[j];
            double g = (double)gamma[j] * save_invstd[j] / (double)m;
            dx[i * c + j] = (float)(g * ((double)m * dy[i * c + j] - sdy[j] - xhat * sdyx[j]));
        }
    free(sdy);
    free(sdyx);
}

void add_relu_cpu(size_t n, float *y, const float *z)
{
    for (size_t i = 0; i < n; i++) {
        float v = y[i] + (z ? z[i] : 0.0f);
        y[i] = v > 0 ? v : 0;
    }
}

void relu_backward_cpu(size_t n, const float *y, float *dy)
{
    for (size_t i = 0; i < n; i++)
        if (!(y[i] > 0)) dy[i] = 0;
}
