#include "gpu_check.h"

/* The name every CUDA, cuDNN and cuBLAS failure message starts with. */
const char *wl_gpu_prog = "cotenant workload";
