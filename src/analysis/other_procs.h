/* other_procs.h - GPU processes that were not the segment's own during its
 * measured window: another user's job, a notebook left open, a second run.
 * Their contention is in the segment's figures, so the report says so. */
#ifndef COTENANT_OTHER_PROCS_H
#define COTENANT_OTHER_PROCS_H

#include <jansson.h>
#include <stdint.h>

#include "analysis/telemetry_load.h"

/* At most this many processes are named per segment; the rest are counted
 * (up to 64 in all). */
#define OTHER_PROCS_MAX 8

/* The processes with no workload label in the ticks of [from_ns, to_ns],
 * less the MPS server (which serves the segment's own clients), as
 * {"processes": [{pid, process, peak_memory_mib, window_pct, sm_util_pct}],
 *  "more": N}; NULL when there were none. window_pct is the share of the
 * window's ticks in which the process was on the GPU. */
json_t *other_procs_in_window(const telem_series *s, int64_t from_ns, int64_t to_ns);

#endif
