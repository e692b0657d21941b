/* The decision layer's plots: each swept mode's configurations against
 * the figures they trade (STP and every workload's NP, with intervals),
 * and per SLO a Pareto plot of best-effort throughput against the latency
 * workload's constrained percentile across every sharing configuration,
 * the SLO drawn in (without an SLO: the worst p99's workload). */
#include "report/plots_sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/plot_common.h"
#include "scenario/scenario.h"

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* A figure of the common baseline where there is one, else the mode's own. */
static const json_t *common_or_own(const json_t *o, const char *common, const char *own)
{
    const json_t *c = json_object_get(o, common);
    return c && !json_is_null(c) ? c : json_object_get(o, own);
}

/* Whether a workload is a server, which a load generator drives (run.json's
 * scenario names it as a target): its requests are its client's work, so
 * it is no unit of its own and gets no NP line. */
static bool is_server(const json_t *run, const char *name)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(json_object_get(run, "scenario"), "workloads"), i, w)
        if (!strcmp(str(w, "target"), name)) return true;
    return false;
}

/* One plot per swept mode: its configurations in the sweep's order. */
static int plot_one_sweep(const char *plots, const json_t *metrics, const json_t *run, const char *kind, plot_list *pl,
                          cot_err *err)
{
    char *dat = NULL, *gp = NULL, name[64], t1[GP_TEXT_MAX], t2[GP_TEXT_MAX];
    size_t dlen = 0, glen = 0, i, j;
    FILE *d = open_memstream(&dat, &dlen), *g = open_memstream(&gp, &glen);
    json_t *mo, *wo;
    int x = 0;
    const json_t *first = NULL;
    fprintf(d, "# index\tconfiguration\tstp_mean\tstp_low\tstp_high\t(per workload: np_mean\tnp_low\tnp_high)\n");
    json_array_foreach(json_object_get(metrics, "modes"), i, mo) {
        if (strcmp(str(json_object_get(mo, "configuration"), "mode"), kind)) continue;
        if (!first) first = mo;
        const char *label = str(mo, "mode") + strlen(kind) + 1;
        double m, lo, hi;
        plot_triple(common_or_own(mo, "stp_common", "stp"), &m, &lo, &hi);
        fprintf(d, "%d\t\"%s\"", x++, gp_text(t1, label));
        if (m != m) fprintf(d, "\t?\t?\t?");
        else fprintf(d, "\t%.6g\t%.6g\t%.6g", m, lo, hi);
        json_array_foreach(json_object_get(mo, "workloads"), j, wo) {
            plot_triple(common_or_own(wo, "normalized_progress_common", "normalized_progress"), &m, &lo, &hi);
            if (m != m) fprintf(d, "\t?\t?\t?");
            else fprintf(d, "\t%.6g\t%.6g\t%.6g", m, lo, hi);
        }
        fputc('\n', d);
    }
    plot_name(name, sizeof name, "sweep_", kind);
    fprintf(g, GP_HEAD, name, name);
    fprintf(g, "set title 'Sweep of %s: STP and each workload NP per configuration (bars: 95%% CI)'\n"
               "set xlabel 'configuration'\nset ylabel 'STP, NP'\nset yrange [0:*]\nset datafile missing '?'\n"
               "set xrange [-0.5:%d.5]\nset xtics rotate by -30\n"
               "plot '%s.dat' using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'STP'",
            gp_text(t1, kind), x - 1, name);
    json_array_foreach(json_object_get(first, "workloads"), j, wo)
        if (common_or_own(wo, "normalized_progress_common", "normalized_progress") && !is_server(run, str(wo, "name")))
            fprintf(g, ", '%s.dat' using 1:%zu:%zu:%zu with yerrorlines title 'NP %s'", name, 6 + 3 * j, 7 + 3 * j,
                    8 + 3 * j, gp_text(t2, str(wo, "name")));
    fputc('\n', g);
    fclose(d);
    fclose(g);
    char title[128];
    snprintf(title, sizeof title, "Sweep of %s: STP and NP per configuration", gp_text(t1, kind));
    return plot_emit(plots, name, title, dat, dlen, gp, glen, pl, err);
}

/* A configuration name's parts after its mode, one per axis:
 * "mps.t30-70.m8G-4G" -> "t30-70", "m8G-4G". The count, at most max. */
