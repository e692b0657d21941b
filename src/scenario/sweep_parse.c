#include "scenario/sweep_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuset/gpu_policy.h"
#include "host/nvml.h"
#include "mode/desc/mode_desc.h"
#include "scenario/setting_check.h"

#define SWEEP_MAX_POINTS 16
#define SWEEP_MAX_AXES 3

#define fail(y, n, ...) yaml_fail((y), (n), __VA_ARGS__)

typedef enum {
    AX_WHOLE,        /* a whole number in lo..hi */
    AX_SIZE,         /* a memory size: 512M, 8G */
    AX_PROFILE,      /* a MIG profile: 3g.40gb */
    AX_TIMESLICE,    /* the driver's timeslice: default, short, medium, long */
    AX_COMPUTE_MODE, /* default or exclusive-process */
} axis_value;

/* The settings a sweep may vary, by mode, and what names each in a
 * configuration's name. A workload's axis maps workloads to values (the
 * configuration's view applies them, scenario/mode_config.h); a GPU's axis
 * is one value for the whole GPU, set around the configuration's segments
 * where the run allows it. */
typedef struct {
    const char *mode, *name;
    const char *tag;
    axis_value value;
    bool whole_gpu;
    long lo, hi;
} axis_desc;
static const axis_desc AXES[] = {
    {"mps", "active_thread_percentage", "t", AX_WHOLE, false, 1, 100},
    {"mps", "pinned_memory_limit", "m", AX_SIZE, false, 0, 0},
    {"mps", "compute_mode", "cm-", AX_COMPUTE_MODE, true, 0, 0},
    {"timeslice", "cpu_percentage", "c", AX_WHOLE, false, 1, 100},
    {"timeslice", "nice", "n", AX_WHOLE, false, 0, 19},
    {"timeslice", "driver_timeslice", "slice-", AX_TIMESLICE, true, 0, 0},
    {"mig", "layout", "p", AX_PROFILE, false, 0, 0},
    {"mig-emulated", "layout", "p", AX_PROFILE, false, 0, 0},
};
#define NAXES ((int)(sizeof AXES / sizeof AXES[0]))

/* One axis's points: per point, each workload's value where set (a GPU's
 * axis keeps its one value as workload 0's). */
typedef struct {
    const axis_desc *d;
    const yaml_node_t *node;
    int n;
    long val[SWEEP_MAX_POINTS][SCENARIO_MAX_WORKLOADS];
    char *text[SWEEP_MAX_POINTS][SCENARIO_MAX_WORKLOADS];
    bool set[SWEEP_MAX_POINTS][SCENARIO_MAX_WORKLOADS];
} sweep_axis;

static void sweep_axis_free(sweep_axis *a)
{
    for (int i = 0; i < SWEEP_MAX_POINTS; i++) /* also a point cut short by an error */
        for (int w = 0; w < SCENARIO_MAX_WORKLOADS; w++) free(a->text[i][w]);
}

/* The axes of `mode` ("active_thread_percentage, pinned_memory_limit"),
 * or with mode NULL every mode's ("mps (...); timeslice (...)"). */
static void axes_names(const char *mode, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < NAXES && k < cap; i++) {
        if (mode && strcmp(AXES[i].mode, mode)) continue;
        bool first = i == 0 || strcmp(AXES[i - 1].mode, AXES[i].mode);
        if (mode) k += (size_t)snprintf(out + k, cap - k, "%s%s", k ? ", " : "", AXES[i].name);
        else if (first) k += (size_t)snprintf(out + k, cap - k, "%s%s (%s", k ? "); " : "", AXES[i].mode, AXES[i].name);
        else k += (size_t)snprintf(out + k, cap - k, ", %s", AXES[i].name);
    }
    if (!mode && k < cap) snprintf(out + k, cap - k, ")");
}

