/* The NVML sampler, its CSV and JSONL writers, against the NVML test double
 * (tests/nvml_double) loaded through the same dlopen path as the driver.
 *
 * The script gives line k figures that are all functions of k, so whatever
 * line a sample came from, every figure in it can be checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "telemetry/gpu_reader.h"
#include "telemetry/sampler.h"
#include "telemetry/telemetry_write.h"
#include "util/timeutil.h"

#define LINES 400
static char script[256], csv_path[256], jsonl_path[256];

static void write_script(void)
{
    snprintf(script, sizeof script, "/tmp/cotenant-nvml-script-%d.txt", (int)getpid());
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    for (int k = 0; k < LINES; k++) {
        fprintf(f, "util=%d memutil=%d mem_used_mib=%d power_mw=%d energy_mj=%d smclk=%d temp=%d throttle=%d "
                   "sm_active=%d.5 occupancy=%d tensor=%d dram=%d pcie_tx=%d pcie_rx=%d procs=",
                k % 101, (k * 3) % 101, 1000 + k, 100000 + 500 * k, 5000000 + 10000 * k, 1000 + k, 30 + k % 50, k % 4,
                k % 100, (k + 1) % 100, (k + 2) % 100, (k + 3) % 100, k, 2 * k);
        /* On lines 2, 5, ... the process is listed twice, as NVML may: the
         * reader keeps one row, with the larger memory figure. */
        if (k % 3 == 1) fprintf(f, "%d:%d:%d:%d,999999:50:1:2", (int)getpid(), 100 + k, k % 100, (2 * k) % 100);
        if (k % 3 == 2)
            fprintf(f, "%d:90:%d:%d,999999:50:1:2,%d:%d:%d:%d", (int)getpid(), k % 100, (2 * k) % 100, (int)getpid(), 100 + k,
                    k % 100, (2 * k) % 100);
        fputc('\n', f);
    }
    fclose(f);
}

/* The script line a sample came from, from its memory figure. */
static int line_of(const gpu_sample *s) { return (int)lround(s->mem_used_mib) - 1000; }

static void check_sample(const gpu_sample *s, bool gpm_expected)
{
    int k = line_of(s);
    assert_true(k >= 0 && k < LINES);
    assert_true(s->util_gpu == k % 101 && s->util_mem == (k * 3) % 101);
    assert_true(s->mem_total_mib == 81559);
    assert_true(fabs(s->power_w - (100 + 0.5 * k)) < 1e-9);
    assert_true(fabs(s->energy_j - (5000 + 10.0 * k)) < 1e-9);
    assert_true(s->sm_clock_mhz == 1000 + k && s->mem_clock_mhz == 2619);
    assert_true(s->temp_c == 30 + k % 50 && s->throttle_reasons == k % 4);
    if (gpm_expected) {
        assert_true(s->sm_active == k % 100 + 0.5);
        assert_true(s->sm_occupancy == (k + 1) % 100 && s->tensor_active == (k + 2) % 100);
        assert_true(s->dram_active == (k + 3) % 100 && s->pcie_tx_mib_s == k && s->pcie_rx_mib_s == 2 * k);
    } else {
        assert_true(isnan(s->sm_active) && isnan(s->tensor_active));
    }
    if (k % 3 == 0) {
        assert_int_equal(s->nprocs, 0);
        return;
    }
    assert_int_equal(s->nprocs, 2);
    assert_int_equal(s->procs[0].pid, (unsigned)getpid());
    assert_string_equal(s->procs[0].name, "test_telemetry");
    assert_true(s->procs[0].mem_used_mib == 100 + k);
    assert_true(s->procs[0].sm_util == k % 100 && s->procs[0].mem_util == (2 * k) % 100);
    assert_string_equal(s->procs[1].name, ""); /* no such process here */
    assert_true(s->procs[1].mem_used_mib == 50 && s->procs[1].sm_util == 1);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ", and within 5 s of now: the samples were
 * just taken. */
static bool is_rfc3339_ms(const char *t)
{
    int y, mo, d, h, mi, sec, ms, used = 0;
    if (!t || strlen(t) != 24 || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &y, &mo, &d, &h, &mi, &sec, &ms, &used) != 7 ||
        used != 24)
        return false;
    struct tm a = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec};
    return llabs((long long)(timegm(&a) - time(NULL))) <= 5;
}

/* Wall-clock stamps: RFC 3339 in UTC with milliseconds, truncated (never
 * rounded into the next second), floor before 1970; a monotonic instant
 * maps to now's wall-clock time. */
