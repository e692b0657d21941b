#include "report/report.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/advise.h"
#include "analysis/analyze.h"
#include "analysis/ranking.h"
#include "analysis/stats.h"
#include "report/plots.h"
#include "scenario/scenario.h"
#include "util/fs.h"

static double num(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* A pooled percentile (analysis/latency.h): "17.3 [16.9–17.8]", "≥ 17.3 ..."
 * where requests still unanswered may lie above it, "n too small (37 of 100)". */
static const char *fmt_pooled(const json_t *s, char *buf, size_t cap)
{
    double v = num(s, "value"), lo = num(s, "ci95_low"), hi = num(s, "ci95_high");
    if (!isfinite(v)) {
        snprintf(buf, cap, "n too small (%d of %d)", (int)json_integer_value(json_object_get(s, "n")),
                 (int)json_integer_value(json_object_get(s, "need")));
        return buf;
    }
    const char *at_least = json_is_true(json_object_get(s, "at_least")) ? "≥ " : "";
    if (isfinite(lo) && isfinite(hi)) snprintf(buf, cap, "%s%.4g [%.4g–%.4g]", at_least, v, lo, hi);
    else snprintf(buf, cap, "%s%.4g", at_least, v);
    return buf;
}

/* "1234 ± 12" (mean ± 95% CI half-width), "1234" for a single repeat, "–" for none. */
static const char *fmt(const json_t *s, char *buf, size_t cap)
{
    if (json_object_get(s, "value") && !json_object_get(s, "mean")) return fmt_pooled(s, buf, cap);
    double m = num(s, "mean"), lo = num(s, "ci95_low"), hi = num(s, "ci95_high");
    if (!isfinite(m)) return "–";
    /* four significant digits, but large numbers whole: 13662 MiB, not 1.366e+04 */
    bool whole = fabs(m) >= 1e4;
    if (isfinite(lo) && isfinite(hi)) snprintf(buf, cap, whole ? "%.0f ± %.2g" : "%.4g ± %.2g", m, (hi - lo) / 2);
    else snprintf(buf, cap, whole ? "%.0f" : "%.4g", m);
    return buf;
}

static void setup_section(FILE *f, const json_t *run)
{
    const json_t *sc = json_object_get(run, "scenario"), *host = json_object_get(run, "host");
    const json_t *gpu = json_object_get(host, "gpu"), *cv = json_object_get(run, "cotenant");
    fprintf(f, "## Setup\n\n| | |\n|---|---|\n");
    fprintf(f, "| Scenario | %s (%s) |\n", str(sc, "name"), str(sc, "source"));
    fprintf(f, "| Host | %s: %s, %d CPUs, %ld MiB |\n", str(host, "hostname"), str(host, "cpu_model"),
            (int)json_integer_value(json_object_get(host, "cpus")), (long)json_integer_value(json_object_get(host, "mem_mib")));
    if (json_is_object(gpu))
        fprintf(f, "| GPU | %s, %s, driver %s, CUDA %s, %ld MiB, compute mode %s |\n", str(gpu, "name"), str(gpu, "uuid"),
                str(gpu, "driver_version"), str(gpu, "cuda_version"), (long)json_integer_value(json_object_get(gpu, "mem_mib")),
                str(gpu, "compute_mode"));
    else
        fprintf(f, "| GPU | none: %s |\n", str(host, "gpu_missing_reason"));
    const json_t *gs = json_object_get(run, "gpu_settings");
    if (json_is_object(gs))
        fprintf(f, "| GPU settings for this run | %s (before: %s; put back at the end) |\n", str(gs, "set"), str(gs, "before"));
    fprintf(f, "| Modes | ");
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(sc, "modes"), i, m) fprintf(f, "%s%s", i ? ", " : "", json_string_value(m));
    json_array_foreach(json_object_get(run, "skipped_modes"), i, m)
        fprintf(f, "; %s skipped: %s", str(m, "mode"), str(m, "reason"));
    json_int_t reps = json_integer_value(json_object_get(sc, "repeats"));
    const json_t *stop = json_object_get(json_object_get(run, "adaptive"), "stopped_after_repeat");
    char repeats[96];
    if (!json_object_get(sc, "adaptive"))
        snprintf(repeats, sizeof repeats, "%lld repeat%s", (long long)reps, reps == 1 ? "" : "s");
    else if (stop) /* repeats: auto: the cap, and how far the run went */
        snprintf(repeats, sizeof repeats, "repeats: auto, at most %lld, stopped after %lld", (long long)reps,
                 (long long)json_integer_value(stop));
    else
        snprintf(repeats, sizeof repeats, "repeats: auto, at most %lld, not stopped early", (long long)reps);
    fprintf(f, " |\n| Measurement | %g s window after %g s warm-up, %s, order %s |\n", num(sc, "duration_s"),
            num(sc, "warmup_s"), repeats,
            json_is_true(json_object_get(sc, "shuffle")) ? "shuffled" : "counterbalanced (modes rotate each repeat, alone and shared swap every other)");
    const json_t *tel = json_object_get(run, "telemetry");
    if (json_is_true(json_object_get(tel, "enabled")) && json_object_get(tel, "source"))
        fprintf(f, "| GPU telemetry | every %g ms, per segment in `telemetry.csv`, from %s |\n", num(tel, "interval_ms"),
                str(tel, "source"));
    else if (json_is_true(json_object_get(tel, "enabled")))
        fprintf(f, "| GPU telemetry | every %g ms, per segment in `telemetry.csv`; GPM metrics (SM activity) %s |\n",
                num(tel, "interval_ms"), json_is_true(json_object_get(tel, "gpm")) ? "yes" : "not supported by this GPU");
    else if (json_is_object(tel))
        fprintf(f, "| GPU telemetry | none: %s |\n", str(tel, "reason"));
    fprintf(f, "| Run | %s to %s, status **%s** |\n", str(run, "started_at"), str(run, "ended_at"), str(run, "status"));
    fprintf(f, "| cotenant | %s (%s) |\n\n", str(cv, "version"), str(cv, "git_revision"));
    fprintf(f, "| Workload | Runs | Measured by | SLO |\n|---|---|---|---|\n");
    json_t *w;
    json_array_foreach(json_object_get(sc, "workloads"), i, w) {
        fprintf(f, "| %s | ", str(w, "name"));
        if (json_object_get(w, "kind")) fprintf(f, "built-in `%s`", str(w, "kind"));
        else {
            fputc('`', f);
            size_t j;
            json_t *a;
            json_array_foreach(json_object_get(w, "command"), j, a) fprintf(f, "%s%s", j ? " " : "", json_string_value(a));
            fputc('`', f);
        }
        size_t j;
        json_t *a;
        json_array_foreach(json_object_get(w, "args"), j, a) fprintf(f, " `%s`", json_string_value(a));
        double slo = num(w, "slo_ms");
        fprintf(f, " | %s | ", str(w, "measure"));
        if (isfinite(slo)) fprintf(f, "%g ms", slo);
        else fprintf(f, "–");
        fprintf(f, " |\n");
    }
    fputc('\n', f);
}

