/* The plain-C ResNet-50: the reference the GPU is checked against, and the
 * --device cpu backend (tiny images) that the CPU default scenario trains.
 * Every activation and every gradient has its own buffer: clear rather than
 * frugal, since the reference only runs at small sizes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers_cpu.h"
#include "resnet_backend.h"

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

typedef struct {
    rn_config cfg;
    const rn_arch *a;
    float *params, *grads, *mom, *run_mean, *run_var;
    int nbatches, next;
    float **x;    /* per data batch: n x image x image x 3 */
    int **labels;
    float *c[RN_MAX_CONV], *b[RN_MAX_CONV];   /* conv outputs, BN(+add, ReLU) outputs */
    float *gc[RN_MAX_CONV], *gb[RN_MAX_CONV]; /* their gradients */
    float *mean[RN_MAX_CONV], *invstd[RN_MAX_CONV];
    float *pool, *gpool, *feat, *gfeat, *logits, *dlogits;
    size_t bytes;
} cpu_model;

static void *xalloc(cpu_model *m, size_t count, size_t size)
{
    void *p = calloc(count, size);
    if (!p) {
        fprintf(stderr, "%s: out of memory for %zu bytes of the CPU model\n", m->cfg.prog, count * size);
        exit(1);
    }
    m->bytes += count * size;
    return p;
}

static size_t conv_out_elems(const cpu_model *m, int i)
{
    const rn_conv *c = &m->a->conv[i];
    return (size_t)m->cfg.batch * c->hout * c->wout * c->cout;
}

static conv_shape shape_of(const cpu_model *m, int i)
{
    const rn_conv *c = &m->a->conv[i];
    conv_shape s = {m->cfg.batch, c->hin, c->win, c->cin, c->cout, c->k, c->stride, c->pad, c->hout, c->wout};
    return s;
}

static void conv_bn(cpu_model *m, int i, const float *in, int relu)
{
    conv_shape s = shape_of(m, i);
    const rn_bn *bn = &m->a->bn[i];
    conv_forward_cpu(&s, in, m->params + m->a->conv[i].w_off, m->c[i]);
    bn_forward_cpu((size_t)s.n * s.p * s.q, s.k, m->c[i], m->params + bn->gamma_off, m->params + bn->beta_off, m->b[i],
                   m->mean[i], m->invstd[i], m->run_mean + bn->stat_off, m->run_var + bn->stat_off, BN_MOMENTUM, BN_EPS);
    if (relu) add_relu_cpu(conv_out_elems(m, i), m->b[i], NULL);
}

/* dout: the gradient at BN i's output, before its ReLU is undone (the
 * caller does that). Writes dgamma, dbeta, dW and, if din, the input's
 * gradient (accumulated when accumulate is set). */
static void conv_bn_backward(cpu_model *m, int i, const float *in, const float *dout, float *din, int accumulate)
{
    conv_shape s = shape_of(m, i);
    const rn_bn *bn = &m->a->bn[i];
    bn_backward_cpu((size_t)s.n * s.p * s.q, s.k, m->c[i], dout, m->params + bn->gamma_off, m->mean[i], m->invstd[i],
                    m->gc[i], m->grads + bn->gamma_off, m->grads + bn->beta_off);
    conv_backward_filter_cpu(&s, in, m->gc[i], m->grads + m->a->conv[i].w_off);
    if (din) conv_backward_data_cpu(&s, m->gc[i], m->params + m->a->conv[i].w_off, din, accumulate);
}

