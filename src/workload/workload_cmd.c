#include "workload/workload_cmd.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "sys/proc.h"
#include "net/listen_addr.h"
#include "scenario/kinds.h"

/* The arguments cotenant adds for a server and the built-in load generator
 * driving it, before the workload's own. */
int workload_user_listen(const workload_spec *w, uint32_t *addr_be, int *port, char *why, size_t cap)
{
    const char *value = NULL;
    for (int i = 0; i < w->nargs; i++) {
        if (!strcmp(w->args[i], "--listen") && i + 1 < w->nargs) value = w->args[i + 1];
        else if (!strncmp(w->args[i], "--listen=", 9)) value = w->args[i] + 9;
    }
    if (!value) return 0;
    return net_parse_listen("--listen", value, addr_be, port, why, cap) == 0 ? 1 : -1;
}

static void served_args(const workload_spec *w, const workload_addr *a, strvec *argv)
{
    char text[64];
    uint32_t addr;
    int port;
    char why[160];
    if (a->listen_port > 0 && workload_user_listen(w, &addr, &port, why, sizeof why) == 0) {
        snprintf(text, sizeof text, "127.0.0.1:%d", a->listen_port);
        strvec_push(argv, "--listen");
        strvec_push(argv, text);
    }
    if (a->target_port > 0 && w->kind && !strcmp(w->kind, "loadgen")) {
        snprintf(text, sizeof text, "http://127.0.0.1:%d", a->target_port);
        const char *fixed[] = {"--url", text, "--model", a->target_model, "--duration", "0", "--warmup", "0"};
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) strvec_push(argv, fixed[i]);
    }
}

int workload_argv(const workload_spec *w, const workload_addr *a, strvec *argv, cot_err *err)
{
    if (w->kind) {
        const builtin_kind *k = kind_lookup(w->kind);
        char exe[PATH_MAX];
        if (!k) return cot_errf(err, "unknown kind %s", w->kind);
        if (!a->resolve) {
            strvec_push(argv, k->executable);
        } else if (proc_find_executable(k->executable, exe, sizeof exe) != 0) {
            return cot_errf(err, "the built-in workload program %s (kind %s) was not found next to cotenant or on PATH",
                            k->executable, k->name);
        } else {
            strvec_push(argv, exe);
        }
        for (int i = 0; k->args[i]; i++) strvec_push(argv, k->args[i]);
    } else {
        for (int i = 0; w->command[i]; i++) strvec_push(argv, w->command[i]);
    }
    served_args(w, a, argv);
    for (int i = 0; i < w->nargs; i++) strvec_push(argv, w->args[i]);
    return argv->v ? 0 : cot_errf(err, "out of memory");
}

void workload_segment_tag(const char *run_id, const char *segment, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", run_id, segment);
}

/* Seeded from the scenario's seed and the repeat, so that a workload alone
 * and shared within one repeat sees the same arrivals (a paired
 * comparison) and repeats differ. */
uint64_t workload_seed(uint64_t scenario_seed, int repeat)
{
    uint64_t z = scenario_seed + 0x9E3779B97F4A7C15ull * (uint64_t)repeat;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (z ^ (z >> 31)) & 0x7fffffffffffffffull; /* a --seed takes it */
}

int workload_env(const scenario *sc, const workload_spec *w, const char *mode, int repeat, const workload_addr *a,
                 strvec *env)
{
    int rc = 0;
    for (int i = 0; i < w->nenv; i++) rc |= strvec_setenv(env, w->env[i].key, w->env[i].value);
    rc |= strvec_setenv(env, "COTENANT_WORKLOAD", w->name);
    rc |= strvec_setenv(env, "COTENANT_MODE", mode);
    char seed_text[24];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)workload_seed(sc->seed, repeat));
    rc |= strvec_setenv(env, "COTENANT_SEED", seed_text);
    if (a->target_port > 0) {
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d", a->target_port);
        rc |= strvec_setenv(env, "COTENANT_TARGET_URL", url);
        rc |= strvec_setenv(env, "COTENANT_TARGET_MODEL", a->target_model);
    }
    return rc ? -1 : 0;
}