/* A workload's GPU figure in one kind of segment ("alone", "shared"). */
static const json_t *gpu_fig(const json_t *wo, const char *kind, const char *field)
{
    return json_object_get(json_object_get(json_object_get(wo, "gpu"), kind), field);
}

static bool any_gpu(const json_t *mo)
{
    size_t i;
    json_t *wo;
    json_array_foreach(json_object_get(mo, "workloads"), i, wo) if (json_object_get(wo, "gpu")) return true;
    return false;
}

/* What each workload did on the GPU, and the whole GPU in the shared window. */
static void gpu_table(FILE *f, const json_t *mo, bool shares)
{
    char a[64], b[64], c[64], d[64], e[64], g[64], h[64];
    fprintf(f, "GPU per workload: utilisation and SM activity are the whole GPU's while the workload ran alone; SM use is "
               "its own processes' share (NVML per process); energy is per unit of work, the shared GPU's split among "
               "the workloads as docs/metrics.md says.\n\n");
    if (shares)
        fprintf(f, "| Workload | GPU util alone (%%) | SM active alone (%%) | Power alone (W) | Peak memory alone (MiB) | "
                   "SM use shared (%%) | Peak memory shared (MiB) | Energy shared (J/unit) |\n|---|---|---|---|---|---|---|---|\n");
    else
        fprintf(f, "| Workload | GPU util (%%) | SM active (%%) | Power (W) | Peak memory (MiB) |\n|---|---|---|---|---|\n");
    size_t i;
    json_t *wo;
    json_array_foreach(json_object_get(mo, "workloads"), i, wo) {
        fprintf(f, "| %s | %s | %s | %s | %s", str(wo, "name"), fmt(gpu_fig(wo, "alone", "gpu_util_pct"), a, sizeof a),
                fmt(gpu_fig(wo, "alone", "sm_active_pct"), b, sizeof b), fmt(gpu_fig(wo, "alone", "power_w"), c, sizeof c),
                fmt(gpu_fig(wo, "alone", "peak_memory_mib"), d, sizeof d));
        if (shares)
            fprintf(f, " | %s | %s | %s", fmt(gpu_fig(wo, "shared", "process_sm_util_pct"), e, sizeof e),
                    fmt(gpu_fig(wo, "shared", "peak_memory_mib"), g, sizeof g),
                    fmt(gpu_fig(wo, "shared", "energy_per_sample_j"), h, sizeof h));
        fprintf(f, " |\n");
    }
    const json_t *sg = json_object_get(mo, "gpu_shared");
    if (shares && sg)
        fprintf(f, "\nThe GPU in the shared window: utilisation %s %%, SM active %s %%, peak memory %s MiB, mean power %s W, "
                   "%s J in all; shared energy split by %s.\n",
                fmt(json_object_get(sg, "gpu_util_pct"), a, sizeof a), fmt(json_object_get(sg, "sm_active_pct"), b, sizeof b),
                fmt(json_object_get(sg, "peak_memory_mib"), c, sizeof c), fmt(json_object_get(sg, "power_w"), d, sizeof d),
                fmt(json_object_get(sg, "energy_j"), e, sizeof e),
                !strcmp(str(sg, "energy_split"), "sm_util") ? "each workload's SM use"
                : !strcmp(str(sg, "energy_split"), "equal") ? "equal shares (NVML gave no per-process SM use for every workload)"
                : "SM use where NVML gave it, equal shares elsewhere");
    fputc('\n', f);
}

