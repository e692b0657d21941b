#include "scenario/objective.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"

const char *const objective_pct_names[OBJECTIVE_PCTS] = {"p50", "p95", "p99", "p99_9"};

void objective_init(objective_spec *o)
{
    memset(o, 0, sizeof *o);
    o->kind = OBJECTIVE_STP;
    o->workload = -1;
}

static int bad(char *why, size_t cap, const char *fmt, const char *a)
{
    snprintf(why, cap, fmt, a);
    return -1;
}

int objective_parse_kind(const scenario *sc, const char *text, objective_spec *o, char *why, size_t cap)
{
    static const char thr[] = "throughput of ";
    if (!strcmp(text, "stp")) {
        o->kind = OBJECTIVE_STP, o->workload = -1;
    } else if (!strcmp(text, "fairness")) {
        o->kind = OBJECTIVE_FAIRNESS, o->workload = -1;
    } else if (!strncmp(text, thr, sizeof thr - 1)) {
        int w = scenario_workload_index(sc, text + sizeof thr - 1);
        if (w < 0) return bad(why, cap, "'%s' is not a workload of this scenario", text + sizeof thr - 1);
        o->kind = OBJECTIVE_THROUGHPUT, o->workload = w;
    } else {
        return bad(why, cap, "objective '%s'; expected stp, fairness or throughput of WORKLOAD", text);
    }
    return 0;
}

/* "NAME" before a separator, as a workload index. */
static int workload_before(const scenario *sc, const char *text, char sep, const char **rest, char *why, size_t cap)
{
    const char *s = strchr(text, sep);
    char name[SCENARIO_NAME_MAX + 1];
    if (!s || s == text || (size_t)(s - text) > SCENARIO_NAME_MAX) return bad(why, cap, "'%s': expected WORKLOAD then the value", text);
    memcpy(name, text, (size_t)(s - text));
    name[s - text] = '\0';
    int w = scenario_workload_index(sc, name);
    if (w < 0) return bad(why, cap, "'%s' is not a workload of this scenario", name);
    *rest = s + 1;
    return w;
}

int objective_parse_slo(const scenario *sc, const char *text, slo_constraint *c, char *why, size_t cap)
{
    const char *rest;
    int w = workload_before(sc, text, ':', &rest, why, cap);
    if (w < 0) return -1;
    const char *eq = strchr(rest, '=');
    int pct = -1;
    for (int i = 0; eq && i < OBJECTIVE_PCTS; i++)
        if (strlen(objective_pct_names[i]) == (size_t)(eq - rest) && !strncmp(rest, objective_pct_names[i], (size_t)(eq - rest)))
            pct = i;
    if (pct < 0) return bad(why, cap, "'%s': expected WORKLOAD:p99=20ms (p50, p95, p99 or p99_9), then :0.99 for an attainment", text);
    char lim[32];
    const char *colon = strchr(eq + 1, ':');
    size_t n = colon ? (size_t)(colon - eq - 1) : strlen(eq + 1);
    if (n == 0 || n >= sizeof lim) return bad(why, cap, "'%s': the latency limit is missing or too long", text);
    memcpy(lim, eq + 1, n);
    lim[n] = '\0';
    const char *dwhy = NULL;
    double s = parse_duration_s(lim, &dwhy);
    if (s <= 0) return bad(why, cap, "'%s': the limit must be a duration above 0, such as 20ms", text);
    double att = 0;
    if (colon) {
        char *end;
        att = strtod(colon + 1, &end);
        if (end == colon + 1 || *end || !(att > 0 && att <= 1)) return bad(why, cap, "'%s': the attainment must be a fraction in (0, 1]", text);
    }
    *c = (slo_constraint){.workload = w, .pct = pct, .limit_ms = s * 1e3, .attainment = att};
    return 0;
}

int objective_parse_min_np(const scenario *sc, const char *text, objective_spec *o, char *why, size_t cap)
{
    const char *rest;
    int w = workload_before(sc, text, '=', &rest, why, cap);
    if (w < 0) return -1;
    char *end;
    double v = strtod(rest, &end);
    if (end == rest || *end || !(v > 0 && v <= 10)) return bad(why, cap, "'%s': the NP must be a number above 0, such as 0.5", text);
    o->min_np[w] = v;
    return 0;
}

void objective_name(const scenario *sc, const objective_spec *o, char *out, size_t cap)
{
    if (o->kind == OBJECTIVE_THROUGHPUT) snprintf(out, cap, "throughput of %s", sc->workloads[o->workload].name);
    else snprintf(out, cap, "%s", o->kind == OBJECTIVE_FAIRNESS ? "fairness" : "stp");
}

json_t *objective_to_json(const scenario *sc, const objective_spec *o)
{
    char name[SCENARIO_NAME_MAX + 32];
    objective_name(sc, o, name, sizeof name);
    json_t *slo = json_array(), *np = json_object();
    for (int i = 0; i < o->nslo; i++) {
        const slo_constraint *c = &o->slo[i];
        json_t *e = json_pack("{s:s, s:s, s:f}", "workload", sc->workloads[c->workload].name, "percentile",
                              objective_pct_names[c->pct], "limit_ms", c->limit_ms);
        if (c->attainment > 0) json_object_set_new(e, "attainment", json_real(c->attainment));
        json_array_append_new(slo, e);
    }
    for (int w = 0; w < sc->nworkloads; w++)
        if (o->min_np[w] > 0) json_object_set_new(np, sc->workloads[w].name, json_real(o->min_np[w]));
    return json_pack("{s:s, s:o, s:o}", "objective", name, "slo", slo, "min_np", np);
}

int objective_from_json(const scenario *sc, const json_t *j, objective_spec *o, char *why, size_t cap)
{
    objective_init(o);
    if (!j) return 0;
    const char *name = json_string_value(json_object_get(j, "objective"));
    if (name && objective_parse_kind(sc, name, o, why, cap) != 0) return -1;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(j, "slo"), i, e) {
        int w = scenario_workload_index(sc, json_string_value(json_object_get(e, "workload")) ?: "");
        const char *pname = json_string_value(json_object_get(e, "percentile")) ?: "";
        int pct = -1;
        for (int k = 0; k < OBJECTIVE_PCTS; k++)
            if (!strcmp(pname, objective_pct_names[k])) pct = k;
        double lim = json_number_value(json_object_get(e, "limit_ms")), att = json_number_value(json_object_get(e, "attainment"));
        if (w < 0 || pct < 0 || !(lim > 0) || !(att >= 0 && att <= 1) || o->nslo == SCENARIO_MAX_SLOS)
            return bad(why, cap, "%s", "an SLO constraint names no workload of the scenario, or no known percentile");
        o->slo[o->nslo++] = (slo_constraint){w, pct, lim, att};
    }
    const char *wname;
    json_object_foreach(json_object_get(j, "min_np"), wname, e) {
        int w = scenario_workload_index(sc, wname);
        double v = json_number_value(e);
        if (w < 0 || !(v > 0 && v <= 10)) return bad(why, cap, "%s", "a min_np constraint names no workload of the scenario");
        o->min_np[w] = v;
    }
    return 0;
}