static void wall_clock_stamps(void **state)
{
    (void)state;
    char t[40];
    rfc3339_of_unix_ns(0, t, sizeof t);
    assert_string_equal(t, "1970-01-01T00:00:00.000Z");
    rfc3339_of_unix_ns(1796673851123456789LL, t, sizeof t);
    assert_string_equal(t, "2026-12-07T20:04:11.123Z");
    rfc3339_of_unix_ns(1796673851999999999LL, t, sizeof t);
    assert_string_equal(t, "2026-12-07T20:04:11.999Z");
    rfc3339_of_unix_ns(-1, t, sizeof t);
    assert_string_equal(t, "1969-12-31T23:59:59.999Z");
    rfc3339_of_monotonic_ns(now_ns(), t, sizeof t);
    assert_true(is_rfc3339_ms(t));
    rfc3339_of_monotonic_ns(now_ns() - 3600 * NS_PER_S, t, sizeof t);
    assert_false(is_rfc3339_ms(t)); /* an hour ago */
}

static void reads_every_figure(void **state)
{
    (void)state;
    cot_err err;
    gpu_reader *r = gpu_reader_open("all", &err);
    if (!r) fail_msg("%s", err.msg);
    gpu_reader_set_costly_intervals(r, 0, 0);
    assert_int_equal(gpu_reader_count(r), 2);
    assert_string_equal(gpu_reader_name(r, 0), "NVIDIA Test Double 80GB");
    assert_true(gpu_reader_has_gpm(r, 1));
    gpu_sample s;
    for (int n = 0; n < 5; n++) {
        for (int g = 0; g < 2; g++) {
            assert_int_equal(gpu_reader_read(r, g, &s, &err), 0);
            assert_int_equal(s.index, g);
            /* GPM needs two samples: none on the first */
            check_sample(&s, n > 0);
            assert_int_equal(s.nmig, g == 0 ? 2 : 0);
        }
    }
    gpu_reader_close(r);
}

static void mig_instances(void **state)
{
    (void)state;
    cot_err err;
    gpu_reader *r = gpu_reader_open("0", &err);
    if (!r) fail_msg("%s", err.msg);
    gpu_reader_set_costly_intervals(r, 0, 0);
    gpu_sample s;
    for (int n = 0; n < 2; n++) assert_int_equal(gpu_reader_read(r, 0, &s, &err), 0);
    int k = line_of(&s);
    assert_int_equal(s.nmig, 2);
    assert_int_equal(s.mig[0].gpu_instance_id, 1);
    assert_int_equal(s.mig[1].gpu_instance_id, 2);
    assert_true(fabs(s.mig[1].mem_used_mib - (1000 + k) / 3.0) < 0.01);
    assert_true(s.mig[0].sm_active == (k % 100 + 0.5) / 2);
    if (k % 3) assert_int_equal(s.procs[1].gpu_instance_id, 2); /* the double spreads processes over instances */
    gpu_reader_close(r);
}

static void selects_gpus(void **state)
{
    (void)state;
    cot_err err;
    gpu_reader *r = gpu_reader_open("1,GPU-00000000-0000-0000-0000-000000000000,1", &err);
    if (!r) fail_msg("%s", err.msg);
    assert_int_equal(gpu_reader_count(r), 2);
    assert_int_equal(gpu_reader_index(r, 0), 1);
    assert_int_equal(gpu_reader_index(r, 1), 0);
    gpu_reader_close(r);
    assert_null(gpu_reader_open("2", &err));
    assert_non_null(strstr(err.msg, "GPU 2 does not exist: NVML sees 2 GPUs (0 to 1)"));
    assert_null(gpu_reader_open("GPU-nope", &err));
    assert_non_null(strstr(err.msg, "'GPU-nope' is neither an index nor a UUID"));
    assert_non_null(strstr(err.msg, "Not Found"));
}

/* Splits a CSV line into fields (quoted fields as the writer makes them). */
static int csv_fields(const char *line, char out[][128], int max)
{
    int n = 0;
    const char *p = line;
    for (;;) {
        char *o = out[n];
        size_t len = 0;
        if (*p == '"') {
            for (p++; *p && !(*p == '"' && p[1] != '"'); p++) {
                if (*p == '"') p++;
                if (len < 127) o[len++] = *p;
            }
            if (*p == '"') p++;
        } else {
            for (; *p && *p != ',' && *p != '\n'; p++)
                if (len < 127) o[len++] = *p;
        }
        o[len] = 0;
        if (++n == max || *p != ',') break;
        p++;
    }
    return n;
}

/* The MPS status of each process in a sample with processes: this test's
 * own (listed twice on some lines, kept once) and pid 999999. */
