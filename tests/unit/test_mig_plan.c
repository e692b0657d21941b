/* The MIG planner against the profile tables and NVIDIA's placement rules:
 * every layout of up to seven instances on the H100 and the A100, planned,
 * and compared with a plain search over the placements as nvidia-smi mig
 * -lgipp lists them (written out here again, not taken from the tables). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mig/mig_plan.h"

/* nvidia-smi mig -lgipp, by profile shape (the same on every MIG GPU with
 * 7 compute slices): starts, length, max instances, compute slices */
typedef struct {
    const char *shape; /* 1g.1, 1g.1+me, 1g.2, 2g, 3g, 4g, 7g */
    int starts[8], nstarts, len, max, compute, media;
} rule;
static const rule rules[] = {
    {"1g.1", {0, 1, 2, 3, 4, 5, 6}, 7, 1, 7, 1, 0}, {"1g.1+me", {0, 1, 2, 3, 4, 5, 6}, 7, 1, 1, 1, 1},
    {"1g.2", {0, 2, 4, 6}, 4, 2, 4, 1, 0},         {"2g", {0, 2, 4}, 3, 2, 3, 2, 0},
    {"3g", {0, 4}, 2, 4, 2, 3, 0},                  {"4g", {0}, 1, 4, 1, 4, 0},
    {"7g", {0}, 1, 8, 1, 7, 0},
};

static const rule *rule_of(const mig_profile *p)
{
    int i = p->compute_slices == 1 ? (p->memory_slices == 2 ? 2 : p->media ? 1 : 0)
            : p->compute_slices == 2 ? 3 : p->compute_slices == 3 ? 4 : p->compute_slices == 4 ? 5 : 6;
    return &rules[i];
}

/* A plain search in the layout's own order over the rules above. */
static int brute(const rule *const *r, int n, int i, int used)
{
    if (i == n) return 1;
    for (int k = 0; k < r[i]->nstarts; k++) {
        int s = r[i]->starts[k], span = ((1 << r[i]->len) - 1) << s;
        if (used & span) continue;
        if (brute(r, n, i + 1, used | span)) return 1;
    }
    return 0;
}

static int rules_allow(const rule *const *r, int n)
{
    int compute = 0, media = 0;
    for (int i = 0; i < n; i++) {
        int same = 0;
        for (int j = 0; j < n; j++) same += r[j] == r[i];
        if (same > r[i]->max) return 0;
        compute += r[i]->compute, media += r[i]->media;
    }
    return compute <= 7 && media <= 1 && brute(r, n, 0, 0);
}

/* A plan that fits must obey the rules instance by instance. */
static void check_placement(const mig_plan *plan)
{
    int used = 0;
    for (int i = 0; i < plan->n; i++) {
        const rule *r = rule_of(plan->inst[i].profile);
        int s = plan->inst[i].start, ok = 0;
        for (int k = 0; k < r->nstarts; k++) ok |= r->starts[k] == s;
        assert_true(ok);
        int span = ((1 << r->len) - 1) << s;
        assert_int_equal(used & span, 0);
        used |= span;
    }
}

typedef struct {
    int layouts, fit, collisions;
    char collision_example[128];
} tally;

/* Every multiset of profiles with 1..7 instances, as counts per profile. */
static void every_layout(const mig_gpu *g, int prof, const mig_profile **req, int n, tally *t)
{
    if (prof == g->nprofiles) {
        if (n == 0) return;
        const rule *r[MIG_MAX_INSTANCES];
        for (int i = 0; i < n; i++) r[i] = rule_of(req[i]);
        mig_plan plan;
        mig_plan_layout(g, req, n, &plan);
        t->layouts++;
        int want = rules_allow(r, n);
        if (plan.fits != want) {
            fprintf(stderr, "%s:", g->model);
            for (int i = 0; i < n; i++) fprintf(stderr, " %s", req[i]->name);
            fprintf(stderr, ": planner %d, rules %d (%s)\n", plan.fits, want, plan.why);
        }
        assert_int_equal(plan.fits, want);
        if (plan.fits) {
            t->fit++;
            check_placement(&plan);
        } else {
            assert_true(plan.why[0] != 0);
            if (strstr(plan.why, "can start only")) {
                if (!t->collisions++) snprintf(t->collision_example, sizeof t->collision_example, "%s", plan.why);
            }
        }
        return;
    }
    for (int c = 0; n + c <= MIG_MAX_INSTANCES; c++) {
        for (int k = 0; k < c; k++) req[n + k] = &g->profiles[prof];
        every_layout(g, prof + 1, req, n + c, t);
    }
}

