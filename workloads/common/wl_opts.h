/* wl_opts.h - the flags every built-in GPU workload shares, in one style:
 *
 *   --batch N  --precision bf16|fp32|tf32  --duration S | --steps N
 *   --seed N   --device cuda|cpu           --gpu N
 *
 * A workload parses its own flags first and hands the rest to
 * wl_opts_parse(), which exits with status 2 and a one-line reason on bad
 * input. */
#ifndef COTENANT_WL_OPTS_H
#define COTENANT_WL_OPTS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { WL_BF16, WL_FP32, WL_TF32 } wl_precision;
typedef enum { WL_DEVICE_CUDA, WL_DEVICE_CPU } wl_device;

typedef struct {
    const char *prog;
    int batch;
    wl_precision precision;
    double duration_s; /* 0 with steps 0: until SIGTERM */
    long steps;
    uint64_t seed;
    wl_device device;
    int gpu;
    int warmup_steps; /* untimed steps before the first step event */
} wl_opts;

/* Fills the defaults; batch is the workload's own. */
void wl_opts_init(wl_opts *o, const char *prog, int batch);
/* Consumes argv[*i] (and its value) if it is a common flag: returns 1; 0 if
 * the flag is not one of them. Exits 2 on a bad value. */
int wl_opts_parse(wl_opts *o, int argc, char **argv, int *i);
/* One line for --help. */
const char *wl_opts_usage(void);
const char *wl_precision_name(wl_precision p);

#ifdef __cplusplus
}
#endif

#endif
