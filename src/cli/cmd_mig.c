/* cotenant mig: MIG layouts, planned against the GPU's profiles.
 *   cotenant mig profiles [--gpu-model M]
 *   cotenant mig plan LAYOUT [--gpu-model M] [--json]
 *   cotenant mig export LAYOUT [--name NAME] [--devices all|0,1]   (mig-parted's format)
 *   cotenant mig import FILE [--config NAME]
 *   cotenant mig status [--json]
 *   cotenant mig apply LAYOUT | disable | restore  [--dry-run] [--state FILE]
 * Only apply, disable and restore change the GPU (mig_change.c). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/commands.h"
#include "host/host.h"
#include "host/nvml.h"
#include "mig/mig_change.h"
#include "mig/mig_discover.h"
#include "mig/mig_parted.h"
#include "mig/mig_plan.h"
#include "util/err.h"
#include "util/fs.h"

/* An error for the user: "cotenant: ..." on stderr. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("cotenant: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

typedef struct {
    const char *model, *gpu, *layout; /* layout: the file, for import */
    const char *name, *devices, *config, *state;
    int json, dry_run;
} mig_opts;

/* The profiles for --gpu-model; else the GPU's own, through NVML; else the
 * built-in table its name matches. NULL after saying why. */
static const mig_gpu *gpu_table(const mig_opts *o, char *source, size_t cap)
{
    if (o->model) {
        const mig_gpu *g = mig_gpu_by_model(o->model);
        if (!g) say("--gpu-model '%s': unknown; expected one of %s", o->model, mig_gpu_models());
        else snprintf(source, cap, "built-in table for %s", g->model);
        return g;
    }
    host_info h;
    host_probe(&h, o->gpu);
    if (!h.gpu_found) {
        say("no GPU to read MIG profiles from (%s); plan for a model with --gpu-model %s", h.gpu_why, mig_gpu_models());
        return NULL;
    }
    static mig_gpu here;
    int own;
    if (mig_gpu_for_index(h.gpu_index, h.gpu_name, &here, &own, source, cap) != 0) {
        say("%s. Plan for one with --gpu-model %s", source, mig_gpu_models());
        return NULL;
    }
    return &here;
}

static int profiles(const mig_opts *o)
{
    char source[256];
    const mig_gpu *g = gpu_table(o, source, sizeof source);
    if (!g) return EXIT_USAGE;
    printf("%s MIG profiles (%s%s)\n", g->model, source,
           strstr(source, "built-in") ? "; SMs as on the SXM part" : "");
    printf("  %-12s %7s %7s %5s %11s %5s  %s\n", "profile", "compute", "memory", "SMs", "memory", "max", "placements");
    for (int i = 0; i < g->nprofiles; i++) {
        const mig_profile *p = &g->profiles[i];
        char pl[64];
        printf("  %-12s %5d/%d %5d/%d %5d %7.2f GiB %5d  %s\n", p->name, p->compute_slices, g->compute_slices,
               p->memory_slices, g->memory_slices, p->sms, p->memory_gib, p->max_instances,
               mig_placements_text(p, pl, sizeof pl));
    }
    return EXIT_OK;
}

static void print_map(const mig_gpu *g, const mig_plan *plan)
{
    char map[MIG_MEMORY_SLICES][MIG_NAME_MAX];
    for (int k = 0; k < MIG_MEMORY_SLICES; k++) snprintf(map[k], sizeof map[k], "-");
    for (int i = 0; i < plan->n; i++)
        for (int k = 0; k < plan->inst[i].profile->memory_slices; k++)
            snprintf(map[plan->inst[i].start + k], sizeof map[0], "%d", i);
    printf("  memory slices 0-%d, by instance: [", g->memory_slices - 1);
    for (int k = 0; k < g->memory_slices; k++) printf("%s%s", k ? " " : "", map[k]);
    printf("]\n");
}

