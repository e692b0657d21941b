/* The recommendation against metrics whose figures the test sets: the
 * constraints leave configurations out with the figure that failed, the
 * best is named only where its interval separates it from the next one's,
 * the closest is named where none meets them, and an invalid figure is
 * never recommended. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "analysis/adaptive.h"
#include "analysis/advise.h"
#include "analysis/latency.h"
#include "scenario/objective.h"

/* A sharing configuration: STP (common baseline) with its interval, the
 * serve workload's shared p99 and SLO attainment, train's NP. */
static json_t *config(const char *name, double stp, double half, double p99, double att, double np, bool valid)
{
    json_t *serve = json_pack("{s:s, s:{s:{s:{s:f, s:f, s:f}}}, s:{s:{s:f}}, s:{s:{s:s}}}", "name", "serve", "latency_ms",
                              "shared", "p99", "value", p99, "ci95_low", p99 * 0.9, "ci95_high", p99 * 1.1,
                              "slo_attainment", "shared", "mean", att, "validity", "throughput", "verdict", "VALID");
    json_t *train = json_pack("{s:s, s:{s:f, s:f, s:f}, s:{s:f}, s:{s:{s:s, s:[s]}}}", "name", "train",
                              "normalized_progress_common", "mean", np, "ci95_low", np - 0.05, "ci95_high", np + 0.05,
                              "shared_throughput", "mean", np * 1000, "validity", "throughput", "verdict",
                              valid ? "VALID" : "INVALID", "reasons", "a stall in the window");
    return json_pack("{s:s, s:b, s:{s:f, s:f, s:f, s:f}, s:[o, o]}", "mode", name, "shares", 1, "stp_common", "mean", stp,
                     "ci95_low", stp - half, "ci95_high", stp + half, "stddev", half, "workloads", serve, train);
}

static scenario sc;

static json_t *metrics(json_t *a, json_t *b, json_t *c)
{
    json_t *modes = json_pack("[{s:s, s:b}]", "mode", "exclusive", "shares", 0);
    json_array_append_new(modes, a), json_array_append_new(modes, b);
    if (c) json_array_append_new(modes, c);
    return json_pack("{s:o}", "modes", modes);
}

static json_t *ask(json_t *m, const char *objective, const char *slo, const char *min_np)
{
    objective_spec o;
    char why[256];
    objective_init(&o);
    if (objective) assert_int_equal(objective_parse_kind(&sc, objective, &o, why, sizeof why), 0);
    if (slo) assert_int_equal(objective_parse_slo(&sc, slo, &o.slo[o.nslo++], why, sizeof why), 0);
    if (min_np) assert_int_equal(objective_parse_min_np(&sc, min_np, &o, why, sizeof why), 0);
    json_t *r = advise(m, &sc, &o);
    json_decref(m);
    return r;
}

static const char *s(const json_t *r, const char *k) { return json_string_value(json_object_get(r, k)); }

static void constraints_then_objective(void **state)
{
    (void)state;
    /* a has the best STP but misses the SLO; b and c meet it and overlap */
    json_t *r = ask(metrics(config("a", 1.5, 0.05, 30, 0.9, 0.8, true), config("b", 1.3, 0.05, 15, 0.995, 0.7, true),
                            config("c", 1.28, 0.08, 10, 0.999, 0.5, true)),
                    NULL, "serve:p99=20ms", NULL);
    assert_string_equal(s(r, "verdict"), "indistinguishable");
    assert_string_equal(s(r, "figure"), "stp_common");
    assert_int_equal(json_array_size(json_object_get(r, "tied")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r, "tied"), 1)), "c");
    json_t *a = json_array_get(json_object_get(r, "configurations"), 2);
    assert_string_equal(s(a, "mode"), "a");
    assert_false(json_is_true(json_object_get(a, "meets")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "violations"), 0)), "serve p99 30 ms > 20 ms");
    json_decref(r);
    /* train's NP at least 0.6 leaves c out: b alone meets both */
    r = ask(metrics(config("a", 1.5, 0.05, 30, 0.9, 0.8, true), config("b", 1.3, 0.05, 15, 0.995, 0.7, true),
                    config("c", 1.28, 0.08, 10, 0.999, 0.5, true)),
            NULL, "serve:p99=20ms", "train=0.6");
    assert_string_equal(s(r, "verdict"), "best");
    assert_string_equal(s(r, "best"), "b");
    assert_non_null(strstr(s(r, "sentence"), "the only configuration that meets every constraint"));
    json_decref(r);
    /* intervals apart: named, against the runner-up */
    r = ask(metrics(config("a", 1.5, 0.05, 10, 1, 0.8, true), config("b", 1.3, 0.05, 15, 1, 0.7, true), NULL), NULL,
            "serve:p99=20ms", NULL);
    assert_string_equal(s(r, "verdict"), "best");
    assert_string_equal(s(r, "sentence"), "a 1.5 [1.45, 1.55], against b 1.3 [1.25, 1.35]: the 95% intervals do not overlap");
    json_decref(r);
    /* two within 0.1% of each other tie; a third their intervals clear is not among them */
    r = ask(metrics(config("a", 1.5, 0.05, 10, 1, 0.8, true), config("b", 1.4995, 0.05, 15, 1, 0.7, true),
                    config("c", 1.0, 0.05, 5, 1, 0.9, true)),
            NULL, NULL, NULL);
    assert_string_equal(s(r, "verdict"), "indistinguishable");
    assert_int_equal(json_array_size(json_object_get(r, "tied")), 2);
    assert_non_null(strstr(s(r, "sentence"), "within 0.1% of each other"));
    json_decref(r);
    /* another objective on the same figures: the throughput of train */
    r = ask(metrics(config("a", 1.5, 0.05, 10, 1, 0.6, true), config("b", 1.3, 0.05, 15, 1, 0.9, true), NULL),
            "throughput of train", NULL, NULL);
    assert_string_equal(s(r, "objective"), "throughput of train");
    assert_string_equal(s(r, "best"), "b");
    json_decref(r);
}

