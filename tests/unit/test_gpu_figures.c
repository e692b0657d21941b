/* A segment's telemetry read back and reduced to per-workload GPU figures,
 * against values worked out by hand; and the process-tree lookup that
 * labels each GPU process with its workload. */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "analysis/conditions.h"
#include "analysis/gpu_figures.h"
#include "analysis/other_procs.h"
#include "analysis/telemetry_load.h"
#include "sys/proc.h"

static const char *const NAMES[] = {"train", "infer"};
/* The layout before the timestamp column and the units: readers find columns
 * by name, so results written by earlier versions still load. */
#define HDR "t_ns,gpu,record,pid,process,gpu_instance,util_gpu,util_mem,mem_used_mib,mem_total_mib,power_w,energy_j," \
            "sm_clock_mhz,mem_clock_mhz,temp_c,throttle_reasons,sm_active,sm_occupancy,tensor_active,dram_active,"    \
            "pcie_tx_mib_s,pcie_rx_mib_s,proc_mem_mib,proc_sm_util,proc_mem_util,workload\n"

/* A GPU row: t in seconds, util, memory, power, energy, SM active. */
static void gpu_row(FILE *f, double t, double util, double mem, double power, double energy, double sm)
{
    fprintf(f, "%lld,0,gpu,,,,%g,10,%g,81559,%g,%g,1980,2619,40,0,%g,,,,,,,,,\n", (long long)(t * 1e9), util, mem, power,
            energy, sm);
}
static void proc_row(FILE *f, double t, unsigned pid, const char *name, double mem, double sm, const char *wl)
{
    fprintf(f, "%lld,0,process,%u,%s,,,,,,,,,,,,,,,,,,%g,%g,0,%s\n", (long long)(t * 1e9), pid, name, mem, sm, wl);
}

static int read_text(const char *text, telem_series *s, cot_err *err)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    int rc = telem_series_read(f, "t.csv", NAMES, 2, s, err);
    fclose(f);
    return rc;
}

static void load_rows(void **state)
{
    (void)state;
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    fputs(HDR, f);
    gpu_row(f, 1, 50, 1000, 100, 500, 40);
    proc_row(f, 1, 11, "\"py, \"\"3\"\"\"", 800, 30, "train");
    proc_row(f, 1, 12, "other", 100, 5, "");
    fprintf(f, "1000000000,1,gpu,,,,99,10,1,1,1,1,,,,,,,,,,,,,,\n"); /* a second GPU: not the run's */
    gpu_row(f, 2, 60, 1100, 110, 605, 50);
    fprintf(f, "3000000000,0,gpu,,,,7"); /* cut short by a crash */
    fclose(f);
    telem_series s;
    cot_err err;
    assert_int_equal(read_text(buf, &s, &err), 0);
    free(buf);
    assert_int_equal(s.nticks, 2);
    assert_int_equal(s.bad_rows, 1);
    assert_int_equal(s.ticks[0].nprocs, 2);
    assert_int_equal(s.ticks[1].nprocs, 0);
    assert_float_equal(s.ticks[1].energy_j, 605, 1e-9);
    assert_float_equal(s.ticks[0].sm_active, 40, 1e-9);
    assert_int_equal(s.procs[0].workload, 0);
    assert_float_equal(s.procs[0].mem_mib, 800, 1e-9);
    assert_int_equal(s.procs[1].workload, -1);
    assert_int_equal(s.procs[0].pid, 11);
    assert_string_equal(s.procs[0].name, "py, \"3\"");
    assert_int_equal(s.procs[1].pid, 12);
    assert_string_equal(s.procs[1].name, "other");
    telem_series_free(&s);

    /* Columns found by name: reordered, extra and missing ones. */
    assert_int_equal(read_text("record,extra,gpu,t_ns,power_w\ngpu,x,0,5,80\n", &s, &err), 0);
    assert_int_equal(s.nticks, 1);
    assert_float_equal(s.ticks[0].power_w, 80, 1e-9);
    assert_true(isnan(s.ticks[0].energy_j));
    telem_series_free(&s);

    assert_int_equal(read_text("time,value\n1,2\n", &s, &err), -1);
    assert_non_null(strstr(err.msg, "t.csv:1: the header lacks t_ns"));
    assert_int_equal(read_text("", &s, &err), -1);
    assert_non_null(strstr(err.msg, "empty"));
    char *longline = malloc(TELEM_LINE_MAX + 100);
    memset(longline, 'x', TELEM_LINE_MAX + 99);
    longline[TELEM_LINE_MAX + 99] = 0;
    assert_int_equal(read_text(longline, &s, &err), -1);
    assert_non_null(strstr(err.msg, "longer than"));
    free(longline);
}

