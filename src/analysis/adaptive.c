#include "analysis/adaptive.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/advise.h"
#include "scenario/objective.h"

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static double num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static int mode_index(const scenario *sc, const char *name)
{
    for (int m = 0; m < sc->nmodes; m++)
        if (!strcmp(sc->modes[m], name)) return m;
    return -1;
}

/* A workload's NP against the common baseline where the run has one. */
static const json_t *np_of(const json_t *wo)
{
    const json_t *np = json_object_get(wo, "normalized_progress_common");
    return !np || json_is_null(np) ? json_object_get(wo, "normalized_progress") : np;
}

/* Whether a configuration clearly misses a constraint: the 95% interval of
 * a constrained figure lies wholly on the wrong side of its limit, so more
 * repeats would not bring it in. Its sentence into why. */
static bool clearly_misses(const json_t *mo, const scenario *sc, char *why, size_t cap)
{
    const objective_spec *o = &sc->objective;
    for (int k = 0; k < o->nslo; k++) {
        const slo_constraint *c = &o->slo[k];
        const char *w = sc->workloads[c->workload].name, *pn = objective_pct_names[c->pct];
        const json_t *wo = advise_workload(mo, w);
        const json_t *p = json_object_get(json_object_get(json_object_get(wo, "latency_ms"), "shared"), pn);
        if (num(p, "ci95_low") > c->limit_ms) {
            snprintf(why, cap, "clearly misses the SLO: %s %s %.4g ms [%.4g, %.4g] > %g ms", w, pn, num(p, "value"),
                     num(p, "ci95_low"), num(p, "ci95_high"), c->limit_ms);
            return true;
        }
        const json_t *a = json_object_get(json_object_get(wo, "slo_attainment"), "shared");
        if (c->attainment > 0 && num(a, "ci95_high") < c->attainment) {
            snprintf(why, cap, "clearly misses the SLO: %s answered %.4g [%.4g, %.4g] of its requests within %g ms < %g",
                     w, num(a, "mean"), num(a, "ci95_low"), num(a, "ci95_high"), c->limit_ms, c->attainment);
            return true;
        }
    }
    for (int w = 0; w < sc->nworkloads; w++) {
        const json_t *np = np_of(advise_workload(mo, sc->workloads[w].name));
        if (o->min_np[w] > 0 && num(np, "ci95_high") < o->min_np[w]) {
            snprintf(why, cap, "clearly misses min_np: %s NP %.4g [%.4g, %.4g] < %g", sc->workloads[w].name,
                     num(np, "mean"), num(np, "ci95_low"), num(np, "ci95_high"), o->min_np[w]);
            return true;
        }
    }
    return false;
}

/* Whether a sharing mode's figures are precise enough: each NP's interval
 * within +-precision, each constrained percentile with enough requests. */
static bool precise(const json_t *mo, const scenario *sc)
{
    size_t i;
    json_t *wo;
    json_array_foreach(json_object_get(mo, "workloads"), i, wo) {
        const json_t *np = np_of(wo);
        if (!np && !json_object_get(wo, "shared_throughput")) continue; /* a server: no NP of its own */
        double half = (num(np, "ci95_high") - num(np, "ci95_low")) / 2;
        if (!(half <= sc->precision)) return false;
    }
    for (int k = 0; k < sc->objective.nslo; k++) {
        const slo_constraint *c = &sc->objective.slo[k];
        json_array_foreach(json_object_get(mo, "workloads"), i, wo) {
            if (strcmp(str(wo, "name"), sc->workloads[c->workload].name)) continue;
            const json_t *p = json_object_get(json_object_get(json_object_get(wo, "latency_ms"), "shared"),
                                              objective_pct_names[c->pct]);
            if (!p || !isfinite(num(p, "value"))) return false;
        }
    }
    return true;
}

bool adaptive_decide(const json_t *metrics, const scenario *sc, int repeat, bool *active, char (*why)[160],
                     char *stop_why, size_t cap)
{
    if (repeat < SCENARIO_ADAPTIVE_MIN_REPEATS) return false;
    json_t *rec = advise(metrics, sc, &sc->objective);
    /* the leader: the best still running that meets every constraint (the list is best first) */
    const json_t *lead = NULL;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(rec, "configurations"), i, c) {
        int m = mode_index(sc, str(c, "mode"));
        if (m >= 0 && active[m] && json_is_true(json_object_get(c, "meets")) && isfinite(num(c, "ci95_low"))) {
            lead = c;
            break;
        }
    }
    /* Racing by the constraints: a configuration that clearly misses one
     * can never be recommended, so it goes while another still may meet
     * them all. Where none may, the answer is known: none meets them. */
    char miss[SCENARIO_MAX_MODES][160];
    bool misses[SCENARIO_MAX_MODES] = {false};
    int may_meet = 0, running = 0;
    json_t *mo;
    json_array_foreach(json_object_get(metrics, "modes"), i, mo) {
        int m = mode_index(sc, str(mo, "mode"));
        if (m < 0 || !active[m] || !json_is_true(json_object_get(mo, "shares"))) continue;
        running++;
        misses[m] = clearly_misses(mo, sc, miss[m], sizeof miss[m]);
        may_meet += !misses[m];
    }
    if (running > 0 && may_meet == 0) {
        snprintf(stop_why, cap, "every configuration still running clearly misses a constraint, so none can meet them "
                                "all; the recommendation names the closest");
        json_decref(rec);
        return true;
    }
    for (int m = 0; m < sc->nmodes; m++)
        if (active[m] && misses[m]) active[m] = false, snprintf(why[m], sizeof why[m], "%s", miss[m]);
    int left = 0;
    json_array_foreach(json_object_get(rec, "configurations"), i, c) {
        int m = mode_index(sc, str(c, "mode"));
        if (m < 0 || !active[m]) continue;
        if (lead && c != lead && num(c, "ci95_high") < num(lead, "ci95_low")) {
            active[m] = false;
            snprintf(why[m], sizeof why[m], "clearly behind %s on %s: %.4g [%.4g, %.4g] against %.4g [%.4g, %.4g]",
                     str(lead, "mode"), str(rec, "objective"), num(c, "value"), num(c, "ci95_low"), num(c, "ci95_high"),
                     num(lead, "value"), num(lead, "ci95_low"), num(lead, "ci95_high"));
            continue;
        }
        left++;
    }
    /* done once every configuration still running is precise: the one left
     * after the race too, since its figures are the answer */
    bool stop = left > 0;
    json_array_foreach(json_object_get(metrics, "modes"), i, mo) {
        int m = mode_index(sc, str(mo, "mode"));
        if (m >= 0 && active[m] && json_is_true(json_object_get(mo, "shares")) && !precise(mo, sc)) stop = false;
    }
    if (stop && left == 1 && lead)
        snprintf(stop_why, cap, "only %s is left, every other configuration clearly behind it, and each of its NPs is "
                                "within +-%g (95%%)", str(lead, "mode"), sc->precision);
    else if (stop)
        snprintf(stop_why, cap, "every configuration left has each NP within +-%g (95%%) and the requests its "
                                "constrained percentiles need", sc->precision);
    json_decref(rec);
    return stop;
}
