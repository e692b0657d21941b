#include "telemetry/gpu_reader.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/nvml.h"
#include "util/timeutil.h"

/* Process lists larger than this are read, then cut to GPU_SAMPLE_MAX_PROCS. */
#define PROC_BUF 256
static const unsigned gpm_ids[] = {NVML_GPM_SM_UTIL,      NVML_GPM_SM_OCCUPANCY,    NVML_GPM_ANY_TENSOR_UTIL,
                                   NVML_GPM_DRAM_BW_UTIL, NVML_GPM_PCIE_TX_PER_SEC, NVML_GPM_PCIE_RX_PER_SEC};
#define NGPM (sizeof gpm_ids / sizeof gpm_ids[0])

typedef struct {
    unsigned pid;
    double sm, mem;
} proc_util;

typedef struct {
    nvml_device dev;
    int gi;                     /* GPU instance id */
    nvml_gpm_sample gpm[2];     /* previous and current */
    int gpm_have;               /* samples taken so far, up to 2 */
    char profile[32];           /* "1g.10gb", from the MIG device's name */
} mig_state;

typedef struct {
    nvml_device dev;
    int index;
    char name[96], uuid[96], pci_bus_id[32];
    bool gpm;
    nvml_gpm_sample gpm_sample[2];
    int gpm_cur, gpm_have;
    unsigned long long util_seen_us;
    proc_util util[PROC_BUF];
    int nutil;
    int nmig;
    mig_state mig[GPU_SAMPLE_MAX_MIG];
    int64_t energy_read_ns, util_read_ns; /* when last read; 0 never */
    double energy_j;                      /* the last reading plus power integrated since */
    int64_t last_t_ns;
    double last_power_w;
} gpu_state;

struct gpu_reader {
    const nvml_api *nvml;
    char driver_version[80];
    int64_t energy_every_ns, util_every_ns;
    int n;
    gpu_state g[GPU_READER_MAX_GPUS];
    nvml_gpm_metrics_get *metrics; /* 13 KB: one, reused */
    nvml_process_info procs[PROC_BUF], mps_procs[PROC_BUF];
    nvml_process_util putil[PROC_BUF];
};

void gpu_sample_clear(gpu_sample *s)
{
    memset(s, 0, sizeof *s);
    s->util_gpu = s->util_mem = s->mem_used_mib = s->mem_total_mib = NAN;
    s->power_w = s->energy_j = s->sm_clock_mhz = s->mem_clock_mhz = s->temp_c = NAN;
    s->throttle_reasons = NAN;
    s->sm_active = s->sm_occupancy = s->tensor_active = s->dram_active = NAN;
    s->pcie_tx_mib_s = s->pcie_rx_mib_s = NAN;
}

static void setup_mig(gpu_reader *r, gpu_state *g)
{
    const nvml_api *n = r->nvml;
    unsigned cur = 0, pending = 0, max = 0;
    if (!n->mig_mode || !n->max_mig_devices || !n->mig_device_by_index) return;
    if (n->mig_mode(g->dev, &cur, &pending) != NVML_SUCCESS || cur != 1) return;
    if (n->max_mig_devices(g->dev, &max) != NVML_SUCCESS) return;
    for (unsigned k = 0; k < max && g->nmig < GPU_SAMPLE_MAX_MIG; k++) {
        mig_state *m = &g->mig[g->nmig];
        memset(m, 0, sizeof *m);
        if (n->mig_device_by_index(g->dev, k, &m->dev) != NVML_SUCCESS) continue;
        unsigned gi = 0;
        m->gi = n->gpu_instance_id && n->gpu_instance_id(m->dev, &gi) == NVML_SUCCESS ? (int)gi : -1;
        /* a MIG device's name ends in its profile: "NVIDIA H100 80GB HBM3 MIG 1g.10gb" */
        char mname[96] = "";
        const char *at = n->device_name(m->dev, mname, sizeof mname) == NVML_SUCCESS ? strstr(mname, "MIG ") : NULL;
        snprintf(m->profile, sizeof m->profile, "%s", at ? at + 4 : "");
        if (g->gpm && m->gi >= 0 && n->gpm_mig_sample_get &&
            (n->gpm_sample_alloc(&m->gpm[0]) != NVML_SUCCESS || n->gpm_sample_alloc(&m->gpm[1]) != NVML_SUCCESS))
            m->gpm[0] = m->gpm[1] = NULL;
        g->nmig++;
    }
}

