/* The models the server can run, by name: one line each. The GPU models come
 * from the offline-inference engine where CUDA was built in. */
#include <stdio.h>
#include <string.h>

#include "model_mlp_cpu.h"
#ifdef COTENANT_SERVE_GPU
#include "model_infer_gpu.h"
#endif
#include "serve_model.h"

static const struct {
    const char *name;
    serve_model *(*open)(const serve_model_opts *o, char *err, size_t errcap);
    const char *what;
    int takes_uint8; /* --input-dtype UINT8: pixels, normalised by the model */
} models[] = {
    {"mlp", mlp_cpu_open, "a 64-256-10 perceptron in plain C (FP32 [64] -> FP32 [10])", 0},
#ifdef COTENANT_SERVE_GPU
    {"resnet50", resnet50_gpu_open, "ResNet-50 on the GPU, bf16 (FP32 or UINT8 [3,224,224] -> FP32 [1000])", 1},
#endif
};

const char *serve_model_names(void)
{
#ifdef COTENANT_SERVE_GPU
    return "mlp, resnet50";
#else
    return "mlp (this build has no CUDA: resnet50 needs it)";
#endif
}

serve_model *serve_model_open(const serve_model_opts *o, int *bad_usage, char *err, size_t errcap)
{
    *bad_usage = 1;
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        if (strcmp(models[i].name, o->name)) continue;
        if (o->input_dtype != KS_FP32 && !(o->input_dtype == KS_UINT8 && models[i].takes_uint8)) {
            snprintf(err, errcap, "--input-dtype %s: model '%s' takes %s", ks_dtype_name(o->input_dtype), o->name,
                     models[i].takes_uint8 ? "FP32 or UINT8" : "FP32 only");
            return NULL;
        }
        *bad_usage = 0;
        return models[i].open(o, err, errcap);
    }
    snprintf(err, errcap, "--model '%s': unknown; expected one of: %s", o->name, serve_model_names());
    return NULL;
}
