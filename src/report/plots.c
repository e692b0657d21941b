#include "report/plots.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/plot_common.h"
#include "report/plots_sweep.h"
#include "scenario/scenario.h"
#include "util/fs.h"
#include "util/timeutil.h"

static int plot_np(const char *plots, const json_t *metrics, plot_list *pl, cot_err *err)
{
    const json_t *modes = json_object_get(metrics, "modes");
    int shared_modes[SCENARIO_MAX_MODES], nsm = 0;
    for (size_t i = 0; i < json_array_size(modes) && nsm < SCENARIO_MAX_MODES; i++)
        if (json_is_true(json_object_get(json_array_get(modes, i), "shares"))) shared_modes[nsm++] = (int)i;
    if (nsm == 0) return 0;
    char *dat = NULL, *gp = NULL;
    size_t dlen = 0, glen = 0;
    FILE *d = open_memstream(&dat, &dlen), *g = open_memstream(&gp, &glen);
    char t1[GP_TEXT_MAX];
    fprintf(d, "# workload");
    for (int k = 0; k < nsm; k++) {
        const char *m = gp_text(t1, json_string_value(json_object_get(json_array_get(modes, (size_t)shared_modes[k]), "mode")));
        fprintf(d, "\t%s_mean\t%s_ci95_low\t%s_ci95_high", m, m, m);
    }
    fputc('\n', d);
    const json_t *wl0 = json_object_get(json_array_get(modes, (size_t)shared_modes[0]), "workloads");
    size_t nw = json_array_size(wl0);
    double top = 1.0; /* the y axis always shows the alone line at 1 */
    for (size_t w = 0; w < nw; w++) {
        fprintf(d, "\"%s\"", gp_text(t1, json_string_value(json_object_get(json_array_get(wl0, w), "name"))));
        for (int k = 0; k < nsm; k++) {
            const json_t *wo = json_array_get(json_object_get(json_array_get(modes, (size_t)shared_modes[k]), "workloads"), w);
            double m, lo, hi;
            const json_t *np = json_object_get(wo, "normalized_progress");
            plot_triple(np ? np : json_object_get(wo, "normalized_progress_common"), &m, &lo, &hi);
            if (m != m) fprintf(d, "\t?\t?\t?");
            else fprintf(d, "\t%.6g\t%.6g\t%.6g", m, lo, hi);
            if (hi > top) top = hi;
        }
        fputc('\n', d);
    }
    fclose(d);
    fprintf(g, GP_HEAD, "normalized_progress", "normalized_progress");
    fprintf(g, "set title 'Normalized progress: throughput shared / alone (bars: 95%% CI across repeats)'\n"
               "set ylabel 'normalized progress'\nset yrange [0:%.3g]\nset datafile missing '?'\n"
               "set style data histogram\nset style histogram errorbars gap 2 lw 1\n"
               "set style fill solid 0.7 border -1\nset boxwidth 0.9\n"
               "set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb '#555555'\n"
               "set label 'alone' at graph 0.01, first 1 offset 0,0.6 tc rgb '#555555'\n"
               "set arrow from graph 0, first %.6g to graph 1, first %.6g nohead dt 3 lc rgb '#aa3333'\n"
               "set label 'equal time share (1/%zu)' at graph 0.01, first %.6g offset 0,0.6 tc rgb '#aa3333'\n"
               "plot ", top * 1.1, 1.0 / (double)nw, 1.0 / (double)nw, nw, 1.0 / (double)nw);
    for (int k = 0; k < nsm; k++) {
        const char *m = gp_text(t1, json_string_value(json_object_get(json_array_get(modes, (size_t)shared_modes[k]), "mode")));
        const json_t *mo = json_array_get(modes, (size_t)shared_modes[k]);
        fprintf(g, "%s'normalized_progress.dat' using %d:%d:%d%s title '%s%s'", k ? ", " : "", 2 + 3 * k, 3 + 3 * k,
                4 + 3 * k, k == 0 ? ":xtic(1)" : "", m,
                json_is_false(json_object_get(mo, "own_baseline")) ? " (vs whole GPU)" : "");
    }
    fputc('\n', g);
    fclose(g);
    int rc = plot_write(plots, "normalized_progress", "dat", dat, dlen, err);
    if (rc == 0) rc = plot_write(plots, "normalized_progress", "gp", gp, glen, err);
    free(dat);
    free(gp);
    if (rc == 0 && (rc = plot_render(plots, "normalized_progress", &pl->gnuplot_missing, err)) == 0) {
        snprintf(pl->names[pl->n], sizeof pl->names[0], "normalized_progress.png");
        snprintf(pl->titles[pl->n++], sizeof pl->titles[0], "Normalized progress per workload and mode");
    }
    return rc;
}

