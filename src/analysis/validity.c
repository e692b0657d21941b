#include "analysis/validity.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* A verdict being built: its reasons, and the summary's count of each kind. */
typedef struct {
    json_t *reasons;
    json_t *kinds; /* {kind: count} for the summary */
} verdict;

static void add(verdict *v, const char *kind, json_t *sentence)
{
    json_array_append_new(v->reasons, sentence);
    json_object_set_new(v->kinds, kind, json_integer(json_integer_value(json_object_get(v->kinds, kind)) + 1));
}

static json_t *close_verdict(verdict *v, int *figures, int *invalid)
{
    (*figures)++;
    bool ok = json_array_size(v->reasons) == 0;
    *invalid += !ok;
    return json_pack("{s:s, s:o}", "verdict", ok ? "VALID" : "INVALID", "reasons", v->reasons);
}

/* Flags that make a throughput wrong, not merely noted (a corrected clock is
 * noted: its times were put right), by the kind code segment.json gives
 * each flag (flag_kinds, docs/results.md). */
static const struct {
    const char *code, *kind, *sentence;
} FLAG_KINDS[] = {
    {"lost_lines", "lost event lines", "event lines lost in the window"},
    {"stall", "a stall", "a stall in the window"},
    {"killed", "killed after the grace period", "killed after the grace period: its last work may be missing"},
    {"events_closed", "events stopped early", "its events stopped while it ran"},
    {"not_mps_client", "not an MPS client", "its GPU processes were never MPS clients: it ran outside MPS"},
};

static void throughput_reasons(const json_t *metrics, const json_t *mo, const json_t *wo, verdict *v)
{
    const char *mode = str(mo, "mode"), *name = str(wo, "name");
    size_t i, j;
    json_t *x, *fl;
    json_array_foreach(json_object_get(metrics, "excluded"), i, x) {
        const char *wl = str(x, "workload");
        if (strcmp(str(x, "mode"), mode) || (strcmp(wl, name) && strcmp(wl, "*"))) continue;
        if (json_object_get(x, "scope")) continue; /* the GPU figures only: throughput stands */
        add(v, "a failed run", json_sprintf("a run left out (%s: %s)", str(x, "segment"), str(x, "reason")));
    }
    json_array_foreach(json_object_get(metrics, "flagged"), i, x) {
        if (strcmp(str(x, "mode"), mode) || strcmp(str(x, "workload"), name)) continue;
        json_array_foreach(json_object_get(x, "flag_kinds"), j, fl)
            for (size_t k = 0; k < sizeof FLAG_KINDS / sizeof FLAG_KINDS[0]; k++)
                if (!strcmp(json_string_value(fl) ?: "", FLAG_KINDS[k].code))
                    add(v, FLAG_KINDS[k].kind, json_sprintf("%s (%s)", FLAG_KINDS[k].sentence, str(x, "segment")));
    }
    json_int_t shortw = json_integer_value(json_object_get(wo, "short_windows"));
    if (shortw > 0)
        add(v, "a window too short for the steps",
            json_sprintf("the window held fewer than two of its steps in %lld run%s: lengthen duration", (long long)shortw,
                         shortw == 1 ? "" : "s"));
    const json_t *mixed = json_object_get(wo, "mixed_step_sizes");
    if (mixed)
        add(v, "unnamed steps of different sizes",
            json_sprintf("its steps come in two sizes (%lld and %lld samples) in one stream in %lld run%s: threads that "
                         "step at different sizes must name their stream (docs/protocol.md), or the window's edges are "
                         "apportioned against each other's steps",
                         (long long)json_integer_value(json_object_get(mixed, "small")),
                         (long long)json_integer_value(json_object_get(mixed, "large")),
                         (long long)json_integer_value(json_object_get(mixed, "runs")),
                         json_integer_value(json_object_get(mixed, "runs")) == 1 ? "" : "s"));
    json_array_foreach(json_object_get(mo, "conditions_differ"), i, x)
        if (!strcmp(str(x, "workload"), name) && json_is_true(json_object_get(x, "invalidates")))
            add(v, "the GPU's environment differed",
                json_sprintf("the GPU's environment differed between its alone and shared runs of repeat %lld: %s",
                             (long long)json_integer_value(json_object_get(x, "repeat")), str(x, "why")));
}

/* The headline percentile (p99) of each kind, where there are latencies. */
static void latency_reasons(const json_t *wo, verdict *v)
{
    const char *kind;
    json_t *lk;
    json_object_foreach(json_object_get(wo, "latency_ms"), kind, lk) {
        const json_t *p99 = json_object_get(lk, "p99");
        if (json_object_get(p99, "n_too_small"))
            add(v, "too few requests for p99",
                json_sprintf("%s p99 from %lld requests: its rank needs %lld", kind,
                             (long long)json_integer_value(json_object_get(p99, "n")),
                             (long long)json_integer_value(json_object_get(p99, "need"))));
        else if (json_is_true(json_object_get(p99, "at_least")))
            add(v, "p99 only a lower bound",
                json_sprintf("%s p99 is only a lower bound: %lld requests failed or went unanswered", kind,
                             (long long)json_integer_value(json_object_get(lk, "failed_or_unanswered"))));
    }
}

void validity_annotate(json_t *metrics, int repeats)
{
    int figures = 0, invalid = 0;
    json_t *kinds = json_object();
    size_t i, j;
    json_t *mo, *wo;
    json_array_foreach(json_object_get(metrics, "modes"), i, mo) {
        verdict mv = {json_array(), kinds};
        json_array_foreach(json_object_get(mo, "workloads"), j, wo) {
            verdict tv = {json_array(), kinds};
            throughput_reasons(metrics, mo, wo, &tv);
            if (json_array_size(tv.reasons))
                json_array_append_new(mv.reasons, json_sprintf("%s's throughput is invalid", str(wo, "name")));
            json_t *val = json_pack("{s:o}", "throughput", close_verdict(&tv, &figures, &invalid));
            if (json_object_get(wo, "latency_ms")) {
                verdict lv = {json_array(), kinds};
                latency_reasons(wo, &lv);
                json_object_set_new(val, "latency", close_verdict(&lv, &figures, &invalid));
            }
            json_object_set_new(wo, "validity", val);
        }
        json_int_t done = json_integer_value(json_object_get(mo, "repeats_complete"));
        if (json_is_true(json_object_get(mo, "shares")) && done < repeats)
            add(&mv, "incomplete repeats",
                json_sprintf("%lld of %d repeats complete (a repeat needs every workload's alone and shared runs)",
                             (long long)done, repeats));
        json_object_set_new(mo, "validity", close_verdict(&mv, &figures, &invalid));
    }
    json_object_set_new(metrics, "validity", json_pack("{s:i, s:i, s:o}", "figures", figures, "invalid", invalid,
                                                       "reasons", kinds));
}
