/* cotenant-loadgen: drives a KServe v2 inference server and measures it.
 *
 *   cotenant-loadgen --url http://127.0.0.1:8000 --model mlp --rate 2000 --duration 30s
 *   cotenant-loadgen --url 127.0.0.1:8000 --model mlp --mode closed --concurrency 16
 *
 * Reports achieved rate, errors, latency quantiles and SLO attainment as a
 * summary (text, then one JSON line) and each measured request's latency
 * through the event protocol. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "flags.h"
#include "infer_request.h"
#include "lg_engine.h"
#include "net/http1.h"

static const char *prog = "cotenant-loadgen";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: %s --model NAME [options]\n"
            "  --url [http://]HOST[:PORT][/PREFIX]  the server: a name, an IPv4 address or [IPv6], and a path\n"
            "                             prefix its routes sit under (default http://127.0.0.1:8000)\n"
            "  --model NAME               the model to drive (its metadata gives the inputs)\n"
            "  --shape NAME:D1,D2,...     an input's dimensions after the batch one, for variable ones (-1);\n"
            "                             once per input\n"
            "  --input-data FILE          the inputs' values, as perf_analyzer's --input-data JSON:\n"
            "                             {\"data\": [{\"INPUT0\": [values...], ...}]} (default: seeded random)\n"
            "  --mode open|closed         open: requests at --rate whatever the answers (default);\n"
            "                             closed: --concurrency clients, each waiting for its answer\n"
            "  --rate R                   open loop: requests a second (default 100)\n"
            "  --arrival poisson|constant open loop: gaps between requests (default poisson)\n"
            "  --concurrency N            closed loop: clients; open loop: connections at most (default 8 / 256)\n"
            "  --threads N                event loops, each with its share of rate and connections (default 1)\n"
            "  --duration DUR             the measured time (default 10s; 0 = until SIGTERM or SIGINT)\n"
            "  --warmup DUR               sent but not measured, before it (default 2s)\n"
            "  --batch N                  items per request (default 1)\n"
            "  --format binary|json       tensor encoding (default binary)\n"
            "  --slo DUR                  latency objective for SLO attainment (default none)\n"
            "  --timeout DUR              a request unanswered this long fails (default 10s)\n"
            "  --wait-ready DUR           wait this long for /v2/health/ready first (default 30s)\n"
            "  --dump-body FILE           write the request body it would send to FILE and exit (to give\n"
            "                             another tool the same request)\n"
            "  --seed N                   arrivals and tensor values (default COTENANT_SEED, which cotenant run\n"
            "                             sets per repeat, or 1)\n",
            prog);
}

/* The input data file, within a size limit. */
static char *read_input_data(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: --input-data %s: %s\n", prog, path, strerror(errno));
        return NULL;
    }
    enum { MAX = 256 << 20 };
    char *buf = malloc(MAX + 1);
    size_t n = buf ? fread(buf, 1, MAX + 1, f) : 0;
    fclose(f);
    if (!buf || n > MAX) {
        fprintf(stderr, "%s: --input-data %s: %s\n", prog, path, buf ? "over 256 MiB" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

static int valid_model_name(const char *s)
{
    if (!*s || strlen(s) > 128) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr("-_.", *s))) return 0;
    return 1;
}