/* Mean alone throughput of a workload in a mode, to scale its time series:
 * the baseline's where the mode has no alone runs (own_baselines: false). */
static double alone_mean(const json_t *metrics, const char *mode, const char *wl)
{
    size_t i, j;
    json_t *mo, *wo;
    json_array_foreach(json_object_get(metrics, "modes"), i, mo) {
        if (strcmp(json_string_value(json_object_get(mo, "mode")) ?: "", mode)) continue;
        const char *base = json_string_value(json_object_get(mo, "baseline"));
        if (json_is_false(json_object_get(mo, "own_baseline")) && base && strcmp(base, mode))
            return alone_mean(metrics, base, wl);
        json_array_foreach(json_object_get(mo, "workloads"), j, wo)
            if (!strcmp(json_string_value(json_object_get(wo, "name")) ?: "", wl))
                return plot_num(json_object_get(wo, "alone_throughput"), "mean");
    }
    return 0.0 / 0.0;
}

static int plot_series(const char *plots, const json_t *metrics, plot_list *pl, cot_err *err)
{
    size_t i;
    json_t *ts;
    json_array_foreach(json_object_get(metrics, "timeseries"), i, ts) {
        if (pl->n >= PLOTS_MAX - 1) break;
        const char *mode = json_string_value(json_object_get(ts, "mode"));
        const json_t *wls = json_object_get(ts, "workloads");
        char name[64], t1[GP_TEXT_MAX], t2[GP_TEXT_MAX];
        plot_name(name, sizeof name, "throughput_", mode);
        char *dat = NULL, *gp = NULL;
        size_t dlen = 0, glen = 0;
        FILE *d = open_memstream(&dat, &dlen), *g = open_memstream(&gp, &glen);
        double bin = plot_num(ts, "bin_s");
        size_t nbins = 0;
        const char *k;
        json_t *arr;
        fprintf(d, "# time_s");
        json_object_foreach((json_t *)wls, k, arr) {
            fprintf(d, "\t%s", gp_text(t1, k));
            if (json_array_size(arr) > nbins) nbins = json_array_size(arr);
        }
        fputc('\n', d);
        for (size_t b = 0; b < nbins; b++) {
            fprintf(d, "%.3f", (b + 0.5) * bin);
            json_object_foreach((json_t *)wls, k, arr) {
                double base = alone_mean(metrics, mode, k);
                json_t *v = json_array_get(arr, b);
                if (!v || !(base > 0)) fprintf(d, "\t?");
                else fprintf(d, "\t%.6g", json_number_value(v) / base);
            }
            fputc('\n', d);
        }
        fclose(d);
        fprintf(g, GP_HEAD, name, name);
        fprintf(g, "set title \"Throughput over time, %s, segment %s (shaded: measured window)\"\n"
                   "set xlabel 'seconds since the workloads started'\nset ylabel 'throughput / mean alone throughput'\n"
                   "set yrange [0:*]\nset datafile missing '?'\n"
                   "set object 1 rect from %.3f, graph 0 to %.3f, graph 1 behind fc rgb '#eeeeee' fs solid noborder\n"
                   "plot ",
                gp_text(t1, mode), gp_text(t2, json_string_value(json_object_get(ts, "segment"))), plot_num(ts, "window_start_s"),
                plot_num(ts, "window_end_s"));
        int col = 2;
        json_object_foreach((json_t *)wls, k, arr) {
            fprintf(g, "%s'%s.dat' using 1:%d with lines lw 2 title '%s'", col > 2 ? ", " : "", name, col, gp_text(t1, k));
            col++;
        }
        fputc('\n', g);
        fclose(g);
        int rc = plot_write(plots, name, "dat", dat, dlen, err);
        if (rc == 0) rc = plot_write(plots, name, "gp", gp, glen, err);
        free(dat);
        free(gp);
        if (rc == 0) rc = plot_render(plots, name, &pl->gnuplot_missing, err);
        if (rc != 0) return rc;
        snprintf(pl->names[pl->n], sizeof pl->names[0], "%s.png", name);
        snprintf(pl->titles[pl->n++], sizeof pl->titles[0], "Throughput over time under %s", gp_text(t1, mode));
    }
    return 0;
}

