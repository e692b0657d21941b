/* cotenant-resnet50 - ResNet-50 v1.5 training (torchvision's model), on the
 * GPU with cuDNN and cuBLAS or on the CPU with the plain-C reference,
 * reporting through cotenant's event protocol (unit "images", loss with
 * every step). --check compares the GPU with the CPU reference on the same
 * weights and batch and exits 1 if any figure is outside its bound. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "flags.h"
#include "resnet_backend.h"
#include "resnet_check.h"
#include "wl_bf16.h"
#include "wl_loop.h"
#include "wl_opts.h"

static const char *prog = "cotenant-resnet50";

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [options]\n\n"
            "Trains ResNet-50 v1.5 on synthetic ImageNet-shaped data (NHWC, 1000 classes):\n"
            "batch norm in training mode, SGD with momentum and weight decay, bf16 mixed\n"
            "precision with fp32 master weights by default.\n\n"
            "%s"
            "  --image N               input height and width, a multiple of 32 (default 224)\n"
            "  --classes N             classifier outputs (default 1000)\n"
            "  --data random|learnable one fixed random batch (default), or a small task\n"
            "                          whose loss falls (10 classes of noisy templates)\n"
            "  --lr X                  learning rate (default 0.1 x batch / 256)\n"
            "  --momentum X            (default 0.9)\n"
            "  --weight-decay X        (default 1e-4)\n"
            "  --graph on|off          capture the step in a CUDA graph (default on)\n"
            "  --workspace MB          cuDNN workspace a convolution may use (default 1024)\n"
            "  --algorithms heuristic|measure  convolution algorithms: cuDNN's heuristics'\n"
            "                          first choice (default: the same in every run), or the\n"
            "                          fastest cuDNN measures at start, like cudnn.benchmark;\n"
            "                          measured beside another process, that choice can be one\n"
            "                          that all but stalls both under MPS\n"
            "  --batch-norm cudnn|ours batch norm with ReLU and residual add fused in: cuDNN's\n"
            "                          NHWC persistent kernels (default, faster), or ours\n"
            "                          (0.1 GiB less memory)\n"
            "  --stem recompute|keep   recompute the stem's 112x112 tensors in the backward pass\n"
            "                          (default: less memory) or keep them from the forward pass\n"
            "  --profile               time every call of the step (GPU time, inside the captured\n"
            "                          step) over 20 steps and print where the time goes\n"
            "  --check                 compare the GPU with the CPU reference and exit\n"
            "                          (use a small --image and --batch, e.g. 64 and 8)\n\n"
            "--device cpu runs the plain-C reference: use tiny sizes (--image 32 --batch 2).\n",
            prog, wl_opts_usage());
}

static int train_step(void *ctx, float *loss)
{
    rn_backend *b = ctx;
    return b->step(b, 1, loss);
}

/* Peak dense throughput of the GPU for the precision, for model FLOP
 * utilisation; 0 where unknown. */
static double peak_tflops(const char *gpu, wl_precision p)
{
    static const struct {
        const char *name;
        double bf16, tf32, fp32;
    } table[] = {
        {"H100 PCIe", 756, 378, 51}, {"H100 NVL", 835, 418, 60}, {"H100", 989, 495, 67}, {"H200", 989, 495, 67},
        {"H800", 989, 495, 67},      {"A100", 312, 156, 19.5},   {"L40S", 362, 183, 91.6}, {"A10", 125, 62.5, 31.2},
    };
    for (size_t i = 0; gpu && i < sizeof table / sizeof table[0]; i++)
        if (strstr(gpu, table[i].name))
            return p == WL_BF16 ? table[i].bf16 : p == WL_TF32 ? table[i].tf32 : table[i].fp32;
    return 0;
}

