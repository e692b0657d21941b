/* cotenant deploy compose|k8s SCENARIO --mode M: the scenario's workloads,
 * all together as in a shared segment, written as a Compose project or as
 * Kubernetes manifests for the NVIDIA device plugin, to run by hand. (`cotenant
 * run --executor compose|k8s` writes and runs one per segment itself.) */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "deploy/deploy.h"
#include "exec/served.h"
#include "scenario/scenario_parse.h"
#include "util/fs.h"
#include "util/yaml_emit.h"

#define DEPLOY_PORT_BASE 18080

typedef struct {
    const char *target, *scenario, *mode, *out, *image, *user, *gpu, *ns, *plugin_ns, *node, *run_id;
    const char *mig_arg[SCENARIO_MAX_WORKLOADS];
    int nmig;
} deploy_opts;

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "cotenant deploy: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry: cotenant deploy --help\n");
    return EXIT_USAGE;
}

static int parse_opts(int argc, char **argv, deploy_opts *o)
{
    static const struct option longs[] = {
        {"mode", required_argument, 0, 'm'},       {"out", required_argument, 0, 'o'},
        {"image", required_argument, 0, 'i'},      {"user", required_argument, 0, 'u'},
        {"gpu", required_argument, 0, 'g'},        {"mig-device", required_argument, 0, 'M'},
        {"namespace", required_argument, 0, 'n'},  {"plugin-namespace", required_argument, 0, 'p'},
        {"node", required_argument, 0, 'N'},       {"run-id", required_argument, 0, 'R'},
        {"help", no_argument, 0, 'h'},             {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":m:o:n:h", longs, NULL)) != -1) {
        switch (c) {
        case 'm': o->mode = optarg; break;
        case 'o': o->out = optarg; break;
        case 'i': o->image = optarg; break;
        case 'u': o->user = optarg; break;
        case 'g': o->gpu = optarg; break;
        case 'n': o->ns = optarg; break;
        case 'p': o->plugin_ns = optarg; break;
        case 'N': o->node = optarg; break;
        case 'R': o->run_id = optarg; break;
        case 'M':
            if (o->nmig == SCENARIO_MAX_WORKLOADS) return usage_error("too many --mig-device options (at most %s)", "16");
            if (!strchr(optarg, '=')) return usage_error("--mig-device '%s': expected WORKLOAD=MIG-<uuid>", optarg);
            o->mig_arg[o->nmig++] = optarg;
            break;
        case 'h': fputs(usage_deploy, stdout); return -1;
        case ':': return usage_error("%s needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 2 != argc) return usage_error("%s", "expected a target (compose or k8s) and a scenario file");
    o->target = argv[optind];
    o->scenario = argv[optind + 1];
    if (strcmp(o->target, "compose") && strcmp(o->target, "k8s"))
        return usage_error("unknown target '%s'; expected compose or k8s", o->target);
    return EXIT_OK;
}

/* --mode, or the scenario's first mode the target runs. */
static const char *pick_mode(const scenario *sc, const deploy_opts *o, cot_err *err)
{
    const char *why;
    const bool cpu_ok = !strcmp(o->target, "compose");
    if (o->mode) {
        if ((why = deploy_mode_unsupported(sc, o->mode, cpu_ok))) {
            cot_errf(err, "--mode %s: %s (containers run exclusive, timeslice, mps and mig)", o->mode, why);
            return NULL;
        }
        return o->mode;
    }
    for (int i = 0; i < sc->nmodes; i++)
        if (!deploy_mode_unsupported(sc, sc->modes[i], cpu_ok)) return sc->modes[i];
    cot_errf(err, "none of the scenario's modes runs here (%s: %s)", sc->modes[0],
             deploy_mode_unsupported(sc, sc->modes[0], cpu_ok));
    return NULL;
}

static int mig_devices(const deploy_opts *o, deploy_spec *d, cot_err *err)
{
    for (int k = 0; k < o->nmig; k++) {
        const char *eq = strchr(o->mig_arg[k], '=');
        char name[SCENARIO_NAME_MAX + 1];
        snprintf(name, sizeof name, "%.*s", (int)(eq - o->mig_arg[k]), o->mig_arg[k]);
        int w = scenario_workload_index(d->sc, name);
        if (w < 0) return cot_errf(err, "--mig-device %s: the scenario has no workload %s", o->mig_arg[k], name);
        d->mig_device[w] = eq + 1;
    }
    for (int i = 0; i < d->n; i++) {
        const workload_spec *w = &d->sc->workloads[i];
        if (w->target || d->mig_device[i]) continue;
        return cot_errf(err, "mode mig: workload %s needs --mig-device %s=MIG-<uuid> (cotenant mig apply creates the "
                             "instances, cotenant mig status lists their UUIDs)",
                        w->name, w->name);
    }
    return 0;
}

static int write_compose(const deploy_opts *o, deploy_spec *d, const char *out, cot_err *err)
{
    char path[PATH_MAX], uid_gid[32];
    if (!o->user) snprintf(uid_gid, sizeof uid_gid, "%u:%u", (unsigned)getuid(), (unsigned)getgid());
    d->user = o->user ? o->user : uid_gid;
    d->gpu = o->gpu ? o->gpu : d->sc->gpu ? d->sc->gpu : "0";
    d->results_dir = "./results";
    if (deploy_mode(d->mode)->mig_devices && mig_devices(o, d, err) != 0) return -1;
    json_t *doc = deploy_compose(d, err);
    if (!doc) return -1;
    json_t *docs = json_pack("[o]", doc);
    int rc = fs_path_join(path, sizeof path, out, "compose.yaml", err) ||
             yaml_write_file(path, "# Written by cotenant deploy compose; docs/containers.md\n", docs, err);
    json_decref(docs);
    const char *dirs[] = {"results", deploy_mode(d->mode)->mps_clients ? "mps" : NULL};
    for (int i = 0; rc == 0 && i < 2 && dirs[i]; i++)
        rc = fs_path_join(path, sizeof path, out, dirs[i], err) || fs_mkdir_p(path, err);
    if (rc) return -1;
    printf("Wrote %s/compose.yaml (%d workload%s, mode %s). To run it:\n"
           "  cd %s && docker compose up    # each workload stops itself after %.0f s\n"
           "Events and logs land in %s/results/<workload>/; docker compose down removes the containers.\n",
           out, d->n, d->n == 1 ? "" : "s", d->mode, out, d->stop_after_s, out);
    return 0;
}

static int write_k8s(const deploy_opts *o, deploy_spec *d, const char *out, cot_err *err)
{
    char path[PATH_MAX], label[64], mig_config[64];
    const char *plugin_ns = o->plugin_ns ? o->plugin_ns : "gpu-operator";
    d->k8s_namespace = o->ns ? o->ns : "default";
    d->node = o->node;
    json_t *cfg = deploy_k8s_mode_objects(d->sc, d->mode, plugin_ns, d->run_id, label, sizeof label, mig_config,
                                          sizeof mig_config, err);
    deploy_k8s_names names;
    json_t *jobs = cfg ? deploy_k8s_jobs(d, &names, err) : NULL;
    int rc = -1;
    if (jobs && fs_path_join(path, sizeof path, out, "cluster-config.yaml", err) == 0 &&
        yaml_write_file(path, "# Written by cotenant deploy k8s: the device plugin's sharing config (and mig-parted's)\n",
                        cfg, err) == 0 &&
        fs_path_join(path, sizeof path, out, "jobs.yaml", err) == 0 &&
        yaml_write_file(path, "# Written by cotenant deploy k8s: a Job per workload (a server shares its pod with its "
                              "load generators) and the GPU sampler\n", jobs, err) == 0)
        rc = 0;
    if (rc == 0) {
        const char *node = o->node ? o->node : "NODE";
        size_t njobs = json_array_size(jobs);
        printf("Wrote %s/cluster-config.yaml and %s/jobs.yaml (%zu Job%s, mode %s). To run them:\n"
               "  1. kubectl apply -f %s/cluster-config.yaml\n"
               "     (once: point the device plugin at ConfigMap %s/%s, e.g. the GPU Operator's\n"
               "      ClusterPolicy devicePlugin.config.name%s)\n",
               out, out, njobs, njobs == 1 ? "" : "s", d->mode, out, plugin_ns, DEPLOY_PLUGIN_CONFIGMAP,
               mig_config[0] ? ", migManager.config.name=" DEPLOY_MIG_CONFIGMAP " and mig.strategy=mixed" : "");
        int step = 2;
        if (mig_config[0])
            printf("  %d. kubectl label node %s %s=%s --overwrite   # the MIG manager repartitions the GPU\n", step++,
                   node, DEPLOY_MIG_CONFIG_LABEL, mig_config);
        printf("  %d. kubectl label node %s %s=%s --overwrite\n"
               "  %d. kubectl apply -f %s/jobs.yaml\n"
               "  %d. kubectl logs -f -l %s=%s --all-containers --prefix   # tagged lines: docs/containers.md\n",
               step, node, DEPLOY_PLUGIN_CONFIG_LABEL, label, step + 1, out, step + 2, DEPLOY_LABEL_RUN, d->run_id);
        step += 3;
        if (names.sampler[0])
            printf("  %d. kubectl logs job/%s > telemetry.csv   # the node's GPU, sampled (docs/telemetry.md)\n", step++,
                   names.sampler);
        printf("  %d. kubectl delete -f %s/jobs.yaml\n", step, out);
    }
    json_decref(cfg);
    json_decref(jobs);
    return rc;
}

int cmd_deploy(int argc, char **argv)
{
    deploy_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc != EXIT_OK) return rc < 0 ? EXIT_OK : rc;
    bool k8s = !strcmp(o.target, "k8s");
    scenario sc;
    cot_err err;
    if (scenario_parse_file(o.scenario, &sc, &err) != 0) {
        fprintf(stderr, "cotenant: %s\n", err.msg);
        return EXIT_USAGE;
    }
    if (sc.nworkloads > SCENARIO_MAX_WORKLOADS) {
        fprintf(stderr, "cotenant: deploy handles at most %d workloads; the scenario has %d\n", SCENARIO_MAX_WORKLOADS,
                sc.nworkloads);
        scenario_free(&sc);
        return EXIT_USAGE;
    }
    const char *mode = pick_mode(&sc, &o, &err);
    char out[PATH_MAX], run_id[64];
    deploy_dns_label(o.run_id ? o.run_id : sc.name, run_id, 40);
    deploy_spec d = {.sc = &sc, .mode = mode, .repeat = 1, .n = sc.nworkloads, .image = o.image ? o.image : DEPLOY_DEFAULT_IMAGE,
                     .name = run_id, .run_id = run_id, .segment = "deploy", .grace_s = sc.grace_s};
    bool has_wall = false;
    for (int i = 0; i < sc.nworkloads; i++) {
        d.idx[i] = i;
        d.addr[i].resolve = false;
        has_wall |= sc.workloads[i].measure == MEASURE_WALL_TIME;
    }
    /* Servers get fixed ports on the host's network; their load generators, the address. */
    for (int i = 0; i < sc.nworkloads; i++) {
        if (scenario_driver_of(&sc, i) < 0) continue;
        d.addr[i].listen_port = DEPLOY_PORT_BASE + i;
        for (int j = 0; j < sc.nworkloads; j++)
            if (scenario_target_of(&sc, j) == i)
                d.addr[j].target_port = d.addr[i].listen_port, d.addr[j].target_model = served_model_name(&sc.workloads[i]);
    }
    d.stop_after_s = scenario_segment_budget_s(&sc, has_wall);
    snprintf(out, sizeof out, "%s", o.out ? o.out : "");
    if (!o.out) snprintf(out, sizeof out, "deploy/%s-%s-%s", sc.name, o.target, mode ? mode : "");
    rc = EXIT_USAGE;
    if (!mode) {
        fprintf(stderr, "cotenant: %s\n", err.msg);
    } else if (!fs_dir_is_empty_or_missing(out)) {
        fprintf(stderr, "cotenant: %s exists and is not empty; choose another --out (nothing was written)\n", out);
    } else if (fs_mkdir_p(out, &err) != 0 || (k8s ? write_k8s(&o, &d, out, &err) : write_compose(&o, &d, out, &err)) != 0) {
        fprintf(stderr, "cotenant: %s\n", err.msg);
    } else {
        rc = EXIT_OK;
    }
    scenario_free(&sc);
    return rc;
}
