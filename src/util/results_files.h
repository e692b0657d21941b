/* results_files.h - the names of the files cotenant writes in a segment's
 * folder, beside one folder per workload (docs/results.md).
 *
 * They are one list so that a workload name can never collide with them
 * (scenario/names.c reserves every name here). */
#ifndef COTENANT_RESULTS_FILES_H
#define COTENANT_RESULTS_FILES_H

#define RESULTS_SEGMENT_JSON "segment.json"
#define RESULTS_TELEMETRY_CSV "telemetry.csv"
#define RESULTS_TELEMETRY_LOG "telemetry.log"               /* the node sampler's other lines */
#define RESULTS_TELEMETRY_FOLLOW_LOG "telemetry-follow.log" /* the node sampler follower's stderr */

/* NULL-terminated, for checks over all of them. */
#define RESULTS_SEGMENT_FILES                                                                        \
    {RESULTS_SEGMENT_JSON, RESULTS_TELEMETRY_CSV, RESULTS_TELEMETRY_LOG, RESULTS_TELEMETRY_FOLLOW_LOG, NULL}

#endif
