/* infer_engine.h - a model's forward pass for inference, behind one
 * interface: the offline benchmark (cotenant-infer) runs it on a batch that
 * stays on the GPU, the server (cotenant-serve) on batches that come from
 * and go back to the host.
 *
 * Batches of any size up to max_batch run; an engine prepares each size the
 * first time it is asked for (algorithms, CUDA graph), so a server's first
 * batch of a new size is slower than the rest. */
#ifndef COTENANT_INFER_ENGINE_H
#define COTENANT_INFER_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct infer_engine infer_engine;
struct infer_engine {
    const char *model;      /* "resnet50" */
    const char *unit;       /* "images" */
    int max_batch;
    /* One item, as the host gives and takes it (for the server). */
    const char *in_name, *out_name;
    int in_rank, out_rank;
    int64_t in_dims[4], out_dims[4];
    int in_is_int;          /* 1: INT32 items (token ids); 0: FP32, or UINT8 with in_u8 */
    double flops_per_item;  /* forward multiply-adds x 2 */
    /* A forward pass of n items on the batch kept on the GPU; returns once
     * the GPU has finished. */
    int (*run_resident)(infer_engine *e, int n);
    /* Items from the host in nparts buffers (items[k] in buffer k), one
     * forward pass over all of them, their outputs back to the host in order. */
    int (*run_host)(infer_engine *e, int nparts, const void *const *in, const int *items, float *out);
    /* Page-locked host memory for a request's body, so that its tensor goes
     * to the GPU by DMA from where it arrived: NULL when the pool is used up
     * or the size is over a slot (the caller then mallocs). Thread-safe. */
    void *(*host_alloc)(infer_engine *e, size_t bytes);
    void (*host_free)(infer_engine *e, void *p);
    void (*close)(infer_engine *e);
    size_t device_bytes;    /* what the engine holds on the GPU */
    /* run_host's last call in three parts, as Triton reports a model's
     * compute (ns, from CUDA events on the engine's stream): the input to
     * the GPU and into the model's layout, the forward pass, the output
     * back to the caller's memory. */
    int64_t input_ns, infer_ns, output_ns;
    void *impl;
};

typedef struct {
    const char *prog;
    int gpu;
    int max_batch;
    int image, classes;     /* resnet50 */
    int seq;                /* bert: tokens a sequence */
    uint64_t seed;
    int random_bn;          /* batch norm away from its initial values (checks) */
    int algo_heuristic;     /* cuDNN's heuristics rather than measured algorithms */
    int use_graph;
    int pinned_slots;       /* request-sized page-locked buffers for host_alloc (0: none) */
    int in_u8;              /* resnet50: run_host's items are UINT8 pixels (0-255), normalised on the GPU as
                             * torchvision's ImageNet transform does; a quarter of FP32's bytes to move */
    int profile;            /* bert: GPU time per kind of call, printed at the end */
    int attention_fused;    /* bert: attention without the score matrix in memory (bert_gpu_attn.h) */
} infer_opts;

/* NULL after printing why (no GPU, out of memory, a CUDA-less build). */
infer_engine *infer_resnet50_gpu(const infer_opts *o);
/* BERT-base masked-LM inference: logits for every token, as
 * BertForMaskedLM answers without labels. */
infer_engine *infer_bert_gpu(const infer_opts *o);
/* The BERT engine's logits at masked positions against the training
 * forward pass's (itself checked against the plain-C reference), on one
 * batch without dropout. 0 when they agree. */
int infer_bert_check(const infer_opts *o);

/* The same model's parameters, as the GPU engine builds them, for checks. */
typedef struct {
    float *params, *mean, *var; /* rn_arch's flat parameters and running statistics */
} infer_resnet50_params;
int infer_resnet50_params_make(const infer_opts *o, infer_resnet50_params *p);
void infer_resnet50_params_free(infer_resnet50_params *p);

#ifdef __cplusplus
}
#endif

#endif