static int plan_cmd(const mig_opts *o)
{
    char source[256], err[1024];
    const mig_gpu *g = gpu_table(o, source, sizeof source);
    if (!g) return EXIT_USAGE;
    const mig_profile *req[MIG_MAX_INSTANCES];
    int n;
    if (mig_layout_parse(g, o->layout, req, &n, err, sizeof err)) {
        say("%s", err);
        return EXIT_USAGE;
    }
    mig_plan plan;
    mig_plan_layout(g, req, n, &plan);
    if (o->json) {
        json_t *inst = json_array();
        for (int i = 0; i < plan.n && plan.fits; i++) {
            const mig_profile *p = plan.inst[i].profile;
            json_array_append_new(inst, json_pack("{sisssisisisf}", "instance", i, "profile", p->name, "start",
                                                  plan.inst[i].start, "size", p->memory_slices, "sms", p->sms,
                                                  "memory_gib", p->memory_gib));
        }
        json_t *o_json = json_pack("{sssssssbso}", "gpu_model", g->model, "profiles_from", source, "layout", o->layout,
                                   "fits", plan.fits, "instances", inst);
        if (!plan.fits) json_object_set_new(o_json, "why", json_string(plan.why));
        char *text = json_dumps(o_json, JSON_INDENT(2));
        printf("%s\n", text);
        free(text);
        json_decref(o_json);
        return plan.fits ? EXIT_OK : EXIT_RUN_FAILED;
    }
    if (!plan.fits) {
        printf("%s: the layout %s does not fit: %s\n", g->model, o->layout, plan.why);
        return EXIT_RUN_FAILED;
    }
    printf("%s: the layout fits (%s): %d of %d compute slices, %d of %d memory slices\n", g->model, source,
           plan.compute_slices, g->compute_slices, plan.memory_slices, g->memory_slices);
    printf("  %-8s %-12s %-9s %-13s %5s %11s\n", "instance", "profile", "placement", "memory slices", "SMs", "memory");
    for (int i = 0; i < plan.n; i++) {
        const mig_profile *p = plan.inst[i].profile;
        char pl[16], sl[16];
        snprintf(pl, sizeof pl, "%d:%d", plan.inst[i].start, p->memory_slices);
        snprintf(sl, sizeof sl, "%d-%d", plan.inst[i].start, plan.inst[i].start + p->memory_slices - 1);
        printf("  %-8d %-12s %-9s %-13s %5d %7.2f GiB\n", i, p->name, pl, sl, p->sms, p->memory_gib);
    }
    print_map(g, &plan);
    return EXIT_OK;
}

/* A config name is also the value of the node label nvidia.com/mig.config
 * that selects it: keep it to what a label value allows. */
static int plain_word(const char *s)
{
    if (!*s || strlen(s) > 63) return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || strchr("._-", *s))) return 0;
    return 1;
}

/* "all", or GPU indices such as 0,1 as a JSON array; NULL if neither. */
static json_t *device_list(const char *text)
{
    if (!strcmp(text, "all")) return json_string("all");
    json_t *list = json_array();
    for (const char *p = text;;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || !isdigit((unsigned char)*p) || v > 63 || (*end && *end != ',')) {
            json_decref(list);
            return NULL;
        }
        json_array_append_new(list, json_integer(v));
        if (!*end) return list;
        p = end + 1;
    }
}

static int export_cmd(const mig_opts *o)
{
    const char *name = o->name ? o->name : "cotenant", *devices = o->devices ? o->devices : "all";
    if (!plain_word(name)) {
        say("--name '%s': use at most 63 letters, digits, '.', '_' and '-' (it is a node label's value)", name);
        return EXIT_USAGE;
    }
    json_t *devlist = device_list(devices);
    if (!devlist) {
        say("--devices '%s': expected all or GPU indices such as 0,1", devices);
        return EXIT_USAGE;
    }
    json_decref(devlist); /* checked now; built again for the file */
    char source[256], err[1024];
    const mig_gpu *g = gpu_table(o, source, sizeof source);
    if (!g) return EXIT_USAGE;
    const mig_profile *req[MIG_MAX_INSTANCES];
    int n;
    if (mig_layout_parse(g, o->layout, req, &n, err, sizeof err)) {
        say("%s", err);
        return EXIT_USAGE;
    }
    mig_plan plan;
    mig_plan_layout(g, req, n, &plan);
    if (!plan.fits) {
        say("%s: the layout %s does not fit, so it is not exported: %s", g->model, o->layout, plan.why);
        return EXIT_RUN_FAILED;
    }
    printf("# %s on %s (%s); written by cotenant mig export\n", o->layout, g->model, source);
    cot_err e;
    if (migparted_write(stdout, name, device_list(devices), &plan, &e) != 0) {
        say("%s", e.msg);
        return EXIT_RUN_FAILED;
    }
    return EXIT_OK;
}

