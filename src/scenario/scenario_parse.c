/* Scenario parser over libyaml's document API.
 *
 * libyaml builds the node tree and keeps each node's start mark, so every
 * message can point at the exact line and column. The schema is data:
 * tables of {key, handler} per mapping (top level, workload, mps, mig); a
 * handler converts and checks one value. Cross-field rules (kind vs
 * command, unique names) run once a mapping is complete. */
#include "mode/desc/mode_desc.h"
#include "scenario/scenario_parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "scenario/kinds.h"
#include "scenario/mode_config.h"
#include "scenario/objective.h"
#include "scenario/names.h"
#include "scenario/setting_check.h"
#include "scenario/sweep_parse.h"
#include "util/fs.h"
#include "util/timeutil.h"
#include "util/yaml_read.h"

typedef struct {
    yaml_src y;
    const yaml_node_t *timeout_node; /* where `timeout` was given, checked against the rest at the end */
    const yaml_node_t *sweep_node;   /* `sweep`, expanded once the workloads and modes are known */
    const yaml_node_t *objective_node, *constraints_node; /* read once the workloads are known */
    const yaml_node_t *max_repeats_node, *precision_node; /* only with repeats: auto */
} pctx;

#define fail(p, n, ...) yaml_fail(&(p)->y, (n), __VA_ARGS__)

static const char *node_kind(const yaml_node_t *n) { return yaml_kind_of(n); }
static const char *scalar(const yaml_node_t *n) { return yaml_scalar_of(n); }
static int is_null(const yaml_node_t *n) { return yaml_is_null(n); }

static int want_scalar(pctx *p, const yaml_node_t *n, const char *key, const char *expected)
{
    if (n->type != YAML_SCALAR_NODE || is_null(n))
        return fail(p, n, "'%s' must be %s, not %s", key, expected, is_null(n) ? "empty" : node_kind(n));
    return 0;
}

static int get_string(pctx *p, const yaml_node_t *n, const char *key, char **out)
{
    if (want_scalar(p, n, key, "a string") != 0) return -1;
    if (n->data.scalar.length > 4096) return fail(p, n, "'%s' is longer than 4096 characters", key);
    if (strlen(scalar(n)) != n->data.scalar.length)
        return fail(p, n, "'%s' contains a NUL character", key);
    free(*out);
    *out = strdup(scalar(n));
    return *out ? 0 : fail(p, n, "out of memory");
}

static int get_int(pctx *p, const yaml_node_t *n, const char *key, long lo, long hi, long *out)
{
    if (want_scalar(p, n, key, "a whole number") != 0) return -1;
    const char *s = scalar(n);
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end) return fail(p, n, "'%s' must be a whole number, not '%s'", key, s);
    if (errno == ERANGE || v < lo || v > hi)
        return fail(p, n, "'%s' must be between %ld and %ld, not %s", key, lo, hi, s);
    *out = v;
    return 0;
}

static int get_bool(pctx *p, const yaml_node_t *n, const char *key, bool *out)
{
    if (want_scalar(p, n, key, "true or false") != 0) return -1;
    const char *s = scalar(n);
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "yes")) *out = true;
    else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "no")) *out = false;
    else return fail(p, n, "'%s' must be true or false, not '%s'", key, s);
    return 0;
}

static int get_duration(pctx *p, const yaml_node_t *n, const char *key, double lo_s, double *out)
{
    if (want_scalar(p, n, key, "a duration such as 30s, 2m or 500ms") != 0) return -1;
    const char *why = NULL;
    double v = parse_duration_s(scalar(n), &why);
    if (v < 0) return fail(p, n, "'%s' is '%s'; expected %s", key, scalar(n), why);
    if (v < lo_s) return fail(p, n, "'%s' must be at least %gs, not %gs", key, lo_s, v);
    if (v > 7 * 24 * 3600.0) return fail(p, n, "'%s' must be at most a week, not %gs", key, v);
    *out = v;
    return 0;
}

/* Names become folder names and plot labels (scenario/names.h). */
static int check_name(pctx *p, const yaml_node_t *v, const char *what, const char *name)
{
    const char *why = name_problem(name);
    if (!why) return 0;
    char shown[80];
    name_printable(shown, sizeof shown, name);
    return fail(p, v, "%s name '%s' %s", what, shown, why);
}

