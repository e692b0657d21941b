/* The test double's MIG changes: GPU 0's MIG mode, GPU instances, compute
 * instances and compute mode, kept in COTENANT_NVML_DOUBLE_MIG_STATE so
 * that separate processes see one GPU. The rules are the driver's where a
 * test depends on them: MIG must be on to create instances, a placement
 * must be one of the profile's and free, a GPU instance with compute
 * instances cannot be destroyed, and MIG cannot be disabled while GPU
 * instances exist. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvml_double.h"

#define MAX_GI 8
#define MAX_CI 8 /* per GPU instance */

typedef struct dci {
    int used;
    unsigned id, profile_id, start, size;
    struct dgi *gi;
} dci;
typedef struct dgi {
    int used;
    unsigned id, profile_id, start, size;
    dci cis[MAX_CI];
} dgi;

static int on, loaded, changes, compute_mode;
static unsigned cur_mode, pending_mode;
static dgi gis[MAX_GI];
static dev mig_devs[MAX_GI * MAX_CI];

enum { OK = 0, INVALID = 2, NOT_SUPPORTED = 3, NOT_FOUND = 6, INSUFFICIENT = 7, IN_USE = 19, UNKNOWN = 999 };

int dmig_on(void)
{
    return on;
}

int dmig_compute_mode(void)
{
    return compute_mode;
}

static void save(void)
{
    const char *path = getenv("COTENANT_NVML_DOUBLE_MIG_STATE");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f) return;
    fprintf(f, "mode %u %u\ncompute_mode %d\n", cur_mode, pending_mode, compute_mode);
    for (int g = 0; g < MAX_GI; g++) {
        if (!gis[g].used) continue;
        fprintf(f, "gi %u %u %u %u\n", gis[g].id, gis[g].profile_id, gis[g].start, gis[g].size);
        for (int c = 0; c < MAX_CI; c++)
            if (gis[g].cis[c].used)
                fprintf(f, "ci %u %u %u %u %u\n", gis[g].id, gis[g].cis[c].id, gis[g].cis[c].profile_id,
                        gis[g].cis[c].start, gis[g].cis[c].size);
    }
    fclose(f);
}

static dgi *gi_by_id(unsigned id)
{
    for (int g = 0; g < MAX_GI; g++)
        if (gis[g].used && gis[g].id == id) return &gis[g];
    return NULL;
}

void dmig_load(void)
{
    if (loaded) return;
    loaded = 1;
    const char *path = getenv("COTENANT_NVML_DOUBLE_MIG_STATE");
    if (!path || !*path) return;
    on = 1;
    FILE *f = fopen(path, "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        unsigned a, b, c, d, e;
        if (sscanf(line, "mode %u %u", &a, &b) == 2) cur_mode = a, pending_mode = b;
        else if (sscanf(line, "compute_mode %u", &a) == 1) compute_mode = (int)a;
        else if (sscanf(line, "gi %u %u %u %u", &a, &b, &c, &d) == 4) {
            for (int g = 0; g < MAX_GI; g++)
                if (!gis[g].used) {
                    gis[g] = (dgi){1, a, b, c, d, {{0}}};
                    break;
                }
        } else if (sscanf(line, "ci %u %u %u %u %u", &a, &b, &c, &d, &e) == 5) {
            dgi *gi = gi_by_id(a);
            for (int k = 0; gi && k < MAX_CI; k++)
                if (!gi->cis[k].used) {
                    gi->cis[k] = (dci){1, b, c, d, e, gi};
                    break;
                }
        }
    }
    if (f) fclose(f);
}

/* Every change goes through here: logged, counted, and failed on demand. */
static int change(const char *what)
{
    changes++;
    const char *fail_at = getenv("COTENANT_NVML_DOUBLE_FAIL_AT");
    int fail = fail_at && atoi(fail_at) == changes;
    const char *log = getenv("COTENANT_NVML_DOUBLE_LOG");
    FILE *f = log && *log ? fopen(log, "a") : NULL;
    if (f) {
        fprintf(f, "%s%s\n", what, fail ? " -> injected failure" : "");
        fclose(f);
    }
    return fail ? UNKNOWN : OK;
}

static int gpu0(dev *d)
{
    return d == &gpus[0];
}

static int any_gi(void)
{
    for (int g = 0; g < MAX_GI; g++)
        if (gis[g].used) return 1;
    return 0;
}

int dmig_mode(dev *d, unsigned *cur, unsigned *pending)
{
    *cur = gpu0(d) ? cur_mode : 0;
    *pending = gpu0(d) ? pending_mode : 0;
    return OK;
}

