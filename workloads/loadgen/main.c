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
#include "lg_report.h"
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
            "  --sweep rate=A:B[:STEP]    measure each rate from A to B in turn (open loop; five rates without\n"
            "                             STEP), or --sweep concurrency=A:B[:STEP] each concurrency (closed loop)\n"
            "  -f FILE                    a CSV row per measured point, in perf_analyzer's columns (latencies in us)\n"
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

/* What every point of a run shares. */
typedef struct {
    http1_addr addr;
    const infer_request *req;
    int open_loop, poisson, threads, batch;
    double warmup_s, duration_s, timeout_s, slo_s;
    unsigned long long seed;
} run_plan;

/* One measured point at rate (open loop) or with conc connections: warm-up,
 * window, every thread's stats merged into p. 0, or -1 when a thread could
 * not start. */
static int run_point(const run_plan *pl, double rate, int conc, lg_point *p)
{
    int threads = conc < pl->threads ? conc : pl->threads;
    worker *w = calloc((size_t)threads, sizeof *w);
    if (!w) return -1;
    int64_t start = events_now_ns() + 20000000; /* every thread starts on the same schedule */
    /* --duration 0: until SIGTERM or SIGINT, as under cotenant */
    int64_t measure = start + (int64_t)(pl->warmup_s * 1e9);
    int64_t end = pl->duration_s > 0 ? measure + (int64_t)(pl->duration_s * 1e9) : INT64_MAX;
    int started = 0;
    for (int t = 0; t < threads; t++, started++) {
        lg_config *c = &w[t].c;
        *c = (lg_config){.addr = pl->addr, .request = pl->req->bytes, .request_len = pl->req->len,
                         .open_loop = pl->open_loop, .poisson = pl->poisson, .rate_per_s = rate / threads,
                         .connections = conc / threads + (t < conc % threads), .start_ns = start, .measure_ns = measure,
                         .end_ns = end, .timeout_ns = (int64_t)(pl->timeout_s * 1e9),
                         .seed = pl->seed * 7919 + (uint64_t)t, .emit_events = 1};
        /* constant arrivals: the threads' schedules interleave rather than coincide */
        if (pl->open_loop && !pl->poisson) c->start_ns += (int64_t)(1e9 / rate * t);
        if (lat_hist_init(&w[t].s.latency) || lat_hist_init(&w[t].s.send_late) ||
            pthread_create(&w[t].t, NULL, run_worker, &w[t])) {
            fprintf(stderr, "%s: cannot start thread %d\n", prog, t);
            workload_stop = 1;
            break;
        }
    }
    *p = (lg_point){.open_loop = pl->open_loop, .poisson = pl->poisson, .threads = threads, .connections = conc,
                    .batch = pl->batch, .rate = rate, .slo_s = pl->slo_s};
    lat_hist_init(&p->all.latency);
    lat_hist_init(&p->all.send_late);
    static char first_error[256];
    for (int t = 0; t < started; t++) {
        pthread_join(w[t].t, NULL);
        lg_stats *s = &w[t].s;
        lat_hist_merge(&p->all.latency, &s->latency);
        lat_hist_merge(&p->all.send_late, &s->send_late);
        p->all.due += s->due, p->all.sent += s->sent, p->all.ok += s->ok, p->all.http_errors += s->http_errors;
        p->all.io_errors += s->io_errors, p->all.timeouts += s->timeouts, p->all.unsent += s->unsent;
        p->all.completed_in_window += s->completed_in_window;
        if (!p->first_error && s->first_error[0]) {
            snprintf(first_error, sizeof first_error, "%s", s->first_error);
            p->first_error = first_error;
        }
    }
    int64_t stop_ns = events_now_ns();
    for (int t = 0; t < started; t++)
        if (w[t].s.stopped_ns && w[t].s.stopped_ns < stop_ns) stop_ns = w[t].s.stopped_ns;
    double window = (double)(end - measure) * 1e-9;
    if (workload_stop || end == INT64_MAX) window = (double)(stop_ns - measure) * 1e-9;
    p->window_s = window > 0 ? window : 1e-9;
    for (int t = 0; t < started; t++) lat_hist_free(&w[t].s.latency), lat_hist_free(&w[t].s.send_late);
    free(w);
    return started == threads ? 0 : -1;
}

/* --sweep rate=START:END[:STEP] or concurrency=START:END[:STEP]: the values, END included. */
typedef struct {
    int rate, n;
    double v[256];
} sweep_plan;

static int parse_sweep(const char *text, sweep_plan *sw)
{
    memset(sw, 0, sizeof *sw);
    const char *eq = strchr(text, '=');
    if (!eq) return -1;
    size_t kl = (size_t)(eq - text);
    if (kl == 4 && !strncmp(text, "rate", 4)) sw->rate = 1;
    else if (!(kl == 11 && !strncmp(text, "concurrency", 11))) return -1;
    double a, b, step = sw->rate ? 0 : 1;
    char tail;
    int got = sscanf(eq + 1, "%lf:%lf:%lf%c", &a, &b, &step, &tail);
    if (got < 2 || got > 3 || a <= 0 || b < a || (got == 3 && step <= 0)) return -1;
    if (got == 2 && sw->rate) step = (b - a) / 4; /* five rates by default */
    if (!sw->rate && (a != (int)a || b != (int)b || step != (int)step || b > 65536)) return -1;
    for (double x = a; x <= b * (1 + 1e-9) && sw->n < 256; x += step > 0 ? step : b) sw->v[sw->n++] = x;
    return sw->n ? 0 : -1;
}