typedef int (*field_fn)(pctx *p, const yaml_node_t *value, const char *key, void *target);
typedef struct {
    const char *key;
    field_fn fn;
} field;

/* Walks a mapping, dispatching each key to its handler; unknown and
 * repeated keys are errors. `seen` gets one bit per field index. */
static int parse_mapping(pctx *p, const yaml_node_t *n, const char *what, const field *fields,
                         int nfields, void *target, unsigned *seen)
{
    if (n->type != YAML_MAPPING_NODE)
        return fail(p, n, "%s must be a mapping of keys to values, not %s", what, node_kind(n));
    *seen = 0;
    for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(p->y.doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(p->y.doc, pair->value);
        if (!k || !v) return fail(p, n, "malformed mapping in %s", what);
        if (k->type != YAML_SCALAR_NODE) return fail(p, k, "keys of %s must be plain words", what);
        int idx = -1;
        for (int i = 0; i < nfields; i++)
            if (!strcmp(fields[i].key, scalar(k))) idx = i;
        if (idx < 0) {
            char expected[512] = "";
            for (int i = 0; i < nfields; i++) {
                strncat(expected, fields[i].key, sizeof expected - strlen(expected) - 1);
                if (i + 1 < nfields) strncat(expected, ", ", sizeof expected - strlen(expected) - 1);
            }
            return fail(p, k, "unknown key '%s' in %s; expected one of: %s", scalar(k), what, expected);
        }
        if (*seen & (1u << idx)) return fail(p, k, "key '%s' appears twice in %s", scalar(k), what);
        *seen |= 1u << idx;
        if (fields[idx].fn(p, v, fields[idx].key, target) != 0) return -1;
    }
    return 0;
}

static int strv_of_scalars(pctx *p, const yaml_node_t *n, const char *key, int min_items, char ***out, int *count)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(p, n, "'%s' must be a list of strings, not %s (write [a, b] or one '- item' a line)", key,
                    node_kind(n));
    int len = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (len < min_items) return fail(p, n, "'%s' must have at least %d item%s", key, min_items, min_items == 1 ? "" : "s");
    if (len > SCENARIO_MAX_ARGV) return fail(p, n, "'%s' has %d items; the limit is %d", key, len, SCENARIO_MAX_ARGV);
    char **v = calloc((size_t)len + 1, sizeof *v);
    if (!v) return fail(p, n, "out of memory");
    for (int i = 0; i < len; i++) {
        yaml_node_t *item = yaml_document_get_node(p->y.doc, n->data.sequence.items.start[i]);
        if (!item || get_string(p, item, key, &v[i]) != 0) {
            for (int j = 0; j < i; j++) free(v[j]);
            free(v);
            return -1;
        }
    }
    for (int i = 0; *out && (*out)[i]; i++) free((*out)[i]);
    free(*out);
    *out = v;
    if (count) *count = len;
    return 0;
}

/* ---- workload.mps and workload.mig ---- */

static int f_mps_threads(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    long x = 0;
    if (get_int(p, v, key, 1, 100, &x) != 0) return -1;
    ((workload_spec *)t)->mps_active_thread_pct = (int)x;
    return 0;
}

static int f_mps_mem(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    workload_spec *w = t;
    if (get_string(p, v, key, &w->mps_pinned_mem_limit) != 0) return -1;
    const char *problem = setting_mem_size_problem(w->mps_pinned_mem_limit);
    return problem ? fail(p, v, "'%s' is '%s'; %s", key, w->mps_pinned_mem_limit, problem) : 0;
}

static int f_mig_profile(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    workload_spec *w = t;
    if (get_string(p, v, key, &w->mig_profile) != 0) return -1;
    if (!setting_mig_profile_ok(w->mig_profile))
        return fail(p, v, "'%s' is '%s'; expected a MIG profile name such as 1g.10gb or 3g.40gb", key, w->mig_profile);
    return 0;
}

static const field mps_fields[] = {
    {"active_thread_percentage", f_mps_threads},
    {"pinned_memory_limit", f_mps_mem},
};
static const field mig_fields[] = {{"profile", f_mig_profile}};

/* ---- workloads ---- */

