#include "scenario/scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mode/desc/mode_desc.h"
#include "scenario/mode_config.h"
#include "scenario/objective.h"
#include "scenario/names.h"

void scenario_init_defaults(scenario *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->device = DEVICE_GPU;
    sc->duration_s = 30;
    sc->warmup_s = 5;
    sc->startup_timeout_s = 120;
    sc->grace_s = 10;
    sc->timeout_s = 0; /* 0: derived from the others, see scenario_segment_budget_s */
    sc->repeats = 3;
    sc->seed = 1;
    sc->telemetry_interval_s = 0.1;
    sc->precision = SCENARIO_ADAPTIVE_PRECISION;
    objective_init(&sc->objective);
}

static void free_strv(char **v)
{
    if (!v) return;
    for (char **p = v; *p; p++) free(*p);
    free(v);
}

void scenario_default_modes(scenario *sc)
{
    const char *names[SCENARIO_MAX_MODES];
    int n = mode_desc_defaults(sc->device == DEVICE_CPU, names, SCENARIO_MAX_MODES);
    for (int i = 0; i < n && sc->nmodes < SCENARIO_MAX_MODES; i++) sc->modes[sc->nmodes++] = strdup(names[i]);
}

void scenario_free(scenario *sc)
{
    free(sc->source);
    free(sc->name);
    free(sc->gpu);
    for (int i = 0; i < sc->nmodes; i++) {
        free(sc->modes[i]);
        scenario_config_free(&sc->configs[i], sc->nworkloads);
    }
    for (int i = 0; i < sc->nworkloads; i++) {
        workload_spec *w = &sc->workloads[i];
        free(w->name);
        free(w->kind);
        free_strv(w->command);
        for (int j = 0; j < w->nargs; j++) free(w->args[j]);
        free(w->args);
        for (int j = 0; j < w->nenv; j++) {
            free(w->env[j].key);
            free(w->env[j].value);
        }
        free(w->env);
        free(w->mps_pinned_mem_limit);
        free(w->mig_profile);
        free(w->target);
    }
    memset(sc, 0, sizeof *sc);
}

int scenario_workload_index(const scenario *sc, const char *name)
{
    for (int i = 0; i < sc->nworkloads; i++)
        if (strcmp(sc->workloads[i].name, name) == 0) return i;
    return -1;
}

double scenario_segment_budget_s(const scenario *sc, bool has_wall_time)
{
    if (sc->timeout_s > 0) return sc->timeout_s;
    /* Event workloads are stopped by cotenant once the window closes, so
     * the budget only has to cover a slow start; wall-time workloads run to
     * completion and get an hour unless the scenario says otherwise. */
    if (has_wall_time) return 3600;
    return sc->startup_timeout_s + sc->warmup_s + sc->duration_s + sc->grace_s + 5;
}

static json_t *strv_json(char **v, int n)
{
    json_t *a = json_array();
    for (int i = 0; v && (n < 0 ? v[i] != NULL : i < n); i++) json_array_append_new(a, json_string(v[i]));
    return a;
}

void scenario_add_baseline(scenario *sc)
{
    const mode_desc *base = mode_desc_baseline();
    bool sharing = false;
    for (int i = 0; i < sc->nmodes; i++) {
        const mode_desc *d = mode_desc_lookup(scenario_mode_kind(sc, i));
        if (d == base && !scenario_mode_is_config(sc, i)) return;
        sharing |= d && d->shares;
    }
    if (!base || sc->nmodes < 2 || !sharing || sc->nmodes == SCENARIO_MAX_MODES) return;
    sc->modes[sc->nmodes++] = strdup(base->name);
    sc->baseline_added = true;
}

