/* BERT-base inference through the GPU BERT (bert_gpu.cu) built for forward
 * passes alone: no gradients, optimiser state or stored activations, and
 * the MLM head over every token, as PyTorch's BertForMaskedLM answers
 * without labels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bert_arch.h"
#include "bert_backend.h"
#include "bert_data.h"
#include "infer_engine.h"

typedef struct {
    infer_engine e;
    bert_backend *b;
} bert_engine;

static int run_resident(infer_engine *e, int n)
{
    bert_engine *be = e->impl;
    return be->b->infer(be->b, NULL, n, NULL, 0, NULL);
}

static void close_engine(infer_engine *e)
{
    bert_engine *be = e->impl;
    be->b->destroy(be->b);
    free(be);
}

static int config(const infer_opts *o, int infer, bert_run_config *c, float **params)
{
    memset(c, 0, sizeof *c);
    bert_config mc = bert_base_config();
    if (bert_arch_build(&c->arch, &mc)) return -1;
    c->prog = o->prog, c->batch = o->max_batch, c->seq = o->seq, c->precision = WL_BF16, c->seed = o->seed;
    c->gpu = o->gpu, c->data = BERT_DATA_RANDOM, c->dropout = 0, c->infer = infer, c->profile = o->profile;
    c->gemm_autotune = !o->algo_heuristic;
    c->attention = o->attention_fused ? BERT_ATTN_FUSED : BERT_ATTN_STORED;
    *params = malloc(c->arch.n_flat * sizeof **params);
    if (!*params) return -1;
    bert_init_params(&c->arch, *params, o->seed);
    return 0;
}

infer_engine *infer_bert_gpu(const infer_opts *o)
{
    bert_run_config c;
    float *params;
    if (config(o, 1, &c, &params)) {
        fprintf(stderr, "%s: out of host memory for BERT's parameters\n", o->prog);
        return NULL;
    }
    bert_backend *b = bert_backend_gpu(&c, params);
    free(params);
    if (!b) return NULL;
    bert_engine *be = calloc(1, sizeof *be);
    infer_engine *e = &be->e;
    be->b = b;
    e->model = "bert", e->unit = "sequences", e->max_batch = o->max_batch;
    e->in_name = "input_ids", e->out_name = "logits";
    e->in_rank = 1, e->in_dims[0] = o->seq, e->in_is_int = 1;
    e->out_rank = 2, e->out_dims[0] = o->seq, e->out_dims[1] = c.arch.c.vocab;
    e->flops_per_item = 2 * bert_forward_macs(&c.arch.c, o->seq, o->seq);
    e->run_resident = run_resident, e->close = close_engine;
    e->device_bytes = b->peak_bytes;
    e->impl = be;
    return e;
}

int infer_bert_check(const infer_opts *o)
{
    infer_opts s = *o;
    s.max_batch = 4;
    bert_run_config tc, ic;
    float *tp, *ip;
    if (config(&s, 0, &tc, &tp) || config(&s, 1, &ic, &ip)) return 1;
    bert_backend *train = bert_backend_gpu(&tc, tp), *inf = bert_backend_gpu(&ic, ip);
    free(tp), free(ip);
    if (!train || !inf) return 1;
    bert_batch bt;
    bert_batch_alloc(&bt, s.max_batch, s.seq);
    bert_batch_make(&bt, BERT_DATA_RANDOM, tc.arch.c.vocab, s.seed, 3);
    int v = tc.arch.c.vocab, nm = bt.nmasked;
    float *ref = malloc((size_t)nm * v * sizeof *ref), *got = malloc((size_t)nm * v * sizeof *got);
    double loss;
    int rc = train->loss_grads(train, &bt, 0, &loss, NULL, ref) || inf->infer(inf, bt.ids, s.max_batch, bt.mpos, nm, got);
    double num = 0, den = 0;
    int top_same = 0;
    for (int r = 0; r < nm && !rc; r++) {
        int ig = 0, ir = 0;
        for (int k = 0; k < v; k++) {
            double d = (double)got[(size_t)r * v + k] - ref[(size_t)r * v + k];
            num += d * d, den += (double)ref[(size_t)r * v + k] * ref[(size_t)r * v + k];
            if (got[(size_t)r * v + k] > got[(size_t)r * v + ig]) ig = k;
            if (ref[(size_t)r * v + k] > ref[(size_t)r * v + ir]) ir = k;
        }
        top_same += ig == ir;
    }
    double rel = sqrt(num / (den > 0 ? den : 1));
    const double bound = 2e-2;
    printf("%s --check: bert, %d x %d tokens: logits at %d masked positions against the training forward pass: "
           "relative L2 %.3g (bound %g), top-1 agrees on %d of %d\n", o->prog, s.max_batch, s.seq, nm, rel, bound, top_same, nm);
    free(ref), free(got);
    bert_batch_free(&bt);
    train->destroy(train), inf->destroy(inf);
    return rc || !(rel <= bound) || den <= 0;
}
