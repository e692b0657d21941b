/* cotenant-interactive: a notebook user's pattern on the GPU. Cells of GPU
 * work (a few small kernels up to a burst the size of a short forward pass)
 * separated by think times, with GPU memory held between cells as a live
 * kernel holds it. Each cell's latency is one latency event; how much slower
 * cells get next to other work is the figure to read.
 *
 *   cotenant-interactive --think 2s --hold 4G --duration 5m
 *   cotenant-interactive --device cpu --think 50ms --cells 20 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cells.h"
#include "events.h"
#include "flags.h"

static const char *prog = "cotenant-interactive";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: %s [options]\n"
            "  --think DUR        mean think time between cells, exponentially distributed (default 2s)\n"
            "  --hold SIZE        GPU memory held between cells, as a live notebook holds it (default 2G)\n"
            "  --max-size N       the largest product a cell runs, N x N x N (default 4096)\n"
            "  --cells N          stop after N cells (default: until --duration or SIGTERM)\n"
            "  --duration DUR     stop after this long (default: until SIGTERM)\n"
            "  --device cuda|cpu  where cells run (default cuda; cpu runs 1/16-size products)\n"
            "  --seed N           cells and think times (default COTENANT_SEED, which cotenant run sets per\n"
            "                     repeat, or 1)\n"
            "  --gpu N\n",
            prog);
}

/* Sleeps up to s seconds, waking early on SIGTERM; returns 1 if stopped. */
static int think(double s)
{
    int64_t until = events_now_ns() + (int64_t)(s * 1e9);
    while (!workload_stop) {
        int64_t left = until - events_now_ns();
        if (left <= 0) return 0;
        if (left > 50000000) left = 50000000;
        struct timespec ts = {0, (long)left};
        nanosleep(&ts, NULL);
    }
    return 1;
}

int main(int argc, char **argv)
{
    flag_version_exit(prog, argc, argv);
    double think_s = 2, hold = 2.0 * (1 << 30), duration = 0;
    long max_cells = 0;
    int max_n = 4096, gpu = 0, cpu = 0;
    unsigned long long seed = flag_default_seed(1);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "%s: %s needs a value, or is unknown (see --help)\n", prog, a);
            return 2;
        }
        if (!strcmp(a, "--think")) think_s = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--hold")) hold = (double)flag_bytes(prog, a, v, 0, 1LL << 40);
        else if (!strcmp(a, "--max-size")) max_n = (int)flag_long(prog, a, v, 256, 16384);
        else if (!strcmp(a, "--cells")) max_cells = flag_long(prog, a, v, 1, 1L << 40);
        else if (!strcmp(a, "--duration")) duration = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--device") && (!strcmp(v, "cuda") || !strcmp(v, "cpu"))) cpu = !strcmp(v, "cpu");
        else if (!strcmp(a, "--gpu")) gpu = (int)flag_long(prog, a, v, 0, 63);
        else if (!strcmp(a, "--seed")) seed = (unsigned long long)flag_long(prog, a, v, 0, 0x7fffffffffffffffL);
        else {
            fprintf(stderr, "%s: unknown option '%s %s' (see --help)\n", prog, a, v);
            return 2;
        }
        i++;
    }
    max_n = (max_n + 63) / 64 * 64;
    events_open();
    workload_install_stop();
    cell_backend *b = cpu ? cell_backend_cpu(max_n) : cell_backend_gpu(prog, gpu, max_n, hold);
    if (!b) return 1;
    printf("%s: cells on the %s, products up to %d, mean think %.3g s, %.2f GiB held\n", prog, b->name,
           cpu ? b->max_n : max_n, think_s, b->held_gib);
    fflush(stdout);
    events_start("cells");
    int64_t t0 = events_now_ns(), until = duration > 0 ? t0 + (int64_t)(duration * 1e9) : INT64_MAX;
    long k = 0;
    double total_ms = 0, worst_ms = 0;
    int rc = 0;
    while (!workload_stop && events_now_ns() < until && (!max_cells || k < max_cells)) {
        cell c;
        cell_make(seed, (uint64_t)k, max_n, think_s, &c);
        if (think(c.think_s)) break;
        int64_t a = events_now_ns();
        int ok = b->run(b, &c) == 0;
        int64_t ns = events_now_ns() - a;
        events_latency(ns, ok);
        if (!ok) rc = 1;
        total_ms += (double)ns / 1e6;
        if ((double)ns / 1e6 > worst_ms) worst_ms = (double)ns / 1e6;
        k++;
    }
    events_end();
    printf("%s: %ld cells, mean %.3f ms, worst %.3f ms\n", prog, k, k ? total_ms / (double)k : 0.0, worst_ms);
    b->destroy(b);
    return rc;
}
