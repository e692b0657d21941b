#include "scenario/mode_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuset/gpu_policy.h"

const char *scenario_mode_kind(const scenario *sc, int m)
{
    return sc->configs[m].kind ? sc->configs[m].kind : sc->modes[m];
}

bool scenario_mode_is_config(const scenario *sc, int m)
{
    return sc->configs[m].kind != NULL;
}

void scenario_config_view(const scenario *sc, int m, scenario *view)
{
    *view = *sc;
    const mode_config *c = &sc->configs[m];
    for (int w = 0; w < sc->nworkloads; w++) {
        if (c->mps_pct[w]) view->workloads[w].mps_active_thread_pct = c->mps_pct[w];
        if (c->mps_mem[w]) view->workloads[w].mps_pinned_mem_limit = c->mps_mem[w];
        if (c->cpu_pct[w]) view->workloads[w].cpu_pct = c->cpu_pct[w];
        if (c->nice_set[w]) view->workloads[w].nice = c->nice[w], view->workloads[w].nice_set = true;
        if (c->mig_profile[w]) view->workloads[w].mig_profile = c->mig_profile[w];
    }
}

json_t *scenario_config_settings(const scenario *sc, int m)
{
    const mode_config *c = &sc->configs[m];
    if (!c->kind) return NULL;
    json_t *o = json_object();
    for (int w = 0; w < sc->nworkloads; w++) {
        if (!c->mps_pct[w] && !c->mps_mem[w] && !c->cpu_pct[w] && !c->nice_set[w] && !c->mig_profile[w]) continue;
        json_t *wo = json_object();
        if (c->mps_pct[w]) json_object_set_new(wo, "active_thread_percentage", json_integer(c->mps_pct[w]));
        if (c->mps_mem[w]) json_object_set_new(wo, "pinned_memory_limit", json_string(c->mps_mem[w]));
        if (c->cpu_pct[w]) json_object_set_new(wo, "cpu_percentage", json_integer(c->cpu_pct[w]));
        if (c->nice_set[w]) json_object_set_new(wo, "nice", json_integer(c->nice[w]));
        if (c->mig_profile[w]) json_object_set_new(wo, "mig_profile", json_string(c->mig_profile[w]));
        json_object_set_new(o, sc->workloads[w].name, wo);
    }
    return o;
}

bool scenario_config_changes_gpu(const scenario *sc, int m)
{
    return sc->configs[m].timeslice_set || sc->configs[m].compute_mode_set;
}

json_t *scenario_config_axes(const scenario *sc, int m)
{
    json_t *a = json_array();
    char copy[sizeof sc->configs[m].axes], *save = NULL;
    snprintf(copy, sizeof copy, "%s", sc->configs[m].axes);
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) json_array_append_new(a, json_string(t));
    return a;
}

int scenario_config_axes_from_json(scenario *sc, int m, const json_t *axes)
{
    mode_config *c = &sc->configs[m];
    size_t i, n = 0;
    json_t *a;
    c->axes[0] = 0;
    json_array_foreach(axes, i, a) {
        const char *t = json_string_value(a);
        if (!t || !*t || strspn(t, "abcdefghijklmnopqrstuvwxyz_") != strlen(t) ||
            n + strlen(t) + 2 > sizeof c->axes)
            return -1;
        n += (size_t)snprintf(c->axes + n, sizeof c->axes - n, "%s%s", n ? "," : "", t);
    }
    return 0;
}

json_t *scenario_config_gpu(const scenario *sc, int m)
{
    const mode_config *c = &sc->configs[m];
    if (!scenario_config_changes_gpu(sc, m)) return NULL;
    json_t *o = json_object();
    if (c->timeslice_set) json_object_set_new(o, "timeslice", json_string(gpu_timeslice_name(c->timeslice)));
    if (c->compute_mode_set) json_object_set_new(o, "compute_mode", json_string(gpu_compute_mode_word(c->compute_mode)));
    return o;
}

int scenario_config_gpu_from_json(scenario *sc, int m, const json_t *gpu, char *why, size_t cap)
{
    mode_config *c = &sc->configs[m];
    const char *ts = json_string_value(json_object_get(gpu, "timeslice"));
    const char *cm = json_string_value(json_object_get(gpu, "compute_mode"));
    if ((ts && (c->timeslice = gpu_timeslice_parse(ts)) < 0) || (cm && (c->compute_mode = gpu_compute_mode_parse(cm)) < 0)) {
        snprintf(why, cap, "configuration %s: its GPU settings are not a timeslice and a compute mode", sc->modes[m]);
        return -1;
    }
    c->timeslice_set = ts != NULL;
    c->compute_mode_set = cm != NULL;
    return 0;
}

int scenario_config_from_json(scenario *sc, int m, const char *kind, const json_t *settings, char *why, size_t cap)
{
    mode_config *c = &sc->configs[m];
    c->kind = strdup(kind);
    const char *name;
    json_t *wo;
    json_object_foreach((json_t *)settings, name, wo) {
        int w = scenario_workload_index(sc, name);
        json_int_t pct = json_integer_value(json_object_get(wo, "active_thread_percentage"));
        json_int_t cpu = json_integer_value(json_object_get(wo, "cpu_percentage"));
        const json_t *nice = json_object_get(wo, "nice");
        const char *mem = json_string_value(json_object_get(wo, "pinned_memory_limit"));
        const char *mig = json_string_value(json_object_get(wo, "mig_profile"));
        if (w < 0 || pct < 0 || pct > 100 || cpu < 0 || cpu > 100 || (mem && strlen(mem) > 16) || (mig && strlen(mig) > 32) ||
            (nice && (!json_is_integer(nice) || json_integer_value(nice) < 0 || json_integer_value(nice) > 19))) {
            snprintf(why, cap, "configuration %s: settings for '%s' are not a workload's of the scenario", sc->modes[m],
                     name);
            return -1;
        }
        c->mps_pct[w] = (int)pct;
        if (mem && !c->mps_mem[w]) c->mps_mem[w] = strdup(mem);
        if (mig && !c->mig_profile[w]) c->mig_profile[w] = strdup(mig);
        c->cpu_pct[w] = (int)cpu;
        if (nice) c->nice[w] = (int)json_integer_value(nice), c->nice_set[w] = true;
    }
    return 0;
}

void scenario_config_free(mode_config *c, int nworkloads)
{
    free(c->kind);
    for (int w = 0; w < nworkloads; w++) free(c->mps_mem[w]), free(c->mig_profile[w]);
    memset(c, 0, sizeof *c);
}

void scenario_drop_mode(scenario *sc, int m)
{
    free(sc->modes[m]);
    scenario_config_free(&sc->configs[m], sc->nworkloads);
    memmove(&sc->modes[m], &sc->modes[m + 1], (size_t)(sc->nmodes - m - 1) * sizeof sc->modes[0]);
    memmove(&sc->configs[m], &sc->configs[m + 1], (size_t)(sc->nmodes - m - 1) * sizeof sc->configs[0]);
    sc->nmodes--;
    memset(&sc->configs[sc->nmodes], 0, sizeof sc->configs[0]);
}
