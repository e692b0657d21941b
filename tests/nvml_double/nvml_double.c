/* A test double of libnvidia-ml.so.1: the NVML calls cotenant makes, serving
 * scripted values, loaded through the same dlopen path (COTENANT_NVML_LIBRARY).
 *
 * COTENANT_NVML_DOUBLE_SCRIPT names a file with one line per sample:
 * space-separated key=value pairs (keys below; any left out keep the
 * previous line's value). Each nvmlDeviceGetMemoryInfo(_v2) call on a GPU,
 * the first call of every sample cotenant takes, moves that GPU to the next
 * line; after the last line the last one stays. procs=PID:MEM_MIB:SM:MEMUTIL,...
 * lists the processes on the GPU ("procs=" for none).
 * COTENANT_NVML_DOUBLE_GPUS (default 1), COTENANT_NVML_DOUBLE_GPM (default 1)
 * and COTENANT_NVML_DOUBLE_MIG (MIG instances on GPU 0, default 0) shape
 * the machine. COTENANT_NVML_DOUBLE_FAIL=init makes nvmlInit fail.
 *
 * For runs of real processes: COTENANT_NVML_DOUBLE_PROC_NAME=NAME:MEM_MIB:SM:MEMUTIL
 * puts every live process whose /proc/PID/comm starts with NAME on every
 * GPU, besides the scripted ones, or on GPU N alone with
 * COTENANT_NVML_DOUBLE_PROC_GPU=N; COTENANT_NVML_DOUBLE_LIVE_ENERGY=1 makes
 * the energy counter grow by the scripted power over real (monotonic) time.
 * nvmlDeviceGetMPSComputeRunningProcesses_v3 is Not Supported unless
 * COTENANT_NVML_DOUBLE_MPS_CLIENTS is set: then it lists the processes
 * whose comm starts with its value (none when it is empty).
 *
 * MIG changes: with COTENANT_NVML_DOUBLE_MIG_STATE=FILE, GPU 0's MIG mode,
 * GPU and compute instances and compute mode live in FILE, read at
 * nvmlInit and written after every change, so that one process's apply and
 * the next one's restore see the same GPU (COTENANT_NVML_DOUBLE_MIG_PROFILES=1
 * gives it H100 profiles). Every change is appended to
 * COTENANT_NVML_DOUBLE_LOG; COTENANT_NVML_DOUBLE_FAIL_AT=N makes the Nth
 * change of the process fail (Unknown Error), and
 * COTENANT_NVML_DOUBLE_MIG_RESET=1 makes enabling MIG wait for a GPU reset
 * (pending only), as on an A100. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvml_double.h"

#define MAX_LINES 4096
#define MAX_GPUS 8
#define MAX_PROCS 16

typedef struct {
    unsigned pid, sm, mem;
    unsigned long long mem_mib;
} dproc;

typedef struct {
    double util, memutil, mem_used_mib, mem_total_mib, power_mw, energy_mj, smclk, memclk, temp, throttle;
    double sm_active, occupancy, tensor, dram, pcie_tx, pcie_rx;
    int nprocs;
    dproc procs[MAX_PROCS];
} line_t;


static line_t lines[MAX_LINES];
static int nlines;
dev gpus[MAX_GPUS];
static dev migs[MAX_GPUS];
static int ngpus = 1, nmig, gpm = 1, loaded;

static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : def;
}

static void parse_procs(line_t *l, char *v)
{
    l->nprocs = 0;
    for (char *save = NULL, *tok = strtok_r(v, ",", &save); tok && l->nprocs < MAX_PROCS; tok = strtok_r(NULL, ",", &save)) {
        dproc *p = &l->procs[l->nprocs];
        if (sscanf(tok, "%u:%llu:%u:%u", &p->pid, &p->mem_mib, &p->sm, &p->mem) == 4) l->nprocs++;
    }
}

static void load(void)
{
    if (loaded) return;
    loaded = 1;
    ngpus = env_int("COTENANT_NVML_DOUBLE_GPUS", 1);
    if (ngpus < 0 || ngpus > MAX_GPUS) ngpus = 1;
    gpm = env_int("COTENANT_NVML_DOUBLE_GPM", 1);
    nmig = env_int("COTENANT_NVML_DOUBLE_MIG", 0);
    if (nmig < 0 || nmig > MAX_GPUS) nmig = 0;
    for (int i = 0; i < MAX_GPUS; i++) {
        gpus[i] = (dev){i, -1, -1, 0};
        migs[i] = (dev){0, i + 1, -1, 0};
    }
    line_t cur = {.util = 50, .memutil = 20, .mem_used_mib = 1024, .mem_total_mib = 81559, .power_mw = 200000,
                  .energy_mj = 1000000, .smclk = 1980, .memclk = 2619, .temp = 40, .throttle = 0, .sm_active = 40,
                  .occupancy = 30, .tensor = 20, .dram = 10, .pcie_tx = 5, .pcie_rx = 6};
    const char *path = getenv("COTENANT_NVML_DOUBLE_SCRIPT");
    FILE *f = path && *path ? fopen(path, "r") : NULL;
    char buf[4096];
    while (f && nlines < MAX_LINES && fgets(buf, sizeof buf, f)) {
        if (buf[0] == '#' || buf[0] == '\n') continue;
        for (char *save = NULL, *tok = strtok_r(buf, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
            char *eq = strchr(tok, '=');
            if (!eq) continue;
            *eq = 0;
            const char *k = tok;
            char *v = eq + 1;
            double x = atof(v);
            if (!strcmp(k, "procs")) parse_procs(&cur, v);
#define KEY(name) else if (!strcmp(k, #name)) cur.name = x;
            KEY(util) KEY(memutil) KEY(mem_used_mib) KEY(mem_total_mib) KEY(power_mw) KEY(energy_mj) KEY(smclk)
            KEY(memclk) KEY(temp) KEY(throttle) KEY(sm_active) KEY(occupancy) KEY(tensor) KEY(dram) KEY(pcie_tx)
            KEY(pcie_rx)
#undef KEY
        }
        lines[nlines++] = cur;
    }
    if (f) fclose(f);
    if (nlines == 0) lines[nlines++] = cur;
}

static const line_t *at(const dev *d)
{
    int t = d->tick < 0 ? 0 : d->tick;
    return &lines[t < nlines ? t : nlines - 1];
}

/* Whether a process's comm starts with prefix. */
static int comm_starts(unsigned pid, const char *prefix)
{
    char path[64], comm[64] = "";
    snprintf(path, sizeof path, "/proc/%u/comm", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    if (!fgets(comm, sizeof comm, f)) comm[0] = 0;
    fclose(f);
    return !strncmp(comm, prefix, strlen(prefix));
}

/* The scripted processes of d's line, plus the live ones PROC_NAME asks for. */
static void procs_now(const dev *d, line_t *out)
{
    *out = *at(d);
    const char *spec = getenv("COTENANT_NVML_DOUBLE_PROC_NAME");
    char name[64];
    dproc tmpl;
    if (!spec || sscanf(spec, "%63[^:]:%llu:%u:%u", name, &tmpl.mem_mib, &tmpl.sm, &tmpl.mem) != 4) return;
    const char *only = getenv("COTENANT_NVML_DOUBLE_PROC_GPU");
    if (only && *only && atoi(only) != d->index) return; /* a MIG device is on GPU 0 */
    DIR *dir = opendir("/proc");
    struct dirent *e;
    while (dir && (e = readdir(dir)) && out->nprocs < MAX_PROCS) {
        unsigned pid = (unsigned)atoi(e->d_name);
        if (!pid || !comm_starts(pid, name)) continue;
        tmpl.pid = pid;
        out->procs[out->nprocs++] = tmpl;
    }
    if (dir) closedir(dir);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the NVML calls ---- */

int nvmlInit_v2(void)
{
    load();
    dmig_load();
    const char *f = getenv("COTENANT_NVML_DOUBLE_FAIL");
    return f && !strcmp(f, "init") ? 9 /* NVML_ERROR_DRIVER_NOT_LOADED */ : 0;
}
int nvmlShutdown(void) { return 0; }
const char *nvmlErrorString(int rc)
{
    switch (rc) {
    case 0: return "Success";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 6: return "Not Found";
    case 7: return "Insufficient Size";
    case 9: return "Driver Not Loaded";
    default: return "Unknown Error";
    }
}
int nvmlDeviceGetCount_v2(unsigned *n)
{
    *n = (unsigned)ngpus;
    return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned i, dev **d)
{
    if (i >= (unsigned)ngpus) return 2;
    *d = &gpus[i];
    return 0;
}
int nvmlDeviceGetHandleByUUID(const char *uuid, dev **d)
{
    for (int i = 0; i < ngpus; i++) {
        char u[96];
        snprintf(u, sizeof u, "GPU-00000000-0000-0000-0000-%012d", i);
        if (!strcmp(uuid, u)) {
            *d = &gpus[i];
            return 0;
        }
    }
    return 6;
}
int nvmlDeviceGetName(dev *d, char *out, unsigned cap)
{
    if (d->mig_parent >= 0 && dmig_on()) return dmig_device_name(d, out, cap);
    const char *name = getenv("COTENANT_NVML_DOUBLE_NAME"); /* to stand in for a given model */
    snprintf(out, cap, "%s", d->mig_parent >= 0 ? "MIG 1g.10gb" : name ? name : "NVIDIA Test Double 80GB");
    return 0;
}
int nvmlDeviceGetUUID(dev *d, char *out, unsigned cap)
{
    if (d->mig_parent >= 0 && dmig_on()) {
        snprintf(out, cap, "MIG-00000000-0000-0000-%04d-%012d", d->mig_parent, d->ci);
        return 0;
    }
    snprintf(out, cap, "GPU-00000000-0000-0000-0000-%012d", d->index);
    return 0;
}
int nvmlDeviceGetIndex(dev *d, unsigned *i)
{
    *i = (unsigned)d->index;
    return 0;
}
typedef struct {
    unsigned long long total, free, used;
} mem_t;
int nvmlDeviceGetMemoryInfo(dev *d, mem_t *m)
{
    if (d->mig_parent < 0) d->tick++;
    const line_t *l = at(d->mig_parent >= 0 ? &gpus[0] : d);
    double used = l->mem_used_mib, total = l->mem_total_mib;
    if (d->mig_parent >= 0) used /= (nmig + 1), total /= 7;
    m->total = (unsigned long long)(total * 1048576);
    m->used = (unsigned long long)(used * 1048576) + (d->mig_parent < 0 ? 480ULL << 20 : 0);
    m->free = m->total - m->used;
    return 0;
}
/* v2 reports "used" without the driver's reserve, as nvidia-smi does; v1
 * counts the reserve (480 MiB here) as used. */
typedef struct {
    unsigned version;
    unsigned long long total, reserved, free, used;
} mem2_t;
int nvmlDeviceGetMemoryInfo_v2(dev *d, mem2_t *m)
{
    if (m->version != ((unsigned)sizeof(mem2_t) | (2u << 24))) return 2;
    mem_t v1;
    nvmlDeviceGetMemoryInfo(d, &v1);
    m->total = v1.total;
    m->reserved = d->mig_parent < 0 ? 480ULL << 20 : 0;
    m->used = v1.used - m->reserved;
    m->free = v1.free;
    return 0;
}
int nvmlDeviceGetComputeMode(dev *d, int *mode)
{
    (void)d;
    *mode = dmig_compute_mode();
    return 0;
}
/* nvmlPciInfo_t: a bus id per GPU index, an H100 SXM5's device id */
typedef struct {
    char bus_id_legacy[16];
    unsigned domain, bus, device, pci_device_id, pci_subsystem_id;
    char bus_id[32];
} pci_info;
int nvmlDeviceGetPciInfo_v3(dev *d, pci_info *p)
{
    memset(p, 0, sizeof *p);
    p->bus = 0x18 + (unsigned)d->index;
    p->pci_device_id = 0x233010DEu;
    snprintf(p->bus_id, sizeof p->bus_id, "00000000:%02X:00.0", p->bus);
    snprintf(p->bus_id_legacy, sizeof p->bus_id_legacy, "0000:%02X:00.0", p->bus);
    return 0;
}
int nvmlSystemGetDriverVersion(char *out, unsigned cap)
{
    snprintf(out, cap, "580.00.00-double");
    return 0;
}
int nvmlSystemGetCudaDriverVersion(int *v)
{
    *v = 13000;
    return 0;
}
typedef struct {
    unsigned gpu, memory;
} util_t;
int nvmlDeviceGetUtilizationRates(dev *d, util_t *u)
{
    u->gpu = (unsigned)at(d)->util;
    u->memory = (unsigned)at(d)->memutil;
    return 0;
}
int nvmlDeviceGetPowerUsage(dev *d, unsigned *mw)
{
    *mw = (unsigned)at(d)->power_mw;
    return 0;
}
int nvmlDeviceGetTotalEnergyConsumption(dev *d, unsigned long long *mj)
{
    static double last_s[MAX_GPUS], acc_mj[MAX_GPUS];
    const char *live = getenv("COTENANT_NVML_DOUBLE_LIVE_ENERGY");
    if (live && !strcmp(live, "1") && d->mig_parent < 0) {
        double now = mono_s();
        if (last_s[d->index] > 0) acc_mj[d->index] += at(d)->power_mw * (now - last_s[d->index]);
        last_s[d->index] = now;
    }
    *mj = (unsigned long long)(at(d)->energy_mj + (d->mig_parent < 0 ? acc_mj[d->index] : 0));
    return 0;
}
int nvmlDeviceGetClockInfo(dev *d, int type, unsigned *mhz)
{
    if (type != 1 && type != 2) return 2;
    *mhz = (unsigned)(type == 1 ? at(d)->smclk : at(d)->memclk);
    return 0;
}
int nvmlDeviceGetTemperature(dev *d, int sensor, unsigned *c)
{
    if (sensor != 0) return 2;
    *c = (unsigned)at(d)->temp;
    return 0;
}
int nvmlDeviceGetCurrentClocksEventReasons(dev *d, unsigned long long *r)
{
    *r = (unsigned long long)at(d)->throttle;
    return 0;
}
typedef struct {
    unsigned pid;
    unsigned long long used;
    unsigned gi, ci;
} pinfo_t;
int nvmlDeviceGetComputeRunningProcesses_v3(dev *d, unsigned *count, pinfo_t *out)
{
    line_t now;
    procs_now(d, &now);
    const line_t *l = &now;
    if (*count < (unsigned)l->nprocs) {
        *count = (unsigned)l->nprocs;
        return 7;
    }
    for (int k = 0; k < l->nprocs; k++)
        out[k] = (pinfo_t){l->procs[k].pid, l->procs[k].mem_mib * 1048576ULL, nmig ? 1u + (unsigned)k % (unsigned)nmig : 0, 0};
    *count = (unsigned)l->nprocs;
    return 0;
}
int nvmlDeviceGetMPSComputeRunningProcesses_v3(dev *d, unsigned *count, pinfo_t *out)
{
    const char *clients = getenv("COTENANT_NVML_DOUBLE_MPS_CLIENTS");
    if (!clients) return 3; /* NVML_ERROR_NOT_SUPPORTED */
    pinfo_t all[MAX_PROCS];
    unsigned n = MAX_PROCS, k = 0;
    int rc = nvmlDeviceGetComputeRunningProcesses_v3(d, &n, all);
    if (rc) return rc;
    for (unsigned i = 0; i < n; i++)
        if (*clients && comm_starts(all[i].pid, clients)) {
            if (k < *count) out[k] = all[i];
            k++;
        }
    rc = k > *count ? 7 : 0;
    *count = k;
    return rc;
}
typedef struct {
    unsigned pid;
    unsigned long long ts;
    unsigned sm, mem, enc, dec;
} putil_t;
/* One sample per process per line, stamped with the line's number, so
 * lastSeenTimeStamp filters as NVML's does. */
int nvmlDeviceGetProcessUtilization(dev *d, putil_t *out, unsigned *count, unsigned long long last_seen)
{
    line_t now;
    procs_now(d, &now);
    const line_t *l = &now;
    unsigned long long ts = 1000000ULL * (unsigned long long)(d->tick + 1);
    if (ts <= last_seen || l->nprocs == 0) return 6;
    if (!out || *count < (unsigned)l->nprocs) {
        *count = (unsigned)l->nprocs;
        return 7;
    }
    for (int k = 0; k < l->nprocs; k++) out[k] = (putil_t){l->procs[k].pid, ts, l->procs[k].sm, l->procs[k].mem, 0, 0};
    *count = (unsigned)l->nprocs;
    return 0;
}
int nvmlDeviceGetMigMode(dev *d, unsigned *cur, unsigned *pending)
{
    if (dmig_on()) return dmig_mode(d, cur, pending);
    *cur = *pending = d->index == 0 && d->mig_parent < 0 && nmig > 0;
    return 0;
}
int nvmlDeviceGetMaxMigDeviceCount(dev *d, unsigned *n)
{
    (void)d;
    *n = 7;
    return 0;
}
int nvmlDeviceGetMigDeviceHandleByIndex(dev *d, unsigned i, dev **out)
{
    if (dmig_on()) return dmig_device_by_index(d, i, out);
    if (d->index != 0 || i >= (unsigned)nmig) return 6;
    *out = &migs[i];
    return 0;
}
int nvmlDeviceGetGpuInstanceId(dev *d, unsigned *gi)
{
    if (d->mig_parent < 0) return 3;
    *gi = (unsigned)d->mig_parent;
    return 0;
}

/* MIG profiles shaped like an H100 80GB's (the placements nvidia-smi mig
 * -lgipp lists), with COTENANT_NVML_DOUBLE_MIG_PROFILES=1; else the GPU has
 * none. Memory sizes in MiB as a driver gives them, unlike the built-in
 * table's nominal ones, so a test can tell where a figure came from. */
typedef struct {
    unsigned version, id, p2p, slices, instances, sms, ce, dec, enc, jpeg, ofa;
    unsigned long long mem_mb;
    char name[96];
} giinfo_t;
/* index: what nvmlDeviceGetGpuInstanceProfileInfoV is asked for
 * (NVML_GPU_INSTANCE_PROFILE_1_SLICE = 0 ...); id: the profile's id on the
 * device, which the placements call takes (as on an H100: 19, 14, 9, ...). */
const gi_profile gi_profiles[] = {
    {0, 19, 1, 7, 16, 9984, "MIG 1g.10gb", {0, 1, 2, 3, 4, 5, 6}, 7, 1},
    {1, 14, 2, 3, 32, 20096, "MIG 2g.20gb", {0, 2, 4}, 3, 2},
    {2, 9, 3, 2, 60, 40448, "MIG 3g.40gb", {0, 4}, 2, 4},
    {3, 5, 4, 1, 64, 40448, "MIG 4g.40gb", {0}, 1, 4},
    {4, 0, 7, 1, 132, 81152, "MIG 7g.80gb", {0}, 1, 8},
    {7, 20, 1, 1, 16, 9984, "MIG 1g.10gb+me", {0, 1, 2, 3, 4, 5, 6}, 7, 1},
    {9, 15, 1, 4, 26, 20096, "MIG 1g.20gb", {0, 2, 4, 6}, 4, 2},
};
int gi_find(unsigned key, int by_id)
{
    const char *on = getenv("COTENANT_NVML_DOUBLE_MIG_PROFILES");
    if (!on || strcmp(on, "1")) return -1;
    for (int i = 0; i < gi_nprofiles; i++)
        if ((by_id ? gi_profiles[i].id : gi_profiles[i].index) == key) return i;
    return -1;
}
const int gi_nprofiles = (int)(sizeof gi_profiles / sizeof gi_profiles[0]);
int nvmlDeviceGetGpuInstanceProfileInfoV(dev *d, unsigned index, giinfo_t *info)
{
    (void)d;
    int i = gi_find(index, 0);
    if (i < 0) return 3; /* NVML_ERROR_NOT_SUPPORTED */
    if (info->version != ((unsigned)sizeof *info | (2u << 24))) return 25; /* NVML_ERROR_ARGUMENT_VERSION_MISMATCH */
    info->id = gi_profiles[i].id, info->slices = gi_profiles[i].slices, info->instances = gi_profiles[i].instances;
    info->sms = gi_profiles[i].sms, info->mem_mb = gi_profiles[i].mem_mb;
    snprintf(info->name, sizeof info->name, "%s", gi_profiles[i].name);
    return 0;
}
typedef struct {
    unsigned start, size;
} giplace_t;
int nvmlDeviceGetGpuInstancePossiblePlacements_v2(dev *d, unsigned id, giplace_t *out, unsigned *count)
{
    (void)d;
    int i = gi_find(id, 1);
    if (i < 0) return 2; /* NVML_ERROR_INVALID_ARGUMENT, as a driver answers an index given for an id */
    if (*count < gi_profiles[i].nstarts) return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
    for (unsigned k = 0; k < gi_profiles[i].nstarts; k++) out[k].start = gi_profiles[i].starts[k], out[k].size = gi_profiles[i].size;
    *count = gi_profiles[i].nstarts;
    return 0;
}

/* GPM: a sample remembers the line its GPU served when it was taken. */
typedef struct {
    int line;
    int mig; /* GPU instance id, 0 for the whole GPU */
} gsample;
typedef struct {
    unsigned version, supported;
} gsupport_t;
int nvmlGpmQueryDeviceSupport(dev *d, gsupport_t *s)
{
    (void)d;
    if (s->version != 1) return 2;
    s->supported = (unsigned)gpm;
    return 0;
}
int nvmlGpmSampleAlloc(gsample **s)
{
    *s = calloc(1, sizeof **s);
    return *s ? 0 : 2;
}
int nvmlGpmSampleFree(gsample *s)
{
    free(s);
    return 0;
}
int nvmlGpmSampleGet(dev *d, gsample *s)
{
    if (!gpm) return 3;
    s->line = d->tick;
    s->mig = 0;
    return 0;
}
int nvmlGpmMigSampleGet(dev *d, unsigned gi, gsample *s)
{
    if (!gpm) return 3;
    s->line = d->tick;
    s->mig = (int)gi;
    return 0;
}
typedef struct {
    unsigned id;
    int ret;
    double value;
    char *a, *b, *c;
} gmetric_t;
typedef struct {
    unsigned version, num;
    gsample *s1, *s2;
    gmetric_t m[333];
} gget_t;
int nvmlGpmMetricsGet(gget_t *g)
{
    if (g->version != 1 || !g->s1 || !g->s2) return 2;
    dev tmp = {0, -1, g->s2->line, 0};
    const line_t *l = at(&tmp);
    for (unsigned k = 0; k < g->num; k++) {
        gmetric_t *m = &g->m[k];
        m->ret = 0;
        switch (m->id) {
        case 2: m->value = g->s2->mig ? l->sm_active / 2 : l->sm_active; break;
        case 3: m->value = l->occupancy; break;
        case 5: m->value = l->tensor; break;
        case 10: m->value = l->dram; break;
        case 20: m->value = l->pcie_tx; break;
        case 21: m->value = l->pcie_rx; break;
        default: m->ret = 3;
        }
    }
    return 0;
}
