#include "mig/mig_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_start(const void *a, const void *b)
{
    const mig_gi_state *x = a, *y = b;
    return x->start - y->start;
}

static int read_cis(const nvml_api *n, nvml_gpu_instance gi, mig_gi_state *gs, cot_err *err)
{
    for (unsigned idx = 0; idx < NVML_CI_PROFILE_INDICES && gs->nci < MIG_MAX_CI; idx++) {
        nvml_ci_profile_info pi;
        memset(&pi, 0, sizeof pi);
        pi.version = NVML_CI_PROFILE_INFO_V2;
        if (n->ci_profile_info(gi, idx, 0, &pi) != NVML_SUCCESS) continue; /* not a profile of this instance */
        nvml_compute_instance cis[MIG_MAX_CI];
        unsigned count = MIG_MAX_CI;
        int rc = n->compute_instances(gi, pi.id, cis, &count);
        if (rc != NVML_SUCCESS) return nvml_fail(err, "nvmlGpuInstanceGetComputeInstances", rc);
        for (unsigned k = 0; k < count && gs->nci < MIG_MAX_CI; k++) {
            nvml_ci_info info;
            memset(&info, 0, sizeof info);
            if ((rc = n->ci_info(cis[k], &info)) != NVML_SUCCESS)
                return nvml_fail(err, "nvmlComputeInstanceGetInfo_v2", rc);
            gs->ci[gs->nci++] = (mig_ci_state){info.id, info.profile_id, (int)info.placement.start, (int)info.placement.size};
        }
    }
    return 0;
}

static int read_devices(const nvml_api *n, nvml_device d, mig_state *s)
{
    unsigned max = 0;
    if (!n->max_mig_devices || !n->mig_device_by_index || n->max_mig_devices(d, &max) != NVML_SUCCESS) return 0;
    for (unsigned i = 0; i < max && s->ndev < MIG_MAX_DEVICES; i++) {
        nvml_device m;
        if (n->mig_device_by_index(d, i, &m) != NVML_SUCCESS) continue; /* no MIG device at this index */
        mig_device_state *ds = &s->dev[s->ndev];
        memset(ds, 0, sizeof *ds);
        if (n->gpu_instance_id) n->gpu_instance_id(m, &ds->gi);
        if (n->compute_instance_id) n->compute_instance_id(m, &ds->ci);
        n->device_uuid(m, ds->uuid, sizeof ds->uuid);
        n->device_name(m, ds->name, sizeof ds->name);
        s->ndev++;
    }
    return 0;
}

int mig_state_read(const nvml_api *n, nvml_device d, const mig_gpu *g, mig_state *s, cot_err *err)
{
    memset(s, 0, sizeof *s);
    n->device_uuid(d, s->gpu_uuid, sizeof s->gpu_uuid);
    unsigned idx = 0;
    n->device_index(d, &idx);
    s->gpu_index = (int)idx;
    if (!n->mig_mode) return cot_errf(err, "this driver's NVML has no nvmlDeviceGetMigMode");
    int rc = n->mig_mode(d, &s->mode_current, &s->mode_pending);
    if (rc != NVML_SUCCESS) return nvml_fail(err, "nvmlDeviceGetMigMode", rc);
    if (s->mode_current != 1) return 0;
    if (!n->gpu_instances || !n->gi_info || !n->ci_profile_info || !n->compute_instances || !n->ci_info)
        return cot_errf(err, "this driver's NVML lacks the calls that list MIG instances (nvmlDeviceGetGpuInstances ...)");
    for (int p = 0; p < g->nprofiles; p++) {
        const mig_profile *prof = &g->profiles[p];
        if (prof->nvml_id < 0) continue;
        nvml_gpu_instance gis[MIG_MAX_GI];
        unsigned count = MIG_MAX_GI;
        rc = n->gpu_instances(d, (unsigned)prof->nvml_id, gis, &count);
        if (rc != NVML_SUCCESS) return nvml_fail(err, "nvmlDeviceGetGpuInstances", rc);
        for (unsigned k = 0; k < count && s->ngi < MIG_MAX_GI; k++) {
            nvml_gi_info info;
            memset(&info, 0, sizeof info);
            if ((rc = n->gi_info(gis[k], &info)) != NVML_SUCCESS) return nvml_fail(err, "nvmlGpuInstanceGetInfo", rc);
            mig_gi_state *gs = &s->gi[s->ngi++];
            memset(gs, 0, sizeof *gs);
            gs->id = info.id, gs->profile_id = info.profile_id;
            gs->start = (int)info.placement.start, gs->size = (int)info.placement.size;
            snprintf(gs->profile, sizeof gs->profile, "%s", prof->name);
            if (read_cis(n, gis[k], gs, err) != 0) return -1;
        }
    }
    qsort(s->gi, (size_t)s->ngi, sizeof s->gi[0], by_start);
    return read_devices(n, d, s);
}

const mig_device_state *mig_state_device(const mig_state *s, unsigned gi)
{
    for (int i = 0; i < s->ndev; i++)
        if (s->dev[i].gi == gi) return &s->dev[i];
    return NULL;
}

const mig_gi_state *mig_state_gi_at(const mig_state *s, int start)
{
    for (int i = 0; i < s->ngi; i++)
        if (s->gi[i].start == start) return &s->gi[i];
    return NULL;
}

