/* The generated Compose project and Kubernetes objects, written as YAML and
 * read back with libyaml: the structure Docker and the device plugin read
 * (GPU reservations, MPS daemon, resource names, labels), strings that look
 * like numbers kept strings, and the mig-parted config read back by
 * cotenant's own mig-parted reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include <cmocka.h>

#include "deploy/deploy.h"
#include "mig/mig_parted.h"
#include "scenario/scenario_parse.h"
#include "util/yaml_emit.h"

static const char scenario_text[] = "name: pair\n"
                                    "device: gpu\n"
                                    "modes: [timeslice, mps, mig]\n"
                                    "workloads:\n"
                                    "  - name: Train_A\n"
                                    "    kind: gpu-gemm\n"
                                    "    args: ['0', 'true']\n"
                                    "    mps: {active_thread_percentage: 40}\n"
                                    "    mig: {profile: 3g.40gb}\n"
                                    "    env: {EMPTY: '', NUM: '1e3'}\n"
                                    "  - name: b\n"
                                    "    command: [/bin/echo, 'a: b', '#x']\n"
                                    "    mig: {profile: 3g.40gb}\n";

typedef struct {
    yaml_document_t doc;
    scenario sc;
} fixture;

static void spec_for(fixture *f, deploy_spec *d, const char *mode)
{
    cot_err e;
    assert_int_equal(scenario_parse_buffer("s.yaml", scenario_text, strlen(scenario_text), &f->sc, &e), 0);
    memset(d, 0, sizeof *d);
    *d = (deploy_spec){.sc = &f->sc, .mode = mode, .repeat = 1, .n = 2, .idx = {0, 1}, .image = "img:1", .name = "pair",
                       .run_id = "run-1", .segment = "003-r1-mps-shared", .stop_after_s = 60.2, .grace_s = 5,
                       .gpu = "0", .user = "1000:1000", .results_dir = "./results", .mig_device = {"MIG-a", "MIG-b"}};
}

/* YAML text -> a libyaml document; the root node. */
static yaml_node_t *load(fixture *f, const char *text)
{
    yaml_parser_t p;
    assert_true(yaml_parser_initialize(&p));
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    assert_true(yaml_parser_load(&p, &f->doc));
    yaml_parser_delete(&p);
    yaml_node_t *root = yaml_document_get_root_node(&f->doc);
    assert_non_null(root);
    return root;
}

/* The node at a path of keys and list indices ("services/b/deploy/0"; ~1
 * for a / within a key, as in JSON pointers), or NULL. */
static yaml_node_t *at(fixture *f, yaml_node_t *n, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *k = strtok_r(buf, "/", &save); k && n; k = strtok_r(NULL, "/", &save)) {
        yaml_node_t *next = NULL;
        for (char *t; (t = strstr(k, "~1"));) {
            *t = '/';
            memmove(t + 1, t + 2, strlen(t + 2) + 1);
        }
        if (n->type == YAML_MAPPING_NODE) {
            for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top && !next; pr++) {
                yaml_node_t *key = yaml_document_get_node(&f->doc, pr->key);
                if (!strcmp((char *)key->data.scalar.value, k)) next = yaml_document_get_node(&f->doc, pr->value);
            }
        } else if (n->type == YAML_SEQUENCE_NODE) {
            long i = atol(k);
            yaml_node_item_t *it = n->data.sequence.items.start + i;
            if (it < n->data.sequence.items.top) next = yaml_document_get_node(&f->doc, *it);
        }
        n = next;
    }
    return n;
}

/* A scalar's text, and whether it was quoted (so YAML reads it as a string). */
static const char *scalar(fixture *f, yaml_node_t *root, const char *path, int *quoted)
{
    yaml_node_t *n = at(f, root, path);
    if (!n || n->type != YAML_SCALAR_NODE) fail_msg("no scalar at %s", path);
    if (quoted) *quoted = n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    return (const char *)n->data.scalar.value;
}

