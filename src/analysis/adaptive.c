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

/* Whether a sharing mode's figures are precise enough: each NP's interval
 * within +-precision, each constrained percentile with enough requests. */
static bool precise(const json_t *mo, const scenario *sc)
{
    size_t i;
    json_t *wo;
    json_array_foreach(json_object_get(mo, "workloads"), i, wo) {
        const json_t *np = json_object_get(wo, "normalized_progress_common");
        if (!np || json_is_null(np)) np = json_object_get(wo, "normalized_progress");
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
    json_t *mo;
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
