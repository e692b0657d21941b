/* sweep_parse.h - a scenario's `sweep`: per mode, axes of sharing
 * settings, whose cross product becomes configurations of that mode
 * appended to the scenario's modes (docs/scenario.md, "Sweeps").
 *
 * An axis either gives each workload a value (an MPS split, a MIG layout,
 * a niceness) or the whole GPU one (the driver's timeslice, the compute
 * mode); every point is checked as the same setting anywhere else in a
 * scenario is, and every error names file:line:column. */
#ifndef COTENANT_SWEEP_PARSE_H
#define COTENANT_SWEEP_PARSE_H

#include <yaml.h>

#include "scenario/scenario.h"
#include "util/yaml_read.h"

/* Reads `sweep: {MODE: {AXIS: [point, ...]}}` into sc's configurations,
 * once its workloads and modes are known. 0, or -1 with y->err set. */
int sweep_parse(const yaml_src *y, const yaml_node_t *sweep, scenario *sc);

#endif
