/* cotenant-infer: offline inference throughput, the way MLPerf's offline
 * scenario measures it: batches back to back on a model whose input stays on
 * the GPU, for one batch size or a sweep of them.
 *
 *   cotenant-infer --model resnet50 --batch 256 --duration 15s
 *   cotenant-infer --model resnet50 --batches 1,8,32,128,256
 *   cotenant-infer --model resnet50 --check     # GPU against the plain-C reference
 *
 * Every batch is one step event (n items); a summary line per batch size
 * gives throughput and batch latency. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "flags.h"
#include "infer_engine.h"
#include "resnet_arch.h"
#include "resnet_infer.h"
#include "wl_rng.h"

static const char *prog = "cotenant-infer";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: %s [options]\n"
            "  --model resnet50|bert     the model (default resnet50; bert: BERT-base masked LM, logits for every token)\n"
            "  --seq N                   bert: tokens a sequence (default 128)\n"
            "  --batch N                 one batch size (default 256)\n"
            "  --batches N,N,...         a sweep: each size for --duration in turn\n"
            "  --duration DUR            measured time per batch size (default 10s; 0 = until SIGTERM, one size)\n"
            "  --warmup-steps N          untimed batches first at each size (default 10)\n"
            "  --algo heuristic|measured the libraries' heuristic algorithms (default), or the fastest of their\n"
            "                            candidates timed at start (cuDNN's for resnet50, cuBLASLt's for bert)\n"
            "  --no-graph                launch every kernel instead of replaying a CUDA graph\n"
            "  --image N  --classes N    input size and classes (default 224, 1000)\n"
            "  --profile                 bert: GPU time per kind of call, at the end\n"
            "  --attention stored|fused  bert: scores through memory with cuBLAS (default), or one kernel that\n"
            "                            never writes them (head size 64, --seq a multiple of 64)\n"
            "  --check                   compare the GPU's logits with the plain-C reference (small model) and exit\n"
            "  --gpu N  --seed N\n",
            prog);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* GPU logits against the plain-C reference on a small ResNet-50 whose batch
 * norm is away from its initial values: the fold, the layouts, the graph
 * and the NCHW input path all in one comparison. */
