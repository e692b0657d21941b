/* nvidia-mig-parted's config format: reading (every fault named with its
 * line and column), writing, and a written layout read back the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mig/mig_parted.h"

static int parse(const char *text, migparted_file *f, cot_err *e)
{
    return migparted_parse("c.yaml", text, strlen(text), f, e);
}

static void test_reads_configs(void **state)
{
    (void)state;
    migparted_file f;
    cot_err e;
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/mig-parted-config.yaml", SOURCE_DIR);
    assert_int_equal(migparted_parse_file(path, &f, &e), 0);
    assert_int_equal(f.nconfigs, 6);
    const migparted_config *c = migparted_find(&f, "all-balanced");
    assert_non_null(c);
    assert_int_equal(c->nentries, 1);
    assert_true(c->entries[0].all_devices);
    assert_true(c->entries[0].mig_enabled);
    char layout[256];
    int has_ci;
    migparted_layout_text(&c->entries[0], layout, sizeof layout, &has_ci);
    assert_string_equal(layout, "2x1g.10gb,1x2g.20gb,1x3g.40gb");
    c = migparted_find(&f, "split");
    assert_int_equal(c->nentries, 2);
    assert_int_equal(c->entries[0].ndevices, 2);
    assert_int_equal(c->entries[0].devices[1], 1);
    assert_false(c->entries[0].mig_enabled);
    assert_int_equal(c->entries[1].devices[0], 2);
    assert_int_equal(c->entries[1].line, 34);
    c = migparted_find(&f, "all-enabled");
    migparted_layout_text(&c->entries[0], layout, sizeof layout, &has_ci);
    assert_string_equal(layout, "");
    assert_null(migparted_find(&f, "nope"));
    migparted_free(&f);
}

static void expect_error(const char *text, const char *where_what)
{
    migparted_file f;
    cot_err e;
    assert_int_equal(parse(text, &f, &e), -1);
    if (!strstr(e.msg, where_what)) fail_msg("expected '%s' in: %s", where_what, e.msg);
    assert_int_equal(f.nconfigs, 0); /* nothing half-read is kept */
}

static void test_faults(void **state)
{
    (void)state;
    expect_error("version: v2\nmig-configs: {}\n", "c.yaml:1:10: version is 'v2'; this reads mig-parted's v1");
    expect_error("mig-configs:\n  a:\n    - devices: all\n      mig-enabled: false\n", "no 'version: v1'");
    /* the defences every YAML input has (util/yaml_read.h) */
    expect_error("version: v1\nmig-configs: {}\n---\nversion: v1\n", "c.yaml:4:1: a second YAML document");
    char deep[200] = "mig-configs: ";
    for (int i = 0; i < 70; i++) strcat(deep, "[");
    expect_error(deep, "c.yaml:1:78: lists and mappings are nested more than 64 deep");
    expect_error("version: v1\n", "no 'mig-configs'");
    expect_error("version: v1\nflavour: x\n", "c.yaml:2:1: unknown key 'flavour'");
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: some\n      mig-enabled: true\n",
                 "c.yaml:4:16: devices is 'some'; expected all or a list");
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: []\n      mig-enabled: true\n", "the list is empty");
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: [0, x]\n      mig-enabled: true\n",
                 "c.yaml:4:20: a device index is 'x'");
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: yes please\n",
                 "mig-enabled is 'yes please'; expected true or false");
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: all\n", "c.yaml:4:7: the entry has no 'mig-enabled'");
    expect_error("version: v1\nmig-configs:\n  a:\n    - mig-enabled: true\n", "the entry has no 'devices'");
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: true\n      mig-devices:\n"
                 "        \"1g.10gb\": 9\n",
                 "c.yaml:7:20: the count of '1g.10gb' is '9'; expected a whole number from 0 to 7");
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: true\n      mig-devices:\n"
                 "        \"1g.10gb\": 1\n        \"1g.10gb\": 2\n",
                 "'1g.10gb' is given twice");
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: false\n      mig-devices:\n"
                 "        \"1g.10gb\": 1\n",
                 "mig-enabled is false but mig-devices lists profiles");
    expect_error("version: v1\nmig-configs:\n  a: []\n", "config 'a' has no entries");
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: true\n      colour: red\n",
                 "c.yaml:6:7: unknown key 'colour'");
    expect_error("version: v1\nmig-configs:\n  a: [\n", "invalid YAML");
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: false\nmig-configs: {}\n",
                 "c.yaml:6:1: 'mig-configs' is given twice");
    expect_error("version: v1\nversion: v1\nmig-configs: {}\n", "c.yaml:2:1: 'version' is given twice");
    /* as strict as mig-parted: quoted booleans and counts are strings */
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: \"true\"\n      mig-devices: {}\n",
                 "c.yaml:5:20: mig-enabled is the string \"true\"; expected true or false, unquoted");
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: true\n      mig-devices:\n"
                 "        \"1g.10gb\": \"2\"\n",
                 "c.yaml:7:20: the count of '1g.10gb' is the string \"2\"");
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: [\"0\"]\n      mig-enabled: false\n",
                 "a device index is the string \"0\"");
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: true\n      mig-devices:\n"
                 "        \"1g.10gb\": 0\n        \"2g.20gb\": 0\n",
                 "c.yaml:7:9: mig-devices: every count is 0");
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: true\n",
                 "c.yaml:4:7: mig-enabled is true but the entry has no 'mig-devices'");
    expect_error("version: v1\nmig-configs: {}\n", "c.yaml:2:14: mig-configs is empty");
    static const char *const bad_names[] = {"3g.40", "3x.40gb", "0g.10gb", "4c.3g.40gb", "1g.10gb+me-x", "1g.10gb+",
                                            "1g.10gb+me,me", "1g.10gb+2me", "1g.10gb+.me", "g.10gb"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: true\n      mig-devices:\n"
                 "        \"%s\": 1\n", bad_names[i]);
        expect_error(text, "is not a MIG profile name");
    }
    expect_error("version: v1\nmig-configs:\n  a:\n    - devices: all\n      device-filter: [\"H100\"]\n"
                 "      mig-enabled: false\n",
                 "c.yaml:5:23: device-filter: 'H100' is not a PCI device id");
    char *big = malloc(MIGPARTED_MAX_BYTES + 2);
    memset(big, ' ', MIGPARTED_MAX_BYTES + 1);
    big[MIGPARTED_MAX_BYTES + 1] = 0;
    expect_error(big, "limited to");
    free(big);
}

