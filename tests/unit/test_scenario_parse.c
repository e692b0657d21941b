/* Scenario parser: valid input, and each kind of invalid input with its line:column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "exec/cpu_share.h"
#include "gpuset/gpu_policy.h"
#include "host/nvml.h"
#include "plan/plan.h"
#include "scenario/kinds.h"
#include "scenario/mode_config.h"
#include "scenario/scenario_default.h"
#include "scenario/scenario_parse.h"

static void expect_error(const char *yaml, const char *where, const char *what)
{
    scenario sc;
    cot_err err;
    int rc = scenario_parse_buffer("s.yaml", yaml, strlen(yaml), &sc, &err);
    assert_int_equal(rc, -1);
    if (!strstr(err.msg, where) || !strstr(err.msg, what)) fail_msg("got: %s", err.msg);
}

static void valid(void **state)
{
    (void)state;
    const char *y = "name: t\nmodes: [timeslice, mps]\nduration: 2m\nwarmup: 500ms\nrepeats: 4\nshuffle: true\n"
                    "workloads:\n  - name: a\n    kind: gpu-gemm\n    slo: 20ms\n    mps: {active_thread_percentage: 50, pinned_memory_limit: 8G}\n"
                    "  - name: b\n    command: [python3, x.py]\n    env: {A: \"1\"}\n    measure: wall_time\n";
    scenario sc;
    cot_err err;
    assert_int_equal(scenario_parse_buffer("s.yaml", y, strlen(y), &sc, &err), 0);
    assert_string_equal(sc.name, "t");
    assert_int_equal(sc.nmodes, 2);
    assert_true(sc.duration_s == 120 && sc.warmup_s == 0.5 && sc.repeats == 4 && sc.shuffle);
    assert_int_equal(sc.nworkloads, 2);
    assert_true(sc.workloads[0].slo_ms == 20);
    assert_int_equal(sc.workloads[0].mps_active_thread_pct, 50);
    assert_string_equal(sc.workloads[1].command[1], "x.py");
    assert_int_equal(sc.workloads[1].measure, MEASURE_WALL_TIME);
    assert_true(sc.telemetry_interval_s == 0.1); /* the default */
    scenario_free(&sc);

    const char *t = "telemetry_interval: 20ms\nworkloads:\n  - {name: a, kind: gpu-gemm}\n";
    assert_int_equal(scenario_parse_buffer("s.yaml", t, strlen(t), &sc, &err), 0);
    assert_true(sc.telemetry_interval_s == 0.02);
    /* through run.json and back, as `cotenant analyze` reads it */
    json_t *j = scenario_to_json(&sc);
    scenario back;
    char why[128];
    assert_int_equal(scenario_from_json(j, &back, why, sizeof why), 0);
    assert_true(back.telemetry_interval_s == 0.02);
    json_decref(j);
    scenario_free(&back);
    scenario_free(&sc);
    t = "telemetry_interval: off\nworkloads:\n  - {name: a, kind: gpu-gemm}\n";
    assert_int_equal(scenario_parse_buffer("s.yaml", t, strlen(t), &sc, &err), 0);
    assert_true(sc.telemetry_interval_s == 0);
    scenario_free(&sc);
}

