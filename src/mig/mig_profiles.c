#include "mig/mig_profiles.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Every MIG GPU has the same seven shapes; only the memory in their names,
 * and the SMs a slice holds, differ. Starts are bit masks over the 8 memory
 * slices, as nvidia-smi mig -lgipp prints them. */
typedef struct {
    const char *suffix; /* appended to "<g>g.<mem>gb" */
    int compute, memory, starts, max, media;
} shape;

static const shape shapes[] = {
    {"", 1, 1, 0x7f, 7, 0},    /* 1g, one memory slice: {0,1,2,3,4,5,6}:1 */
    {"+me", 1, 1, 0x7f, 1, 1}, /* the same with the media engines */
    {"", 1, 2, 0x55, 4, 0},    /* 1g, two memory slices: {0,2,4,6}:2 */
    {"", 2, 2, 0x15, 3, 0},    /* {0,2,4}:2 */
    {"", 3, 4, 0x11, 2, 0},    /* {0,4}:4 */
    {"", 4, 4, 0x01, 1, 0},    /* {0}:4 */
    {"", 7, 8, 0x01, 1, 0},    /* {0}:8 */
};
#define NSHAPES (int)(sizeof shapes / sizeof shapes[0])

typedef struct {
    const char *model;
    double memory_gib;
    int sms;
    int sms_by_compute[8]; /* SMs of a g-slice instance, by g */
    int sms_1g_wide;       /* a 1g instance with two memory slices (Hopper's have more SMs) */
    int name_gb[9];        /* the memory in a profile's name, by memory slices */
    double gib[8];         /* by shape, as the driver reports them where known; 0: nominal */
    unsigned pci[MIG_MAX_PCI_IDS]; /* PCI device ids of its parts (0x2330 for 0x233010DE), 0-ended */
} gpu_spec;

static const gpu_spec specs[] = {
    /* the PCI ids: SXM and PCIe parts, and the A800/H800 of the same memory */
    {"A100-40GB", 40, 108, {0, 14, 28, 42, 56, 0, 0, 98}, 14, {0, 5, 10, 0, 20, 0, 0, 0, 40}, {0},
     {0x20B0, 0x20B1, 0x20F1, 0x20F6}},
    {"A100-80GB", 80, 108, {0, 14, 28, 42, 56, 0, 0, 98}, 14, {0, 10, 20, 0, 40, 0, 0, 0, 80}, {0},
     {0x20B2, 0x20B5, 0x20F3, 0x20F5}},
    /* nvidia-smi mig -lgip on an H100 80GB HBM3, driver 580, MIG disabled */
    {"H100-80GB", 80, 132, {0, 16, 32, 60, 64, 0, 0, 132}, 26, {0, 10, 20, 0, 40, 0, 0, 0, 80},
     {9.75, 9.75, 19.62, 19.62, 39.50, 39.50, 79.25}, {0x2330, 0x2331, 0x2322, 0x2324}},
    {"H100-94GB", 94, 132, {0, 16, 32, 60, 64, 0, 0, 132}, 26, {0, 12, 24, 0, 47, 0, 0, 0, 94}, {0}, {0x2321, 0x233A}},
    {"H200-141GB", 141, 132, {0, 16, 32, 60, 64, 0, 0, 132}, 26, {0, 18, 35, 0, 71, 0, 0, 0, 141}, {0},
     {0x2335, 0x233B}},
};
#define NGPUS (int)(sizeof specs / sizeof specs[0])

static mig_gpu gpus[NGPUS];
static pthread_once_t built = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (int i = 0; i < NGPUS; i++) {
        const gpu_spec *sp = &specs[i];
        mig_gpu *g = &gpus[i];
        snprintf(g->model, sizeof g->model, "%s", sp->model);
        g->sms = sp->sms, g->memory_gib = sp->memory_gib;
        g->compute_slices = MIG_COMPUTE_SLICES, g->memory_slices = MIG_MEMORY_SLICES;
        for (int k = 0; k < MIG_MAX_PCI_IDS && sp->pci[k]; k++) g->pci_ids[g->npci_ids++] = sp->pci[k];
        for (int k = 0; k < NSHAPES; k++) {
            const shape *sh = &shapes[k];
            mig_profile *p = &g->profiles[g->nprofiles++];
            snprintf(p->name, sizeof p->name, "%dg.%dgb%s", sh->compute, sp->name_gb[sh->memory], sh->suffix);
            p->compute_slices = sh->compute, p->memory_slices = sh->memory, p->starts = sh->starts;
            p->max_instances = sh->max, p->media = sh->media;
            p->sms = sh->compute == 1 && sh->memory == 2 ? sp->sms_1g_wide : sp->sms_by_compute[sh->compute];
            p->memory_gib = sp->gib[k] > 0 ? sp->gib[k] : sp->memory_gib * sh->memory / MIG_MEMORY_SLICES;
            p->nvml_id = -1;
        }
    }
}

static void build(void) { pthread_once(&built, build_tables); }

int mig_gpu_count(void) { return NGPUS; }

const mig_gpu *mig_gpu_at(int i)
{
    build();
    return i >= 0 && i < NGPUS ? &gpus[i] : NULL;
}

const mig_gpu *mig_gpu_by_model(const char *model)
{
    build();
    for (int i = 0; i < NGPUS; i++)
        if (!strcasecmp(gpus[i].model, model)) return &gpus[i];
    return NULL;
}

const mig_gpu *mig_gpu_by_device_name(const char *n)
{
    /* NVML's names: "NVIDIA A100-SXM4-40GB", "NVIDIA A100 80GB PCIe",
     * "NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe", "NVIDIA H100 NVL",
     * "NVIDIA H200", "NVIDIA H200 NVL" */
    if (strstr(n, "A100")) return mig_gpu_by_model(strstr(n, "80GB") ? "A100-80GB" : "A100-40GB");
    if (strstr(n, "H200")) return mig_gpu_by_model("H200-141GB");
    if (strstr(n, "H100")) return mig_gpu_by_model(strstr(n, "NVL") || strstr(n, "94GB") ? "H100-94GB" : "H100-80GB");
    return NULL;
}

bool mig_gpu_has_pci_id(const mig_gpu *g, unsigned id)
{
    if ((id & 0xffffu) == 0x10DEu) id >>= 16; /* as mig-parted writes them: 0x233010DE */
    for (int k = 0; k < g->npci_ids; k++)
        if (g->pci_ids[k] == id) return true;
    return false;
}

const char *mig_gpu_models(void) { return "A100-40GB, A100-80GB, H100-80GB, H100-94GB, H200-141GB"; }

const mig_profile *mig_profile_by_name(const mig_gpu *g, const char *name)
{
    if (!strncasecmp(name, "MIG ", 4)) name += 4;
    for (int i = 0; i < g->nprofiles; i++)
        if (!strcasecmp(g->profiles[i].name, name)) return &g->profiles[i];
    return NULL;
}

const char *mig_placements_text(const mig_profile *p, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "{");
    for (int k = 0, first = 1; k < MIG_MEMORY_SLICES && n < cap; k++)
        if (p->starts & (1 << k)) n += (size_t)snprintf(buf + n, cap - n, first ? "%d" : ",%d", k), first = 0;
    if (n < cap) snprintf(buf + n, cap - n, "}:%d", p->memory_slices);
    return buf;
}