/* The command line. */
typedef struct {
    const char *url, *model, *dump, *input_data, *csv_path;
    infer_shape shapes[INFER_MAX_SHAPES];
    int nshapes;
    sweep_plan sweep;
    int open_loop, poisson, threads, batch, binary, concurrency;
    double rate, duration, warmup, slo_s, timeout, ready_s;
    unsigned long long seed;
} lg_opts;

/* -1 to go on, else the exit code (0 for --help, 2 for bad usage). */
static int parse_args(int argc, char **argv, lg_opts *o)
{
    *o = (lg_opts){.url = "http://127.0.0.1:8000", .open_loop = 1, .poisson = 1, .threads = 1, .batch = 1, .binary = 1,
                   .rate = 100, .duration = 10, .warmup = 2, .timeout = 10, .ready_s = 30, .seed = flag_default_seed(1)};
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
        if (!strcmp(a, "--url")) o->url = v;
        else if (!strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "--mode") && (!strcmp(v, "open") || !strcmp(v, "closed"))) o->open_loop = !strcmp(v, "open");
        else if (!strcmp(a, "--rate")) o->rate = flag_double(prog, a, v, 0.001, 1e7);
        else if (!strcmp(a, "--arrival") && (!strcmp(v, "poisson") || !strcmp(v, "constant"))) o->poisson = !strcmp(v, "poisson");
        else if (!strcmp(a, "--concurrency")) o->concurrency = (int)flag_long(prog, a, v, 1, 65536);
        else if (!strcmp(a, "--threads")) o->threads = (int)flag_long(prog, a, v, 1, 256);
        else if (!strcmp(a, "--duration")) o->duration = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--warmup")) o->warmup = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--batch")) o->batch = (int)flag_long(prog, a, v, 1, 1 << 16);
        else if (!strcmp(a, "--format") && (!strcmp(v, "binary") || !strcmp(v, "json"))) o->binary = !strcmp(v, "binary");
        else if (!strcmp(a, "--slo")) o->slo_s = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--timeout")) o->timeout = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--wait-ready")) o->ready_s = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--dump-body")) o->dump = v;
        else if (!strcmp(a, "--input-data")) o->input_data = v;
        else if (!strcmp(a, "-f")) o->csv_path = v;
        else if (!strcmp(a, "--seed")) o->seed = (unsigned long long)flag_long(prog, a, v, 0, 0x7fffffffffffffffL);
        else if (!strcmp(a, "--sweep")) {
            if (parse_sweep(v, &o->sweep)) {
                fprintf(stderr, "%s: --sweep '%s': expected rate=START:END[:STEP] or concurrency=START:END[:STEP] "
                                "(positive, START <= END; at most 256 points)\n", prog, v);
                return 2;
            }
            o->open_loop = o->sweep.rate; /* a rate sweep is open loop, a concurrency sweep closed */
        } else if (!strcmp(a, "--shape")) {
            if (o->nshapes == INFER_MAX_SHAPES || infer_shape_parse(v, &o->shapes[o->nshapes])) {
                fprintf(stderr, "%s: --shape '%s': expected NAME:D1,D2,... (positive dimensions, at most %d such flags)\n",
                        prog, v, INFER_MAX_SHAPES);
                return 2;
            }
            o->nshapes++;
        } else if (!strcmp(a, "--mode") || !strcmp(a, "--arrival") || !strcmp(a, "--format")) {
            fprintf(stderr, "%s: %s '%s': expected %s\n", prog, a, v,
                    !strcmp(a, "--mode") ? "open or closed" : !strcmp(a, "--arrival") ? "poisson or constant" : "binary or json");
            return 2;
        } else {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, a);
            return 2;
        }
        i++;
    }
    if (!o->model) {
        fprintf(stderr, "%s: --model NAME is required: the model to drive (GET /v2/models/NAME)\n", prog);
        return 2;
    }
    if (!valid_model_name(o->model)) {
        fprintf(stderr, "%s: --model '%s': a model name is letters, digits, '-', '_' and '.'\n", prog, o->model);
        return 2;
    }
    if (o->timeout <= 0) {
        fprintf(stderr, "%s: --timeout must be more than 0\n", prog);
        return 2;
    }
    if (!o->concurrency) o->concurrency = o->open_loop ? 256 : 8;
    return -1;
}

/* The server ready, the address that takes connections, and the request
 * built from the model's metadata: -1 to go on, else the exit code. */