static int open_one(gpu_reader *r, nvml_device dev, cot_err *err)
{
    const nvml_api *n = r->nvml;
    if (r->n == GPU_READER_MAX_GPUS) return cot_errf(err, "more than %d GPUs asked for", GPU_READER_MAX_GPUS);
    for (int i = 0; i < r->n; i++)
        if (r->g[i].dev == dev) return 0; /* named twice */
    gpu_state *g = &r->g[r->n];
    memset(g, 0, sizeof *g);
    g->dev = dev;
    unsigned idx = 0;
    int rc = n->device_index(dev, &idx);
    if (rc != NVML_SUCCESS) return nvml_fail(err, "nvmlDeviceGetIndex", rc);
    g->index = (int)idx;
    if (n->device_name(dev, g->name, sizeof g->name) != NVML_SUCCESS) snprintf(g->name, sizeof g->name, "GPU %u", idx);
    if (n->device_uuid(dev, g->uuid, sizeof g->uuid) != NVML_SUCCESS) g->uuid[0] = 0;
    nvml_pci_info pci;
    memset(&pci, 0, sizeof pci);
    if (n->pci_info && n->pci_info(dev, &pci) == NVML_SUCCESS) snprintf(g->pci_bus_id, sizeof g->pci_bus_id, "%s", pci.bus_id);
    nvml_gpm_support sup = {.version = 1};
    if (n->gpm_query_support && n->gpm_sample_alloc && n->gpm_sample_get && n->gpm_metrics_get && n->gpm_sample_free &&
        n->gpm_query_support(dev, &sup) == NVML_SUCCESS && sup.is_supported_device &&
        n->gpm_sample_alloc(&g->gpm_sample[0]) == NVML_SUCCESS && n->gpm_sample_alloc(&g->gpm_sample[1]) == NVML_SUCCESS)
        g->gpm = true;
    r->n++;
    setup_mig(r, g);
    return 0;
}

gpu_reader *gpu_reader_open(const char *gpus, cot_err *err)
{
    const nvml_api *n = nvml_get(err);
    if (!n) return NULL;
    gpu_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->metrics = calloc(1, sizeof *r->metrics))) {
        free(r);
        cot_errf(err, "out of memory for the GPU reader");
        return NULL;
    }
    r->nvml = n;
    if (!n->driver_version || n->driver_version(r->driver_version, sizeof r->driver_version) != NVML_SUCCESS)
        r->driver_version[0] = 0;
    r->energy_every_ns = GPU_READER_ENERGY_EVERY_NS;
    r->util_every_ns = GPU_READER_PROC_UTIL_EVERY_NS;
    unsigned count = 0;
    int rc = n->device_count(&count);
    if (rc != NVML_SUCCESS) {
        nvml_fail(err, "nvmlDeviceGetCount_v2", rc);
        goto fail;
    }
    if (!gpus || !strcmp(gpus, "all")) {
        if (count == 0) {
            cot_errf(err, "NVML sees no GPU on this machine");
            goto fail;
        }
        for (unsigned i = 0; i < count && i < GPU_READER_MAX_GPUS; i++) {
            nvml_device d;
            rc = n->device_by_index(i, &d);
            if (rc != NVML_SUCCESS) {
                nvml_fail(err, "nvmlDeviceGetHandleByIndex_v2", rc);
                goto fail;
            }
            if (open_one(r, d, err)) goto fail;
        }
        return r;
    }
    char list[512];
    if (strlen(gpus) >= sizeof list) {
        cot_errf(err, "--gpu '%.40s...' is too long", gpus);
        goto fail;
    }
    strcpy(list, gpus);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        nvml_device d;
        char *end;
        long idx = strtol(tok, &end, 10);
        if (end != tok && !*end) {
            if (idx < 0 || (unsigned long)idx >= count) {
                cot_errf(err, "GPU %ld does not exist: NVML sees %u GPU%s (0 to %u)", idx, count, count == 1 ? "" : "s",
                         count ? count - 1 : 0);
                goto fail;
            }
            rc = n->device_by_index((unsigned)idx, &d);
            if (rc != NVML_SUCCESS) {
                nvml_fail(err, "nvmlDeviceGetHandleByIndex_v2", rc);
                goto fail;
            }
        } else {
            rc = n->device_by_uuid(tok, &d);
            if (rc != NVML_SUCCESS) {
                nvml_fail(err, "nvmlDeviceGetHandleByUUID", rc);
                cot_err_prefix(err, "GPU '%s' is neither an index nor a UUID NVML knows", tok);
                goto fail;
            }
        }
        if (open_one(r, d, err)) goto fail;
    }
    if (r->n == 0) {
        cot_errf(err, "--gpu '%s' names no GPU", gpus);
        goto fail;
    }
    return r;
