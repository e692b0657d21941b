#include "mode/desc/mode_desc.h"
#include "analysis/analyze.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/advise.h"
#include "analysis/events_load.h"
#include "analysis/conditions.h"
#include "analysis/gpu_figures.h"
#include "analysis/latency.h"
#include "analysis/mps_clients.h"
#include "analysis/other_procs.h"
#include "analysis/stats.h"
#include "analysis/system_figures.h"
#include "analysis/throughput.h"
#include "analysis/validity.h"
#include "plan/plan.h"
#include "scenario/mode_config.h"
#include "scenario/names.h"
#include "scenario/scenario.h"
#include "util/fs.h"

/* One workload in one segment, reduced to what the metrics need. */
typedef struct {
    bool valid;
    double throughput;  /* samples per second in the window (runs/s for wall time) */
    double slo_attained;/* fraction of requests ok and within the SLO; NAN if none */
    int nlat;
    double gpu[7];      /* GPU figures, as GPU_FIELDS names them; NAN: no telemetry */
    run_conditions cond; /* the GPU's clock and limits over its interval */
} cell;

/* A workload's GPU figures in a segment (docs/metrics.md). */
enum { GF_UTIL, GF_SM_ACTIVE, GF_PROC_SM, GF_PEAK_MEM, GF_POWER, GF_ENERGY, GF_ENERGY_PER_SAMPLE, GF_N };
static const char *const GPU_FIELDS[GF_N] = {"gpu_util_pct", "sm_active_pct", "process_sm_util_pct", "peak_memory_mib",
                                             "power_w", "energy_j", "energy_per_sample_j"};
/* The whole GPU in a shared segment's window. */
enum { SG_UTIL, SG_SM_ACTIVE, SG_PEAK_MEM, SG_POWER, SG_ENERGY, SG_N };
static const char *const SEG_GPU_FIELDS[SG_N] = {"gpu_util_pct", "sm_active_pct", "peak_memory_mib", "power_w", "energy_j"};
static const char *const GPU_UNITS[GF_N] = {"%", "%", "%", "MiB", "W", "J", ""};
static const char *const SEG_GPU_UNITS[SG_N] = {"%", "%", "MiB", "W", "J"};

/* At most this many points per GPU timeline, whatever the segment's length. */
#define GPU_TIMELINE_POINTS 300

enum { ALONE = 0, SHARED = 1 };

typedef struct {
    scenario sc;
    json_t *run;
    cell *cells;                 /* [mode][repeat][kind][workload] */
    char units[SCENARIO_MAX_WORKLOADS][EVENT_UNIT_MAX];
    latency_pool lat[SCENARIO_MAX_MODES][2][SCENARIO_MAX_WORKLOADS]; /* every repeat's requests, ms */
    json_t *excluded, *timeseries;
    json_t *other_procs;         /* segments whose window had GPU processes not their own */
    json_t *flagged;             /* workloads whose figures count, with doubts (segment.json's flags) */
    bool in_progress;            /* the run is still going (adaptive repeats ask mid-run): pending is not yet run */
    bool have_series[SCENARIO_MAX_MODES];
    double *seg_gpu;             /* [mode][repeat][SG_N], shared segments; NAN: none */
    char split[SCENARIO_MAX_MODES][16]; /* how shared energy was split: sm_util, equal or mixed */
    json_t *gpu_timeline[SCENARIO_MAX_MODES]; /* one segment per mode, a shared one where there is one */
    bool gpu_timeline_shared[SCENARIO_MAX_MODES];
    int short_windows[SCENARIO_MAX_MODES][SCENARIO_MAX_WORKLOADS]; /* runs whose window held under two of its steps */
    int mixed_steps[SCENARIO_MAX_MODES][SCENARIO_MAX_WORKLOADS];   /* runs with unnamed steps of two sizes */
    int64_t mixed_sizes[SCENARIO_MAX_MODES][SCENARIO_MAX_WORKLOADS][2];
} analysis;

static cell *cell_at(analysis *a, int m, int r, int k, int w)
{
    const scenario *sc = &a->sc;
    return &a->cells[(((size_t)m * sc->repeats + (size_t)(r - 1)) * 2 + (size_t)k) * sc->nworkloads + (size_t)w];
}

static int mode_index(const scenario *sc, const char *name)
{
    for (int i = 0; i < sc->nmodes; i++)
        if (!strcmp(sc->modes[i], name)) return i;
    return -1;
}

/* A run left out of the figures (m: its mode, -1 where unknown). */
static json_t *exclude(analysis *a, int m, const char *seg, const char *wl, const char *why)
{
    json_t *x = json_pack("{s:s, s:s, s:s}", "segment", seg, "workload", wl, "reason", why);
    if (m >= 0) json_object_set_new(x, "mode", json_string(a->sc.modes[m]));
    json_array_append_new(a->excluded, x);
    return x;
}

/* A segment's requests due in its window: into the pool of its mode, kind
 * and workload; the SLO attainment of the segment into its cell. */
static void add_latencies(analysis *a, int m, int k, int w, cell *c, const wl_events *ev, int64_t ws, int64_t we)
{
    const workload_spec *spec = &a->sc.workloads[w];
    int total = 0, good = 0;
    for (int i = 0; i < ev->nlat; i++) {
        int64_t due = ev->lat[i].t_ns - ev->lat[i].latency_ns;
        if (due <= ws || due > we) continue;
        double v = (double)ev->lat[i].latency_ns / 1e6;
        total++;
        good += ev->lat[i].ok && spec->slo_ms > 0 && v <= spec->slo_ms;
        latency_pool_add(&a->lat[m][k][w], v, ev->lat[i].ok);
    }
    c->nlat = total;
    if (spec->slo_ms > 0 && total > 0) c->slo_attained = (double)good / total;
}