static void none_meets_or_invalid(void **state)
{
    (void)state;
    /* none meets 5 ms: the closest misses by least (b: 15 against a: 30) */
    json_t *r = ask(metrics(config("a", 1.5, 0.05, 30, 0.9, 0.8, true), config("b", 1.3, 0.05, 15, 0.995, 0.7, true), NULL),
                    NULL, "serve:p99=5ms", NULL);
    assert_string_equal(s(r, "verdict"), "none_meets");
    assert_string_equal(s(r, "best"), "b");
    assert_string_equal(s(r, "sentence"), "no configuration meets every constraint; the closest is b (serve p99 15 ms > 5 ms)");
    json_decref(r);
    /* an attainment below the asked one */
    r = ask(metrics(config("a", 1.5, 0.05, 10, 0.98, 0.8, true), config("b", 1.3, 0.05, 10, 0.995, 0.7, true), NULL),
            NULL, "serve:p99=20ms:0.99", NULL);
    assert_string_equal(s(r, "best"), "b");
    json_decref(r);
    /* the best STP, but its train figure is invalid */
    r = ask(metrics(config("a", 1.5, 0.05, 10, 1, 0.8, false), config("b", 1.3, 0.05, 15, 1, 0.7, true), NULL), NULL, NULL,
            NULL);
    assert_string_equal(s(r, "best"), "b");
    json_t *a = json_array_get(json_object_get(r, "configurations"), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "violations"), 0)),
                        "train's throughput is invalid (a stall in the window)");
    json_decref(r);
    /* a limit its interval crosses: met, but said */
    r = ask(metrics(config("a", 1.5, 0.05, 19, 1, 0.8, true), config("b", 1.0, 0.05, 5, 1, 0.7, true), NULL), NULL,
            "serve:p99=20ms", NULL);
    a = json_array_get(json_object_get(r, "configurations"), 0);
    assert_true(json_is_true(json_object_get(a, "meets")));
    assert_non_null(strstr(json_string_value(json_array_get(json_object_get(a, "uncertain"), 0)), "reaches 20.9 ms"));
    json_decref(r);
}

