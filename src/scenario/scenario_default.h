/* scenario_default.h - the scenario `cotenant run` uses when given none. */
#ifndef COTENANT_SCENARIO_DEFAULT_H
#define COTENANT_SCENARIO_DEFAULT_H

#include "host/host.h"
#include "scenario/scenario.h"

/* The GPU default where the host has an NVIDIA GPU, the CPU default
 * otherwise. */
void scenario_builtin_default(const host_info *host, scenario *sc);

#endif
