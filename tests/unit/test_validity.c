/* Validity verdicts from metrics.json's own records: flags are classified
 * by their kind code, never by their wording; runs left out, short windows
 * and small latency samples each make their figure INVALID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "analysis/validity.h"

/* One mode (timeslice, shared) with workload "a", and the given lists. */
static json_t *metrics_with(json_t *flagged, json_t *excluded, json_t *workload_extra)
{
    json_t *wo = json_pack("{s:s}", "name", "a");
    if (workload_extra) json_object_update(wo, workload_extra), json_decref(workload_extra);
    return json_pack("{s:[{s:s, s:b, s:i, s:[o]}], s:o, s:o}", "modes", "mode", "timeslice", "shares", 1,
                     "repeats_complete", 1, "workloads", wo, "flagged", flagged ? flagged : json_array(),
                     "excluded", excluded ? excluded : json_array());
}

static const json_t *throughput_verdict(const json_t *m)
{
    const json_t *wo = json_array_get(json_object_get(json_array_get(json_object_get(m, "modes"), 0), "workloads"), 0);
    return json_object_get(json_object_get(wo, "validity"), "throughput");
}

static const char *verdict_of(const json_t *v)
{
    return json_string_value(json_object_get(v, "verdict"));
}

static void clean_is_valid(void **state)
{
    (void)state;
    json_t *m = metrics_with(NULL, NULL, NULL);
    validity_annotate(m, 1);
    assert_string_equal(verdict_of(throughput_verdict(m)), "VALID");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "validity"), "invalid")), 0);
    json_decref(m);
}

/* A lost-lines flag invalidates whatever its sentence says; a corrected
 * clock is only noted, even if its sentence mentioned SIGKILL. */
static void flags_by_kind_code(void **state)
{
    (void)state;
    json_t *m = metrics_with(json_pack("[{s:s, s:s, s:s, s:[s], s:[s]}]", "segment", "s1", "mode", "timeslice",
                                       "workload", "a", "flags", "some wording", "flag_kinds", "lost_lines"),
                             NULL, NULL);
    validity_annotate(m, 1);
    const json_t *v = throughput_verdict(m);
    assert_string_equal(verdict_of(v), "INVALID");
    assert_non_null(strstr(json_string_value(json_array_get(json_object_get(v, "reasons"), 0)), "event lines lost"));
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(m, "validity"), "reasons"), "lost event lines")),
                     1);
    json_decref(m);

    m = metrics_with(json_pack("[{s:s, s:s, s:s, s:[s], s:[s]}]", "segment", "s1", "mode", "timeslice", "workload",
                               "a", "flags", "killed with SIGKILL could not be read", "flag_kinds", "clock_corrected"),
                     NULL, NULL);
    validity_annotate(m, 1);
    assert_string_equal(verdict_of(throughput_verdict(m)), "VALID");
    json_decref(m);
}

static void left_out_run_and_short_window(void **state)
{
    (void)state;
    json_t *m = metrics_with(NULL,
                             json_pack("[{s:s, s:s, s:s, s:s}]", "segment", "s2", "mode", "timeslice", "workload", "*",
                                       "reason", "exit 1"),
                             json_pack("{s:i}", "short_windows", 2));
    validity_annotate(m, 1);
    const json_t *r = json_object_get(throughput_verdict(m), "reasons");
    assert_int_equal(json_array_size(r), 2);
    assert_non_null(strstr(json_string_value(json_array_get(r, 0)), "s2: exit 1"));
    assert_non_null(strstr(json_string_value(json_array_get(r, 1)), "2 runs"));
    json_decref(m);
}

static void small_latency_sample(void **state)
{
    (void)state;
    json_t *m = metrics_with(NULL, NULL,
                             json_pack("{s:{s:{s:{s:b, s:i, s:i}}}}", "latency_ms", "request", "p99", "n_too_small",
                                       1, "n", 40, "need", 100));
    validity_annotate(m, 1);
    const json_t *wo = json_array_get(json_object_get(json_array_get(json_object_get(m, "modes"), 0), "workloads"), 0);
    const json_t *lat = json_object_get(json_object_get(wo, "validity"), "latency");
    assert_string_equal(verdict_of(lat), "INVALID");
    assert_non_null(strstr(json_string_value(json_array_get(json_object_get(lat, "reasons"), 0)), "40 requests"));
    assert_string_equal(verdict_of(throughput_verdict(m)), "VALID");
    json_decref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_is_valid),
        cmocka_unit_test(flags_by_kind_code),
        cmocka_unit_test(left_out_run_and_short_window),
        cmocka_unit_test(small_latency_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
