/* cotenant monitor: the GPU sampler on its own, live in the terminal, to
 * CSV / JSON Lines, and as a Prometheus endpoint. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "telemetry/env_owner.h"
#include "telemetry/gpu_reader.h"
#include "telemetry/monitor_tui.h"
#include "telemetry/prom_format.h"
#include "telemetry/prom_server.h"
#include "telemetry/sampler.h"
#include "telemetry/telemetry_write.h"
#include "util/err.h"
#include "util/timeutil.h"

typedef struct {
    const char *gpus, *csv, *jsonl, *prometheus, *workloads_of;
    double interval_s, duration_s;
    int no_tui;
} monitor_opts;

typedef struct {
    telemetry_writer *w[2];
    int write_failed;
    gpu_reader *r;
    sampler *s;
    prom_gpu_label labels[GPU_READER_MAX_GPUS];
    char hostname[256];
    prom_node_label node;
    bool label;     /* --workloads-of: label the processes of that run's segment */
    env_owner owners;
} monitor_ctx;

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "cotenant monitor: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry: cotenant monitor --help\n");
    return EXIT_USAGE;
}

static int parse_opts(int argc, char **argv, monitor_opts *o)
{
    static const struct option longs[] = {
        {"gpu", required_argument, 0, 'g'},  {"interval", required_argument, 0, 'i'},
        {"duration", required_argument, 0, 'd'}, {"csv", required_argument, 0, 'c'},
        {"jsonl", required_argument, 0, 'j'}, {"prometheus", required_argument, 0, 'p'},
        {"no-tui", no_argument, 0, 'n'},     {"quiet", no_argument, 0, 'q'},
        {"workloads-of", required_argument, 0, 'w'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->gpus = "all";
    o->interval_s = 0.1;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":g:i:d:qh", longs, NULL)) != -1) {
        const char *why;
        switch (c) {
        case 'g': o->gpus = optarg; break;
        case 'i':
            o->interval_s = parse_duration_s(optarg, &why);
            if (o->interval_s < 0.01 || o->interval_s > 3600)
                return usage_error("--interval '%s': expected a duration from 10ms to 1h (e.g. 100ms, 1s)", optarg);
            break;
        case 'd':
            o->duration_s = parse_duration_s(optarg, &why);
            if (o->duration_s < 0) return usage_error("--duration '%s': expected a duration (30s, 2m; 0 runs until stopped)", optarg);
            break;
        case 'c': o->csv = optarg; break;
        case 'j': o->jsonl = optarg; break;
        case 'p': o->prometheus = optarg; break;
        case 'n': o->no_tui = 1; break;
        case 'w':
            if (!*optarg || strlen(optarg) >= sizeof ((env_owner *)0)->segment)
                return usage_error("--workloads-of '%s': expected RUN/SEGMENT, as in the workloads' COTENANT_SEGMENT", optarg);
            o->workloads_of = optarg;
            break;
        case 'q': cot_quiet = 1; break;
        case 'h': fputs(usage_monitor, stdout); return -1;
        case ':': return usage_error("%s needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
    if (o->csv && o->jsonl && !strcmp(o->csv, o->jsonl)) return usage_error("--csv and --jsonl both name '%s'", o->csv);
    return EXIT_OK;
}

static void sink(void *arg, gpu_sample *s, int n)
{
    monitor_ctx *m = arg;
    for (int g = 0; m->label && g < n; g++)
        for (int k = 0; k < s[g].nprocs; k++)
            snprintf(s[g].procs[k].workload, sizeof s[g].procs[k].workload, "%s", env_owner_of(&m->owners, s[g].procs[k].pid));
    for (int k = 0; k < 2; k++)
        if (m->w[k] && telemetry_write_samples(m->w[k], s, n) != 0) m->write_failed = 1;
}

static char *render(void *arg, size_t *len)
{
    monitor_ctx *m = arg;
    gpu_sample s[GPU_READER_MAX_GPUS];
    int n = gpu_reader_count(m->r);
    if (sampler_latest(m->s, s) == 0) return NULL;
    return prom_format(s, m->labels, n, &m->node, len);
}

int cmd_monitor(int argc, char **argv)
{
    monitor_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc) return rc < 0 ? EXIT_OK : rc;
    bool tui = !o.no_tui && isatty(STDOUT_FILENO) && !(o.csv && !strcmp(o.csv, "-")) &&
               !(o.jsonl && !strcmp(o.jsonl, "-"));
    if (!tui && !o.csv && !o.jsonl && !o.prometheus)
        return usage_error("%s", "nothing to show: standard output is not a terminal and no --csv, --jsonl or "
                                 "--prometheus was given");

    cot_err err;
    monitor_ctx m = {0};
    if (o.workloads_of) {
        m.label = true;
        env_owner_init(&m.owners, o.workloads_of);
    }
    m.r = gpu_reader_open(o.gpus, &err);
    if (!m.r) {
        fprintf(stderr, "cotenant monitor: %s\n", err.msg);
        return EXIT_RUN_FAILED;
    }
    int n = gpu_reader_count(m.r);
    for (int i = 0; i < n; i++)
        m.labels[i] = (prom_gpu_label){gpu_reader_name(m.r, i), gpu_reader_uuid(m.r, i), gpu_reader_pci_bus_id(m.r, i)};
    /* as dcgm-exporter names the node: NODE_NAME (a pod's spec.nodeName) where set */
    const char *node_name = getenv("NODE_NAME");
    if (node_name && *node_name) snprintf(m.hostname, sizeof m.hostname, "%s", node_name);
    else if (gethostname(m.hostname, sizeof m.hostname - 1) != 0) strcpy(m.hostname, "localhost");
    m.node = (prom_node_label){m.hostname, gpu_reader_driver_version(m.r)};
    rc = EXIT_OK;
    prom_server *srv = NULL;
    if (o.csv && !(m.w[0] = telemetry_write_open(o.csv, TELEMETRY_FORMAT_CSV, &err))) goto fail;
    if (o.jsonl && !(m.w[1] = telemetry_write_open(o.jsonl, TELEMETRY_FORMAT_JSONL, &err))) goto fail;

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    m.s = sampler_start(m.r, (int64_t)(o.interval_s * NS_PER_S), sink, &m, &err);
    if (!m.s) goto fail;
    if (o.prometheus) {
        srv = prom_server_start(o.prometheus, render, &m, &err);
        if (!srv) goto fail;
        cot_info("Prometheus metrics at http://%s/metrics", o.prometheus);
    }
    int64_t start = now_ns();
    double cpu0 = sampler_cpu_seconds(m.s);
    if (tui) tui_start();
    for (;;) {
        double elapsed = (now_ns() - start) / 1e9;
        if (stop_signal || m.write_failed || (o.duration_s > 0 && elapsed >= o.duration_s)) break;
        if (tui) {
            gpu_sample s[GPU_READER_MAX_GPUS];
            if (sampler_latest(m.s, s)) tui_draw(m.r, s, n, o.interval_s, elapsed);
            /* redraw at the sampling rate, at most 10 times a second */
            int wait_ms = o.interval_s < 0.1 ? 100 : (int)(o.interval_s * 1000);
            int key = tui_key(wait_ms > 500 ? 500 : wait_ms);
            if (key == 'q' || key == 'Q') break;
        } else {
            sleep_ns(20 * NS_PER_MS);
        }
    }
    if (tui) tui_end();
    double seconds = (now_ns() - start) / 1e9, cpu = sampler_cpu_seconds(m.s) - cpu0;
    prom_server_stop(srv);
    srv = NULL;
    long ticks = sampler_stop(m.s);
    m.s = NULL;
    cot_info("%ld samples of %d GPU%s in %.1f s at %.0f ms; the sampler used %.2f ms of CPU per second", ticks, n,
             n == 1 ? "" : "s", seconds, o.interval_s * 1e3, seconds > 0 ? cpu / seconds * 1e3 : 0.0);
    for (int k = 0; k < 2; k++) {
        if (telemetry_write_close(m.w[k], &err) != 0) {
            fprintf(stderr, "cotenant monitor: %s\n", err.msg);
            rc = EXIT_RUN_FAILED;
        }
        m.w[k] = NULL;
    }
    gpu_reader_close(m.r);
    return rc;
fail:
    fprintf(stderr, "cotenant monitor: %s\n", err.msg);
    prom_server_stop(srv);
    sampler_stop(m.s);
    for (int k = 0; k < 2; k++) telemetry_write_close(m.w[k], &err);
    gpu_reader_close(m.r);
    return EXIT_RUN_FAILED;
}
