/* The built-in workload kinds: a table, so adding one is one line here. */
#include "scenario/kinds.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const builtin_kind kinds[] = {
    {"cpu-compute", "cotenant-cpu-burn", {"--loop", "compute", NULL}, DEVICE_CPU,
     "floating-point loop on every core; contends for CPU time"},
    {"cpu-membw", "cotenant-cpu-burn", {"--loop", "membw", NULL}, DEVICE_CPU,
     "stream-triad loop over 64 MiB arrays; contends for memory bandwidth"},
    {"gpu-gemm", "cotenant-gemm", {NULL}, DEVICE_GPU,
     "cuBLAS bf16 matrix products in a loop"},
    {"train-resnet50", "cotenant-resnet50", {NULL}, DEVICE_GPU,
     "ResNet-50 training (cuDNN, bf16, batch 128): add --batch, --precision to change"},
    {"train-resnet50-cpu", "cotenant-resnet50", {"--device", "cpu", "--image", "32", "--batch", "4", "--data", "learnable", NULL},
     DEVICE_CPU, "the plain-C ResNet-50 reference training on 32x32 images, one core"},
    {"train-bert", "cotenant-bert", {NULL}, DEVICE_GPU,
     "BERT-base MLM training (cuBLAS, bf16, batch 64, sequence 128): add --batch, --seq to change"},
    {"train-bert-cpu", "cotenant-bert",
     {"--device", "cpu", "--layers", "2", "--hidden", "64", "--heads", "4", "--inter", "256", "--vocab", "1064", "--seq",
      "32", "--batch", "8", "--data", "learnable", "--lr", "3e-3", "--lr-warmup", "10", NULL},
     DEVICE_CPU, "the plain-C BERT reference: MLM training of a 2-layer, hidden-64 BERT, one core"},
    {"serve", "cotenant-serve", {"--model", "resnet50", NULL}, DEVICE_GPU,
     "KServe v2 inference server with dynamic batching, ResNet-50 by default (--model bert); driven by a loadgen's target"},
    {"serve-cpu", "cotenant-serve", {"--model", "mlp", NULL}, DEVICE_CPU,
     "KServe v2 inference server with a small plain-C model; driven by a loadgen's target"},
    {"loadgen", "cotenant-loadgen", {NULL}, DEVICE_CPU,
     "HTTP load generator, open loop (--rate) or closed (--mode closed --concurrency N), against its target server"},
    {"infer-offline", "cotenant-infer", {"--duration", "0", NULL}, DEVICE_GPU,
     "offline inference, ResNet-50 at batch 256 by default (--model bert, --batch N)"},
    {"interactive", "cotenant-interactive", {NULL}, DEVICE_GPU,
     "a notebook user: cells of GPU work between exponential think times (mean 2 s), 2 GiB held"},
    {"interactive-cpu", "cotenant-interactive", {"--device", "cpu", "--think", "100ms", NULL}, DEVICE_CPU,
     "the notebook pattern with its cells on the CPU (small products), for machines without a GPU"},
};

const builtin_kind *kind_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].name, name) == 0) return &kinds[i];
    return NULL;
}

static char names[512];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void build_names(void)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && n < sizeof names; i++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", kinds[i].name);
}

/* From the table, once (the core library's callers may be threads). */
const char *kind_names(void)
{
    pthread_once(&names_once, build_names);
    return names;
}
