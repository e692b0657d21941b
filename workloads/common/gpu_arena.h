/* gpu_arena.h - one device allocation split into named tensors.
 *
 * A model allocates everything twice through the same code: first with an
 * empty arena, which only adds up the sizes (and hands out NULL), then after
 * gpu_arena_reserve() for real. One cudaMalloc, no fragmentation, and the
 * total is known exactly: it is the workload's memory figure. */
#ifndef COTENANT_GPU_ARENA_H
#define COTENANT_GPU_ARENA_H

#include <stddef.h>

typedef struct {
    char *base;  /* NULL while measuring */
    size_t size; /* reserved bytes */
    size_t used;
} gpu_arena;

/* 256-byte aligned; NULL while measuring. Exits when the reservation is
 * exceeded, which is a bug in the model's two passes. */
void *gpu_arena_alloc(gpu_arena *a, size_t bytes);
/* Reserves what the measuring pass added up and restarts the count. */
void gpu_arena_reserve(gpu_arena *a);
void gpu_arena_release(gpu_arena *a);

#endif
