/* bert_check.h - the GPU against the plain-C reference on the same weights,
 * batch and dropout masks: the loss, the masked rows' logits and every
 * parameter's gradient, each as a relative L2 error against its bound. */
#ifndef COTENANT_BERT_CHECK_H
#define COTENANT_BERT_CHECK_H

#include "bert_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Prints one line per figure; returns 0 when all are within bounds, 1 otherwise. */
int bert_check(const bert_run_config *c, const float *params);

#ifdef __cplusplus
}
#endif

#endif