static int f_w_name(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    workload_spec *w = t;
    if (get_string(p, v, key, &w->name) != 0) return -1;
    return check_name(p, v, "workload", w->name);
}

static int f_w_kind(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    workload_spec *w = t;
    if (get_string(p, v, key, &w->kind) != 0) return -1;
    if (!kind_lookup(w->kind)) return fail(p, v, "unknown kind '%s'; expected one of: %s", w->kind, kind_names());
    w->program_line = (int)v->start_mark.line + 1, w->program_col = (int)v->start_mark.column + 1;
    return 0;
}

static int f_w_command(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    workload_spec *w = t;
    if (v->type == YAML_SCALAR_NODE && !is_null(v))
        return fail(p, v, "'command' must be a list (argv), not one string: cotenant runs no shell; write [\"%s\"] split into words",
                    scalar(v));
    w->program_line = (int)v->start_mark.line + 1, w->program_col = (int)v->start_mark.column + 1;
    return strv_of_scalars(p, v, key, 1, &w->command, NULL);
}

static int f_w_args(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    workload_spec *w = t;
    w->args_line = (int)v->start_mark.line + 1, w->args_col = (int)v->start_mark.column + 1;
    return strv_of_scalars(p, v, key, 0, &w->args, &w->nargs);
}

static int valid_env_key(const char *k)
{
    if (!*k || isdigit((unsigned char)*k)) return 0;
    for (; *k; k++)
        if (!isalnum((unsigned char)*k) && *k != '_') return 0;
    return 1;
}

static int f_w_env(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    workload_spec *w = t;
    if (v->type != YAML_MAPPING_NODE)
        return fail(p, v, "'%s' must be a mapping of variable names to values, not %s", key, node_kind(v));
    int n = (int)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (n > SCENARIO_MAX_ENV) return fail(p, v, "'%s' has %d variables; the limit is %d", key, n, SCENARIO_MAX_ENV);
    w->env = calloc((size_t)n + 1, sizeof *w->env);
    if (!w->env) return fail(p, v, "out of memory");
    for (int i = 0; i < n; i++) {
        yaml_node_pair_t *pair = &v->data.mapping.pairs.start[i];
        yaml_node_t *k = yaml_document_get_node(p->y.doc, pair->key);
        yaml_node_t *val = yaml_document_get_node(p->y.doc, pair->value);
        if (!k || !val || k->type != YAML_SCALAR_NODE || !valid_env_key(scalar(k)))
            return fail(p, k ? k : v, "environment variable names are letters, digits and '_', not starting with a digit");
        static const char *reserved[] = {"COTENANT_EVENTS_FD", "CUDA_VISIBLE_DEVICES", "CUDA_MPS_PIPE_DIRECTORY",
                                         "CUDA_MPS_LOG_DIRECTORY", "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE",
                                         "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"};
        for (size_t r = 0; r < sizeof reserved / sizeof reserved[0]; r++)
            if (!strcmp(scalar(k), reserved[r]))
                return fail(p, k, "%s is set by cotenant for each mode; use the scenario's gpu: and the workload's mps: settings instead",
                            reserved[r]);
        for (int j = 0; j < w->nenv; j++)
            if (!strcmp(w->env[j].key, scalar(k))) return fail(p, k, "variable '%s' appears twice in env", scalar(k));
        w->env[w->nenv].key = strdup(scalar(k));
        if (get_string(p, val, scalar(k), &w->env[w->nenv].value) != 0) {
            free(w->env[w->nenv].key);
            w->env[w->nenv].key = NULL;
            return -1;
        }
        w->nenv++;
    }
    return 0;
}

static int f_w_measure(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    workload_spec *w = t;
    if (want_scalar(p, v, key, "events or wall_time") != 0) return -1;
    if (!strcmp(scalar(v), "events")) w->measure = MEASURE_EVENTS;
    else if (!strcmp(scalar(v), "wall_time")) w->measure = MEASURE_WALL_TIME;
    else return fail(p, v, "'%s' is '%s'; expected events or wall_time", key, scalar(v));
    return 0;
}

static int f_w_slo(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    double s = 0;
    if (get_duration(p, v, key, 1e-6, &s) != 0) return -1;
    ((workload_spec *)t)->slo_ms = s * 1e3;
    return 0;
}

static int f_w_target(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    return get_string(p, v, key, &((workload_spec *)t)->target);
}

