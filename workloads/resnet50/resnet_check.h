/* resnet_check.h - the GPU against the plain-C reference on the same weights
 * and batch: loss, logits, every parameter's gradient, the running
 * statistics and the parameters after one SGD step, each within a relative
 * error bound suited to the precision. */
#ifndef COTENANT_RESNET_CHECK_H
#define COTENANT_RESNET_CHECK_H

#include "resnet_backend.h"

/* Returns the exit status: 0 all within bounds, 1 otherwise or on failure. */
int rn_check(const rn_config *c, const float *params);

#endif
