/* Finite-difference gradient checks of every layer of the plain-C ResNet
 * reference: each backward function must agree with central differences of
 * L = sum(forward(x) * r) for a fixed random r. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "layers_cpu.h"
#include "wl_rng.h"

static float *randv(size_t n, uint64_t stream)
{
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = wl_normal(7, stream, i);
    return v;
}

static double dotv(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* Compares analytic gradient g of a scalar function f at v (n elements)
 * with central differences over every element. */
typedef double (*scalar_fn)(void *ctx);
static void check_grad(const char *what, float *v, size_t n, const float *g, scalar_fn f, void *ctx, float eps, double tol)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        float keep = v[i];
        v[i] = keep + eps;
        double up = f(ctx);
        v[i] = keep - eps;
        double down = f(ctx);
        v[i] = keep;
        double fd = (up - down) / (2.0 * eps);
        num += (fd - g[i]) * (fd - g[i]);
        den += fd * fd;
    }
    double rel = sqrt(num / (den > 0 ? den : 1));
    if (!(rel < tol)) fail_msg("%s: gradient differs from finite differences by %.3g (tolerance %.0e)", what, rel, tol);
}

/* ---- convolution ---- */
typedef struct {
    conv_shape s;
    float *x, *w, *y, *r;
} conv_ctx;

static size_t conv_in(const conv_shape *s) { return (size_t)s->n * s->h * s->w * s->c; }
static size_t conv_out(const conv_shape *s) { return (size_t)s->n * s->p * s->q * s->k; }
static size_t conv_w(const conv_shape *s) { return (size_t)s->k * s->r * s->r * s->c; }

static double conv_loss(void *p)
{
    conv_ctx *c = p;
    conv_forward_cpu(&c->s, c->x, c->w, c->y);
    return dotv(c->y, c->r, conv_out(&c->s));
}

static void conv_case(int stride, int r, int pad)
{
    conv_ctx c;
    c.s = (conv_shape){2, 7, 6, 5, 4, r, stride, pad, 0, 0};
    c.s.p = (c.s.h + 2 * pad - r) / stride + 1;
    c.s.q = (c.s.w + 2 * pad - r) / stride + 1;
    c.x = randv(conv_in(&c.s), 1);
    c.w = randv(conv_w(&c.s), 2);
    c.r = randv(conv_out(&c.s), 3);
    c.y = malloc(conv_out(&c.s) * sizeof(float));
    float *dx = malloc(conv_in(&c.s) * sizeof(float)), *dw = malloc(conv_w(&c.s) * sizeof(float));
    conv_backward_data_cpu(&c.s, c.r, c.w, dx, 0);
    conv_backward_filter_cpu(&c.s, c.x, c.r, dw);
    check_grad("conv dx", c.x, conv_in(&c.s), dx, conv_loss, &c, 1e-2f, 1e-3);
    check_grad("conv dw", c.w, conv_w(&c.s), dw, conv_loss, &c, 1e-2f, 1e-3);
    /* accumulate adds to what is there */
    float *acc = malloc(conv_in(&c.s) * sizeof(float));
    for (size_t i = 0; i < conv_in(&c.s); i++) acc[i] = 1.0f;
    conv_backward_data_cpu(&c.s, c.r, c.w, acc, 1);
    for (size_t i = 0; i < conv_in(&c.s); i++) assert_true(fabsf(acc[i] - (dx[i] + 1.0f)) < 1e-5f);
    free(acc);
    free(c.x), free(c.w), free(c.r), free(c.y), free(dx), free(dw);
}

static void test_conv_1x1(void **state) { (void)state; conv_case(1, 1, 0); }
static void test_conv_1x1_stride2(void **state) { (void)state; conv_case(2, 1, 0); }
static void test_conv_3x3(void **state) { (void)state; conv_case(1, 3, 1); }
static void test_conv_3x3_stride2(void **state) { (void)state; conv_case(2, 3, 1); }
static void test_conv_7x7_stride2(void **state) { (void)state; conv_case(2, 7, 3); }

/* ---- batch norm ---- */
typedef struct {
    size_t m;
    int c;
    float *x, *gamma, *beta, *y, *r, *mean, *invstd;
} bn_ctx;

