/* bert_cpu.h - the whole model on the CPU: forward, loss and backward of
 * one batch, from the layers of bert_layers_cpu.h. The GPU backend is
 * checked against this, and --device cpu trains with it. */
#ifndef COTENANT_BERT_CPU_H
#define COTENANT_BERT_CPU_H

#include <stdint.h>

#include "bert_arch.h"
#include "bert_data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bert_cpu bert_cpu;

/* Activations for batches of b sequences of t tokens (t <= max_pos);
 * dropout p on the embeddings, each sublayer's output and the attention
 * probabilities, as BERT (0.1 there; 0 for exact checks). NULL if out of
 * memory or the shape does not fit. */
bert_cpu *bert_cpu_new(const bert_arch *a, int b, int t, float dropout);
void bert_cpu_free(bert_cpu *m);

/* Forward and backward: returns the mean cross-entropy over the batch's
 * masked positions and writes the gradient of every parameter into grads
 * (n_flat, overwritten). Dropout masks are drawn from (seed, step).
 * grads NULL: forward only. logits (nmasked, vocab) are kept when not NULL. */
double bert_cpu_loss_grads(bert_cpu *m, const float *params, const bert_batch *bt, uint64_t seed, uint64_t step,
                           float *grads, float *logits);

#ifdef __cplusplus
}
#endif

#endif
