/* cotenant run: scenario -> plan -> segments -> metrics -> report. */
#include <arpa/inet.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/adaptive.h"
#include "analysis/analyze.h"
#include "deploy/deploy.h"
#include "cli/commands.h"
#include "sys/proc.h"
#include "exec/keeper.h"
#include "workload/workload_cmd.h"
#include "exec/runner.h"
#include "host/host.h"
#include "mode/mode.h"
#include "plan/plan.h"
#include "report/report.h"
#include "scenario/kinds.h"
#include "scenario/mode_config.h"
#include "scenario/scenario_default.h"
#include "scenario/scenario_parse.h"
#include "util/fs.h"
#include "util/signal_hold.h"
#include "util/timeutil.h"
#include "exec/config_gpu.h"
#include "gpuset/gpu_policy.h"
#include "host/nvml.h"

typedef struct {
    const char *out, *modes;
    int set_timeslice, set_compute_mode; /* -1: leave the GPU's */
    double duration_s, warmup_s, telemetry_s;
    long repeats, seed;
    int shuffle, plan_only;
    int allow_gpu_settings; /* a sweep may set the driver's timeslice and the compute mode */
    const executor_ops *executor; /* where the workloads run; local by default */
    executor_opts ex;
} run_opts;

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "cotenant run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry: cotenant run --help\n");
    return EXIT_USAGE;
}