static void invalid(void **state)
{
    (void)state;
    expect_error("name: t\nduraton: 3s\nworkloads: []\n", "s.yaml:2:1:", "unknown key 'duraton'");
    expect_error("workloads:\n  - name: a\n    kind: nope\n", "s.yaml:3:11:", "unknown kind 'nope'");
    expect_error("workloads:\n  - name: a\n", "s.yaml:2:5:", "exactly one of 'kind'");
    expect_error("duration: fast\nworkloads:\n  - {name: a, kind: cpu-compute}\n", "s.yaml:1:11:", "duration");
    expect_error("repeats: 0\nworkloads:\n  - {name: a, kind: cpu-compute}\n", "s.yaml:1:10:", "between 1 and 100");
    expect_error("modes: [fast]\nworkloads:\n  - {name: a, kind: cpu-compute}\n", "s.yaml:1:9:", "unknown mode 'fast'");
    expect_error("workloads:\n  - {name: a, command: python3 x.py}\n", "s.yaml:2:24:", "must be a list");
    expect_error("workloads:\n  - {name: a, kind: cpu-compute}\n  - {name: a, kind: cpu-compute}\n", "s.yaml:3:5:", "used twice");
    expect_error("name: [x\n", "s.yaml:", "invalid YAML");
    expect_error("name: t\n", "s.yaml:1:1:", "no 'workloads'");
    expect_error("device: cpu\nworkloads:\n  - {name: a, kind: gpu-gemm}\n", "s.yaml:", "GPU workload");
    expect_error("workloads:\n  - name: a\n    kind: cpu-compute\n    env: {CUDA_VISIBLE_DEVICES: \"1\"}\n", "s.yaml:4:11:", "set by cotenant");
    expect_error("telemetry_interval: 5ms\nworkloads:\n  - {name: a, kind: cpu-compute}\n", "s.yaml:1:21:", "at least 0.01s");
    /* a load generator and the server it drives */
    expect_error("workloads:\n  - {name: c, kind: loadgen}\n", "s.yaml:2:5:", "needs 'target'");
    expect_error("workloads:\n  - {name: s, kind: serve-cpu}\n", "s.yaml:2:5:", "driven by nothing");
    expect_error("workloads:\n  - {name: c, kind: loadgen, target: x}\n", "s.yaml:2:5:", "not another workload");
    expect_error("workloads:\n  - {name: b, kind: cpu-compute}\n  - {name: c, kind: loadgen, target: b}\n", "s.yaml:3:5:",
                 "not a server");
    expect_error("workloads:\n  - {name: s, kind: serve-cpu}\n  - {name: c, kind: loadgen, target: s}\n"
                 "  - {name: d, kind: loadgen, target: s}\n", "s.yaml:4:5:", "both 'c' and 'd'");
    expect_error("telemetry_interval: often\nworkloads:\n  - {name: a, kind: cpu-compute}\n", "s.yaml:1:21:", "or off");
}

/* Servers are not plan units: each runs with its load generator, first. */
static void served_plan(void **state)
{
    (void)state;
    const char *y = "device: cpu\nrepeats: 1\nmodes: [timeslice]\nworkloads:\n  - {name: s, kind: serve-cpu}\n"
                    "  - {name: c, kind: loadgen, target: s}\n  - {name: b, kind: cpu-compute}\n";
    scenario sc;
    cot_err err;
    assert_int_equal(scenario_parse_buffer("s.yaml", y, strlen(y), &sc, &err), 0);
    assert_int_equal(scenario_units(&sc), 2);
    assert_int_equal(scenario_target_of(&sc, 1), 0);
    assert_int_equal(scenario_driver_of(&sc, 0), 1);
    plan p;
    assert_int_equal(plan_build(&sc, &p), 0);
    assert_int_equal(p.n, 3); /* c alone, b alone, shared */
    int idx[SCENARIO_MAX_WORKLOADS];
    assert_int_equal(p.segs[0].workload, 1);
    assert_int_equal(plan_segment_workloads(&sc, &p.segs[0], idx), 2);
    assert_int_equal(idx[0], 0); /* the server first */
    assert_int_equal(idx[1], 1);
    assert_int_equal(plan_segment_workloads(&sc, &p.segs[1], idx), 1);
    assert_int_equal(idx[0], 2);
    assert_int_equal(plan_segment_workloads(&sc, &p.segs[2], idx), 3);
    assert_int_equal(idx[0], 0);
    plan_free(&p);
    /* a server and its load generator alone: nothing shares, so no shared segment */
    scenario_free(&sc);
    y = "device: cpu\nrepeats: 1\nmodes: [timeslice]\nworkloads:\n  - {name: s, kind: serve-cpu}\n  - {name: c, kind: loadgen, target: s}\n";
    assert_int_equal(scenario_parse_buffer("s.yaml", y, strlen(y), &sc, &err), 0);
    assert_int_equal(plan_build(&sc, &p), 0);
    assert_int_equal(p.n, 1);
    plan_free(&p);
    scenario_free(&sc);
}

static void file_fixture(void **state)
{
    (void)state;
    scenario sc;
    cot_err err;
    assert_int_equal(scenario_parse_file(SOURCE_DIR "/scenarios/cpu-demo.yaml", &sc, &err), 0);
    assert_int_equal(sc.device, DEVICE_CPU);
    scenario_free(&sc);
    assert_int_equal(scenario_parse_file(SOURCE_DIR "/tests/missing.yaml", &sc, &err), -1);
    assert_non_null(strstr(err.msg, "missing.yaml"));
    /* every scenario shipped parses */
    DIR *d = opendir(SOURCE_DIR "/scenarios");
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml")) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/scenarios/%s", SOURCE_DIR, e->d_name);
        if (scenario_parse_file(path, &sc, &err) != 0) fail_msg("%s", err.msg);
        scenario_free(&sc);
        n++;
    }
    closedir(d);
    assert_true(n >= 7);
}

