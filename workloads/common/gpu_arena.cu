#include "gpu_arena.h"
#include "gpu_check.h"

void *gpu_arena_alloc(gpu_arena *a, size_t bytes)
{
    size_t at = (a->used + 255) / 256 * 256;
    a->used = at + bytes;
    if (!a->base) return NULL;
    if (a->used > a->size) {
        fprintf(stderr, "%s: internal error: device arena of %zu bytes exceeded (%zu asked)\n", wl_gpu_prog, a->size, a->used);
        exit(1);
    }
    return a->base + at;
}

void gpu_arena_reserve(gpu_arena *a)
{
    a->size = (a->used + 255) / 256 * 256;
    a->used = 0;
    CUDA_CHECK(cudaMalloc((void **)&a->base, a->size));
}

void gpu_arena_release(gpu_arena *a)
{
    if (a->base) cudaFree(a->base);
    a->base = NULL;
    a->size = a->used = 0;
}
