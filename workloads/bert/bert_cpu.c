#include "bert_cpu.h"

#include <stdlib.h>
#include <string.h>

#include "bert_layers_cpu.h"

/* What one encoder layer keeps for its backward pass. */
typedef struct {
    float *x;              /* input (n, h) */
    float *qkv, *probs;    /* (n, 3h), (b, heads, t, t) */
    float *att;            /* attention output before its projection (n, h) */
    float *sum1, *mean1, *rstd1, *h1; /* x + dropout(proj): layer norm 1's input, stats, output */
    float *inter, *act;    /* (n, inter): before and after GELU */
    float *sum2, *mean2, *rstd2;      /* h1 + dropout(out): layer norm 2's input and stats */
} layer_acts;

struct bert_cpu {
    const bert_arch *a;
    int b, t;
    float p;
    float *emb, *emb_mean, *emb_rstd, *x0; /* embedding sum, its layer norm, after dropout */
    layer_acts L[BERT_MAX_LAYERS];
    float *out;            /* the last layer's output (n, h) */
    /* the MLM head over masked rows (at most n) */
    float *hm, *hd, *hg, *hmean, *hrstd, *hl, *logits;
    /* scratch gradients */
    float *g1, *g2, *g3, *gi, *gqkv, *glog, *gm;
};

/* Dropout streams: one per step, layer and place, so no mask repeats. */
enum { D_EMB, D_ATT_PROBS, D_ATT_OUT, D_FFN_OUT, D_PLACES };
static uint64_t stream_of(uint64_t step, int layer, int place)
{
    return (step * (BERT_MAX_LAYERS + 1) + (uint64_t)(layer + 1)) * D_PLACES + (uint64_t)place;
}

static float *alloc(size_t n, int *fail)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    if (!p) *fail = 1;
    return p;
}

bert_cpu *bert_cpu_new(const bert_arch *a, int b, int t, float p)
{
    if (b < 1 || t < 1 || t > a->c.max_pos || p < 0 || p >= 1) return NULL;
    bert_cpu *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    const bert_config *c = &a->c;
    size_t n = (size_t)b * t, h = (size_t)c->hidden, in = (size_t)c->inter;
    int fail = 0;
    m->a = a, m->b = b, m->t = t, m->p = p;
    m->emb = alloc(n * h, &fail), m->emb_mean = alloc(n, &fail), m->emb_rstd = alloc(n, &fail);
    m->x0 = alloc(n * h, &fail);
    for (int l = 0; l < c->layers; l++) {
        layer_acts *L = &m->L[l];
        L->qkv = alloc(n * 3 * h, &fail), L->probs = alloc((size_t)b * c->heads * t * t, &fail);
        L->att = alloc(n * h, &fail), L->sum1 = alloc(n * h, &fail), L->h1 = alloc(n * h, &fail);
        L->mean1 = alloc(n, &fail), L->rstd1 = alloc(n, &fail), L->mean2 = alloc(n, &fail), L->rstd2 = alloc(n, &fail);
        L->inter = alloc(n * in, &fail), L->act = alloc(n * in, &fail), L->sum2 = alloc(n * h, &fail);
        L->x = l == 0 ? m->x0 : NULL; /* set below: layer l's input is layer l-1's output */
    }
    m->out = alloc(n * h, &fail);
    for (int l = 1; l < c->layers; l++) m->L[l].x = alloc(n * h, &fail);
    m->hm = alloc(n * h, &fail), m->hd = alloc(n * h, &fail), m->hg = alloc(n * h, &fail), m->hl = alloc(n * h, &fail);
    m->hmean = alloc(n, &fail), m->hrstd = alloc(n, &fail), m->logits = alloc(n * (size_t)c->vocab, &fail);
    size_t wide = (in > 3 * h ? in : 3 * h);
    m->g1 = alloc(n * h, &fail), m->g2 = alloc(n * h, &fail), m->g3 = alloc(n * h, &fail);
    m->gi = alloc(n * wide, &fail), m->gqkv = alloc(n * 3 * h, &fail), m->glog = alloc(n * (size_t)c->vocab, &fail);
    m->gm = alloc(n * h, &fail);
    if (fail) {
        bert_cpu_free(m);
        return NULL;
    }
    return m;
}