static void validity_of_mode(FILE *f, const json_t *mo);

static void mode_section(FILE *f, const json_t *mo)
{
    char a[64], b[64], c[64], d[64], e[64], g[64], h[64], k[64];
    bool shares = json_is_true(json_object_get(mo, "shares"));
    bool common = json_object_get(mo, "stp_common") != NULL;
    fprintf(f, "### %s\n\n", str(mo, "mode"));
    if (json_object_get(mo, "caveat")) fprintf(f, "> **%s**: %s.\n\n", str(mo, "mode"), str(mo, "caveat"));
    if (shares)
        fprintf(f, "| Workload | Unit | Alone /s | Shared /s | Normalized progress | %sp99 shared (ms) | SLO attained (shared) | "
                   "Energy alone → shared (J/unit) |\n|---|---|---|---|---|---|---|---|%s\n",
                common ? "NP vs whole GPU | " : "", common ? "---|" : "");
    else
        fprintf(f, "| Workload | Unit | Alone /s | p99 (ms) | Energy (J/unit) |\n|---|---|---|---|---|\n");
    size_t i;
    json_t *wo;
    json_array_foreach(json_object_get(mo, "workloads"), i, wo) {
        const json_t *lat = json_object_get(wo, "latency_ms");
        if (shares)
            fprintf(f, "| %s | %s | %s | %s | %s | %s%s%s | %s | %s → %s |\n", str(wo, "name"), str(wo, "unit"),
                    fmt(json_object_get(wo, "alone_throughput"), a, sizeof a),
                    fmt(json_object_get(wo, "shared_throughput"), b, sizeof b),
                    fmt(json_object_get(wo, "normalized_progress"), c, sizeof c),
                    common ? fmt(json_object_get(wo, "normalized_progress_common"), k, sizeof k) : "",
                    common ? " | " : "", fmt(json_object_get(json_object_get(lat, "shared"), "p99"), d, sizeof d),
                    fmt(json_object_get(json_object_get(wo, "slo_attainment"), "shared"), e, sizeof e),
                    fmt(gpu_fig(wo, "alone", "energy_per_sample_j"), g, sizeof g),
                    fmt(gpu_fig(wo, "shared", "energy_per_sample_j"), h, sizeof h));
        else
            fprintf(f, "| %s | %s | %s | %s | %s |\n", str(wo, "name"), str(wo, "unit"),
                    fmt(json_object_get(wo, "alone_throughput"), a, sizeof a),
                    fmt(json_object_get(json_object_get(lat, "alone"), "p99"), b, sizeof b),
                    fmt(gpu_fig(wo, "alone", "energy_per_sample_j"), c, sizeof c));
    }
    bool own = !json_is_false(json_object_get(mo, "own_baseline"));
    if (shares && !own)
        fprintf(f, "\nNo alone runs in this mode (own_baselines: false): every figure is against each workload alone "
                   "on the whole GPU, over %d complete repeat%s.\n",
                (int)json_integer_value(json_object_get(mo, "repeats_complete")),
                json_integer_value(json_object_get(mo, "repeats_complete")) == 1 ? "" : "s");
    else if (shares)
        fprintf(f, "\nSystem: STP %s, ANTT %s, Jain fairness %s (over %d complete repeat%s).\n",
                fmt(json_object_get(mo, "stp"), a, sizeof a), fmt(json_object_get(mo, "antt"), b, sizeof b),
                fmt(json_object_get(mo, "jain"), c, sizeof c), (int)json_integer_value(json_object_get(mo, "repeats_complete")),
                json_integer_value(json_object_get(mo, "repeats_complete")) == 1 ? "" : "s");
    if (shares && common)
        fprintf(f, "Against each workload alone on the whole GPU (%s): STP %s, ANTT %s, Jain fairness %s.\n",
                str(mo, "baseline"), fmt(json_object_get(mo, "stp_common"), a, sizeof a),
                fmt(json_object_get(mo, "antt_common"), b, sizeof b), fmt(json_object_get(mo, "jain_common"), c, sizeof c));
    if (shares)
        fputc('\n', f);
    else
        fputc('\n', f);
    validity_of_mode(f, mo);
    if (any_gpu(mo)) gpu_table(f, mo, shares);
}