/* Ten ticks, 0.1 s apart from t = 1 s: 200 W, the counter rising 20 J a
 * tick; "train" at 60% SM from the third tick, "infer" at 20% throughout. */
static void series(telem_series *s, bool with_energy)
{
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    fputs(HDR, f);
    for (int i = 0; i < 10; i++) {
        double t = 1 + 0.1 * i;
        gpu_row(f, t, 50 + i, 1000 + 100 * i, 200, with_energy ? 1000 + 20 * i : NAN, 40);
        if (i >= 2) proc_row(f, t, 21, "train", 500 + 10 * i, 60, "train");
        if (i >= 2) proc_row(f, t, 22, "train-helper", 100, NAN, "train");
        proc_row(f, t, 23, "infer", 300, 20, "infer");
    }
    fclose(f);
    cot_err err;
    assert_int_equal(read_text(buf, s, &err), 0);
    free(buf);
}

static void figures(void **state)
{
    (void)state;
    telem_series s;
    series(&s, true);
    gpu_figures g;
    /* Window [1.2 s, 1.6 s]: ticks 2..6. */
    gpu_figures_compute(&s, 2, 1200000000, 1600000000, &g);
    assert_int_equal(g.nticks, 5);
    assert_float_equal(g.util_gpu, 54, 1e-9);
    assert_float_equal(g.sm_active, 40, 1e-9);
    assert_float_equal(g.power_w, 200, 1e-9);
    assert_float_equal(g.energy_j, 80, 1e-6);
    assert_float_equal(g.peak_mem_mib, 1900, 1e-9);             /* the whole segment, not the window */
    assert_float_equal(g.wl_peak_mem_mib[0], 590 + 100, 1e-9);  /* both of its processes at their peak */
    assert_float_equal(g.wl_peak_mem_mib[1], 300, 1e-9);
    assert_float_equal(g.wl_sm_util[0], 60, 1e-9);
    assert_float_equal(g.wl_sm_util[1], 20, 1e-9);
    int members[2] = {0, 1};
    double share[2];
    assert_string_equal(gpu_energy_shares(&g, members, 2, share), "sm_util");
    assert_float_equal(share[0], 0.75, 1e-12);
    assert_float_equal(share[1], 0.25, 1e-12);

    /* Before "train" appears it used none of the GPU: ticks 0..4 average 3 of 5 at 60%. */
    gpu_figures_compute(&s, 2, 1000000000, 1400000000, &g);
    assert_float_equal(g.wl_sm_util[0], 36, 1e-9);
    /* Between ticks the counter is interpolated: [1.05, 1.25] is 40 J. */
    gpu_figures_compute(&s, 2, 1050000000, 1250000000, &g);
    assert_float_equal(g.energy_j, 40, 1e-6);
    /* A window reaching past the samples: the missing 0.5 s at the mean power. */
    gpu_figures_compute(&s, 2, 1500000000, 2400000000, &g);
    assert_float_equal(g.energy_j, 80 + 0.5 * 200, 1e-6);
    telem_series_free(&s);

    /* No energy counter: mean power x time. */
    series(&s, false);
    gpu_figures_compute(&s, 2, 1200000000, 1600000000, &g);
    assert_float_equal(g.energy_j, 0.4 * 200, 1e-6);
    telem_series_free(&s);

    /* A workload NVML gave no SM use for: equal shares. */
    gpu_figures z;
    memset(&z, 0, sizeof z);
    z.wl_sm_util[0] = 50;
    z.wl_sm_util[1] = NAN;
    assert_string_equal(gpu_energy_shares(&z, members, 2, share), "equal");
    assert_float_equal(share[0], 0.5, 1e-12);
    z.wl_sm_util[1] = 0, z.wl_sm_util[0] = 0; /* all idle: equal, not 0/0 */
    assert_string_equal(gpu_energy_shares(&z, members, 2, share), "equal");
}