/* The percentile names a constraint takes are the ones metrics.json writes. */
static void percentile_names(void **state)
{
    (void)state;
    assert_int_equal(OBJECTIVE_PCTS, LATENCY_PCTS);
    for (int i = 0; i < LATENCY_PCTS; i++) assert_string_equal(objective_pct_names[i], latency_pct_names[i]);
    char why[256];
    slo_constraint c;
    assert_int_equal(objective_parse_slo(&sc, "serve:p99=20ms:0.99", &c, why, sizeof why), 0);
    assert_true(c.limit_ms == 20 && c.attainment == 0.99 && c.pct == 2 && c.workload == 0);
    const char *bad[] = {"serve", "nobody:p99=20ms", "serve:p98=20ms", "serve:p99=", "serve:p99=fast", "serve:p99=20ms:2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(objective_parse_slo(&sc, bad[i], &c, why, sizeof why), -1);
}

/* Racing and stopping: from the third repeat, a configuration whose
 * interval lies below the leader's is dropped; the run stops once those
 * left are precise, or one is left. */
static void adaptive_racing(void **state)
{
    (void)state;
    sc.modes[0] = "exclusive", sc.modes[1] = "a", sc.modes[2] = "b", sc.modes[3] = "c", sc.nmodes = 4;
    sc.precision = 0.1;
    bool active[4] = {true, true, true, true};
    char why[4][160] = {{0}}, stop[200] = "";
    /* NP intervals of +-0.05: precise; c is clearly behind a */
    json_t *m = metrics(config("a", 1.5, 0.05, 10, 1, 0.8, true), config("b", 1.48, 0.05, 10, 1, 0.8, true),
                        config("c", 1.0, 0.05, 10, 1, 0.8, true));
    assert_false(adaptive_decide(m, &sc, 2, active, why, stop, sizeof stop)); /* too early to judge */
    assert_true(active[3]);
    assert_true(adaptive_decide(m, &sc, 3, active, why, stop, sizeof stop));
    assert_true(active[0] && active[1] && active[2] && !active[3]);
    assert_non_null(strstr(why[3], "clearly behind a on stp: 1 [0.95, 1.05]"));
    assert_non_null(strstr(stop, "every configuration left has each NP within +-0.1"));
    json_decref(m);
    /* imprecise: the two left overlap, their NPs too wide: go on */
    bool all[4] = {true, true, true, false};
    sc.precision = 0.01;
    m = metrics(config("a", 1.5, 0.05, 10, 1, 0.8, true), config("b", 1.48, 0.05, 10, 1, 0.8, true), NULL);
    assert_false(adaptive_decide(m, &sc, 4, all, why, stop, sizeof stop));
    json_decref(m);
    /* one left, but its NPs wider than asked: go on; precise: stop */
    m = metrics(config("a", 1.5, 0.05, 10, 1, 0.8, true), config("b", 1.2, 0.05, 10, 1, 0.8, true), NULL);
    assert_false(adaptive_decide(m, &sc, 4, all, why, stop, sizeof stop));
    assert_false(all[2]);
    sc.precision = 0.1;
    assert_true(adaptive_decide(m, &sc, 5, all, why, stop, sizeof stop));
    assert_string_equal(stop, "only a is left, every other configuration clearly behind it, and each of its NPs is within "
                              "+-0.1 (95%)");
    json_decref(m);
    sc.nmodes = 0;
}

/* Racing by the constraints: a configuration whose constrained figure's
 * interval lies wholly past its limit goes, whatever its objective, while
 * another may still meet them; where none may, the run stops. */
static void adaptive_racing_by_constraints(void **state)
{
    (void)state;
    sc.modes[0] = "exclusive", sc.modes[1] = "a", sc.modes[2] = "b", sc.modes[3] = "c", sc.nmodes = 4;
    sc.precision = 0.01; /* too wide to stop on precision */
    char why[4][160] = {{0}}, stop[200] = "";
    objective_init(&sc.objective);
    char e[256];
    assert_int_equal(objective_parse_slo(&sc, "serve:p99=20ms", &sc.objective.slo[0], e, sizeof e), 0);
    sc.objective.nslo = 1;
    /* a: the best STP, p99 30 [27, 33] ms: clearly over 20; b: 19 [17.1, 20.9]: may meet; c: 21 [18.9, 23.1]: may */
    bool active[4] = {true, true, true, true};
    json_t *m = metrics(config("a", 1.5, 0.05, 30, 1, 0.8, true), config("b", 1.2, 0.3, 19, 1, 0.7, true),
                        config("c", 1.2, 0.3, 21, 1, 0.7, true));
    assert_false(adaptive_decide(m, &sc, 3, active, why, stop, sizeof stop));
    assert_true(!active[1] && active[2] && active[3]);
    assert_string_equal(why[1], "clearly misses the SLO: serve p99 30 ms [27, 33] > 20 ms");
    json_decref(m);
    /* train's NP at least 0.9: b's and c's intervals reach 0.75 at most; with a gone, none may meet it */
    sc.objective.min_np[1] = 0.9;
    bool two[4] = {true, false, true, true};
    m = metrics(config("a", 1.5, 0.05, 30, 1, 0.8, true), config("b", 1.2, 0.3, 19, 1, 0.7, true),
                config("c", 1.2, 0.3, 21, 1, 0.7, true));
    assert_true(adaptive_decide(m, &sc, 4, two, why, stop, sizeof stop));
    assert_non_null(strstr(stop, "every configuration still running clearly misses a constraint"));
    json_decref(m);
    objective_init(&sc.objective);
    sc.nmodes = 0;
}

int main(void)
{
    scenario_init_defaults(&sc);
    sc.workloads[0].name = "serve", sc.workloads[1].name = "train", sc.nworkloads = 2;
    const struct CMUnitTest tests[] = {cmocka_unit_test(constraints_then_objective), cmocka_unit_test(none_meets_or_invalid),
                                       cmocka_unit_test(percentile_names), cmocka_unit_test(adaptive_racing),
                                       cmocka_unit_test(adaptive_racing_by_constraints)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
