/* lg_report.h - what the load generator says of one measured point (a
 * rate, or a concurrency): a text summary, one JSON line, and a CSV row in
 * perf_analyzer's shape (-f), so a sweep reads as perf_analyzer's does. */
#ifndef COTENANT_LG_REPORT_H
#define COTENANT_LG_REPORT_H

#include <stdio.h>

#include "lg_engine.h"

typedef struct {
    int open_loop, poisson, threads, connections, batch;
    double rate;     /* open loop: offered requests a second */
    double slo_s;    /* 0: none */
    double window_s; /* the measured time */
    lg_stats all;    /* every thread's, merged */
    const char *first_error;
} lg_point;

uint64_t lg_point_errors(const lg_point *p);
/* The text summary; target: "host:port/prefix model 'm' (inputs..., binary)". */
void lg_report_text(FILE *f, const char *prog, const char *target, const lg_point *p);
void lg_report_json(FILE *f, const lg_point *p);
/* perf_analyzer's -f columns, latencies in microseconds, and the errors. */
void lg_report_csv_header(FILE *f, int open_loop);
void lg_report_csv_row(FILE *f, const lg_point *p);

#endif
