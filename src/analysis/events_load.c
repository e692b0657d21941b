#include "analysis/events_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"

/* Long runs of a server can write millions of latency events; beyond this
 * the file is not a cotenant events file. */
#define EVENTS_FILE_MAX_LINES 50000000L

static int cmp_step(const void *a, const void *b)
{
    int64_t x = ((const step_rec *)a)->t_ns, y = ((const step_rec *)b)->t_ns;
    return (x > y) - (x < y);
}

/* The stream's index, added if new; -1 when there are too many. */
static int stream_index(wl_events *e, const char *name)
{
    for (int s = 0; s < e->nstreams; s++)
        if (!strcmp(e->streams[s], name)) return s;
    if (e->nstreams == THROUGHPUT_MAX_STREAMS) return -1;
    snprintf(e->streams[e->nstreams], sizeof e->streams[0], "%s", name);
    return e->nstreams++;
}

int wl_events_load(const char *path, wl_events *e, cot_err *err)
{
    memset(e, 0, sizeof *e);
    snprintf(e->unit, sizeof e->unit, "samples");
    e->nstreams = 1; /* [0]: the steps that name no stream */
    FILE *f = fopen(path, "r");
    if (!f) return cot_errno(err, "cannot open %s", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lines = 0;
    bool sorted = true;
    while ((len = getline(&line, &cap, f)) >= 0) {
        if (++lines > EVENTS_FILE_MAX_LINES) {
            fclose(f);
            free(line);
            wl_events_free(e);
            return cot_errf(err, "%s has over %ld lines", path, EVENTS_FILE_MAX_LINES);
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0) continue;
        event ev;
        char why[256];
        if (event_parse(line, (size_t)len, &ev, why, sizeof why) != 0) {
            e->invalid++;
            continue;
        }
        if (ev.type == EV_START && !e->start_ns) {
            e->start_ns = ev.t_ns;
            snprintf(e->unit, sizeof e->unit, "%s", ev.unit);
        } else if (ev.type == EV_STEP) {
            int s = stream_index(e, ev.stream);
            if (s < 0) {
                e->too_many_streams++;
                continue;
            }
            if (array_grow((void **)&e->steps, &e->steps_cap, e->nsteps + 1, sizeof *e->steps) != 0) goto oom;
            if (e->nsteps && ev.t_ns < e->steps[e->nsteps - 1].t_ns) sorted = false;
            e->steps[e->nsteps++] = (step_rec){ev.t_ns, ev.n, s};
        } else if (ev.type == EV_LATENCY) {
            if (array_grow((void **)&e->lat, &e->lat_cap, e->nlat + 1, sizeof *e->lat) != 0) goto oom;
            e->lat[e->nlat++] = (latency_rec){ev.t_ns, ev.latency_ns, ev.ok};
        }
    }
    free(line);
    fclose(f);
    /* Threads of one workload may write steps slightly out of order. */
    if (!sorted) qsort(e->steps, (size_t)e->nsteps, sizeof *e->steps, cmp_step);
    return 0;
oom:
    free(line);
    fclose(f);
    wl_events_free(e);
    return cot_errf(err, "out of memory reading %s", path);
}

void wl_events_shift(wl_events *e, int64_t ns)
{
    if (e->start_ns) e->start_ns += ns;
    for (int i = 0; i < e->nsteps; i++) e->steps[i].t_ns += ns;
    for (int i = 0; i < e->nlat; i++) e->lat[i].t_ns += ns;
}

void wl_events_free(wl_events *e)
{
    free(e->steps);
    free(e->lat);
    memset(e, 0, sizeof *e);
}