/* Throughput over time in a shared segment, one series per workload: the
 * first complete shared segment of each mode is plotted. */
static void add_series(analysis *a, int m, const char *seg_id, int w, const wl_events *ev, int64_t t0, int64_t end,
                       int64_t ws, int64_t we, json_t **series)
{
    /* About 60 points a plot, whatever the segment's length. */
    double bin_s = (double)(end - t0) / 1e9 / 60;
    bin_s = bin_s < TIMESERIES_MIN_BIN_S ? TIMESERIES_MIN_BIN_S : bin_s > 10 ? 10 : bin_s;
    int64_t bin = (int64_t)(bin_s * 1e9);
    int nbins = (int)((end - t0) / bin);
    if (nbins <= 0 || nbins > 100000) return;
    if (!*series) {
        *series = json_pack("{s:s, s:s, s:f, s:f, s:f, s:o}", "mode", a->sc.modes[m], "segment", seg_id, "bin_s",
                            bin_s, "window_start_s", (double)(ws - t0) / 1e9, "window_end_s",
                            (double)(we - t0) / 1e9, "workloads", json_object());
    }
    double *rates = calloc((size_t)nbins, sizeof *rates);
    if (!rates) return;
    binned_rates(ev->steps, ev->nsteps, ev->start_ns, t0, bin, rates, nbins);
    json_t *arr = json_array();
    for (int b = 0; b < nbins; b++) json_array_append_new(arr, json_real(rates[b]));
    free(rates);
    json_object_set_new(json_object_get(*series, "workloads"), a->sc.workloads[w].name, arr);
}

static double *seg_gpu_at(analysis *a, int m, int r)
{
    return &a->seg_gpu[((size_t)m * a->sc.repeats + (size_t)(r - 1)) * SG_N];
}

/* The GPU over a segment, averaged into at most GPU_TIMELINE_POINTS bins,
 * for the report's timeline plot. */
static json_t *gpu_timeline(const analysis *a, int m, const char *seg_id, const char *kind, const telem_series *s,
                            int64_t t0, int64_t end, int64_t ws, int64_t we)
{
    if (end <= t0 || s->nticks == 0) return NULL;
    /* two samples a bin at least, so no bin falls empty between two ticks */
    int nb = s->nticks / 2 < GPU_TIMELINE_POINTS ? s->nticks / 2 : GPU_TIMELINE_POINTS;
    if (nb < 1) nb = 1;
    double bin = (double)(end - t0) / nb;
    json_t *t = json_array(), *cols[4] = {json_array(), json_array(), json_array(), json_array()};
    for (int b = 0, i = 0; b < nb; b++) {
        double sum[4] = {0};
        int n[4] = {0};
        for (; i < s->nticks && (double)(s->ticks[i].t_ns - t0) < (b + 1) * bin; i++) {
            const telem_tick *k = &s->ticks[i];
            double v[4] = {k->util_gpu, k->sm_active, k->mem_used_mib / 1024, k->power_w};
            for (int c = 0; c < 4; c++) stats_add_finite(v[c], &sum[c], &n[c]);
        }
        json_array_append_new(t, json_real((b + 0.5) * bin / 1e9));
        for (int c = 0; c < 4; c++) json_array_append_new(cols[c], n[c] ? json_real(sum[c] / n[c]) : json_null());
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "mode", a->sc.modes[m], "segment", seg_id, "kind",
                          kind, "time_s", t, "gpu_util_pct", cols[0], "sm_active_pct", cols[1], "memory_gib", cols[2],
                          "power_w", cols[3]);
    if (we > ws) {
        json_object_set_new(o, "window_start_s", json_real((double)(ws - t0) / 1e9));
        json_object_set_new(o, "window_end_s", json_real((double)(we - t0) / 1e9));
    }
    return o;
}

/* Adds a doubt to a workload's run in flagged: to its entry, or a new one. */
static void flag_run(analysis *a, const char *seg, int m, const char *wname, const char *kind, json_t *sentence)
{
    json_t *e = NULL, *x;
    size_t i;
    json_array_foreach(a->flagged, i, x)
        if (!strcmp(json_string_value(json_object_get(x, "segment")), seg) &&
            !strcmp(json_string_value(json_object_get(x, "workload")), wname))
            e = x;
    if (!e) {
        e = json_pack("{s:s, s:s, s:s, s:[], s:[]}", "segment", seg, "mode", a->sc.modes[m], "workload", wname, "flags",
                      "flag_kinds");
        json_array_append_new(a->flagged, e);
    }
    json_array_append_new(json_object_get(e, "flags"), sentence);
    json_array_append_new(json_object_get(e, "flag_kinds"), json_string(kind));
}

typedef struct {
    int w;              /* scenario index */
    int64_t from, to;   /* the interval its figures cover */
    double samples;     /* samples (or runs) it finished in that interval */
    cell *c;            /* NULL: not measured */
} seg_member;

/* Each measured workload's GPU figures and share of the energy, the shared
 * window's GPU figures, and the mode's GPU timeline, from telemetry.csv. */