/* A workload's root leads its group; one child stays in the group, a
 * grandchild leaves it with setsid() and is found through its parent. */
static void process_trees(void **state)
{
    (void)state;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t root = fork();
    assert_true(root >= 0);
    if (root == 0) {
        setpgid(0, 0);
        pid_t kid = fork();
        if (kid == 0) {
            pid_t grandkid = fork();
            if (grandkid == 0) {
                setsid();
                int ids[2] = {getpid(), getppid()};
                if (write(ready[1], ids, sizeof ids) != sizeof ids) _exit(1);
                pause();
                _exit(0);
            }
            pause();
            _exit(0);
        }
        pause();
        _exit(0);
    }
    int ids[2];
    assert_int_equal(read(ready[0], ids, sizeof ids), (ssize_t)sizeof ids);
    pid_t roots[3] = {getpid() + 100000, root, 0};
    assert_int_equal(proc_tree_index(root, roots, 3), 1);
    assert_int_equal(proc_tree_index(ids[1], roots, 3), 1); /* same group */
    assert_int_equal(proc_tree_index(ids[0], roots, 3), 1); /* own session: by its parent */
    assert_int_equal(proc_tree_index(getpid(), roots, 3), -1);
    assert_int_equal(proc_tree_index(999999999, roots, 3), -1);
    kill(ids[0], SIGKILL);
    kill(-root, SIGKILL);
    waitpid(root, NULL, 0);
    close(ready[0]);
    close(ready[1]);
}

static json_t *procs_of(const json_t *o, size_t i)
{
    return json_array_get(json_object_get(o, "processes"), i);
}

/* Processes not the segment's during its window: named with their peak
 * memory, mean SM use and share of the window; the MPS server, labelled
 * processes and ticks outside the window are not counted. */
static void other_processes(void **state)
{
    (void)state;
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    fputs(HDR, f);
    for (int t = 1; t <= 5; t++) {
        gpu_row(f, t, 50, 1000, 100, 500, 40);
        proc_row(f, t, 11, "train", 800, 30, "train");
        proc_row(f, t, 40, "nvidia-cuda-mps", 30, 0, "");
        if (t >= 2) proc_row(f, t, 77, "python3", 1000 + 100 * t, 10 * t, ""); /* t=5 is past the window */
        if (t == 1) proc_row(f, t, 78, "jupyter", 200, 0, "");                  /* before the window */
    }
    fclose(f);
    telem_series s;
    cot_err err;
    assert_int_equal(read_text(buf, &s, &err), 0);
    free(buf);
    json_t *o = other_procs_in_window(&s, 2000000000, 4000000000);
    assert_non_null(o);
    assert_int_equal(json_array_size(json_object_get(o, "processes")), 1);
    assert_int_equal(json_integer_value(json_object_get(procs_of(o, 0), "pid")), 77);
    assert_string_equal(json_string_value(json_object_get(procs_of(o, 0), "process")), "python3");
    assert_float_equal(json_real_value(json_object_get(procs_of(o, 0), "peak_memory_mib")), 1400, 1e-9);
    assert_float_equal(json_real_value(json_object_get(procs_of(o, 0), "sm_util_pct")), 30, 1e-9);
    assert_float_equal(json_real_value(json_object_get(procs_of(o, 0), "window_pct")), 100, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(o, "more")), 0);
    json_decref(o);
    /* 1 to 3 s: the python3 process in two of three ticks, the jupyter one in one */
    o = other_procs_in_window(&s, 1000000000, 3000000000);
    assert_int_equal(json_array_size(json_object_get(o, "processes")), 2);
    assert_int_equal(json_integer_value(json_object_get(procs_of(o, 0), "pid")), 78);
    assert_float_equal(json_real_value(json_object_get(procs_of(o, 0), "window_pct")), 100.0 / 3, 1e-9);
    assert_float_equal(json_real_value(json_object_get(procs_of(o, 1), "window_pct")), 200.0 / 3, 1e-9);
    json_decref(o);
    /* a window with only the segment's own processes and the MPS server: none */
    s.procs[s.ticks[0].first_proc + 2].workload = 0; /* the jupyter process, as if it were the segment's */
    assert_null(other_procs_in_window(&s, 0, 1500000000));
    telem_series_free(&s);

    /* More processes than are named: the rest counted once each. */
    f = open_memstream(&buf, &len);
    fputs(HDR, f);
    for (int t = 1; t <= 3; t++) {
        gpu_row(f, t, 50, 1000, 100, 500, 40);
        for (unsigned pid = 100; pid < 100 + OTHER_PROCS_MAX + 3; pid++) proc_row(f, t, pid, "w", 10, 1, "");
        if (t == 2) proc_row(f, t, 500, "brief", 10, 1, "");
    }
    fclose(f);
    assert_int_equal(read_text(buf, &s, &err), 0);
    free(buf);
    o = other_procs_in_window(&s, 0, 9000000000);
    assert_int_equal(json_array_size(json_object_get(o, "processes")), OTHER_PROCS_MAX);
    assert_int_equal(json_integer_value(json_object_get(o, "more")), 4);
    json_decref(o);
    telem_series_free(&s);
}

