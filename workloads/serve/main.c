/* cotenant-serve: a KServe v2 inference server with dynamic batching.
 *
 *   cotenant-serve --model mlp --listen 127.0.0.1:8000 --max-batch 32 --max-queue-delay 2ms
 *
 * Answers the protocol's health, metadata and infer endpoints (JSON and
 * binary tensors) and /metrics; reports each request's latency through the
 * event protocol. SIGTERM or SIGINT stop accepting connections, answer every
 * request already in, and exit 0. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batcher.h"
#include "events.h"
#include "net/listen_addr.h"
#include "flags.h"
#include "serve_http.h"
#include "serve_model.h"

static const char *prog = "cotenant-serve";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: %s [options]\n"
            "  --model NAME             the model to serve: %s (default mlp)\n"
            "  --listen [ADDR:]PORT     where to listen (default 127.0.0.1:8000; 0.0.0.0:PORT for every interface)\n"
            "  --max-batch N            items a batch (and a request) may hold (default 32)\n"
            "  --max-queue-delay DUR    how long a request waits for others to fill its batch (default 2ms; 0 = none)\n"
            "  --queue-size N           requests that may wait; more are answered 503 (default 512)\n"
            "  --instances N            copies of the model, each running its own batches, so one copies in\n"
            "                           while another computes (default 2 for GPU models, 1 for mlp)\n"
            "  --max-request-size SIZE  larger bodies are answered 413 (default 64M)\n"
            "  --threads N              HTTP threads (default 4)\n"
            "  --max-connections N      open connections at most (default 1024)\n"
            "  --idle-timeout DUR       close keep-alive connections idle this long (default 60s)\n"
            "  --request-timeout DUR    a request's headers and body must arrive within this, or the\n"
            "                           connection is closed (default 30s); the oldest such connections\n"
            "                           also go when fewer than a tenth of --max-connections are free\n"
            "  --drain-timeout DUR      on SIGTERM, how long to wait for requests in flight (default 30s)\n"
            "  --duration DUR           stop (as on SIGTERM) after this long (default: run until signalled)\n"
            "  --batch-time DUR         cpu models: a fixed cost added to every batch, as a device call has (default 0)\n"
            "  --pinned-buffers N       GPU models: page-locked buffers for one-item request bodies, which then\n"
            "                           go to the GPU by DMA (default 2 x instances x max batch + 64; 0 = none)\n"
            "  --algo heuristic|measured GPU models: cuDNN's heuristics, or algorithms timed at start (slower start)\n"
            "  --input-dtype FP32|UINT8 what clients send: FP32 tensors as the model takes them, or (resnet50)\n"
            "                           UINT8 pixels 0-255, normalised on the GPU with ImageNet's mean and std,\n"
            "                           a quarter of the bytes to move (default FP32)\n"
            "  --gpu N  --seq N  --seed N\n",
            prog, serve_model_names());
}

static int bad_choice(const char *flag, const char *v, const char *expected)
{
    fprintf(stderr, "%s: %s '%s': expected %s\n", prog, flag, v, expected);
    return 2;
}

int main(int argc, char **argv)
{
    flag_version_exit(prog, argc, argv);
    serve_model_opts mo = {.name = "mlp", .max_batch = 32, .seq = 128, .seed = 1, .input_dtype = KS_FP32};
    serve_http_opts ho = {.listen = "127.0.0.1:8000", .threads = 4, .max_request_bytes = 64u << 20,
                          .max_connections = 1024, .idle_timeout_s = 60,
                          .request_timeout_s = 30};
    double delay_s = 0.002, drain_s = 30, duration_s = 0;
    int queue = 512, instances = 0, pinned_slots = -1;
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
        if (!strcmp(a, "--model")) mo.name = v;
        else if (!strcmp(a, "--listen")) ho.listen = v;
        else if (!strcmp(a, "--max-batch")) mo.max_batch = (int)flag_long(prog, a, v, 1, 4096);
        else if (!strcmp(a, "--max-queue-delay")) delay_s = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--pinned-buffers")) pinned_slots = (int)flag_long(prog, a, v, 0, 1 << 16);
        else if (!strcmp(a, "--instances")) instances = (int)flag_long(prog, a, v, 1, 16);
        else if (!strcmp(a, "--queue-size")) queue = (int)flag_long(prog, a, v, 1, 1 << 20);
        else if (!strcmp(a, "--max-request-size")) ho.max_request_bytes = (size_t)flag_bytes(prog, a, v, 1024, 1LL << 32);
        else if (!strcmp(a, "--threads")) ho.threads = (int)flag_long(prog, a, v, 1, 256);
        else if (!strcmp(a, "--max-connections")) ho.max_connections = (unsigned)flag_long(prog, a, v, 1, 65536);
        else if (!strcmp(a, "--idle-timeout")) ho.idle_timeout_s = (unsigned)(flag_seconds(prog, a, v) + 0.999);
        else if (!strcmp(a, "--request-timeout")) ho.request_timeout_s = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--drain-timeout")) drain_s = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--duration")) duration_s = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--batch-time")) mo.batch_time_s = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--gpu")) mo.gpu = (int)flag_long(prog, a, v, 0, 63);
        else if (!strcmp(a, "--algo")) {
            if (strcmp(v, "measured") && strcmp(v, "heuristic")) return bad_choice(a, v, "heuristic or measured");
            mo.algo_measured = !strcmp(v, "measured");
        }
        else if (!strcmp(a, "--input-dtype")) {
            if (strcmp(v, "FP32") && strcmp(v, "UINT8")) return bad_choice(a, v, "FP32 or UINT8");
            mo.input_dtype = (ks_dtype)ks_dtype_of(v);
        }
        else if (!strcmp(a, "--seq")) mo.seq = (int)flag_long(prog, a, v, 1, 4096);
        else if (!strcmp(a, "--seed")) mo.seed = (unsigned long long)flag_long(prog, a, v, 0, 0x7fffffffffffffffL);
        else {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, a);
            return 2;
        }
        i++;
    }
    if (delay_s > 10) {
        fprintf(stderr, "%s: --max-queue-delay %gs: at most 10s\n", prog, delay_s);
        return 2;
    }
    char err[512];
    uint32_t addr;
    int port;
    if (net_parse_listen("--listen", ho.listen, &addr, &port, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    events_open();
    /* a client that goes away mid-answer must not kill the server */
    signal(SIGPIPE, SIG_IGN);
    workload_install_stop();

    serve_model *models[16];
    if (instances == 0) instances = strcmp(mo.name, "mlp") ? 2 : 1;
    /* request bodies land in page-locked memory: enough for every batch in flight and the queue */
    mo.pinned_slots = pinned_slots >= 0 ? pinned_slots : 2 * instances * mo.max_batch + 64;
    for (int k = 0; k < instances; k++) {
        if (k == 1) mo.pinned_slots = 0; /* the first instance's pool serves every body */
        int bad_usage;
        models[k] = serve_model_open(&mo, &bad_usage, err, sizeof err);
        if (!models[k]) {
            fprintf(stderr, "%s: %s\n", prog, err);
            for (int j = 0; j < k; j++) models[j]->destroy(models[j]);
            return bad_usage ? 2 : 1;
        }
    }
    serve_model *model = models[0];
    serve_metrics metrics;
    serve_metrics_init(&metrics, model->info.name, mo.max_batch);
    batcher_opts bo = {.max_batch = mo.max_batch, .max_delay_ns = (int64_t)(delay_s * 1e9), .queue_capacity = queue};
    /* what /v2/models/M/config says of the scheduling */
    model->info.max_queue_delay_us = (int64_t)(delay_s * 1e6);
    model->info.instances = instances;
    batcher *b = batcher_start(models, instances, &bo, &metrics, err, sizeof err);
    serve_http *http = b ? serve_http_start(model, b, &metrics, &ho, err, sizeof err) : NULL;
    if (!http) {
        fprintf(stderr, "%s: %s\n", prog, err);
        batcher_stop(b);
        for (int k = 0; k < instances; k++) models[k]->destroy(models[k]);
        return 1;
    }
    char host[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &addr, host, sizeof host);
    printf("%s: serving model '%s' (%s) on http://%s:%d/v2 (max batch %d, max queue delay %gms, queue %d, %d instance%s)\n",
           prog, model->info.name, model->info.platform, host, serve_http_port(http), mo.max_batch, delay_s * 1e3, queue,
           instances, instances > 1 ? "s" : "");
    fflush(stdout);
    events_start("requests");

    int64_t until = duration_s > 0 ? events_now_ns() + (int64_t)(duration_s * 1e9) : INT64_MAX;
    while (!workload_stop && events_now_ns() < until) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    int left = serve_http_drain(http, drain_s);
    batcher_stop(b); /* answers anything still queued */
    unsigned long long slow, for_room;
    serve_http_slow_counts(http, &slow, &for_room);
    serve_http_stop(http);
    events_end();
    printf("%s: served %llu requests (%llu failed), %llu items in %llu batches (mean batch %.2f); "
           "refused: %llu queue full, %llu too large, %llu malformed; %llu ended unanswered; connections cut: "
           "%llu too slow, %llu to keep room\n",
           prog, (unsigned long long)metrics.success, (unsigned long long)metrics.failure,
           (unsigned long long)metrics.items, (unsigned long long)metrics.batches,
           metrics.batches ? (double)metrics.items / (double)metrics.batches : 0.0,
           (unsigned long long)metrics.rejected[REJECT_QUEUE_FULL], (unsigned long long)metrics.rejected[REJECT_TOO_LARGE],
           (unsigned long long)metrics.rejected[REJECT_BAD_REQUEST],
           (unsigned long long)metrics.rejected[REJECT_UNANSWERED], slow, for_room);
    if (left) fprintf(stderr, "%s: %d requests were still in flight after --drain-timeout %gs\n", prog, left, drain_s);
    serve_metrics_destroy(&metrics);
    for (int k = 0; k < instances; k++) models[k]->destroy(models[k]);
    return left ? 1 : 0;
}