static float forward(cpu_model *m, const float *x, const int *labels)
{
    const rn_arch *a = m->a;
    int n = m->cfg.batch;
    conv_bn(m, 0, x, 1);
    maxpool_forward_cpu(n, a->conv[0].hout, a->conv[0].wout, 64, a->pool_h, a->pool_w, m->b[0], m->pool);
    const float *cur = m->pool;
    for (int k = 0; k < RN_BLOCKS; k++) {
        const rn_block *bl = &a->block[k];
        conv_bn(m, bl->conv1, cur, 1);
        conv_bn(m, bl->conv2, m->b[bl->conv1], 1);
        conv_bn(m, bl->conv3, m->b[bl->conv2], 0);
        const float *z = cur;
        if (bl->down >= 0) {
            conv_bn(m, bl->down, cur, 0);
            z = m->b[bl->down];
        }
        add_relu_cpu(conv_out_elems(m, bl->conv3), m->b[bl->conv3], z);
        cur = m->b[bl->conv3];
    }
    avgpool_forward_cpu(n, a->feat_h * a->feat_w, a->feat_c, cur, m->feat);
    fc_forward_cpu(n, a->feat_c, a->classes, m->feat, m->params + a->fc_w_off, m->params + a->fc_b_off, m->logits);
    return softmax_xent_cpu(n, a->classes, m->logits, labels, m->dlogits);
}

static void backward(cpu_model *m, const float *x)
{
    const rn_arch *a = m->a;
    int n = m->cfg.batch;
    fc_backward_cpu(n, a->feat_c, a->classes, m->feat, m->params + a->fc_w_off, m->dlogits, m->gfeat,
                    m->grads + a->fc_w_off, m->grads + a->fc_b_off);
    const rn_block *last = &a->block[RN_BLOCKS - 1];
    avgpool_backward_cpu(n, a->feat_h * a->feat_w, a->feat_c, m->gfeat, m->gb[last->conv3]);
    for (int k = RN_BLOCKS - 1; k >= 0; k--) {
        const rn_block *bl = &a->block[k];
        const float *in = k ? m->b[a->block[k - 1].conv3] : m->pool;
        float *gin = k ? m->gb[a->block[k - 1].conv3] : m->gpool;
        float *gout = m->gb[bl->conv3];
        size_t nout = conv_out_elems(m, bl->conv3);
        relu_backward_cpu(nout, m->b[bl->conv3], gout);
        /* The sum's gradient reaches both branches. */
        if (bl->down >= 0) conv_bn_backward(m, bl->down, in, gout, gin, 0);
        else memcpy(gin, gout, nout * sizeof *gin);
        conv_bn_backward(m, bl->conv3, m->b[bl->conv2], gout, m->gb[bl->conv2], 0);
        relu_backward_cpu(conv_out_elems(m, bl->conv2), m->b[bl->conv2], m->gb[bl->conv2]);
        conv_bn_backward(m, bl->conv2, m->b[bl->conv1], m->gb[bl->conv2], m->gb[bl->conv1], 0);
        relu_backward_cpu(conv_out_elems(m, bl->conv1), m->b[bl->conv1], m->gb[bl->conv1]);
        conv_bn_backward(m, bl->conv1, in, m->gb[bl->conv1], gin, 1);
    }
    maxpool_backward_cpu(n, a->conv[0].hout, a->conv[0].wout, 64, a->pool_h, a->pool_w, m->b[0], m->pool, m->gpool,
                         m->gb[0]);
    relu_backward_cpu(conv_out_elems(m, 0), m->b[0], m->gb[0]);
    conv_bn_backward(m, 0, x, m->gb[0], NULL, 0);
}

static int cpu_step(rn_backend *b, int update, float *loss)
{
    cpu_model *m = b->impl;
    int i = m->next;
    m->next = (m->next + 1) % m->nbatches;
    *loss = forward(m, m->x[i], m->labels[i]);
    backward(m, m->x[i]);
    if (update)
        sgd_momentum_cpu(m->a->n_flat, m->params, m->grads, m->mom, m->cfg.lr, m->cfg.momentum, m->cfg.weight_decay);
    return 0;
}

static int cpu_read_logits(rn_backend *b, float *out)
{
    cpu_model *m = b->impl;
    memcpy(out, m->logits, (size_t)m->cfg.batch * m->a->classes * sizeof *out);
    return 0;
}

static int cpu_read_grads(rn_backend *b, float *out)
{
    cpu_model *m = b->impl;
    memcpy(out, m->grads, m->a->n_flat * sizeof *out);
    return 0;
}

static int cpu_read_params(rn_backend *b, float *out)
{
    cpu_model *m = b->impl;
    memcpy(out, m->params, m->a->n_flat * sizeof *out);
    return 0;
}