/* The worst shared p99 across workloads that report latency (its pooled
 * value and interval); NULL if none. */
static const json_t *worst_p99(const json_t *mo)
{
    const json_t *worst = NULL;
    size_t i;
    json_t *wo;
    json_array_foreach(json_object_get(mo, "workloads"), i, wo) {
        const json_t *p = json_object_get(json_object_get(json_object_get(wo, "latency_ms"), "shared"), "p99");
        double v = num(p, "value");
        if (isfinite(v) && (!worst || v > num(worst, "value"))) worst = p;
    }
    return worst;
}

/* A mode's figure for one objective: shown as value [lo, hi], ranked by
 * score (higher is better: a latency's score is its negative). */
typedef struct {
    const json_t *mo;
    double v, lo, hi;  /* as shown; lo/hi NAN: no interval */
    double sd;         /* the spread across repeats; NAN: pooled, or one repeat */
    bool lower_better;
} scored;

typedef scored (*score_fn)(const json_t *mo);

/* Modes compared in one recommendation: as many as a scenario has. */
#define REPORT_MAX_MODES SCENARIO_MAX_MODES

static scored from_summary(const json_t *mo, const json_t *s)
{
    return (scored){mo, num(s, "mean"), num(s, "ci95_low"), num(s, "ci95_high"), num(s, "stddev"), false};
}
static scored s_stp(const json_t *mo)
{
    return from_summary(mo, json_object_get(mo, "stp"));
}
static scored s_stp_common(const json_t *mo)
{
    return from_summary(mo, json_object_get(mo, "stp_common"));
}
static scored s_jain_common(const json_t *mo)
{
    return from_summary(mo, json_object_get(mo, "jain_common"));
}
static scored s_jain(const json_t *mo)
{
    return from_summary(mo, json_object_get(mo, "jain"));
}
static scored s_p99(const json_t *mo)
{
    const json_t *p = worst_p99(mo);
    return (scored){mo, num(p, "value"), num(p, "ci95_low"), num(p, "ci95_high"), NAN, true};
}

static double score_of(const scored *x)
{
    return x->lower_better ? -x->v : x->v;
}

static bool has_interval(const scored *x)
{
    return isfinite(x->lo) && isfinite(x->hi);
}


static void print_scored(FILE *f, const scored *x, bool named)
{
    if (named) fprintf(f, "%s ", str(x->mo, "mode"));
    fprintf(f, "%.4g", x->v);
    if (has_interval(x)) fprintf(f, " [%.4g, %.4g]", x->lo, x->hi);
}

/* One line of the recommendation: a mode is named the best only where its
 * 95% interval separates from the runner-up's (or the runner-up has none,
 * which is said); otherwise the modes it cannot be told from are named,
 * with what would likely separate them. */
static void recommend(FILE *f, const json_t *metrics, const char *objective, score_fn fn, const char *what)
{
    scored all[REPORT_MAX_MODES];
    int n = 0;
    size_t i;
    json_t *mo;
    json_array_foreach(json_object_get(metrics, "modes"), i, mo) {
        if (!json_is_true(json_object_get(mo, "shares")) || n == REPORT_MAX_MODES) continue;
        scored x = fn(mo);
        if (!isfinite(x.v)) continue;
        int k = n++;
        for (; k > 0 && score_of(&all[k - 1]) < score_of(&x); k--) all[k] = all[k - 1];
        all[k] = x;
    }
    fprintf(f, "- **%s**: ", objective);
    if (n == 0) {
        fprintf(f, "no figures (%s).\n", what);
        return;
    }
    ranked r[REPORT_MAX_MODES];
    for (int j = 0; j < n; j++) r[j] = (ranked){all[j].v, all[j].lo, all[j].hi};
    int k;
    bool tie;
    rank_verdict verdict = ranking_judge(r, n, all[0].lower_better, &k, &tie);
    const scored *best = &all[0], *second = n > 1 ? &all[1] : NULL;
    if (verdict == RANK_ONLY) {
        fprintf(f, "%s (", str(best->mo, "mode"));
        print_scored(f, best, false);
        fprintf(f, ").\n");
        return;
    }
    if (verdict == RANK_BEST) {
        fprintf(f, "%s (", str(best->mo, "mode"));
        print_scored(f, best, false);
        fprintf(f, " against ");
        print_scored(f, second, true);
        fprintf(f, "; the 95%% intervals do not overlap).\n");
        return;
    }
    if (verdict == RANK_UNTESTED) {
        fprintf(f, "%s (", str(best->mo, "mode"));
        print_scored(f, best, false);
        fprintf(f, " against ");
        print_scored(f, second, true);
        fprintf(f, "); %s has no interval (%s), so the difference is not tested against noise.\n",
                has_interval(second) ? str(best->mo, "mode") : str(second->mo, "mode"),
                best->lower_better ? "too few requests" : "one repeat: run three or more to test it");
        return;
    }
    /* every mode the best cannot be told from */
    for (int j = 0; j < k; j++) {
        fprintf(f, "%s", j == 0 ? "" : j == k - 1 ? " and " : ", ");
        print_scored(f, &all[j], true);
    }
    fprintf(f, " cannot be told apart: %s", tie ? "they are within 0.1% of each other" : "their 95% intervals overlap");
    int more = stats_repeats_to_separate(fabs(best->v - second->v), best->sd, second->sd, 1000);
    if (best->lower_better)
        fprintf(f, "; more requests (a longer duration or more repeats) would narrow the intervals");
    else if (more > 0)
        fprintf(f, "; about %d repeats would likely separate %s from %s, from the spread seen", more,
                str(best->mo, "mode"), str(second->mo, "mode"));
    else if (!tie)
        fprintf(f, "; the spread seen is too large for a practical number of repeats to separate them: treat them as equal");
    fprintf(f, ".\n");
}