/* One value of axis a at node v into a->val / a->text [i][w]. */
static int read_value(const yaml_src *y, const yaml_node_t *v, sweep_axis *a, int i, int w)
{
    const char *axis = a->d->name, *s = yaml_scalar_of(v);
    if (!s || v->type != YAML_SCALAR_NODE || yaml_is_null(v) || strlen(s) != v->data.scalar.length || strlen(s) > 64)
        return fail(y, v, "a value of '%s' must be a short scalar, not %s", axis, yaml_is_null(v) ? "empty" : yaml_kind_of(v));
    switch (a->d->value) {
    case AX_WHOLE: {
        char *end;
        errno = 0;
        long x = strtol(s, &end, 10);
        if (end == s || *end) return fail(y, v, "'%s' must be a whole number, not '%s'", axis, s);
        if (errno == ERANGE || x < a->d->lo || x > a->d->hi)
            return fail(y, v, "'%s' must be between %ld and %ld, not %s", axis, a->d->lo, a->d->hi, s);
        a->val[i][w] = x;
        return 0;
    }
    case AX_SIZE: {
        const char *problem = setting_mem_size_problem(s);
        if (problem) return fail(y, v, "'%s' is '%s'; %s", axis, s, problem);
        break;
    }
    case AX_PROFILE:
        if (!setting_mig_profile_ok(s))
            return fail(y, v, "'%s' is '%s'; expected a MIG profile name such as 1g.10gb or 3g.40gb", axis, s);
        break;
    case AX_TIMESLICE:
        if ((a->val[i][w] = gpu_timeslice_parse(s)) < 0)
            return fail(y, v, "'%s' is '%s'; expected default, short, medium or long", axis, s);
        break;
    case AX_COMPUTE_MODE:
        a->val[i][w] = gpu_compute_mode_parse(s);
        if (a->val[i][w] != NVML_COMPUTE_DEFAULT && a->val[i][w] != NVML_COMPUTE_EXCLUSIVE_PROCESS)
            return fail(y, v, "'%s' is '%s'; expected default or exclusive-process (under prohibited nothing runs)", axis, s);
        break;
    }
    a->text[i][w] = strdup(s);
    return 0;
}

/* A workload's axis: a list of points, each a mapping of workload names
 * to values. A GPU's axis: a list of values. */
static int read_points(const yaml_src *y, const yaml_node_t *v, const scenario *sc, sweep_axis *a)
{
    const char *axis = a->d->name;
    a->node = v;
    if (v->type != YAML_SEQUENCE_NODE)
        return a->d->whole_gpu ? fail(y, v, "'%s' must be a list of values for the whole GPU, such as [default, short], "
                                            "not %s", axis, yaml_kind_of(v))
                               : fail(y, v, "'%s' must be a list of points, each a mapping of workload names to values "
                                            "such as {serve: 30, train: 70}, not %s", axis, yaml_kind_of(v));
    int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n < 1 || n > SWEEP_MAX_POINTS) return fail(y, v, "'%s' must list 1 to %d points", axis, SWEEP_MAX_POINTS);
    for (int i = 0; i < n; i++, a->n++) {
        yaml_node_t *pt = yaml_node_at(y, v->data.sequence.items.start[i]);
        if (a->d->whole_gpu) {
            if (!pt || read_value(y, pt, a, i, 0) != 0) return pt ? -1 : fail(y, v, "a point of '%s' is malformed", axis);
            for (int j = 0; j < i; j++)
                if (a->val[j][0] == a->val[i][0]) return fail(y, pt, "'%s' lists %s twice", axis, a->text[i][0]);
            a->set[i][0] = true;
            continue;
        }
        if (!pt || pt->type != YAML_MAPPING_NODE || pt->data.mapping.pairs.top == pt->data.mapping.pairs.start)
            return fail(y, pt ? pt : v, "a point of '%s' must be a mapping of workload names to values such as "
                                        "{serve: 30, train: 70}", axis);
        for (yaml_node_pair_t *kv = pt->data.mapping.pairs.start; kv < pt->data.mapping.pairs.top; kv++) {
            yaml_node_t *k = yaml_node_at(y, kv->key), *val = yaml_node_at(y, kv->value);
            if (!k || !val || k->type != YAML_SCALAR_NODE) return fail(y, pt, "a point of '%s' is malformed", axis);
            int w = scenario_workload_index(sc, yaml_scalar_of(k));
            if (w < 0) return fail(y, k, "'%s' is not a workload of this scenario", yaml_scalar_of(k));
            if (a->set[i][w]) return fail(y, k, "workload '%s' appears twice in this point", yaml_scalar_of(k));
            a->set[i][w] = true;
            if (read_value(y, val, a, i, w) != 0) return -1;
        }
    }
    return 0;
}