static int name_parts(const char *name, const char *kind, char (*part)[SCENARIO_NAME_MAX + 1], int max)
{
    size_t k = strlen(kind);
    if (strncmp(name, kind, k) || name[k] != '.') return 0;
    int n = 0;
    for (const char *p = name + k + 1; *p && n < max; n++) {
        size_t len = strcspn(p, ".");
        snprintf(part[n], SCENARIO_NAME_MAX + 1, "%.*s", (int)len, p);
        p += len + (p[len] == '.');
    }
    return n;
}

#define AXIS_PLOT_MAX 16 /* points of an axis, and lines (points of the others) */

/* Where a swept mode has several axes, one plot per axis: STP against that
 * axis's points, one line per point of the other axes. */
static int plot_axis(const char *plots, const json_t *metrics, const char *kind, const char *axis, int k, int naxes,
                     plot_list *pl, cot_err *err)
{
    char xs[AXIS_PLOT_MAX][SCENARIO_NAME_MAX + 1], gs[AXIS_PLOT_MAX][SCENARIO_NAME_MAX + 1];
    int nx = 0, ng = 0;
    char *dat = NULL, *gp = NULL, name[96], t1[GP_TEXT_MAX], t2[GP_TEXT_MAX];
    size_t dlen = 0, glen = 0, i;
    FILE *d = open_memstream(&dat, &dlen), *g = open_memstream(&gp, &glen);
    fprintf(d, "# per line (a point of the other axes), a block: x\tpoint of %s\tstp_mean\tstp_low\tstp_high\n",
            gp_text(t1, axis));
    for (int pass = 0; pass < 2; pass++) /* the points and lines first, then each line's block */
        for (int line = 0; line < (pass ? ng : 1); line++) {
            json_t *mo;
            json_array_foreach(json_object_get(metrics, "modes"), i, mo) {
                char part[4][SCENARIO_NAME_MAX + 1], other[SCENARIO_NAME_MAX + 1] = "";
                if (strcmp(str(json_object_get(mo, "configuration"), "mode"), kind) ||
                    name_parts(str(mo, "mode"), kind, part, 4) != naxes)
                    continue;
                for (int j = 0, n = 0; j < naxes; j++)
                    if (j != k) n += snprintf(other + n, sizeof other - (size_t)n, "%s%s", n ? "." : "", part[j]);
                int x = 0, gi = 0;
                while (x < nx && strcmp(xs[x], part[k])) x++;
                while (gi < ng && strcmp(gs[gi], other)) gi++;
                if (!pass) {
                    if (x == nx && nx < AXIS_PLOT_MAX) snprintf(xs[nx++], sizeof xs[0], "%s", part[k]);
                    if (gi == ng && ng < AXIS_PLOT_MAX) snprintf(gs[ng++], sizeof gs[0], "%s", other);
                    continue;
                }
                if (gi != line || x == nx) continue;
                double m, lo, hi;
                plot_triple(common_or_own(mo, "stp_common", "stp"), &m, &lo, &hi);
                if (m == m) fprintf(d, "%d\t\"%s\"\t%.6g\t%.6g\t%.6g\n", x, gp_text(t1, part[k]), m, lo, hi);
            }
            if (pass) fprintf(d, "\n\n");
        }
    char prefix[96];
    snprintf(prefix, sizeof prefix, "sweep_%s_", kind);
    plot_name(name, sizeof name, prefix, axis);
    fprintf(g, GP_HEAD, name, name);
    fprintf(g, "set title 'Sweep of %s along %s: STP per point, a line per point of the other axes (bars: 95%% CI)'\n"
               "set xlabel '%s'\nset ylabel 'STP'\nset yrange [0:*]\nset xrange [-0.5:%d.5]\nset xtics rotate by -30\n"
               "plot ",
            gp_text(t1, kind), gp_text(t2, axis), gp_text(t2, axis), nx - 1);
    for (int line = 0; line < ng; line++)
        fprintf(g, "%s'%s.dat' index %d using 1:3:4:5:xtic(2) with yerrorlines lw 2 title '%s'", line ? ", " : "", name,
                line, gp_text(t1, gs[line]));
    fputc('\n', g);
    fclose(d);
    fclose(g);
    char title[160];
    snprintf(title, sizeof title, "Sweep of %s along %s: STP per point", gp_text(t1, kind), gp_text(t2, axis));
    return plot_emit(plots, name, title, dat, dlen, gp, glen, pl, err);
}

