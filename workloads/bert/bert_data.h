/* bert_data.h - synthetic masked-language-model batches.
 *
 * Tokens come from the word part of BERT's vocabulary (ids from
 * BERT_FIRST_WORD up), so no special token appears by chance. Masking is
 * BERT's: each position is chosen with probability 0.15; a chosen token is
 * replaced by [MASK] 80% of the time, by a random token 10%, and left as it
 * is 10%; the loss covers the chosen positions alone. Everything is a pure
 * function of (seed, step), so the CPU and GPU see the same batches. */
#ifndef COTENANT_BERT_DATA_H
#define COTENANT_BERT_DATA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    BERT_DATA_RANDOM,    /* uniform random tokens: nothing to learn, the speed benchmark's input */
    BERT_DATA_LEARNABLE, /* each sequence repeats one word: a masked token is any unmasked one, for a model that
                          * learns to look at its context (the loss falls well below the unigram entropy) */
} bert_data_kind;

typedef struct {
    int b, t;
    int *ids;      /* (b, t) input tokens, after masking */
    int *labels;   /* (b, t) the original token at chosen positions, -1 elsewhere */
    int nmasked;   /* chosen positions, at least 1 */
    int *mpos;     /* their flat indices (b t), ascending */
    int *mlabels;  /* their labels */
} bert_batch;

int bert_batch_alloc(bert_batch *bt, int b, int t);
void bert_batch_free(bert_batch *bt);
/* vocab must exceed BERT_FIRST_WORD + 1. */
void bert_batch_make(bert_batch *bt, bert_data_kind kind, int vocab, uint64_t seed, uint64_t step);

#ifdef __cplusplus
}
#endif

#endif
