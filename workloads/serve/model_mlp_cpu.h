/* model_mlp_cpu.h - the server's plain-C model (see model_mlp_cpu.c). */
#ifndef COTENANT_MODEL_MLP_CPU_H
#define COTENANT_MODEL_MLP_CPU_H

#include "serve_model.h"

#define MLP_IN 64
#define MLP_HIDDEN 256
#define MLP_OUT 10

serve_model *mlp_cpu_open(const serve_model_opts *o, char *err, size_t errcap);
/* The weights for a seed, and one item's forward pass: tests recompute
 * every answer with them. */
void mlp_cpu_weights(unsigned long long seed, float *w1, float *b1, float *w2, float *b2);
void mlp_cpu_forward(const float *w1, const float *b1, const float *w2, const float *b2, const float *x, float *y);

#endif
