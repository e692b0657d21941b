/* gpu_prof.h - where a training step's GPU time goes, by kind of call.
 *
 * The step marks the stream after each call (or run of calls) with the kind
 * that work belongs to; the time between one mark and the next is that
 * kind's. At the end of a step the marks are read back (the stream is
 * synchronised, so profiling slows the run) and added up. All calls take
 * NULL, for an unprofiled run, and do nothing then. */
#ifndef COTENANT_GPU_PROF_H
#define COTENANT_GPU_PROF_H

#include <cuda_runtime.h>
#include <stdio.h>

typedef struct gpu_prof gpu_prof;

/* names: nkinds labels, kept by the caller. */
gpu_prof *gpu_prof_create(cudaStream_t st, const char *const *names, int nkinds);
void gpu_prof_destroy(gpu_prof *p);
void gpu_prof_begin(gpu_prof *p);
/* The work enqueued since the last mark (or the begin) was of this kind. */
void gpu_prof_mark(gpu_prof *p, int kind);
void gpu_prof_end(gpu_prof *p);
/* A table of milliseconds a step and share, each kind and the total. */
void gpu_prof_print(const gpu_prof *p, FILE *f, const char *prog);

#endif
