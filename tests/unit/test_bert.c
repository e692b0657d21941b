/* The plain-C BERT reference: finite-difference gradient checks of every
 * layer and of the whole model (dropout on: its masks are a function of
 * the seed and step, so the loss is a smooth function of the parameters),
 * the data generator's masking, AdamW against hand-computed values, and
 * a tiny model whose loss falls on the learnable task. */
#include <math.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bert_arch.h"
#include "bert_cpu.h"
#include "bert_data.h"
#include "bert_layers_cpu.h"
#include "wl_rng.h"

static float *randv(size_t n, uint64_t stream, float scale)
{
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = scale * wl_normal(11, stream, i);
    return v;
}

static double dotv(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

typedef double (*scalar_fn)(void *ctx);
/* Relative L2 distance between g and central differences of f over every
 * element of v (or `stride`-spaced ones). */
static void check_grad(const char *what, float *v, size_t n, size_t stride, const float *g, scalar_fn f, void *ctx,
                       float eps, double tol)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i += stride) {
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

/* ---- layers: L = sum(layer(x) * r) ---- */
typedef struct {
    size_t n;
    int in, out;
    float *x, *w, *b, *g, *y, *r, *mean, *rstd;
    int kind; /* 0 linear, 1 layer norm, 2 GELU */
} layer_ctx;

static double layer_loss(void *p)
{
    layer_ctx *c = p;
    if (c->kind == 0) linear_fwd_cpu(c->n, c->in, c->out, c->x, c->w, c->b, c->y);
    else if (c->kind == 1) layernorm_fwd_cpu(c->n, c->in, c->x, c->g, c->b, c->y, c->mean, c->rstd);
    else gelu_fwd_cpu(c->n * c->in, c->x, c->y);
    return dotv(c->y, c->r, c->n * c->out);
}

static void layers(void **state)
{
    (void)state;
    layer_ctx c = {.n = 5, .in = 7, .out = 6, .kind = 0};
    c.x = randv(c.n * c.in, 1, 1), c.w = randv((size_t)c.out * c.in, 2, 1), c.b = randv(c.out, 3, 1);
    c.r = randv(c.n * c.out, 4, 1), c.y = malloc(c.n * c.out * sizeof(float));
    float *dx = malloc(c.n * c.in * sizeof(float)), *dw = calloc((size_t)c.out * c.in, sizeof(float)),
          *db = calloc(c.out, sizeof(float));
    linear_bwd_cpu(c.n, c.in, c.out, c.x, c.w, c.r, dx, dw, db);
    check_grad("linear dx", c.x, c.n * c.in, 1, dx, layer_loss, &c, 1e-2f, 1e-3);
    check_grad("linear dw", c.w, (size_t)c.out * c.in, 1, dw, layer_loss, &c, 1e-2f, 1e-3);
    check_grad("linear db", c.b, c.out, 1, db, layer_loss, &c, 1e-2f, 1e-3);
    /* parameter gradients add up: a second call doubles them */
    float first = dw[3];
    linear_bwd_cpu(c.n, c.in, c.out, c.x, c.w, c.r, NULL, dw, NULL);
    assert_float_equal(dw[3], 2 * first, 1e-5);
    free(c.w), free(c.b), free(c.r), free(c.y), free(dx), free(dw), free(db);

    /* layer norm */
    c.kind = 1, c.out = c.in;
    c.g = randv(c.in, 5, 1), c.b = randv(c.in, 6, 1), c.r = randv(c.n * c.in, 7, 1);
    c.y = malloc(c.n * c.in * sizeof(float)), c.mean = malloc(c.n * sizeof(float)), c.rstd = malloc(c.n * sizeof(float));
    dx = malloc(c.n * c.in * sizeof(float)), dw = calloc(c.in, sizeof(float)), db = calloc(c.in, sizeof(float));
    layer_loss(&c);
    layernorm_bwd_cpu(c.n, c.in, c.x, c.r, c.g, c.mean, c.rstd, dx, dw, db);
    check_grad("layernorm dx", c.x, c.n * c.in, 1, dx, layer_loss, &c, 1e-2f, 2e-3);
    check_grad("layernorm dgamma", c.g, c.in, 1, dw, layer_loss, &c, 1e-2f, 1e-3);
    check_grad("layernorm dbeta", c.b, c.in, 1, db, layer_loss, &c, 1e-2f, 1e-3);
    /* its output rows have mean beta-ish: mean 0 and variance 1 before the affine */
    float one[7] = {1, 1, 1, 1, 1, 1, 1}, zero[7] = {0};
    layernorm_fwd_cpu(1, 7, c.x, one, zero, c.y, c.mean, c.rstd);
    double m = 0, v = 0;
    for (int k = 0; k < 7; k++) m += c.y[k];
    for (int k = 0; k < 7; k++) v += (c.y[k] - m / 7) * (c.y[k] - m / 7);
    assert_float_equal(m / 7, 0, 1e-6);
    assert_float_equal(v / 7, 1, 1e-5);

    /* GELU: values from the erf form, then its gradient */
    c.kind = 2;
    float gx[3] = {-1, 0, 2}, gy[3];
    gelu_fwd_cpu(3, gx, gy);
    assert_float_equal(gy[0], -0.15865525f, 1e-6);
    assert_float_equal(gy[1], 0, 1e-7);
    assert_float_equal(gy[2], 1.95449974f, 1e-6);
    gelu_bwd_cpu(c.n * c.in, c.x, c.r, dx);
    check_grad("gelu", c.x, c.n * c.in, 1, dx, layer_loss, &c, 1e-2f, 1e-3);
    free(c.x), free(c.g), free(c.b), free(c.r), free(c.y), free(c.mean), free(c.rstd), free(dx), free(dw), free(db);
}

/* ---- attention and dropout ---- */
typedef struct {
    int b, t, h, heads;
    float p;
    float *qkv, *probs, *out, *r;
} att_ctx;

static double att_loss(void *p)
{
    att_ctx *c = p;
    attention_fwd_cpu(c->b, c->t, c->h, c->heads, c->qkv, c->probs, c->out, c->p, 5, 9);
    return dotv(c->out, c->r, (size_t)c->b * c->t * c->h);
}

static void attention(void **state)
{
    (void)state;
    for (int drop = 0; drop <= 1; drop++) {
        att_ctx c = {.b = 2, .t = 5, .h = 8, .heads = 2, .p = drop ? 0.3f : 0};
        size_t n = (size_t)c.b * c.t;
        c.qkv = randv(n * 3 * c.h, 20, 1), c.r = randv(n * c.h, 21, 1);
        c.probs = malloc((size_t)c.b * c.heads * c.t * c.t * sizeof(float)), c.out = malloc(n * c.h * sizeof(float));
        float *d = malloc(n * 3 * c.h * sizeof(float));
        att_loss(&c);
        /* every row of probabilities sums to 1 */
        for (int i = 0; i < c.b * c.heads * c.t; i++) {
            double s = 0;
            for (int j = 0; j < c.t; j++) s += c.probs[(size_t)i * c.t + j];
            assert_float_equal(s, 1, 1e-5);
        }
        attention_bwd_cpu(c.b, c.t, c.h, c.heads, c.qkv, c.probs, c.r, d, c.p, 5, 9);
        check_grad(drop ? "attention with dropout" : "attention", c.qkv, n * 3 * c.h, 1, d, att_loss, &c, 1e-2f, 2e-3);
        free(c.qkv), free(c.r), free(c.probs), free(c.out), free(d);
    }
    /* dropout: about p of the elements zeroed, the rest scaled; the same mask for the gradient */
    size_t n = 100000;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float)), *g = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = 1;
    dropout_fwd_cpu(n, x, y, 0.1f, 3, 4);
    dropout_bwd_cpu(n, x, g, 0.1f, 3, 4);
    size_t zeros = 0;
    for (size_t i = 0; i < n; i++) {
        zeros += y[i] == 0;
        if (y[i] != 0) assert_float_equal(y[i], 1 / 0.9f, 1e-6);
        assert_true(y[i] == g[i]);
    }
    assert_true(zeros > 9500 && zeros < 10500);
    free(x), free(y), free(g);
}

