#include "wl_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"

void wl_opts_init(wl_opts *o, const char *prog, int batch)
{
    memset(o, 0, sizeof *o);
    o->prog = prog;
    o->batch = batch;
    o->precision = WL_BF16;
    o->seed = 1;
    o->device = WL_DEVICE_CUDA;
    o->warmup_steps = 3;
}

const char *wl_precision_name(wl_precision p)
{
    return p == WL_BF16 ? "bf16" : p == WL_FP32 ? "fp32" : "tf32";
}

const char *wl_opts_usage(void)
{
    return "  --batch N               samples a step\n"
           "  --precision P           bf16 (mixed, fp32 master weights; default), tf32, or fp32 (strict)\n"
           "  --duration S | --steps N  how long to run (default: until SIGTERM)\n"
           "  --warmup-steps N        untimed steps before the first step event (default 3)\n"
           "  --seed N                seed of the synthetic data and initial weights (default 1)\n"
           "  --device cuda|cpu       the GPU (default) or the plain-C CPU reference\n"
           "  --gpu N                 CUDA device index (default 0)\n";
}

static void bad(const wl_opts *o, const char *flag, const char *value, const char *expected)
{
    fprintf(stderr, "%s: %s '%s': expected %s\n", o->prog, flag, value ? value : "", expected);
    exit(2);
}

int wl_opts_parse(wl_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (!strcmp(a, "--batch")) {
        o->batch = (int)flag_long(o->prog, a, v, 1, 65536);
    } else if (!strcmp(a, "--precision")) {
        if (v && !strcmp(v, "bf16")) o->precision = WL_BF16;
        else if (v && !strcmp(v, "fp32")) o->precision = WL_FP32;
        else if (v && !strcmp(v, "tf32")) o->precision = WL_TF32;
        else bad(o, a, v, "bf16, tf32 or fp32");
    } else if (!strcmp(a, "--duration")) {
        o->duration_s = flag_seconds(o->prog, a, v);
    } else if (!strcmp(a, "--steps")) {
        o->steps = flag_long(o->prog, a, v, 0, 1000000000L);
    } else if (!strcmp(a, "--warmup-steps")) {
        o->warmup_steps = (int)flag_long(o->prog, a, v, 0, 100000);
    } else if (!strcmp(a, "--seed")) {
        o->seed = (uint64_t)flag_long(o->prog, a, v, 0, 2147483647L);
    } else if (!strcmp(a, "--device")) {
        if (v && !strcmp(v, "cuda")) o->device = WL_DEVICE_CUDA;
        else if (v && !strcmp(v, "cpu")) o->device = WL_DEVICE_CPU;
        else bad(o, a, v, "cuda or cpu");
    } else if (!strcmp(a, "--gpu")) {
        o->gpu = (int)flag_long(o->prog, a, v, 0, 63);
    } else {
        return 0;
    }
    (*i)++;
    return 1;
}
