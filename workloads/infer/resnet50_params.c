/* The ResNet-50 parameters the inference engine serves: torchvision's
 * initialisation from the seed, and for checks batch-norm statistics away
 * from their initial values. */
#include <stdlib.h>

#include "infer_engine.h"
#include "resnet_arch.h"
#include "resnet_infer.h"

int infer_resnet50_params_make(const infer_opts *o, infer_resnet50_params *p)
{
    rn_arch a;
    if (rn_arch_build(&a, o->image, o->classes)) return -1;
    p->params = calloc(a.n_flat, sizeof *p->params);
    p->mean = calloc(a.n_stats, sizeof *p->mean);
    p->var = malloc(a.n_stats * sizeof *p->var);
    if (!p->params || !p->mean || !p->var) {
        infer_resnet50_params_free(p);
        return -1;
    }
    rn_init_params(&a, p->params, o->seed);
    for (size_t i = 0; i < a.n_stats; i++) p->var[i] = 1.0f; /* a fresh model's running statistics */
    if (o->random_bn) rn_random_bn(&a, p->params, p->mean, p->var, o->seed + 1);
    return 0;
}

void infer_resnet50_params_free(infer_resnet50_params *p)
{
    free(p->params), free(p->mean), free(p->var);
    p->params = p->mean = p->var = NULL;
}