fail:
    gpu_reader_close(r);
    return NULL;
}

void gpu_reader_close(gpu_reader *r)
{
    if (!r) return;
    for (int i = 0; i < r->n; i++) {
        gpu_state *g = &r->g[i];
        for (int k = 0; k < 2; k++) {
            if (g->gpm_sample[k]) r->nvml->gpm_sample_free(g->gpm_sample[k]);
            for (int m = 0; m < g->nmig; m++)
                if (g->mig[m].gpm[k]) r->nvml->gpm_sample_free(g->mig[m].gpm[k]);
        }
    }
    free(r->metrics);
    free(r);
}

void gpu_reader_set_costly_intervals(gpu_reader *r, int64_t energy_ns, int64_t proc_util_ns)
{
    r->energy_every_ns = energy_ns;
    r->util_every_ns = proc_util_ns;
}

int gpu_reader_count(const gpu_reader *r) { return r->n; }
const char *gpu_reader_name(const gpu_reader *r, int i) { return r->g[i].name; }
const char *gpu_reader_uuid(const gpu_reader *r, int i) { return r->g[i].uuid; }
const char *gpu_reader_pci_bus_id(const gpu_reader *r, int i) { return r->g[i].pci_bus_id; }
const char *gpu_reader_driver_version(const gpu_reader *r) { return r->driver_version; }
int gpu_reader_index(const gpu_reader *r, int i) { return r->g[i].index; }
bool gpu_reader_has_gpm(const gpu_reader *r, int i) { return r->g[i].gpm; }

static void proc_name(unsigned pid, char *out, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%u/comm", pid);
    out[0] = 0;
    FILE *f = fopen(path, "re");
    if (!f) return;
    if (fgets(out, (int)cap, f)) out[strcspn(out, "\n")] = 0;
    fclose(f);
}

/* GPM metrics between samples a and b into vals[NGPM]; false where NVML
 * gave none. */
static bool gpm_metrics(gpu_reader *r, nvml_gpm_sample a, nvml_gpm_sample b, double *vals)
{
    nvml_gpm_metrics_get *m = r->metrics;
    m->version = 1;
    m->num_metrics = NGPM;
    m->sample1 = a;
    m->sample2 = b;
    for (size_t k = 0; k < NGPM; k++) {
        memset(&m->metrics[k], 0, sizeof m->metrics[k]);
        m->metrics[k].metric_id = gpm_ids[k];
    }
    if (r->nvml->gpm_metrics_get(m) != NVML_SUCCESS) return false;
    for (size_t k = 0; k < NGPM; k++) vals[k] = m->metrics[k].nvml_return == NVML_SUCCESS ? m->metrics[k].value : NAN;
    return true;
}

static void read_gpm(gpu_reader *r, gpu_state *g, gpu_sample *s)
{
    int next = g->gpm_cur ^ 1;
    if (r->nvml->gpm_sample_get(g->dev, g->gpm_sample[next]) != NVML_SUCCESS) return;
    double v[NGPM];
    if (g->gpm_have && gpm_metrics(r, g->gpm_sample[g->gpm_cur], g->gpm_sample[next], v)) {
        s->sm_active = v[0], s->sm_occupancy = v[1], s->tensor_active = v[2], s->dram_active = v[3];
        s->pcie_tx_mib_s = v[4], s->pcie_rx_mib_s = v[5];
    }
    g->gpm_cur = next;
    g->gpm_have = 1;
}

