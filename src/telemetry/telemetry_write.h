/* telemetry_write.h - samples to CSV or JSON Lines, one tick at a time.
 *
 * Each tick is written and flushed as it comes, so a run that is cut short
 * keeps every sample taken before. CSV has one row per GPU per tick
 * (record "gpu"), then one per process on it ("process") and per MIG
 * instance ("mig"); columns that do not apply to a record are empty, as
 * are figures that are not available. docs/telemetry.md lists the columns. */
#ifndef COTENANT_TELEMETRY_WRITE_H
#define COTENANT_TELEMETRY_WRITE_H

#include <stdio.h>

#include "telemetry/gpu_sample.h"
#include "util/err.h"

/* The longest CSV line any reader of these files accepts (a GPU row, or a
 * process row with its name): the analysis and the node sampler's follower
 * read with this bound. */
#define TELEM_LINE_MAX 8192

typedef enum { TELEM_CSV, TELEM_JSONL } telem_format;

typedef struct telem_writer telem_writer;

/* "-" is stdout. The CSV header is written at once. */
telem_writer *telem_writer_open(const char *path, telem_format f, cot_err *err);
int telem_writer_write(telem_writer *w, const gpu_sample *s, int n);
/* Flushes and closes; -1 with err where anything could not be written. */
int telem_writer_close(telem_writer *w, cot_err *err);

/* The CSV header line (no newline), for readers and tests. */
extern const char telem_csv_header[];

#endif
