/* conditions.h - whether the GPU ran a workload's alone and shared segments
 * under the same conditions: a clock held down, or a power or thermal limit
 * reached, in one of them only could explain part of the difference
 * between them (docs/metrics.md, "Conditions"). */
#ifndef COTENANT_CONDITIONS_H
#define COTENANT_CONDITIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

typedef struct {
    bool known;                 /* telemetry covered the window */
    double sm_clock_mhz;        /* mean; NAN: not sampled */
    double temp_c;              /* hottest sample */
    unsigned long long limits;  /* the power and thermal clocks event reasons seen */
    bool limits_known;
} run_conditions;

/* The reasons that mean a limit of the GPU's own (power cap, power brake,
 * thermal slowdowns), from NVML's clocks event reasons. */
unsigned long long conditions_limit_bits(unsigned long long reasons);
/* A sentence on how the two runs' conditions differ where that could
 * explain a difference between them; NULL where they are alike (or not
 * known). The SM clocks differ when their means are over 5% apart.
 * *invalidates: the difference is of the GPU's environment (a thermal
 * slowdown, a hardware slowdown or power brake in one run only), not of
 * the load: a clock lowered, or the software power cap reached, by the
 * shared run's greater draw is part of what sharing costs. */
const char *conditions_differ(const run_conditions *alone, const run_conditions *shared, char *why, size_t cap,
                              bool *invalidates);
json_t *conditions_json(const run_conditions *c);

#endif
