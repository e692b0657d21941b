/* The whole plain-C ResNet-50: torchvision's shapes and parameter count,
 * gradients of the assembled model against finite differences, and a
 * training run on the learnable synthetic task whose loss must fall. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resnet_backend.h"
#include "resnet_infer.h"

static void config(rn_config *c, int image, int batch, rn_data_kind data)
{
    memset(c, 0, sizeof *c);
    assert_int_equal(rn_arch_build(&c->arch, image, 1000), 0);
    c->batch = batch;
    c->precision = WL_FP32;
    c->lr = 0.01f;
    c->momentum = 0.9f;
    c->weight_decay = 1e-4f;
    c->data = data;
    c->seed = 3;
    c->prog = "test";
}

static void test_shapes_and_count(void **state)
{
    (void)state;
    rn_arch a;
    assert_int_equal(rn_arch_build(&a, 224, 1000), 0);
    assert_int_equal(a.nconv, 53);
    assert_int_equal(a.n_params, 25557032); /* torchvision.models.resnet50() */
    assert_int_equal(a.conv[0].hout, 112);
    assert_int_equal(a.pool_h, 56);
    assert_int_equal(a.feat_h, 7);
    assert_int_equal(a.feat_c, 2048);
    /* v1.5: the stride sits on the 3x3 of the first block of stages 2-4 */
    const rn_block *b = &a.block[3];
    assert_int_equal(a.conv[b->conv1].stride, 1);
    assert_int_equal(a.conv[b->conv2].stride, 2);
    assert_int_equal(a.conv[b->down].stride, 2);
    assert_int_equal(a.conv[b->conv3].hout, 28);
    assert_int_equal(a.block[0].down >= 0, 1); /* 64 -> 256 channels needs a projection */
    assert_int_equal(a.block[1].down, -1);
    assert_true(fabs(rn_forward_macs(&a) / 1e9 - 4.09) < 0.05); /* the usual 4.1 GMACs */
    char name[64];
    size_t off, count, total = 0;
    for (int i = 0; rn_param_tensor(&a, i, name, sizeof name, &off, &count); i++) {
        total += count;
        assert_true(off % RN_ALIGN == 0);
        if (i == 3 * 3 + 0) assert_string_equal(name, "layer1.0.conv3.weight");
        if (i == 3 * 4 + 0) assert_string_equal(name, "layer1.0.downsample.0.weight");
        if (i == 3 * 4 + 1) assert_string_equal(name, "layer1.0.downsample.1.weight");
    }
    assert_int_equal(total, a.n_params);
}

/* Each block's last batch norm scaled to 0.2, a mild zero-init-residual
 * start: at torchvision's full-scale start the 50 layers amplify float
 * rounding so much that finite differences and short training runs depend
 * on the compiler's summation order (see resnet_check.c). */
static void condition(const rn_arch *a, float *p)
{
    for (int k = 0; k < RN_BLOCKS; k++) {
        const rn_bn *bn = &a->bn[a->block[k].conv3];
        for (int j = 0; j < bn->c; j++) p[bn->gamma_off + j] = 0.2f;
    }
}

static float loss_at(const rn_config *c, const float *params)
{
    rn_backend *b = rn_backend_cpu(c, params);
    float loss;
    assert_int_equal(b->step(b, 0, &loss), 0);
    b->destroy(b);
    return loss;
}

/* A few parameters from the classifier back to the stem: their gradients
 * pass through every kind of layer and both branches of the blocks. */