/* Adaptive repeats: how long the answer took against the exhaustive plan,
 * and what was left out on the way. */
static void adaptive_summary(FILE *f, const json_t *ad)
{
    if (!ad) return;
    double wall = num(ad, "wall_s"), full = num(ad, "exhaustive_estimate_s");
    fprintf(f, "\n**Time to answer** (repeats: auto): %.1f s, %lld of the %lld segments planned", wall,
            (long long)json_integer_value(json_object_get(ad, "segments_run")),
            (long long)json_integer_value(json_object_get(ad, "segments_planned")));
    if (isfinite(full) && wall > 0)
        fprintf(f, "; every repeat of every configuration would have taken about %.1f s (%.1fx as long)", full, full / wall);
    const char *stopped = json_string_value(json_object_get(ad, "stopped"));
    if (stopped)
        fprintf(f, ". Stopped after repeat %lld: %s", (long long)json_integer_value(json_object_get(ad, "stopped_after_repeat")),
                stopped);
    else
        fprintf(f, ". It ran to its cap of repeats without reaching the precision asked: the intervals are as measured");
    fprintf(f, ".\n");
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(ad, "dropped"), i, d)
        fprintf(f, "- %s was no longer run after repeat %lld: %s\n", str(d, "mode"),
                (long long)json_integer_value(json_object_get(d, "after_repeat")), str(d, "why"));
}

/* Figures that count but carry doubts (docs/metrics.md, "flagged"). */
static void flagged_warning(FILE *f, const json_t *metrics)
{
    const json_t *fl = json_object_get(metrics, "flagged");
    size_t n = json_array_size(fl), i, j;
    if (!n) return;
    fprintf(f, "> **Figures flagged.** %zu workload run%s finished the measured window, so %s figures are in the results "
               "below, but something makes them doubtful:\n>\n", n, n == 1 ? "" : "s", n == 1 ? "its" : "their");
    json_t *x, *why;
    json_array_foreach(fl, i, x) {
        fprintf(f, "> - %s, %s:", str(x, "segment"), str(x, "workload"));
        json_array_foreach(json_object_get(x, "flags"), j, why) fprintf(f, "%s %s", j ? ";" : "", json_string_value(why));
        fputc('\n', f);
    }
    fputc('\n', f);
}

/* The same on stderr: each flagged run's doubts, the first few of them. */
static void flagged_stderr(const json_t *metrics, const char *dir)
{
    const json_t *fl = json_object_get(metrics, "flagged");
    size_t n = json_array_size(fl), i, j;
    if (!n) return;
    cot_warn("the figures of %zu workload run%s are flagged as doubtful; %s/report.md says which and why:", n,
             n == 1 ? "" : "s", dir);
    json_t *x, *why;
    json_array_foreach(fl, i, x) {
        if (i == 5) {
            cot_warn("  ... and %zu more", n - i);
            break;
        }
        json_array_foreach(json_object_get(x, "flags"), j, why)
            cot_warn("  %s, %s: %s", str(x, "segment"), str(x, "workload"), json_string_value(why));
    }
}

/* The validity summary (docs/metrics.md, "Validity"): how many figures are
 * INVALID, and of what kinds; each mode's section lists its own. */
static void validity_summary(FILE *f, const json_t *metrics)
{
    const json_t *v = json_object_get(metrics, "validity");
    if (!v) return;
    long n = (long)json_integer_value(json_object_get(v, "figures")), bad = (long)json_integer_value(json_object_get(v, "invalid"));
    if (bad == 0) {
        fprintf(f, "**Validity**: all %ld figures are VALID (docs/metrics.md, \"Validity\").\n\n", n);
        return;
    }
    fprintf(f, "> **Validity**: %ld of %ld figures are INVALID (docs/metrics.md, \"Validity\"); each mode's section says "
               "which and why. Reasons:", bad, n);
    const char *kind;
    json_t *count;
    int k = 0;
    json_object_foreach(json_object_get(v, "reasons"), kind, count)
        fprintf(f, "%s %s (%lld)", k++ ? "," : "", kind, (long long)json_integer_value(count));
    fprintf(f, ".\n\n");
}

