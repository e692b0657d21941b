/* mig_profiles.h - the MIG GPU-instance profiles of the GPUs that have MIG,
 * as built-in tables, so that layouts can be planned away from the GPU.
 *
 * A GPU with MIG has 7 compute slices and 8 memory slices. A profile takes
 * some of each; where an instance of it may go is given, as nvidia-smi mig
 * -lgipp prints it, by the memory slices it may start at and how many it
 * covers ("{0,2,4}:2"). Memory sizes are nominal (the name's fraction of
 * the card) except the H100 80GB's, which are as its driver reports them;
 * a GPU's own answers through NVML are exact. */
#ifndef COTENANT_MIG_PROFILES_H
#define COTENANT_MIG_PROFILES_H

#include <stdbool.h>
#include <stddef.h>

#define MIG_COMPUTE_SLICES 7
#define MIG_MEMORY_SLICES 8
#define MIG_MAX_PROFILES 12
#define MIG_NAME_MAX 32
#define MIG_MAX_PCI_IDS 8

typedef struct {
    char name[MIG_NAME_MAX]; /* "3g.40gb", "1g.10gb+me" */
    int compute_slices;      /* the "3" of 3g */
    int memory_slices;       /* how many of the 8 an instance covers */
    int starts;              /* bit k: an instance may start at memory slice k */
    int max_instances;       /* of this profile at once */
    int sms;                 /* streaming multiprocessors */
    double memory_gib;       /* nominal */
    int media;               /* +me: the media engines; one such instance a GPU */
    int nvml_id;             /* the profile's id on the device, as NVML gave it; -1 from a built-in table */
} mig_profile;

typedef struct {
    char model[MIG_NAME_MAX];  /* "H100-80GB" */
    int sms;                   /* of the whole GPU, MIG off (the SXM part's) */
    int compute_slices;        /* 7 on every GPU here; an A30 has 4 */
    int memory_slices;         /* 8; an A30 has 4 */
    double memory_gib;
    int nprofiles;
    mig_profile profiles[MIG_MAX_PROFILES];
    /* the PCI device ids of the parts it stands for (0x2330: H100 SXM5 80GB),
     * which mig-parted's device-filter names */
    unsigned pci_ids[MIG_MAX_PCI_IDS];
    int npci_ids;
} mig_gpu;

/* The built-in tables: A100-40GB, A100-80GB, H100-80GB, H100-94GB, H200-141GB. */
int mig_gpu_count(void);
const mig_gpu *mig_gpu_at(int i);
/* By model name (case-insensitive), or NULL. */
const mig_gpu *mig_gpu_by_model(const char *model);
/* By NVML's device name ("NVIDIA H100 80GB HBM3"), or NULL for a GPU without MIG or unknown. */
const mig_gpu *mig_gpu_by_device_name(const char *device_name);
/* Does g stand for the part with this PCI device id (0x2330 or 0x233010DE)? */
bool mig_gpu_has_pci_id(const mig_gpu *g, unsigned id);
/* "A100-40GB, A100-80GB, ...": for usage and errors. */
const char *mig_gpu_models(void);

/* A profile by name; "MIG 3g.40gb" and "3g.40gb" both match. NULL if the GPU has none. */
const mig_profile *mig_profile_by_name(const mig_gpu *g, const char *name);
/* "{0,2,4}:2" into buf. */
const char *mig_placements_text(const mig_profile *p, char *buf, size_t cap);

#endif