static int f_w_mps(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    unsigned seen;
    (void)key;
    return parse_mapping(p, v, "a workload's mps settings", mps_fields, 2, t, &seen);
}

static int f_w_mig(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    unsigned seen;
    (void)key;
    return parse_mapping(p, v, "a workload's mig settings", mig_fields, 1, t, &seen);
}

static const field workload_fields[] = {
    {"name", f_w_name}, {"kind", f_w_kind},       {"command", f_w_command}, {"args", f_w_args},
    {"env", f_w_env},   {"measure", f_w_measure}, {"slo", f_w_slo},         {"mps", f_w_mps},
    {"mig", f_w_mig},   {"target", f_w_target},
};
enum { WF_NAME = 0, WF_KIND = 1, WF_COMMAND = 2 };

static bool is_server_kind(const workload_spec *w) { return w->kind && !strncmp(w->kind, "serve", 5); }

/* A load generator drives one server, which cotenant starts first, on a
 * port it picks, and waits for. */
static int check_targets(pctx *p, const yaml_node_t *list, const scenario *sc)
{
    for (int i = 0; i < sc->nworkloads; i++) {
        const workload_spec *w = &sc->workloads[i];
        yaml_node_t *item = yaml_document_get_node(p->y.doc, list->data.sequence.items.start[i]);
        if (w->target) {
            int t = scenario_workload_index(sc, w->target);
            if (t < 0 || t == i)
                return fail(p, item, "workload '%s' has target '%s', which is not another workload of this scenario", w->name,
                            w->target);
            if (!is_server_kind(&sc->workloads[t]))
                return fail(p, item, "workload '%s' targets '%s', which is not a server: a target must have kind serve or "
                            "serve-cpu (cotenant starts it first and gives it its port)", w->name, w->target);
            if (is_server_kind(w)) return fail(p, item, "server '%s' cannot itself have a target", w->name);
            for (int j = 0; j < i; j++)
                if (sc->workloads[j].target && !strcmp(sc->workloads[j].target, w->target))
                    return fail(p, item, "server '%s' is the target of both '%s' and '%s'; give each load generator its own server",
                                w->target, sc->workloads[j].name, w->name);
        } else if (w->kind && !strcmp(w->kind, "loadgen")) {
            return fail(p, item, "workload '%s' (kind loadgen) needs 'target': the name of the serve workload it drives", w->name);
        }
        if (is_server_kind(w) && scenario_driver_of(sc, i) < 0)
            return fail(p, item, "server '%s' is driven by nothing: add a workload with kind: loadgen and target: %s", w->name,
                        w->name);
    }
    return 0;
}

static int f_workloads(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    scenario *sc = t;
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(p, v, "'%s' must be a list of workloads (one '- name: ...' each), not %s", key, node_kind(v));
    int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n < 1) return fail(p, v, "'%s' must list at least one workload", key);
    if (n > SCENARIO_MAX_WORKLOADS) return fail(p, v, "'%s' lists %d workloads; the limit is %d", key, n, SCENARIO_MAX_WORKLOADS);
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = yaml_document_get_node(p->y.doc, v->data.sequence.items.start[i]);
        workload_spec *w = &sc->workloads[sc->nworkloads++];
        unsigned seen;
        if (!item || parse_mapping(p, item, "a workload", workload_fields,
                                   (int)(sizeof workload_fields / sizeof workload_fields[0]), w, &seen) != 0)
            return -1;
        if (!(seen & (1u << WF_NAME))) return fail(p, item, "this workload has no 'name'");
        int has_kind = !!(seen & (1u << WF_KIND)), has_cmd = !!(seen & (1u << WF_COMMAND));
        if (has_kind == has_cmd)
            return fail(p, item, "workload '%s' needs exactly one of 'kind' (a built-in: %s) or 'command' (an argv list)",
                        w->name, kind_names());
        for (int j = 0; j < sc->nworkloads - 1; j++)
            if (!strcmp(sc->workloads[j].name, w->name))
                return fail(p, item, "workload name '%s' is used twice; names must be unique", w->name);
    }
    return check_targets(p, v, sc);
}

/* ---- sweeps (scenario/sweep_parse.c) ---- */

static int f_sweep(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    (void)key, (void)t;
    p->sweep_node = v;
    return 0;
}