static void read_mig(gpu_reader *r, gpu_state *g, gpu_sample *s)
{
    const nvml_api *n = r->nvml;
    for (int k = 0; k < g->nmig; k++) {
        mig_state *m = &g->mig[k];
        gpu_mig_sample *o = &s->mig[s->nmig++];
        o->gpu_instance_id = m->gi;
        snprintf(o->profile, sizeof o->profile, "%s", m->profile);
        o->mem_used_mib = o->mem_total_mib = o->sm_active = NAN;
        nvml_memory mem;
        if (n->device_memory(m->dev, &mem) == NVML_SUCCESS) {
            o->mem_used_mib = mem.used / 1048576.0;
            o->mem_total_mib = mem.total / 1048576.0;
        }
        if (m->gpm[0] && n->gpm_mig_sample_get(g->dev, (unsigned)m->gi, m->gpm[1]) == NVML_SUCCESS) {
            double v[NGPM];
            if (m->gpm_have && gpm_metrics(r, m->gpm[0], m->gpm[1], v)) o->sm_active = v[0];
            nvml_gpm_sample t = m->gpm[0];
            m->gpm[0] = m->gpm[1], m->gpm[1] = t;
            m->gpm_have = 1;
        }
    }
}

/* NVML hands out per-process utilisation samples taken since a timestamp;
 * each process keeps its last figures until a newer sample comes. */
static void refresh_process_util(gpu_reader *r, gpu_state *g, int64_t now)
{
    if (!r->nvml->process_utilization) return;
    if (g->util_read_ns && now - g->util_read_ns < r->util_every_ns) return;
    g->util_read_ns = now;
    unsigned cnt = PROC_BUF;
    if (r->nvml->process_utilization(g->dev, r->putil, &cnt, g->util_seen_us) != NVML_SUCCESS) return;
    for (unsigned k = 0; k < cnt && k < PROC_BUF; k++) {
        const nvml_process_util *u = &r->putil[k];
        if (u->timestamp_us > g->util_seen_us) g->util_seen_us = u->timestamp_us;
        int j = 0;
        while (j < g->nutil && g->util[j].pid != u->pid) j++;
        if (j == g->nutil) {
            if (g->nutil == PROC_BUF) continue;
            g->nutil++;
        }
        g->util[j] = (proc_util){u->pid, u->sm_util, u->mem_util};
    }
}

/* NVML may list one process more than once in a call (a process holding
 * several contexts, or one caught in both lists as it starts): one row per
 * process and GPU instance, so no figure counts it twice. Its memory is the
 * largest entry's, since every entry reports the process's whole use. */
static bool merge_repeat(gpu_sample *s, const nvml_process_info *p, int gi)
{
    for (int j = 0; j < s->nprocs; j++) {
        gpu_proc_sample *o = &s->procs[j];
        if (o->pid != p->pid || o->gpu_instance_id != gi) continue;
        double mib = p->used_gpu_memory == ~0ULL ? NAN : p->used_gpu_memory / 1048576.0;
        if (isfinite(mib) && !(mib <= o->mem_used_mib)) o->mem_used_mib = mib;
        return true;
    }
    return false;
}

static void read_processes(gpu_reader *r, gpu_state *g, gpu_sample *s, int64_t now)
{
    if (!r->nvml->compute_processes) return;
    unsigned cnt = PROC_BUF;
    if (r->nvml->compute_processes(g->dev, &cnt, r->procs) != NVML_SUCCESS) return;
    if (cnt > PROC_BUF) cnt = PROC_BUF;
    refresh_process_util(r, g, now);
    /* which of them are MPS clients: a process under an MPS mode that is
     * not one found no daemon and ran with a context of its own */
    unsigned nmps = PROC_BUF;
    bool mps_known = r->nvml->mps_processes && r->nvml->mps_processes(g->dev, &nmps, r->mps_procs) == NVML_SUCCESS;
    if (nmps > PROC_BUF) nmps = PROC_BUF;
    /* forget processes that have left the GPU */
    int keep = 0;
    for (int j = 0; j < g->nutil; j++) {
        bool running = false;
        for (unsigned k = 0; k < cnt && !running; k++) running = r->procs[k].pid == g->util[j].pid;
        if (running) g->util[keep++] = g->util[j];
    }
    g->nutil = keep;
    for (unsigned k = 0; k < cnt && s->nprocs < GPU_SAMPLE_MAX_PROCS; k++) {
        const nvml_process_info *p = &r->procs[k];
        int gi = g->nmig ? (int)p->gpu_instance_id : -1;
        if (merge_repeat(s, p, gi)) continue;
        gpu_proc_sample *o = &s->procs[s->nprocs++];
        o->pid = p->pid;
        proc_name(p->pid, o->name, sizeof o->name);
        o->workload[0] = '\0';
        /* NVML's "not available" is all ones */
        o->mem_used_mib = p->used_gpu_memory == ~0ULL ? NAN : p->used_gpu_memory / 1048576.0;
        o->gpu_instance_id = gi;
        o->mps_client = mps_known ? 0 : -1;
        for (unsigned j = 0; mps_known && j < nmps; j++)
            if (r->mps_procs[j].pid == p->pid) o->mps_client = 1;
        o->sm_util = o->mem_util = NAN;
        for (int j = 0; j < g->nutil; j++)
            if (g->util[j].pid == p->pid) o->sm_util = g->util[j].sm, o->mem_util = g->util[j].mem;
    }
}