static void test_compose_timeslice(void **state)
{
    (void)state;
    fixture f;
    deploy_spec d;
    cot_err e;
    spec_for(&f, &d, "timeslice");
    json_t *doc = deploy_compose(&d, &e);
    assert_non_null(doc);
    char *text = yaml_emit_string(doc, &e);
    yaml_node_t *r = load(&f, text);
    int q;
    assert_string_equal(scalar(&f, r, "services/Train_A/deploy/resources/reservations/devices/0/driver", NULL), "nvidia");
    assert_string_equal(scalar(&f, r, "services/Train_A/deploy/resources/reservations/devices/0/device_ids/0", &q), "0");
    assert_true(q); /* a device id, not the number 0 */
    assert_string_equal(scalar(&f, r, "services/b/deploy/resources/reservations/devices/0/capabilities/0", NULL), "gpu");
    assert_null(at(&f, r, "services/mps-daemon"));
    /* the agent first, then the workload's own argv, its odd words intact */
    assert_string_equal(scalar(&f, r, "services/b/command/0", NULL), "cotenant");
    assert_string_equal(scalar(&f, r, "services/b/command/1", NULL), "agent");
    assert_string_equal(scalar(&f, r, "services/b/command/3", &q), "61s");
    assert_string_equal(scalar(&f, r, "services/b/command/6", NULL), "--ready-timeout");
    assert_string_equal(scalar(&f, r, "services/b/command/7", NULL), "120s");
    assert_string_equal(scalar(&f, r, "services/b/command/9", NULL), "/cotenant/results/b");
    assert_string_equal(scalar(&f, r, "services/b/command/10", NULL), "--");
    assert_string_equal(scalar(&f, r, "services/b/command/11", NULL), "/bin/echo");
    assert_string_equal(scalar(&f, r, "services/b/command/12", NULL), "a: b");
    assert_string_equal(scalar(&f, r, "services/b/command/13", NULL), "#x");
    assert_string_equal(scalar(&f, r, "services/Train_A/command/11", NULL), "cotenant-gemm");
    /* gpu-gemm's own arguments, then the scenario's '0' and 'true': strings still */
    yaml_node_t *cmd = at(&f, r, "services/Train_A/command");
    int ncmd = (int)(cmd->data.sequence.items.top - cmd->data.sequence.items.start);
    char p[64];
    snprintf(p, sizeof p, "services/Train_A/command/%d", ncmd - 2);
    assert_string_equal(scalar(&f, r, p, &q), "0");
    assert_true(q);
    snprintf(p, sizeof p, "services/Train_A/command/%d", ncmd - 1);
    assert_string_equal(scalar(&f, r, p, &q), "true");
    assert_true(q);
    assert_string_equal(scalar(&f, r, "services/Train_A/environment/NUM", &q), "1e3");
    assert_true(q);
    assert_string_equal(scalar(&f, r, "services/Train_A/environment/EMPTY", &q), "");
    assert_true(q);
    assert_string_equal(scalar(&f, r, "services/Train_A/environment/COTENANT_MODE", NULL), "timeslice");
    assert_null(at(&f, r, "services/Train_A/environment/CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"));
    assert_string_equal(scalar(&f, r, "services/b/labels/cotenant.io~1run", NULL), "run-1");
    assert_string_equal(scalar(&f, r, "services/b/labels/cotenant.io~1segment", NULL), "003-r1-mps-shared");
    assert_string_equal(scalar(&f, r, "services/b/volumes/0", NULL), "./results:/cotenant/results");
    assert_string_equal(scalar(&f, r, "services/b/user", NULL), "1000:1000");
    yaml_document_delete(&f.doc);
    free(text);
    json_decref(doc);
    scenario_free(&f.sc);
}