/* Both built-in defaults name only kinds that exist, for the device they
 * run on; the GPU one compares time slicing with MPS. */
static void builtin_defaults(void **state)
{
    (void)state;
    for (int gpu = 0; gpu <= 1; gpu++) {
        host_info h;
        memset(&h, 0, sizeof h);
        h.gpu_found = gpu;
        scenario sc;
        scenario_builtin_default(&h, &sc);
        assert_true(sc.builtin_default);
        assert_int_equal(sc.device, gpu ? DEVICE_GPU : DEVICE_CPU);
        assert_true(sc.nworkloads >= 2);
        for (int i = 0; i < sc.nworkloads; i++) {
            const builtin_kind *k = kind_lookup(sc.workloads[i].kind);
            if (!k) fail_msg("default workload '%s' has unknown kind '%s'", sc.workloads[i].name, sc.workloads[i].kind);
            assert_int_equal(k->device, sc.device);
        }
        if (gpu) {
            assert_int_equal(sc.nmodes, 2);
            assert_string_equal(sc.modes[0], "timeslice");
            assert_string_equal(sc.modes[1], "mps");
            assert_string_equal(sc.workloads[0].kind, "train-resnet50");
        }
        scenario_free(&sc);
    }
}

/* A run that compares modes measures the whole-GPU baseline too: added
 * after the modes named (so their segments keep their places), once, and
 * only where two or more modes, one of them sharing, are compared. */