/* What the operator's configs hold beyond plain GPU instances:
 * device-filter (one id or a list), compute-instance profiles, attributes. */
static void test_filters_and_compute_instances(void **state)
{
    (void)state;
    migparted_file f;
    cot_err e;
    const char *text = "version: v1\nmig-configs:\n  x:\n    - device-filter: \"0x20B710DE\"\n      devices: all\n"
                       "      mig-enabled: false\n    - device-filter: [\"0x233010DE\", \"0x233110de\"]\n"
                       "      devices: all\n      mig-enabled: true\n      mig-devices:\n        \"1c.3g.40gb\": 2\n"
                       "        \"1g.10gb+me\": 1\n        \"1g.24gb-me\": 0\n";
    if (parse(text, &f, &e)) fail_msg("%s", e.msg);
    const migparted_config *c = migparted_find(&f, "x");
    assert_int_equal(c->entries[0].nfilter, 1);
    assert_int_equal(c->entries[0].filter[0], 0x20B710DE);
    assert_int_equal(c->entries[1].nfilter, 2);
    assert_int_equal(c->entries[1].filter[1], 0x233110DE);
    const mig_gpu *h100 = mig_gpu_by_model("H100-80GB");
    assert_true(mig_gpu_has_pci_id(h100, c->entries[1].filter[0]));
    assert_true(mig_gpu_has_pci_id(h100, 0x2331));
    assert_false(mig_gpu_has_pci_id(h100, c->entries[0].filter[0]));
    assert_false(mig_gpu_has_pci_id(mig_gpu_by_model("A100-40GB"), 0x233010DE));
    char layout[256];
    int has_ci;
    migparted_layout_text(&c->entries[1], layout, sizeof layout, &has_ci);
    assert_string_equal(layout, "2x3g.40gb,1x1g.10gb+me");
    assert_true(has_ci);
    migparted_free(&f);
}

static void test_round_trip(void **state)
{
    (void)state;
    const mig_gpu *g = mig_gpu_by_model("A100-40GB");
    const mig_profile *req[MIG_MAX_INSTANCES];
    int n;
    char err[256];
    assert_int_equal(mig_layout_parse(g, "3g.20gb,2g.10gb,1g.5gb+me,1g.5gb", req, &n, err, sizeof err), 0);
    mig_plan plan;
    mig_plan_layout(g, req, n, &plan);
    assert_true(plan.fits);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cot_err we;
    assert_int_equal(migparted_write(out, "lab", json_pack("[i, i]", 0, 1), &plan, &we), 0);
    fclose(out);
    migparted_file f;
    cot_err e;
    assert_int_equal(migparted_parse("written", buf, len, &f, &e), 0);
    const migparted_config *c = migparted_find(&f, "lab");
    assert_non_null(c);
    assert_int_equal(c->entries[0].ndevices, 2);
    char layout[256];
    int has_ci;
    migparted_layout_text(&c->entries[0], layout, sizeof layout, &has_ci);
    assert_string_equal(layout, "1x3g.20gb,1x2g.10gb,1x1g.5gb+me,1x1g.5gb");
    /* and it plans to the same instances */
    const mig_profile *back[MIG_MAX_INSTANCES];
    int m;
    assert_int_equal(mig_layout_parse(g, layout, back, &m, err, sizeof err), 0);
    assert_int_equal(m, n);
    for (int i = 0; i < n; i++) assert_ptr_equal(back[i], req[i]);
    migparted_free(&f);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_configs),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_filters_and_compute_instances),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
