#include "analysis/analyze.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/events_load.h"
#include "analysis/stats.h"
#include "analysis/throughput.h"
#include "mode/mode.h"
#include "scenario/scenario.h"
#include "util/fsutil.h"

/* One workload in one segment, reduced to what the metrics need. */
typedef struct {
    bool valid;
    double throughput;  /* samples per second in the window (runs/s for wall time) */
    double p[4];        /* latency percentiles, ms: 50, 95, 99, 99.9; NAN if none */
    double slo_attained;/* fraction of requests ok and within the SLO; NAN if none */
    int nlat;
} cell;

enum { ALONE = 0, SHARED = 1 };
static const double PCTS[4] = {50, 95, 99, 99.9};
static const char *const PCT_NAMES[4] = {"p50", "p95", "p99", "p99_9"};

typedef struct {
    scenario sc;
    json_t *run;
    cell *cells;                 /* [mode][repeat][kind][workload] */
    char units[SCENARIO_MAX_WORKLOADS][EVENT_UNIT_MAX];
    double *cdf[SCENARIO_MAX_MODES][SCENARIO_MAX_WORKLOADS]; /* pooled shared latencies, ms */
    int ncdf[SCENARIO_MAX_MODES][SCENARIO_MAX_WORKLOADS], cdf_cap[SCENARIO_MAX_MODES][SCENARIO_MAX_WORKLOADS];
    json_t *excluded, *timeseries;
    bool have_series[SCENARIO_MAX_MODES];
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

static void exclude(analysis *a, const char *seg, const char *wl, const char *why)
{
    json_array_append_new(a->excluded, json_pack("{s:s, s:s, s:s}", "segment", seg, "workload", wl, "reason", why));
}

static void pool_latency(analysis *a, int m, int w, const double *ms, int n)
{
    int need = a->ncdf[m][w] + n;
    if (need > a->cdf_cap[m][w]) {
        int cap = need * 2;
        double *nv = realloc(a->cdf[m][w], (size_t)cap * sizeof *nv);
        if (!nv) return;
        a->cdf[m][w] = nv;
        a->cdf_cap[m][w] = cap;
    }
    memcpy(a->cdf[m][w] + a->ncdf[m][w], ms, (size_t)n * sizeof *ms);
    a->ncdf[m][w] = need;
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

static void load_segment(analysis *a, const char *dir, const json_t *entry)
{
    const char *id = json_string_value(json_object_get(entry, "id"));
    int m = mode_index(&a->sc, json_string_value(json_object_get(entry, "mode")) ?: "");
    int r = (int)json_integer_value(json_object_get(entry, "repeat"));
    const char *kind_name = json_string_value(json_object_get(entry, "kind"));
    if (!id || m < 0 || r < 1 || r > a->sc.repeats || !kind_name) return;
    int k = strcmp(kind_name, "shared") == 0 ? SHARED : ALONE;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/segments/%s/segment.json", dir, id);
    cot_err e;
    json_t *seg = path_exists(path) ? read_json_file(path, 16 << 20, &e) : NULL;
    if (!seg) {
        const char *st = json_string_value(json_object_get(entry, "status"));
        exclude(a, id, "*", st && !strcmp(st, "pending") ? "not run" : "segment.json missing or unreadable");
        return;
    }
    json_t *window = json_object_get(seg, "window");
    int64_t ws = json_integer_value(json_object_get(window, "start_ns"));
    int64_t we = json_integer_value(json_object_get(window, "end_ns"));
    int64_t t0 = json_integer_value(json_object_get(seg, "t0_ns"));
    int64_t end = json_integer_value(json_object_get(seg, "ended_ns"));
    json_t *series = NULL;
    const char *wname;
    json_t *res;
    json_object_foreach(json_object_get(seg, "results"), wname, res) {
        int w = scenario_workload_index(&a->sc, wname);
        if (w < 0) continue;
        const char *status = json_string_value(json_object_get(res, "status"));
        if (!status || strcmp(status, "ok") != 0) {
            const char *reason = json_string_value(json_object_get(res, "reason"));
            exclude(a, id, wname, reason ? reason : status ? status : "no status");
            continue;
        }
        cell *c = cell_at(a, m, r, k, w);
        for (int i = 0; i < 4; i++) c->p[i] = NAN;
        c->slo_attained = NAN;
        const workload_spec *spec = &a->sc.workloads[w];
        if (spec->measure == MEASURE_WALL_TIME) {
            double wall = json_number_value(json_object_get(res, "wall_s"));
            if (wall <= 0) {
                exclude(a, id, wname, "no wall time recorded");
                continue;
            }
            c->throughput = 1.0 / wall;
            c->valid = true;
            snprintf(a->units[w], sizeof a->units[w], "runs");
            continue;
        }
        if (we <= ws) {
            exclude(a, id, wname, "the segment has no measured window");
            continue;
        }
        snprintf(path, sizeof path, "%s/segments/%s/%s/events.jsonl", dir, id, wname);
        wl_events ev;
        if (wl_events_load(path, &ev, &e) != 0) {
            exclude(a, id, wname, e.msg);
            continue;
        }
        snprintf(a->units[w], sizeof a->units[w], "%s", ev.unit);
        c->throughput = window_samples(ev.steps, ev.nsteps, ev.start_ns, ws, we) * 1e9 / (double)(we - ws);
        c->valid = true;
        /* Latencies of requests that completed inside the window. */
        double *ms = malloc((size_t)(ev.nlat ? ev.nlat : 1) * sizeof *ms);
        int n = 0, good = 0;
        for (int i = 0; ms && i < ev.nlat; i++) {
            if (ev.lat[i].t_ns <= ws || ev.lat[i].t_ns > we) continue;
            double v = (double)ev.lat[i].latency_ns / 1e6;
            if (ev.lat[i].ok) ms[n++] = v; /* failed requests count against the SLO, not in percentiles */
            if (ev.lat[i].ok && spec->slo_ms > 0 && v <= spec->slo_ms) good++;
        }
        int total = 0;
        for (int i = 0; i < ev.nlat; i++) total += ev.lat[i].t_ns > ws && ev.lat[i].t_ns <= we;
        if (ms && n > 0) {
            stats_sort(ms, n);
            for (int i = 0; i < 4; i++) c->p[i] = stats_percentile_sorted(ms, n, PCTS[i]);
            if (k == SHARED) pool_latency(a, m, w, ms, n);
        }
        c->nlat = total;
        if (spec->slo_ms > 0 && total > 0) c->slo_attained = (double)good / total;
        free(ms);
        if (k == SHARED && !a->have_series[m]) add_series(a, m, id, w, &ev, t0, end, ws, we, &series);
        wl_events_free(&ev);
    }
    if (series) {
        json_array_append_new(a->timeseries, series);
        a->have_series[m] = true;
    }
    json_decref(seg);
}

/* Collects one figure across repeats and summarises it. */
typedef double (*cell_fn)(const cell *c, int arg);
static double f_tp(const cell *c, int arg)
{
    (void)arg;
    return c->throughput;
}
static double f_pct(const cell *c, int arg)
{
    return c->p[arg];
}
static double f_slo(const cell *c, int arg)
{
    (void)arg;
    return c->slo_attained;
}

static json_t *across_repeats(analysis *a, int m, int k, int w, cell_fn fn, int arg)
{
    double v[SCENARIO_MAX_REPEATS];
    int n = 0;
    for (int r = 1; r <= a->sc.repeats; r++) {
        cell *c = cell_at(a, m, r, k, w);
        if (c->valid && isfinite(fn(c, arg))) v[n++] = fn(c, arg);
    }
    return stats_summary_json(v, n);
}

static json_t *mode_metrics(analysis *a, int m)
{
    const scenario *sc = &a->sc;
    const mode_ops *ops = mode_lookup(sc->modes[m]);
    bool shares = ops && ops->shares && sc->nworkloads > 1;
    json_t *mo = json_pack("{s:s, s:b}", "mode", sc->modes[m], "shares", shares);
    json_t *ws = json_array();
    double stp[SCENARIO_MAX_REPEATS], antt[SCENARIO_MAX_REPEATS], jain[SCENARIO_MAX_REPEATS];
    int nsys = 0;
    double np_by_w[SCENARIO_MAX_WORKLOADS][SCENARIO_MAX_REPEATS];
    int nnp[SCENARIO_MAX_WORKLOADS] = {0};
    for (int r = 1; shares && r <= sc->repeats; r++) {
        double np[SCENARIO_MAX_WORKLOADS];
        bool complete = true;
        for (int w = 0; w < sc->nworkloads; w++) {
            cell *al = cell_at(a, m, r, ALONE, w), *sh = cell_at(a, m, r, SHARED, w);
            if (!al->valid || !sh->valid || al->throughput <= 0) {
                complete = false;
                continue;
            }
            np[w] = sh->throughput / al->throughput;
            np_by_w[w][nnp[w]++] = np[w];
        }
        /* System figures need every workload of the repeat. */
        if (!complete) continue;
        double s = 0, inv = 0;
        for (int w = 0; w < sc->nworkloads; w++) {
            s += np[w];
            inv += np[w] > 0 ? 1.0 / np[w] : INFINITY;
        }
        stp[nsys] = s;
        antt[nsys] = inv / sc->nworkloads;
        jain[nsys] = stats_jain(np, sc->nworkloads);
        nsys++;
    }
    for (int w = 0; w < sc->nworkloads; w++) {
        const workload_spec *spec = &sc->workloads[w];
        json_t *wo = json_pack("{s:s, s:s, s:s}", "name", spec->name, "unit", a->units[w][0] ? a->units[w] : "samples",
                               "measure", spec->measure == MEASURE_WALL_TIME ? "wall_time" : "events");
        json_object_set_new(wo, "alone_throughput", across_repeats(a, m, ALONE, w, f_tp, 0));
        if (shares) {
            json_object_set_new(wo, "shared_throughput", across_repeats(a, m, SHARED, w, f_tp, 0));
            json_object_set_new(wo, "normalized_progress", stats_summary_json(np_by_w[w], nnp[w]));
        }
        json_t *lat = json_object();
        for (int k = 0; k < (shares ? 2 : 1); k++) {
            json_t *lk = json_object();
            int have = 0;
            for (int i = 0; i < 4; i++) {
                json_t *s = across_repeats(a, m, k, w, f_pct, i);
                have |= !json_is_null(s);
                json_object_set_new(lk, PCT_NAMES[i], s);
            }
            if (have) json_object_set_new(lat, k == ALONE ? "alone" : "shared", lk);
            else json_decref(lk);
        }
        if (json_object_size(lat)) json_object_set_new(wo, "latency_ms", lat);
        else json_decref(lat);
        if (spec->slo_ms > 0) {
            json_object_set_new(wo, "slo_ms", json_real(spec->slo_ms));
            json_t *att = json_object();
            json_object_set_new(att, "alone", across_repeats(a, m, ALONE, w, f_slo, 0));
            if (shares) json_object_set_new(att, "shared", across_repeats(a, m, SHARED, w, f_slo, 0));
            json_object_set_new(wo, "slo_attainment", att);
        }
        json_array_append_new(ws, wo);
    }
    json_object_set_new(mo, "workloads", ws);
    if (shares) {
        json_object_set_new(mo, "stp", stats_summary_json(stp, nsys));
        json_object_set_new(mo, "antt", stats_summary_json(antt, nsys));
        json_object_set_new(mo, "jain", stats_summary_json(jain, nsys));
    }
    json_object_set_new(mo, "repeats_complete", json_integer(nsys));
    return mo;
}

static json_t *latency_cdfs(analysis *a)
{
    json_t *out = json_array();
    for (int m = 0; m < a->sc.nmodes; m++)
        for (int w = 0; w < a->sc.nworkloads; w++) {
            int n = a->ncdf[m][w];
            if (n == 0) continue;
            double *v = a->cdf[m][w];
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
    double mean = json_number_value(json_object_get(s, "mean"));
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
                for (int p = 0; p < 4; p++) {
                    char metric[64];
                    snprintf(metric, sizeof metric, "%s_latency_%s", k, PCT_NAMES[p]);
                    csv_row(f, m, w, metric, "ms", json_object_get(lk, PCT_NAMES[p]));
                }
            }
            json_t *att = json_object_get(wo, "slo_attainment");
            csv_row(f, m, w, "alone_slo_attainment", "fraction", json_object_get(att, "alone"));
            csv_row(f, m, w, "shared_slo_attainment", "fraction", json_object_get(att, "shared"));
        }
        csv_row(f, m, "*", "stp", "sum of NP", json_object_get(mo, "stp"));
        csv_row(f, m, "*", "antt", "mean 1/NP", json_object_get(mo, "antt"));
        csv_row(f, m, "*", "jain_fairness", "index", json_object_get(mo, "jain"));
    }
    fclose(f);
    char path[PATH_MAX];
    int rc = path_join(path, sizeof path, dir, "summary.csv", err) ? -1 : write_file_atomic(path, buf, len, err);
    free(buf);
    return rc;
}