static void load_segment_gpu(analysis *a, const char *dir, const char *id, int m, int r, int k, seg_member *mem, int n,
                             int64_t t0, int64_t end, int64_t ws, int64_t we)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/segments/%s/telemetry.csv", dir, id);
    if (!fs_path_exists(path)) return;
    const char *names[SCENARIO_MAX_WORKLOADS];
    for (int w = 0; w < a->sc.nworkloads; w++) names[w] = a->sc.workloads[w].name;
    telem_series s;
    cot_err e;
    if (telem_series_load(path, names, a->sc.nworkloads, &s, &e) != 0) {
        /* the GPU figures only: throughput stands */
        json_object_set_new(exclude(a, m, id, "*", e.msg), "scope", json_string("gpu figures"));
        return;
    }
    int idx[SCENARIO_MAX_WORKLOADS];
    for (int i = 0; i < n; i++) idx[i] = mem[i].w;
    for (int i = 0; i < n; i++) {
        cell *c = mem[i].c;
        if (!c) continue;
        gpu_figures f;
        gpu_figures_compute(&s, a->sc.nworkloads, mem[i].from, mem[i].to, &f);
        double share[SCENARIO_MAX_WORKLOADS];
        const char *rule = gpu_energy_shares(&f, idx, n, share);
        if (k == SHARED && n > 1) {
            char *sp = a->split[m];
            if (!sp[0]) snprintf(sp, sizeof a->split[m], "%s", rule);
            else if (strcmp(sp, rule)) snprintf(sp, sizeof a->split[m], "mixed");
        }
        c->gpu[GF_UTIL] = f.util_gpu;
        c->gpu[GF_SM_ACTIVE] = f.sm_active;
        c->gpu[GF_PROC_SM] = f.wl_sm_util[mem[i].w];
        c->gpu[GF_PEAK_MEM] = f.wl_peak_mem_mib[mem[i].w];
        c->gpu[GF_POWER] = f.power_w;
        c->gpu[GF_ENERGY] = f.energy_j * share[i];
        c->gpu[GF_ENERGY_PER_SAMPLE] = mem[i].samples > 0 ? c->gpu[GF_ENERGY] / mem[i].samples : NAN;
        c->cond = (run_conditions){.known = f.nticks > 0, .sm_clock_mhz = f.sm_clock_mhz, .temp_c = f.temp_c_max,
                                   .limits = conditions_limit_bits(f.throttle), .limits_known = f.throttle_known};
        const mode_desc *md = mode_desc_lookup(scenario_mode_kind(&a->sc, m));
        mps_client_count mc = mps_clients_of(&s, mem[i].w, mem[i].from, mem[i].to);
        if (md && md->mps_clients && mc.rows > 0 && mc.clients == 0)
            flag_run(a, id, m, a->sc.workloads[mem[i].w].name, "not_mps_client",
                     json_sprintf("NVML never listed its GPU processes as MPS clients (%d samples in its window): it ran "
                                  "outside MPS, with a context of its own time-sliced against the MPS server, so its "
                                  "figures are not MPS's; check that CUDA_MPS_PIPE_DIRECTORY reaches it and names the "
                                  "daemon's pipe folder",
                                  mc.rows));
    }
    int64_t a0 = we > ws ? ws : t0, a1 = we > ws ? we : end;
    gpu_figures f;
    gpu_figures_compute(&s, a->sc.nworkloads, a0, a1, &f);
    json_t *others = other_procs_in_window(&s, a0, a1);
    if (others) {
        json_object_set_new(others, "segment", json_string(id));
        json_array_append_new(a->other_procs, others);
    }
    if (k == SHARED) {
        double *sg = seg_gpu_at(a, m, r);
        sg[SG_UTIL] = f.util_gpu, sg[SG_SM_ACTIVE] = f.sm_active, sg[SG_PEAK_MEM] = f.peak_mem_mib;
        sg[SG_POWER] = f.power_w, sg[SG_ENERGY] = f.energy_j;
    }
    /* The first shared segment of the mode shows what sharing looks like;
     * an alone one stands in until there is one. */
    if (!a->gpu_timeline_shared[m] && (k == SHARED || !a->gpu_timeline[m])) {
        json_t *tl = gpu_timeline(a, m, id, k == SHARED ? "shared" : "alone", &s, t0, end, ws, we);
        if (tl) {
            json_decref(a->gpu_timeline[m]);
            a->gpu_timeline[m] = tl;
            a->gpu_timeline_shared[m] = k == SHARED;
        }
    }
    telem_series_free(&s);
}

/* One segment as load_segment reads it. */
typedef struct {
    const char *dir, *id;
    int m, r, k;
    int64_t ws, we, t0, end;
    json_t *series; /* the mode's plotted throughput, where this segment gives it */
} seg_ctx;

/* A workload measured by its events: its throughput in the window (each
 * stream apportioned, cut at its last step where it sent none after the
 * end), its requests, and its plotted series. false: left out, with why. */
static bool load_event_figures(analysis *a, seg_ctx *s, int w, const char *wname, const json_t *res, cell *c,
                               seg_member *sm)
{
    const int m = s->m;
    const int64_t ws = s->ws, we = s->we;
    char path[PATH_MAX];
    cot_err e;
    snprintf(path, sizeof path, "%s/segments/%s/%s/events.jsonl", s->dir, s->id, wname);
    wl_events ev;
    if (wl_events_load(path, &ev, &e) != 0) {
        exclude(a, m, s->id, wname, e.msg);
        return false;
    }
    snprintf(a->units[w], sizeof a->units[w], "%s", ev.unit);
    /* a clock found off cotenant's during the run: its events on cotenant's */
    wl_events_shift(&ev, json_integer_value(json_object_get(res, "clock_correction_ns")));
    window_rate wr = window_rate_of(ev.steps, ev.nsteps, ev.start_ns, ws, we);
    const char *why_not = ev.too_many_streams ? "its steps name more step streams than cotenant reads (64)"
                          : ev.nsteps && !wr.measurable
                              ? "none of its steps ended inside the measured window or after it: its steps are "
                                "longer than the window; lengthen duration"
                              : NULL;
    if (why_not) {
        exclude(a, m, s->id, wname, why_not);
        wl_events_free(&ev);
        return false;
    }
    sm->samples = wr.rate * (double)(we - ws) / 1e9;
    if (ev.nsteps > 0 && wr.min_steps_inside < 2) a->short_windows[m][w]++;
    if (window_mixed_sizes(ev.steps, ev.nsteps, 0, ws, we, &a->mixed_sizes[m][w][0], &a->mixed_sizes[m][w][1]))
        a->mixed_steps[m][w]++;
    if (ev.nsteps == 0) { /* a server or load generator: its work is the requests answered */
        sm->samples = 0;
        for (int i = 0; i < ev.nlat; i++) sm->samples += ev.lat[i].ok && ev.lat[i].t_ns > ws && ev.lat[i].t_ns <= we;
    }
    c->throughput = sm->samples * 1e9 / (double)(we - ws);
    add_latencies(a, m, s->k, w, c, &ev, ws, we);
    if (s->k == SHARED && !a->have_series[m]) add_series(a, m, s->id, w, &ev, s->t0, s->end, ws, we, &s->series);
    wl_events_free(&ev);
    return true;
}