/* ---- cross-entropy and AdamW ---- */
static void loss_and_optimiser(void **state)
{
    (void)state;
    float logits[6] = {1, 2, 3, 0, 0, 0}, d[6];
    int labels[2] = {2, 1};
    double want = ((log(exp(1) + exp(2) + exp(3)) - 3) + log(3)) / 2;
    assert_float_equal(xent_fwd_bwd_cpu(2, 3, logits, labels, d), want, 1e-6);
    assert_float_equal(d[2], (exp(3) / (exp(1) + exp(2) + exp(3)) - 1) / 2, 1e-6);
    assert_float_equal(d[3], (1.0 / 3) / 2, 1e-6);

    /* AdamW, two steps on p = [1, 1] with g = [0.5, -0.5]; decay on the first element only */
    float p[2] = {1, 1}, g[2] = {0.5f, -0.5f}, m[2] = {0}, v[2] = {0};
    adamw_cpu(2, 1, p, g, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, 1);
    /* step 1: m^ = g, v^ = g^2, so the update is lr sign(g); decay first: p (1 - lr wd) */
    assert_float_equal(p[0], 1 * (1 - 0.1 * 0.01) - 0.1, 1e-6);
    assert_float_equal(p[1], 1 + 0.1, 1e-6);
    adamw_cpu(2, 1, p, g, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, 2);
    assert_float_equal(p[1], 1.2, 1e-5);
    float gn[3] = {3, 4, 0};
    assert_float_equal(global_norm_cpu(3, gn), 5, 1e-12);
}