static int prepare(const lg_opts *o, const http1_url *u, http1_addr *addr, infer_request *req)
{
    char why[512];
    if (o->ready_s > 0 && wait_ready(u, o->ready_s, why, sizeof why)) {
        fprintf(stderr, "%s: the server at %s is not ready after %gs: %s. Is it running, and is --url right?\n", prog,
                u->authority, o->ready_s, why);
        return 1;
    }
    /* each thread connects to the address of the server's name that answered */
    if (http1_connectable(u->host, u->port, 5000, addr, why, sizeof why)) {
        fprintf(stderr, "%s: %s\n", prog, why);
        return 1;
    }
    char path[512], *meta = NULL;
    snprintf(path, sizeof path, "%s/v2/models/%s", u->prefix, o->model);
    int st = http1_request(u->host, u->port, "GET", path, NULL, NULL, 0, 10000, &meta, NULL, why, sizeof why);
    if (st != 200) {
        if (st > 0) snprintf(why, sizeof why, "answered %d: %.300s", st, meta ? meta : "");
        fprintf(stderr, "%s: GET %s from %s: %s\n", prog, path, u->authority, why);
        free(meta);
        return 1;
    }
    char *data_text = o->input_data ? read_input_data(o->input_data) : NULL;
    if (o->input_data && !data_text) {
        free(meta);
        return 2;
    }
    infer_request_opts ro = {.model = o->model, .prefix = u->prefix, .authority = u->authority, .batch = o->batch,
                             .binary = o->binary, .seed = o->seed, .shapes = o->shapes, .nshapes = o->nshapes,
                             .input_data = data_text};
    int rc = infer_request_build(meta, &ro, req, why, sizeof why);
    free(meta);
    free(data_text);
    if (rc) {
        fprintf(stderr, "%s: model '%s': %s\n", prog, o->model, why);
        return 1;
    }
    return -1;
}

/* --dump-body: the body to FILE, the request line and headers to stdout. */
static int dump_body(const char *path, const infer_request *req)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(req->bytes + (req->len - req->body_len), 1, req->body_len, f) == req->body_len;
    if (f && fclose(f)) ok = 0;
    if (!ok) {
        fprintf(stderr, "%s: --dump-body %s: cannot write it (%s)\n", prog, path, strerror(errno));
        return 1;
    }
    fwrite(req->bytes, 1, req->len - req->body_len, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    flag_version_exit(prog, argc, argv);
    static lg_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    http1_url u;
    if (http1_parse_url(o.url, &u)) {
        fprintf(stderr, "%s: --url '%s': expected [http://]HOST[:PORT][/PREFIX], HOST a name, an IPv4 address or an "
                        "IPv6 one in brackets\n", prog, o.url);
        return 2;
    }
    events_open();
    signal(SIGPIPE, SIG_IGN);
    workload_install_stop();
    http1_addr addr;
    infer_request req;
    if ((rc = prepare(&o, &u, &addr, &req)) >= 0) return rc;
    if (o.dump) {
        rc = dump_body(o.dump, &req);
        infer_request_free(&req);
        return rc;
    }
    char target[1024];
    snprintf(target, sizeof target, "%s%s model '%s' (%s, %s)", u.authority, u.prefix, o.model, req.summary,
             o.binary ? "binary" : "JSON");
    FILE *csv = NULL;
    if (o.csv_path && !(csv = fopen(o.csv_path, "w"))) {
        fprintf(stderr, "%s: -f %s: cannot write it (%s)\n", prog, o.csv_path, strerror(errno));
        infer_request_free(&req);
        return 1;
    }
    if (csv) lg_report_csv_header(csv, o.open_loop);
    events_start("requests");
    run_plan plan = {.addr = addr, .req = &req, .open_loop = o.open_loop, .poisson = o.poisson, .threads = o.threads,
                     .batch = o.batch, .warmup_s = o.warmup, .duration_s = o.duration, .timeout_s = o.timeout,
                     .slo_s = o.slo_s, .seed = o.seed};
    /* one point, or each of the sweep's in turn, until a signal */
    int points = o.sweep.n ? o.sweep.n : 1, failed = 0;
    for (int k = 0; k < points && !workload_stop; k++) {
        double r = o.sweep.n && o.sweep.rate ? o.sweep.v[k] : o.rate;
        int conc = o.sweep.n && !o.sweep.rate ? (int)o.sweep.v[k] : o.concurrency;
        lg_point pt;
        if (run_point(&plan, r, conc, &pt) != 0) {
            failed = 1;
            break;
        }
        lg_report_text(stdout, prog, target, &pt);
        lg_report_json(stdout, &pt);
        fflush(stdout);
        if (csv) lg_report_csv_row(csv, &pt), fflush(csv);
        failed |= lg_point_errors(&pt) > 0;
        lat_hist_free(&pt.all.latency);
        lat_hist_free(&pt.all.send_late);
    }
    events_end();
    if (csv && fclose(csv) != 0) {
        fprintf(stderr, "%s: -f %s: %s\n", prog, o.csv_path, strerror(errno));
        failed = 1;
    }
    infer_request_free(&req);
    return failed ? 1 : 0;
}