static void exhaustive(const char *model)
{
    const mig_gpu *g = mig_gpu_by_model(model);
    assert_non_null(g);
    const mig_profile *req[MIG_MAX_INSTANCES];
    tally t = {0};
    every_layout(g, 0, req, 0, &t);
    printf("%s: %d layouts, %d fit, %d refused for placement only (e.g. %s)\n", model, t.layouts, t.fit, t.collisions,
           t.collision_example);
    assert_int_equal(t.layouts, 3431); /* multisets of 1..7 of 7 profiles */
    assert_int_equal(t.fit, 127);
    /* on these GPUs the counts, the compute slices and the memory slices
     * decide: no layout within them is refused for placement alone */
    assert_int_equal(t.collisions, 0);
}

static void test_exhaustive_h100(void **state) { (void)state; exhaustive("H100-80GB"); }
static void test_exhaustive_a100(void **state) { (void)state; exhaustive("A100-40GB"); }

static const mig_gpu *gpu(const char *m)
{
    const mig_gpu *g = mig_gpu_by_model(m);
    assert_non_null(g);
    return g;
}

static int plan_text(const mig_gpu *g, const char *layout, mig_plan *plan)
{
    const mig_profile *req[MIG_MAX_INSTANCES];
    int n;
    char err[512];
    if (mig_layout_parse(g, layout, req, &n, err, sizeof err)) return -1;
    mig_plan_layout(g, req, n, plan);
    return 0;
}

static void test_known_layouts(void **state)
{
    (void)state;
    const mig_gpu *h = gpu("H100-80GB");
    mig_plan p;
    assert_int_equal(plan_text(h, "3g.40gb,2g.20gb,1g.10gb", &p), 0);
    assert_true(p.fits);
    assert_int_equal(p.inst[0].start, 0); /* the largest takes the first start it can */
    assert_int_equal(p.compute_slices, 6);
    assert_int_equal(p.memory_slices, 7);
    assert_int_equal(plan_text(h, "4g.40gb+3g.40gb", &p), 0);
    assert_true(p.fits);
    assert_int_equal(p.inst[0].start, 0);
    assert_int_equal(p.inst[1].start, 4);
    assert_int_equal(plan_text(h, "7x1g.10gb", &p), 0);
    assert_true(p.fits);
    assert_int_equal(plan_text(h, "7g.80gb", &p), 0);
    assert_true(p.fits);
    /* two 2g next to a 3g: only with the 3g at slice 4 */
    assert_int_equal(plan_text(h, "2g.20gb,2g.20gb,3g.40gb", &p), 0);
    assert_true(p.fits);
    assert_int_equal(p.inst[2].start, 4);
    /* refusals, each with its reason */
    assert_int_equal(plan_text(h, "7g.80gb,1g.10gb", &p), 0);
    assert_false(p.fits);
    assert_non_null(strstr(p.why, "needs 8 compute slices"));
    assert_int_equal(plan_text(h, "2x4g.40gb", &p), 0);
    assert_false(p.fits);
    assert_non_null(strstr(p.why, "2 instances of 4g.40gb; H100-80GB allows at most 1"));
    assert_int_equal(plan_text(h, "3x3g.40gb", &p), 0);
    assert_false(p.fits);
    assert_int_equal(plan_text(h, "1g.10gb+me,1g.10gb+me", &p), 0);
    assert_false(p.fits);
    assert_int_equal(plan_text(h, "3g.40gb,3g.40gb,1g.10gb", &p), 0);
    assert_false(p.fits);
    assert_non_null(strstr(p.why, "9 memory slices"));
}

