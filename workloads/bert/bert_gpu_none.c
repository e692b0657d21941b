/* Built without CUDA: --device cuda says so and how to get it. */
#include <stdio.h>

#include "bert_backend.h"

bert_backend *bert_backend_gpu(const bert_run_config *c, const float *params)
{
    (void)params;
    fprintf(stderr,
            "%s: this build has no CUDA backend (nvcc was not found when it was built); rebuild with CUDA 12+ "
            "installed, or run the plain-C reference with --device cpu (a small model: --layers 2 --hidden 64 "
            "--heads 4 --seq 32)\n",
            c->prog);
    return NULL;
}
