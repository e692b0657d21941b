#include "bert_layers_cpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wl_rng.h"

void linear_fwd_cpu(size_t n, int in, int out, const float *x, const float *w, const float *b, float *y)
{
    for (size_t i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0;
            const float *xr = x + i * in, *wr = w + (size_t)o * in;
            for (int k = 0; k < in; k++) s += (double)xr[k] * wr[k];
            y[i * out + o] = (float)s;
        }
}

void linear_bwd_cpu(size_t n, int in, int out, const float *x, const float *w, const float *dy, float *dx, float *dw,
                    float *db)
{
    if (dx)
        for (size_t i = 0; i < n; i++)
            for (int k = 0; k < in; k++) {
                double s = 0;
                for (int o = 0; o < out; o++) s += (double)dy[i * out + o] * w[(size_t)o * in + k];
                dx[i * in + k] = (float)s;
            }
    for (int o = 0; o < out; o++) {
        double sb = 0;
        for (size_t i = 0; i < n; i++) sb += dy[i * out + o];
        if (db) db[o] += (float)sb;
        for (int k = 0; k < in; k++) {
            double s = 0;
            for (size_t i = 0; i < n; i++) s += (double)dy[i * out + o] * x[i * in + k];
            dw[(size_t)o * in + k] += (float)s;
        }
    }
}

#define LN_EPS 1e-12

void layernorm_fwd_cpu(size_t n, int c, const float *x, const float *g, const float *b, float *y, float *mean,
                       float *rstd)
{
    for (size_t i = 0; i < n; i++) {
        const float *xr = x + i * c;
        double m = 0, v = 0;
        for (int k = 0; k < c; k++) m += xr[k];
        m /= c;
        for (int k = 0; k < c; k++) v += (xr[k] - m) * (xr[k] - m);
        double rs = 1.0 / sqrt(v / c + LN_EPS);
        for (int k = 0; k < c; k++) y[i * c + k] = (float)((xr[k] - m) * rs * g[k] + b[k]);
        mean[i] = (float)m;
        rstd[i] = (float)rs;
    }
}

void layernorm_bwd_cpu(size_t n, int c, const float *x, const float *dy, const float *g, const float *mean,
                       const float *rstd, float *dx, float *dg, float *db)
{
    for (size_t i = 0; i < n; i++) {
        const float *xr = x + i * c, *dr = dy + i * c;
        /* dxhat = dy g; dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) */
        double s1 = 0, s2 = 0;
        for (int k = 0; k < c; k++) {
            double xh = (xr[k] - mean[i]) * rstd[i], dxh = (double)dr[k] * g[k];
            s1 += dxh;
            s2 += dxh * xh;
            dg[k] += (float)(dr[k] * xh);
            db[k] += dr[k];
        }
        s1 /= c, s2 /= c;
        for (int k = 0; k < c; k++) {
            double xh = (xr[k] - mean[i]) * rstd[i], dxh = (double)dr[k] * g[k];
            dx[i * c + k] = (float)(rstd[i] * (dxh - s1 - xh * s2));
        }
    }
}

void gelu_fwd_cpu(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++) y[i] = (float)(0.5 * x[i] * (1 + erf(x[i] * M_SQRT1_2)));
}

void gelu_bwd_cpu(size_t n, const float *x, const float *dy, float *dx)
{
    for (size_t i = 0; i < n; i++) {
        double cdf = 0.5 * (1 + erf(x[i] * M_SQRT1_2)), pdf = exp(-0.5 * (double)x[i] * x[i]) / sqrt(2 * M_PI);
        dx[i] = (float)(dy[i] * (cdf + x[i] * pdf));
    }
}

void dropout_fwd_cpu(size_t n, const float *x, float *y, float p, uint64_t seed, uint64_t stream)
{
    float scale = p > 0 ? 1.0f / (1.0f - p) : 1.0f;
    for (size_t i = 0; i < n; i++) y[i] = p > 0 && wl_uniform(seed, stream, i) < p ? 0.0f : x[i] * scale;
}

void dropout_bwd_cpu(size_t n, const float *dy, float *dx, float p, uint64_t seed, uint64_t stream)
{
    dropout_fwd_cpu(n, dy, dx, p, seed, stream);
}

void attention_fwd_cpu(int b, int t, int hidden, int heads, const float *qkv, float *probs, float *out, float p,
                       uint64_t seed, uint64_t stream)
{
    int d = hidden / heads;
    size_t row = 3 * (size_t)hidden;
    double scale = 1.0 / sqrt(d), keep_scale = p > 0 ? 1.0 / (1.0 - p) : 1.0;
    double *s = malloc((size_t)t * sizeof *s);
    for (int n = 0; n < b; n++)
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < t; i++) {
                const float *q = qkv + ((size_t)n * t + i) * row + (size_t)h * d;
                double mx = -INFINITY, z = 0;
                for (int j = 0; j < t; j++) {
                    const float *k = qkv + ((size_t)n * t + j) * row + hidden + (size_t)h * d;
                    double dot = 0;
                    for (int e = 0; e < d; e++) dot += (double)q[e] * k[e];
                    s[j] = dot * scale;
                    mx = s[j] > mx ? s[j] : mx;
                }
                for (int j = 0; j < t; j++) z += (s[j] = exp(s[j] - mx));
                size_t prow = (((size_t)n * heads + h) * t + i) * t;
                for (int j = 0; j < t; j++) probs[prow + j] = (float)(s[j] / z);
                float *o = out + ((size_t)n * t + i) * hidden + (size_t)h * d;
                for (int e = 0; e < d; e++) {
                    double acc = 0;
                    for (int j = 0; j < t; j++) {
                        double pj = probs[prow + j];
                        if (p > 0) pj = wl_uniform(seed, stream, prow + j) < p ? 0 : pj * keep_scale;
                        acc += pj * qkv[((size_t)n * t + j) * row + 2 * (size_t)hidden + (size_t)h * d + e];
                    }
                    o[e] = (float)acc;
                }
            }
    free(s);
}

