/* nvml_double.h - what the test double's two files share: its devices and
 * the H100-shaped MIG profile table. */
#ifndef NVML_DOUBLE_H
#define NVML_DOUBLE_H

typedef struct dev {
    int index;
    int mig_parent; /* -1, or the MIG instance's GPU instance id */
    int tick;       /* line index served now; -1 before the first sample */
    int ci;         /* a MIG device's compute instance id (stateful MIG) */
} dev;

extern dev gpus[];

typedef struct {
    unsigned index, id, slices, instances, sms;
    unsigned long long mem_mb;
    const char *name;
    unsigned starts[7], nstarts, size;
} gi_profile;
extern const gi_profile gi_profiles[];
extern const int gi_nprofiles;
/* A profile by the index NVML is asked for, or by its id on the device; -1
 * when there is none or COTENANT_NVML_DOUBLE_MIG_PROFILES is not 1. */
int gi_find(unsigned key, int by_id);

/* nvml_double_mig.c: the stateful MIG model (COTENANT_NVML_DOUBLE_MIG_STATE) */
void dmig_load(void);
int dmig_on(void);
int dmig_compute_mode(void);
int dmig_mode(dev *d, unsigned *cur, unsigned *pending);
int dmig_device_by_index(dev *d, unsigned i, dev **out);
int dmig_device_name(dev *d, char *out, unsigned cap);

#endif