typedef struct {
    lg_config c;
    lg_stats s;
    int rc;
    pthread_t t;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    w->rc = lg_run(&w->c, &w->s);
    return NULL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls /v2/health/ready until 200 or the deadline. */
static int wait_ready(const http1_url *u, double seconds, char *why, size_t whycap)
{
    int64_t until = events_now_ns() + (int64_t)(seconds * 1e9);
    char path[300];
    snprintf(path, sizeof path, "%s/v2/health/ready", u->prefix);
    for (;;) {
        int st = http1_request(u->host, u->port, "GET", path, NULL, NULL, 0, 2000, NULL, NULL, why, whycap);
        if (st == 200) return 0;
        if (st > 0) snprintf(why, whycap, "/v2/health/ready answered %d", st);
        if (events_now_ns() >= until || workload_stop) return -1;
        sleep_ms(50);
    }
}

int main(int argc, char **argv)
{
    flag_version_exit(prog, argc, argv);
    const char *url = "http://127.0.0.1:8000", *model = NULL, *dump = NULL, *input_data = NULL;
    static infer_shape shapes[INFER_MAX_SHAPES];
    int nshapes = 0;
    int open_loop = 1, poisson = 1, threads = 1, batch = 1, binary = 1, concurrency = 0;
    double rate = 100, duration = 10, warmup = 2, slo_s = 0, timeout = 10, ready_s = 30;
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
        if (!strcmp(a, "--url")) url = v;
        else if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--mode") && (!strcmp(v, "open") || !strcmp(v, "closed"))) open_loop = !strcmp(v, "open");
        else if (!strcmp(a, "--rate")) rate = flag_double(prog, a, v, 0.001, 1e7);
        else if (!strcmp(a, "--arrival") && (!strcmp(v, "poisson") || !strcmp(v, "constant"))) poisson = !strcmp(v, "poisson");
        else if (!strcmp(a, "--concurrency")) concurrency = (int)flag_long(prog, a, v, 1, 65536);
        else if (!strcmp(a, "--threads")) threads = (int)flag_long(prog, a, v, 1, 256);
        else if (!strcmp(a, "--duration")) duration = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--warmup")) warmup = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--batch")) batch = (int)flag_long(prog, a, v, 1, 1 << 16);
        else if (!strcmp(a, "--format") && (!strcmp(v, "binary") || !strcmp(v, "json"))) binary = !strcmp(v, "binary");
        else if (!strcmp(a, "--slo")) slo_s = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--timeout")) timeout = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--wait-ready")) ready_s = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--dump-body")) dump = v;
        else if (!strcmp(a, "--input-data")) input_data = v;
        else if (!strcmp(a, "--shape")) {
            if (nshapes == INFER_MAX_SHAPES || infer_shape_parse(v, &shapes[nshapes])) {
                fprintf(stderr, "%s: --shape '%s': expected NAME:D1,D2,... (positive dimensions, at most %d such flags)\n",
                        prog, v, INFER_MAX_SHAPES);
                return 2;
            }
            nshapes++;
        }
        else if (!strcmp(a, "--seed")) seed = (unsigned long long)flag_long(prog, a, v, 0, 0x7fffffffffffffffL);
        else if (!strcmp(a, "--mode") || !strcmp(a, "--arrival") || !strcmp(a, "--format")) {
            fprintf(stderr, "%s: %s '%s': expected %s\n", prog, a, v,
                    !strcmp(a, "--mode") ? "open or closed" : !strcmp(a, "--arrival") ? "poisson or constant" : "binary or json");
            return 2;
        } else {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, a);
            return 2;
        }
        i++;
    }
    http1_url u;
    if (http1_parse_url(url, &u)) {
        fprintf(stderr, "%s: --url '%s': expected [http://]HOST[:PORT][/PREFIX], HOST a name, an IPv4 address or an "
                        "IPv6 one in brackets\n", prog, url);
        return 2;
    }
    const char *host = u.host;
    int port = u.port;
    if (!model) {
        fprintf(stderr, "%s: --model NAME is required: the model to drive (GET /v2/models/NAME)\n", prog);
        return 2;
    }
    if (!valid_model_name(model)) {
        fprintf(stderr, "%s: --model '%s': a model name is letters, digits, '-', '_' and '.'\n", prog, model);
        return 2;
    }
    if (timeout <= 0) {
        fprintf(stderr, "%s: --timeout must be more than 0\n", prog);
        return 2;
    }
    if (!concurrency) concurrency = open_loop ? 256 : 8;
    if (concurrency < threads) threads = concurrency;
    events_open();
    signal(SIGPIPE, SIG_IGN);
    workload_install_stop();

    char why[512];
    if (ready_s > 0 && wait_ready(&u, ready_s, why, sizeof why)) {
        fprintf(stderr, "%s: the server at %s:%d is not ready after %gs: %s. Is it running, and is --url right?\n", prog,
                host, port, ready_s, why);
        return 1;
    }
    /* the address of the server's name that takes connections: each thread connects there */
    http1_addr addr;
    if (http1_connectable(host, port, 5000, &addr, why, sizeof why)) {
        fprintf(stderr, "%s: %s\n", prog, why);
        return 1;
    }
    char path[512], *meta = NULL;
    snprintf(path, sizeof path, "%s/v2/models/%s", u.prefix, model);
    int st = http1_request(host, port, "GET", path, NULL, NULL, 0, 10000, &meta, NULL, why, sizeof why);
    if (st != 200) {
        if (st > 0) snprintf(why, sizeof why, "answered %d: %.300s", st, meta ? meta : "");
        fprintf(stderr, "%s: GET %s from %s:%d: %s\n", prog, path, host, port, why);
        free(meta);
        return 1;
    }
    char *data_text = input_data ? read_input_data(input_data) : NULL;
    if (input_data && !data_text) {
        free(meta);
        return 2;
    }
    infer_request req;
    infer_request_opts ro = {.model = model, .prefix = u.prefix, .authority = u.authority, .batch = batch,
                             .binary = binary, .seed = seed, .shapes = shapes, .nshapes = nshapes, .input_data = data_text};
    int rc = infer_request_build(meta, &ro, &req, why, sizeof why);
    free(meta);
    free(data_text);
    if (rc) {
        fprintf(stderr, "%s: model '%s': %s\n", prog, model, why);
        return 1;
    }

    if (dump) {
        FILE *f = fopen(dump, "wb");
        int ok = f && fwrite(req.bytes + (req.len - req.body_len), 1, req.body_len, f) == req.body_len;
        if (f && fclose(f)) ok = 0;
        if (!ok) {
            fprintf(stderr, "%s: --dump-body %s: cannot write it (%s)\n", prog, dump, strerror(errno));
            return 1;
        }
        fwrite(req.bytes, 1, req.len - req.body_len, stdout); /* the request line and headers */
        infer_request_free(&req);
        return 0;
    }
    worker *w = calloc((size_t)threads, sizeof *w);
    int64_t start = events_now_ns() + 20000000; /* every thread starts on the same schedule */
    /* --duration 0: until SIGTERM or SIGINT, as under cotenant */
    int64_t measure = start + (int64_t)(warmup * 1e9), end = duration > 0 ? measure + (int64_t)(duration * 1e9) : INT64_MAX;
    events_start("requests");
    for (int t = 0; t < threads; t++) {
        lg_config *c = &w[t].c;
        *c = (lg_config){.addr = addr, .request = req.bytes, .request_len = req.len, .open_loop = open_loop,
                         .poisson = poisson, .rate_per_s = rate / threads,
                         .connections = concurrency / threads + (t < concurrency % threads),
                         .start_ns = start, .measure_ns = measure, .end_ns = end, .timeout_ns = (int64_t)(timeout * 1e9),
                         .seed = seed * 7919 + (uint64_t)t, .emit_events = 1};
        /* constant arrivals: the threads' schedules interleave rather than coincide */
        if (open_loop && !poisson) c->start_ns += (int64_t)(1e9 / rate * t);
        if (lat_hist_init(&w[t].s.latency) || lat_hist_init(&w[t].s.send_late) ||
            pthread_create(&w[t].t, NULL, run_worker, &w[t])) {
            fprintf(stderr, "%s: cannot start thread %d\n", prog, t);
            return 1;
        }
    }
    lg_stats all = {0};
    lat_hist_init(&all.latency);
    lat_hist_init(&all.send_late);
    const char *first_error = NULL;
    for (int t = 0; t < threads; t++) {
        pthread_join(w[t].t, NULL);
        lg_stats *s = &w[t].s;
        lat_hist_merge(&all.latency, &s->latency);
        lat_hist_merge(&all.send_late, &s->send_late);
        all.due += s->due, all.sent += s->sent, all.ok += s->ok, all.http_errors += s->http_errors;
        all.io_errors += s->io_errors, all.timeouts += s->timeouts, all.unsent += s->unsent;
        all.completed_in_window += s->completed_in_window;
        if (!first_error && s->first_error[0]) first_error = s->first_error;
    }
    int64_t stop_ns = events_now_ns();
    for (int t = 0; t < threads; t++)
        if (w[t].s.stopped_ns && w[t].s.stopped_ns < stop_ns) stop_ns = w[t].s.stopped_ns;
    events_end();
    double window = (double)(end - measure) * 1e-9;
    if (workload_stop || end == INT64_MAX) window = (double)(stop_ns - measure) * 1e-9;
    if (window <= 0) window = 1e-9;
    uint64_t errors = all.http_errors + all.io_errors + all.timeouts + all.unsent;
    uint64_t measured = all.ok + errors;
    double slo_att = slo_s > 0 && measured ? lat_hist_fraction_le(&all.latency, (int64_t)(slo_s * 1e9)) * (double)all.ok / (double)measured : -1;
    double ms = 1e-6;