/* What one entry of a mig-parted config means for this GPU. */
typedef enum { ENTRY_OTHER_GPU, ENTRY_FOREIGN, ENTRY_OFF, ENTRY_FITS, ENTRY_TOO_BIG } entry_verdict;

static entry_verdict judge_entry(const mig_gpu *g, const migparted_entry *en)
{
    char devs[128] = "all", layout[512], err[1024];
    if (!en->all_devices) {
        size_t k = 0;
        for (int d = 0; d < en->ndevices && k < sizeof devs; d++)
            k += (size_t)snprintf(devs + k, sizeof devs - k, "%s%d", d ? "," : "", en->devices[d]);
    }
    printf("    line %d, devices %s: ", en->line, devs);
    if (en->nfilter) {
        int k = 0;
        while (k < en->nfilter && !mig_gpu_has_pci_id(g, en->filter[k])) k++;
        if (k == en->nfilter) {
            printf("for other GPUs (device-filter 0x%08X%s)\n", en->filter[0], en->nfilter > 1 ? ", ..." : "");
            return ENTRY_OTHER_GPU;
        }
    }
    if (!en->mig_enabled) {
        printf("MIG disabled\n");
        return ENTRY_OFF;
    }
    int has_ci;
    migparted_layout_text(en, layout, sizeof layout, &has_ci);
    if (!layout[0]) {
        printf("MIG enabled, no instances\n");
        return ENTRY_OFF;
    }
    const mig_profile *req[MIG_MAX_INSTANCES];
    int n;
    if (mig_layout_parse(g, layout, req, &n, err, sizeof err)) {
        printf("%s: not for this GPU (%s)\n", layout, err);
        return ENTRY_FOREIGN;
    }
    mig_plan plan;
    mig_plan_layout(g, req, n, &plan);
    const char *ci = has_ci ? " (GPU instances, each holding its compute instance)" : "";
    if (plan.fits) printf("%s fits%s\n", layout, ci);
    else printf("%s does not fit%s: %s\n", layout, ci, plan.why);
    return plan.fits ? ENTRY_FITS : ENTRY_TOO_BIG;
}

/* A config's verdict: every entry for this GPU fits (or leaves MIG off),
 * one does not fit, its profiles are another GPU's, or every entry is
 * filtered to other GPUs. */
static const char *judge_config(const mig_gpu *g, const migparted_config *cfg, int *too_big, int *foreign, int *other)
{
    int n[ENTRY_TOO_BIG + 1] = {0};
    printf("  %s (line %d):\n", cfg->name, cfg->line);
    for (int i = 0; i < cfg->nentries; i++) n[judge_entry(g, &cfg->entries[i])]++;
    if (n[ENTRY_TOO_BIG]) return (*too_big)++, "does not fit";
    if (n[ENTRY_FOREIGN]) return (*foreign)++, "not for this GPU";
    if (n[ENTRY_OTHER_GPU] == cfg->nentries) return (*other)++, "for other GPUs";
    return "applies";
}

