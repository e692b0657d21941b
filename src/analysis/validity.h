/* validity.h - a verdict on every figure of metrics.json, VALID or INVALID
 * with the reasons, in the spirit of MLPerf LoadGen's run rules
 * (docs/metrics.md, "Validity").
 *
 * Read from what the analysis has already written: the runs left out
 * (excluded), the runs flagged, the windows too short for a workload's
 * steps, the GPU conditions that differed, and the latency percentiles'
 * sample counts. */
#ifndef COTENANT_VALIDITY_H
#define COTENANT_VALIDITY_H

#include <jansson.h>

/* Adds "validity" to each workload of each mode ({throughput, latency}:
 * {verdict, reasons}), to each mode, and a summary at the top: how many
 * figures, how many invalid, and why. repeats: the scenario's. */
void validity_annotate(json_t *metrics, int repeats);

#endif