static void common_baseline(void **state)
{
    (void)state;
    static const struct {
        const char *in[3];
        int n;
        const char *added; /* NULL: none */
    } cases[] = {{{"timeslice", "mps"}, 2, "exclusive"}, {{"timeslice"}, 1, NULL}, {{"exclusive", "timeslice"}, 2, NULL},
                 {{"mps", "exclusive", "timeslice"}, 3, NULL}, {{"mig", "mig-emulated"}, 2, "exclusive"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        scenario sc;
        scenario_init_defaults(&sc);
        for (int i = 0; i < cases[c].n; i++) sc.modes[sc.nmodes++] = strdup(cases[c].in[i]);
        scenario_add_baseline(&sc);
        assert_int_equal(sc.nmodes, cases[c].n + (cases[c].added != NULL));
        assert_int_equal(sc.baseline_added, cases[c].added != NULL);
        if (cases[c].added) assert_string_equal(sc.modes[sc.nmodes - 1], cases[c].added);
        scenario_add_baseline(&sc); /* twice: still once */
        assert_int_equal(sc.nmodes, cases[c].n + (cases[c].added != NULL));
        scenario_free(&sc);
    }
    /* own_baselines: false: the sharing modes' segments are their shared
     * runs alone, while the baseline keeps its alone runs; without a
     * baseline there is nothing else to compare with, so they keep theirs */
    const char *y = "modes: [timeslice, mps]\nown_baselines: false\n"
                    "workloads:\n  - {name: a, kind: gpu-gemm}\n  - {name: b, kind: gpu-gemm}\n";
    scenario sc;
    cot_err err;
    assert_int_equal(scenario_parse_buffer("s.yaml", y, strlen(y), &sc, &err), 0);
    plan p;
    sc.repeats = 1;
    assert_true(plan_mode_runs_alone(&sc, 0));
    assert_int_equal(plan_build(&sc, &p), 0);
    assert_int_equal(p.n, 6); /* no baseline yet: each mode's two alone runs and its shared run */
    plan_free(&p);
    scenario_add_baseline(&sc);
    assert_false(plan_mode_runs_alone(&sc, 0));
    assert_true(plan_mode_runs_alone(&sc, 2));
    assert_int_equal(plan_build(&sc, &p), 0);
    assert_int_equal(p.n, 4); /* exclusive's two alone runs, one shared run per sharing mode */
    for (int i = 0; i < p.n; i++) assert_true(p.segs[i].kind == SEG_SHARED || p.segs[i].mode == 2);
    plan_free(&p);
    json_t *j = scenario_to_json(&sc);
    scenario back;
    scenario_init_defaults(&back);
    char why[256];
    assert_int_equal(scenario_from_json(j, &back, why, sizeof why), 0);
    assert_true(back.common_baseline_only);
    json_decref(j);
    scenario_free(&back);
    scenario_free(&sc);
    expect_error("own_baselines: sometimes\nworkloads:\n  - {name: a, kind: gpu-gemm}\n", "s.yaml:1:16:", "true or false");
}

/* A sweep: the cross product of its axes, as configurations of the mode
 * named after their values, after the modes listed; each carries its
 * settings, which the runner's view applies to the workloads, and which
 * run.json's scenario gives back. */
static void sweep_configurations(void **state)
{
    (void)state;
    const char *y = "modes: [timeslice]\n"
                    "workloads:\n  - {name: a, kind: gpu-gemm, mps: {active_thread_percentage: 90}}\n"
                    "  - {name: b, kind: gpu-gemm}\n  - {name: c, kind: gpu-gemm}\n"
                    "sweep:\n  mps:\n    active_thread_percentage:\n      - {a: 30, b: 70}\n      - {b: 50}\n"
                    "    pinned_memory_limit: [{a: 8G, c: 4G}]\n";
    scenario sc;
    cot_err err;
    assert_int_equal(scenario_parse_buffer("s.yaml", y, strlen(y), &sc, &err), 0);
    assert_int_equal(sc.nmodes, 3);
    assert_string_equal(sc.modes[0], "timeslice");
    assert_false(scenario_mode_is_config(&sc, 0));
    assert_string_equal(scenario_mode_kind(&sc, 0), "timeslice");
    assert_string_equal(sc.modes[1], "mps.t30-70.m8G-4G");
    assert_string_equal(sc.modes[2], "mps.t50.m8G-4G");
    assert_string_equal(scenario_mode_kind(&sc, 2), "mps");
    scenario v;
    scenario_config_view(&sc, 2, &v);
    assert_int_equal(v.workloads[0].mps_active_thread_pct, 90); /* left out of the point: its own */
    assert_int_equal(v.workloads[1].mps_active_thread_pct, 50);
    assert_string_equal(v.workloads[2].mps_pinned_mem_limit, "4G");
    assert_int_equal(sc.workloads[1].mps_active_thread_pct, 0); /* the scenario itself is unchanged */
    scenario_add_baseline(&sc);
    assert_string_equal(sc.modes[3], "exclusive");
    /* through run.json and back */
    json_t *j = scenario_to_json(&sc);
    scenario back;
    scenario_init_defaults(&back);
    char why[256];
    assert_int_equal(scenario_from_json(j, &back, why, sizeof why), 0);
    assert_int_equal(back.nmodes, 4);
    assert_string_equal(scenario_mode_kind(&back, 1), "mps");
    assert_int_equal(back.configs[1].mps_pct[0], 30);
    assert_string_equal(back.configs[1].mps_mem[2], "4G");
    assert_string_equal(back.configs[1].axes, "active_thread_percentage,pinned_memory_limit");
    assert_false(scenario_mode_is_config(&back, 3));
    json_t *set = scenario_config_settings(&back, 1), *want = json_loads(
        "{\"a\": {\"active_thread_percentage\": 30, \"pinned_memory_limit\": \"8G\"}, \"b\": "
        "{\"active_thread_percentage\": 70}, \"c\": {\"pinned_memory_limit\": \"4G\"}}", 0, NULL);
    assert_true(json_equal(set, want));
    json_decref(set), json_decref(want), json_decref(j);
    scenario_free(&back);
    /* dropping a configuration moves the ones after it */
    scenario_drop_mode(&sc, 1);
    assert_int_equal(sc.nmodes, 3);
    assert_string_equal(sc.modes[1], "mps.t50.m8G-4G");
    assert_int_equal(sc.configs[1].mps_pct[1], 50);
    assert_null(sc.configs[3].kind);
    scenario_free(&sc);

    /* each error at its point's file:line:column */
    static const struct {
        const char *tail, *where, *what;
    } errors[] = {
        {"sweep:\n  mps:\n    active_thread_percentage: [{a: 30, z: 70}]\n", "s.yaml:6:40:", "'z' is not a workload"},
        {"sweep:\n  mps:\n    active_thread_percentage: [{a: 30}, {a: 30}]\n", "s.yaml:6:31:", "comes twice"},
        {"sweep:\n  mps:\n    active_thread_percentage: [{a: 130}]\n", "s.yaml:6:36:", "between 1 and 100"},
        {"sweep:\n  mps:\n    pinned_memory_limit: [{a: lots}]\n", "s.yaml:6:31:", "such as 512M or 8G"},
        {"sweep:\n  mps:\n    threads: [{a: 1}]\n", "s.yaml:6:5:", "unknown axis 'threads'"},
        {"sweep:\n  exclusive: {layout: [x]}\n", "s.yaml:5:3:", "sweeps over mode 'exclusive' are not supported"},
        {"sweep:\n  mig: {layout: [x]}\n", "s.yaml:5:18:", "a point of 'layout' must be a mapping"},
        {"sweep:\n  mig: {layout: [{a: 3g.40gb, b: big}]}\n", "s.yaml:5:34:", "expected a MIG profile name"},
        {"sweep:\n  timeslice: {driver_timeslice: [short, often]}\n", "s.yaml:5:41:", "expected default, short, medium or long"},
        {"sweep:\n  timeslice: {driver_timeslice: [short, 1]}\n", "s.yaml:5:41:", "lists 1 twice"},
        {"sweep:\n  timeslice: {driver_timeslice: [{a: short}]}\n", "s.yaml:5:34:", "a short scalar"},
        {"sweep:\n  mps: {compute_mode: [prohibited]}\n", "s.yaml:5:24:", "under prohibited nothing runs"},
        {"sweep:\n  mps: {compute_mode: default}\n", "s.yaml:5:23:", "a list of values for the whole GPU"},
        {"sweep:\n  mps:\n    active_thread_percentage: []\n", "s.yaml:6:31:", "1 to 16 points"},
        {"sweep:\n  mps:\n    active_thread_percentage: [{a: 30, a: 40}]\n", "s.yaml:6:40:", "appears twice"},
        {"sweep: [mps]\n", "s.yaml:4:8:", "must map a mode"},
    };
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        char doc[512];
        snprintf(doc, sizeof doc, "workloads:\n  - {name: a, kind: gpu-gemm}\n  - {name: b, kind: gpu-gemm}\n%s",
                 errors[i].tail);
        expect_error(doc, errors[i].where, errors[i].what);
    }
    expect_error("device: cpu\nworkloads:\n  - {name: a, kind: cpu-compute}\nsweep:\n  mps:\n"
                 "    active_thread_percentage: [{a: 30}]\n", "s.yaml:5:3:", "needs a GPU");
    expect_error("device: cpu\nworkloads:\n  - {name: a, kind: cpu-compute}\nsweep:\n  timeslice:\n"
                 "    driver_timeslice: [short]\n", "s.yaml:6:5:", "a setting of the GPU");
}