/* One workload's result in the segment: into its cell, or left out (with
 * why); flagged runs are listed. */
static void load_workload(analysis *a, seg_ctx *s, int w, const char *wname, const json_t *res, seg_member *sm)
{
    const int m = s->m;
    *sm = (seg_member){.w = w, .from = s->ws, .to = s->we};
    const char *status = json_string_value(json_object_get(res, "status"));
    bool flagged = status && !strcmp(status, "flagged");
    if (!status || (strcmp(status, "ok") != 0 && !flagged)) {
        const char *reason = json_string_value(json_object_get(res, "reason"));
        exclude(a, m, s->id, wname, reason ? reason : status ? status : "no status");
        return;
    }
    if (flagged)
        /* copies: the telemetry may add its own doubts to these lists */
        json_array_append_new(a->flagged, json_pack("{s:s, s:s, s:s, s:o, s:o}", "segment", s->id, "mode", a->sc.modes[m],
                                                    "workload", wname, "flags",
                                                    json_copy(json_object_get(res, "flags")) ?: json_array(), "flag_kinds",
                                                    json_copy(json_object_get(res, "flag_kinds")) ?: json_array()));
    cell *c = cell_at(a, m, s->r, s->k, w);
    for (int i = 0; i < GF_N; i++) c->gpu[i] = NAN;
    c->slo_attained = NAN;
    if (a->sc.workloads[w].measure == MEASURE_WALL_TIME) {
        double wall = json_number_value(json_object_get(res, "wall_s"));
        if (wall <= 0) {
            exclude(a, m, s->id, wname, "no wall time recorded");
            return;
        }
        c->throughput = 1.0 / wall;
        /* a run to completion: its figures cover its own run, per run */
        sm->from = json_integer_value(json_object_get(res, "started_ns"));
        sm->to = json_integer_value(json_object_get(res, "ended_ns"));
        sm->samples = 1;
        snprintf(a->units[w], sizeof a->units[w], "runs");
    } else if (s->we <= s->ws) {
        exclude(a, m, s->id, wname, "the segment has no measured window");
        return;
    } else if (!load_event_figures(a, s, w, wname, res, c, sm)) {
        return;
    }
    c->valid = true;
    sm->c = c;
}