/* ---- data ---- */
static void data(void **state)
{
    (void)state;
    bert_batch bt;
    assert_int_equal(bert_batch_alloc(&bt, 64, 128), 0);
    bert_batch_make(&bt, BERT_DATA_RANDOM, 30522, 1, 0);
    int mask = 0, kept = 0, other = 0;
    for (int k = 0; k < bt.nmasked; k++) {
        int r = bt.mpos[k];
        assert_int_equal(bt.labels[r], bt.mlabels[k]);
        assert_true(bt.mlabels[k] >= BERT_FIRST_WORD && bt.mlabels[k] < 30522);
        if (bt.ids[r] == BERT_TOKEN_MASK) mask++;
        else if (bt.ids[r] == bt.mlabels[k]) kept++;
        else other++;
    }
    /* 15% chosen; of them 80% [MASK], 10% random, 10% kept (binomial bounds, about 5 sigma) */
    double n = 64 * 128;
    assert_true(fabs(bt.nmasked - 0.15 * n) < 5 * sqrt(n * 0.15 * 0.85));
    assert_true(fabs(mask - 0.8 * bt.nmasked) < 5 * sqrt(bt.nmasked * 0.16));
    assert_true(fabs(kept - 0.1 * bt.nmasked) < 5 * sqrt(bt.nmasked * 0.09) + 2);
    assert_true(fabs(other - 0.1 * bt.nmasked) < 5 * sqrt(bt.nmasked * 0.09) + 2);
    for (int r = 0; r < 64 * 128; r++)
        if (bt.labels[r] < 0) assert_true(bt.ids[r] >= BERT_FIRST_WORD);
    /* the same (seed, step) gives the same batch; another step another */
    int first = bt.ids[5] * 31 + bt.nmasked;
    bert_batch_make(&bt, BERT_DATA_RANDOM, 30522, 1, 0);
    assert_int_equal(first, bt.ids[5] * 31 + bt.nmasked);
    bert_batch_make(&bt, BERT_DATA_LEARNABLE, 30522, 1, 3);
    for (int s = 0; s < 64; s++)
        for (int i = 1; i < 128; i++) {
            int a = s * 128, b = s * 128 + i;
            int ta = bt.labels[a] >= 0 ? bt.labels[a] : bt.ids[a], tb = bt.labels[b] >= 0 ? bt.labels[b] : bt.ids[b];
            assert_int_equal(ta, tb); /* one word a sequence, before masking */
        }
    bert_batch_free(&bt);
}

/* ---- the whole model ---- */
static bert_config tiny(void)
{
    return (bert_config){.layers = 2, .hidden = 16, .heads = 2, .inter = 32, .vocab = BERT_FIRST_WORD + 40,
                         .max_pos = 16, .type_vocab = 2};
}

typedef struct {
    bert_cpu *m;
    float *p;
    bert_batch *bt;
} model_ctx;

static double model_loss(void *c)
{
    model_ctx *x = c;
    return bert_cpu_loss_grads(x->m, x->p, x->bt, 7, 3, NULL, NULL);
}

