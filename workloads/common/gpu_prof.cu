#include "gpu_prof.h"

#include <stdlib.h>

#include "gpu_check.h"

#define PROF_MARKS 4096
#define PROF_KINDS 32

struct gpu_prof {
    cudaStream_t st;
    const char *const *names;
    int nkinds, nmarks, created;
    cudaEvent_t ev[PROF_MARKS + 1];
    int kind[PROF_MARKS + 1];
    double ms[PROF_KINDS];
    long calls[PROF_KINDS];
    long steps;
};

gpu_prof *gpu_prof_create(cudaStream_t st, const char *const *names, int nkinds)
{
    if (nkinds > PROF_KINDS) nkinds = PROF_KINDS;
    gpu_prof *p = (gpu_prof *)calloc(1, sizeof *p);
    if (!p) return NULL;
    p->st = st, p->names = names, p->nkinds = nkinds;
    return p;
}

void gpu_prof_destroy(gpu_prof *p)
{
    if (!p) return;
    for (int i = 0; i < p->created; i++) cudaEventDestroy(p->ev[i]);
    free(p);
}

static void record(gpu_prof *p, int kind)
{
    if (p->nmarks > PROF_MARKS) return; /* a step this long is cut, not overrun */
    if (p->nmarks == p->created) CUDA_CHECK(cudaEventCreate(&p->ev[p->created++]));
    p->kind[p->nmarks] = kind;
    CUDA_CHECK(cudaEventRecord(p->ev[p->nmarks++], p->st));
}

void gpu_prof_begin(gpu_prof *p)
{
    if (!p) return;
    p->nmarks = 0;
    record(p, -1);
}

void gpu_prof_mark(gpu_prof *p, int kind)
{
    if (p) record(p, kind);
}

void gpu_prof_end(gpu_prof *p)
{
    if (!p) return;
    CUDA_CHECK(cudaStreamSynchronize(p->st));
    for (int i = 1; i < p->nmarks; i++) {
        float ms;
        CUDA_CHECK(cudaEventElapsedTime(&ms, p->ev[i - 1], p->ev[i]));
        int k = p->kind[i];
        if (k >= 0 && k < p->nkinds) p->ms[k] += ms, p->calls[k]++;
    }
    p->steps++;
}

void gpu_prof_print(const gpu_prof *p, FILE *f, const char *prog)
{
    if (!p || !p->steps) return;
    double total = 0;
    for (int k = 0; k < p->nkinds; k++) total += p->ms[k];
    fprintf(f, "%s: GPU time a step by kind of call, mean of %ld steps\n", prog, p->steps);
    fprintf(f, "%-44s %9s %7s %6s\n", "kind of call", "ms", "share", "marks");
    for (int k = 0; k < p->nkinds; k++)
        if (p->calls[k])
            fprintf(f, "%-44s %9.3f %6.1f%% %6ld\n", p->names[k], p->ms[k] / p->steps, total > 0 ? 100 * p->ms[k] / total : 0,
                    p->calls[k] / p->steps);
    fprintf(f, "%-44s %9.3f\n", "total", total / p->steps);
}
