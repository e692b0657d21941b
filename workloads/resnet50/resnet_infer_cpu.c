/* ResNet-50 inference in plain C: the reference (batch norm from running
 * statistics) and the folded form the GPU runs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers_cpu.h"
#include "resnet_infer.h"
#include "wl_rng.h"

void rn_random_bn(const rn_arch *a, float *params, float *mean, float *var, uint64_t seed)
{
    for (int i = 0; i < a->nconv; i++) {
        const rn_bn *bn = &a->bn[i];
        for (int c = 0; c < bn->c; c++) {
            uint64_t k = bn->stat_off + (uint64_t)c;
            params[bn->gamma_off + c] = 0.5f + wl_uniform(seed, 201, k);
            params[bn->beta_off + c] = 0.1f * wl_normal(seed, 202, k);
            mean[bn->stat_off + c] = 0.1f * wl_normal(seed, 203, k);
            var[bn->stat_off + c] = 0.5f + wl_uniform(seed, 204, k);
        }
    }
}

void rn_fold_bn(const rn_arch *a, const float *params, const float *mean, const float *var, float *w, float *bias)
{
    memcpy(w, params, a->n_matrix * sizeof *w);
    for (int i = 0; i < a->nconv; i++) {
        const rn_conv *c = &a->conv[i];
        const rn_bn *bn = &a->bn[i];
        size_t per = (size_t)c->k * c->k * c->cin; /* KRSC: one output channel's weights are contiguous */
        for (int k = 0; k < c->cout; k++) {
            float s = params[bn->gamma_off + k] / sqrtf(var[bn->stat_off + k] + RN_BN_EPS);
            for (size_t j = 0; j < per; j++) w[c->w_off + (size_t)k * per + j] *= s;
            bias[bn->stat_off + k] = params[bn->beta_off + k] - mean[bn->stat_off + k] * s;
        }
    }
}

/* The layers' walk, shared by both forms: post(i, y, count) turns conv i's
 * output into the layer's (batch norm or bias), before the ReLU. */
typedef struct {
    const rn_arch *a;
    const float *w;
    int n;
    void (*post)(const void *ctx, int i, float *y, size_t rows);
    const void *ctx;
} walk;

static float *conv(const walk *k, int i, const float *in)
{
    const rn_conv *c = &k->a->conv[i];
    conv_shape s = {k->n, c->hin, c->win, c->cin, c->cout, c->k, c->stride, c->pad, c->hout, c->wout};
    size_t rows = (size_t)k->n * c->hout * c->wout;
    float *y = malloc(rows * (size_t)c->cout * sizeof *y);
    conv_forward_cpu(&s, in, k->w + c->w_off, y);
    k->post(k->ctx, i, y, rows);
    return y;
}

static size_t out_elems(const walk *k, int i)
{
    const rn_conv *c = &k->a->conv[i];
    return (size_t)k->n * c->hout * c->wout * c->cout;
}

static void run(const walk *k, const float *x, const float *fc_bias, float *logits)
{
    const rn_arch *a = k->a;
    float *stem = conv(k, 0, x);
    add_relu_cpu(out_elems(k, 0), stem, NULL);
    float *cur = malloc((size_t)k->n * a->pool_h * a->pool_w * 64 * sizeof *cur);
    maxpool_forward_cpu(k->n, a->conv[0].hout, a->conv[0].wout, 64, a->pool_h, a->pool_w, stem, cur);
    free(stem);
    for (int b = 0; b < RN_BLOCKS; b++) {
        const rn_block *bl = &a->block[b];
        float *t1 = conv(k, bl->conv1, cur);
        add_relu_cpu(out_elems(k, bl->conv1), t1, NULL);
        float *t2 = conv(k, bl->conv2, t1);
        free(t1);
        add_relu_cpu(out_elems(k, bl->conv2), t2, NULL);
        float *y = conv(k, bl->conv3, t2);
        free(t2);
        float *z = bl->down >= 0 ? conv(k, bl->down, cur) : cur;
        add_relu_cpu(out_elems(k, bl->conv3), y, z);
        if (z != cur) free(z);
        free(cur);
        cur = y;
    }
    float *feat = malloc((size_t)k->n * a->feat_c * sizeof *feat);
    avgpool_forward_cpu(k->n, a->feat_h * a->feat_w, a->feat_c, cur, feat);
    fc_forward_cpu(k->n, a->feat_c, a->classes, feat, k->w + a->fc_w_off, fc_bias, logits);
    free(feat);
    free(cur);
}

typedef struct {
    const rn_arch *a;
    const float *params, *mean, *var, *bias;
} post_ctx;

static void post_bn(const void *ctx, int i, float *y, size_t rows)
{
    const post_ctx *p = ctx;
    const rn_bn *bn = &p->a->bn[i];
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < bn->c; c++) {
            float *v = &y[r * (size_t)bn->c + c];
            float inv = 1.0f / sqrtf(p->var[bn->stat_off + c] + RN_BN_EPS);
            *v = (*v - p->mean[bn->stat_off + c]) * inv * p->params[bn->gamma_off + c] + p->params[bn->beta_off + c];
        }
}

static void post_bias(const void *ctx, int i, float *y, size_t rows)
{
    const post_ctx *p = ctx;
    const rn_bn *bn = &p->a->bn[i];
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < bn->c; c++) y[r * (size_t)bn->c + c] += p->bias[bn->stat_off + c];
}

void rn_infer_cpu(const rn_arch *a, const float *params, const float *mean, const float *var, int n, const float *x,
                  float *logits)
{
    post_ctx p = {a, params, mean, var, NULL};
    walk k = {a, params, n, post_bn, &p};
    run(&k, x, params + a->fc_b_off, logits);
}

void rn_infer_folded_cpu(const rn_arch *a, const float *w, const float *bias, const float *fc_bias, int n,
                         const float *x, float *logits)
{
    post_ctx p = {a, NULL, NULL, NULL, bias};
    walk k = {a, w, n, post_bias, &p};
    run(&k, x, fc_bias, logits);
}