/* ---- objective and constraints (docs/scenario.md) ---- */

static int f_objective(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    (void)t;
    if (want_scalar(p, v, key, "stp, fairness or throughput of WORKLOAD") != 0) return -1;
    p->objective_node = v;
    return 0;
}

static int f_constraints(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    (void)key, (void)t;
    p->constraints_node = v;
    return 0;
}

/* One SLO: {workload: W, p99: 20ms, attainment: 0.99}. Asking for an
 * attainment makes the limit the workload's slo, which the analysis
 * counts requests against. */
static int parse_slo(pctx *p, const yaml_node_t *v, scenario *sc)
{
    if (v->type != YAML_MAPPING_NODE)
        return fail(p, v, "an SLO must be a mapping such as {workload: serve, p99: 20ms, attainment: 0.99}, not %s",
                    node_kind(v));
    if (sc->objective.nslo == SCENARIO_MAX_SLOS) return fail(p, v, "more than %d SLOs", SCENARIO_MAX_SLOS);
    slo_constraint c = {.workload = -1, .pct = -1};
    const yaml_node_t *att_node = NULL;
    for (yaml_node_pair_t *kv = v->data.mapping.pairs.start; kv < v->data.mapping.pairs.top; kv++) {
        yaml_node_t *k = yaml_document_get_node(p->y.doc, kv->key), *val = yaml_document_get_node(p->y.doc, kv->value);
        if (!k || !val || k->type != YAML_SCALAR_NODE) return fail(p, v, "an SLO is malformed");
        const char *key = scalar(k);
        int pct = -1;
        for (int i = 0; i < OBJECTIVE_PCTS; i++)
            if (!strcmp(key, objective_pct_names[i])) pct = i;
        if (!strcmp(key, "workload")) {
            if (want_scalar(p, val, key, "a workload's name") != 0) return -1;
            if ((c.workload = scenario_workload_index(sc, scalar(val))) < 0)
                return fail(p, val, "'%s' is not a workload of this scenario", scalar(val));
        } else if (pct >= 0) {
            double s;
            if (c.pct >= 0) return fail(p, k, "an SLO names one percentile; this one names two");
            if (get_duration(p, val, key, 1e-6, &s) != 0) return -1;
            c.pct = pct, c.limit_ms = s * 1e3;
        } else if (!strcmp(key, "attainment")) {
            char *end;
            if (want_scalar(p, val, key, "a fraction such as 0.99") != 0) return -1;
            c.attainment = strtod(scalar(val), &end);
            if (end == scalar(val) || *end || !(c.attainment > 0 && c.attainment <= 1))
                return fail(p, val, "'attainment' must be a fraction above 0 and at most 1, such as 0.99, not '%s'", scalar(val));
            att_node = val;
        } else {
            return fail(p, k, "unknown key '%s' in an SLO; expected workload, one of p50, p95, p99, p99_9, and "
                              "optionally attainment", key);
        }
    }
    if (c.workload < 0 || c.pct < 0) return fail(p, v, "an SLO needs 'workload' and a percentile such as p99: 20ms");
    workload_spec *w = &sc->workloads[c.workload];
    if (att_node && w->slo_ms > 0 && fabs(w->slo_ms - c.limit_ms) > 1e-9)
        return fail(p, att_node, "workload '%s' has slo %gms, but this SLO counts requests within %gms: give one latency",
                    w->name, w->slo_ms, c.limit_ms);
    if (att_node) w->slo_ms = c.limit_ms;
    sc->objective.slo[sc->objective.nslo++] = c;
    return 0;
}