int nvmlDeviceSetMigMode(dev *d, unsigned mode, int *activation)
{
    if (!on || !gpu0(d)) return NOT_SUPPORTED;
    char what[64];
    snprintf(what, sizeof what, "set_mig_mode %u", mode);
    int rc = change(what);
    if (rc) return rc;
    if (mode == 0 && any_gi()) return IN_USE;
    const char *reset = getenv("COTENANT_NVML_DOUBLE_MIG_RESET");
    pending_mode = mode;
    if (!(reset && !strcmp(reset, "1") && mode == 1 && cur_mode == 0)) cur_mode = mode;
    *activation = cur_mode == mode ? OK : 14; /* NVML_ERROR_RESET_REQUIRED */
    save();
    return OK;
}

int nvmlDeviceSetComputeMode(dev *d, int mode)
{
    if (!gpu0(d)) return NOT_SUPPORTED;
    char what[64];
    snprintf(what, sizeof what, "set_compute_mode %d", mode);
    int rc = change(what);
    if (rc) return rc;
    if (mode < 0 || mode > 3) return INVALID;
    compute_mode = mode;
    save();
    return OK;
}

typedef struct {
    dev *device;
    unsigned id, profile_id, start, size;
} giinfo_t;
typedef struct {
    dev *device;
    dgi *gi;
    unsigned id, profile_id, start, size;
} ciinfo_t;
typedef struct {
    unsigned start, size;
} place_t;

int nvmlDeviceGetGpuInstances(dev *d, unsigned profile_id, dgi **out, unsigned *count)
{
    if (!on || !gpu0(d) || cur_mode != 1) return NOT_SUPPORTED;
    if (gi_find(profile_id, 1) < 0) return INVALID;
    unsigned n = 0;
    for (int g = 0; g < MAX_GI; g++)
        if (gis[g].used && gis[g].profile_id == profile_id) out[n++] = &gis[g];
    *count = n;
    return OK;
}

int nvmlDeviceGetGpuInstanceById(dev *d, unsigned id, dgi **out)
{
    if (!on || !gpu0(d) || cur_mode != 1) return NOT_SUPPORTED;
    return (*out = gi_by_id(id)) ? OK : NOT_FOUND;
}

int nvmlGpuInstanceGetInfo(dgi *gi, giinfo_t *info)
{
    *info = (giinfo_t){&gpus[0], gi->id, gi->profile_id, gi->start, gi->size};
    return OK;
}

int nvmlDeviceCreateGpuInstanceWithPlacement(dev *d, unsigned profile_id, const place_t *pl, dgi **out)
{
    if (!on || !gpu0(d)) return NOT_SUPPORTED;
    char what[96];
    snprintf(what, sizeof what, "create_gi profile=%u placement=%u:%u", profile_id, pl->start, pl->size);
    int rc = change(what);
    if (rc) return rc;
    if (cur_mode != 1) return NOT_SUPPORTED;
    int p = gi_find(profile_id, 1);
    if (p < 0 || pl->size != gi_profiles[p].size) return INVALID;
    int allowed = 0, same = 0;
    for (unsigned k = 0; k < gi_profiles[p].nstarts; k++) allowed |= gi_profiles[p].starts[k] == pl->start;
    if (!allowed) return INVALID;
    unsigned slices = 0;
    for (int g = 0; g < MAX_GI; g++) {
        if (!gis[g].used) continue;
        if (pl->start < gis[g].start + gis[g].size && gis[g].start < pl->start + pl->size) return INSUFFICIENT;
        same += gis[g].profile_id == profile_id;
        int q = gi_find(gis[g].profile_id, 1);
        slices += q >= 0 ? gi_profiles[q].slices : 0;
    }
    if ((unsigned)same >= gi_profiles[p].instances || slices + gi_profiles[p].slices > 7) return INSUFFICIENT;
    unsigned id = 1;
    while (gi_by_id(id)) id++;
    for (int g = 0; g < MAX_GI; g++)
        if (!gis[g].used) {
            gis[g] = (dgi){1, id, profile_id, pl->start, pl->size, {{0}}};
            *out = &gis[g];
            save();
            return OK;
        }
    return INSUFFICIENT;
}

int nvmlGpuInstanceDestroy(dgi *gi)
{
    char what[64];
    snprintf(what, sizeof what, "destroy_gi %u", gi->id);
    int rc = change(what);
    if (rc) return rc;
    for (int c = 0; c < MAX_CI; c++)
        if (gi->cis[c].used) return IN_USE;
    gi->used = 0;
    save();
    return OK;
}

/* Compute-instance profiles by index: 1, 2, 3, 4 and 7 slices, as on an H100. */
static const unsigned ci_slices[] = {1, 2, 3, 4, 7};
typedef struct {
    unsigned version, id, slices, instances, sms, ce, dec, enc, jpeg, ofa;
    char name[96];
} ciprof_t;

static unsigned gi_slices(const dgi *gi)
{
    int p = gi_find(gi->profile_id, 1);
    return p >= 0 ? gi_profiles[p].slices : 0;
}

