/* segment_record.h - what a segment leaves behind: each workload's result
 * (how it ended, whether its figures count, and why not), and segment.json,
 * written into the segment's hidden folder, which is then renamed into
 * place: a crash never leaves a half-written segment that looks finished. */
#ifndef COTENANT_SEGMENT_RECORD_H
#define COTENANT_SEGMENT_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "exec/segment.h"
#include "exec/segment_workload.h"

typedef struct {
    const segment_job *job;
    seg_workload *w;
    int n;
    int64_t t0_ns;
    int64_t window_start_ns, window_end_ns; /* what was measured; 0: nothing */
    bool interrupted;
    json_t *telemetry; /* taken */
    json_t *warnings;  /* taken */
    const char *tmp_dir, *seg_root;
    int64_t clock_offset_ns; /* the window's clock behind ours (remote workloads'); 0 local */
} segment_record_in;

/* How one workload's run ended, for segment.json; a failure is added to out. */
json_t *segment_workload_result(const segment_record_in *in, seg_workload *r, segment_outcome *out);
/* segment.json, then the folder renamed to segments/<id>[.interrupted]. */
int segment_record(const segment_record_in *in, segment_outcome *out, cot_err *err);

#endif
