/* node_telemetry.h - a segment's GPU telemetry sampled on another machine.
 *
 * Where the GPU is a cluster node's, a sampler runs there (`cotenant
 * monitor --csv -` in a pod of its own) and its log stream is followed
 * back, like a workload's. The stream's CSV header and rows go to the
 * segment's telemetry.csv as they arrive, so the analysis reads it as it
 * reads a local one; anything else in the stream (the sampler's messages,
 * the follower's) goes to telemetry.log. The rows are on the node's clock,
 * as the workloads' events are. The sampler sees every GPU of the node;
 * when there is more than one, the file keeps the one the segment's
 * workloads ran on: the one with processes labelled as theirs, else (their
 * environments unreadable) the one with the most process rows, else the
 * one sampled most. */
#ifndef COTENANT_NODE_TELEMETRY_H
#define COTENANT_NODE_TELEMETRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "exec/segment_telemetry.h"
#include "util/err.h"

#define NODE_TELEMETRY_MAX_GPUS 64

typedef enum { NT_HEADER, NT_ROW, NT_OTHER } nt_kind;

typedef struct {
    nt_kind kind;
    int gpu;        /* NT_ROW: the row's GPU index (0 .. NODE_TELEMETRY_MAX_GPUS-1) */
    bool gpu_row;   /* NT_ROW: a "gpu" record: one sample of that GPU */
    bool process;   /* NT_ROW: a "process" record */
    bool labelled;  /* NT_ROW: a "process" record with a workload */
} nt_line;

/* What one line of the stream is. A row needs the header before it; a
 * second header is NT_OTHER. */
nt_line node_telemetry_classify(const char *line, size_t len, bool have_header);

typedef struct node_telemetry node_telemetry;

/* segment.json's telemetry.gpu_chosen_by when the workloads' own processes
 * decided; anything else there means the choice is a guess. */
#define NODE_TELEMETRY_BY_LABEL "the segment's processes"

#define NODE_TELEMETRY_CSV SEGMENT_TELEMETRY_FILE
#define NODE_TELEMETRY_LOG RESULTS_TELEMETRY_LOG
#define NODE_TELEMETRY_FOLLOW_LOG RESULTS_TELEMETRY_FOLLOW_LOG

/* Starts argv (whose stdout is the sampler's stream) and copies the stream
 * into dir's NODE_TELEMETRY_CSV and NODE_TELEMETRY_LOG. NULL with err. */
node_telemetry *node_telemetry_start(char *const *argv, const char *dir, cot_err *err);
/* Waits a moment for the stream to end (its pod is being deleted), stops
 * the follower, keeps one GPU's rows where the stream had several, and
 * describes what was taken, for segment.json: {file, source, samples, gpu,
 * other_lines, follower, gpus_sampled?, gpu_chosen_by?, write_error?}
 * (gpus_sampled and gpu_chosen_by where the stream had several GPUs).
 * NULL: json null. */
json_t *node_telemetry_stop(node_telemetry *t);

#endif
