/* served.h - a server and the load generator that drives it, inside a
 * segment: cotenant picks the server's port, starts it first, waits until
 * its /v2/health/ready answers 200, and then points the load generator at it
 * (--url and --model for the built-in loadgen; COTENANT_TARGET_URL and
 * COTENANT_TARGET_MODEL in the environment of any driver). */
#ifndef COTENANT_SERVED_H
#define COTENANT_SERVED_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario/scenario.h"
#include "util/err.h"

/* A TCP port free on 127.0.0.1 just now (the kernel's choice). */
int served_free_port(cot_err *err);
/* The model a server workload serves: its last --model, in the kind's
 * arguments or its own. */
const char *served_model_name(const workload_spec *server);
/* Polls the server's readiness every 50 ms until it answers 200 (0), the
 * deadline passes, gone() says the process ended, or stop() says to give up
 * (-1, why set). */
int served_wait_ready(int port, int64_t deadline_ns, bool (*gone)(void *arg), void *arg, char *why, size_t whycap);

#endif