static int read_objective(pctx *p, scenario *sc)
{
    char why[256];
    if (p->objective_node && objective_parse_kind(sc, scalar(p->objective_node), &sc->objective, why, sizeof why) != 0)
        return fail(p, p->objective_node, "%s", why);
    const yaml_node_t *v = p->constraints_node;
    if (!v) return 0;
    if (v->type != YAML_MAPPING_NODE)
        return fail(p, v, "'constraints' must be a mapping with slo and min_np, not %s", node_kind(v));
    for (yaml_node_pair_t *kv = v->data.mapping.pairs.start; kv < v->data.mapping.pairs.top; kv++) {
        yaml_node_t *k = yaml_document_get_node(p->y.doc, kv->key), *val = yaml_document_get_node(p->y.doc, kv->value);
        if (!k || !val || k->type != YAML_SCALAR_NODE) return fail(p, v, "'constraints' is malformed");
        if (!strcmp(scalar(k), "slo")) {
            if (val->type != YAML_SEQUENCE_NODE) {
                if (parse_slo(p, val, sc) != 0) return -1;
                continue;
            }
            for (yaml_node_item_t *it = val->data.sequence.items.start; it < val->data.sequence.items.top; it++)
                if (parse_slo(p, yaml_document_get_node(p->y.doc, *it), sc) != 0) return -1;
        } else if (!strcmp(scalar(k), "min_np")) {
            if (val->type != YAML_MAPPING_NODE)
                return fail(p, val, "'min_np' must map workloads to the NP they need, such as {train: 0.5}");
            for (yaml_node_pair_t *np = val->data.mapping.pairs.start; np < val->data.mapping.pairs.top; np++) {
                yaml_node_t *wk = yaml_document_get_node(p->y.doc, np->key), *x = yaml_document_get_node(p->y.doc, np->value);
                int w = wk && wk->type == YAML_SCALAR_NODE ? scenario_workload_index(sc, scalar(wk)) : -1;
                if (w < 0) return fail(p, wk ? wk : val, "'%s' is not a workload of this scenario", wk ? scalar(wk) : "");
                char *end;
                if (!x || want_scalar(p, x, scalar(wk), "a number such as 0.5") != 0) return -1;
                double v2 = strtod(scalar(x), &end);
                if (end == scalar(x) || *end || !(v2 > 0 && v2 <= 10))
                    return fail(p, x, "min_np of '%s' must be a number above 0, such as 0.5, not '%s'", scalar(wk), scalar(x));
                sc->objective.min_np[w] = v2;
            }
        } else {
            return fail(p, k, "unknown key '%s' in constraints; expected slo or min_np", scalar(k));
        }
    }
    return 0;
}


/* ---- top level ---- */

static int f_name(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    scenario *sc = t;
    if (get_string(p, v, key, &sc->name) != 0) return -1;
    return check_name(p, v, "scenario", sc->name);
}

static int f_gpu(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    scenario *sc = t;
    if (get_string(p, v, key, &sc->gpu) != 0) return -1;
    const char *s = sc->gpu;
    int index = s[strspn(s, "0123456789")] == '\0' && strlen(s) <= 3;
    int uuid = !strncmp(s, "GPU-", 4) || !strncmp(s, "MIG-", 4);
    if (!index && !uuid)
        return fail(p, v, "'gpu' is '%s'; expected a GPU index (0) or UUID (GPU-xxxxxxxx-...) as nvidia-smi -L prints", s);
    return 0;
}

static int f_device(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    scenario *sc = t;
    if (want_scalar(p, v, key, "gpu or cpu") != 0) return -1;
    if (!strcmp(scalar(v), "gpu")) sc->device = DEVICE_GPU;
    else if (!strcmp(scalar(v), "cpu")) sc->device = DEVICE_CPU;
    else return fail(p, v, "'%s' is '%s'; expected gpu or cpu", key, scalar(v));
    return 0;
}

static int f_modes(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    scenario *sc = t;
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(p, v, "'%s' must be a list of modes such as [timeslice, mps], not %s", key, node_kind(v));
    int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n < 1 || n > SCENARIO_MAX_MODES) return fail(p, v, "'%s' must list 1 to %d modes", key, SCENARIO_MAX_MODES);
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = yaml_document_get_node(p->y.doc, v->data.sequence.items.start[i]);
        char *m = NULL;
        if (!item || get_string(p, item, "a mode", &m) != 0) return -1;
        if (!mode_desc_lookup(m)) {
            fail(p, item, "unknown mode '%s'; expected one of: %s", m, mode_desc_names());
            free(m);
            return -1;
        }
        for (int j = 0; j < sc->nmodes; j++)
            if (!strcmp(sc->modes[j], m)) {
                fail(p, item, "mode '%s' is listed twice", m);
                free(m);
                return -1;
            }
        sc->modes[sc->nmodes++] = m;
    }
    return 0;
}