static void mps_status(gpu_reader *r, int *own, int *other)
{
    cot_err err;
    gpu_sample s;
    *own = *other = -2;
    for (int n = 0; n < LINES && *own == -2; n++) {
        assert_int_equal(gpu_reader_read(r, 0, &s, &err), 0);
        for (int k = 0; k < s.nprocs; k++) {
            if (s.procs[k].pid == (unsigned)getpid()) *own = s.procs[k].mps_client;
            if (s.procs[k].pid == 999999) *other = s.procs[k].mps_client;
        }
    }
}

/* NVML's list of MPS clients marks each process: 1 listed, 0 not, -1 where
 * the driver gives no list; telemetry.csv's mps_client column writes it. */
static void mps_clients_marked(void **state)
{
    (void)state;
    cot_err err;
    gpu_reader *r = gpu_reader_open("all", &err);
    assert_non_null(r);
    int own, other;
    setenv("COTENANT_NVML_DOUBLE_MPS_CLIENTS", "test_telemetr", 1);
    mps_status(r, &own, &other);
    assert_int_equal(own, 1);
    assert_int_equal(other, 0);
    setenv("COTENANT_NVML_DOUBLE_MPS_CLIENTS", "", 1);
    mps_status(r, &own, &other);
    assert_int_equal(own, 0);
    assert_int_equal(other, 0);
    unsetenv("COTENANT_NVML_DOUBLE_MPS_CLIENTS");
    mps_status(r, &own, &other);
    assert_int_equal(own, -1);
    assert_int_equal(other, -1);
    gpu_reader_close(r);

    gpu_sample s;
    gpu_sample_clear(&s);
    s.t_ns = 1, s.nprocs = 2;
    s.procs[0] = (gpu_proc_sample){.pid = 7, .name = "a", .mem_used_mib = NAN, .sm_util = NAN, .mem_util = NAN,
                                   .gpu_instance_id = -1, .mps_client = 1};
    s.procs[1] = s.procs[0];
    s.procs[1].pid = 8, s.procs[1].mps_client = -1;
    telemetry_writer *w = telemetry_write_open(csv_path, TELEMETRY_FORMAT_CSV, &err);
    assert_non_null(w);
    assert_int_equal(telemetry_write_samples(w, &s, 1), 0);
    assert_int_equal(telemetry_write_close(w, &err), 0);
    FILE *f = fopen(csv_path, "r");
    char line[4096], fld[32][128];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        csv_fields(line, fld, 32);
        if (strcmp(fld[TCOL_RECORD], "process")) continue;
        assert_string_equal(fld[TCOL_MPS_CLIENT], atoi(fld[TCOL_PID]) == 7 ? "1" : "");
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 2);
}