static void test_compose_mps_and_mig(void **state)
{
    (void)state;
    fixture f;
    deploy_spec d;
    cot_err e;
    spec_for(&f, &d, "mps");
    json_t *doc = deploy_compose(&d, &e);
    char *text = yaml_emit_string(doc, &e);
    yaml_node_t *r = load(&f, text);
    assert_string_equal(scalar(&f, r, "services/mps-daemon/command/0", NULL), "nvidia-cuda-mps-control");
    assert_string_equal(scalar(&f, r, "services/mps-daemon/ipc", NULL), "host");
    assert_string_equal(scalar(&f, r, "services/b/ipc", NULL), "host");
    /* the clients wait for the daemon's pipe, not merely its start */
    assert_string_equal(scalar(&f, r, "services/b/depends_on/mps-daemon/condition", NULL), "service_healthy");
    assert_string_equal(scalar(&f, r, "services/mps-daemon/healthcheck/test/3", NULL), "/cotenant/mps/pipe/control");
    assert_string_equal(scalar(&f, r, "services/b/volumes/1", NULL), "./mps:/cotenant/mps");
    assert_string_equal(scalar(&f, r, "services/Train_A/environment/CUDA_MPS_PIPE_DIRECTORY", NULL), "/cotenant/mps/pipe");
    assert_string_equal(scalar(&f, r, "services/Train_A/environment/CUDA_MPS_ACTIVE_THREAD_PERCENTAGE", NULL), "40");
    yaml_document_delete(&f.doc);
    free(text);
    json_decref(doc);
    scenario_free(&f.sc);

    spec_for(&f, &d, "mig");
    doc = deploy_compose(&d, &e);
    text = yaml_emit_string(doc, &e);
    r = load(&f, text);
    assert_string_equal(scalar(&f, r, "services/Train_A/deploy/resources/reservations/devices/0/device_ids/0", NULL), "MIG-a");
    assert_string_equal(scalar(&f, r, "services/b/deploy/resources/reservations/devices/0/device_ids/0", NULL), "MIG-b");
    yaml_document_delete(&f.doc);
    free(text);
    json_decref(doc);
    scenario_free(&f.sc);
}

static void test_k8s_objects(void **state)
{
    (void)state;
    fixture f;
    deploy_spec d;
    cot_err e;
    spec_for(&f, &d, "mig");
    d.k8s_namespace = "bench";
    char label[64], mig[64];
    json_t *cfg = deploy_k8s_mode_objects(&f.sc, "mig", "gpu-operator", "run-1", label, sizeof label, mig, sizeof mig, &e);
    assert_non_null(cfg);
    assert_string_equal(label, "cotenant-mig-mixed");
    assert_string_equal(mig, "cotenant-2x3g-40gb");
    /* the plugin's configs, one key per mode, each itself YAML */
    json_t *data = json_object_get(json_array_get(cfg, 0), "data");
    yaml_node_t *r = load(&f, json_string_value(json_object_get(data, "cotenant-mps-2")));
    assert_string_equal(scalar(&f, r, "version", NULL), "v1");
    assert_string_equal(scalar(&f, r, "sharing/mps/resources/0/name", NULL), "nvidia.com/gpu");
    assert_string_equal(scalar(&f, r, "sharing/mps/resources/0/replicas", NULL), "2");
    assert_string_equal(scalar(&f, r, "sharing/mps/renameByDefault", NULL), "false");
    yaml_document_delete(&f.doc);
    r = load(&f, json_string_value(json_object_get(data, "cotenant-timeslicing-2")));
    assert_string_equal(scalar(&f, r, "sharing/timeSlicing/resources/0/replicas", NULL), "2");
    yaml_document_delete(&f.doc);
    r = load(&f, json_string_value(json_object_get(data, "cotenant-mig-mixed")));
    assert_string_equal(scalar(&f, r, "flags/migStrategy", NULL), "mixed");
    yaml_document_delete(&f.doc);
    /* mig-parted's config, read back by cotenant's own reader */
    const char *parted = json_string_value(json_object_get(json_object_get(json_array_get(cfg, 1), "data"), "config.yaml"));
    migparted_file mf;
    assert_int_equal(migparted_parse("config.yaml", parted, strlen(parted), &mf, &e), 0);
    const migparted_config *c = migparted_find(&mf, mig);
    assert_non_null(c);
    char layout[128];
    int has_ci;
    migparted_layout_text(&c->entries[0], layout, sizeof layout, &has_ci);
    assert_string_equal(layout, "2x3g.40gb");
    assert_true(c->entries[0].all_devices);
    migparted_free(&mf);

    deploy_k8s_names names;
    json_t *jobs = deploy_k8s_jobs(&d, &names, &e);
    assert_non_null(jobs);
    assert_int_equal(json_array_size(jobs), 3); /* the two workloads, then the GPU sampler */
    assert_string_equal(names.job[1], "pair-b");
    assert_string_equal(names.container[1], "b");
    assert_string_equal(names.sampler, "pair-gpu-sampler");
    /* the sampler: every GPU visible, none requested, the node's PIDs, this segment's workloads named */
    char *text = yaml_emit_string(json_array_get(jobs, 2), &e);
    r = load(&f, text);
    assert_string_equal(scalar(&f, r, "metadata/name", NULL), "pair-gpu-sampler");
    assert_string_equal(scalar(&f, r, "metadata/labels/cotenant.io~1role", NULL), "gpu-sampler");
    assert_null(at(&f, r, "metadata/labels/cotenant.io~1workload"));
    assert_string_equal(scalar(&f, r, "spec/template/spec/hostPID", NULL), "true");
    assert_string_equal(scalar(&f, r, "spec/template/spec/containers/0/env/0/name", NULL), "NVIDIA_VISIBLE_DEVICES");
    assert_string_equal(scalar(&f, r, "spec/template/spec/containers/0/env/0/value", NULL), "all");
    assert_null(at(&f, r, "spec/template/spec/containers/0/resources"));
    assert_string_equal(scalar(&f, r, "spec/template/spec/containers/0/command/1", NULL), "monitor");
    assert_string_equal(scalar(&f, r, "spec/template/spec/containers/0/command/7", NULL), "100ms");
    assert_string_equal(scalar(&f, r, "spec/template/spec/containers/0/command/11", NULL), "run-1/003-r1-mps-shared");
    yaml_document_delete(&f.doc);
    free(text);
    text = yaml_emit_string(json_array_get(jobs, 0), &e);
    r = load(&f, text);
    assert_string_equal(scalar(&f, r, "kind", NULL), "Job");
    assert_string_equal(scalar(&f, r, "metadata/name", NULL), "pair-train-a");
    assert_string_equal(scalar(&f, r, "metadata/namespace", NULL), "bench");
    assert_string_equal(scalar(&f, r, "spec/backoffLimit", NULL), "0");
    assert_string_equal(scalar(&f, r, "spec/template/spec/restartPolicy", NULL), "Never");
    assert_string_equal(scalar(&f, r, "spec/template/spec/nodeSelector/nvidia.com~1mig.config", NULL), "cotenant-2x3g-40gb");
    assert_string_equal(scalar(&f, r, "spec/template/spec/containers/0/resources/limits/nvidia.com~1mig-3g.40gb", NULL), "1");
    assert_string_equal(scalar(&f, r, "spec/template/metadata/labels/cotenant.io~1workload", NULL), "train-a");
    int q;
    assert_string_equal(scalar(&f, r, "spec/template/spec/containers/0/env/0/name", NULL), "EMPTY");
    assert_string_equal(scalar(&f, r, "spec/template/spec/containers/0/env/1/name", NULL), "NUM");
    assert_string_equal(scalar(&f, r, "spec/template/spec/containers/0/env/1/value", &q), "1e3");
    assert_true(q); /* an env value must stay a string */
    /* what tells its GPU processes from any other run's */
    assert_string_equal(scalar(&f, r, "spec/template/spec/containers/0/env/5/name", NULL), "COTENANT_SEGMENT");
    assert_string_equal(scalar(&f, r, "spec/template/spec/containers/0/env/5/value", NULL), "run-1/003-r1-mps-shared");
    yaml_document_delete(&f.doc);
    free(text);
    json_decref(jobs);
    json_decref(cfg);
    scenario_free(&f.sc);
}

