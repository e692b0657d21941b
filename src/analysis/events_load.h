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
    latency_rec *lat;
    int nlat, lat_cap;
    int64_t invalid;
} wl_events;

int wl_events_load(const char *path, wl_events *out, cot_err *err);
void wl_events_free(wl_events *e);

#endif
