/* The classifier, the loss and the optimiser. */
#include <math.h>

#include "layers_cpu.h"

void fc_forward_cpu(int n, int in, int out, const float *x, const float *w, const float *b, float *y)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            double s = b[o];
            for (int k = 0; k < in; k++) s += (double)x[(size_t)i * in + k] * w[(size_t)o * in + k];
            y[(size_t)i * out + o] = (float)s;
        }
}

void fc_backward_cpu(int n, int in, int out, const float *x, const float *w, const float *dy, float *dx, float *dw,
                     float *db)
{
    for (int i = 0; i < n; i++)
        for (int k = 0; k < in; k++) {
            double s = 0;
            for (int o = 0; o < out; o++) s += (double)dy[(size_t)i * out + o] * w[(size_t)o * in + k];
            dx[(size_t)i * in + k] = (float)s;
        }
    for (int o = 0; o < out; o++) {
        double sb = 0;
        for (int i = 0; i < n; i++) sb += dy[(size_t)i * out + o];
        db[o] = (float)sb;
        for (int k = 0; k < in; k++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += (double)dy[(size_t)i * out + o] * x[(size_t)i * in + k];
            dw[(size_t)o * in + k] = (float)s;
        }
    }
}

float softmax_xent_cpu(int n, int classes, const float *logits, const int *labels, float *dlogits)
{
    double loss = 0;
    for (int i = 0; i < n; i++) {
        const float *l = logits + (size_t)i * classes;
        float mx = l[0];
        for (int j = 1; j < classes; j++) mx = l[j] > mx ? l[j] : mx;
        double z = 0;
        for (int j = 0; j < classes; j++) z += exp((double)l[j] - mx);
        loss += log(z) + mx - l[labels[i]];
        if (dlogits)
            for (int j = 0; j < classes; j++)
                dlogits[(size_t)i * classes + j] = (float)((exp((double)l[j] - mx) / z - (j == labels[i])) / n);
    }
    return (float)(loss / n);
}

void sgd_momentum_cpu(size_t n, float *p, const float *g, float *m, float lr, float mu, float wd)
{
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        m[i] = mu * m[i] + d;
        p[i] -= lr * m[i];
    }
}
