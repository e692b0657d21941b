/* cotenant-bert - BERT masked-language-model training (BertForMaskedLM's
 * model), reporting through cotenant's event protocol (unit "sequences",
 * loss with every step). --device cpu trains with the plain-C reference. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bert_backend.h"
#include "bert_check.h"
#include "events.h"
#include "flags.h"
#include "wl_loop.h"
#include "wl_opts.h"

static const char *prog = "cotenant-bert";

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [options]\n\n"
            "Trains BERT for masked-language modelling on synthetic token batches: 15%% of\n"
            "the tokens chosen (80%% [MASK], 10%% random, 10%% kept), the loss on those alone;\n"
            "AdamW with weight decay, linear warm-up, gradient clipping by global norm.\n\n"
            "%s"
            "  --seq N                 tokens a sequence (default 128; at most 512)\n"
            "  --layers N --hidden N --heads N --inter N --vocab N\n"
            "                          the model's shape (default BERT-base: 12, 768, 12, 3072,\n"
            "                          30522); vocab above %d\n"
            "  --data random|learnable random tokens (default), or sequences of one repeated\n"
            "                          word, on which the loss falls\n"
            "  --lr X                  peak learning rate (default 1e-4)\n"
            "  --lr-warmup N           steps of linear learning-rate warm-up (default 100)\n"
            "  --weight-decay X        on matrices, not on biases and layer norms (default 0.01)\n"
            "  --clip X                gradients' global norm at most X; 0 turns it off (default 1)\n"
            "  --dropout X             on embeddings, sublayer outputs and attention (default 0.1)\n"
            "  --attention stored|fused  on the GPU: stored keeps the attention probabilities\n"
            "                          (default, the faster); fused never writes the score\n"
            "                          matrix and takes less memory (head size 64, --seq a\n"
            "                          multiple of 64)\n"
            "  --gemm lt|lt-tuned|cublas  on the GPU: linear layers through cuBLASLt with bias and\n"
            "                          bias-gradient epilogues and its heuristic's algorithm\n"
            "                          (default), the same with the fastest of its first few\n"
            "                          candidates timed at the first step, or cublasGemmEx\n"
            "  --profile               on the GPU: time each kind of call and print where a\n"
            "                          step's time goes at the end (synchronises every step)\n"
            "  --check                 compare the GPU with the CPU reference on one batch and exit\n"
            "                          (use a small model, e.g. --layers 2 --hidden 128 --heads 4\n"
            "                          --inter 512 --vocab 2048 --seq 64 --batch 4)\n\n"
            "--device cpu runs the plain-C reference: use a small model.\n",
            prog, wl_opts_usage(), BERT_FIRST_WORD + 1);
}

static int train_step(void *ctx, float *loss)
{
    bert_backend *b = ctx;
    return b->step(b, loss);
}

int main(int argc, char **argv)
{
    flag_version_exit(prog, argc, argv);
    wl_opts o;
    wl_opts_init(&o, prog, 64);
    bert_config mc = bert_base_config();
    bert_run_config c;
    memset(&c, 0, sizeof c);
    c.prog = prog;
    c.seq = 128;
    c.lr = 1e-4f;
    c.warmup_steps = 100;
    c.weight_decay = 0.01f;
    c.clip = 1.0f;
    c.dropout = 0.1f;
    int check = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--check")) {
            check = 1;
            continue;
        }
        if (!strcmp(a, "--profile")) {
            c.profile = 1;
            continue;
        }
        if (wl_opts_parse(&o, argc, argv, &i)) continue;
        if (!strcmp(a, "--seq")) c.seq = (int)flag_long(prog, a, v, 1, 512);
        else if (!strcmp(a, "--layers")) mc.layers = (int)flag_long(prog, a, v, 1, BERT_MAX_LAYERS);
        else if (!strcmp(a, "--hidden")) mc.hidden = (int)flag_long(prog, a, v, 1, 8192);
        else if (!strcmp(a, "--heads")) mc.heads = (int)flag_long(prog, a, v, 1, 256);
        else if (!strcmp(a, "--inter")) mc.inter = (int)flag_long(prog, a, v, 1, 32768);
        else if (!strcmp(a, "--vocab")) mc.vocab = (int)flag_long(prog, a, v, BERT_FIRST_WORD + 1, 1 << 20);
        else if (!strcmp(a, "--lr")) c.lr = (float)flag_double(prog, a, v, 0, 10);
        else if (!strcmp(a, "--lr-warmup")) c.warmup_steps = flag_long(prog, a, v, 0, 100000000);
        else if (!strcmp(a, "--weight-decay")) c.weight_decay = (float)flag_double(prog, a, v, 0, 1);
        else if (!strcmp(a, "--clip")) c.clip = (float)flag_double(prog, a, v, 0, 1e6);
        else if (!strcmp(a, "--dropout")) c.dropout = (float)flag_double(prog, a, v, 0, 0.9);
        else if (!strcmp(a, "--data")) {
            if (v && !strcmp(v, "random")) c.data = BERT_DATA_RANDOM;
            else if (v && !strcmp(v, "learnable")) c.data = BERT_DATA_LEARNABLE;
            else {
                fprintf(stderr, "%s: --data '%s': expected random or learnable\n", prog, v ? v : "");
                return 2;
            }
        } else if (!strcmp(a, "--gemm")) {
            if (v && !strcmp(v, "lt")) c.gemm = BERT_GEMM_LT, c.gemm_autotune = 0;
            else if (v && !strcmp(v, "lt-tuned")) c.gemm = BERT_GEMM_LT, c.gemm_autotune = 1;
            else if (v && !strcmp(v, "cublas")) c.gemm = BERT_GEMM_CUBLAS;
            else {
                fprintf(stderr, "%s: --gemm '%s': expected lt, lt-tuned or cublas\n", prog, v ? v : "");
                return 2;
            }
        } else if (!strcmp(a, "--attention")) {
            if (v && !strcmp(v, "fused")) c.attention = BERT_ATTN_FUSED;
            else if (v && !strcmp(v, "stored")) c.attention = BERT_ATTN_STORED;
            else {
                fprintf(stderr, "%s: --attention '%s': expected fused or stored\n", prog, v ? v : "");
                return 2;
            }
        } else {
            fprintf(stderr, "%s: unknown or incomplete option '%s' (see --help)\n", prog, a);
            return 2;
        }
        i++;
    }
    if (mc.hidden % mc.heads) {
        fprintf(stderr, "%s: --hidden %d is not a multiple of --heads %d\n", prog, mc.hidden, mc.heads);
        return 2;
    }
    if (bert_arch_build(&c.arch, &mc) != 0) {
        fprintf(stderr, "%s: cannot build a BERT of that shape\n", prog);
        return 2;
    }
    c.batch = o.batch;
    c.precision = o.precision;
    c.seed = o.seed;
    c.gpu = o.gpu;
    float *params = malloc(c.arch.n_flat * sizeof *params);
    if (!params) {
        fprintf(stderr, "%s: out of memory for %zu parameters\n", prog, c.arch.n_flat);
        return 1;
    }
    bert_init_params(&c.arch, params, o.seed);
    printf("%s: BERT MLM, %d layers, hidden %d, %d heads, %zu parameters, batch %d x %d tokens, %s, %s data, on %s\n",
           prog, mc.layers, mc.hidden, mc.heads, c.arch.n_params, o.batch, c.seq, o.device == WL_DEVICE_CPU ? "fp32" : wl_precision_name(o.precision),
           c.data == BERT_DATA_LEARNABLE ? "learnable" : "random", o.device == WL_DEVICE_CPU ? "the CPU" : "the GPU");
    fflush(stdout);
    if (check) {
        int rc = bert_check(&c, params);
        free(params);
        return rc;
    }

    workload_install_stop();
    events_open();
    bert_backend *b = o.device == WL_DEVICE_CPU ? bert_backend_cpu(&c, params) : bert_backend_gpu(&c, params);
    free(params);
    if (!b) return 1;
    wl_task t = {"sequences", o.batch, train_step, b};
    wl_summary s;
    int rc = wl_run(&o, &t, &s);
    /* forward 2 flops a MAC, backward 4; 15% of the tokens through the head */
    double flops = 6.0 * bert_forward_macs(&mc, c.seq, 0.15 * c.seq);
    printf("%s: %ld steps in %.2f s: %.1f sequences/s, step p50 %.2f ms p99 %.2f ms, loss %.4f -> %.4f\n", prog,
           s.steps, s.seconds, s.per_s, s.step_ms_p50, s.step_ms_p99, s.first_loss, s.last_loss);
    printf("%s: %.2f model TFLOP/s, peak memory %.3f GiB\n", prog, s.per_s * flops / 1e12, (double)b->peak_bytes / (1 << 30));
    b->destroy(b);
    return rc == 0 ? 0 : 1;
}