#define Q(x) ((double)lat_hist_quantile(&all.latency, x) * ms)
    printf("%s: %s loop against %s%s model '%s' (%s, %s), %d thread%s, %d connection%s\n", prog,
           open_loop ? "open" : "closed", u.authority, u.prefix, model, req.summary, binary ? "binary" : "JSON",
           threads, threads > 1 ? "s" : "", concurrency, concurrency > 1 ? "s" : "");
    if (open_loop) printf("  offered   %.1f req/s (%s), %llu due in %.1fs\n", rate, poisson ? "Poisson" : "constant", (unsigned long long)all.due, window);
    printf("  achieved  %.1f req/s answered 200 in the window\n", (double)all.completed_in_window / window);
    printf("  answered  %llu ok, %llu HTTP errors, %llu connection errors, %llu timed out, %llu never sent\n",
           (unsigned long long)all.ok, (unsigned long long)all.http_errors, (unsigned long long)all.io_errors,
           (unsigned long long)all.timeouts, (unsigned long long)all.unsent);
    printf("  latency   p50 %.3f  p90 %.3f  p95 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  mean %.3f ms%s\n", Q(0.5), Q(0.9), Q(0.95), Q(0.99),
           Q(0.999), (double)all.latency.max * ms * (all.latency.count > 0), all.latency.count ? all.latency.sum / (double)all.latency.count * ms : 0.0,
           open_loop ? " (from each request's scheduled time)" : "");
    if (slo_s > 0) printf("  SLO       %.1f%% of requests answered 200 within %g ms\n", 100 * slo_att, slo_s * 1e3);
    if (open_loop)
        printf("  send lag  p50 %.1f  p99 %.1f  max %.1f us (sent minus scheduled, on idle connections)\n",
               (double)lat_hist_quantile(&all.send_late, 0.5) * 1e-3, (double)lat_hist_quantile(&all.send_late, 0.99) * 1e-3,
               (double)all.send_late.max * 1e-3 * (all.send_late.count > 0));
    if (first_error) printf("  first error: %s\n", first_error);
    /* what does not apply is null: no SLO, no rate in a closed loop */
    char slo_ms[32] = "null", slo_frac[32] = "null", rate_text[32] = "null";
    if (slo_s > 0) snprintf(slo_ms, sizeof slo_ms, "%.3f", slo_s * 1e3), snprintf(slo_frac, sizeof slo_frac, "%.5f", slo_att);
    if (open_loop) snprintf(rate_text, sizeof rate_text, "%.3f", rate);
    printf("{\"mode\":\"%s\",\"arrival\":\"%s\",\"rate\":%s,\"threads\":%d,\"connections\":%d,\"window_s\":%.3f,"
           "\"due\":%llu,\"sent\":%llu,\"ok\":%llu,\"http_errors\":%llu,\"io_errors\":%llu,\"timeouts\":%llu,\"unsent\":%llu,"
           "\"achieved_per_s\":%.3f,\"latency_ms\":{\"p50\":%.4f,\"p90\":%.4f,\"p95\":%.4f,\"p99\":%.4f,\"p999\":%.4f,\"max\":%.4f},"
           "\"slo_ms\":%s,\"slo_attainment\":%s,\"send_lag_us\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f}}\n",
           open_loop ? "open" : "closed", poisson ? "poisson" : "constant", rate_text, threads, concurrency,
           window, (unsigned long long)all.due, (unsigned long long)all.sent, (unsigned long long)all.ok,
           (unsigned long long)all.http_errors, (unsigned long long)all.io_errors, (unsigned long long)all.timeouts,
           (unsigned long long)all.unsent, (double)all.completed_in_window / window, Q(0.5), Q(0.9), Q(0.95), Q(0.99), Q(0.999),
           (double)all.latency.max * ms * (all.latency.count > 0), slo_ms, slo_frac,
           (double)lat_hist_quantile(&all.send_late, 0.5) * 1e-3, (double)lat_hist_quantile(&all.send_late, 0.99) * 1e-3,
           (double)all.send_late.max * 1e-3 * (all.send_late.count > 0));
    for (int t = 0; t < threads; t++) lat_hist_free(&w[t].s.latency), lat_hist_free(&w[t].s.send_late);
    lat_hist_free(&all.latency);
    lat_hist_free(&all.send_late);
    free(w);
    infer_request_free(&req);
    return errors ? 1 : 0;
}
