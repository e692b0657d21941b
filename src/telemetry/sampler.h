/* sampler.h - a thread that reads every GPU of a reader at a fixed interval.
 *
 * Ticks are on CLOCK_MONOTONIC at absolute times (start + k x interval), so
 * a slow read delays one sample but never shifts the ones after it. Each
 * tick's samples go to a sink on the sampler thread; the latest are also
 * kept for whoever asks (the Prometheus endpoint, the terminal view). */
#ifndef COTENANT_SAMPLER_H
#define COTENANT_SAMPLER_H

#include <stdint.h>

#include "telemetry/gpu_reader.h"

#define SAMPLER_MIN_INTERVAL_NS (10 * 1000000LL)

/* Called with one sample per GPU of the reader, in the reader's order. It
 * may annotate them (a run labels each process with its workload); what it
 * leaves is what sampler_latest gives. */
typedef void (*sampler_sink)(void *ctx, gpu_sample *samples, int n);

typedef struct sampler sampler;

/* Starts sampling (the first tick at once). NULL with err set. */
sampler *sampler_start(gpu_reader *r, int64_t interval_ns, sampler_sink sink, void *ctx, cot_err *err);
/* Copies the latest tick's samples into out[gpu_reader_count()]; returns
 * how many ticks there have been (0: none yet, out untouched). */
long sampler_latest(sampler *s, gpu_sample *out);
/* CPU time the sampler thread has used, in seconds. */
double sampler_cpu_seconds(sampler *s);
/* Stops after the tick in progress and joins; returns the ticks taken. */
long sampler_stop(sampler *s);

#endif