/* The axis plots of a swept mode with two or more axes. */
static int plot_axes(const char *plots, const json_t *metrics, const json_t *first, const char *kind, plot_list *pl,
                     cot_err *err)
{
    const json_t *axes = json_object_get(json_object_get(first, "configuration"), "axes");
    int naxes = (int)json_array_size(axes);
    for (int k = 0; naxes >= 2 && naxes <= 4 && k < naxes && pl->n < PLOTS_MAX; k++) {
        const char *axis = json_string_value(json_array_get(axes, (size_t)k));
        if (axis && plot_axis(plots, metrics, kind, axis, k, naxes, pl, err) != 0) return -1;
    }
    return 0;
}

int plot_sweeps(const char *plots, const json_t *metrics, const json_t *run, plot_list *pl, cot_err *err)
{
    const char *done[SCENARIO_MAX_MODES];
    int ndone = 0;
    size_t i;
    json_t *mo;
    json_array_foreach(json_object_get(metrics, "modes"), i, mo) {
        const char *kind = str(json_object_get(mo, "configuration"), "mode");
        bool seen = !*kind;
        for (int k = 0; k < ndone && !seen; k++) seen = !strcmp(done[k], kind);
        if (seen || ndone == SCENARIO_MAX_MODES || pl->n >= PLOTS_MAX) continue;
        done[ndone++] = kind;
        if (plot_one_sweep(plots, metrics, run, kind, pl, err) != 0 || plot_axes(plots, metrics, mo, kind, pl, err) != 0)
            return -1;
    }
    return 0;
}

/* Without an SLO: the workload with the worst shared p99 anywhere. */
static const char *worst_p99_workload(const json_t *metrics)
{
    const char *worst = NULL;
    double wv = -1;
    size_t i, j;
    json_t *mo, *wo;
    json_array_foreach(json_object_get(metrics, "modes"), i, mo)
        json_array_foreach(json_object_get(mo, "workloads"), j, wo) {
            double v = plot_num(json_object_get(json_object_get(json_object_get(wo, "latency_ms"), "shared"), "p99"), "value");
            if (v > wv) wv = v, worst = str(wo, "name");
        }
    return worst;
}

typedef struct {
    const char *mode;
    double p99, lo, hi, best_effort; /* p99: the percentile plotted, whichever it is */
    bool frontier;
} pareto_point;

/* One Pareto plot: best-effort work against workload lw's percentile pct
 * (p50 ... p99_9), the limit drawn in where an SLO gives one (NAN: none). */