/* The axes of the whole GPU (the driver's timeslice, the compute mode)
 * and the MIG layouts: their names, what the configuration carries, and
 * run.json's form and back. */
static void sweep_gpu_and_layout_axes(void **state)
{
    (void)state;
    const char *y = "modes: [exclusive]\n"
                    "workloads:\n  - {name: a, kind: gpu-gemm}\n  - {name: b, kind: gpu-gemm}\n"
                    "sweep:\n  timeslice: {driver_timeslice: [default, long]}\n"
                    "  mps:\n    active_thread_percentage: [{a: 30, b: 70}]\n    compute_mode: [default, exclusive-process]\n"
                    "  mig-emulated:\n    layout:\n      - {a: 3g.40gb, b: 4g.40gb}\n      - {a: 1g.10gb+me, b: 1g.20gb}\n";
    scenario sc;
    cot_err err;
    assert_int_equal(scenario_parse_buffer("s.yaml", y, strlen(y), &sc, &err), 0);
    const char *names[] = {"timeslice.slice-default", "timeslice.slice-long", "mps.t30-70.cm-default",
                           "mps.t30-70.cm-exclusive", "mig-emulated.p3g40gb-4g40gb", "mig-emulated.p1g10gb_me-1g20gb"};
    assert_int_equal(sc.nmodes, 7);
    for (int m = 0; m < 6; m++) assert_string_equal(sc.modes[m + 1], names[m]);
    assert_true(sc.configs[2].timeslice_set);
    assert_int_equal(sc.configs[2].timeslice, GPU_TIMESLICE_LONG);
    assert_true(scenario_config_changes_gpu(&sc, 1)); /* "default" is asked for too: it is set, not left */
    assert_int_equal(sc.configs[4].compute_mode, NVML_COMPUTE_EXCLUSIVE_PROCESS);
    assert_false(scenario_config_changes_gpu(&sc, 5));
    scenario v;
    scenario_config_view(&sc, 6, &v);
    assert_string_equal(v.workloads[0].mig_profile, "1g.10gb+me");
    assert_string_equal(v.workloads[1].mig_profile, "1g.20gb");
    assert_null(sc.workloads[0].mig_profile);
    json_t *j = scenario_to_json(&sc);
    scenario back;
    scenario_init_defaults(&back);
    char why[256];
    assert_int_equal(scenario_from_json(j, &back, why, sizeof why), 0);
    assert_int_equal(back.configs[2].timeslice, GPU_TIMESLICE_LONG);
    assert_true(back.configs[2].timeslice_set);
    assert_false(back.configs[2].compute_mode_set);
    assert_int_equal(back.configs[4].compute_mode, NVML_COMPUTE_EXCLUSIVE_PROCESS);
    assert_string_equal(back.configs[6].mig_profile[0], "1g.10gb+me");
    json_t *gpu = scenario_config_gpu(&back, 4), *want = json_loads("{\"compute_mode\": \"exclusive-process\"}", 0, NULL);
    assert_true(json_equal(gpu, want));
    json_decref(gpu), json_decref(want), json_decref(j);
    assert_null(scenario_config_gpu(&back, 5));
    scenario_free(&back);
    scenario_free(&sc);
}

