/* mps_clients.h - whether a workload under an MPS mode really ran as an MPS
 * client. A CUDA process that finds no MPS daemon (its pipe folder unset,
 * unshared, or not yet there) does not fail: it makes a context of its own
 * and is time-sliced against the MPS server, so its figures are time
 * slicing's under MPS's name. NVML tells the two apart: it lists MPS
 * clients apart from other compute processes (telemetry.csv's mps_client). */
#ifndef COTENANT_MPS_CLIENTS_H
#define COTENANT_MPS_CLIENTS_H

#include <stdint.h>

#include "analysis/telemetry_load.h"

typedef struct {
    int rows;    /* the workload's process rows in the interval whose MPS status NVML gave */
    int clients; /* of them, rows where it was an MPS client */
} mps_client_count;

/* Counts workload w's process rows in the ticks of [from_ns, to_ns]. */
mps_client_count mps_clients_of(const telem_series *s, int w, int64_t from_ns, int64_t to_ns);

#endif
