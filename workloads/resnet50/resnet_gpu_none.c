/* Built without CUDA: --device cuda says so and how to get it. */
#include <stdio.h>

#include "resnet_backend.h"

rn_backend *rn_backend_gpu(const rn_config *c, const float *params)
{
    (void)params;
    fprintf(stderr,
            "%s: this build has no CUDA backend (nvcc was not found when it was built); "
            "rebuild with CUDA 12+ and cuDNN 9 installed, or run the CPU reference with --device cpu\n",
            c->prog);
    return NULL;
}