/* A mode's INVALID figures, each with its reasons. */
static void validity_of_mode(FILE *f, const json_t *mo)
{
    size_t i, j;
    json_t *wo, *r;
    bool any = false;
    json_array_foreach(json_object_get(mo, "workloads"), i, wo) {
        const char *fig;
        json_t *fv;
        json_object_foreach(json_object_get(wo, "validity"), fig, fv) {
            if (!strcmp(str(fv, "verdict"), "VALID")) continue;
            if (!any) fprintf(f, "INVALID figures:\n\n");
            any = true;
            fprintf(f, "- %s's %s:", str(wo, "name"), fig);
            json_array_foreach(json_object_get(fv, "reasons"), j, r) fprintf(f, "%s %s", j ? ";" : "", json_string_value(r));
            fputc('\n', f);
        }
    }
    const json_t *mv = json_object_get(mo, "validity");
    if (!strcmp(str(mv, "verdict"), "INVALID")) {
        if (!any) fprintf(f, "INVALID figures:\n\n");
        any = true;
        fprintf(f, "- the mode's system figures:");
        json_array_foreach(json_object_get(mv, "reasons"), j, r) fprintf(f, "%s %s", j ? ";" : "", json_string_value(r));
        fputc('\n', f);
    }
    if (any) fputc('\n', f);
}

/* Alone and shared runs under different GPU conditions (docs/metrics.md,
 * "Conditions"): said before the figures they may explain. */
static size_t conditions_warning(FILE *f, const json_t *metrics)
{
    size_t n = 0, i, j;
    json_t *mo, *c;
    json_array_foreach(json_object_get(metrics, "modes"), i, mo) n += json_array_size(json_object_get(mo, "conditions_differ"));
    if (!n || !f) return n;
    fprintf(f, "> **GPU conditions differed.** In %zu pair%s of alone and shared runs the GPU did not run under the same "
               "conditions. A lower clock or the power cap in the shared run can be sharing's own cost (more power "
               "drawn); a thermal or hardware slowdown in one run only is the environment's, and makes the figures "
               "INVALID (marked *environment*):\n>\n",
            n, n == 1 ? "" : "s");
    json_array_foreach(json_object_get(metrics, "modes"), i, mo)
        json_array_foreach(json_object_get(mo, "conditions_differ"), j, c)
            fprintf(f, "> - %s, repeat %d, %s: %s%s\n", str(mo, "mode"), (int)json_integer_value(json_object_get(c, "repeat")),
                    str(c, "workload"), str(c, "why"), json_is_true(json_object_get(c, "invalidates")) ? " (*environment*)" : "");
    fputc('\n', f);
    return n;
}

/* A segment whose window had someone else's GPU processes measured them too.
 * Said before any figure: an alone baseline that was not alone skews every
 * NP and STP of its mode. */
static void other_procs_warning(FILE *f, const json_t *metrics)
{
    const json_t *segs = json_object_get(metrics, "other_gpu_processes");
    size_t n = json_array_size(segs), i, j;
    if (!n) return;
    fprintf(f, "> **Other processes used the GPU.** During the measured window of %zu segment%s the GPU also ran "
               "processes that were not the segment's workloads; their contention is in these figures. Measure again "
               "on an idle GPU, or read the figures with this in mind.\n>\n",
            n, n == 1 ? "" : "s");
    json_t *seg, *p;
    json_array_foreach(segs, i, seg) {
        fprintf(f, "> - %s:", str(seg, "segment"));
        json_array_foreach(json_object_get(seg, "processes"), j, p) {
            fprintf(f, "%s pid %lld (%s", j ? ";" : "", (long long)json_integer_value(json_object_get(p, "pid")),
                    str(p, "process"));
            const json_t *mem = json_object_get(p, "peak_memory_mib"), *sm = json_object_get(p, "sm_util_pct");
            if (json_is_number(mem)) fprintf(f, ", %.0f MiB", json_number_value(mem));
            if (json_is_number(sm)) fprintf(f, ", SM %.0f%%", json_number_value(sm));
            fprintf(f, ", on the GPU for %.0f%% of the window)", json_number_value(json_object_get(p, "window_pct")));
        }
        json_int_t more = json_integer_value(json_object_get(seg, "more"));
        if (more) fprintf(f, "; and %lld more", (long long)more);
        fputc('\n', f);
    }
    fputc('\n', f);
}