static void load_segment(analysis *a, const char *dir, const json_t *entry)
{
    const char *id = json_string_value(json_object_get(entry, "id"));
    int m = mode_index(&a->sc, json_string_value(json_object_get(entry, "mode")) ?: "");
    int r = (int)json_integer_value(json_object_get(entry, "repeat"));
    const char *kind_name = json_string_value(json_object_get(entry, "kind"));
    if (!id || m < 0 || r < 1 || r > a->sc.repeats || !kind_name) return;
    if (!name_is_safe_id(id, sizeof ((plan_segment *)0)->id - 1)) { /* a path below: never "../" */
        char shown[80];
        name_printable(shown, sizeof shown, id);
        exclude(a, m, shown, "*", "the segment id in run.json is not a plain name (letters, digits, '_', '-', '.')");
        return;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/segments/%s/segment.json", dir, id);
    cot_err e;
    json_t *seg = fs_path_exists(path) ? fs_read_json_file(path, 16 << 20, &e) : NULL;
    if (!seg) {
        const char *st = json_string_value(json_object_get(entry, "status"));
        /* adaptive repeats left it out, or a run still going has yet to reach it: no run to count */
        if (st && (!strcmp(st, "skipped") || (!strcmp(st, "pending") && a->in_progress))) return;
        exclude(a, m, id, "*", st && !strcmp(st, "pending") ? "not run" : "segment.json missing or unreadable");
        return;
    }
    json_t *window = json_object_get(seg, "window");
    seg_ctx s = {.dir = dir, .id = id, .m = m, .r = r, .k = strcmp(kind_name, "shared") == 0 ? SHARED : ALONE,
                 .ws = json_integer_value(json_object_get(window, "start_ns")),
                 .we = json_integer_value(json_object_get(window, "end_ns")),
                 .t0 = json_integer_value(json_object_get(seg, "t0_ns")),
                 .end = json_integer_value(json_object_get(seg, "ended_ns"))};
    const char *wname;
    json_t *res;
    seg_member mem[SCENARIO_MAX_WORKLOADS];
    int nmem = 0;
    json_object_foreach(json_object_get(seg, "results"), wname, res) {
        int w = scenario_workload_index(&a->sc, wname);
        if (w < 0 || nmem >= SCENARIO_MAX_WORKLOADS) continue;
        load_workload(a, &s, w, wname, res, &mem[nmem++]);
    }
    if (s.series) {
        json_array_append_new(a->timeseries, s.series);
        a->have_series[m] = true;
    }
    load_segment_gpu(a, dir, id, m, r, s.k, mem, nmem, s.t0, s.end, s.ws, s.we);
    json_decref(seg);
}

/* Collects one figure across repeats and summarises it. */
typedef double (*cell_fn)(const cell *c, int arg);
static double f_tp(const cell *c, int arg)
{
    (void)arg;
    return c->throughput;
}
static double f_slo(const cell *c, int arg)
{
    (void)arg;
    return c->slo_attained;
}
static double f_gpu(const cell *c, int arg)
{
    return c->gpu[arg];
}

/* Its interval clamped to [lo, hi], the range the figure can take. */
static json_t *across_repeats_in(analysis *a, int m, int k, int w, cell_fn fn, int arg, double lo, double hi)
{
    double v[SCENARIO_MAX_REPEATS];
    int n = 0;
    for (int r = 1; r <= a->sc.repeats; r++) {
        cell *c = cell_at(a, m, r, k, w);
        if (c->valid && isfinite(fn(c, arg))) v[n++] = fn(c, arg);
    }
    return stats_summary_json_in(v, n, lo, hi);
}

static json_t *across_repeats(analysis *a, int m, int k, int w, cell_fn fn, int arg)
{
    return across_repeats_in(a, m, k, w, fn, arg, 0, INFINITY); /* throughputs, GPU figures: never negative */
}

/* Across a mode's repeats: each workload's NP per complete pair of cells,
 * and the system figures of each repeat where every workload has one. */
typedef struct {
    double np[SCENARIO_MAX_WORKLOADS][SCENARIO_MAX_REPEATS];
    int nnp[SCENARIO_MAX_WORKLOADS];
    double stp[SCENARIO_MAX_REPEATS], antt[SCENARIO_MAX_REPEATS], jain[SCENARIO_MAX_REPEATS];
    int nsys;
} mode_figures;

/* The mode whose alone runs are the common baseline; -1 where the run has none. */
static int baseline_mode(const scenario *sc)
{
    for (int m = 0; m < sc->nmodes; m++)
        if (mode_desc_lookup(scenario_mode_kind(sc, m)) == mode_desc_baseline() && !scenario_mode_is_config(sc, m)) return m;
    return -1;
}

/* Mode m's shared runs against the alone runs of mode alone_m: its own
 * (in-mode NP), or the baseline's (NP against the whole GPU). */
static void compute_mode_figures(analysis *a, int m, int alone_m, mode_figures *f)
{
    const scenario *sc = &a->sc;
    memset(f, 0, sizeof *f);
    bool is_unit[SCENARIO_MAX_WORKLOADS];
    for (int w = 0; w < sc->nworkloads; w++) is_unit[w] = scenario_driver_of(sc, w) < 0;
    for (int r = 1; r <= sc->repeats; r++) {
        double np[SCENARIO_MAX_WORKLOADS];
        for (int w = 0; w < sc->nworkloads; w++) {
            cell *al = cell_at(a, alone_m, r, ALONE, w), *sh = cell_at(a, m, r, SHARED, w);
            np[w] = al->valid && sh->valid ? figure_np(sh->throughput, al->throughput) : NAN;
            if (isfinite(np[w])) f->np[w][f->nnp[w]++] = np[w];
        }
        /* System figures need every workload of the repeat. */
        bool complete = true;
        for (int w = 0; w < sc->nworkloads; w++) complete &= isfinite(np[w]) != 0;
        system_figures sf;
        if (complete && figures_of_repeat(np, is_unit, sc->nworkloads, &sf) == 0) {
            f->stp[f->nsys] = sf.stp, f->antt[f->nsys] = sf.antt, f->jain[f->nsys] = sf.jain;
            f->nsys++;
        }
    }
}

/* One summary a figure kind (latency percentiles, GPU figures), alone and
 * (where the mode shares) shared; NULL when no segment had any. */
static json_t *per_kind(analysis *a, int m, int w, bool shares, double (*fn)(const cell *, int), int nfields,
                        const char *const *names)
{
    json_t *out = json_object();
    for (int k = 0; k < (shares ? 2 : 1); k++) {
        json_t *kk = json_object();
        int have = 0;
        for (int i = 0; i < nfields; i++) {
            json_t *sum = across_repeats(a, m, k, w, fn, i);
            have |= !json_is_null(sum);
            json_object_set_new(kk, names[i], sum);
        }
        if (have) json_object_set_new(out, k == ALONE ? "alone" : "shared", kk);
        else json_decref(kk);
    }
    if (json_object_size(out)) return out;
    json_decref(out);
    return NULL;
}

static json_t *workload_json(analysis *a, int m, int w, bool shares, const mode_figures *f, const mode_figures *fc)
{
    const workload_spec *spec = &a->sc.workloads[w];
    json_t *wo = json_pack("{s:s, s:s, s:s}", "name", spec->name, "unit", a->units[w][0] ? a->units[w] : "samples",
                           "measure", spec->measure == MEASURE_WALL_TIME ? "wall_time" : "events");
    json_object_set_new(wo, "alone_throughput", across_repeats(a, m, ALONE, w, f_tp, 0));
    if (a->short_windows[m][w]) json_object_set_new(wo, "short_windows", json_integer(a->short_windows[m][w]));
    if (a->mixed_steps[m][w])
        json_object_set_new(wo, "mixed_step_sizes", json_pack("{s:i, s:I, s:I}", "runs", a->mixed_steps[m][w], "small",
                                                             (json_int_t)a->mixed_sizes[m][w][0], "large",
                                                             (json_int_t)a->mixed_sizes[m][w][1]));
    if (shares) {
        json_object_set_new(wo, "shared_throughput", across_repeats(a, m, SHARED, w, f_tp, 0));
        json_object_set_new(wo, "normalized_progress", stats_summary_json_in(f->np[w], f->nnp[w], 0, INFINITY));
        if (fc)
            json_object_set_new(wo, "normalized_progress_common",
                                stats_summary_json_in(fc->np[w], fc->nnp[w], 0, INFINITY));
    }
    json_t *lat = json_object();
    for (int k = 0; k < (shares ? 2 : 1); k++) {
        json_t *pool = latency_pool_json(&a->lat[m][k][w]);
        if (pool) json_object_set_new(lat, k == ALONE ? "alone" : "shared", pool);
    }
    if (json_object_size(lat)) json_object_set_new(wo, "latency_ms", lat);
    else json_decref(lat);
    json_t *gpu = per_kind(a, m, w, shares, f_gpu, GF_N, GPU_FIELDS);
    if (gpu) json_object_set_new(wo, "gpu", gpu);
    if (spec->slo_ms > 0) {
        json_object_set_new(wo, "slo_ms", json_real(spec->slo_ms));
        json_t *att = json_object();
        json_object_set_new(att, "alone", across_repeats_in(a, m, ALONE, w, f_slo, 0, 0, 1));
        if (shares) json_object_set_new(att, "shared", across_repeats_in(a, m, SHARED, w, f_slo, 0, 0, 1));
        json_object_set_new(wo, "slo_attainment", att);
    }
    return wo;
}

/* The whole GPU in the mode's shared segments; NULL when never sampled. */
static json_t *gpu_shared_json(analysis *a, int m)
{
    json_t *g = json_object();
    int have = 0;
    for (int f = 0; f < SG_N; f++) {
        double v[SCENARIO_MAX_REPEATS];
        int n = 0;
        for (int r = 1; r <= a->sc.repeats; r++)
            if (isfinite(seg_gpu_at(a, m, r)[f])) v[n++] = seg_gpu_at(a, m, r)[f];
        have |= n > 0;
        json_object_set_new(g, SEG_GPU_FIELDS[f], stats_summary_json(v, n));
    }
    if (!have) {
        json_decref(g);
        return NULL;
    }
    json_object_set_new(g, "energy_split", json_string(a->split[m][0] ? a->split[m] : "equal"));
    return g;
}

/* Each workload's alone and shared runs of a repeat whose GPU conditions
 * differ enough to explain part of the difference between them; NULL: none. */
static json_t *conditions_of_mode(analysis *a, int m)
{
    json_t *out = json_array();
    for (int r = 1; r <= a->sc.repeats; r++)
        for (int w = 0; w < a->sc.nworkloads; w++) {
            const cell *al = cell_at(a, m, r, ALONE, w), *sh = cell_at(a, m, r, SHARED, w);
            char why[600];
            bool invalidates;
            if (!al->valid || !sh->valid || !conditions_differ(&al->cond, &sh->cond, why, sizeof why, &invalidates))
                continue;
            json_array_append_new(out, json_pack("{s:i, s:s, s:o, s:o, s:s, s:b}", "repeat", r, "workload",
                                                 a->sc.workloads[w].name, "alone", conditions_json(&al->cond), "shared",
                                                 conditions_json(&sh->cond), "why", why, "invalidates", invalidates));
        }
    if (json_array_size(out)) return out;
    json_decref(out);
    return NULL;
}

static json_t *mode_metrics(analysis *a, int m)
{
    const scenario *sc = &a->sc;
    const mode_desc *desc = mode_desc_lookup(scenario_mode_kind(sc, m));
    bool shares = plan_mode_shares(sc, m);
    int base = baseline_mode(sc);
    mode_figures f, fc;
    if (shares) compute_mode_figures(a, m, m, &f);
    else memset(&f, 0, sizeof f);
    bool common = shares && base >= 0 && base != m;
    if (common) compute_mode_figures(a, m, base, &fc);
    json_t *mo = json_pack("{s:s, s:b}", "mode", sc->modes[m], "shares", shares);
    json_t *settings = scenario_config_settings(sc, m);
    if (settings) { /* a sweep's point: which mode, with which settings */
        json_t *c = json_pack("{s:s, s:o}", "mode", scenario_mode_kind(sc, m), "settings", settings), *gpu;
        if ((gpu = scenario_config_gpu(sc, m))) json_object_set_new(c, "gpu", gpu);
        json_object_set_new(c, "axes", scenario_config_axes(sc, m));
        json_object_set_new(mo, "configuration", c);
    }
    if (desc && desc->caveat) json_object_set_new(mo, "caveat", json_string(desc->caveat));
    json_t *ws = json_array();
    for (int w = 0; w < sc->nworkloads; w++)
        json_array_append_new(ws, workload_json(a, m, w, shares, &f, common ? &fc : NULL));
    json_object_set_new(mo, "workloads", ws);
    if (shares) {
        json_t *g = gpu_shared_json(a, m);
        if (g) json_object_set_new(mo, "gpu_shared", g);
        json_object_set_new(mo, "stp", stats_summary_json_in(f.stp, f.nsys, 0, INFINITY));
        json_object_set_new(mo, "antt", stats_summary_json_in(f.antt, f.nsys, 0, INFINITY));
        json_object_set_new(mo, "jain", stats_summary_json_in(f.jain, f.nsys, 0, 1));
        json_t *cond = conditions_of_mode(a, m);
        if (cond) json_object_set_new(mo, "conditions_differ", cond);
    }
    if (common) { /* the same against each workload alone on the whole GPU */
        json_object_set_new(mo, "baseline", json_string(sc->modes[base]));
        json_object_set_new(mo, "stp_common", stats_summary_json_in(fc.stp, fc.nsys, 0, INFINITY));
        json_object_set_new(mo, "antt_common", stats_summary_json_in(fc.antt, fc.nsys, 0, INFINITY));
        json_object_set_new(mo, "jain_common", stats_summary_json_in(fc.jain, fc.nsys, 0, 1));
        json_object_set_new(mo, "repeats_complete_common", json_integer(fc.nsys));
    }
    if (shares && common && !plan_mode_runs_alone(sc, m)) {
        /* own_baselines: false: no alone runs of its own, so no figures
         * against them; a repeat is complete with the baseline's */
        json_object_set_new(mo, "own_baseline", json_false());
        json_object_del(mo, "stp"), json_object_del(mo, "antt"), json_object_del(mo, "jain");
        size_t i;
        json_t *wo;
        json_array_foreach(ws, i, wo) json_object_del(wo, "normalized_progress");
        json_object_set_new(mo, "repeats_complete", json_integer(fc.nsys));
        return mo;
    }
    json_object_set_new(mo, "repeats_complete", json_integer(f.nsys));
    return mo;
}

static json_t *latency_cdfs(analysis *a)
{
    json_t *out = json_array();
    for (int m = 0; m < a->sc.nmodes; m++)
        for (int w = 0; w < a->sc.nworkloads; w++) {
            int n = a->lat[m][SHARED][w].n;
            if (n == 0) continue;
            double *v = a->lat[m][SHARED][w].ms;
            stats_sort(v, n);
            json_t *pts = json_array();
            int npts = n < CDF_POINTS ? n : CDF_POINTS;
            for (int i = 0; i < npts; i++) {
                double q = npts == 1 ? 1.0 : (double)i / (npts - 1);
                json_array_append_new(pts, json_pack("[f, f]", stats_percentile_sorted(v, n, q * 100), q));
            }
            json_array_append_new(out, json_pack("{s:s, s:s, s:i, s:o}", "mode", a->sc.modes[m], "workload",
                                                 a->sc.workloads[w].name, "requests", n, "points", pts));
        }
    return out;
}

static void csv_row(FILE *f, const char *mode, const char *wl, const char *metric, const char *unit, const json_t *s)
{
    if (!s || json_is_null(s)) return;
    /* a mean across repeats, or a pooled percentile's value */
    json_t *v = json_object_get(s, "mean") ? json_object_get(s, "mean") : json_object_get(s, "value");
    if (!json_is_number(v)) return;
    double mean = json_number_value(v);
    json_t *lo = json_object_get(s, "ci95_low"), *hi = json_object_get(s, "ci95_high");
    fprintf(f, "%s,%s,%s,%s,%.6g,", mode, wl, metric, unit, mean);
    if (json_is_number(lo)) fprintf(f, "%.6g", json_number_value(lo));
    fputc(',', f);
    if (json_is_number(hi)) fprintf(f, "%.6g", json_number_value(hi));
    fprintf(f, ",%d\n", (int)json_integer_value(json_object_get(s, "n")));
}

static int write_summary_csv(const char *dir, json_t *modes, cot_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return cot_errf(err, "out of memory");
    fprintf(f, "mode,workload,metric,unit,mean,ci95_low,ci95_high,n\n");
    size_t i;
    json_t *mo;
    json_array_foreach(modes, i, mo) {
        const char *m = json_string_value(json_object_get(mo, "mode"));
        size_t j;
        json_t *wo;
        json_array_foreach(json_object_get(mo, "workloads"), j, wo) {
            const char *w = json_string_value(json_object_get(wo, "name"));
            char unit[64];
            snprintf(unit, sizeof unit, "%s/s", json_string_value(json_object_get(wo, "unit")));
            csv_row(f, m, w, "alone_throughput", unit, json_object_get(wo, "alone_throughput"));
            csv_row(f, m, w, "shared_throughput", unit, json_object_get(wo, "shared_throughput"));
            csv_row(f, m, w, "normalized_progress", "ratio", json_object_get(wo, "normalized_progress"));
            json_t *lat = json_object_get(wo, "latency_ms");
            const char *k;
            json_t *lk;
            json_object_foreach(lat, k, lk) {
                for (int p = 0; p < LATENCY_PCTS; p++) {
                    char metric[64];
                    snprintf(metric, sizeof metric, "%s_latency_%s", k, latency_pct_names[p]);
                    csv_row(f, m, w, metric, "ms", json_object_get(lk, latency_pct_names[p]));
                }
            }
            json_t *gpu = json_object_get(wo, "gpu");
            json_object_foreach(gpu, k, lk) {
                for (int g = 0; g < GF_N; g++) {
                    char metric[64], gunit[80];
                    snprintf(metric, sizeof metric, "%s_%s", k, GPU_FIELDS[g]);
                    if (g == GF_ENERGY_PER_SAMPLE) snprintf(gunit, sizeof gunit, "J/%s", json_string_value(json_object_get(wo, "unit")));
                    else snprintf(gunit, sizeof gunit, "%s", GPU_UNITS[g]);
                    csv_row(f, m, w, metric, gunit, json_object_get(lk, GPU_FIELDS[g]));
                }
            }
            json_t *att = json_object_get(wo, "slo_attainment");
            csv_row(f, m, w, "alone_slo_attainment", "fraction", json_object_get(att, "alone"));
            csv_row(f, m, w, "shared_slo_attainment", "fraction", json_object_get(att, "shared"));
        }
        json_t *sg = json_object_get(mo, "gpu_shared");
        for (int g = 0; g < SG_N; g++) {
            char metric[64];
            snprintf(metric, sizeof metric, "shared_%s", SEG_GPU_FIELDS[g]);
            csv_row(f, m, "*", metric, SEG_GPU_UNITS[g], json_object_get(sg, SEG_GPU_FIELDS[g]));
        }
        csv_row(f, m, "*", "stp", "sum of NP", json_object_get(mo, "stp"));
        csv_row(f, m, "*", "antt", "mean 1/NP", json_object_get(mo, "antt"));
        csv_row(f, m, "*", "jain_fairness", "index", json_object_get(mo, "jain"));
    }
    fclose(f);
    char path[PATH_MAX];
    int rc = fs_path_join(path, sizeof path, dir, "summary.csv", err) ? -1 : fs_write_file_atomic(path, buf, len, err);
    free(buf);
    return rc;
}

static int analyze(const char *dir, bool in_progress, cot_err *err);

int analyze_run(const char *dir, cot_err *err)
{
    return analyze(dir, false, err);
}

int analyze_run_so_far(const char *dir, cot_err *err)
{
    return analyze(dir, true, err);
}

static int analyze(const char *dir, bool in_progress, cot_err *err)
{
    char path[PATH_MAX];
    if (fs_path_join(path, sizeof path, dir, "run.json", err)) return -1;
    analysis a;
    memset(&a, 0, sizeof a);
    a.run = fs_read_json_file(path, RUN_JSON_MAX_BYTES, err);
    if (!a.run) return cot_err_prefix(err, "%s is not a cotenant results folder", dir);
    char why[256];
    if (scenario_from_json(json_object_get(a.run, "scenario"), &a.sc, why, sizeof why) != 0) {
        json_decref(a.run);
        scenario_free(&a.sc);
        return cot_errf(err, "%s: the scenario in run.json is damaged: %s", path, why);
    }
    a.cells = calloc((size_t)a.sc.nmodes * (size_t)a.sc.repeats * 2 * (size_t)a.sc.nworkloads, sizeof *a.cells);
    size_t nsg = (size_t)a.sc.nmodes * (size_t)a.sc.repeats * SG_N;
    a.seg_gpu = malloc(nsg * sizeof *a.seg_gpu);
    if (!a.cells || !a.seg_gpu) {
        free(a.cells), free(a.seg_gpu), json_decref(a.run), scenario_free(&a.sc);
        return cot_errf(err, "out of memory analysing %s", dir);
    }
    for (size_t k = 0; k < nsg; k++) a.seg_gpu[k] = NAN;
    for (int m = 0; m < SCENARIO_MAX_MODES; m++)
        for (int w = 0; w < SCENARIO_MAX_WORKLOADS; w++) latency_pool_init(&a.lat[m][ALONE][w]), latency_pool_init(&a.lat[m][SHARED][w]);
    a.excluded = json_array();
    a.timeseries = json_array();
    a.other_procs = json_array();
    a.flagged = json_array();
    a.in_progress = in_progress; /* not from run.json's status: a run killed outright stays "running" there */
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(a.run, "plan"), i, entry) load_segment(&a, dir, entry);

    json_t *modes = json_array();
    for (int m = 0; m < a.sc.nmodes; m++) json_array_append_new(modes, mode_metrics(&a, m));
    json_t *doc = json_object();
    json_object_set_new(doc, "scenario", json_string(a.sc.name));
    json_object_set_new(doc, "device", json_string(a.sc.device == DEVICE_CPU ? "cpu" : "gpu"));
    json_object_set_new(doc, "run_status", json_incref(json_object_get(a.run, "status")));
    json_object_set_new(doc, "definitions", json_string("docs/metrics.md"));
    json_object_set_new(doc, "modes", modes);
    json_object_set_new(doc, "timeseries", a.timeseries);
    json_t *tl = json_array();
    for (int m = 0; m < a.sc.nmodes; m++)
        if (a.gpu_timeline[m]) json_array_append_new(tl, a.gpu_timeline[m]);
    json_object_set_new(doc, "gpu_timeseries", tl);
    json_t *telem = json_object_get(a.run, "telemetry");
    json_object_set_new(doc, "telemetry", telem ? json_incref(telem) : json_pack("{s:b, s:s}", "enabled", 0, "reason",
                                                                                   "the run predates GPU telemetry"));
    json_object_set_new(doc, "latency_cdf", latency_cdfs(&a));
    json_object_set_new(doc, "excluded", a.excluded);
    json_object_set_new(doc, "other_gpu_processes", a.other_procs);
    json_object_set_new(doc, "flagged", a.flagged);
    json_object_set_new(doc, "failures", json_incref(json_object_get(a.run, "failures")));
    validity_annotate(doc, a.sc.repeats);
    json_object_set_new(doc, "recommendation", advise(doc, &a.sc, &a.sc.objective));
    json_t *adaptive = json_object_get(a.run, "adaptive"); /* repeats: auto: what it ran, and its time to answer */
    if (adaptive) json_object_set_new(doc, "adaptive", json_incref(adaptive));
    int rc = fs_path_join(path, sizeof path, dir, "metrics.json", err) ? -1 : fs_write_json_atomic(path, doc, err);
    if (rc == 0) rc = write_summary_csv(dir, modes, err);
    json_decref(doc);
    for (int m = 0; m < SCENARIO_MAX_MODES; m++)
        for (int w = 0; w < SCENARIO_MAX_WORKLOADS; w++) latency_pool_free(&a.lat[m][ALONE][w]), latency_pool_free(&a.lat[m][SHARED][w]);
    free(a.cells);
    free(a.seg_gpu);
    json_decref(a.run);
    scenario_free(&a.sc);
    return rc;
}
