#include "bert_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wl_bf16.h"

/* Bounds for bf16 activations and products against the fp32 reference. */
#define BOUND_LOSS 2e-2
#define BOUND_LOGITS 5e-2
#define BOUND_GRAD 2.5e-1

static double rel_l2(const float *x, const float *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

int bert_check(const bert_run_config *c, const float *params_in)
{
    const bert_arch *a = &c->arch;
    size_t nf = a->n_flat;
    float *p = malloc(nf * sizeof *p), *gc = malloc(nf * sizeof *gc), *gg = malloc(nf * sizeof *gg);
    bert_batch bt;
    if (!p || !gc || !gg || bert_batch_alloc(&bt, c->batch, c->seq) != 0) {
        fprintf(stderr, "%s: out of memory for the check\n", c->prog);
        return 1;
    }
    /* both sides start from the weights the GPU's bf16 products see */
    for (size_t i = 0; i < nf; i++) p[i] = i < a->n_matrix ? wl_round_bf16(params_in[i]) : params_in[i];
    bert_batch_make(&bt, c->data, a->c.vocab, c->seed, 0);
    bert_backend *cpu = bert_backend_cpu(c, p), *gpu = bert_backend_gpu(c, p);
    if (!cpu || !gpu) return 1;
    float *lc = malloc((size_t)bt.nmasked * a->c.vocab * sizeof *lc), *lg = malloc((size_t)bt.nmasked * a->c.vocab * sizeof *lg);
    double loss_c, loss_g;
    cpu->loss_grads(cpu, &bt, 0, &loss_c, gc, lc);
    gpu->loss_grads(gpu, &bt, 0, &loss_g, gg, lg);
    int bad = 0;
    double e = fabs(loss_g - loss_c) / fabs(loss_c);
    printf("%s: check on %s, batch %d x %d tokens, %d masked, dropout %g\n", c->prog, gpu->name, c->batch, c->seq,
           bt.nmasked, c->dropout);
    printf("  loss: GPU %.5f, CPU %.5f, relative error %.2e (bound %.0e)%s\n", loss_g, loss_c, e, BOUND_LOSS,
           e <= BOUND_LOSS ? "" : "  FAIL");
    bad |= !(e <= BOUND_LOSS);
    e = rel_l2(lg, lc, (size_t)bt.nmasked * a->c.vocab);
    printf("  logits: relative L2 error %.2e (bound %.0e)%s\n", e, BOUND_LOGITS, e <= BOUND_LOGITS ? "" : "  FAIL");
    bad |= !(e <= BOUND_LOGITS);
    char name[96];
    size_t off, count;
    double worst = 0, sum = 0;
    int nt = 0;
    char worst_name[96] = "";
    for (int i = 0; bert_param_tensor(a, i, name, sizeof name, &off, &count); i++) {
        e = rel_l2(gg + off, gc + off, count);
        if (e > BOUND_GRAD || !isfinite(e)) {
            printf("  gradient %s: relative L2 error %.2e (bound %.0e)  FAIL\n", name, e, BOUND_GRAD);
            bad = 1;
        }
        if (e > worst) {
            worst = e;
            snprintf(worst_name, sizeof worst_name, "%s", name);
        }
        sum += e;
        nt++;
    }
    printf("  gradients: %d tensors, mean relative L2 error %.2e, worst %.2e (%s) (bound %.0e)\n", nt, sum / nt, worst,
           worst_name, BOUND_GRAD);
    printf("%s: check %s\n", c->prog, bad ? "FAILED" : "passed");
    cpu->destroy(cpu);
    gpu->destroy(gpu);
    bert_batch_free(&bt);
    free(p), free(gc), free(gg), free(lc), free(lg);
    return bad;
}