json_t *scenario_to_json(const scenario *sc)
{
    json_t *o = json_object();
    json_object_set_new(o, "source", json_string(sc->source ? sc->source : ""));
    json_object_set_new(o, "name", json_string(sc->name));
    json_object_set_new(o, "gpu", json_string(sc->gpu ? sc->gpu : "0"));
    json_object_set_new(o, "device", json_string(sc->device == DEVICE_CPU ? "cpu" : "gpu"));
    json_object_set_new(o, "builtin_default", json_boolean(sc->builtin_default));
    json_object_set_new(o, "baseline_added", json_boolean(sc->baseline_added));
    json_object_set_new(o, "modes", strv_json((char **)sc->modes, sc->nmodes));
    json_t *configs = json_array();
    for (int m = 0; m < sc->nmodes; m++) {
        if (!scenario_mode_is_config(sc, m)) continue;
        json_t *c = json_pack("{s:s, s:s, s:o}", "name", sc->modes[m], "mode", scenario_mode_kind(sc, m), "settings",
                              scenario_config_settings(sc, m));
        json_t *gpu = scenario_config_gpu(sc, m);
        if (gpu) json_object_set_new(c, "gpu", gpu);
        json_object_set_new(c, "axes", scenario_config_axes(sc, m));
        json_array_append_new(configs, c);
    }
    if (json_array_size(configs)) json_object_set(o, "configurations", configs);
    json_decref(configs);
    json_object_set_new(o, "objective", objective_to_json(sc, &sc->objective));
    json_object_set_new(o, "duration_s", json_real(sc->duration_s));
    json_object_set_new(o, "warmup_s", json_real(sc->warmup_s));
    json_object_set_new(o, "startup_timeout_s", json_real(sc->startup_timeout_s));
    json_object_set_new(o, "grace_s", json_real(sc->grace_s));
    json_object_set_new(o, "timeout_s", json_real(sc->timeout_s));
    json_object_set_new(o, "telemetry_interval_s", json_real(sc->telemetry_interval_s));
    json_object_set_new(o, "repeats", json_integer(sc->repeats));
    if (sc->adaptive) json_object_set_new(o, "adaptive", json_pack("{s:f}", "precision", sc->precision));
    json_object_set_new(o, "shuffle", json_boolean(sc->shuffle));
    json_object_set_new(o, "own_baselines", json_boolean(!sc->common_baseline_only));
    json_object_set_new(o, "seed", json_integer((json_int_t)sc->seed));
    json_t *ws = json_array();
    for (int i = 0; i < sc->nworkloads; i++) {
        const workload_spec *w = &sc->workloads[i];
        json_t *wo = json_object();
        json_object_set_new(wo, "name", json_string(w->name));
        if (w->kind) json_object_set_new(wo, "kind", json_string(w->kind));
        if (w->command) json_object_set_new(wo, "command", strv_json(w->command, -1));
        json_object_set_new(wo, "args", strv_json(w->args, w->nargs));
        json_t *env = json_object();
        for (int j = 0; j < w->nenv; j++) json_object_set_new(env, w->env[j].key, json_string(w->env[j].value));
        json_object_set_new(wo, "env", env);
        json_object_set_new(wo, "measure", json_string(w->measure == MEASURE_WALL_TIME ? "wall_time" : "events"));
        if (w->slo_ms > 0) json_object_set_new(wo, "slo_ms", json_real(w->slo_ms));
        if (w->mps_active_thread_pct > 0)
            json_object_set_new(wo, "mps_active_thread_percentage", json_integer(w->mps_active_thread_pct));
        if (w->mps_pinned_mem_limit)
            json_object_set_new(wo, "mps_pinned_memory_limit", json_string(w->mps_pinned_mem_limit));
        if (w->mig_profile) json_object_set_new(wo, "mig_profile", json_string(w->mig_profile));
        if (w->target) json_object_set_new(wo, "target", json_string(w->target));
        json_array_append_new(ws, wo);
    }
    json_object_set_new(o, "workloads", ws);
    return o;
}

static char *dup_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? strdup(s) : NULL;
}

static char **strv_from_json(const json_t *a, int *n_out)
{
    size_t n = json_array_size(a);
    char **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        v[i] = strdup(s ? s : "");
    }
    if (n_out) *n_out = (int)n;
    return v;
}

/* run.json is read back from folders people share: a name there is held to
 * the scenario file's rules, or the folder is refused. */
static int bad_name(char *why, size_t why_cap, const char *what, const char *name, const char *problem)
{
    char shown[80];
    name_printable(shown, sizeof shown, name);
    snprintf(why, why_cap, "%s name '%s' %s", what, shown,
             problem ? problem : "must be letters, digits, '_', '-' or '.', not starting with '.' or '-'");
    return -1;
}

