#include "bert_data.h"

#include <stdlib.h>
#include <string.h>

#include "bert_arch.h"
#include "wl_rng.h"

/* Streams of the generator, one per use, so no two draws coincide. */
enum { S_TOKEN = 1, S_CHOOSE, S_HOW, S_REPLACE };
/* The learnable task draws from a small part of the vocabulary, so a tiny
 * model sees each token often. */
#define LEARNABLE_WORDS 64

int bert_batch_alloc(bert_batch *bt, int b, int t)
{
    memset(bt, 0, sizeof *bt);
    size_t n = (size_t)b * t;
    bt->b = b, bt->t = t;
    bt->ids = malloc(n * sizeof *bt->ids);
    bt->labels = malloc(n * sizeof *bt->labels);
    bt->mpos = malloc(n * sizeof *bt->mpos);
    bt->mlabels = malloc(n * sizeof *bt->mlabels);
    if (!bt->ids || !bt->labels || !bt->mpos || !bt->mlabels) {
        bert_batch_free(bt);
        return -1;
    }
    return 0;
}

void bert_batch_free(bert_batch *bt)
{
    free(bt->ids), free(bt->labels), free(bt->mpos), free(bt->mlabels);
    memset(bt, 0, sizeof *bt);
}

static int word(int vocab, int span, uint64_t seed, uint64_t stream, uint64_t i)
{
    int words = vocab - BERT_FIRST_WORD;
    if (span > 0 && span < words) words = span;
    int w = (int)(wl_uniform(seed, stream, i) * (float)words);
    return BERT_FIRST_WORD + (w < words ? w : words - 1);
}

void bert_batch_make(bert_batch *bt, bert_data_kind kind, int vocab, uint64_t seed, uint64_t step)
{
    size_t n = (size_t)bt->b * bt->t;
    uint64_t base = step * n;
    int span = kind == BERT_DATA_LEARNABLE ? LEARNABLE_WORDS : 0;
    for (int s = 0; s < bt->b; s++)
        for (int i = 0; i < bt->t; i++) {
            size_t r = (size_t)s * bt->t + i;
            int src = kind == BERT_DATA_LEARNABLE ? 0 : i; /* learnable: every token is the sequence's first */
            bt->ids[r] = word(vocab, span, seed, S_TOKEN, base + (size_t)s * bt->t + src);
        }
    bt->nmasked = 0;
    for (size_t r = 0; r < n; r++) {
        bt->labels[r] = -1;
        if (wl_uniform(seed, S_CHOOSE, base + r) >= 0.15f) continue;
        bt->labels[r] = bt->ids[r];
        float how = wl_uniform(seed, S_HOW, base + r);
        if (how < 0.8f) bt->ids[r] = BERT_TOKEN_MASK;
        else if (how < 0.9f) bt->ids[r] = word(vocab, span, seed, S_REPLACE, base + r);
    }
    /* never an empty loss: a batch with no chosen position gets its first one */
    int any = 0;
    for (size_t r = 0; r < n; r++) any |= bt->labels[r] >= 0;
    if (!any && n > 0) bt->labels[0] = bt->ids[0], bt->ids[0] = BERT_TOKEN_MASK;
    for (size_t r = 0; r < n; r++)
        if (bt->labels[r] >= 0) {
            bt->mpos[bt->nmasked] = (int)r;
            bt->mlabels[bt->nmasked++] = bt->labels[r];
        }
}