int nvmlGpuInstanceGetComputeInstanceProfileInfoV(dgi *gi, unsigned profile, unsigned eng, ciprof_t *info)
{
    if (info->version != ((unsigned)sizeof *info | (2u << 24))) return 25;
    if (eng != 0 || profile >= sizeof ci_slices / sizeof ci_slices[0] || ci_slices[profile] > gi_slices(gi))
        return NOT_SUPPORTED;
    info->id = profile, info->slices = ci_slices[profile], info->instances = gi_slices(gi) / ci_slices[profile];
    info->sms = 16 * ci_slices[profile];
    snprintf(info->name, sizeof info->name, "MIG %uc.%ug", ci_slices[profile], gi_slices(gi));
    return OK;
}

static int create_ci(dgi *gi, unsigned profile_id, const place_t *pl, dci **out)
{
    char what[96];
    if (pl) snprintf(what, sizeof what, "create_ci gi=%u profile=%u placement=%u:%u", gi->id, profile_id, pl->start, pl->size);
    else snprintf(what, sizeof what, "create_ci gi=%u profile=%u", gi->id, profile_id);
    int rc = change(what);
    if (rc) return rc;
    if (profile_id >= sizeof ci_slices / sizeof ci_slices[0] || ci_slices[profile_id] > gi_slices(gi)) return INVALID;
    unsigned used = 0, id = 0;
    for (int c = 0; c < MAX_CI; c++)
        if (gi->cis[c].used) used += gi->cis[c].size;
    if (used + ci_slices[profile_id] > gi_slices(gi)) return INSUFFICIENT;
    for (int again = 1; again;) {
        again = 0;
        for (int c = 0; c < MAX_CI; c++)
            if (gi->cis[c].used && gi->cis[c].id == id) id++, again = 1;
    }
    for (int c = 0; c < MAX_CI; c++)
        if (!gi->cis[c].used) {
            gi->cis[c] = (dci){1, id, profile_id, pl ? pl->start : used, ci_slices[profile_id], gi};
            *out = &gi->cis[c];
            save();
            return OK;
        }
    return INSUFFICIENT;
}

int nvmlGpuInstanceCreateComputeInstance(dgi *gi, unsigned profile_id, dci **out)
{
    return create_ci(gi, profile_id, NULL, out);
}

int nvmlGpuInstanceCreateComputeInstanceWithPlacement(dgi *gi, unsigned profile_id, const place_t *pl, dci **out)
{
    return create_ci(gi, profile_id, pl, out);
}

int nvmlGpuInstanceGetComputeInstances(dgi *gi, unsigned profile_id, dci **out, unsigned *count)
{
    unsigned n = 0;
    for (int c = 0; c < MAX_CI; c++)
        if (gi->cis[c].used && gi->cis[c].profile_id == profile_id) out[n++] = &gi->cis[c];
    *count = n;
    return OK;
}

int nvmlGpuInstanceGetComputeInstanceById(dgi *gi, unsigned id, dci **out)
{
    for (int c = 0; c < MAX_CI; c++)
        if (gi->cis[c].used && gi->cis[c].id == id) {
            *out = &gi->cis[c];
            return OK;
        }
    return NOT_FOUND;
}

int nvmlComputeInstanceGetInfo_v2(dci *ci, ciinfo_t *info)
{
    *info = (ciinfo_t){&gpus[0], ci->gi, ci->id, ci->profile_id, ci->start, ci->size};
    return OK;
}

int nvmlComputeInstanceDestroy(dci *ci)
{
    char what[64];
    snprintf(what, sizeof what, "destroy_ci gi=%u ci=%u", ci->gi->id, ci->id);
    int rc = change(what);
    if (rc) return rc;
    ci->used = 0;
    save();
    return OK;
}

/* MIG devices: one per compute instance, in GPU-instance order. */
int dmig_device_by_index(dev *d, unsigned i, dev **out)
{
    if (!gpu0(d) || cur_mode != 1) return NOT_FOUND;
    unsigned n = 0;
    for (int g = 0; g < MAX_GI; g++)
        for (int c = 0; g < MAX_GI && gis[g].used && c < MAX_CI; c++)
            if (gis[g].cis[c].used && n++ == i) {
                dev *m = &mig_devs[g * MAX_CI + c];
                *m = (dev){0, (int)gis[g].id, -1, (int)gis[g].cis[c].id};
                *out = m;
                return OK;
            }
    return NOT_FOUND;
}

int dmig_device_name(dev *d, char *out, unsigned cap)
{
    dgi *gi = gi_by_id((unsigned)d->mig_parent);
    int p = gi ? gi_find(gi->profile_id, 1) : -1;
    snprintf(out, cap, "%s", p >= 0 ? gi_profiles[p].name : "MIG ?");
    return OK;
}

int nvmlDeviceGetComputeInstanceId(dev *d, unsigned *id)
{
    if (d->mig_parent < 0) return NOT_SUPPORTED;
    *id = (unsigned)d->ci;
    return OK;
}