static int cpu_read_running(rn_backend *b, float *mean, float *var)
{
    cpu_model *m = b->impl;
    memcpy(mean, m->run_mean, m->a->n_stats * sizeof *mean);
    memcpy(var, m->run_var, m->a->n_stats * sizeof *var);
    return 0;
}

static void cpu_destroy(rn_backend *b)
{
    cpu_model *m = b->impl;
    for (int i = 0; i < m->a->nconv; i++) {
        free(m->c[i]);
        free(m->b[i]);
        free(m->gc[i]);
        free(m->gb[i]);
        free(m->mean[i]);
        free(m->invstd[i]);
    }
    for (int i = 0; i < m->nbatches; i++) {
        free(m->x[i]);
        free(m->labels[i]);
    }
    free(m->x);
    free(m->labels);
    free(m->params);
    free(m->grads);
    free(m->mom);
    free(m->run_mean);
    free(m->run_var);
    free(m->pool);
    free(m->gpool);
    free(m->feat);
    free(m->gfeat);
    free(m->logits);
    free(m->dlogits);
    free(m);
    free(b);
}

rn_backend *rn_backend_cpu(const rn_config *c, const float *params)
{
    cpu_model *m = calloc(1, sizeof *m);
    rn_backend *b = calloc(1, sizeof *b);
    if (!m || !b) {
        fprintf(stderr, "%s: out of memory for the CPU model\n", c->prog);
        exit(1);
    }
    m->cfg = *c;
    m->a = &m->cfg.arch;
    const rn_arch *a = m->a;
    int n = c->batch;
    m->params = xalloc(m, a->n_flat, sizeof(float));
    memcpy(m->params, params, a->n_flat * sizeof(float));
    m->grads = xalloc(m, a->n_flat, sizeof(float));
    m->mom = xalloc(m, a->n_flat, sizeof(float));
    m->run_mean = xalloc(m, a->n_stats, sizeof(float));
    m->run_var = xalloc(m, a->n_stats, sizeof(float));
    for (size_t i = 0; i < a->n_stats; i++) m->run_var[i] = 1.0f;
    for (int i = 0; i < a->nconv; i++) {
        size_t e = conv_out_elems(m, i);
        m->c[i] = xalloc(m, e, sizeof(float));
        m->b[i] = xalloc(m, e, sizeof(float));
        m->gc[i] = xalloc(m, e, sizeof(float));
        m->gb[i] = xalloc(m, e, sizeof(float));
        m->mean[i] = xalloc(m, (size_t)a->conv[i].cout, sizeof(float));
        m->invstd[i] = xalloc(m, (size_t)a->conv[i].cout, sizeof(float));
    }
    size_t pool = (size_t)n * a->pool_h * a->pool_w * 64;
    m->pool = xalloc(m, pool, sizeof(float));
    m->gpool = xalloc(m, pool, sizeof(float));
    m->feat = xalloc(m, (size_t)n * a->feat_c, sizeof(float));
    m->gfeat = xalloc(m, (size_t)n * a->feat_c, sizeof(float));
    m->logits = xalloc(m, (size_t)n * a->classes, sizeof(float));
    m->dlogits = xalloc(m, (size_t)n * a->classes, sizeof(float));
    m->nbatches = rn_data_batches(c);
    m->x = xalloc(m, (size_t)m->nbatches, sizeof *m->x);
    m->labels = xalloc(m, (size_t)m->nbatches, sizeof *m->labels);
    for (int i = 0; i < m->nbatches; i++) {
        m->x[i] = xalloc(m, (size_t)n * a->image * a->image * 3, sizeof(float));
        m->labels[i] = xalloc(m, (size_t)n, sizeof(int));
        rn_data_fill(c, i, m->x[i], m->labels[i]);
    }
    b->name = "cpu";
    b->impl = m;
    b->step = cpu_step;
    b->read_logits = cpu_read_logits;
    b->read_grads = cpu_read_grads;
    b->read_params = cpu_read_params;
    b->read_running = cpu_read_running;
    b->destroy = cpu_destroy;
    b->peak_bytes = m->bytes;
    return b;
}