static int check(infer_opts o)
{
    o.image = 64, o.classes = 10, o.max_batch = 3, o.random_bn = 1;
    infer_engine *e = infer_resnet50_gpu(&o);
    if (!e) return 1;
    int n = 3, hw = o.image * o.image;
    float *x = malloc((size_t)n * 3 * hw * sizeof *x), *xh = malloc((size_t)n * 3 * hw * sizeof *xh);
    float gpu[30], ref[30];
    for (int i = 0; i < n * 3 * hw; i++) x[i] = wl_normal(o.seed, 77, (uint64_t)i);
    /* the reference takes NHWC */
    for (int b = 0; b < n; b++)
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < hw; p++) xh[((size_t)b * hw + p) * 3 + c] = x[((size_t)b * 3 + c) * hw + p];
    const void *parts[2] = {x, x + 3 * hw}; /* two parts: the first image, then the rest */
    int counts[2] = {1, n - 1};
    e->run_host(e, 2, parts, counts, gpu);
    infer_resnet50_params hp;
    rn_arch a;
    rn_arch_build(&a, o.image, o.classes);
    infer_resnet50_params_make(&o, &hp);
    rn_infer_cpu(&a, hp.params, hp.mean, hp.var, n, xh, ref);
    double num = 0, den = 0;
    for (int i = 0; i < n * o.classes; i++) num += (gpu[i] - ref[i]) * (double)(gpu[i] - ref[i]), den += (double)ref[i] * ref[i];
    double rel = sqrt(num / (den > 0 ? den : 1));
    int argmax_same = 0;
    for (int b = 0; b < n; b++) {
        int ig = 0, ir = 0;
        for (int k = 1; k < o.classes; k++) {
            if (gpu[b * o.classes + k] > gpu[b * o.classes + ig]) ig = k;
            if (ref[b * o.classes + k] > ref[b * o.classes + ir]) ir = k;
        }
        argmax_same += ig == ir;
    }
    const double bound = 5e-2;
    printf("%s --check: resnet50 at %dx%d, batch %d, %d classes: logits relative L2 error %.3g (bound %g), "
           "top-1 agrees on %d of %d\n", prog, o.image, o.image, n, o.classes, rel, bound, argmax_same, n);
    printf("  gpu[0..3] %.5f %.5f %.5f %.5f | ref %.5f %.5f %.5f %.5f\n", gpu[0], gpu[1], gpu[2], gpu[3], ref[0], ref[1],
           ref[2], ref[3]);
    infer_resnet50_params_free(&hp);
    e->close(e);
    free(x), free(xh);
    return rel <= bound && den > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    flag_version_exit(prog, argc, argv);
    /* The libraries' heuristics by default: on the H100 cuDNN's beat the
     * algorithms cudnnFind measured at every batch size up to 64, and
     * cuBLASLt's are within 1% of the fastest measured for BERT
     * (bench/NOTES.md) */
    infer_opts o = {.prog = prog, .max_batch = 256, .image = 224, .classes = 1000, .seq = 128, .seed = 1, .use_graph = 1,
                    .algo_heuristic = 1};
    const char *model = "resnet50", *batches = NULL;
    double duration = 10;
    int warmup = 10, do_check = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--no-graph")) { o.use_graph = 0; continue; }
        if (!strcmp(a, "--check")) { do_check = 1; continue; }
        if (!strcmp(a, "--profile")) { o.profile = 1; continue; }
        if (!v) {
            fprintf(stderr, "%s: %s needs a value, or is unknown (see --help)\n", prog, a);
            return 2;
        }
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--batch")) o.max_batch = (int)flag_long(prog, a, v, 1, 4096), batches = NULL;
        else if (!strcmp(a, "--batches")) batches = v;
        else if (!strcmp(a, "--duration")) duration = flag_seconds(prog, a, v);
        else if (!strcmp(a, "--warmup-steps")) warmup = (int)flag_long(prog, a, v, 0, 100000);
        else if (!strcmp(a, "--algo")) {
            if (strcmp(v, "measured") && strcmp(v, "heuristic")) {
                fprintf(stderr, "%s: --algo '%s': expected heuristic or measured\n", prog, v);
                return 2;
            }
            o.algo_heuristic = !strcmp(v, "heuristic");
        }
        else if (!strcmp(a, "--attention")) {
            if (strcmp(v, "stored") && strcmp(v, "fused")) {
                fprintf(stderr, "%s: --attention '%s': expected stored or fused\n", prog, v);
                return 2;
            }
            o.attention_fused = !strcmp(v, "fused");
        }
        else if (!strcmp(a, "--seq")) o.seq = (int)flag_long(prog, a, v, 1, 512);
        else if (!strcmp(a, "--image")) o.image = (int)flag_long(prog, a, v, 32, 1024);
        else if (!strcmp(a, "--classes")) o.classes = (int)flag_long(prog, a, v, 2, 100000);
        else if (!strcmp(a, "--gpu")) o.gpu = (int)flag_long(prog, a, v, 0, 63);
        else if (!strcmp(a, "--seed")) o.seed = (uint64_t)flag_long(prog, a, v, 0, 0x7fffffffffffffffL);
        else {
            fprintf(stderr, "%s: unknown option '%s %s' (see --help)\n", prog, a, v);
            return 2;
        }
        i++;
    }
    int bert = !strcmp(model, "bert");
    if (!bert && strcmp(model, "resnet50")) {
        fprintf(stderr, "%s: --model '%s': expected resnet50 or bert\n", prog, model);
        return 2;
    }
    int sizes[32], nsizes = 0;
    if (batches) {
        for (const char *p = batches; *p && nsizes < 32;) {
            char *end;
            long b = strtol(p, &end, 10);
            if (end == p || b < 1 || b > 4096 || (*end && *end != ',')) {
                fprintf(stderr, "%s: --batches '%s': expected sizes such as 1,8,32,128\n", prog, batches);
                return 2;
            }
            sizes[nsizes++] = (int)b;
            p = *end ? end + 1 : end;
        }
        o.max_batch = 0;
        for (int i = 0; i < nsizes; i++) o.max_batch = sizes[i] > o.max_batch ? sizes[i] : o.max_batch;
    } else {
        sizes[nsizes++] = o.max_batch;
    }
    if (duration <= 0 && nsizes > 1) {
        fprintf(stderr, "%s: --duration 0 (until signalled) takes one batch size\n", prog);
        return 2;
    }
    events_open();
    workload_install_stop();
    if (do_check) return bert ? infer_bert_check(&o) : check(o);

    infer_engine *e = bert ? infer_bert_gpu(&o) : infer_resnet50_gpu(&o);
    if (!e) return 1;
    if (bert)
        printf("%s: bert inference, bf16, sequence %d, cuBLASLt (%s algorithms); %.1f GFLOP a sequence; %.2f GiB on the GPU\n",
               prog, o.seq, o.algo_heuristic ? "heuristic" : "measured", e->flops_per_item / 1e9, (double)e->device_bytes / (1 << 30));
    else
        printf("%s: %s inference, bf16, %s algorithms, %s; %.1f GFLOP an image; %.2f GiB on the GPU\n", prog, e->model,
               o.algo_heuristic ? "heuristic" : "measured", o.use_graph ? "CUDA graph" : "no graph", e->flops_per_item / 1e9,
               (double)e->device_bytes / (1 << 30));
    events_start(e->unit);
    int rc = 0;
    for (int s = 0; s < nsizes && !workload_stop; s++) {
        int n = sizes[s];
        for (int i = 0; i < warmup && !workload_stop; i++) e->run_resident(e, n);
        size_t cap = 1024, count = 0;
        double *ms = malloc(cap * sizeof *ms);
        int64_t t0 = events_now_ns(), until = duration > 0 ? t0 + (int64_t)(duration * 1e9) : INT64_MAX;
        while (!workload_stop && events_now_ns() < until) {
            int64_t a = events_now_ns();
            if (e->run_resident(e, n)) {
                rc = 1;
                break;
            }
            int64_t b = events_now_ns();
            events_step(n);
            if (count == cap) ms = realloc(ms, (cap *= 2) * sizeof *ms);
            ms[count++] = (double)(b - a) / 1e6;
        }
        double secs = (double)(events_now_ns() - t0) / 1e9;
        qsort(ms, count, sizeof *ms, cmp_double);
        double per_s = (double)count * n / secs;
        double p50 = count ? ms[count / 2] : NAN, p99 = count ? ms[(size_t)(count * 0.99) < count ? (size_t)(count * 0.99) : count - 1] : NAN;
        printf("  batch %4d: %9.1f %s/s  batch latency p50 %.3f ms  p99 %.3f ms  %.1f TFLOP/s  (%zu batches)\n", n, per_s,
               e->unit, p50, p99, per_s * e->flops_per_item / 1e12, count);
        printf("{\"model\":\"%s\",\"batch\":%d,\"per_s\":%.1f,\"batch_ms_p50\":%.4f,\"batch_ms_p99\":%.4f,\"tflops\":%.2f,"
               "\"batches\":%zu,\"gpu_gib\":%.3f}\n",
               e->model, n, per_s, p50, p99, per_s * e->flops_per_item / 1e12, count, (double)e->device_bytes / (1 << 30));
        fflush(stdout);
        free(ms);
    }
    events_end();
    e->close(e);
    return rc;
}