static int parse_opts(int argc, char **argv, run_opts *o, const char **scenario_path)
{
    static const struct option longs[] = {
        {"out", required_argument, 0, 'o'},     {"modes", required_argument, 0, 'm'},
        {"duration", required_argument, 0, 'd'}, {"warmup", required_argument, 0, 'w'},
        {"repeats", required_argument, 0, 'r'}, {"shuffle", no_argument, 0, 'S'},
        {"seed", required_argument, 0, 's'},    {"plan", no_argument, 0, 'P'},
        {"quiet", no_argument, 0, 'q'},         {"help", no_argument, 0, 'h'},
        {"telemetry-interval", required_argument, 0, 'T'},
        {"set-timeslice", required_argument, 0, 'L'},     {"set-compute-mode", required_argument, 0, 'C'},
        {"executor", required_argument, 0, 'E'},          {"image", required_argument, 0, 'I'},
        {"namespace", required_argument, 0, 'n'},         {"plugin-namespace", required_argument, 0, 'p'},
        {"node", required_argument, 0, 'N'},              {"allow-gpu-settings", no_argument, 0, 'A'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->duration_s = o->warmup_s = o->telemetry_s = -1;
    o->repeats = o->seed = -1;
    o->set_timeslice = o->set_compute_mode = -1;
    o->executor = executor_default();
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:m:d:w:r:n:qh", longs, NULL)) != -1) {
        const char *why;
        char *end;
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'm': o->modes = optarg; break;
        case 'd':
        case 'w': {
            double v = parse_duration_s(optarg, &why);
            if (v < 0 || (c == 'd' && v < 0.1))
                return usage_error(c == 'd' ? "--duration '%s': expected a duration of at least 0.1 s (30s, 2m, 500ms)"
                                            : "--warmup '%s': expected a duration (30s, 2m, 500ms)", optarg);
            *(c == 'd' ? &o->duration_s : &o->warmup_s) = v;
            break;
        }
        case 'T':
            o->telemetry_s = strcmp(optarg, "off") ? parse_duration_s(optarg, &why) : 0;
            if (o->telemetry_s < 0 || (o->telemetry_s > 0 && o->telemetry_s < SCENARIO_TELEMETRY_MIN_S))
                return usage_error("--telemetry-interval '%s': expected a duration of at least 10ms (100ms, 1s), or off",
                                   optarg);
            break;
        case 'r':
            o->repeats = strtol(optarg, &end, 10);
            if (*end || end == optarg || o->repeats < 1 || o->repeats > SCENARIO_MAX_REPEATS)
                return usage_error("--repeats '%s': expected a whole number from 1 to 100", optarg);
            break;
        case 's':
            o->seed = strtol(optarg, &end, 10);
            if (*end || end == optarg || o->seed < 0) return usage_error("--seed '%s': expected a whole number >= 0", optarg);
            break;
        case 'L':
            if ((o->set_timeslice = gpu_timeslice_parse(optarg)) < 0)
                return usage_error("--set-timeslice '%s': expected default, short, medium or long", optarg);
            break;
        case 'C':
            if ((o->set_compute_mode = gpu_compute_mode_parse(optarg)) < 0)
                return usage_error("--set-compute-mode '%s': expected default or exclusive-process", optarg);
            break;
        case 'E':
            if (!(o->executor = executor_lookup(optarg))) {
                char fmt[160];
                snprintf(fmt, sizeof fmt, "--executor '%%s': expected %s", executor_names());
                return usage_error(fmt, optarg);
            }
            break;
        case 'I': o->ex.image = optarg; break;
        case 'n': o->ex.k8s_namespace = optarg; break;
        case 'p': o->ex.plugin_namespace = optarg; break;
        case 'N': o->ex.node = optarg; break;
        case 'A': o->allow_gpu_settings = 1; break;
        case 'S': o->shuffle = 1; break;
        case 'P': o->plan_only = 1; break;
        case 'q': cot_quiet = 1; break;
        case 'h': fputs(usage_run, stdout); return -1;
        case ':': return usage_error("%s needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc - 1) return usage_error("expected at most one scenario file, got also '%s'", argv[optind + 1]);
    *scenario_path = optind < argc ? argv[optind] : NULL;
    return EXIT_OK;
}

/* --modes: the modes and sweep configurations to run, by name, in that
 * order. A sweep's configuration keeps its settings; a mode the scenario
 * does not list is added. */
static int select_modes(scenario *sc, const char *list, cot_err *err)
{
    char *copy = strdup(list), *save = NULL;
    bool keep[SCENARIO_MAX_MODES] = {false};
    int order[SCENARIO_MAX_MODES], n = 0, rc = 0;
    for (char *m = strtok_r(copy, ",", &save); m && rc == 0; m = strtok_r(NULL, ",", &save)) {
        while (*m == ' ') m++;
        int at = -1;
        for (int i = 0; i < sc->nmodes; i++)
            if (!strcmp(sc->modes[i], m)) at = i;
        const mode_ops *ops = mode_lookup(at >= 0 ? scenario_mode_kind(sc, at) : m);
        if (!ops || (at >= 0 && keep[at]) || n >= SCENARIO_MAX_MODES) {
            rc = cot_errf(err, "--modes: %s '%s'; expected a comma-separated list of: %s, or a configuration of the "
                               "scenario's sweep", at >= 0 && keep[at] ? "repeated mode" : "unknown mode", m,
                          mode_desc_names());
        } else if (sc->device == DEVICE_CPU && !mode_desc_of(ops)->cpu_ok) {
            rc = cot_errf(err, "--modes: mode '%s' needs a GPU, but scenario %s runs CPU workloads", m, sc->name);
        } else if (at < 0) { /* a mode the scenario does not list: added, as listed modes are */
            if (sc->nmodes == SCENARIO_MAX_MODES) rc = cot_errf(err, "--modes: over %d modes", SCENARIO_MAX_MODES);
            else sc->modes[at = sc->nmodes++] = strdup(m);
        }
        if (rc == 0) keep[at] = true, order[n++] = at;
    }
    free(copy);
    if (rc != 0) return -1;
    if (n == 0) return cot_errf(err, "--modes: the list is empty; expected some of: %s", mode_desc_names());
    /* in the order given: those kept move to the front, the rest are dropped */
    char *names[SCENARIO_MAX_MODES];
    mode_config configs[SCENARIO_MAX_MODES];
    for (int k = 0; k < n; k++) names[k] = sc->modes[order[k]], configs[k] = sc->configs[order[k]];
    for (int i = 0; i < sc->nmodes; i++)
        if (!keep[i]) free(sc->modes[i]), scenario_config_free(&sc->configs[i], sc->nworkloads);
    memset(sc->configs, 0, sizeof sc->configs);
    for (int k = 0; k < n; k++) sc->modes[k] = names[k], sc->configs[k] = configs[k];
    sc->nmodes = n;
    return 0;
}

static int apply_overrides(scenario *sc, const run_opts *o, cot_err *err)
{
    if (o->duration_s >= 0) sc->duration_s = o->duration_s;
    if (o->warmup_s >= 0) sc->warmup_s = o->warmup_s;
    if (o->telemetry_s >= 0) sc->telemetry_interval_s = o->telemetry_s;
    if (o->repeats > 0) sc->repeats = (int)o->repeats, sc->adaptive = false; /* a number asked for: fixed */
    if (o->seed >= 0) sc->seed = (uint64_t)o->seed;
    if (o->shuffle) sc->shuffle = true;
    return o->modes ? select_modes(sc, o->modes, err) : 0;
}

/* Every mode's check; failures drop the mode from the built-in default (which
 * the user did not choose) and stop a scenario the user wrote. In
 * containers, also whether the executor runs the mode; where the GPU is
 * not this host's (a k8s node's), this host's is not checked. */
static int check_modes(scenario *sc, const host_info *host, const run_opts *o, json_t *skipped, cot_err *err)
{
    const executor_ops *ex = o->executor;
    for (int i = 0; i < sc->nmodes; i++) {
        cot_err why;
        if (scenario_config_changes_gpu(sc, i) && !o->allow_gpu_settings && !o->plan_only)
            return cot_errf(err, "configuration %s sets the %s, a setting of the whole GPU that every process on it "
                                 "shares: run with --allow-gpu-settings to let cotenant set it for that configuration's "
                                 "segments and put it back after (--plan shows each change), or drop that axis",
                            sc->modes[i], sc->configs[i].timeslice_set ? "driver's timeslice" : "compute mode");
        const mode_ops *ops = mode_lookup(scenario_mode_kind(sc, i));
        const char *no = ex->via_agent ? deploy_mode_unsupported(sc, scenario_mode_kind(sc, i), ex->runs_cpu) : NULL;
        if (!no && ex->via_agent && scenario_mode_is_config(sc, i))
            no = "a sweep's configurations run with the local executor (containers get a mode's settings from the "
                 "scenario's workloads, not from a sweep)";
        if (no) cot_errf(&why, "the %s executor does not run it: %s", ex->name, no);
        /* in containers, the MPS daemon is in the image */
        else if (!ex->same_host || (ex->via_agent && mode_desc_of(ops)->mps_clients)) continue;
        scenario view; /* a configuration is checked with its settings: a MIG layout by the planner */
        scenario_config_view(sc, i, &view);
        if (!no && ops->check(&view, host, &why) == 0) continue;
        if (!sc->builtin_default)
            return cot_errf(err, "mode %s cannot run here: %s", sc->modes[i], why.msg);
        cot_warn("mode %s left out of the built-in default: %s", sc->modes[i], why.msg);
        json_array_append_new(skipped, json_pack("{s:s, s:s}", "mode", sc->modes[i], "reason", why.msg));
        scenario_drop_mode(sc, i);
        i--;
    }
    if (sc->nmodes == 0) return cot_errf(err, "no mode of the scenario can run here");
    return 0;
}

/* --set-timeslice / --set-compute-mode: changed for the whole run, the
 * values before saved in the results folder and put back after it (the
 * runner returns on SIGINT and SIGTERM too). */
static int set_gpu_policy(const run_opts *o, const scenario *sc, const host_info *host, const char *state,
                          run_request *req)
{
    if (o->set_timeslice < 0 && o->set_compute_mode < 0) return 0;
    cot_err err;
    if (sc->device != DEVICE_GPU || !host->gpu_found) {
        fprintf(stderr, "cotenant: --set-timeslice and --set-compute-mode need a GPU scenario on a GPU\n");
        return -1;
    }
    gpu_policy before;
    gpu_policy_change c = {o->set_compute_mode, o->set_timeslice};
    if (gpu_policy_read(host->gpu_index, &before, &err) != 0 ||
        gpu_policy_apply(host->gpu_index, &c, state, 0, NULL, &err) != 0) {
        fprintf(stderr, "cotenant: cannot change the GPU's settings for the run: %s\n", err.msg);
        return -1;
    }
    char set[128], was[128];
    snprintf(set, sizeof set, "compute mode %s, timeslice %s",
             nvml_compute_mode_name(c.compute_mode >= 0 ? c.compute_mode : before.compute_mode),
             gpu_timeslice_name(c.timeslice >= 0 ? c.timeslice : before.timeslice));
    snprintf(was, sizeof was, "compute mode %s, timeslice %s", nvml_compute_mode_name(before.compute_mode),
             gpu_timeslice_name(before.timeslice));
    cot_info("GPU settings for this run: %s (before: %s, saved in %s)", set, was, state);
    req->gpu_settings = json_pack("{s:s, s:s, s:s}", "set", set, "before", was, "saved_in", state);
    return 0;
}

static int check_workload_programs(const scenario *sc, cot_err *err)
{
    for (int i = 0; i < sc->nworkloads; i++) {
        const workload_spec *w = &sc->workloads[i];
        char exe[PATH_MAX];
        const char *prog = w->kind ? kind_lookup(w->kind)->executable : w->command[0];
        if (proc_find_executable(prog, exe, sizeof exe) == 0) continue;
        char at[PATH_MAX + 32] = "";
        if (w->program_line) snprintf(at, sizeof at, "%s:%d:%d: ", sc->source, w->program_line, w->program_col);
        if (w->kind)
            return cot_errf(err, "%sworkload %s: the program %s of kind %s was not found next to cotenant or on PATH%s", at,
                            w->name, prog, w->kind,
                            !strcmp(w->kind, "gpu-gemm") ? " (it is built only where CUDA's nvcc is found)" : "");
        char why[PATH_MAX + 96];
        if (strchr(prog, '/')) {
            proc_why_not_executable(prog, why, sizeof why);
            return cot_errf(err, "%sworkload %s: command '%s' %s", at, w->name, prog, why);
        }
        return cot_errf(err, "%sworkload %s: command '%s' was not found on PATH (give a path to run one elsewhere)", at,
                        w->name, prog);
    }
    return 0;
}

/* A server's own --listen: kept (workload_user_listen), so it must be one
 * that cotenant can wait on at 127.0.0.1:PORT; beyond loopback, a warning. */
static int check_server_listen(const scenario *sc, cot_err *err)
{
    for (int i = 0; i < sc->nworkloads; i++) {
        const workload_spec *w = &sc->workloads[i];
        uint32_t addr_be;
        int port;
        char why[256], at[PATH_MAX + 32] = "";
        if (scenario_driver_of(sc, i) < 0) continue;
        if (w->args_line) snprintf(at, sizeof at, "%s:%d:%d: ", sc->source, w->args_line, w->args_col);
        int rc = workload_user_listen(w, &addr_be, &port, why, sizeof why);
        if (rc == 0) continue;
        if (rc < 0) return cot_errf(err, "%sworkload %s: %s", at, w->name, why);
        uint32_t a = ntohl(addr_be);
        if (port == 0)
            return cot_errf(err, "%sworkload %s: --listen with port 0 lets the server choose a port cotenant cannot know; "
                            "give a port, or leave --listen out and cotenant picks a free one", at, w->name);
        if (a >> 24 == 127) continue;
        if (a != 0)
            return cot_errf(err, "%sworkload %s: --listen %u.%u.%u.%u:%d is not reachable on 127.0.0.1, where cotenant waits for "
                            "the server and sends its load; listen on 127.0.0.1 or 0.0.0.0", at, w->name, a >> 24,
                            (a >> 16) & 255, (a >> 8) & 255, a & 255, port);
        cot_warn("%sworkload %s listens on 0.0.0.0:%d, every interface: anyone who can reach this machine can send it "
                 "requests during the run; cotenant waits for it on 127.0.0.1:%d", at, w->name, port, port);
    }
    return 0;
}

/* Adaptive repeats: the results so far analysed, and the decision. */
typedef struct {
    const scenario *sc;
    const char *out;
} adaptive_ctx;

static bool after_repeat(void *arg, int repeat, bool *active, char (*why)[160], char *stop_why, size_t cap)
{
    adaptive_ctx *c = arg;
    cot_err err;
    char path[PATH_MAX];
    json_t *metrics = NULL;
    if (analyze_run_so_far(c->out, &err) != 0 || fs_path_join(path, sizeof path, c->out, "metrics.json", &err) != 0 ||
        !(metrics = fs_read_json_file(path, 256 << 20, &err))) {
        cot_warn("adaptive repeats: the results so far could not be analysed (%s); the run goes on to its cap", err.msg);
        return false;
    }
    bool stop = adaptive_decide(metrics, c->sc, repeat, active, why, stop_why, cap);
    json_decref(metrics);
    return stop;
}

static void print_plan(const scenario *sc, const host_info *host)
{
    plan p;
    if (plan_build(sc, &p) != 0) return;
    printf("Plan for %s: %d segment%s, each about %gs warm-up + %gs measured after the workloads start\n", sc->name, p.n,
           p.n == 1 ? "" : "s", sc->warmup_s, sc->duration_s);
    for (int i = 0; i < p.n; i++) printf("  %s\n", p.segs[i].id);
    plan_free(&p);
    for (int m = 0; m < sc->nmodes; m++) { /* what each sweep configuration sets */
        json_t *set = scenario_config_settings(sc, m), *ws;
        if (!set) continue;
        printf("%s: mode %s;", sc->modes[m], scenario_mode_kind(sc, m));
        const char *w, *sep = " ";
        json_object_foreach(set, w, ws) {
            json_t *pct = json_object_get(ws, "active_thread_percentage"), *mem = json_object_get(ws, "pinned_memory_limit");
            printf("%s%s", sep, w);
            if (pct) printf(" %lld%% of the SMs", (long long)json_integer_value(pct));
            if (mem) printf("%s %s pinned", pct ? "," : "", json_string_value(mem));
            json_t *cpu = json_object_get(ws, "cpu_percentage"), *nice = json_object_get(ws, "nice");
            if (cpu) printf("%s %lld%% of the CPUs", pct || mem ? "," : "", (long long)json_integer_value(cpu));
            if (nice) printf("%s nice %lld", pct || mem || cpu ? "," : "", (long long)json_integer_value(nice));
            json_t *mig = json_object_get(ws, "mig_profile");
            if (mig) printf("%s a MIG instance %s", pct || mem || cpu || nice ? "," : "", json_string_value(mig));
            sep = "; ";
        }
        printf("\n");
        json_decref(set);
        fflush(stdout);
        config_gpu_plan(sc, m, host, stdout);
    }
}

int cmd_run(int argc, char **argv)
{
    run_opts o;
    const char *path;
    int rc = parse_opts(argc, argv, &o, &path);
    if (rc != EXIT_OK) return rc < 0 ? EXIT_OK : rc;

    scenario sc;
    host_info host;
    cot_err err;
    char *text = NULL;
    size_t len = 0;
    if (path) {
        if (fs_read_file_limited(path, SCENARIO_MAX_BYTES, &text, &len, &err) != 0 ||
            scenario_parse_buffer(path, text, len, &sc, &err) != 0) {
            fprintf(stderr, "cotenant: %s\n", err.msg);
            free(text);
            return EXIT_USAGE;
        }
        host_probe(&host, sc.device == DEVICE_GPU ? sc.gpu : NULL);
    } else {
        host_probe(&host, "0");
        scenario_builtin_default(&host, &sc);
        if (sc.device == DEVICE_CPU)
            cot_info("no NVIDIA GPU here (%s), so this runs the built-in CPU default: CPU workloads contending for "
                     "cores, to show the whole pipeline; its report says nothing about GPU sharing.", host.gpu_why);
        else
            cot_info("running the built-in GPU default on %s (%s)", host.gpu_name, host.gpu_uuid);
    }
    json_t *skipped = json_array();
    if (apply_overrides(&sc, &o, &err) != 0 || check_modes(&sc, &host, &o, skipped, &err) != 0 ||
        (!o.executor->via_agent && check_workload_programs(&sc, &err) != 0) || check_server_listen(&sc, &err) != 0) {
        fprintf(stderr, "cotenant: %s\n", err.msg);
        rc = EXIT_USAGE;
        goto out;
    }
    /* after the checks: only modes that can run are compared */
    scenario_add_baseline(&sc);
    if (o.plan_only) {
        print_plan(&sc, &host);
        goto out;
    }
    char out[PATH_MAX];
    if (o.out) {
        snprintf(out, sizeof out, "%s", o.out);
    } else {
        char stamp[32];
        wall_time_compact(stamp, sizeof stamp);
        snprintf(out, sizeof out, "results/%s-%s", sc.name, stamp);
    }
    if (!fs_dir_is_empty_or_missing(out)) {
        fprintf(stderr, "cotenant: results folder %s exists and is not empty; choose another --out (nothing was written)\n", out);
        rc = EXIT_USAGE;
        goto out;
    }
    if (fs_mkdir_p(out, &err) != 0) {
        fprintf(stderr, "cotenant: %s\n", err.msg);
        rc = EXIT_USAGE;
        goto out;
    }
    json_t *cmdline = json_array();
    for (int i = 0; i < argc; i++) json_array_append_new(cmdline, json_string(argv[i]));
    adaptive_ctx actx = {&sc, out};
    run_request req = {.sc = &sc, .host = &host, .out_dir = out, .command_line = cmdline, .skipped_modes = skipped,
                       .scenario_text = text, .scenario_len = len, .progress = !cot_quiet,
                       .after_repeat = sc.adaptive ? after_repeat : NULL, .after_arg = &actx};
    if (!(req.ex = o.executor->open(&o.ex, out, &err))) {
        fprintf(stderr, "cotenant: %s\n", err.msg);
        json_decref(cmdline);
        rc = EXIT_USAGE;
        goto out;
    }
    /* a container executor is named; a local run needs no word */
    cot_info("results go to %s%s%s", out, o.executor->via_agent ? ", workloads run by executor " : "",
             o.executor->via_agent ? o.executor->name : "");
    char policy_state[PATH_MAX + 32];
    snprintf(policy_state, sizeof policy_state, "%s/gpu-settings-before.json", out);
    if (set_gpu_policy(&o, &sc, &host, policy_state, &req) != 0) {
        json_decref(cmdline);
        rc = EXIT_RUN_FAILED;
        goto out;
    }
    cot_err ke;
    if (keeper_start(&ke) != 0)
        cot_warn("%s: should cotenant itself be killed, processes its workloads started in sessions of their own "
                 "may outlive it", ke.msg);
    rc = runner_run(&req, &err);
    signal_hold_start(); /* from here on, the settings are restored and the files finished first */
    keeper_release();
    executor_close(req.ex);
    if (req.gpu_settings) {
        cot_err e2;
        if (gpu_policy_restore(host.gpu_index, policy_state, 0, NULL, &e2) == -1)
            cot_warn("%s; cotenant mode restore --state %s tries again", e2.msg, policy_state);
        json_decref(req.gpu_settings);
    }
    json_decref(cmdline);
    if (rc < 0) {
        fprintf(stderr, "cotenant: %s\n", err.msg);
        rc = EXIT_RUN_FAILED;
    }
    if (analyze_run(out, &err) != 0 || report_run(out, &err) != 0) {
        fprintf(stderr, "cotenant: %s\n", err.msg);
        rc = EXIT_RUN_FAILED;
    } else {
        cot_info("report: %s/report.md", out);
    }
    if (signal_hold_count()) {
        cot_warn("interrupted after the measuring: GPU settings were restored and the analysis and report finished "
                 "before stopping");
        rc = EXIT_RUN_FAILED;
    }
out:
    json_decref(skipped);
    free(text);
    scenario_free(&sc);
    return rc;
}