void attention_bwd_cpu(int b, int t, int hidden, int heads, const float *qkv, const float *probs, const float *dout,
                       float *dqkv, float p, uint64_t seed, uint64_t stream)
{
    int d = hidden / heads;
    size_t row = 3 * (size_t)hidden;
    double scale = 1.0 / sqrt(d), keep_scale = p > 0 ? 1.0 / (1.0 - p) : 1.0;
    memset(dqkv, 0, (size_t)b * t * row * sizeof *dqkv);
    double *dp = malloc((size_t)t * sizeof *dp);
    for (int n = 0; n < b; n++)
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < t; i++) {
                size_t prow = (((size_t)n * heads + h) * t + i) * t;
                const float *go = dout + ((size_t)n * t + i) * hidden + (size_t)h * d;
                /* dV_j += P'_ij dO_i; dP'_ij = dO_i . V_j; P' the dropped probabilities */
                double dot_pd = 0;
                for (int j = 0; j < t; j++) {
                    double m = p > 0 ? (wl_uniform(seed, stream, prow + j) < p ? 0 : keep_scale) : 1;
                    const float *v = qkv + ((size_t)n * t + j) * row + 2 * (size_t)hidden + (size_t)h * d;
                    float *dv = dqkv + ((size_t)n * t + j) * row + 2 * (size_t)hidden + (size_t)h * d;
                    double acc = 0;
                    for (int e = 0; e < d; e++) {
                        acc += (double)go[e] * v[e];
                        dv[e] += (float)(probs[prow + j] * m * go[e]);
                    }
                    dp[j] = acc * m;
                    dot_pd += dp[j] * probs[prow + j];
                }
                /* softmax backward, then through the scaled dot product */
                const float *q = qkv + ((size_t)n * t + i) * row + (size_t)h * d;
                float *dq = dqkv + ((size_t)n * t + i) * row + (size_t)h * d;
                for (int j = 0; j < t; j++) {
                    double ds = probs[prow + j] * (dp[j] - dot_pd) * scale;
                    const float *k = qkv + ((size_t)n * t + j) * row + hidden + (size_t)h * d;
                    float *dk = dqkv + ((size_t)n * t + j) * row + hidden + (size_t)h * d;
                    for (int e = 0; e < d; e++) {
                        dq[e] += (float)(ds * k[e]);
                        dk[e] += (float)(ds * q[e]);
                    }
                }
            }
    free(dp);
}

void embed_fwd_cpu(int b, int t, int h, const int *ids, const int *types, const float *word, const float *pos,
                   const float *type, float *x)
{
    for (int n = 0; n < b; n++)
        for (int i = 0; i < t; i++) {
            size_t r = (size_t)n * t + i;
            const float *w = word + (size_t)ids[r] * h, *ps = pos + (size_t)i * h, *ty = type + (size_t)(types ? types[r] : 0) * h;
            for (int k = 0; k < h; k++) x[r * h + k] = w[k] + ps[k] + ty[k];
        }
}

void embed_bwd_cpu(int b, int t, int h, const int *ids, const int *types, const float *dx, float *dword, float *dpos,
                   float *dtype)
{
    for (int n = 0; n < b; n++)
        for (int i = 0; i < t; i++) {
            size_t r = (size_t)n * t + i;
            float *w = dword + (size_t)ids[r] * h, *ps = dpos + (size_t)i * h, *ty = dtype + (size_t)(types ? types[r] : 0) * h;
            for (int k = 0; k < h; k++) {
                w[k] += dx[r * h + k];
                ps[k] += dx[r * h + k];
                ty[k] += dx[r * h + k];
            }
        }
}

double xent_fwd_bwd_cpu(size_t n, int v, const float *logits, const int *labels, float *dlogits)
{
    double loss = 0;
    for (size_t i = 0; i < n; i++) {
        const float *l = logits + i * v;
        double mx = l[0], z = 0;
        for (int j = 1; j < v; j++) mx = l[j] > mx ? l[j] : mx;
        for (int j = 0; j < v; j++) z += exp(l[j] - mx);
        loss += log(z) + mx - l[labels[i]];
        if (dlogits)
            for (int j = 0; j < v; j++) dlogits[i * v + j] = (float)((exp(l[j] - mx) / z - (j == labels[i])) / (double)n);
    }
    return n ? loss / (double)n : 0;
}

void adamw_cpu(size_t n, size_t n_decay, float *p, const float *g, float *m, float *v, float lr, float b1, float b2,
               float eps, float wd, long t)
{
    double c1 = 1 - pow(b1, (double)t), c2 = 1 - pow(b2, (double)t);
    for (size_t i = 0; i < n; i++) {
        if (i < n_decay) p[i] -= lr * wd * p[i];
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        p[i] -= (float)(lr * (m[i] / c1) / (sqrt(v[i] / c2) + eps));
    }
}

double global_norm_cpu(size_t n, const float *g)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return sqrt(s);
}