static void failures_section(FILE *f, const json_t *metrics)
{
    const json_t *fails = json_object_get(metrics, "failures"), *excl = json_object_get(metrics, "excluded");
    if (!json_array_size(fails) && !json_array_size(excl)) return;
    fprintf(f, "## Failures and exclusions\n\n");
    size_t i;
    json_t *x;
    json_array_foreach(fails, i, x)
        fprintf(f, "- %s, workload %s failed: %s\n", str(x, "segment"), str(x, "workload"), str(x, "reason"));
    json_array_foreach(excl, i, x)
        fprintf(f, "- left out of the metrics: %s, %s: %s\n", str(x, "segment"), str(x, "workload"), str(x, "reason"));
    fputc('\n', f);
}

int report_run(const char *dir, cot_err *err)
{
    char path[PATH_MAX];
    if (fs_path_join(path, sizeof path, dir, "run.json", err)) return -1;
    json_t *run = fs_read_json_file(path, RUN_JSON_MAX_BYTES, err);
    if (!run) return cot_err_prefix(err, "%s is not a cotenant results folder", dir);
    if (fs_path_join(path, sizeof path, dir, "metrics.json", err)) return -1;
    json_t *metrics = fs_path_exists(path) ? fs_read_json_file(path, RUN_JSON_MAX_BYTES, err) : NULL;
    if (!metrics) {
        json_decref(run);
        if (!fs_path_exists(path)) cot_errf(err, "%s has no metrics.json; run `cotenant analyze %s` first", dir, dir);
        return -1;
    }
    plot_list pl;
    cot_err perr;
    int prc = plots_make(dir, metrics, run, &pl, &perr);

    char *md = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    const json_t *sc = json_object_get(run, "scenario");
    fprintf(f, "# cotenant report: %s\n\n", str(sc, "name"));
    const char *status = str(run, "status");
    if (json_is_string(json_object_get(run, "error")))
        fprintf(f, "> **Run status: %s.** The plan stopped before its end: %s. The figures use the segments that "
                   "finished.\n\n", status, str(run, "error"));
    else if (strcmp(status, "complete"))
        fprintf(f, "> **Run status: %s.** %s\n\n", status,
                !strcmp(status, "interrupted") ? "The run was stopped before its plan ended; the figures use the segments that finished."
                : !strcmp(status, "failed") ? "Some workloads failed; see Failures below. Their segments are left out of the figures."
                : "The run did not complete; see run.json.");
    if (json_is_true(json_object_get(sc, "builtin_default")) && !strcmp(str(sc, "device"), "cpu"))
        fprintf(f, "> **CPU default.** No NVIDIA GPU was found, so this is cotenant's built-in CPU scenario: CPU workloads "
                   "contending for cores under the OS scheduler. It shows the whole pipeline and report; its figures say "
                   "nothing about GPU sharing.\n\n");
    other_procs_warning(f, metrics);
    flagged_warning(f, metrics);
    conditions_warning(f, metrics);
    validity_summary(f, metrics);
    setup_section(f, run);
    size_t i;
    json_t *mo;
    bool common = false;
    json_array_foreach(json_object_get(metrics, "modes"), i, mo) common |= json_object_get(mo, "stp_common") != NULL;
    fprintf(f, "## Results per mode\n\nFigures are means across repeats ± the half-width of their 95%% confidence interval; "
               "latency percentiles are taken over every repeat's requests together, with their 95%% interval in brackets "
               "(≥: requests unanswered at the end may lie above). "
               "Normalized progress (NP) is a workload's throughput shared over its throughput alone in the same mode and repeat; "
               "%sSTP is the sum of NP (higher is better), ANTT the mean of 1/NP (lower is better); docs/metrics.md defines "
               "each.\n\n",
            common ? "NP vs whole GPU is over its throughput alone on the whole GPU (the common baseline) in the same "
                     "repeat; " : "");
    json_array_foreach(json_object_get(metrics, "modes"), i, mo) mode_section(f, mo);

    fprintf(f, "## Comparison\n\n| Mode | %sSTP | ANTT | Jain fairness | worst p99 shared (ms) | GPU power shared (W) | "
               "SM active shared (%%) |\n|---|---|---|---|---|---|---|%s\n",
            common ? "STP vs whole GPU | " : "", common ? "---|" : "");
    int shared_modes = 0;
    json_array_foreach(json_object_get(metrics, "modes"), i, mo) {
        if (!json_is_true(json_object_get(mo, "shares"))) continue;
        shared_modes++;
        char a[64], b[64], c[64], d[64];
        const json_t *p99 = worst_p99(mo);
        fprintf(f, "| %s%s | ", str(mo, "mode"), json_object_get(mo, "caveat") ? " (caveat above)" : "");
        if (common) fprintf(f, "%s | ", fmt(json_object_get(mo, "stp_common"), d, sizeof d));
        fprintf(f, "%s | %s | %s | ", fmt(json_object_get(mo, "stp"), a, sizeof a),
                fmt(json_object_get(mo, "antt"), b, sizeof b), fmt(json_object_get(mo, "jain"), c, sizeof c));
        fprintf(f, "%s | ", p99 ? fmt(p99, d, sizeof d) : "–");
        const json_t *sg = json_object_get(mo, "gpu_shared");
        fprintf(f, "%s | %s |\n", fmt(json_object_get(sg, "power_w"), a, sizeof a),
                fmt(json_object_get(sg, "sm_active_pct"), b, sizeof b));
    }
    fprintf(f, "\n## Recommendation\n\n");
    const json_t *rec = json_object_get(metrics, "recommendation");
    if (rec && shared_modes > 0) { /* the scenario's objective and constraints first */
        advise_print(f, rec, "");
        adaptive_summary(f, json_object_get(metrics, "adaptive"));
        fprintf(f, "\nOther objectives (`cotenant advise %s --objective fairness` asks again, with any SLO):\n\n", dir);
    }
    if (shared_modes == 0) {
        fprintf(f, "No mode shared the GPU in this run (one workload, or only exclusive), so there is nothing to compare.\n\n");
    } else {
        if (common) {
            recommend(f, metrics, "Highest system throughput (STP against each workload alone on the whole GPU)",
                      s_stp_common, "no repeat finished with every workload and its whole-GPU baseline");
            recommend(f, metrics, "Best tail latency (lowest worst p99)", s_p99, "no workload reports latency events");
            recommend(f, metrics, "Fairest (Jain index over NP against the whole GPU)", s_jain_common,
                      "no repeat finished with every workload and its whole-GPU baseline");
            fprintf(f, "\nModes are ranked on the common baseline: every workload alone on the whole GPU, measured in "
                       "each repeat. The in-mode figures in the tables compare each mode's shared run with its own alone "
                       "runs; where a mode partitions the GPU (MPS limits, MIG), its alone runs are already partitioned, "
                       "so in-mode NP measures interference within the partition, not what the partition costs.\n");
        } else {
            recommend(f, metrics, "Highest system throughput (STP)", s_stp, "no repeat finished with every workload");
            recommend(f, metrics, "Best tail latency (lowest worst p99)", s_p99, "no workload reports latency events");
            recommend(f, metrics, "Fairest (Jain index over NP)", s_jain, "no repeat finished with every workload");
        }
        if (shared_modes == 1) fprintf(f, "\nOnly one sharing mode ran, so these name it without a comparison.\n");
        json_array_foreach(json_object_get(metrics, "modes"), i, mo)
            if (json_object_get(mo, "caveat")) fprintf(f, "\n%s is %s.\n", str(mo, "mode"), str(mo, "caveat"));
        fputc('\n', f);
    }
    fprintf(f, "## Plots\n\n");
    for (int k = 0; k < pl.n; k++) {
        snprintf(path, sizeof path, "%s/plots/%s", dir, pl.names[k]);
        if (fs_path_exists(path)) fprintf(f, "![%s](plots/%s)\n\n", pl.titles[k], pl.names[k]);
    }
    if (pl.gnuplot_missing)
        fprintf(f, "gnuplot was not found, so no PNG was made: each plot's .dat and .gp are in plots/; "
                   "install gnuplot and run `cotenant report %s` (or `gnuplot NAME.gp` in plots/).\n\n", dir);
    if (prc != 0) fprintf(f, "Plotting failed: %s\n\n", perr.msg);
    failures_section(f, metrics);
    fprintf(f, "## Files\n\n- `run.json`: the resolved scenario, host, GPU, plan and status\n"
               "- `metrics.json`, `summary.csv`: every figure above with its interval and per-repeat values\n"
               "- `segments/ID/`: each segment's `segment.json`, its GPU samples in `telemetry.csv` (docs/telemetry.md) and, "
               "per workload, `events.jsonl`, `stdout.log`, `stderr.log`\n"
               "- `plots/`: each PNG with the .dat and .gp that made it\n");
    fclose(f);
    int rc = fs_path_join(path, sizeof path, dir, "report.md", err) ? -1 : fs_write_file_atomic(path, md, len, err);
    free(md);
    size_t crowded = json_array_size(json_object_get(metrics, "other_gpu_processes"));
    if (rc == 0) flagged_stderr(metrics, dir);
    size_t differ = conditions_warning(NULL, metrics);
    if (rc == 0 && differ)
        cot_warn("the GPU ran %zu pair%s of alone and shared runs under different conditions (clocks, power or thermal "
                 "limits); %s/report.md lists them", differ, differ == 1 ? "" : "s", dir);
    json_decref(run);
    json_decref(metrics);
    if (rc == 0 && prc != 0) cot_warn("%s", perr.msg);
    if (rc == 0 && crowded)
        cot_warn("processes outside the run used the GPU during the measured window of %zu segment%s; %s/report.md "
                 "names them",
                 crowded, crowded == 1 ? "" : "s", dir);
    if (rc == 0 && pl.gnuplot_missing) cot_warn("gnuplot was not found: the report has no PNG plots (the .gp files are in %s/plots)", dir);
    return rc;
}