static int import_cmd(const mig_opts *o)
{
    migparted_file f;
    cot_err e;
    if (migparted_parse_file(o->layout, &f, &e)) {
        say("%s", e.msg);
        return EXIT_USAGE;
    }
    const migparted_config *only = NULL;
    if (o->config && !(only = migparted_find(&f, o->config))) {
        say("%s has no config '%s'; it has %d (cotenant mig import %s lists them)", o->layout, o->config, f.nconfigs,
            o->layout);
        migparted_free(&f);
        return EXIT_USAGE;
    }
    char source[256];
    const mig_gpu *g = gpu_table(o, source, sizeof source);
    if (!g) {
        migparted_free(&f);
        return EXIT_USAGE;
    }
    printf("%s: %d config%s, checked against %s (%s)\n", o->layout, f.nconfigs, f.nconfigs == 1 ? "" : "s", g->model,
           source);
    int too_big = 0, foreign = 0, other = 0, judged = 0;
    for (int c = 0; c < f.nconfigs; c++) {
        if (only && &f.configs[c] != only) continue;
        judged++;
        printf("  => %s\n", judge_config(g, &f.configs[c], &too_big, &foreign, &other));
    }
    migparted_free(&f);
    char fit[64] = "every one fits";
    if (too_big) snprintf(fit, sizeof fit, "%d do%s not fit", too_big, too_big == 1 ? "es" : "");
    printf("%s: %d of %d config%s for this GPU (%s); %d for other GPUs (device-filter), %d with another GPU's "
           "profiles\n",
           g->model, judged - other - foreign, judged, judged == 1 ? "" : "s", fit, other, foreign);
    /* a whole file holds configs for several GPU models; one named config must be for this one */
    if (too_big) return EXIT_RUN_FAILED;
    return only && (foreign || other) ? EXIT_RUN_FAILED : EXIT_OK;
}

/* The GPU to read or change, with its own profiles (their NVML ids are what
 * the create calls take). 0, or EXIT_USAGE after saying why. */
typedef struct {
    const nvml_api *n;
    nvml_device d;
    host_info h;
    mig_gpu g;
} mig_target;

static int open_target(const mig_opts *o, mig_target *t)
{
    if (o->model) {
        say("--gpu-model plans away from a GPU; status, apply, disable and restore act on one (--gpu N)");
        return EXIT_USAGE;
    }
    host_probe(&t->h, o->gpu);
    if (!t->h.gpu_found) {
        say("no GPU: %s", t->h.gpu_why);
        return EXIT_USAGE;
    }
    cot_err err;
    char why[512] = "";
    if (nvml_device_at(t->h.gpu_index, &t->n, &t->d, &err) != 0) {
        say("%s", err.msg);
        return EXIT_USAGE;
    }
    if (mig_gpu_from_nvml(t->n, t->d, t->h.gpu_name, &t->g, why, sizeof why) != 0) {
        say("GPU %d (%s) offers no MIG profiles: %s", t->h.gpu_index, t->h.gpu_name, why);
        return EXIT_USAGE;
    }
    return 0;
}

static void print_devices(const mig_state *s)
{
    for (int i = 0; i < s->ngi; i++) {
        const mig_device_state *dev = mig_state_device(s, s->gi[i].id);
        if (dev) printf("  %-12s CUDA_VISIBLE_DEVICES=%s\n", s->gi[i].profile, dev->uuid);
    }
}

static int status_cmd(const mig_opts *o)
{
    mig_target t;
    int rc = open_target(o, &t);
    if (rc) return rc;
    mig_state s;
    cot_err err;
    if (mig_state_read(t.n, t.d, &t.g, &s, &err) != 0) {
        say("%s", err.msg);
        return EXIT_RUN_FAILED;
    }
    char path[4096] = "";
    mig_state_path(s.gpu_uuid, path, sizeof path, &err);
    const char *saved = o->state ? o->state : path;
    if (o->json) {
        json_t *j = mig_state_to_json(&s);
        json_object_set_new(j, "saved_state", saved[0] && fs_path_exists(saved) ? json_string(saved) : json_null());
        char *text = json_dumps(j, JSON_INDENT(2));
        printf("%s\n", text);
        free(text);
        json_decref(j);
        return EXIT_OK;
    }
    mig_state_print(&s, stdout);
    print_devices(&s);
    if (saved[0] && access(saved, F_OK) == 0) printf("a saved state waits in %s: cotenant mig restore puts it back\n", saved);
    return EXIT_OK;
}

