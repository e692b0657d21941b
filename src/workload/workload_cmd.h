/* workload_cmd.h - what a workload's process is started with: its argv
 * (a built-in kind's program and fixed arguments, the addresses cotenant
 * gives a server and its load generator, then the workload's own args) and
 * its COTENANT_* environment. The local executor and the container
 * executors both build their commands here, so a workload runs the same
 * command wherever it runs. */
#ifndef COTENANT_WORKLOAD_CMD_H
#define COTENANT_WORKLOAD_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario/scenario.h"
#include "util/err.h"
#include "util/strvec.h"

typedef struct {
    int listen_port;          /* a server: the port it listens on; 0: none */
    int target_port;          /* a load generator: its server's port; 0: none */
    const char *target_model; /* the model its server serves */
    bool resolve;             /* find a built-in program next to cotenant or on PATH (local);
                                 false: its bare name, for an image that has it on PATH */
} workload_addr;

int workload_argv(const workload_spec *w, const workload_addr *a, strvec *argv, cot_err *err);
/* A server whose args give their own --listen [ADDR:]PORT keeps it: 1 with
 * the address (network order) and port, 0 when none is given, -1 when the
 * value does not parse (why says so). cotenant then waits on
 * 127.0.0.1:PORT and gives no --listen of its own. */
int workload_user_listen(const workload_spec *w, uint32_t *addr_be, int *port, char *why, size_t cap);

/* The workload's own env entries, then COTENANT_WORKLOAD, _MODE, _SEED and
 * (a load generator) _TARGET_URL/_MODEL; COTENANT_EVENTS_FD is the
 * starter's. 0, or -1 when out of memory. */
int workload_env(const scenario *sc, const workload_spec *w, const char *mode, int repeat, const workload_addr *a,
                 strvec *env);

/* COTENANT_SEGMENT of a workload run by a container executor: "RUN/SEGMENT",
 * which tells its GPU processes from any other run's (telemetry/env_owner.h). */
void workload_segment_tag(const char *run_id, const char *segment, char *out, size_t cap);

/* The seed a workload draws its random choices from in a given repeat. */
uint64_t workload_seed(uint64_t scenario_seed, int repeat);

#endif
