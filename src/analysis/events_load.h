/* events_load.h - one workload's recorded event stream (events.jsonl), read
 * back for analysis. Lines that do not parse are counted, not fatal: the
 * runner already kept only valid ones, so any here mean the file was edited. */
#ifndef COTENANT_EVENTS_LOAD_H
#define COTENANT_EVENTS_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis/throughput.h"
#include "events/event.h"
#include "util/err.h"

typedef struct {
    int64_t t_ns, latency_ns;
    bool ok;
} latency_rec;

typedef struct {
    char unit[EVENT_UNIT_MAX];
    int64_t start_ns;           /* first start event, 0 if none */
    step_rec *steps;
    int nsteps, steps_cap;
    /* the step streams' names, by step_rec.stream; [0] is "" (steps that name none) */
    char streams[THROUGHPUT_MAX_STREAMS][EVENT_STREAM_MAX];
    int nstreams;
    latency_rec *lat;
    int nlat, lat_cap;
    int64_t invalid;
    int64_t too_many_streams; /* steps of streams past THROUGHPUT_MAX_STREAMS, not read */
} wl_events;

int wl_events_load(const char *path, wl_events *out, cot_err *err);
/* Every time by ns: the workload's clock onto cotenant's (segment.json's clock_correction_ns). */
void wl_events_shift(wl_events *e, int64_t ns);
void wl_events_free(wl_events *e);

#endif
