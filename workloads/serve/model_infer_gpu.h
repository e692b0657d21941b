/* model_infer_gpu.h - the server's GPU models (see model_infer_gpu.c). */
#ifndef COTENANT_MODEL_INFER_GPU_H
#define COTENANT_MODEL_INFER_GPU_H

#include "serve_model.h"

serve_model *resnet50_gpu_open(const serve_model_opts *o, char *err, size_t errcap);

#endif
