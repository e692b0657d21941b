#include "resnet_arch.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "wl_rng.h"

static size_t align_up(size_t n)
{
    return (n + RN_ALIGN - 1) / RN_ALIGN * RN_ALIGN;
}

static int add_conv(rn_arch *a, size_t *moff, int cin, int cout, int k, int stride, int h, int w)
{
    int i = a->nconv++;
    rn_conv *c = &a->conv[i];
    c->cin = cin;
    c->cout = cout;
    c->k = k;
    c->stride = stride;
    c->pad = k / 2;
    c->hin = h;
    c->win = w;
    c->hout = (h + 2 * c->pad - k) / stride + 1;
    c->wout = (w + 2 * c->pad - k) / stride + 1;
    c->w_off = *moff;
    *moff += align_up((size_t)cout * k * k * cin);
    a->bn[i].c = cout;
    a->bn[i].h = c->hout;
    a->bn[i].w = c->wout;
    return i;
}

int rn_arch_build(rn_arch *a, int image, int classes)
{
    if (image < 32 || image % 32 || classes < 2) return -1;
    memset(a, 0, sizeof *a);
    a->image = image;
    a->classes = classes;
    size_t moff = 0;
    /* Stem: 7x7/2 conv, BN, ReLU, 3x3/2 max pool. */
    add_conv(a, &moff, 3, 64, 7, 2, image, image);
    a->pool_h = (a->conv[0].hout + 2 - 3) / 2 + 1;
    a->pool_w = (a->conv[0].wout + 2 - 3) / 2 + 1;
    /* Four stages of bottlenecks: 3, 4, 6, 3 blocks; v1.5 strides the 3x3. */
    static const int blocks[4] = {3, 4, 6, 3}, mids[4] = {64, 128, 256, 512};
    int cin = 64, h = a->pool_h, w = a->pool_w, b = 0;
    for (int s = 0; s < 4; s++)
        for (int j = 0; j < blocks[s]; j++, b++) {
            rn_block *bl = &a->block[b];
            int stride = (s > 0 && j == 0) ? 2 : 1, mid = mids[s], cout = 4 * mid;
            bl->cin = cin;
            bl->cmid = mid;
            bl->cout = cout;
            bl->stride = stride;
            bl->hin = h;
            bl->conv1 = add_conv(a, &moff, cin, mid, 1, 1, h, w);
            bl->conv2 = add_conv(a, &moff, mid, mid, 3, stride, h, w);
            int h2 = a->conv[bl->conv2].hout, w2 = a->conv[bl->conv2].wout;
            bl->conv3 = add_conv(a, &moff, mid, cout, 1, 1, h2, w2);
            /* The projection shortcut: 1x1 with the block's stride, where the
             * shape changes (the first block of every stage). */
            bl->down = (j == 0) ? add_conv(a, &moff, cin, cout, 1, stride, h, w) : -1;
            bl->hout = h2;
            cin = cout;
            h = h2;
            w = w2;
        }
    a->feat_h = h;
    a->feat_w = w;
    a->feat_c = cin;
    a->fc_w_off = moff;
    moff += align_up((size_t)classes * cin);
    a->n_matrix = moff;
    size_t voff = moff, stats = 0, params = (size_t)classes * cin + (size_t)classes;
    for (int i = 0; i < a->nconv; i++) {
        rn_conv *c = &a->conv[i];
        params += (size_t)c->cout * c->k * c->k * c->cin + 2 * (size_t)c->cout;
        a->bn[i].gamma_off = voff;
        voff += align_up((size_t)c->cout);
        a->bn[i].beta_off = voff;
        voff += align_up((size_t)c->cout);
        a->bn[i].stat_off = stats;
        stats += align_up((size_t)c->cout);
    }
    a->fc_b_off = voff;
    voff += align_up((size_t)classes);
    a->n_flat = voff;
    a->n_stats = stats;
    a->n_params = params;
    return 0;
}