/* The objective and constraints a recommendation answers to; an SLO with
 * an attainment becomes the workload's slo, which requests are counted
 * against. */
static void objective_and_constraints(void **state)
{
    (void)state;
    const char *y = "workloads:\n  - {name: s, kind: gpu-gemm}\n  - {name: t, kind: gpu-gemm, slo: 40ms}\n"
                    "objective: throughput of t\nconstraints:\n  slo:\n    - {workload: s, p99: 20ms, attainment: 0.99}\n"
                    "    - {workload: t, p50: 40ms}\n  min_np: {t: 0.5}\n";
    scenario sc;
    cot_err err;
    assert_int_equal(scenario_parse_buffer("s.yaml", y, strlen(y), &sc, &err), 0);
    assert_int_equal(sc.objective.kind, OBJECTIVE_THROUGHPUT);
    assert_int_equal(sc.objective.workload, 1);
    assert_int_equal(sc.objective.nslo, 2);
    assert_true(sc.objective.slo[0].limit_ms == 20 && sc.objective.slo[0].attainment == 0.99 && sc.objective.slo[0].pct == 2);
    assert_true(sc.workloads[0].slo_ms == 20);
    assert_true(sc.objective.slo[1].pct == 0 && sc.objective.slo[1].attainment == 0);
    assert_true(sc.objective.min_np[1] == 0.5 && sc.objective.min_np[0] == 0);
    json_t *j = scenario_to_json(&sc);
    scenario back;
    scenario_init_defaults(&back);
    char why[256];
    assert_int_equal(scenario_from_json(j, &back, why, sizeof why), 0);
    assert_int_equal(back.objective.kind, OBJECTIVE_THROUGHPUT);
    assert_int_equal(back.objective.nslo, 2);
    assert_true(back.objective.slo[0].attainment == 0.99 && back.objective.min_np[1] == 0.5);
    json_decref(j);
    scenario_free(&back);
    scenario_free(&sc);
    const char *w = "workloads:\n  - {name: s, kind: gpu-gemm, slo: 30ms}\n";
    char doc[512];
#define OBJ_ERROR(tail, where, what) snprintf(doc, sizeof doc, "%s%s", w, tail), expect_error(doc, where, what)
    OBJ_ERROR("objective: speed\n", "s.yaml:3:12:", "expected stp, fairness or throughput of WORKLOAD");
    OBJ_ERROR("objective: throughput of z\n", "s.yaml:3:12:", "'z' is not a workload");
    OBJ_ERROR("constraints:\n  slo: {workload: s, p99: 20ms, attainment: 0.99}\n", "s.yaml:4:45:", "has slo 30ms");
    OBJ_ERROR("constraints:\n  slo: {workload: s, p99: 20ms, p50: 1ms}\n", "s.yaml:4:33:", "names two");
    OBJ_ERROR("constraints:\n  slo: {workload: s}\n", "s.yaml:4:8:", "needs 'workload' and a percentile");
    OBJ_ERROR("constraints:\n  slo: {workload: s, p99: 20ms, attainment: 2}\n", "s.yaml:4:45:", "at most 1");
    OBJ_ERROR("constraints:\n  min_np: {s: none}\n", "s.yaml:4:15:", "min_np of 's'");
    OBJ_ERROR("constraints:\n  max_np: {s: 1}\n", "s.yaml:4:3:", "unknown key 'max_np'");
#undef OBJ_ERROR
    /* adaptive repeats: a cap and a precision, or the defaults; neither without auto */
    const char *ad = "repeats: auto\nmax_repeats: 7\nprecision: 0.05\nworkloads:\n  - {name: s, kind: gpu-gemm}\n";
    assert_int_equal(scenario_parse_buffer("s.yaml", ad, strlen(ad), &sc, &err), 0);
    assert_true(sc.adaptive && sc.repeats == 7 && sc.precision == 0.05);
    scenario_free(&sc);
    ad = "max_repeats: 4\nrepeats: auto\nworkloads:\n  - {name: s, kind: gpu-gemm}\n";
    assert_int_equal(scenario_parse_buffer("s.yaml", ad, strlen(ad), &sc, &err), 0);
    assert_true(sc.adaptive && sc.repeats == 4 && sc.precision == SCENARIO_ADAPTIVE_PRECISION);
    scenario_free(&sc);
    ad = "repeats: auto\nworkloads:\n  - {name: s, kind: gpu-gemm}\n";
    assert_int_equal(scenario_parse_buffer("s.yaml", ad, strlen(ad), &sc, &err), 0);
    assert_int_equal(sc.repeats, SCENARIO_ADAPTIVE_MAX_REPEATS);
    scenario_free(&sc);
    expect_error("repeats: 3\nprecision: 0.05\nworkloads:\n  - {name: s, kind: gpu-gemm}\n", "s.yaml:2:12:",
                 "goes with repeats: auto");
    expect_error("repeats: auto\nmax_repeats: 2\nworkloads:\n  - {name: s, kind: gpu-gemm}\n", "s.yaml:2:14:",
                 "between 3 and 100");
    expect_error("repeats: auto\nprecision: 2\nworkloads:\n  - {name: s, kind: gpu-gemm}\n", "s.yaml:2:12:",
                 "at most 1");
    expect_error("repeats: often\nworkloads:\n  - {name: s, kind: gpu-gemm}\n", "s.yaml:1:10:", "whole number");
}