static void test_names_and_modes(void **state)
{
    (void)state;
    char out[64];
    deploy_dns_label("Train_A..b-", out, 63);
    assert_string_equal(out, "train-a-b");
    deploy_dns_label("__", out, 63);
    assert_string_equal(out, "x");
    deploy_dns_label("abcdefghij", out, 4);
    assert_string_equal(out, "abcd");
    fixture f;
    deploy_spec d;
    spec_for(&f, &d, "timeslice");
    assert_null(deploy_mode_unsupported(&f.sc, "mps", false));
    assert_non_null(deploy_mode_unsupported(&f.sc, "mig-emulated", true));
    assert_int_equal(deploy_gpu_workloads(&f.sc), 2);
    /* a CPU scenario: Compose runs it, without a GPU for any service;
     * Kubernetes refuses it */
    f.sc.device = DEVICE_CPU;
    assert_null(deploy_mode_unsupported(&f.sc, "timeslice", true));
    assert_non_null(strstr(deploy_mode_unsupported(&f.sc, "timeslice", false), "--executor compose"));
    assert_int_equal(deploy_gpu_workloads(&f.sc), 0);
    json_t *doc = deploy_compose(&d, NULL);
    assert_non_null(doc);
    const char *svc;
    json_t *v;
    json_object_foreach(json_object_get(doc, "services"), svc, v) assert_null(json_object_get(v, "deploy"));
    json_decref(doc);
    scenario_free(&f.sc);
}

