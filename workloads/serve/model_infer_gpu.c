/* The server's GPU models: the offline-inference engines (infer_engine.h)
 * behind the serve_model interface. Every batch size up to --max-batch is
 * prepared (algorithms, CUDA graph) before the server says it is ready, so
 * no request pays for a first batch of its size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer_engine.h"
#include "model_infer_gpu.h"

static int run_parts(serve_model *m, int nparts, const void *const *in, const int *items, void *out, char *err,
                     size_t errcap)
{
    infer_engine *e = m->ctx;
    if (e->run_host(e, nparts, in, items, out)) {
        snprintf(err, errcap, "model '%s': the forward pass failed", e->model);
        return -1;
    }
    m->last = (serve_phases){e->input_ns, e->infer_ns, e->output_ns};
    return 0;
}

static int run(serve_model *m, int n, const void *in, void *out, char *err, size_t errcap)
{
    return run_parts(m, 1, &in, &n, out, err, errcap);
}

static void *host_alloc(serve_model *m, size_t bytes)
{
    infer_engine *e = m->ctx;
    return e->host_alloc(e, bytes);
}

static void host_free(serve_model *m, void *p)
{
    infer_engine *e = m->ctx;
    e->host_free(e, p);
}

static void destroy(serve_model *m)
{
    infer_engine *e = m->ctx;
    e->close(e);
    free(m);
}

serve_model *resnet50_gpu_open(const serve_model_opts *o, char *err, size_t errcap)
{
    infer_opts io = {.prog = "cotenant-serve", .gpu = o->gpu, .max_batch = o->max_batch, .image = 224, .classes = 1000,
                     .seed = o->seed, .algo_heuristic = !o->algo_measured, .use_graph = 1,
                     .pinned_slots = o->pinned_slots, .in_u8 = o->input_dtype == KS_UINT8};
    infer_engine *e = infer_resnet50_gpu(&io);
    serve_model *m = e ? calloc(1, sizeof *m) : NULL;
    if (!m) {
        snprintf(err, errcap, "model 'resnet50': the GPU engine did not start (the reason is above)");
        if (e) e->close(e);
        return NULL;
    }
    for (int n = 1; n <= o->max_batch; n++) e->run_resident(e, n);
    m->info = (ks_model_info){.name = "resnet50", .version = "1", .platform = "cotenant_cudnn", .on_gpu = true,
                              .input = {.name = e->in_name, .dtype = o->input_dtype, .rank = e->in_rank},
                              .output = {.name = e->out_name, .dtype = KS_FP32, .rank = e->out_rank},
                              .max_batch = o->max_batch};
    memcpy(m->info.input.dims, e->in_dims, sizeof e->in_dims);
    memcpy(m->info.output.dims, e->out_dims, sizeof e->out_dims);
    m->run = run, m->run_parts = run_parts, m->destroy = destroy, m->ctx = e;
    if (o->pinned_slots) m->host_alloc = host_alloc, m->host_free = host_free;
    return m;
}