/* What the GPU did over one segment of each mode: utilisation and SM
 * activity above, power and memory below, the measured window shaded. */
static int plot_gpu(const char *plots, const json_t *metrics, plot_list *pl, cot_err *err)
{
    size_t i;
    json_t *ts;
    json_array_foreach(json_object_get(metrics, "gpu_timeseries"), i, ts) {
        if (pl->n >= PLOTS_MAX - 1) break;
        const char *mode = json_string_value(json_object_get(ts, "mode"));
        char name[64], t1[GP_TEXT_MAX], t2[GP_TEXT_MAX], t3[GP_TEXT_MAX];
        plot_name(name, sizeof name, "gpu_", mode);
        static const char *const cols[] = {"gpu_util_pct", "sm_active_pct", "power_w", "memory_gib"};
        char *dat = NULL, *gp = NULL;
        size_t dlen = 0, glen = 0;
        FILE *d = open_memstream(&dat, &dlen), *g = open_memstream(&gp, &glen);
        fprintf(d, "# time_s\tgpu_util_pct\tsm_active_pct\tpower_w\tmemory_gib\n");
        const json_t *t = json_object_get(ts, "time_s");
        double top[4] = {0}; /* headroom above each line, so none hides under the frame */
        for (size_t b = 0; b < json_array_size(t); b++) {
            fprintf(d, "%.3f", json_number_value(json_array_get(t, b)));
            for (int c = 0; c < 4; c++) {
                const json_t *v = json_array_get(json_object_get(ts, cols[c]), b);
                if (json_is_number(v)) fprintf(d, "\t%.6g", json_number_value(v));
                else fprintf(d, "\t?");
                if (json_is_number(v) && json_number_value(v) > top[c]) top[c] = json_number_value(v);
            }
            fputc('\n', d);
        }
        fclose(d);
        fprintf(g, GP_HEAD, name, name);
        fprintf(g, "set datafile missing '?'\nset multiplot layout 2,1 title \"GPU over time, %s, segment %s (%s)%s\"\n",
                gp_text(t1, mode), gp_text(t2, json_string_value(json_object_get(ts, "segment"))),
                gp_text(t3, json_string_value(json_object_get(ts, "kind"))),
                json_object_get(ts, "window_start_s") ? ", shaded: measured window" : "");
        if (json_object_get(ts, "window_start_s"))
            fprintf(g, "set object 1 rect from %.3f, graph 0 to %.3f, graph 1 behind fc rgb '#eeeeee' fs solid noborder\n",
                    plot_num(ts, "window_start_s"), plot_num(ts, "window_end_s"));
        /* fixed margins, so both panels share one time axis */
        fprintf(g, "set lmargin at screen 0.08\nset rmargin at screen 0.80\n"
                   "set ylabel 'percent'\nset yrange [0:105]\nunset xlabel\n"
                   "plot '%s.dat' using 1:2 with lines lw 2 title 'GPU utilisation', "
                   "'' using 1:3 with lines lw 2 title 'SM active (GPM)'\n"
                   "set xlabel 'seconds since the workloads started'\nset ylabel 'power (W)'\nset yrange [0:%.4g]\n"
                   "set y2label 'memory used (GiB)'\nset y2range [0:%.4g]\nset y2tics\nset ytics nomirror\n"
                   "plot '%s.dat' using 1:4 with lines lw 2 title 'power', '' using 1:5 axes x1y2 with lines lw 2 title 'memory'\n"
                   "unset multiplot\n",
                name, top[2] > 0 ? top[2] * 1.15 : 1, top[3] > 0 ? top[3] * 1.15 : 1, name);
        fclose(g);
        int rc = plot_write(plots, name, "dat", dat, dlen, err);
        if (rc == 0) rc = plot_write(plots, name, "gp", gp, glen, err);
        free(dat);
        free(gp);
        if (rc == 0) rc = plot_render(plots, name, &pl->gnuplot_missing, err);
        if (rc != 0) return rc;
        snprintf(pl->names[pl->n], sizeof pl->names[0], "%s.png", name);
        snprintf(pl->titles[pl->n++], sizeof pl->titles[0], "GPU over time under %s", gp_text(t1, mode));
    }
    return 0;
}

