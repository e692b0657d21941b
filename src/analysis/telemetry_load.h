/* telemetry_load.h - a segment's telemetry.csv read back for analysis.
 *
 * Columns are found by the header's names, so files with more columns (a
 * later cotenant) still read. Only the first GPU in the file is kept: a run
 * samples the one GPU its scenario names. Process rows are attached to the
 * GPU row of the same tick and carry the index of their workload among the
 * names the caller gives (-1: not one of them). */
#ifndef COTENANT_TELEMETRY_LOAD_H
#define COTENANT_TELEMETRY_LOAD_H

#include <stdint.h>
#include <stdio.h>

#include "telemetry/telemetry_csv.h"
#include "util/err.h"

#define TELEM_FILE_MAX_ROWS 50000000L

typedef struct {
    int64_t t_ns;
    double util_gpu, util_mem, mem_used_mib, power_w, energy_j, sm_active; /* NAN: not available */
    double sm_clock_mhz, temp_c, throttle; /* throttle: NVML's clocks event reasons, as a number */
    int first_proc, nprocs; /* its processes: procs[first_proc .. first_proc + nprocs) */
} telem_tick;

typedef struct {
    int workload;           /* index into the caller's names, -1 for none */
    double mem_mib, sm_util;
    unsigned pid;           /* 0: not recorded */
    int mps_client;         /* 1: NVML listed it as an MPS client, 0: it did not, -1: not recorded */
    char name[32];          /* the process's name, cut to fit */
} telem_proc;

typedef struct {
    telem_tick *ticks;
    int nticks, ticks_cap;
    telem_proc *procs;
    int nprocs, procs_cap;
    long bad_rows;          /* rows that did not parse, skipped */
} telem_series;

/* Reads f to the end. Fails (with where and why) only on a missing or
 * unusable header, a line over TELEM_LINE_MAX, or too many rows. */
int telem_series_read(FILE *f, const char *name, const char *const *workloads, int nworkloads, telem_series *out,
                      cot_err *err);
int telem_series_load(const char *path, const char *const *workloads, int nworkloads, telem_series *out, cot_err *err);
void telem_series_free(telem_series *s);

#endif