static int change_cmd(const mig_opts *o, const char *sub)
{
    mig_target t;
    int rc = open_target(o, &t);
    if (rc) return rc;
    mig_plan plan;
    char what[600], err_text[1024];
    snprintf(what, sizeof what, "cotenant mig %s%s%s", sub, o->layout ? " " : "", o->layout ? o->layout : "");
    if (!strcmp(sub, "apply")) {
        const mig_profile *req[MIG_MAX_INSTANCES];
        int n;
        if (mig_layout_parse(&t.g, o->layout, req, &n, err_text, sizeof err_text)) {
            say("%s", err_text);
            return EXIT_USAGE;
        }
        mig_plan_layout(&t.g, req, n, &plan);
        if (!plan.fits) {
            say("%s: the layout %s does not fit, so nothing was changed: %s", t.g.model, o->layout, plan.why);
            return EXIT_RUN_FAILED;
        }
    }
    mig_change_opts co = {.state_path = o->state, .what = what, .dry_run = o->dry_run, .out = stdout};
    mig_state after;
    cot_err err;
    if (!strcmp(sub, "restore")) rc = mig_restore(t.n, t.d, &t.g, &co, &after, &err);
    else rc = mig_apply(t.n, t.d, &t.g, !strcmp(sub, "apply") ? &plan : NULL, &co, &after, &err);
    if (rc != 0) {
        say("mig %s: %s", sub, err.msg);
        return rc == -2 ? EXIT_USAGE : EXIT_RUN_FAILED;
    }
    if (o->dry_run) return EXIT_OK;
    printf("now: ");
    mig_state_print(&after, stdout);
    print_devices(&after);
    return EXIT_OK;
}

int cmd_mig(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(usage_mig, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    mig_opts o = {0};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int changes = !strcmp(sub, "apply") || !strcmp(sub, "disable") || !strcmp(sub, "restore");
        if (!strcmp(a, "--json")) o.json = 1;
        else if (!strcmp(a, "--dry-run") && changes) o.dry_run = 1;
        else if (i + 1 < argc && !strcmp(a, "--state") && (changes || !strcmp(sub, "status"))) o.state = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--gpu")) o.gpu = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--gpu-model")) o.model = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--name") && !strcmp(sub, "export")) o.name = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--devices") && !strcmp(sub, "export")) o.devices = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--config") && !strcmp(sub, "import")) o.config = argv[++i];
        else if (a[0] != '-' && !o.layout && (!strcmp(sub, "plan") || !strcmp(sub, "export") || !strcmp(sub, "import") ||
                                               !strcmp(sub, "apply")))
            o.layout = a;
        else {
            say("mig %s: unexpected '%s'; see cotenant mig --help", sub, a);
            return EXIT_USAGE;
        }
    }
    if (!strcmp(sub, "profiles")) return profiles(&o);
    if (!strcmp(sub, "plan") || !strcmp(sub, "export")) {
        if (!o.layout) {
            say("mig %s: name a layout, e.g. cotenant mig %s 3g.40gb,2g.20gb,1g.10gb", sub, sub);
            return EXIT_USAGE;
        }
        return !strcmp(sub, "plan") ? plan_cmd(&o) : export_cmd(&o);
    }
    if (!strcmp(sub, "import")) {
        if (!o.layout) {
            say("mig import: name a mig-parted config file, e.g. cotenant mig import config.yaml");
            return EXIT_USAGE;
        }
        return import_cmd(&o);
    }
    if (!strcmp(sub, "status")) return status_cmd(&o);
    if (!strcmp(sub, "apply") && !o.layout) {
        say("mig apply: name a layout, e.g. cotenant mig apply 3g.40gb,2g.20gb,1g.10gb --dry-run");
        return EXIT_USAGE;
    }
    if (!strcmp(sub, "apply") || !strcmp(sub, "disable") || !strcmp(sub, "restore")) return change_cmd(&o, sub);
    say("mig: unknown subcommand '%s'; expected profiles, plan, export, import, status, apply, disable or restore", sub);
    return EXIT_USAGE;
}