int main(int argc, char **argv)
{
    flag_version_exit(prog, argc, argv);
    wl_opts o;
    wl_opts_init(&o, prog, 128);
    rn_config c;
    memset(&c, 0, sizeof c);
    c.prog = prog;
    c.momentum = 0.9f;
    c.weight_decay = 1e-4f;
    c.lr = -1;
    c.use_graph = 1;
    c.algo_heuristic = 1;
    c.bn_cudnn = 1;
    c.workspace_limit = (size_t)1024 << 20;
    int image = 224, classes = 1000, check = 0, batch_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--profile") || !strcmp(a, "--check")) {
            *(a[2] == 'p' ? &c.profile : &check) = 1;
            continue;
        }
        if (!strcmp(a, "--batch")) batch_set = 1;
        if (wl_opts_parse(&o, argc, argv, &i)) continue;
        if (!strcmp(a, "--image")) {
            image = (int)flag_long(prog, a, v, 32, 1024);
            if (image % 32) {
                fprintf(stderr, "%s: --image %d: expected a multiple of 32\n", prog, image);
                return 2;
            }
        } else if (!strcmp(a, "--classes")) {
            classes = (int)flag_long(prog, a, v, 2, 100000);
        } else if (!strcmp(a, "--data")) {
            if (v && !strcmp(v, "random")) c.data = RN_DATA_RANDOM;
            else if (v && !strcmp(v, "learnable")) c.data = RN_DATA_LEARNABLE;
            else {
                fprintf(stderr, "%s: --data '%s': expected random or learnable\n", prog, v ? v : "");
                return 2;
            }
        } else if (!strcmp(a, "--lr")) {
            c.lr = (float)flag_double(prog, a, v, 0, 100);
        } else if (!strcmp(a, "--momentum")) {
            c.momentum = (float)flag_double(prog, a, v, 0, 1);
        } else if (!strcmp(a, "--weight-decay")) {
            c.weight_decay = (float)flag_double(prog, a, v, 0, 1);
        } else if (!strcmp(a, "--graph")) {
            if (!v || (strcmp(v, "on") && strcmp(v, "off"))) {
                fprintf(stderr, "%s: --graph '%s': expected on or off\n", prog, v ? v : "");
                return 2;
            }
            c.use_graph = !strcmp(v, "on");
        } else if (!strcmp(a, "--batch-norm")) {
            if (!v || (strcmp(v, "ours") && strcmp(v, "cudnn"))) {
                fprintf(stderr, "%s: --batch-norm '%s': expected cudnn or ours\n", prog, v ? v : "");
                return 2;
            }
            c.bn_cudnn = !strcmp(v, "cudnn");
        } else if (!strcmp(a, "--stem")) {
            if (!v || (strcmp(v, "recompute") && strcmp(v, "keep"))) {
                fprintf(stderr, "%s: --stem '%s': expected recompute or keep\n", prog, v ? v : "");
                return 2;
            }
            c.keep_stem = !strcmp(v, "keep");
        } else if (!strcmp(a, "--algorithms")) {
            if (!v || (strcmp(v, "measure") && strcmp(v, "heuristic"))) {
                fprintf(stderr, "%s: --algorithms '%s': expected heuristic or measure\n", prog, v ? v : "");
                return 2;
            }
            c.algo_heuristic = !strcmp(v, "heuristic");
        } else if (!strcmp(a, "--workspace")) {
            c.workspace_limit = (size_t)flag_long(prog, a, v, 0, 65536) << 20;
        } else {
            fprintf(stderr, "%s: unknown or incomplete option '%s' (see --help)\n", prog, a);
            return 2;
        }
        i++;
    }
    if (o.device == WL_DEVICE_CPU && !batch_set) o.batch = 2;
    if (rn_arch_build(&c.arch, image, classes) != 0) {
        fprintf(stderr, "%s: cannot build ResNet-50 for %dx%d images and %d classes\n", prog, image, image, classes);
        return 2;
    }
    c.batch = o.batch;
    c.precision = o.precision;
    c.seed = o.seed;
    c.gpu = o.gpu;
    if (c.lr < 0) c.lr = 0.1f * (float)o.batch / 256.0f;

    float *params = malloc(c.arch.n_flat * sizeof *params);
    if (!params) {
        fprintf(stderr, "%s: out of memory for %zu parameters\n", prog, c.arch.n_flat);
        return 1;
    }
    rn_init_params(&c.arch, params, o.seed);
    printf("%s: ResNet-50 v1.5, %zu parameters, %dx%d input, %d classes, batch %d, %s, %s data, on %s\n", prog,
           c.arch.n_params, image, image, classes, o.batch, wl_precision_name(o.precision),
           c.data == RN_DATA_LEARNABLE ? "learnable" : "random", o.device == WL_DEVICE_CPU ? "the CPU" : "the GPU");
    fflush(stdout);
    if (check) {
        int rc = rn_check(&c, params);
        free(params);
        return rc;
    }

    workload_install_stop();
    events_open();
    rn_backend *b = o.device == WL_DEVICE_CPU ? rn_backend_cpu(&c, params) : rn_backend_gpu(&c, params);
    free(params);
    if (!b) return 1;
    if (c.profile && b->report) {
        float loss;
        for (int i = 0; i < 21; i++) /* one eager, then 20 replays */
            if (b->step(b, 1, &loss) != 0) return 1;
        b->report(b);
    }
    wl_task t = {"images", o.batch, train_step, b};
    wl_summary s;
    int rc = wl_run(&o, &t, &s);
    double flops_per_image = 6.0 * rn_forward_macs(&c.arch); /* forward 2, backward 4 flops a MAC */
    double tflops = s.per_s * flops_per_image / 1e12, peak = o.device == WL_DEVICE_CUDA ? peak_tflops(b->name, o.precision) : 0;
    printf("%s: %ld steps in %.2f s: %.1f images/s, step p50 %.2f ms p99 %.2f ms, loss %.4f -> %.4f\n", prog, s.steps,
           s.seconds, s.per_s, s.step_ms_p50, s.step_ms_p99, s.first_loss, s.last_loss);
    printf("%s: %.1f model TFLOP/s", prog, tflops);
    if (peak > 0) printf(" (%.1f%% of the %s's %.0f dense %s TFLOP/s)", 100 * tflops / peak, b->name, peak, wl_precision_name(o.precision));
    printf(", peak memory %.3f GiB\n", (double)b->peak_bytes / (1 << 30));
    b->destroy(b);
    return rc == 0 ? 0 : 1;
}
