/* mem_plan.h - offsets for tensors that live at different times.
 *
 * A training step touches its tensors in a fixed order. Each tensor is
 * live from the first operation that touches it to the last; two tensors
 * whose lives overlap need disjoint bytes, the others may share them. The
 * plan places the largest first, each at the lowest offset clear of every
 * already placed tensor it overlaps in time (the greedy-by-size placement of
 * inference runtimes' arena planners). Activations freed during the backward
 * pass thus hold the gradients, as a caching allocator would arrange, but
 * decided once, before the first step, and fixed for a CUDA graph.
 *
 * Plain C, no CUDA: the model records the uses, then asks for offsets. */
#ifndef COTENANT_MEM_PLAN_H
#define COTENANT_MEM_PLAN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    size_t bytes;
    long first, last; /* operations; first > last while never touched */
    size_t offset;    /* set by mem_plan_place */
} mem_plan_tensor;

typedef struct {
    mem_plan_tensor *t;
    int n;
    long clock; /* the operation being recorded */
    size_t align;
} mem_plan;

/* n tensors, all untouched, of the given sizes in bytes; align is a power
 * of two. Returns -1 when out of memory. */
int mem_plan_init(mem_plan *p, int n, const size_t *bytes, size_t align);
void mem_plan_free(mem_plan *p);
/* The next operation starts; touches from now on belong to it. */
void mem_plan_next_op(mem_plan *p);
/* Tensor id is used by the current operation. */
void mem_plan_touch(mem_plan *p, int id);
/* Assigns offsets; returns the bytes the whole plan needs. Tensors never
 * touched get no bytes (offset 0, and nothing else placed over them
 * matters since they are never used). */
size_t mem_plan_place(mem_plan *p);
/* The most bytes live at once: a lower bound on what any placement needs. */
size_t mem_plan_peak_live(const mem_plan *p);
/* 1 when two touched tensors that are live together share a byte. */
int mem_plan_conflicts(const mem_plan *p, int *a, int *b);

#ifdef __cplusplus
}
#endif

#endif