#define DURATION_FIELD(fname, member, lo)                                                          \
    static int fname(pctx *p, const yaml_node_t *v, const char *key, void *t)                     \
    {                                                                                              \
        return get_duration(p, v, key, lo, &((scenario *)t)->member);                              \
    }
DURATION_FIELD(f_duration, duration_s, 0.1)
DURATION_FIELD(f_warmup, warmup_s, 0)
DURATION_FIELD(f_startup_timeout, startup_timeout_s, 1)
DURATION_FIELD(f_grace, grace_s, 0.1)
static int f_timeout(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    p->timeout_node = v;
    return get_duration(p, v, key, 1, &((scenario *)t)->timeout_s);
}

static int f_repeats(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    scenario *sc = t;
    long x = 0;
    if (v->type == YAML_SCALAR_NODE && !strcmp(scalar(v), "auto")) { /* the cap: max_repeats, or the default */
        sc->adaptive = true;
        if (!p->max_repeats_node) sc->repeats = SCENARIO_ADAPTIVE_MAX_REPEATS;
        return 0;
    }
    if (get_int(p, v, key, 1, SCENARIO_MAX_REPEATS, &x) != 0) return -1;
    sc->repeats = (int)x;
    return 0;
}

static int f_max_repeats(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    long x = 0;
    if (get_int(p, v, key, SCENARIO_ADAPTIVE_MIN_REPEATS, SCENARIO_MAX_REPEATS, &x) != 0) return -1;
    ((scenario *)t)->repeats = (int)x;
    p->max_repeats_node = v;
    return 0;
}

static int f_precision(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    char *end;
    if (want_scalar(p, v, key, "a number such as 0.02") != 0) return -1;
    double x = strtod(scalar(v), &end);
    if (end == scalar(v) || *end || !(x > 0 && x <= 1))
        return fail(p, v, "'%s' must be a number above 0 and at most 1 (the half-width of each NP's 95%% interval), not "
                          "'%s'", key, scalar(v));
    ((scenario *)t)->precision = x;
    p->precision_node = v;
    return 0;
}

static int f_shuffle(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    return get_bool(p, v, key, &((scenario *)t)->shuffle);
}

static int f_own_baselines(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    bool own;
    if (get_bool(p, v, key, &own) != 0) return -1;
    ((scenario *)t)->common_baseline_only = !own;
    return 0;
}

static int f_seed(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    long x = 0;
    if (get_int(p, v, key, 0, LONG_MAX, &x) != 0) return -1;
    ((scenario *)t)->seed = (uint64_t)x;
    return 0;
}

/* How often the GPU is sampled in every segment, or off. */
static int f_telemetry_interval(pctx *p, const yaml_node_t *v, const char *key, void *t)
{
    if (want_scalar(p, v, key, "a duration such as 100ms, or off") != 0) return -1;
    const char *why = NULL;
    if (!strcmp(scalar(v), "off")) {
        ((scenario *)t)->telemetry_interval_s = 0;
        return 0;
    }
    if (parse_duration_s(scalar(v), &why) < 0)
        return fail(p, v, "'%s' is '%s'; expected a duration of at least 10ms (such as 100ms or 1s), or off", key, scalar(v));
    return get_duration(p, v, key, SCENARIO_TELEMETRY_MIN_S, &((scenario *)t)->telemetry_interval_s);
}

static const field top_fields[] = {
    {"name", f_name},         {"gpu", f_gpu},         {"device", f_device},
    {"modes", f_modes},       {"duration", f_duration}, {"warmup", f_warmup},
    {"repeats", f_repeats},   {"shuffle", f_shuffle}, {"seed", f_seed},
    {"startup_timeout", f_startup_timeout}, {"grace", f_grace}, {"timeout", f_timeout},
    {"workloads", f_workloads}, {"telemetry_interval", f_telemetry_interval}, {"sweep", f_sweep},
    {"objective", f_objective}, {"constraints", f_constraints}, {"max_repeats", f_max_repeats},
    {"precision", f_precision}, {"own_baselines", f_own_baselines},
};
enum { TF_WORKLOADS = 12 }; /* its index above */

