#include "analysis/advise.h"

#include <math.h>
#include <string.h>

#include "analysis/ranking.h"
#include "scenario/objective.h"

static double num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

const json_t *advise_workload(const json_t *mo, const char *name)
{
    size_t i;
    json_t *wo;
    json_array_foreach(json_object_get(mo, "workloads"), i, wo)
        if (!strcmp(str(wo, "name"), name)) return wo;
    return NULL;
}

/* A figure of the common baseline where the run has one, else the mode's own. */
static const json_t *common_or_own(const json_t *o, const char *common, const char *own, const char **used)
{
    const json_t *c = json_object_get(o, common);
    *used = c && !json_is_null(c) ? common : own;
    return json_object_get(o, *used);
}

typedef struct {
    const json_t *mo;
    double v, lo, hi, sd;
    double miss;          /* how far it misses the constraints, summed relative shortfalls */
    json_t *violations, *uncertain;
} cand;

static bool has_interval(const cand *c) { return isfinite(c->lo) && isfinite(c->hi); }

/* Each constraint against the configuration's figures. */
static void judge(cand *c, const scenario *sc, const objective_spec *o)
{
    for (int i = 0; i < o->nslo; i++) {
        const slo_constraint *s = &o->slo[i];
        const char *w = sc->workloads[s->workload].name, *pn = objective_pct_names[s->pct];
        const json_t *wo = advise_workload(c->mo, w);
        const json_t *p = json_object_get(json_object_get(json_object_get(wo, "latency_ms"), "shared"), pn);
        double v = num(p, "value"), hi = num(p, "ci95_high");
        if (!isfinite(v)) {
            json_array_append_new(c->violations, json_sprintf("%s has no shared %s (%s)", w, pn,
                                                              p ? "too few requests for its rank" : "no latency events"));
            c->miss += 1;
        } else if (v > s->limit_ms) {
            json_array_append_new(c->violations, json_sprintf("%s %s %.4g ms > %.6g ms", w, pn, v, s->limit_ms));
            c->miss += (v - s->limit_ms) / s->limit_ms;
        } else if (!isfinite(hi)) {
            json_array_append_new(c->uncertain, json_sprintf("%s %s %.4g ms meets %.6g ms, but its 95%% interval has no "
                                                             "upper end (too few requests beyond the percentile)",
                                                             w, pn, v, s->limit_ms));
        } else if (hi > s->limit_ms) {
            json_array_append_new(c->uncertain, json_sprintf("%s %s %.4g ms meets %.6g ms, but its 95%% interval "
                                                             "reaches %.4g ms", w, pn, v, s->limit_ms, hi));
        }
        if (s->attainment > 0) {
            double a = num(json_object_get(json_object_get(wo, "slo_attainment"), "shared"), "mean");
            if (!(a >= s->attainment)) {
                json_array_append_new(c->violations,
                                      isfinite(a) ? json_sprintf("%s answered %.4g of its requests within %.6g ms < %.4g", w,
                                                                 a, s->limit_ms, s->attainment)
                                                  : json_sprintf("%s has no SLO attainment figure", w));
                c->miss += isfinite(a) ? (s->attainment - a) / s->attainment : 1;
            }
        }
    }
    for (int w = 0; w < sc->nworkloads; w++) {
        if (!(o->min_np[w] > 0)) continue;
        const char *used;
        const json_t *np = common_or_own(advise_workload(c->mo, sc->workloads[w].name), "normalized_progress_common",
                                         "normalized_progress", &used);
        double v = num(np, "mean"), lo = num(np, "ci95_low");
        if (!isfinite(v)) {
            json_array_append_new(c->violations, json_sprintf("%s has no NP", sc->workloads[w].name));
            c->miss += 1;
        } else if (v < o->min_np[w]) {
            json_array_append_new(c->violations, json_sprintf("%s NP %.4g < %.4g", sc->workloads[w].name, v, o->min_np[w]));
            c->miss += (o->min_np[w] - v) / o->min_np[w];
        } else if (lo < o->min_np[w]) {
            json_array_append_new(c->uncertain, json_sprintf("%s NP %.4g meets %.4g, but its 95%% interval reaches %.4g",
                                                             sc->workloads[w].name, v, o->min_np[w], lo));
        }
    }
    /* a figure that cannot be trusted is not a recommendation's */
    size_t i;
    json_t *wo;
    json_array_foreach(json_object_get(c->mo, "workloads"), i, wo) {
        const json_t *t = json_object_get(json_object_get(wo, "validity"), "throughput");
        if (!strcmp(str(t, "verdict"), "INVALID")) {
            json_array_append_new(c->violations, json_sprintf("%s's throughput is invalid (%s)", str(wo, "name"),
                                                              json_string_value(json_array_get(json_object_get(t, "reasons"), 0)) ?: "see validity"));
            c->miss += 1;
        }
    }
}

