/* telemetry_write.h - samples to CSV or JSON Lines, one tick at a time.
 *
 * Each tick is written and flushed as it comes, so a run that is cut short
 * keeps every sample taken before. The CSV's columns are telemetry_csv.h's;
 * docs/telemetry.md lists them and the JSON Lines fields. */
#ifndef COTENANT_TELEMETRY_WRITE_H
#define COTENANT_TELEMETRY_WRITE_H

#include <stdio.h>

#include "telemetry/gpu_sample.h"
#include "telemetry/telemetry_csv.h"
#include "util/err.h"

typedef enum { TELEMETRY_FORMAT_CSV, TELEMETRY_FORMAT_JSONL } telemetry_format;

typedef struct telemetry_writer telemetry_writer;

/* "-" is stdout. The CSV header is written at once. */
telemetry_writer *telemetry_write_open(const char *path, telemetry_format f, cot_err *err);
int telemetry_write_samples(telemetry_writer *w, const gpu_sample *s, int n);
/* Flushes and closes; -1 with err where anything could not be written. */
int telemetry_write_close(telemetry_writer *w, cot_err *err);

#endif