static void architecture(void **state)
{
    (void)state;
    bert_arch a;
    bert_config base = bert_base_config();
    assert_int_equal(bert_arch_build(&a, &base), 0);
    assert_int_equal(a.n_params, 109514298); /* BertForMaskedLM(BertConfig()) in Hugging Face */
    bert_config bad = base;
    bad.heads = 7;
    assert_int_equal(bert_arch_build(&a, &bad), -1);
    /* tensors tile the flat vector without overlap, matrices first */
    bert_config c = tiny();
    assert_int_equal(bert_arch_build(&a, &c), 0);
    char name[96];
    size_t off, count, total = 0;
    char *used = calloc(a.n_flat, 1);
    int i;
    for (i = 0; bert_param_tensor(&a, i, name, sizeof name, &off, &count); i++) {
        assert_true(off % BERT_ALIGN == 0 && off + count <= a.n_flat);
        for (size_t k = off; k < off + count; k++) assert_int_equal(used[k]++, 0);
        bool matrix = strstr(name, ".w") != NULL || (!strncmp(name, "emb.", 4) && !strstr(name, "ln"));
        assert_true((off < a.n_matrix) == matrix);
        total += count;
    }
    free(used);
    assert_int_equal(i, 5 + 12 * 2 + 5);
    assert_int_equal(total, a.n_params);
}

static void whole_model_gradients(void **state)
{
    (void)state;
    bert_config c = tiny();
    bert_arch a;
    assert_int_equal(bert_arch_build(&a, &c), 0);
    float *p = malloc(a.n_flat * sizeof *p), *g = malloc(a.n_flat * sizeof *g);
    bert_init_params(&a, p, 42);
    /* larger weights than BERT's 0.02, so every layer's gradient is well above rounding */
    for (size_t i = 0; i < a.n_matrix; i++) p[i] *= 20;
    bert_batch bt;
    assert_int_equal(bert_batch_alloc(&bt, 2, 8), 0);
    bert_batch_make(&bt, BERT_DATA_RANDOM, c.vocab, 5, 0);
    bert_cpu *m = bert_cpu_new(&a, 2, 8, 0.1f);
    assert_non_null(m);
    double loss = bert_cpu_loss_grads(m, p, &bt, 7, 3, g, NULL);
    assert_true(isfinite(loss) && loss > 0);
    model_ctx ctx = {m, p, &bt};
    char name[96];
    size_t off, count;
    for (int i = 0; bert_param_tensor(&a, i, name, sizeof name, &off, &count); i++) {
        /* the word and position tables: only their used rows matter; check a stride of the rest */
        size_t stride = count > 400 ? count / 97 : 1;
        if (!strcmp(name, "emb.type")) count = (size_t)c.hidden; /* only type 0 is used */
        check_grad(name, p + off, count, stride, g + off, model_loss, &ctx, 1e-2f, 2e-2);
    }
    bert_cpu_free(m);
    bert_batch_free(&bt);
    free(p), free(g);
}

static void tiny_model_learns(void **state)
{
    (void)state;
    bert_config c = tiny();
    bert_arch a;
    assert_int_equal(bert_arch_build(&a, &c), 0);
    size_t n = a.n_flat;
    float *p = malloc(n * sizeof *p), *g = malloc(n * sizeof *g), *m1 = calloc(n, sizeof *m1), *v1 = calloc(n, sizeof *v1);
    bert_init_params(&a, p, 1);
    bert_batch bt;
    assert_int_equal(bert_batch_alloc(&bt, 8, 16), 0);
    bert_cpu *m = bert_cpu_new(&a, 8, 16, 0.0f);
    double first = 0, last = 0;
    const int steps = 300;
    for (int s = 0; s < steps; s++) {
        bert_batch_make(&bt, BERT_DATA_LEARNABLE, c.vocab, 2, (uint64_t)s);
        double loss = bert_cpu_loss_grads(m, p, &bt, 3, (uint64_t)s, g, NULL);
        if (s < 10) first += loss / 10;
        if (s >= steps - 10) last += loss / 10;
        adamw_cpu(n, a.n_matrix, p, g, m1, v1, 3e-3f, 0.9f, 0.999f, 1e-6f, 0.01f, s + 1);
    }
    print_message("tiny BERT on the learnable task: loss %.3f over the first 10 steps, %.3f over the last 10\n", first, last);
    /* it starts near ln(1040), the whole vocabulary, and must end well under
     * ln(40) = 3.69, which is all that learning the 40 words' frequencies
     * alone would give: the model has learnt to read the context */
    assert_true(first > 6);
    assert_true(last < 2.8);
    bert_cpu_free(m);
    bert_batch_free(&bt);
    free(p), free(g), free(m1), free(v1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layers),
        cmocka_unit_test(attention),
        cmocka_unit_test(loss_and_optimiser),
        cmocka_unit_test(data),
        cmocka_unit_test(architecture),
        cmocka_unit_test(whole_model_gradients),
        cmocka_unit_test(tiny_model_learns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
