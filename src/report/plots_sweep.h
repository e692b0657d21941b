/* plots_sweep.h - the plots of sweeps and of the latency trade-off. */
#ifndef COTENANT_PLOTS_SWEEP_H
#define COTENANT_PLOTS_SWEEP_H

#include <jansson.h>

#include "report/plots.h"
#include "util/err.h"

/* One plot per swept mode: STP and each workload's NP per configuration. */
int plot_sweeps(const char *plots, const json_t *metrics, plot_list *pl, cot_err *err);
/* Best-effort NP against the latency workload's p99 (the first SLO's, or
 * the worst p99's) per sharing configuration, the frontier and the SLO;
 * nothing where no workload reports latency. */
int plot_pareto(const char *plots, const json_t *metrics, const json_t *run, plot_list *pl, cot_err *err);

#endif