void bert_cpu_free(bert_cpu *m)
{
    if (!m) return;
    free(m->emb), free(m->emb_mean), free(m->emb_rstd), free(m->x0), free(m->out);
    for (int l = 0; l < m->a->c.layers; l++) {
        layer_acts *L = &m->L[l];
        if (l > 0) free(L->x);
        free(L->qkv), free(L->probs), free(L->att), free(L->sum1), free(L->h1), free(L->mean1), free(L->rstd1);
        free(L->mean2), free(L->rstd2), free(L->inter), free(L->act), free(L->sum2);
    }
    free(m->hm), free(m->hd), free(m->hg), free(m->hl), free(m->hmean), free(m->hrstd), free(m->logits);
    free(m->g1), free(m->g2), free(m->g3), free(m->gi), free(m->gqkv), free(m->glog), free(m->gm);
    free(m);
}

static void add(size_t n, const float *a, const float *b, float *y)
{
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

double bert_cpu_loss_grads(bert_cpu *m, const float *P, const bert_batch *bt, uint64_t seed, uint64_t step, float *G,
                           float *logits_out)
{
    const bert_arch *a = m->a;
    const bert_config *c = &a->c;
    const int b = m->b, t = m->t, h = c->hidden, in = c->inter, V = c->vocab, nm = bt->nmasked;
    const size_t n = (size_t)b * t, nh = n * h;
    const float p = m->p;

    /* ---- forward ---- */
    embed_fwd_cpu(b, t, h, bt->ids, NULL, P + a->word, P + a->pos, P + a->type, m->emb);
    layernorm_fwd_cpu(n, h, m->emb, P + a->emb_ln_g, P + a->emb_ln_b, m->x0, m->emb_mean, m->emb_rstd);
    dropout_fwd_cpu(nh, m->x0, m->x0, p, seed, stream_of(step, -1, D_EMB));
    for (int l = 0; l < c->layers; l++) {
        const bert_layer_offs *O = &a->layer[l];
        layer_acts *L = &m->L[l];
        float *next = l + 1 < c->layers ? m->L[l + 1].x : m->out;
        linear_fwd_cpu(n, h, 3 * h, L->x, P + O->qkv_w, P + O->qkv_b, L->qkv);
        attention_fwd_cpu(b, t, h, c->heads, L->qkv, L->probs, L->att, p, seed, stream_of(step, l, D_ATT_PROBS));
        linear_fwd_cpu(n, h, h, L->att, P + O->ao_w, P + O->ao_b, m->g1);
        dropout_fwd_cpu(nh, m->g1, m->g1, p, seed, stream_of(step, l, D_ATT_OUT));
        add(nh, m->g1, L->x, L->sum1);
        layernorm_fwd_cpu(n, h, L->sum1, P + O->ln1_g, P + O->ln1_b, L->h1, L->mean1, L->rstd1);
        linear_fwd_cpu(n, h, in, L->h1, P + O->in_w, P + O->in_b, L->inter);
        gelu_fwd_cpu(n * in, L->inter, L->act);
        linear_fwd_cpu(n, in, h, L->act, P + O->out_w, P + O->out_b, m->g1);
        dropout_fwd_cpu(nh, m->g1, m->g1, p, seed, stream_of(step, l, D_FFN_OUT));
        add(nh, m->g1, L->h1, L->sum2);
        layernorm_fwd_cpu(n, h, L->sum2, P + O->ln2_g, P + O->ln2_b, next, L->mean2, L->rstd2);
    }
    /* the MLM head runs on the masked positions alone, as BERT's pre-training does */
    for (int k = 0; k < nm; k++) memcpy(m->hm + (size_t)k * h, m->out + (size_t)bt->mpos[k] * h, (size_t)h * sizeof(float));
    linear_fwd_cpu(nm, h, h, m->hm, P + a->head_w, P + a->head_b, m->hd);
    gelu_fwd_cpu((size_t)nm * h, m->hd, m->hg);
    layernorm_fwd_cpu(nm, h, m->hg, P + a->head_ln_g, P + a->head_ln_b, m->hl, m->hmean, m->hrstd);
    linear_fwd_cpu(nm, h, V, m->hl, P + a->word, P + a->dec_b, m->logits);
    if (logits_out) memcpy(logits_out, m->logits, (size_t)nm * V * sizeof(float));
    double loss = xent_fwd_bwd_cpu(nm, V, m->logits, bt->mlabels, G ? m->glog : NULL);
    if (!G) return loss;

    /* ---- backward ---- */
    memset(G, 0, a->n_flat * sizeof *G);
    linear_bwd_cpu(nm, h, V, m->hl, P + a->word, m->glog, m->g1, G + a->word, G + a->dec_b);
    layernorm_bwd_cpu(nm, h, m->hg, m->g1, P + a->head_ln_g, m->hmean, m->hrstd, m->g2, G + a->head_ln_g, G + a->head_ln_b);
    gelu_bwd_cpu((size_t)nm * h, m->hd, m->g2, m->g2);
    linear_bwd_cpu(nm, h, h, m->hm, P + a->head_w, m->g2, m->g1, G + a->head_w, G + a->head_b);
    /* scatter back to every position: unmasked ones get no gradient from the head */
    float *gx = m->gm;
    memset(gx, 0, nh * sizeof *gx);
    for (int k = 0; k < nm; k++) memcpy(gx + (size_t)bt->mpos[k] * h, m->g1 + (size_t)k * h, (size_t)h * sizeof(float));
    for (int l = c->layers - 1; l >= 0; l--) {
        const bert_layer_offs *O = &a->layer[l];
        layer_acts *L = &m->L[l];
        /* gx: gradient of this layer's output */
        layernorm_bwd_cpu(n, h, L->sum2, gx, P + O->ln2_g, L->mean2, L->rstd2, m->g2, G + O->ln2_g, G + O->ln2_b);
        /* g2: gradient of sum2 = h1 + dropout(out) */
        dropout_bwd_cpu(nh, m->g2, m->g3, p, seed, stream_of(step, l, D_FFN_OUT));
        linear_bwd_cpu(n, in, h, L->act, P + O->out_w, m->g3, m->gi, G + O->out_w, G + O->out_b);
        gelu_bwd_cpu(n * in, L->inter, m->gi, m->gi);
        linear_bwd_cpu(n, h, in, L->h1, P + O->in_w, m->gi, m->g3, G + O->in_w, G + O->in_b);
        add(nh, m->g3, m->g2, m->g3); /* gradient of h1: through the FFN and the residual */
        layernorm_bwd_cpu(n, h, L->sum1, m->g3, P + O->ln1_g, L->mean1, L->rstd1, m->g2, G + O->ln1_g, G + O->ln1_b);
        /* g2: gradient of sum1 = x + dropout(proj) */
        dropout_bwd_cpu(nh, m->g2, m->g3, p, seed, stream_of(step, l, D_ATT_OUT));
        linear_bwd_cpu(n, h, h, L->att, P + O->ao_w, m->g3, m->g1, G + O->ao_w, G + O->ao_b);
        attention_bwd_cpu(b, t, h, c->heads, L->qkv, L->probs, m->g1, m->gqkv, p, seed, stream_of(step, l, D_ATT_PROBS));
        linear_bwd_cpu(n, h, 3 * h, L->x, P + O->qkv_w, m->gqkv, gx, G + O->qkv_w, G + O->qkv_b);
        add(nh, gx, m->g2, gx); /* plus the residual path */
    }
    dropout_bwd_cpu(nh, gx, gx, p, seed, stream_of(step, -1, D_EMB));
    layernorm_bwd_cpu(n, h, m->emb, gx, P + a->emb_ln_g, m->emb_mean, m->emb_rstd, m->g2, G + a->emb_ln_g, G + a->emb_ln_b);
    embed_bwd_cpu(b, t, h, bt->ids, NULL, m->g2, G + a->word, G + a->pos, G + a->type);
    return loss;
}
