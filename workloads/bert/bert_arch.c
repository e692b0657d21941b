#include "bert_arch.h"

#include <stdio.h>
#include <string.h>

#include "wl_rng.h"

static size_t align_up(size_t n)
{
    return (n + BERT_ALIGN - 1) / BERT_ALIGN * BERT_ALIGN;
}

static size_t take(size_t *off, size_t n)
{
    size_t o = *off;
    *off += align_up(n);
    return o;
}

bert_config bert_base_config(void)
{
    return (bert_config){.layers = 12, .hidden = 768, .heads = 12, .inter = 3072, .vocab = 30522, .max_pos = 512,
                         .type_vocab = 2};
}

int bert_arch_build(bert_arch *a, const bert_config *c)
{
    if (c->layers < 1 || c->layers > BERT_MAX_LAYERS || c->hidden < 1 || c->heads < 1 || c->hidden % c->heads ||
        c->inter < 1 || c->vocab < 2 || c->max_pos < 1 || c->type_vocab < 1)
        return -1;
    memset(a, 0, sizeof *a);
    a->c = *c;
    size_t h = (size_t)c->hidden, off = 0;
    /* matrices first: decay and the GPU's bf16 copy apply to this prefix */
    a->word = take(&off, (size_t)c->vocab * h);
    a->pos = take(&off, (size_t)c->max_pos * h);
    a->type = take(&off, (size_t)c->type_vocab * h);
    for (int l = 0; l < c->layers; l++) {
        bert_layer_offs *L = &a->layer[l];
        L->qkv_w = take(&off, 3 * h * h);
        L->ao_w = take(&off, h * h);
        L->in_w = take(&off, (size_t)c->inter * h);
        L->out_w = take(&off, h * (size_t)c->inter);
    }
    a->head_w = take(&off, h * h);
    a->n_matrix = off;
    a->emb_ln_g = take(&off, h);
    a->emb_ln_b = take(&off, h);
    for (int l = 0; l < c->layers; l++) {
        bert_layer_offs *L = &a->layer[l];
        L->qkv_b = take(&off, 3 * h);
        L->ao_b = take(&off, h);
        L->ln1_g = take(&off, h);
        L->ln1_b = take(&off, h);
        L->in_b = take(&off, (size_t)c->inter);
        L->out_b = take(&off, h);
        L->ln2_g = take(&off, h);
        L->ln2_b = take(&off, h);
    }
    a->head_b = take(&off, h);
    a->head_ln_g = take(&off, h);
    a->head_ln_b = take(&off, h);
    a->dec_b = take(&off, (size_t)c->vocab);
    a->n_flat = off;
    size_t per_layer = 4 * h * h + 2 * h * (size_t)c->inter + 3 * h + h + (size_t)c->inter + h + 4 * h;
    a->n_params = ((size_t)c->vocab + c->max_pos + c->type_vocab) * h + 2 * h + (size_t)c->layers * per_layer +
                  h * h + h + 2 * h + (size_t)c->vocab;
    return 0;
}

void bert_init_params(const bert_arch *a, float *p, uint64_t seed)
{
    memset(p, 0, a->n_flat * sizeof *p);
    char name[96];
    size_t off, count;
    for (int i = 0; bert_param_tensor(a, i, name, sizeof name, &off, &count); i++) {
        if (off < a->n_matrix) {
            for (size_t k = 0; k < count; k++) p[off + k] = 0.02f * wl_normal(seed, 1000 + (uint64_t)i, k);
        } else if (strstr(name, "ln") && strstr(name, ".g")) {
            for (size_t k = 0; k < count; k++) p[off + k] = 1.0f;
        }
    }
}

int bert_param_tensor(const bert_arch *a, int i, char *name, size_t cap, size_t *off, size_t *count)
{
    const bert_config *c = &a->c;
    size_t h = (size_t)c->hidden, in = (size_t)c->inter;
    /* the fixed tensors before and after the layers, then 12 a layer */
    static const char *const pre[] = {"emb.word", "emb.pos", "emb.type", "emb.ln.g", "emb.ln.b"};
    static const char *const post[] = {"head.dense.w", "head.dense.b", "head.ln.g", "head.ln.b", "head.decoder.b"};
    static const char *const per[] = {"qkv.w", "qkv.b", "attn_out.w", "attn_out.b", "ln1.g", "ln1.b",
                                      "inter.w", "inter.b", "out.w", "out.b", "ln2.g", "ln2.b"};
    if (i < 0) return 0;
    if (i < 5) {
        size_t o[] = {a->word, a->pos, a->type, a->emb_ln_g, a->emb_ln_b};
        size_t n[] = {(size_t)c->vocab * h, (size_t)c->max_pos * h, (size_t)c->type_vocab * h, h, h};
        snprintf(name, cap, "%s", pre[i]);
        *off = o[i], *count = n[i];
        return 1;
    }
    i -= 5;
    if (i < 12 * c->layers) {
        const bert_layer_offs *L = &a->layer[i / 12];
        int k = i % 12;
        size_t o[] = {L->qkv_w, L->qkv_b, L->ao_w, L->ao_b, L->ln1_g, L->ln1_b,
                      L->in_w, L->in_b, L->out_w, L->out_b, L->ln2_g, L->ln2_b};
        size_t n[] = {3 * h * h, 3 * h, h * h, h, h, h, in * h, in, h * in, h, h, h};
        snprintf(name, cap, "layer%d.%s", i / 12, per[k]);
        *off = o[k], *count = n[k];
        return 1;
    }
    i -= 12 * c->layers;
    if (i < 5) {
        size_t o[] = {a->head_w, a->head_b, a->head_ln_g, a->head_ln_b, a->dec_b};
        size_t n[] = {h * h, h, h, h, (size_t)c->vocab};
        snprintf(name, cap, "%s", post[i]);
        *off = o[i], *count = n[i];
        return 1;
    }
    return 0;
}

double bert_forward_macs(const bert_config *c, int seq, double masked)
{
    double h = c->hidden, t = seq;
    double layer = t * (4 * h * h + 2 * h * c->inter) + 2 * t * t * h; /* linears; QK^T and PV */
    return c->layers * layer + masked * (h * h + h * c->vocab);
}