void rn_init_params(const rn_arch *a, float *p, uint64_t seed)
{
    memset(p, 0, a->n_flat * sizeof *p);
    for (int i = 0; i < a->nconv; i++) {
        const rn_conv *c = &a->conv[i];
        size_t n = (size_t)c->cout * c->k * c->k * c->cin;
        float std = sqrtf(2.0f / (float)(c->cout * c->k * c->k)); /* fan_out, gain sqrt(2) */
        for (size_t j = 0; j < n; j++) p[c->w_off + j] = std * wl_normal(seed, 100 + (uint64_t)i, j);
        for (int ch = 0; ch < c->cout; ch++) p[a->bn[i].gamma_off + ch] = 1.0f;
    }
    float bound = 1.0f / sqrtf((float)a->feat_c);
    size_t n = (size_t)a->classes * a->feat_c;
    for (size_t j = 0; j < n; j++) p[a->fc_w_off + j] = bound * (2.0f * wl_uniform(seed, 1, j) - 1.0f);
    for (int j = 0; j < a->classes; j++) p[a->fc_b_off + j] = bound * (2.0f * wl_uniform(seed, 2, (uint64_t)j) - 1.0f);
}

/* torchvision's names: conv1/bn1 for the stem, layerS.J.convK/bnK in the
 * blocks, layerS.J.downsample.0/.1 for the projection. */
static void layer_names(const rn_arch *a, int i, char *conv, char *bn, size_t len)
{
    static const int first[4] = {0, 3, 7, 13};
    snprintf(conv, len, "conv1");
    snprintf(bn, len, "bn1");
    for (int b = 0; i > 0 && b < RN_BLOCKS; b++) {
        const rn_block *bl = &a->block[b];
        int stage = b >= 13 ? 3 : b >= 7 ? 2 : b >= 3 ? 1 : 0, j = b - first[stage];
        int k = i == bl->conv1 ? 1 : i == bl->conv2 ? 2 : i == bl->conv3 ? 3 : i == bl->down ? 0 : -1;
        if (k < 0) continue;
        if (k > 0) {
            snprintf(conv, len, "layer%d.%d.conv%d", stage + 1, j, k);
            snprintf(bn, len, "layer%d.%d.bn%d", stage + 1, j, k);
        } else {
            snprintf(conv, len, "layer%d.%d.downsample.0", stage + 1, j);
            snprintf(bn, len, "layer%d.%d.downsample.1", stage + 1, j);
        }
        return;
    }
}

int rn_param_tensor(const rn_arch *a, int i, char *name, size_t len, size_t *off, size_t *count)
{
    if (i < 3 * a->nconv) {
        int c = i / 3, which = i % 3;
        char conv[48], bn[48];
        layer_names(a, c, conv, bn, sizeof conv);
        const rn_conv *cv = &a->conv[c];
        if (which == 0) {
            snprintf(name, len, "%s.weight", conv);
            *off = cv->w_off;
            *count = (size_t)cv->cout * cv->k * cv->k * cv->cin;
        } else {
            snprintf(name, len, "%s.%s", bn, which == 1 ? "weight" : "bias");
            *off = which == 1 ? a->bn[c].gamma_off : a->bn[c].beta_off;
            *count = (size_t)cv->cout;
        }
        return 1;
    }
    if (i == 3 * a->nconv || i == 3 * a->nconv + 1) {
        int w = i == 3 * a->nconv;
        snprintf(name, len, "fc.%s", w ? "weight" : "bias");
        *off = w ? a->fc_w_off : a->fc_b_off;
        *count = w ? (size_t)a->classes * a->feat_c : (size_t)a->classes;
        return 1;
    }
    return 0;
}

double rn_forward_macs(const rn_arch *a)
{
    double m = (double)a->classes * a->feat_c;
    for (int i = 0; i < a->nconv; i++) {
        const rn_conv *c = &a->conv[i];
        m += (double)c->hout * c->wout * c->cout * c->k * c->k * c->cin;
    }
    return m;
}