static int plot_cdf(const char *plots, const json_t *metrics, plot_list *pl, cot_err *err)
{
    const json_t *cdfs = json_object_get(metrics, "latency_cdf");
    if (json_array_size(cdfs) == 0 || pl->n >= PLOTS_MAX) return 0;
    char *dat = NULL, *gp = NULL;
    size_t dlen = 0, glen = 0;
    FILE *d = open_memstream(&dat, &dlen), *g = open_memstream(&gp, &glen);
    fprintf(g, GP_HEAD, "latency_cdf", "latency_cdf");
    fprintf(g, "set title 'Latency CDF in shared segments, all repeats pooled'\nset xlabel 'latency (ms)'\n"
               "set ylabel 'fraction of requests'\nset logscale x\nset yrange [0:1]\nset key bottom right inside\nplot ");
    size_t i;
    json_t *c;
    char t1[GP_TEXT_MAX], t2[GP_TEXT_MAX];
    json_array_foreach(cdfs, i, c) {
        fprintf(d, "# %s %s\n", gp_text(t1, json_string_value(json_object_get(c, "mode"))),
                gp_text(t2, json_string_value(json_object_get(c, "workload"))));
        size_t j;
        json_t *pt;
        json_array_foreach(json_object_get(c, "points"), j, pt)
            fprintf(d, "%.6g\t%.6g\n", json_number_value(json_array_get(pt, 0)), json_number_value(json_array_get(pt, 1)));
        fprintf(d, "\n\n");
        fprintf(g, "%s'latency_cdf.dat' index %zu using 1:2 with lines lw 2 title '%s, %s'", i ? ", " : "", i,
                gp_text(t1, json_string_value(json_object_get(c, "workload"))),
                gp_text(t2, json_string_value(json_object_get(c, "mode"))));
    }
    fputc('\n', g);
    fclose(d);
    fclose(g);
    int rc = plot_write(plots, "latency_cdf", "dat", dat, dlen, err);
    if (rc == 0) rc = plot_write(plots, "latency_cdf", "gp", gp, glen, err);
    free(dat);
    free(gp);
    if (rc == 0 && (rc = plot_render(plots, "latency_cdf", &pl->gnuplot_missing, err)) == 0) {
        snprintf(pl->names[pl->n], sizeof pl->names[0], "latency_cdf.png");
        snprintf(pl->titles[pl->n++], sizeof pl->titles[0], "Latency CDF per mode");
    }
    return rc;
}

int plots_make(const char *dir, const json_t *metrics, const json_t *run, plot_list *pl, cot_err *err)
{
    memset(pl, 0, sizeof *pl);
    char plots[PATH_MAX];
    if (fs_path_join(plots, sizeof plots, dir, "plots", err) || fs_mkdir_p(plots, err)) return -1;
    if (plot_np(plots, metrics, pl, err) != 0) return -1;
    if (plot_sweeps(plots, metrics, run, pl, err) != 0 || plot_pareto(plots, metrics, run, pl, err) != 0) return -1;
    if (plot_series(plots, metrics, pl, err) != 0) return -1;
    if (plot_gpu(plots, metrics, pl, err) != 0) return -1;
    return plot_cdf(plots, metrics, pl, err);
}