static void csv_and_jsonl(void **state)
{
    (void)state;
    cot_err err;
    gpu_reader *r = gpu_reader_open("all", &err);
    assert_non_null(r);
    gpu_reader_set_costly_intervals(r, 0, 0);
    telemetry_writer *c = telemetry_write_open(csv_path, TELEMETRY_FORMAT_CSV, &err), *j = telemetry_write_open(jsonl_path, TELEMETRY_FORMAT_JSONL, &err);
    assert_non_null(c);
    assert_non_null(j);
    gpu_sample s[2][2];
    for (int n = 0; n < 2; n++) {
        for (int g = 0; g < 2; g++) assert_int_equal(gpu_reader_read(r, g, &s[n][g], &err), 0);
        assert_int_equal(telemetry_write_samples(c, s[n], 2), 0);
        assert_int_equal(telemetry_write_samples(j, s[n], 2), 0);
    }
    strcpy(s[1][0].procs[0].name, "odd, \"name\"");
    strcpy(s[1][0].procs[0].workload, "train, a");
    assert_int_equal(telemetry_write_samples(c, s[1], 1), 0);
    assert_int_equal(telemetry_write_close(c, &err), 0);
    assert_int_equal(telemetry_write_close(j, &err), 0);
    gpu_reader_close(r);

    FILE *f = fopen(csv_path, "r");
    assert_non_null(f);
    char line[4096], fld[32][128];
    assert_non_null(fgets(line, sizeof line, f));
    line[strcspn(line, "\n")] = 0;
    assert_string_equal(line, telemetry_csv_header());
    /* the file's contract: these names in this order, read by older and newer cotenants */
    assert_string_equal(telemetry_csv_header(),
                        "t_ns,timestamp,gpu,record,pid,process,gpu_instance,util_gpu [%],util_mem [%],"
                        "mem_used_mib [MiB],mem_total_mib [MiB],power_w [W],energy_j [J],sm_clock_mhz [MHz],"
                        "mem_clock_mhz [MHz],temp_c [C],throttle_reasons,sm_active [%],sm_occupancy [%],"
                        "tensor_active [%],dram_active [%],pcie_tx_mib_s [MiB/s],pcie_rx_mib_s [MiB/s],"
                        "proc_mem_mib [MiB],proc_sm_util [%],proc_mem_util [%],mps_client,workload");
    assert_string_equal(telemetry_csv_key_prefix(), "t_ns,timestamp,gpu,record,");
    /* a header field names its column with or without the unit, and nothing else */
    assert_true(telemetry_csv_header_names("util_gpu [%]", TCOL_UTIL_GPU));
    assert_true(telemetry_csv_header_names("util_gpu", TCOL_UTIL_GPU));
    assert_false(telemetry_csv_header_names("util_gpu [W]", TCOL_UTIL_GPU));
    assert_false(telemetry_csv_header_names("util_gpu [%]x", TCOL_UTIL_GPU));
    assert_false(telemetry_csv_header_names("util_gpux", TCOL_UTIL_GPU));
    assert_false(telemetry_csv_header_names("gpu [%]", TCOL_GPU));
    int rows = 0, gpu_rows = 0, proc_rows = 0, mig_rows = 0;
    while (fgets(line, sizeof line, f)) {
        int nf = csv_fields(line, fld, 32);
        if (nf != TCOL_COUNT) fail_msg("%d fields in: %s", nf, line);
        rows++;
        if (!strcmp(fld[TCOL_RECORD], "gpu")) {
            const gpu_sample *x = &s[gpu_rows / 2 % 2][atoi(fld[TCOL_GPU])];
            if (gpu_rows < 4) {
                assert_int_equal(atoll(fld[TCOL_T_NS]), x->t_ns);
                assert_true(is_rfc3339_ms(fld[TCOL_TIMESTAMP]));
                assert_int_equal(atoi(fld[TCOL_UTIL_GPU]), (int)x->util_gpu);
                assert_true(fabs(atof(fld[TCOL_MEM_USED_MIB]) - x->mem_used_mib) < 0.05);
                assert_true(fabs(atof(fld[TCOL_ENERGY_J]) - x->energy_j) < 1e-3);
                /* GPM's first sample is empty, not 0 */
                if (gpu_rows < 2) assert_string_equal(fld[TCOL_SM_ACTIVE], "");
                else assert_true(atof(fld[TCOL_SM_ACTIVE]) == x->sm_active);
            }
            gpu_rows++;
        } else if (!strcmp(fld[TCOL_RECORD], "process")) {
            if (atoi(fld[TCOL_PID]) == (int)getpid() && !strcmp(fld[TCOL_PROCESS], "odd, \"name\""))
                assert_string_equal(fld[TCOL_WORKLOAD], "train, a");
            else if (atoi(fld[TCOL_PID]) == (int)getpid())
                assert_true(!strcmp(fld[TCOL_PROCESS], "test_telemetry") && !strcmp(fld[TCOL_WORKLOAD], ""));
            assert_string_not_equal(fld[TCOL_PROC_MEM_MIB], "");
            proc_rows++;
        } else {
            assert_string_equal(fld[TCOL_RECORD], "mig");
            assert_string_not_equal(fld[TCOL_GPU_INSTANCE], "");
            assert_string_not_equal(fld[TCOL_MEM_USED_MIB], "");
            mig_rows++;
        }
    }
    fclose(f);
    assert_int_equal(gpu_rows, 5);
    assert_int_equal(mig_rows, 6);
    assert_true(rows == gpu_rows + proc_rows + mig_rows);

    f = fopen(jsonl_path, "r");
    assert_non_null(f);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (!o) fail_msg("line %d is not JSON: %s", n + 1, je.text);
        const gpu_sample *x = &s[n / 2][n % 2];
        assert_int_equal(json_integer_value(json_object_get(o, "t_ns")), x->t_ns);
        assert_true(is_rfc3339_ms(json_string_value(json_object_get(o, "timestamp"))));
        assert_true(json_real_value(json_object_get(o, "power_w")) == x->power_w);
        if (n < 2) assert_true(json_is_null(json_object_get(o, "sm_active")));
        assert_int_equal(json_array_size(json_object_get(o, "processes")), x->nprocs);
        assert_int_equal(json_array_size(json_object_get(o, "mig")), x->nmig);
        json_decref(o);
        n++;
    }
    fclose(f);
    assert_int_equal(n, 4);
    unlink(csv_path);
    unlink(jsonl_path);
}