int scenario_from_json(const json_t *o, scenario *sc, char *why, size_t why_cap)
{
    scenario_init_defaults(sc);
    if (!json_is_object(o)) {
        snprintf(why, why_cap, "the scenario is not a JSON object");
        return -1;
    }
    sc->source = dup_str(o, "source");
    sc->name = dup_str(o, "name");
    sc->gpu = dup_str(o, "gpu");
    const char *dev = json_string_value(json_object_get(o, "device"));
    sc->device = dev && strcmp(dev, "cpu") == 0 ? DEVICE_CPU : DEVICE_GPU;
    sc->builtin_default = json_is_true(json_object_get(o, "builtin_default"));
    sc->baseline_added = json_is_true(json_object_get(o, "baseline_added"));
    json_t *modes = json_object_get(o, "modes");
    for (size_t i = 0; i < json_array_size(modes) && i < SCENARIO_MAX_MODES; i++) {
        sc->modes[sc->nmodes++] = strdup(json_string_value(json_array_get(modes, i)) ?: "");
        if (!name_is_safe_id(sc->modes[i], SCENARIO_NAME_MAX)) return bad_name(why, why_cap, "mode", sc->modes[i], NULL);
    }
    sc->duration_s = json_number_value(json_object_get(o, "duration_s"));
    sc->warmup_s = json_number_value(json_object_get(o, "warmup_s"));
    sc->startup_timeout_s = json_number_value(json_object_get(o, "startup_timeout_s"));
    sc->grace_s = json_number_value(json_object_get(o, "grace_s"));
    sc->timeout_s = json_number_value(json_object_get(o, "timeout_s"));
    sc->telemetry_interval_s = json_number_value(json_object_get(o, "telemetry_interval_s"));
    sc->repeats = (int)json_integer_value(json_object_get(o, "repeats"));
    const json_t *adaptive = json_object_get(o, "adaptive");
    sc->adaptive = adaptive != NULL;
    if (adaptive) sc->precision = json_number_value(json_object_get(adaptive, "precision"));
    sc->shuffle = json_is_true(json_object_get(o, "shuffle"));
    sc->common_baseline_only = json_is_false(json_object_get(o, "own_baselines"));
    sc->seed = (uint64_t)json_integer_value(json_object_get(o, "seed"));
    json_t *ws = json_object_get(o, "workloads");
    if (!sc->name || !json_is_array(ws) || json_array_size(ws) == 0 ||
        json_array_size(ws) > SCENARIO_MAX_WORKLOADS) {
        snprintf(why, why_cap, "the scenario has no name or no workloads");
        return -1;
    }
    if (name_problem(sc->name)) return bad_name(why, why_cap, "scenario", sc->name, name_problem(sc->name));
    for (size_t i = 0; i < json_array_size(ws); i++) {
        json_t *wo = json_array_get(ws, i);
        workload_spec *w = &sc->workloads[sc->nworkloads++];
        w->name = dup_str(wo, "name");
        if (!w->name) {
            snprintf(why, why_cap, "workload %zu has no name", i + 1);
            return -1;
        }
        if (name_problem(w->name)) return bad_name(why, why_cap, "workload", w->name, name_problem(w->name));
        w->kind = dup_str(wo, "kind");
        if (json_object_get(wo, "command")) w->command = strv_from_json(json_object_get(wo, "command"), NULL);
        w->args = strv_from_json(json_object_get(wo, "args"), &w->nargs);
        json_t *env = json_object_get(wo, "env");
        w->env = calloc(json_object_size(env) + 1, sizeof *w->env);
        const char *k;
        json_t *v;
        json_object_foreach(env, k, v) {
            w->env[w->nenv].key = strdup(k);
            w->env[w->nenv].value = strdup(json_string_value(v) ?: "");
            w->nenv++;
        }
        const char *measure = json_string_value(json_object_get(wo, "measure"));
        w->measure = measure && strcmp(measure, "wall_time") == 0 ? MEASURE_WALL_TIME : MEASURE_EVENTS;
        w->slo_ms = json_number_value(json_object_get(wo, "slo_ms"));
        w->mps_active_thread_pct = (int)json_integer_value(json_object_get(wo, "mps_active_thread_percentage"));
        w->mps_pinned_mem_limit = dup_str(wo, "mps_pinned_memory_limit");
        w->mig_profile = dup_str(wo, "mig_profile");
        w->target = dup_str(wo, "target");
        if (w->kind && !name_is_safe_id(w->kind, SCENARIO_NAME_MAX)) return bad_name(why, why_cap, "kind", w->kind, NULL);
        if (w->target && name_problem(w->target))
            return bad_name(why, why_cap, "target", w->target, name_problem(w->target));
    }
    /* the sweeps' configurations, by name, once the workloads are known */
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(o, "configurations"), i, c) {
        const char *name = json_string_value(json_object_get(c, "name")), *kind = json_string_value(json_object_get(c, "mode"));
        int m = -1;
        for (int k = 0; name && k < sc->nmodes; k++)
            if (!strcmp(sc->modes[k], name)) m = k;
        if (m < 0 || !kind || !mode_desc_lookup(kind) || sc->configs[m].kind) {
            snprintf(why, why_cap, "configuration %zu names no mode of the scenario, one named twice, or no known mode", i + 1);
            return -1;
        }
        if (scenario_config_from_json(sc, m, kind, json_object_get(c, "settings"), why, why_cap) != 0 ||
            scenario_config_gpu_from_json(sc, m, json_object_get(c, "gpu"), why, why_cap) != 0)
            return -1;
        if (scenario_config_axes_from_json(sc, m, json_object_get(c, "axes")) != 0) {
            snprintf(why, why_cap, "configuration %s: 'axes' is not a list of axis names", name);
            return -1;
        }
    }
    return objective_from_json(sc, json_object_get(o, "objective"), &sc->objective, why, why_cap);
}

int scenario_target_of(const scenario *sc, int w)
{
    return sc->workloads[w].target ? scenario_workload_index(sc, sc->workloads[w].target) : -1;
}

int scenario_driver_of(const scenario *sc, int w)
{
    for (int i = 0; i < sc->nworkloads; i++)
        if (i != w && scenario_target_of(sc, i) == w) return i;
    return -1;
}

int scenario_units(const scenario *sc)
{
    int n = 0;
    for (int i = 0; i < sc->nworkloads; i++) n += scenario_driver_of(sc, i) < 0;
    return n;
}
