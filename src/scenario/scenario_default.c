/* The built-in defaults. The GPU default pits two ResNet-50 trainings
 * against each other under time slicing and MPS; the CPU default trains the
 * plain-C ResNet-50 next to a compute loop on every core, so the whole
 * pipeline (plan, processes, events, metrics, report) can be seen on any
 * machine. */
#include "scenario/scenario_default.h"

#include <stdlib.h>
#include <string.h>

static void add_workload(scenario *sc, const char *name, const char *kind)
{
    workload_spec *w = &sc->workloads[sc->nworkloads++];
    w->name = strdup(name);
    w->kind = strdup(kind);
    w->args = calloc(1, sizeof *w->args);
    w->env = calloc(1, sizeof *w->env);
}

void scenario_builtin_default(const host_info *host, scenario *sc)
{
    scenario_init_defaults(sc);
    sc->builtin_default = true;
    sc->gpu = strdup("0");
    if (host->gpu_found) {
        sc->name = strdup("gpu-default");
        sc->source = strdup("built-in GPU default");
        sc->device = DEVICE_GPU;
        scenario_default_modes(sc);
        sc->duration_s = 20;
        sc->warmup_s = 5;
        sc->repeats = 3;
        add_workload(sc, "resnet50-a", "train-resnet50");
        add_workload(sc, "resnet50-b", "train-resnet50");
    } else {
        sc->name = strdup("cpu-default");
        sc->source = strdup("built-in CPU default");
        sc->device = DEVICE_CPU;
        scenario_default_modes(sc);
        sc->duration_s = 5;
        sc->warmup_s = 1;
        sc->repeats = 3;
        sc->grace_s = 5;
        add_workload(sc, "resnet50", "train-resnet50-cpu");
        add_workload(sc, "compute", "cpu-compute");
    }
}