json_t *mig_state_to_json(const mig_state *s)
{
    json_t *gis = json_array(), *devs = json_array();
    for (int i = 0; i < s->ngi; i++) {
        const mig_gi_state *g = &s->gi[i];
        json_t *cis = json_array();
        for (int k = 0; k < g->nci; k++)
            json_array_append_new(cis, json_pack("{s:i, s:i, s:i, s:i}", "id", (int)g->ci[k].id, "profile_id",
                                                 (int)g->ci[k].profile_id, "start", g->ci[k].start, "size", g->ci[k].size));
        json_array_append_new(gis, json_pack("{s:i, s:i, s:s, s:i, s:i, s:o}", "id", (int)g->id, "profile_id",
                                             (int)g->profile_id, "profile", g->profile, "start", g->start, "size", g->size,
                                             "compute_instances", cis));
    }
    for (int i = 0; i < s->ndev; i++)
        json_array_append_new(devs, json_pack("{s:s, s:s, s:i, s:i}", "uuid", s->dev[i].uuid, "name", s->dev[i].name,
                                              "gpu_instance", (int)s->dev[i].gi, "compute_instance", (int)s->dev[i].ci));
    return json_pack("{s:s, s:i, s:{s:b, s:b}, s:o, s:o}", "gpu_uuid", s->gpu_uuid, "gpu_index", s->gpu_index, "mig_mode",
                     "current", s->mode_current == 1, "pending", s->mode_pending == 1, "gpu_instances", gis,
                     "mig_devices", devs);
}

static int get_int(const json_t *o, const char *key, const char *where, int lo, int hi, int *out, cot_err *err)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return cot_errf(err, "%s: \"%s\" must be an integer from %d to %d", where, key, lo, hi);
    *out = (int)json_integer_value(v);
    return 0;
}

int mig_state_from_json(const json_t *j, mig_state *s, cot_err *err)
{
    memset(s, 0, sizeof *s);
    const json_t *mode = json_object_get(j, "mig_mode"), *gis = json_object_get(j, "gpu_instances");
    const char *uuid = json_string_value(json_object_get(j, "gpu_uuid"));
    if (!uuid || !json_is_object(mode) || !json_is_boolean(json_object_get(mode, "current")) || !json_is_array(gis))
        return cot_errf(err, "the saved MIG state lacks gpu_uuid, mig_mode.current or gpu_instances");
    if (strlen(uuid) >= sizeof s->gpu_uuid) return cot_errf(err, "the saved MIG state's gpu_uuid is too long");
    snprintf(s->gpu_uuid, sizeof s->gpu_uuid, "%s", uuid);
    s->mode_current = json_is_true(json_object_get(mode, "current"));
    s->mode_pending = json_is_true(json_object_get(mode, "pending"));
    if (get_int(j, "gpu_index", "the saved MIG state", 0, 63, &s->gpu_index, err)) return -1;
    if (json_array_size(gis) > MIG_MAX_GI) return cot_errf(err, "the saved MIG state has more than %d GPU instances", MIG_MAX_GI);
    size_t i;
    const json_t *g;
    json_array_foreach(gis, i, g) {
        mig_gi_state *gs = &s->gi[s->ngi++];
        char where[64];
        snprintf(where, sizeof where, "saved GPU instance %zu", i);
        int id = 0, pid = 0; /* set by get_int; -O2 cannot tell */
        if (get_int(g, "id", where, 0, 1 << 20, &id, err) || get_int(g, "profile_id", where, 0, 1 << 20, &pid, err) ||
            get_int(g, "start", where, 0, MIG_MEMORY_SLICES - 1, &gs->start, err) ||
            get_int(g, "size", where, 1, MIG_MEMORY_SLICES, &gs->size, err))
            return -1;
        gs->id = (unsigned)id, gs->profile_id = (unsigned)pid;
        const char *prof = json_string_value(json_object_get(g, "profile"));
        if (prof && strlen(prof) >= sizeof gs->profile) return cot_errf(err, "%s: the profile name is too long", where);
        snprintf(gs->profile, sizeof gs->profile, "%s", prof ? prof : "?");
        const json_t *cis = json_object_get(g, "compute_instances"), *c;
        if (!json_is_array(cis) || json_array_size(cis) > MIG_MAX_CI)
            return cot_errf(err, "%s: compute_instances must be a list of at most %d", where, MIG_MAX_CI);
        size_t k;
        json_array_foreach(cis, k, c) {
            mig_ci_state *cs = &gs->ci[gs->nci++];
            if (get_int(c, "id", where, 0, 1 << 20, &id, err) || get_int(c, "profile_id", where, 0, 1 << 20, &pid, err) ||
                get_int(c, "start", where, 0, MIG_COMPUTE_SLICES, &cs->start, err) ||
                get_int(c, "size", where, 1, MIG_MEMORY_SLICES, &cs->size, err))
                return -1;
            cs->id = (unsigned)id, cs->profile_id = (unsigned)pid;
        }
    }
    return 0;
}

void mig_state_print(const mig_state *s, FILE *f)
{
    fprintf(f, "GPU %d (%s): MIG %s", s->gpu_index, s->gpu_uuid, s->mode_current == 1 ? "enabled" : "disabled");
    if (s->mode_pending != s->mode_current)
        fprintf(f, ", %s after the next GPU reset", s->mode_pending == 1 ? "enabled" : "disabled");
    fprintf(f, "; %d GPU instance%s\n", s->ngi, s->ngi == 1 ? "" : "s");
    for (int i = 0; i < s->ngi; i++) {
        const mig_gi_state *g = &s->gi[i];
        const mig_device_state *d = mig_state_device(s, g->id);
        fprintf(f, "  GPU instance %-3u %-12s placement %d:%d, %d compute instance%s%s%s\n", g->id, g->profile, g->start,
                g->size, g->nci, g->nci == 1 ? "" : "s", d ? ", " : "", d ? d->uuid : "");
    }
}