static void default_name(scenario *sc, const char *file)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char buf[SCENARIO_NAME_MAX + 1];
    size_t n = 0;
    for (const char *c = base; *c && *c != '.' && n < SCENARIO_NAME_MAX; c++)
        buf[n++] = isalnum((unsigned char)*c) || *c == '-' || *c == '_' ? *c : '-';
    buf[n] = '\0';
    sc->name = strdup(n ? buf : "scenario");
}

/* Checks that need the whole scenario: every workload's kind must fit the device. */
static int check_whole(pctx *p, scenario *sc)
{
    for (int i = 0; i < sc->nworkloads; i++) {
        const builtin_kind *k = sc->workloads[i].kind ? kind_lookup(sc->workloads[i].kind) : NULL;
        if (k && k->device == DEVICE_GPU && sc->device == DEVICE_CPU)
            return fail(p, NULL, "workload '%s' is kind %s, a GPU workload, but the scenario says device: cpu",
                        sc->workloads[i].name, k->name);
    }
    if (sc->timeout_s > 0 && sc->timeout_s < sc->warmup_s + sc->duration_s)
        return fail(p, p->timeout_node,
                    "'timeout' is %gs, shorter than warmup + duration (%gs + %gs): every segment would be cut before its "
                    "window ends; make it at least %gs, or leave it out",
                    sc->timeout_s, sc->warmup_s, sc->duration_s, sc->warmup_s + sc->duration_s + sc->grace_s);
    if (sc->device == DEVICE_CPU)
        for (int i = 0; i < sc->nmodes; i++)
            if (!mode_desc_lookup(scenario_mode_kind(sc, i))->cpu_ok)
                return fail(p, NULL, "mode '%s' needs a GPU, but the scenario says device: cpu; use modes: [timeslice]",
                            sc->modes[i]);
    return 0;
}

int scenario_parse_buffer(const char *name, const char *text, size_t len, scenario *out, cot_err *err)
{
    pctx p = {.y = {.file = name, .err = err}};
    scenario_init_defaults(out);
    if (len > SCENARIO_MAX_BYTES)
        return cot_errf(err, "%s: the file is %zu bytes; scenario files are limited to %d bytes", name, len,
                        SCENARIO_MAX_BYTES);
    yaml_document_t doc;
    if (yaml_read_one(name, "a scenario file", text, len, &doc, err) != 0) return -1;
    p.y.doc = &doc;
    int rc = -1;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    unsigned seen = 0;
    if (!root) {
        fail(&p, NULL, "the file is empty; a scenario needs at least a 'workloads' list");
    } else if (parse_mapping(&p, root, "the scenario", top_fields, (int)(sizeof top_fields / sizeof top_fields[0]),
                             out, &seen) == 0) {
        if (!(seen & (1u << TF_WORKLOADS)))
            fail(&p, root, "the scenario has no 'workloads' list; add one with at least one workload");
        else if (check_whole(&p, out) == 0)
            rc = 0;
    }
    /* Without a list, compare what the device offers: the OS scheduler
     * alone for CPU workloads, time slicing against MPS for GPU ones. A
     * sweep's configurations come after the modes listed. */
    if (rc == 0 && out->nmodes == 0) scenario_default_modes(out);
    if (rc == 0 && p.sweep_node && sweep_parse(&p.y, p.sweep_node, out) != 0) rc = -1;
    if (rc == 0 && read_objective(&p, out) != 0) rc = -1;
    if (rc == 0 && !out->adaptive && (p.max_repeats_node || p.precision_node)) {
        fail(&p, p.max_repeats_node ? p.max_repeats_node : p.precision_node,
             "'%s' goes with repeats: auto (adaptive repeats); with a fixed number of repeats it means nothing",
             p.max_repeats_node ? "max_repeats" : "precision");
        rc = -1;
    }
    yaml_document_delete(&doc);
    if (rc != 0) {
        scenario_free(out);
        return -1;
    }
    if (!out->name) default_name(out, name);
    if (!out->gpu) out->gpu = strdup("0");
    out->source = strdup(name);
    return 0;
}

int scenario_parse_file(const char *path, scenario *out, cot_err *err)
{
    char *text;
    size_t len;
    if (fs_read_file_limited(path, SCENARIO_MAX_BYTES, &text, &len, err) != 0) {
        scenario_init_defaults(out);
        return -1;
    }
    int rc = scenario_parse_buffer(path, text, len, out, err);
    free(text);
    return rc;
}