/* What a cluster would refuse, each checked where the old output had it:
 * a sharing config of 1 replica, a non-numeric user under runAsNonRoot, a
 * mig-parted ConfigMap without the operator's all-disabled, and MPS
 * percentages the plugin's daemon caps passing without a word. */
static const char one_gpu_text[] = "name: one\n"
                                   "device: gpu\n"
                                   "modes: [timeslice, mps, mig]\n"
                                   "workloads:\n"
                                   "  - name: t\n"
                                   "    kind: gpu-gemm\n"
                                   "    mps: {active_thread_percentage: 80}\n"
                                   "    mig: {profile: 3g.40gb}\n"
                                   "  - name: lg\n"
                                   "    kind: cpu-compute\n";

static void test_what_a_cluster_refuses(void **state)
{
    (void)state;
    fixture f;
    cot_err e;
    assert_int_equal(scenario_parse_buffer("one.yaml", one_gpu_text, strlen(one_gpu_text), &f.sc, &e), 0);
    assert_int_equal(deploy_gpu_workloads(&f.sc), 1);
    /* replicas: at least 2 (the device plugin's replicas.go) */
    assert_int_equal(deploy_plugin_replicas(&f.sc), 2);
    char key[64], label[64], mig[64], why[1024];
    for (int m = 0; m < 2; m++) {
        json_t *cfg = deploy_plugin_config(&f.sc, m ? "mps" : "timeslice", key, sizeof key);
        json_t *res = json_array_get(
            json_object_get(json_object_get(json_object_get(cfg, "sharing"), m ? "mps" : "timeSlicing"), "resources"), 0);
        assert_int_equal(json_integer_value(json_object_get(res, "replicas")), 2);
        json_decref(cfg);
    }
    /* 80% asked, 100 / 2 replicas given */
    assert_int_equal(deploy_mps_capped(&f.sc, why, sizeof why), 1);
    assert_non_null(strstr(why, "t asks for 80%"));
    assert_non_null(strstr(why, "those workloads get 50%"));
    /* the operator's all-disabled and all-enabled beside cotenant's own */
    json_t *objs = deploy_k8s_mode_objects(&f.sc, "mig", "gpu-operator", "run-1", label, sizeof label, mig, sizeof mig, &e);
    assert_non_null(objs);
    const char *parted = json_string_value(json_object_get(json_object_get(json_array_get(objs, 1), "data"), "config.yaml"));
    migparted_file mf;
    assert_int_equal(migparted_parse("config.yaml", parted, strlen(parted), &mf, &e), 0);
    assert_non_null(migparted_find(&mf, mig));
    const migparted_config *off = migparted_find(&mf, "all-disabled");
    assert_non_null(off);
    assert_false(off->entries[0].mig_enabled);
    assert_true(off->entries[0].all_devices);
    assert_non_null(migparted_find(&mf, "all-enabled"));
    migparted_free(&mf);
    json_decref(objs);
    /* every pod that must not run as root says as whom, by number */
    deploy_spec d = {.sc = &f.sc, .mode = "timeslice", .repeat = 1, .n = 1, .idx = {0}, .image = "img:1", .name = "one",
                     .run_id = "run-1", .segment = "s", .stop_after_s = 10, .grace_s = 5, .k8s_namespace = "default"};
    deploy_k8s_names names;
    json_t *jobs = deploy_k8s_jobs(&d, &names, &e);
    assert_non_null(jobs);
    size_t i;
    json_t *j;
    json_array_foreach(jobs, i, j) {
        json_t *sec = json_object_get(json_object_get(json_object_get(json_object_get(j, "spec"), "template"), "spec"),
                                      "securityContext");
        if (!json_is_true(json_object_get(sec, "runAsNonRoot"))) continue;
        assert_int_equal(json_integer_value(json_object_get(sec, "runAsUser")), DEPLOY_IMAGE_UID);
        assert_true(json_integer_value(json_object_get(sec, "runAsGroup")) > 0);
    }
    json_decref(jobs);
    scenario_free(&f.sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_what_a_cluster_refuses),
        cmocka_unit_test(test_compose_timeslice),
        cmocka_unit_test(test_compose_mps_and_mig),
        cmocka_unit_test(test_k8s_objects),
        cmocka_unit_test(test_names_and_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
