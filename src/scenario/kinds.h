/* kinds.h - the built-in workloads a scenario can name with `kind:`. */
#ifndef COTENANT_KINDS_H
#define COTENANT_KINDS_H

#include "scenario/scenario.h"

typedef struct {
    const char *name;
    const char *executable;    /* found next to cotenant, then on PATH */
    const char *args[24];      /* NULL-terminated */
    device_kind device;
    const char *summary;
} builtin_kind;

const builtin_kind *kind_lookup(const char *name);
/* "cpu-compute, cpu-membw, gpu-gemm" for error messages. */
const char *kind_names(void);

#endif