int analyze_run(const char *dir, cot_err *err)
{
    char path[PATH_MAX];
    if (path_join(path, sizeof path, dir, "run.json", err)) return -1;
    analysis a;
    memset(&a, 0, sizeof a);
    a.run = read_json_file(path, RUN_JSON_MAX_BYTES, err);
    if (!a.run) return cot_err_prefix(err, "%s is not a cotenant results folder", dir);
    char why[256];
    if (scenario_from_json(json_object_get(a.run, "scenario"), &a.sc, why, sizeof why) != 0) {
        json_decref(a.run);
        scenario_free(&a.sc);
        return cot_errf(err, "%s: the scenario in run.json is damaged: %s", path, why);
    }
    a.cells = calloc((size_t)a.sc.nmodes * (size_t)a.sc.repeats * 2 * (size_t)a.sc.nworkloads, sizeof *a.cells);
    a.excluded = json_array();
    a.timeseries = json_array();
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
    json_object_set_new(doc, "latency_cdf", latency_cdfs(&a));
    json_object_set_new(doc, "excluded", a.excluded);
    json_object_set_new(doc, "failures", json_incref(json_object_get(a.run, "failures")));
    int rc = path_join(path, sizeof path, dir, "metrics.json", err) ? -1 : write_json_atomic(path, doc, err);
    if (rc == 0) rc = write_summary_csv(dir, modes, err);
    json_decref(doc);
    for (int m = 0; m < SCENARIO_MAX_MODES; m++)
        for (int w = 0; w < SCENARIO_MAX_WORKLOADS; w++) free(a.cdf[m][w]);
    free(a.cells);
    json_decref(a.run);
    scenario_free(&a.sc);
    return rc;
}