/* Sets point `at` of axis a into configuration c. */
static void apply_point(mode_config *c, const sweep_axis *a, int at, int nworkloads)
{
    if (a->d->value == AX_TIMESLICE) c->timeslice = (int)a->val[at][0], c->timeslice_set = true;
    if (a->d->value == AX_COMPUTE_MODE) c->compute_mode = (int)a->val[at][0], c->compute_mode_set = true;
    for (int w = 0; w < nworkloads && !a->d->whole_gpu; w++) {
        if (!a->set[at][w]) continue;
        if (a->d->value == AX_SIZE) c->mps_mem[w] = strdup(a->text[at][w]);
        else if (a->d->value == AX_PROFILE) c->mig_profile[w] = strdup(a->text[at][w]);
        else if (!strcmp(a->d->tag, "t")) c->mps_pct[w] = (int)a->val[at][w];
        else if (!strcmp(a->d->tag, "c")) c->cpu_pct[w] = (int)a->val[at][w];
        else if (!strcmp(a->d->tag, "n")) c->nice[w] = (int)a->val[at][w], c->nice_set[w] = true;
    }
}

/* A value as it appears in a configuration's name, which is a folder's:
 * a MIG profile loses its dots (3g.40gb: 3g40gb) and '+' becomes '_'. */
static size_t name_value(char *out, size_t cap, const sweep_axis *a, int at, int w)
{
    if (a->d->value == AX_TIMESLICE) return (size_t)snprintf(out, cap, "%s", gpu_timeslice_name((int)a->val[at][w]));
    if (a->d->value == AX_COMPUTE_MODE)
        return (size_t)snprintf(out, cap, "%s", a->val[at][w] == NVML_COMPUTE_EXCLUSIVE_PROCESS ? "exclusive" : "default");
    if (a->d->value == AX_WHOLE) return (size_t)snprintf(out, cap, "%ld", a->val[at][w]);
    size_t k = 0;
    for (const char *s = a->text[at][w]; *s && k + 1 < cap; s++)
        if (*s != '.') out[k++] = *s == '+' ? '_' : *s;
    out[k < cap ? k : cap - 1] = 0;
    return k;
}

/* Appends one configuration: the mode with one point of each axis. Its
 * name is the mode, then per axis its tag and the values in workload
 * order ("mps.t30-70.m8G-8G", "timeslice.slice-short"). */
static int add_config(const yaml_src *y, scenario *sc, const char *mode, const sweep_axis *axes, int naxes, const int *at)
{
    char name[SCENARIO_NAME_MAX + 32];
    size_t len = (size_t)snprintf(name, sizeof name, "%s", mode);
    for (int k = 0; k < naxes; k++) {
        const char *sep = ".";
        for (int w = 0; w < sc->nworkloads && len < sizeof name; w++) {
            if (!axes[k].set[at[k]][w]) continue;
            len += (size_t)snprintf(name + len, sizeof name - len, "%s%s", sep, *sep == '.' ? axes[k].d->tag : "");
            if (len < sizeof name) len += name_value(name + len, sizeof name - len, &axes[k], at[k], w);
            sep = "-";
        }
    }
    const yaml_node_t *where = axes[0].node;
    if (len > SCENARIO_NAME_MAX)
        return fail(y, where, "configuration name '%.*s...' is over %d characters; sweep fewer workloads at once",
                    SCENARIO_NAME_MAX, name, SCENARIO_NAME_MAX);
    for (int i = 0; i < sc->nmodes; i++)
        if (!strcmp(sc->modes[i], name)) return fail(y, where, "configuration '%s' comes twice: a point is repeated", name);
    if (sc->nmodes == SCENARIO_MAX_MODES)
        return fail(y, where, "the sweep makes more than %d configurations with the modes listed; sweep fewer points",
                    SCENARIO_MAX_MODES);
    mode_config *c = &sc->configs[sc->nmodes];
    c->kind = strdup(mode);
    for (int k = 0, n = 0; k < naxes; k++)
        n += snprintf(c->axes + n, sizeof c->axes - (size_t)n, "%s%s", k ? "," : "", axes[k].d->name);
    for (int k = 0; k < naxes; k++) apply_point(c, &axes[k], at[k], sc->nworkloads);
    sc->modes[sc->nmodes++] = strdup(name);
    return 0;
}

