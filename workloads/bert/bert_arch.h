/* bert_arch.h - BERT for masked-language modelling (BertForMaskedLM as
 * Hugging Face builds it), as data.
 *
 * Post-layer-norm encoder layers, GELU (erf form), learned position and
 * token-type embeddings, and the MLM head: dense + GELU + layer norm, then
 * a decoder tied to the word embeddings with its own bias. Linear weights
 * are (out, in), as PyTorch stores them.
 *
 * All parameters live in one flat fp32 vector: first the matrices
 * (embeddings and linear weights: the ones weight decay applies to, and
 * that the GPU keeps a bf16 copy of), then the vectors (biases, layer-norm
 * scale and shift). Each tensor starts on a 64-element boundary. */
#ifndef COTENANT_BERT_ARCH_H
#define COTENANT_BERT_ARCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BERT_MAX_LAYERS 48
#define BERT_ALIGN 64
/* Token ids of BERT's uncased vocabulary that the data generator avoids or uses. */
#define BERT_TOKEN_PAD 0
#define BERT_TOKEN_MASK 103
#define BERT_FIRST_WORD 1000 /* ids below are special or unused tokens in BERT's vocabulary */

typedef struct {
    int layers, hidden, heads, inter, vocab, max_pos, type_vocab;
} bert_config;

typedef struct {
    size_t qkv_w, qkv_b;     /* (3 hidden, hidden): query, key, value stacked */
    size_t ao_w, ao_b;       /* attention output (hidden, hidden) */
    size_t ln1_g, ln1_b;
    size_t in_w, in_b;       /* intermediate (inter, hidden) */
    size_t out_w, out_b;     /* output (hidden, inter) */
    size_t ln2_g, ln2_b;
} bert_layer_offs;

typedef struct {
    bert_config c;
    size_t word, pos, type;          /* embeddings: (vocab | max_pos | type_vocab, hidden) */
    size_t emb_ln_g, emb_ln_b;
    bert_layer_offs layer[BERT_MAX_LAYERS];
    size_t head_w, head_b;           /* MLM transform dense (hidden, hidden) */
    size_t head_ln_g, head_ln_b;
    size_t dec_b;                    /* decoder bias (vocab); its weight is `word` */
    size_t n_matrix;                 /* flat elements of the matrices, padded */
    size_t n_flat;                   /* all of them, padded */
    size_t n_params;                 /* the model's parameter count, unpadded, the tied decoder once */
} bert_arch;

/* BERT-base: 12 layers, hidden 768, 12 heads, intermediate 3072, vocabulary
 * 30522, 512 positions, 2 token types. */
bert_config bert_base_config(void);
/* -1 where the shape is not a BERT (hidden not a multiple of heads, too many layers...). */
int bert_arch_build(bert_arch *a, const bert_config *c);
/* BERT's initialisation: normal(0, 0.02) for matrices, zero biases,
 * layer-norm scale 1; padding elements 0. */
void bert_init_params(const bert_arch *a, float *params, uint64_t seed);
/* One named tensor: i from 0 while it returns 1. */
int bert_param_tensor(const bert_arch *a, int i, char *name, size_t name_len, size_t *off, size_t *count);
/* Forward multiply-accumulates per sequence of `seq` tokens with `masked`
 * of them through the MLM head: the encoder's matrix products, attention,
 * and the head. */
double bert_forward_macs(const bert_config *c, int seq, double masked);

#ifdef __cplusplus
}
#endif

#endif