/* The costly calls are made less often: energy between two readings is the
 * last reading plus the power integrated; per-process utilisation stays
 * until the next reading. */
static void costly_calls_spaced(void **state)
{
    (void)state;
    cot_err err;
    gpu_reader *r = gpu_reader_open("1", &err);
    assert_non_null(r);
    gpu_reader_set_costly_intervals(r, 10 * NS_PER_S, 10 * NS_PER_S);
    gpu_sample a, b;
    do assert_int_equal(gpu_reader_read(r, 0, &a, &err), 0); while (line_of(&a) % 3 != 1); /* one with processes */
    sleep_ns(50 * NS_PER_MS);
    assert_int_equal(gpu_reader_read(r, 0, &b, &err), 0);
    int ka = line_of(&a), kb = line_of(&b);
    assert_int_equal(kb, ka + 1);
    assert_true(fabs(a.energy_j - (5000 + 10.0 * ka)) < 1e-9); /* read */
    double want = a.energy_j + (a.power_w + b.power_w) / 2 * ((b.t_ns - a.t_ns) / 1e9);
    if (fabs(b.energy_j - want) > 1e-9) fail_msg("energy %.6f, expected %.6f", b.energy_j, want);
    assert_true(b.procs[0].mem_used_mib == 100 + kb); /* memory every sample */
    assert_true(b.procs[0].sm_util == ka % 100);      /* utilisation from the last reading */
    gpu_reader_close(r);
}

typedef struct {
    int ticks;
    int64_t first, last;
    int64_t prev;
    int out_of_order;
} sink_state;

static void sink(void *ctx, gpu_sample *s, int n)
{
    sink_state *st = ctx;
    assert_int_equal(n, 2);
    if (st->ticks == 0) st->first = s[0].t_ns;
    if (s[0].t_ns <= st->prev || s[1].t_ns < s[0].t_ns) st->out_of_order++;
    st->prev = st->last = s[0].t_ns;
    st->ticks++;
}

static void sampler_ticks_on_time(void **state)
{
    (void)state;
    cot_err err;
    gpu_reader *r = gpu_reader_open("all", &err);
    assert_non_null(r);
    gpu_reader_set_costly_intervals(r, 0, 0);
    assert_null(sampler_start(r, 5 * 1000000LL, sink, NULL, &err));
    assert_non_null(strstr(err.msg, "the shortest is 10 ms"));
    sink_state st = {0};
    sampler *s = sampler_start(r, 20 * 1000000LL, sink, &st, &err);
    assert_non_null(s);
    sleep_ns(210 * 1000000LL);
    gpu_sample latest[2];
    long seen = sampler_latest(s, latest);
    double cpu = sampler_cpu_seconds(s);
    long ticks = sampler_stop(s);
    gpu_reader_close(r);
    /* ticks at 0, 20, ..., 200 ms: 11, give or take a loaded machine's one */
    if (ticks < 9 || ticks > 12) fail_msg("%ld ticks in 210 ms at 20 ms", ticks);
    assert_int_equal(st.ticks, ticks);
    assert_true(seen >= ticks - 1 && seen <= ticks);
    assert_int_equal(st.out_of_order, 0);
    double mean_ms = (st.last - st.first) / 1e6 / (st.ticks - 1);
    if (mean_ms < 19 || mean_ms > 22) fail_msg("mean interval %.2f ms at 20 ms", mean_ms);
    assert_true(cpu >= 0 && cpu < 0.2);
    check_sample(&latest[0], true);
}

int main(void)
{
    write_script();
    snprintf(csv_path, sizeof csv_path, "/tmp/cotenant-telemetry-%d.csv", (int)getpid());
    snprintf(jsonl_path, sizeof jsonl_path, "/tmp/cotenant-telemetry-%d.jsonl", (int)getpid());
    setenv("COTENANT_NVML_LIBRARY", NVML_DOUBLE, 1);
    setenv("COTENANT_NVML_DOUBLE_SCRIPT", script, 1);
    setenv("COTENANT_NVML_DOUBLE_GPUS", "2", 1);
    setenv("COTENANT_NVML_DOUBLE_MIG", "2", 1);
    const struct CMUnitTest tests[] = {cmocka_unit_test(reads_every_figure), cmocka_unit_test(mig_instances),
                                       cmocka_unit_test(selects_gpus), cmocka_unit_test(csv_and_jsonl),
                                       cmocka_unit_test(costly_calls_spaced), cmocka_unit_test(sampler_ticks_on_time),
                                       cmocka_unit_test(wall_clock_stamps), cmocka_unit_test(mps_clients_marked)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(script);
    return rc;
}