static void test_parse_errors(void **state)
{
    (void)state;
    const mig_gpu *h = gpu("H100-80GB");
    const mig_profile *req[MIG_MAX_INSTANCES];
    int n;
    char err[512];
    assert_int_equal(mig_layout_parse(h, "1g.5gb", req, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "entry 1: H100-80GB has no profile '1g.5gb'; its profiles: 1g.10gb"));
    assert_int_equal(mig_layout_parse(h, "3g.40gb,,1g.10gb", req, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "entry 2"));
    assert_int_equal(mig_layout_parse(h, "8x1g.10gb", req, &n, err, sizeof err), -1);
    assert_int_equal(mig_layout_parse(h, "4x1g.10gb,4x1g.10gb", req, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than 7 instances"));
    assert_int_equal(mig_layout_parse(h, "MIG 3g.40gb, 1g.10gb+me+2g.20gb", req, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(req[1]->name, "1g.10gb+me");
    assert_string_equal(req[2]->name, "2g.20gb");
}

static void test_tables(void **state)
{
    (void)state;
    const char *names[][7] = {
        {"1g.5gb", "1g.5gb+me", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"},
        {"1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"},
        {"1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"},
        {"1g.12gb", "1g.12gb+me", "1g.24gb", "2g.24gb", "3g.47gb", "4g.47gb", "7g.94gb"},
        {"1g.18gb", "1g.18gb+me", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"},
    };
    assert_int_equal(mig_gpu_count(), 5);
    for (int i = 0; i < mig_gpu_count(); i++) {
        const mig_gpu *g = mig_gpu_at(i);
        assert_int_equal(g->nprofiles, 7);
        for (int k = 0; k < 7; k++) assert_non_null(mig_profile_by_name(g, names[i][k]));
    }
    char buf[64];
    assert_string_equal(mig_placements_text(mig_profile_by_name(gpu("H100-80GB"), "3g.40gb"), buf, sizeof buf), "{0,4}:4");
    assert_string_equal(mig_placements_text(mig_profile_by_name(gpu("A100-40GB"), "1g.5gb"), buf, sizeof buf),
                        "{0,1,2,3,4,5,6}:1");
    assert_int_equal(mig_profile_by_name(gpu("H100-80GB"), "7g.80gb")->sms, 132);
    assert_int_equal(mig_profile_by_name(gpu("A100-40GB"), "3g.20gb")->sms, 42);
    assert_string_equal(mig_gpu_by_device_name("NVIDIA H100 80GB HBM3")->model, "H100-80GB");
    assert_string_equal(mig_gpu_by_device_name("NVIDIA H100 NVL")->model, "H100-94GB");
    assert_string_equal(mig_gpu_by_device_name("NVIDIA A100-SXM4-40GB")->model, "A100-40GB");
    assert_string_equal(mig_gpu_by_device_name("NVIDIA A100 80GB PCIe")->model, "A100-80GB");
    assert_string_equal(mig_gpu_by_device_name("NVIDIA H200")->model, "H200-141GB");
    assert_null(mig_gpu_by_device_name("NVIDIA GeForce RTX 4090"));
    assert_non_null(mig_gpu_by_model("h100-80gb"));
    assert_null(mig_gpu_by_model("V100"));
}

/* A GPU whose placements collide (as a future GPU's, read through NVML,
 * might): the refusal names the instance and what took its starts. */
static void test_collision_reason(void **state)
{
    (void)state;
    mig_gpu g = {.model = "TEST", .sms = 8, .memory_gib = 8, .compute_slices = 7, .memory_slices = 8, .nprofiles = 2};
    g.profiles[0] = (mig_profile){.name = "2g.2gb", .compute_slices = 2, .memory_slices = 2, .starts = 0x11,
                                  .max_instances = 2, .sms = 2, .memory_gib = 2};
    g.profiles[1] = (mig_profile){.name = "3g.4gb", .compute_slices = 3, .memory_slices = 4, .starts = 0x02,
                                  .max_instances = 1, .sms = 3, .memory_gib = 4};
    const mig_profile *req[] = {&g.profiles[0], &g.profiles[1]};
    mig_plan p;
    mig_plan_layout(&g, req, 2, &p);
    assert_false(p.fits);
    /* the 3g goes first (larger) at 1-4; the 2g then finds 0 and 4 taken */
    assert_string_equal(p.why, "2g.2gb (instance 0) can start only at memory slices {0,4}:2; 3g.4gb at 1-4 leave none of "
                               "them free, and no other arrangement does on TEST");
    const mig_profile *one[] = {&g.profiles[1], &g.profiles[0]};
    mig_plan_layout(&g, one, 1, &p);
    assert_true(p.fits);
    assert_int_equal(p.inst[0].start, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_known_layouts),
        cmocka_unit_test(test_collision_reason),
        cmocka_unit_test(test_exhaustive_h100),
        cmocka_unit_test(test_exhaustive_a100),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