/* A CPU share: round(P% of the pool), at least one CPU, after the shares of
 * the workloads before it, wrapping round; a pool with gaps is used in
 * order. */
static void cpu_shares(void **state)
{
    (void)state;
    scenario sc;
    scenario_init_defaults(&sc);
    sc.nworkloads = 3;
    sc.workloads[0].cpu_pct = 50, sc.workloads[1].cpu_pct = 0, sc.workloads[2].cpu_pct = 75;
    cpu_set_t pool, got;
    CPU_ZERO(&pool);
    for (int c = 0; c < 8; c += 2) CPU_SET(c, &pool); /* CPUs 0, 2, 4, 6 */
    assert_true(cpu_share_from(&sc, 0, &pool, &got));
    assert_int_equal(CPU_COUNT(&got), 2);
    assert_true(CPU_ISSET(0, &got) && CPU_ISSET(2, &got));
    assert_false(cpu_share_from(&sc, 1, &pool, &got)); /* no share: every CPU */
    assert_true(cpu_share_from(&sc, 2, &pool, &got));  /* 3 of 4, after the first's 2: 4, 6, then 0 */
    assert_int_equal(CPU_COUNT(&got), 3);
    assert_true(CPU_ISSET(4, &got) && CPU_ISSET(6, &got) && CPU_ISSET(0, &got));
    sc.workloads[0].cpu_pct = 1; /* under one CPU's worth: one */
    assert_true(cpu_share_from(&sc, 0, &pool, &got));
    assert_int_equal(CPU_COUNT(&got), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(valid), cmocka_unit_test(invalid), cmocka_unit_test(file_fixture), cmocka_unit_test(served_plan),
                                       cmocka_unit_test(builtin_defaults), cmocka_unit_test(common_baseline),
                                       cmocka_unit_test(sweep_configurations), cmocka_unit_test(sweep_gpu_and_layout_axes), cmocka_unit_test(objective_and_constraints),
                                       cmocka_unit_test(cpu_shares)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
