/* plots_sweep.h - the plots of sweeps and of the latency trade-off. */
#ifndef COTENANT_PLOTS_SWEEP_H
#define COTENANT_PLOTS_SWEEP_H

#include <jansson.h>

#include "report/plots.h"
#include "util/err.h"

/* One plot per swept mode: STP and each workload's NP per configuration
 * (against the whole GPU where the run has that baseline); a server that
 * a load generator drives (run.json's scenario) gets no NP line. */
int plot_sweeps(const char *plots, const json_t *metrics, const json_t *run, plot_list *pl, cot_err *err);
/* Per SLO, best-effort NP against its workload's constrained percentile
 * per sharing configuration, the frontier and the limit (pareto, then
 * pareto_WORKLOAD_PCT); without an SLO, against the worst p99's workload;
 * nothing where no workload reports latency. */
int plot_pareto(const char *plots, const json_t *metrics, const json_t *run, plot_list *pl, cot_err *err);

#endif