static void test_model_gradients(void **state)
{
    (void)state;
    rn_config c;
    config(&c, 64, 2, RN_DATA_RANDOM);
    const rn_arch *a = &c.arch;
    float *p = malloc(a->n_flat * sizeof *p), *g = malloc(a->n_flat * sizeof *g);
    rn_init_params(a, p, 5);
    condition(a, p);
    rn_backend *b = rn_backend_cpu(&c, p);
    float loss;
    assert_int_equal(b->step(b, 0, &loss), 0);
    assert_true(loss > 5 && loss < 10); /* about ln(1000) at initialisation */
    b->read_grads(b, g);
    b->destroy(b);
    const char *names[] = {"fc.bias", "layer4.2.bn3.weight", "layer3.0.downsample.1.bias", "layer2.1.conv2.weight",
                           "bn1.bias", "conv1.weight"};
    for (size_t t = 0; t < sizeof names / sizeof names[0]; t++) {
        char name[64];
        size_t off = 0, count = 0;
        int i = 0;
        while (rn_param_tensor(a, i, name, sizeof name, &off, &count) && strcmp(name, names[t])) i++;
        assert_string_equal(name, names[t]);
        size_t best = off; /* the element with the largest gradient: the best-conditioned difference */
        for (size_t j = off; j < off + count; j++)
            if (fabsf(g[j]) > fabsf(g[best])) best = j;
        /* a step that moves the loss by about 3e-4: small enough to stay on one
         * side of every ReLU kink, large enough to stand above float rounding */
        float keep = p[best], eps = fminf(1e-2f, fmaxf(1e-6f, 3e-4f / fabsf(g[best])));
        p[best] = keep + eps;
        double up = loss_at(&c, p);
        p[best] = keep - eps;
        double down = loss_at(&c, p);
        p[best] = keep;
        double fd = (up - down) / (2 * eps), rel = fabs(fd - g[best]) / fabs(fd);
        printf("  %-28s analytic %+.5e  finite difference %+.5e  relative error %.2e\n", names[t], g[best], fd, rel);
        if (!(rel < 5e-2)) fail_msg("%s: gradient %.5e, finite difference %.5e", names[t], g[best], fd);
    }
    free(p);
    free(g);
}

static void test_training_loss_falls(void **state)
{
    (void)state;
    rn_config c;
    config(&c, 32, 4, RN_DATA_LEARNABLE);
    c.lr = 0.002f;
    float *p = malloc(c.arch.n_flat * sizeof *p);
    rn_init_params(&c.arch, p, 5);
    condition(&c.arch, p);
    rn_backend *b = rn_backend_cpu(&c, p);
    float first = 0, last = 0, loss;
    const int steps = 32;
    for (int s = 0; s < steps; s++) {
        assert_int_equal(b->step(b, 1, &loss), 0);
        assert_true(isfinite(loss));
        if (s < RN_LEARNABLE_BATCHES) first += loss / RN_LEARNABLE_BATCHES;
        if (s >= steps - RN_LEARNABLE_BATCHES) last += loss / RN_LEARNABLE_BATCHES;
    }
    printf("  mean loss over the first pass %.4f, over the last %.4f\n", first, last);
    /* It starts near ln 1000 = 6.9 and falls towards chance on 10 classes
     * (ln 10 = 2.3) and below. */
    assert_true(last < 0.5f * first);
    b->destroy(b);
    free(p);
}

/* Inference with batch norm folded into the convolutions answers as the
 * unfolded reference does, to float rounding. */
static void test_inference_fold(void **state)
{
    (void)state;
    rn_arch a;
    assert_int_equal(rn_arch_build(&a, 32, 10), 0);
    float *p = calloc(a.n_flat, sizeof *p), *mean = calloc(a.n_stats, sizeof *mean), *var = calloc(a.n_stats, sizeof *var);
    float *w = calloc(a.n_matrix, sizeof *w), *bias = calloc(a.n_stats, sizeof *bias);
    rn_init_params(&a, p, 5);
    rn_random_bn(&a, p, mean, var, 6);
    rn_fold_bn(&a, p, mean, var, w, bias);
    enum { N = 2 };
    float *x = malloc((size_t)N * 32 * 32 * 3 * sizeof *x), ref[N * 10], got[N * 10];
    for (int i = 0; i < N * 32 * 32 * 3; i++) x[i] = sinf((float)i * 0.37f);
    rn_infer_cpu(&a, p, mean, var, N, x, ref);
    rn_infer_folded_cpu(&a, w, bias, p + a.fc_b_off, N, x, got);
    double num = 0, den = 0;
    for (int i = 0; i < N * 10; i++) {
        num += (double)(got[i] - ref[i]) * (got[i] - ref[i]);
        den += (double)ref[i] * ref[i];
    }
    assert_true(den > 0);
    if (sqrt(num / den) > 1e-4) fail_msg("folded logits differ by %g (relative L2)", sqrt(num / den));
    /* and the statistics matter: the same weights without them answer differently */
    for (size_t i = 0; i < a.n_stats; i++) mean[i] = 0, var[i] = 1;
    rn_infer_cpu(&a, p, mean, var, N, x, got);
    num = 0;
    for (int i = 0; i < N * 10; i++) num += (double)(got[i] - ref[i]) * (got[i] - ref[i]);
    assert_true(sqrt(num / den) > 1e-2);
    free(p), free(mean), free(var), free(w), free(bias), free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_and_count),
        cmocka_unit_test(test_model_gradients),
        cmocka_unit_test(test_training_loss_falls),
        cmocka_unit_test(test_inference_fold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