static const json_t *objective_figure(const json_t *mo, const scenario *sc, const objective_spec *o, const char **used)
{
    if (o->kind == OBJECTIVE_THROUGHPUT) {
        *used = "shared_throughput";
        return json_object_get(advise_workload(mo, sc->workloads[o->workload].name), "shared_throughput");
    }
    return o->kind == OBJECTIVE_FAIRNESS ? common_or_own(mo, "jain_common", "jain", used)
                                         : common_or_own(mo, "stp_common", "stp", used);
}

static json_t *constraint_sentences(const scenario *sc, const objective_spec *o)
{
    json_t *a = json_array();
    for (int i = 0; i < o->nslo; i++) {
        const slo_constraint *s = &o->slo[i];
        json_array_append_new(a, s->attainment > 0 ? json_sprintf("%s %s <= %g ms and %g of requests within it",
                                                                  sc->workloads[s->workload].name,
                                                                  objective_pct_names[s->pct], s->limit_ms, s->attainment)
                                                   : json_sprintf("%s %s <= %g ms", sc->workloads[s->workload].name,
                                                                  objective_pct_names[s->pct], s->limit_ms));
    }
    for (int w = 0; w < sc->nworkloads; w++)
        if (o->min_np[w] > 0) json_array_append_new(a, json_sprintf("%s NP >= %g", sc->workloads[w].name, o->min_np[w]));
    return a;
}

static json_t *shown(const cand *c)
{
    char buf[96];
    int n = snprintf(buf, sizeof buf, "%s %.4g", str(c->mo, "mode"), c->v);
    if (has_interval(c)) snprintf(buf + n, sizeof buf - (size_t)n, " [%.4g, %.4g]", c->lo, c->hi);
    return json_string(buf);
}