static double bn_loss(void *p)
{
    bn_ctx *b = p;
    bn_forward_cpu(b->m, b->c, b->x, b->gamma, b->beta, b->y, b->mean, b->invstd, NULL, NULL, 0.1f, 1e-5f);
    return dotv(b->y, b->r, b->m * (size_t)b->c);
}

static void test_batchnorm(void **state)
{
    (void)state;
    bn_ctx b = {12, 3};
    size_t n = b.m * (size_t)b.c;
    b.x = randv(n, 4);
    b.gamma = randv(3, 5);
    b.beta = randv(3, 6);
    b.r = randv(n, 7);
    b.y = malloc(n * sizeof(float));
    b.mean = malloc(3 * sizeof(float));
    b.invstd = malloc(3 * sizeof(float));
    float *dx = malloc(n * sizeof(float)), dg[3], db[3];
    bn_loss(&b);
    bn_backward_cpu(b.m, b.c, b.x, b.r, b.gamma, b.mean, b.invstd, dx, dg, db);
    check_grad("bn dx", b.x, n, dx, bn_loss, &b, 1e-3f, 1e-2);
    check_grad("bn dgamma", b.gamma, 3, dg, bn_loss, &b, 1e-3f, 1e-2);
    check_grad("bn dbeta", b.beta, 3, db, bn_loss, &b, 1e-3f, 1e-2);
    /* running statistics: momentum 0.1 towards the batch mean and unbiased variance */
    float rm[3] = {0, 0, 0}, rv[3] = {1, 1, 1};
    bn_forward_cpu(b.m, b.c, b.x, b.gamma, b.beta, b.y, b.mean, b.invstd, rm, rv, 0.1f, 1e-5f);
    for (int j = 0; j < 3; j++) {
        double s = 0, s2 = 0;
        for (size_t i = 0; i < b.m; i++) s += b.x[i * 3 + j];
        s /= (double)b.m;
        for (size_t i = 0; i < b.m; i++) s2 += (b.x[i * 3 + j] - s) * (b.x[i * 3 + j] - s);
        assert_true(fabs(rm[j] - 0.1 * s) < 1e-5);
        assert_true(fabs(rv[j] - (0.9 + 0.1 * s2 / (double)(b.m - 1))) < 1e-5);
    }
    free(b.x), free(b.gamma), free(b.beta), free(b.r), free(b.y), free(b.mean), free(b.invstd), free(dx);
}

/* ---- ReLU and the residual add ---- */
static void test_add_relu(void **state)
{
    (void)state;
    float y[6] = {1, -2, 0.5f, -0.1f, 3, 0}, z[6] = {-2, 1, 0.5f, 0.2f, -1, 0};
    add_relu_cpu(6, y, z);
    const float want[6] = {0, 0, 1, 0.1f, 2, 0};
    for (int i = 0; i < 6; i++) assert_true(fabsf(y[i] - want[i]) < 1e-6f);
    float dy[6] = {1, 1, 1, 1, 1, 1};
    relu_backward_cpu(6, y, dy);
    const float dwant[6] = {0, 0, 1, 1, 1, 0};
    for (int i = 0; i < 6; i++) assert_true(dy[i] == dwant[i]);
}

/* ---- pooling ---- */
typedef struct {
    int n, h, w, c, p, q;
    float *x, *y, *r;
} pool_ctx;

static double maxpool_loss(void *p)
{
    pool_ctx *c = p;
    maxpool_forward_cpu(c->n, c->h, c->w, c->c, c->p, c->q, c->x, c->y);
    return dotv(c->y, c->r, (size_t)c->n * c->p * c->q * c->c);
}

static void test_maxpool(void **state)
{
    (void)state;
    pool_ctx c = {2, 7, 8, 3, 4, 4};
    size_t nin = (size_t)c.n * c.h * c.w * c.c, nout = (size_t)c.n * c.p * c.q * c.c;
    c.x = malloc(nin * sizeof(float));
    /* distinct values far apart: finite differences never change the argmax */
    for (size_t i = 0; i < nin; i++) c.x[i] = (float)((i * 7919) % nin) * 0.1f;
    c.r = randv(nout, 8);
    c.y = malloc(nout * sizeof(float));
    float *dx = malloc(nin * sizeof(float));
    maxpool_loss(&c);
    maxpool_backward_cpu(c.n, c.h, c.w, c.c, c.p, c.q, c.x, c.y, c.r, dx);
    check_grad("maxpool dx", c.x, nin, dx, maxpool_loss, &c, 1e-2f, 1e-3);
    free(c.x), free(c.r), free(c.y), free(dx);
}

