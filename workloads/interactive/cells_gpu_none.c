/* Built without CUDA: the interactive workload runs its cells on the CPU only. */
#include <stdio.h>

#include "cells.h"

cell_backend *cell_backend_gpu(const char *prog, int gpu, int max_n, double hold_bytes)
{
    (void)gpu, (void)max_n, (void)hold_bytes;
    fprintf(stderr, "%s: this build has no CUDA; run the cells on the CPU with --device cpu\n", prog);
    return NULL;
}