json_t *advise(const json_t *metrics, const scenario *sc, const objective_spec *o)
{
    char oname[SCENARIO_NAME_MAX + 32];
    objective_name(sc, o, oname, sizeof oname);
    cand all[SCENARIO_MAX_MODES];
    int n = 0;
    const char *figure = NULL;
    size_t i;
    json_t *mo;
    json_array_foreach(json_object_get(metrics, "modes"), i, mo) {
        if (!json_is_true(json_object_get(mo, "shares")) || n == SCENARIO_MAX_MODES) continue;
        const char *used;
        const json_t *f = objective_figure(mo, sc, o, &used);
        cand c = {mo, num(f, "mean"), num(f, "ci95_low"), num(f, "ci95_high"), num(f, "stddev"), 0, json_array(), json_array()};
        if (!isfinite(c.v)) {
            json_array_append_new(c.violations, json_sprintf("no %s figure (no repeat finished with every workload)", used));
            c.miss = INFINITY;
        }
        if (!figure && isfinite(c.v)) figure = used;
        judge(&c, sc, o);
        int k = n++; /* those that meet first, then by the objective, then by how little they miss */
        bool meets = json_array_size(c.violations) == 0;
        while (k > 0) {
            const cand *b = &all[k - 1];
            bool bmeets = json_array_size(b->violations) == 0;
            if (bmeets != meets ? meets : meets ? c.v > b->v || (!isfinite(b->v) && isfinite(c.v)) : c.miss < b->miss)
                all[k] = all[k - 1], k--;
            else
                break;
        }
        all[k] = c;
    }
    json_t *rec = json_pack("{s:s, s:s, s:o}", "objective", oname, "figure", figure ? figure : "", "constraints",
                            constraint_sentences(sc, o));
    json_t *list = json_array(), *tied = json_array();
    int eligible = 0;
    for (int k = 0; k < n; k++) {
        bool meets = json_array_size(all[k].violations) == 0;
        eligible += meets;
        json_t *e = json_pack("{s:s, s:o, s:o, s:o, s:b, s:o, s:o}", "mode", str(all[k].mo, "mode"), "value",
                              isfinite(all[k].v) ? json_real(all[k].v) : json_null(), "ci95_low",
                              isfinite(all[k].lo) ? json_real(all[k].lo) : json_null(), "ci95_high",
                              isfinite(all[k].hi) ? json_real(all[k].hi) : json_null(), "meets", meets, "violations",
                              all[k].violations, "uncertain", all[k].uncertain);
        json_array_append_new(list, e);
    }
    json_object_set_new(rec, "configurations", list);
    const char *verdict;
    json_t *sentence;
    if (n == 0) {
        verdict = "no_figures";
        sentence = json_string("no configuration shared the GPU, so there is nothing to recommend");
    } else if (eligible == 0) {
        verdict = "none_meets";
        json_object_set_new(rec, "best", json_string(str(all[0].mo, "mode")));
        sentence = json_sprintf("no configuration meets every constraint; the closest is %s (%s)", str(all[0].mo, "mode"),
                                json_string_value(json_array_get(all[0].violations, 0)));
    } else {
        const cand *best = &all[0], *second = eligible > 1 ? &all[1] : NULL;
        json_object_set_new(rec, "best", json_string(str(best->mo, "mode")));
        ranked r[SCENARIO_MAX_MODES];
        for (int j = 0; j < eligible; j++) r[j] = (ranked){all[j].v, all[j].lo, all[j].hi};
        int k;
        bool tie;
        rank_verdict rv = ranking_judge(r, eligible, false, &k, &tie);
        json_t *b = shown(best), *s2 = second ? shown(second) : NULL;
        if (rv == RANK_ONLY) {
            verdict = "best";
            sentence = json_sprintf("%s (%s): the only configuration that meets every constraint", str(best->mo, "mode"),
                                    json_string_value(b) + strlen(str(best->mo, "mode")) + 1);
        } else if (rv == RANK_BEST) {
            verdict = "best";
            sentence = json_sprintf("%s, against %s: the 95%% intervals do not overlap", json_string_value(b),
                                    json_string_value(s2));
        } else if (rv == RANK_UNTESTED) {
            verdict = "untested";
            sentence = json_sprintf("%s, against %s; without intervals (one repeat) the difference is not tested "
                                    "against noise: run three or more repeats", json_string_value(b), json_string_value(s2));
        } else {
            verdict = "indistinguishable";
            char names[1024] = "";
            size_t len = 0;
            for (int j = 0; j < k; j++) {
                json_array_append_new(tied, json_string(str(all[j].mo, "mode")));
                json_t *sj = shown(&all[j]);
                len += (size_t)snprintf(names + len, len < sizeof names ? sizeof names - len : 0, "%s%s",
                                        j == 0 ? "" : j == k - 1 ? " and " : ", ", json_string_value(sj));
                json_decref(sj);
            }
            sentence = json_sprintf("%s cannot be told apart (%s)", names,
                                    tie ? "within 0.1% of each other" : "their 95% intervals overlap");
        }
        json_decref(s2);
        json_decref(b);
    }
    json_object_set_new(rec, "verdict", json_string(verdict));
    json_object_set_new(rec, "tied", tied);
    json_object_set_new(rec, "sentence", sentence);
    return rec;
}

void advise_print(FILE *f, const json_t *rec, const char *prefix)
{
    size_t i, j;
    json_t *c, *x;
    fprintf(f, "%s**For %s", prefix, str(rec, "objective"));
    json_array_foreach(json_object_get(rec, "constraints"), i, c)
        fprintf(f, "%s%s", i == 0 ? ", given " : "; ", json_string_value(c));
    fprintf(f, "**: %s.\n", str(rec, "sentence"));
    json_array_foreach(json_object_get(rec, "configurations"), i, c) {
        json_array_foreach(json_object_get(c, "violations"), j, x)
            fprintf(f, "%s- %s left out: %s\n", prefix, str(c, "mode"), json_string_value(x));
        json_array_foreach(json_object_get(c, "uncertain"), j, x)
            fprintf(f, "%s- %s meets it narrowly: %s\n", prefix, str(c, "mode"), json_string_value(x));
    }
}