static double avgpool_loss(void *p)
{
    pool_ctx *c = p;
    avgpool_forward_cpu(c->n, c->h * c->w, c->c, c->x, c->y);
    return dotv(c->y, c->r, (size_t)c->n * c->c);
}

static void test_avgpool(void **state)
{
    (void)state;
    pool_ctx c = {2, 3, 3, 5, 1, 1};
    size_t nin = (size_t)c.n * c.h * c.w * c.c;
    c.x = randv(nin, 9);
    c.r = randv((size_t)c.n * c.c, 10);
    c.y = malloc((size_t)c.n * c.c * sizeof(float));
    float *dx = malloc(nin * sizeof(float));
    avgpool_backward_cpu(c.n, c.h * c.w, c.c, c.r, dx);
    check_grad("avgpool dx", c.x, nin, dx, avgpool_loss, &c, 1e-2f, 1e-3);
    free(c.x), free(c.r), free(c.y), free(dx);
}

/* ---- classifier and loss ---- */
typedef struct {
    int n, in, out;
    float *x, *w, *b, *y, *dl;
    int *labels;
} fc_ctx;

static double fc_loss(void *p)
{
    fc_ctx *c = p;
    fc_forward_cpu(c->n, c->in, c->out, c->x, c->w, c->b, c->y);
    return softmax_xent_cpu(c->n, c->out, c->y, c->labels, NULL);
}

static void test_fc_softmax_xent(void **state)
{
    (void)state;
    fc_ctx c = {3, 6, 5};
    c.x = randv(18, 11);
    c.w = randv(30, 12);
    c.b = randv(5, 13);
    c.y = malloc(15 * sizeof(float));
    c.dl = malloc(15 * sizeof(float));
    int labels[3] = {0, 4, 2};
    c.labels = labels;
    fc_forward_cpu(c.n, c.in, c.out, c.x, c.w, c.b, c.y);
    float loss = softmax_xent_cpu(c.n, c.out, c.y, labels, c.dl);
    assert_true(loss > 0);
    /* softmax gradient rows sum to zero */
    for (int i = 0; i < 3; i++) {
        double s = 0;
        for (int j = 0; j < 5; j++) s += c.dl[i * 5 + j];
        assert_true(fabs(s) < 1e-6);
    }
    float dx[18], dw[30], db[5];
    fc_backward_cpu(c.n, c.in, c.out, c.x, c.w, c.dl, dx, dw, db);
    check_grad("fc dx", c.x, 18, dx, fc_loss, &c, 1e-3f, 1e-2);
    check_grad("fc dw", c.w, 30, dw, fc_loss, &c, 1e-3f, 1e-2);
    check_grad("fc db", c.b, 5, db, fc_loss, &c, 1e-3f, 1e-2);
    free(c.x), free(c.w), free(c.b), free(c.y), free(c.dl);
}

/* ---- optimiser: torch.optim.SGD's update, by hand ---- */
static void test_sgd_momentum(void **state)
{
    (void)state;
    float p[1] = {1.0f}, g[1] = {0.5f}, m[1] = {0};
    sgd_momentum_cpu(1, p, g, m, 0.1f, 0.9f, 0.01f);
    /* d = 0.5 + 0.01 = 0.51; m = 0.51; p = 1 - 0.051 */
    assert_true(fabsf(m[0] - 0.51f) < 1e-6f && fabsf(p[0] - 0.949f) < 1e-6f);
    sgd_momentum_cpu(1, p, g, m, 0.1f, 0.9f, 0.01f);
    /* d = 0.5 + 0.00949; m = 0.9 * 0.51 + d = 0.96849; p = 0.949 - 0.096849 */
    assert_true(fabsf(m[0] - 0.96849f) < 1e-5f && fabsf(p[0] - 0.852151f) < 1e-5f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_1x1),        cmocka_unit_test(test_conv_1x1_stride2),
        cmocka_unit_test(test_conv_3x3),        cmocka_unit_test(test_conv_3x3_stride2),
        cmocka_unit_test(test_conv_7x7_stride2), cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_add_relu),        cmocka_unit_test(test_maxpool),
        cmocka_unit_test(test_avgpool),         cmocka_unit_test(test_fc_softmax_xent),
        cmocka_unit_test(test_sgd_momentum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
