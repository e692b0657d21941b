/* segment_telemetry.h - the GPU sampled while a segment runs.
 *
 * Samples go to telemetry.csv in the segment's folder as they are taken, so
 * a segment cut short keeps what was sampled. Each process NVML lists on
 * the GPU is labelled with the workload it belongs to (its process group,
 * or a parent's), which is what lets the analysis give every workload its
 * own memory, SM use and share of the energy after the pids are gone. */
#ifndef COTENANT_SEGMENT_TELEMETRY_H
#define COTENANT_SEGMENT_TELEMETRY_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "telemetry/gpu_reader.h"
#include "util/err.h"
#include "util/results_files.h"

#define SEGMENT_TELEMETRY_FILE RESULTS_TELEMETRY_CSV

typedef struct seg_telemetry seg_telemetry;

/* Starts sampling every GPU of r into csv_path. With env_segment, a process
 * outside the workloads' trees whose COTENANT_SEGMENT is env_segment is
 * labelled with its COTENANT_WORKLOAD (telemetry/env_owner.h): workloads in
 * containers on this host. NULL with err set. */
seg_telemetry *seg_telemetry_start(gpu_reader *r, int64_t interval_ns, const char *csv_path, const char *env_segment,
                                   cot_err *err);
/* A workload started: processes in the tree rooted at pid are its own (pid
 * 0: one in a container, known by its name alone). */
void seg_telemetry_add(seg_telemetry *t, const char *workload, pid_t pid);
/* Stops, closes the file, and describes what was taken, for segment.json:
 * {file, interval_ms, samples, sampler_cpu_s, write_error?}. */
json_t *seg_telemetry_stop(seg_telemetry *t);

#endif
