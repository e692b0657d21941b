/* gpu_sample.h - what the sampler reads from one GPU at one instant.
 *
 * Every figure is a double; NAN means "not available here" (the driver
 * lacks the call, the GPU does not support it, or NVML said no), so
 * writers print an empty field and nobody mistakes a missing figure for 0.
 * Times are CLOCK_MONOTONIC nanoseconds, like the event protocol's. */
#ifndef COTENANT_GPU_SAMPLE_H
#define COTENANT_GPU_SAMPLE_H

#include <stdint.h>

#define GPU_SAMPLE_MAX_PROCS 64
#define GPU_SAMPLE_MAX_MIG 8

typedef struct {
    unsigned pid;
    char name[64];          /* /proc/PID/comm, or "" where it cannot be read */
    double mem_used_mib;    /* device memory the process holds */
    double sm_util;         /* percent, from NVML's per-process samples */
    double mem_util;        /* percent of memory-controller time */
    int gpu_instance_id;    /* MIG instance, -1 without MIG */
    int mps_client;         /* 1: NVML lists it as an MPS client, 0: it does not, -1: unknown (no such call) */
    char workload[64];      /* the run's workload it belongs to; "" outside a run or not one of ours */
} gpu_proc_sample;

typedef struct {
    int gpu_instance_id;
    char profile[32];  /* "1g.10gb"; "" where unknown */
    double mem_used_mib, mem_total_mib;
    double sm_active; /* GPM, percent */
} gpu_mig_sample;

typedef struct {
    int64_t t_ns;
    int index;                 /* NVML index */
    double util_gpu, util_mem; /* percent */
    double mem_used_mib, mem_total_mib;
    double power_w;
    double energy_j;           /* the driver's counter since it loaded */
    double sm_clock_mhz, mem_clock_mhz;
    double temp_c;
    double throttle_reasons;   /* NVML's bitmask, as a number */
    /* GPM, between this sample and the previous one (Hopper and later) */
    double sm_active, sm_occupancy, tensor_active, dram_active; /* percent */
    double pcie_tx_mib_s, pcie_rx_mib_s;
    int nprocs;
    gpu_proc_sample procs[GPU_SAMPLE_MAX_PROCS];
    int nmig;
    gpu_mig_sample mig[GPU_SAMPLE_MAX_MIG];
} gpu_sample;

/* Sets every figure to NAN and every count to 0. */
void gpu_sample_clear(gpu_sample *s);

#endif
