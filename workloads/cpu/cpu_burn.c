/* cotenant-cpu-burn - a CPU workload for the CPU default and the tests.
 *
 *   --loop compute  floating-point loop in registers: contends for CPU time
 *   --loop membw    stream triad over 16 MiB arrays: contends for memory bandwidth
 *
 * Each thread reports its own steps through the event protocol (one step is
 * one pass of its loop: Mflop for compute, MB moved for membw); SIGTERM ends
 * it at the next step and prints a summary. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "flags.h"

#define MEMBW_DOUBLES (2 * 1024 * 1024) /* 16 MiB per array, three arrays a thread */
#define COMPUTE_ITERS (2 * 1024 * 1024) /* x 8 accumulators x 2 flops = 32 Mflop a step */

typedef struct {
    int membw;
    double until_ns;
    int64_t done; /* samples finished by this thread */
} worker;

static volatile double sink;

static int64_t compute_step(void)
{
    double acc[8] = {1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7};
    const double a = 0.999999, b = 1e-7;
    for (long i = 0; i < COMPUTE_ITERS; i++)
        for (int k = 0; k < 8; k++) acc[k] = acc[k] * a + b;
    sink = acc[0] + acc[7];
    return (int64_t)COMPUTE_ITERS * 8 * 2 / 1000000;
}

static void *run(void *arg)
{
    worker *w = arg;
    double *x = NULL, *y = NULL, *z = NULL;
    if (w->membw) {
        x = malloc(MEMBW_DOUBLES * sizeof *x);
        y = malloc(MEMBW_DOUBLES * sizeof *y);
        z = malloc(MEMBW_DOUBLES * sizeof *z);
        if (!x || !y || !z) {
            fprintf(stderr, "cotenant-cpu-burn: out of memory for 48 MiB of arrays\n");
            exit(1);
        }
        for (long i = 0; i < MEMBW_DOUBLES; i++) x[i] = 0, y[i] = (double)i, z[i] = 1.0;
    }
    while (!workload_stop && (w->until_ns <= 0 || events_now_ns() < w->until_ns)) {
        int64_t n;
        if (w->membw) {
            for (long i = 0; i < MEMBW_DOUBLES; i++) x[i] = y[i] + 0.5 * z[i];
            sink = x[MEMBW_DOUBLES / 2];
            n = (int64_t)3 * MEMBW_DOUBLES * (int64_t)sizeof(double) / 1000000;
        } else {
            n = compute_step();
        }
        w->done += n;
        events_step(n);
    }
    free(x);
    free(y);
    free(z);
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: cotenant-cpu-burn [--loop compute|membw] [--threads N] [--duration S]\n\n"
               "A CPU workload speaking cotenant's event protocol. --threads defaults to the\n"
               "number of online CPUs; --duration 0 (the default) runs until SIGTERM.\n");
}

int main(int argc, char **argv)
{
    const char *prog = "cotenant-cpu-burn";
    flag_version_exit(prog, argc, argv);
    int membw = 0;
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    double duration = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--loop") && v) {
            if (strcmp(v, "compute") && strcmp(v, "membw")) {
                fprintf(stderr, "%s: --loop '%s': expected compute or membw\n", prog, v);
                return 2;
            }
            membw = !strcmp(v, "membw");
            i++;
        } else if (!strcmp(a, "--threads")) {
            threads = flag_long(prog, a, v, 1, 1024);
            i++;
        } else if (!strcmp(a, "--duration")) {
            duration = flag_seconds(prog, a, v);
            i++;
        } else {
            fprintf(stderr, "%s: unknown or incomplete option '%s'\n", prog, a);
            usage(stderr);
            return 2;
        }
    }
    if (threads < 1) threads = 1;
    workload_install_stop();
    events_open();
    events_start(membw ? "MB" : "Mflop");
    int64_t t0 = events_now_ns();
    worker *ws = calloc((size_t)threads, sizeof *ws);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    for (long i = 0; i < threads; i++) {
        ws[i].membw = membw;
        ws[i].until_ns = duration > 0 ? (double)t0 + duration * 1e9 : 0;
        pthread_create(&tids[i], NULL, run, &ws[i]);
    }
    int64_t total = 0;
    for (long i = 0; i < threads; i++) {
        pthread_join(tids[i], NULL);
        total += ws[i].done;
    }
    events_end();
    double secs = (double)(events_now_ns() - t0) / 1e9;
    printf("cotenant-cpu-burn %s: %ld thread%s, %.2f s, %.1f %s/s\n", membw ? "membw" : "compute", threads,
           threads == 1 ? "" : "s", secs, secs > 0 ? (double)total / secs : 0.0, membw ? "MB" : "Mflop");
    free(ws);
    free(tids);
    return 0;
}
