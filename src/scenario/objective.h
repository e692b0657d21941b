/* objective.h - what a recommendation optimises and what it must meet:
 * parsed from the scenario's `objective` and `constraints`, or from
 * `cotenant advise`'s options, and kept in run.json. The figures they
 * name are metrics.json's (analysis/advise.h judges them). */
#ifndef COTENANT_OBJECTIVE_H
#define COTENANT_OBJECTIVE_H

#include <jansson.h>
#include <stddef.h>

#include "scenario/scenario.h"

#define OBJECTIVE_PCTS 4
/* The percentiles a latency constraint may name, as metrics.json's
 * latency_ms names them (analysis/latency.h). */
extern const char *const objective_pct_names[OBJECTIVE_PCTS];

/* The default: STP, no constraints. */
void objective_init(objective_spec *o);
/* "stp", "fairness" or "throughput of NAME" into o's kind; -1 with why. */
int objective_parse_kind(const scenario *sc, const char *text, objective_spec *o, char *why, size_t cap);
/* "NAME:p99=20ms" or "NAME:p99=20ms:0.99" (the fraction of requests within it). */
int objective_parse_slo(const scenario *sc, const char *text, slo_constraint *c, char *why, size_t cap);
/* "NAME=0.5": NAME's NP against the whole GPU at least 0.5. */
int objective_parse_min_np(const scenario *sc, const char *text, objective_spec *o, char *why, size_t cap);
/* "throughput of serve", for people. */
void objective_name(const scenario *sc, const objective_spec *o, char *out, size_t cap);
/* {"objective": "stp", "slo": [{workload, percentile, limit_ms, attainment}], "min_np": {W: x}} and back. */
json_t *objective_to_json(const scenario *sc, const objective_spec *o);
int objective_from_json(const scenario *sc, const json_t *j, objective_spec *o, char *why, size_t cap);

#endif
