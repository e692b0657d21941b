/* mode_config.h - the scenario's configurations of modes: a mode as
 * listed, or a point of a sweep (a mode with settings of its own for some
 * workloads, such as an MPS active-thread split). Everything that runs a
 * configuration asks here which mode it is and sees the workloads with
 * its settings applied; everything that reports it uses its name. */
#ifndef COTENANT_MODE_CONFIG_H
#define COTENANT_MODE_CONFIG_H

#include <jansson.h>

#include "scenario/scenario.h"

/* The mode (of mode/desc) that configuration m configures. */
const char *scenario_mode_kind(const scenario *sc, int m);
/* Whether configuration m is a sweep's point rather than a plain mode. */
bool scenario_mode_is_config(const scenario *sc, int m);
/* *view = *sc with configuration m's settings applied to its workloads.
 * The view shares sc's memory: never free it, and let sc outlive it. */
void scenario_config_view(const scenario *sc, int m, scenario *view);
/* Configuration m's settings of its workloads, {"WORKLOAD":
 * {"active_thread_percentage": 30, "pinned_memory_limit": "8G"}}, or NULL
 * for a plain mode. */
json_t *scenario_config_settings(const scenario *sc, int m);
/* Its sweep's axes, in the order of its name's parts after the mode:
 * ["active_thread_percentage", "pinned_memory_limit"]; [] for a plain mode. */
json_t *scenario_config_axes(const scenario *sc, int m);
/* Reads them back; -1 for a list that is not of axis names. */
int scenario_config_axes_from_json(scenario *sc, int m, const json_t *axes);
/* Whether configuration m sets something of the whole GPU (the driver's
 * timeslice, the compute mode), which a run does only where allowed. */
bool scenario_config_changes_gpu(const scenario *sc, int m);
/* Those settings, {"timeslice": "short", "compute_mode": "exclusive-process"},
 * or NULL where it sets none. */
json_t *scenario_config_gpu(const scenario *sc, int m);
/* Reads them back from scenario_config_gpu's form; -1 with why for a value
 * that is neither. */
int scenario_config_gpu_from_json(scenario *sc, int m, const json_t *gpu, char *why, size_t cap);
/* Reads configuration m back from scenario_config_settings' form; -1 with
 * why set for a workload that is not the scenario's or a value out of range. */
int scenario_config_from_json(scenario *sc, int m, const char *kind, const json_t *settings, char *why, size_t cap);
/* Removes configuration m, freeing it. */
void scenario_drop_mode(scenario *sc, int m);
/* Frees what configuration m holds (not its name). */
void scenario_config_free(mode_config *c, int nworkloads);

#endif