/* The driver's energy counter, read at most every energy_every_ns; in
 * between, the last reading plus the power samples integrated (trapezoids). */
static void read_energy(gpu_reader *r, gpu_state *g, gpu_sample *s)
{
    unsigned long long mj;
    bool due = !g->energy_read_ns || s->t_ns - g->energy_read_ns >= r->energy_every_ns;
    if (due && r->nvml->total_energy && r->nvml->total_energy(g->dev, &mj) == NVML_SUCCESS) {
        g->energy_j = mj / 1000.0;
        g->energy_read_ns = s->t_ns;
    } else if (g->energy_read_ns && isfinite(s->power_w) && isfinite(g->last_power_w)) {
        g->energy_j += (g->last_power_w + s->power_w) / 2 * ((s->t_ns - g->last_t_ns) / 1e9);
    }
    if (g->energy_read_ns) s->energy_j = g->energy_j;
    g->last_t_ns = s->t_ns;
    g->last_power_w = s->power_w;
}

int gpu_reader_read(gpu_reader *r, int i, gpu_sample *s, cot_err *err)
{
    const nvml_api *n = r->nvml;
    gpu_state *g = &r->g[i];
    gpu_sample_clear(s);
    s->t_ns = now_ns();
    s->index = g->index;
    nvml_memory_v2 m2 = {.version = NVML_MEMORY_V2_VERSION};
    if (n->device_memory_v2 && n->device_memory_v2(g->dev, &m2) == NVML_SUCCESS) {
        s->mem_used_mib = m2.used / 1048576.0;
        s->mem_total_mib = m2.total / 1048576.0;
    } else {
        nvml_memory mem;
        int rc = n->device_memory(g->dev, &mem);
        if (rc != NVML_SUCCESS) return nvml_fail(err, "nvmlDeviceGetMemoryInfo", rc);
        s->mem_used_mib = mem.used / 1048576.0;
        s->mem_total_mib = mem.total / 1048576.0;
    }
    nvml_utilization u;
    if (n->utilization && n->utilization(g->dev, &u) == NVML_SUCCESS) s->util_gpu = u.gpu, s->util_mem = u.memory;
    unsigned v;
    unsigned long long ull;
    if (n->power_usage && n->power_usage(g->dev, &v) == NVML_SUCCESS) s->power_w = v / 1000.0;
    read_energy(r, g, s);
    if (n->clock_info && n->clock_info(g->dev, NVML_CLOCK_SM, &v) == NVML_SUCCESS) s->sm_clock_mhz = v;
    if (n->clock_info && n->clock_info(g->dev, NVML_CLOCK_MEM, &v) == NVML_SUCCESS) s->mem_clock_mhz = v;
    if (n->temperature && n->temperature(g->dev, NVML_TEMPERATURE_GPU, &v) == NVML_SUCCESS) s->temp_c = v;
    if (n->clocks_event_reasons && n->clocks_event_reasons(g->dev, &ull) == NVML_SUCCESS) s->throttle_reasons = (double)ull;
    if (g->gpm) read_gpm(r, g, s);
    read_processes(r, g, s, s->t_ns);
    read_mig(r, g, s);
    return 0;
}