/* The clock, temperature and limits of an interval, read from telemetry.csv,
 * and whether two runs' conditions differ enough to say so. */
static void conditions(void **state)
{
    (void)state;
    const char *text = HDR "1000000000,0,gpu,,,,90,10,1000,81559,690,1,1980,2619,61,0,80,,,,,,,,,\n"
                           "1100000000,0,gpu,,,,90,10,1000,81559,700,2,1755,2619,64,4,80,,,,,,,,,\n"
                           "1200000000,0,gpu,,,,90,10,1000,81559,700,3,1755,2619,66,5,80,,,,,,,,,\n";
    telem_series s;
    cot_err e;
    assert_int_equal(read_text(text, &s, &e), 0);
    gpu_figures f;
    gpu_figures_compute(&s, 2, 900000000, 1300000000, &f);
    assert_float_equal(f.sm_clock_mhz, (1980 + 1755 + 1755) / 3.0, 1e-9);
    assert_float_equal(f.temp_c_max, 66, 0);
    assert_true(f.throttle_known);
    assert_int_equal(f.throttle, 5); /* 0x4 (power cap) | 0x1 (idle) */
    telem_series_free(&s);
    assert_int_equal(conditions_limit_bits(0x1 | 0x4 | 0x40 | 0x100), 0x44);
    /* the shared run: clocks 11% lower under the power cap */
    run_conditions alone = {true, 1980, 60, 0, true}, shared = {true, 1755, 66, 0x4, true};
    char why[400];
    bool env;
    const char *d = conditions_differ(&alone, &shared, why, sizeof why, &env);
    assert_non_null(d);
    assert_non_null(strstr(d, "the SM clock averaged 1980 MHz alone and 1755 MHz shared"));
    assert_non_null(strstr(d, "the GPU hit its software power cap shared only"));
    assert_false(env); /* the shared run's draw: sharing's own cost */
    /* a thermal slowdown in the alone run only: the environment's */
    alone.limits = 0x20;
    d = conditions_differ(&alone, &shared, why, sizeof why, &env);
    assert_non_null(strstr(d, "the GPU hit its software thermal slowdown alone only"));
    assert_true(env);
    alone.limits = 0;
    /* 4% apart and the same limits: alike; unknown: nothing said */
    shared = (run_conditions){true, 1905, 66, 0, true};
    assert_null(conditions_differ(&alone, &shared, why, sizeof why, &env));
    shared.known = false;
    shared.sm_clock_mhz = 1000;
    assert_null(conditions_differ(&alone, &shared, why, sizeof why, &env));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conditions),
        cmocka_unit_test(load_rows),
        cmocka_unit_test(figures),
        cmocka_unit_test(process_trees),
        cmocka_unit_test(other_processes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