static int pareto_one(const char *plots, const char *name, const json_t *metrics, const char *lw, const char *pct,
                      double limit, plot_list *pl, cot_err *err)
{
    if (pl->n >= PLOTS_MAX) return 0;
    pareto_point pt[SCENARIO_MAX_MODES];
    int n = 0;
    size_t i, j;
    json_t *mo, *wo;
    json_array_foreach(json_object_get(metrics, "modes"), i, mo) {
        if (!json_is_true(json_object_get(mo, "shares")) || n == SCENARIO_MAX_MODES) continue;
        pareto_point p = {str(mo, "mode"), NAN, NAN, NAN, 0, false};
        int have = 0;
        json_array_foreach(json_object_get(mo, "workloads"), j, wo) {
            const json_t *lat = json_object_get(json_object_get(wo, "latency_ms"), "shared");
            const json_t *p99 = json_object_get(lat, pct);
            if (!strcmp(str(wo, "name"), lw)) {
                p.p99 = plot_num(p99, "value"), p.lo = plot_num(p99, "ci95_low"), p.hi = plot_num(p99, "ci95_high");
                continue;
            }
            if (lat) continue; /* another latency workload: not best-effort */
            double np = plot_num(common_or_own(wo, "normalized_progress_common", "normalized_progress"), "mean");
            if (isfinite(np)) p.best_effort += np, have++;
        }
        if (!isfinite(p.p99) || !have) continue;
        if (!isfinite(p.lo)) p.lo = p.p99;
        if (!isfinite(p.hi)) p.hi = p.p99;
        pt[n++] = p;
    }
    if (n == 0) return 0;
    /* the frontier: no other point has a p99 as low and more best-effort work, or lower and as much */
    for (int a = 0; a < n; a++) {
        pt[a].frontier = true;
        for (int b = 0; b < n && pt[a].frontier; b++)
            if (b != a && pt[b].p99 <= pt[a].p99 && pt[b].best_effort >= pt[a].best_effort &&
                (pt[b].p99 < pt[a].p99 || pt[b].best_effort > pt[a].best_effort))
                pt[a].frontier = false;
    }
    char *dat = NULL, *gp = NULL, t1[GP_TEXT_MAX], t2[GP_TEXT_MAX];
    size_t dlen = 0, glen = 0;
    FILE *d = open_memstream(&dat, &dlen), *g = open_memstream(&gp, &glen);
    fprintf(d, "# %s_ms\t%s_low\t%s_high\tbest_effort_np\tconfiguration\n", pct, pct, pct);
    for (int a = 0; a < n; a++)
        fprintf(d, "%.6g\t%.6g\t%.6g\t%.6g\t\"%s\"\n", pt[a].p99, pt[a].lo, pt[a].hi, pt[a].best_effort, gp_text(t1, pt[a].mode));
    fprintf(d, "\n\n# the frontier, by %s\n", pct);
    int order[SCENARIO_MAX_MODES], nf = 0; /* the frontier by the percentile */
    for (int a = 0; a < n; a++) {
        if (!pt[a].frontier) continue;
        int k = nf++;
        for (; k > 0 && pt[order[k - 1]].p99 > pt[a].p99; k--) order[k] = order[k - 1];
        order[k] = a;
    }
    for (int k = 0; k < nf; k++) fprintf(d, "%.6g\t%.6g\n", pt[order[k]].p99, pt[order[k]].best_effort);
    fprintf(g, GP_HEAD, name, name);
    fprintf(g, "set title 'Best-effort work against %s %s, per configuration (bars: 95%% CI of the %s)'\n"
               "set xlabel '%s %s (ms)'\nset ylabel 'best-effort NP (sum over the other workloads)'\n"
               "set yrange [0:*]\nset offsets graph 0.05, graph 0.15, graph 0.1, 0\n",
            gp_text(t1, lw), pct, pct, gp_text(t2, lw), pct);
    double left = INFINITY, right = 0; /* the ends of what is plotted */
    for (int a = 0; a < n; a++) left = fmin(left, pt[a].lo), right = fmax(right, pt[a].hi);
    fprintf(g, "set key inside bottom left\n");
    if (isfinite(limit)) { /* drawn in, the axis stretched to it; far beyond every point, a log axis keeps them apart */
        if (limit > 2 * right) fprintf(g, "set logscale x 2\nset format x '%%g'\n");
        if (limit > right) fprintf(g, "set xrange [%.6g:%.6g]\n", limit > 2 * right ? left * 0.8 : 0.0, limit * 1.1);
        fprintf(g, "set arrow from first %.6g, graph 0 to first %.6g, graph 1 nohead dt 2 lw 2 lc rgb '#aa3333'\n"
                   "set label 'SLO %g ms' at first %.6g, graph 0.95 right offset -0.5,0 tc rgb '#aa3333'\n",
                limit, limit, limit, limit);
    }
    fprintf(g, "plot '%s.dat' index 0 using 1:4:2:3 with xerrorbars pt 7 ps 1.2 title 'configuration', "
               "'' index 0 using 1:4:5 with labels offset 0,1 font ',8' notitle, "
               "'' index 1 using 1:2 with lines lw 2 dt 3 lc rgb '#333333' title 'Pareto frontier'\n", name);
    fclose(d);
    fclose(g);
    char title[160];
    snprintf(title, sizeof title, "Best-effort work against %s's %s (Pareto)", gp_text(t1, lw), pct);
    return plot_emit(plots, name, title, dat, dlen, gp, glen, pl, err);
}

int plot_pareto(const char *plots, const json_t *metrics, const json_t *run, plot_list *pl, cot_err *err)
{
    const json_t *slos = json_object_get(json_object_get(json_object_get(run, "scenario"), "objective"), "slo");
    if (json_array_size(slos) == 0) { /* no SLO: the workload with the worst p99, nothing drawn in */
        const char *lw = worst_p99_workload(metrics);
        return lw ? pareto_one(plots, "pareto", metrics, lw, "p99", NAN, pl, err) : 0;
    }
    size_t i;
    json_t *slo;
    json_array_foreach(slos, i, slo) { /* one per SLO, each on its own percentile */
        const char *w = str(slo, "workload"), *pct = str(slo, "percentile");
        if (!*w || !*pct) continue;
        char name[96];
        snprintf(name, sizeof name, "pareto");
        if (i > 0) plot_name(name, sizeof name, "pareto_", w), snprintf(name + strlen(name), sizeof name - strlen(name), "_%s", pct);
        if (pareto_one(plots, name, metrics, w, pct, plot_num(slo, "limit_ms"), pl, err) != 0) return -1;
    }
    return 0;
}