/* One mode's axes, and the cross product of their points. */
static int sweep_mode(const yaml_src *y, const yaml_node_t *k, const yaml_node_t *axes_node, scenario *sc)
{
    const char *mode = yaml_scalar_of(k);
    char names[512];
    axes_names(mode, names, sizeof names);
    if (!names[0]) {
        axes_names(NULL, names, sizeof names);
        return fail(y, k, "sweeps over mode '%s' are not supported; the axes are, by mode: %s", mode, names);
    }
    const mode_desc *md = mode_desc_lookup(mode);
    if (sc->device == DEVICE_CPU && !(md && md->cpu_ok))
        return fail(y, k, "mode %s needs a GPU, but the scenario says device: cpu", mode);
    if (axes_node->type != YAML_MAPPING_NODE || axes_node->data.mapping.pairs.top == axes_node->data.mapping.pairs.start)
        return fail(y, axes_node, "the sweep of mode %s must map axes (%s) to lists of points", mode, names);
    sweep_axis *axes = calloc(SWEEP_MAX_AXES, sizeof *axes);
    int naxes = 0, rc = axes ? 0 : fail(y, axes_node, "out of memory");
    for (yaml_node_pair_t *ax = axes_node->data.mapping.pairs.start; rc == 0 && ax < axes_node->data.mapping.pairs.top; ax++) {
        yaml_node_t *an = yaml_node_at(y, ax->key), *pts = yaml_node_at(y, ax->value);
        const char *axis = an && an->type == YAML_SCALAR_NODE ? yaml_scalar_of(an) : "";
        const axis_desc *d = NULL;
        for (int i = 0; i < NAXES; i++)
            if (!strcmp(AXES[i].mode, mode) && !strcmp(AXES[i].name, axis)) d = &AXES[i];
        bool twice = false;
        for (int i = 0; d && i < naxes; i++) twice |= axes[i].d == d;
        if (!d || !pts)
            rc = fail(y, an ? an : axes_node, "unknown axis '%s' of mode %s; expected %s", axis, mode, names);
        else if (twice)
            rc = fail(y, an, "axis '%s' appears twice", axis);
        else if (d->whole_gpu && sc->device == DEVICE_CPU)
            rc = fail(y, an, "axis '%s' is a setting of the GPU, but the scenario says device: cpu", axis);
        else if (naxes == SWEEP_MAX_AXES)
            rc = fail(y, an, "at most %d axes per mode: their cross product grows fast", SWEEP_MAX_AXES);
        else
            axes[naxes].d = d, rc = read_points(y, pts, sc, &axes[naxes++]);
    }
    int at[SWEEP_MAX_AXES] = {0};
    while (rc == 0) { /* every combination, the last axis fastest */
        rc = add_config(y, sc, mode, axes, naxes, at);
        int j = naxes - 1;
        while (j >= 0 && ++at[j] == axes[j].n) at[j--] = 0;
        if (j < 0) break;
    }
    for (int i = 0; axes && i < SWEEP_MAX_AXES; i++) sweep_axis_free(&axes[i]);
    free(axes);
    return rc;
}

int sweep_parse(const yaml_src *y, const yaml_node_t *v, scenario *sc)
{
    if (v->type != YAML_MAPPING_NODE || v->data.mapping.pairs.top == v->data.mapping.pairs.start)
        return fail(y, v, "'sweep' must map a mode to its axes, such as mps: {active_thread_percentage: [...]}");
    for (yaml_node_pair_t *kv = v->data.mapping.pairs.start; kv < v->data.mapping.pairs.top; kv++) {
        yaml_node_t *k = yaml_node_at(y, kv->key), *axes = yaml_node_at(y, kv->value);
        if (!k || !axes || k->type != YAML_SCALAR_NODE) return fail(y, v, "'sweep' is malformed");
        if (sweep_mode(y, k, axes, sc) != 0) return -1;
    }
    return 0;
}
