/* events.h - the workload side of the event protocol (docs/protocol.md).
 *
 * Writes nothing unless COTENANT_EVENTS_FD names a descriptor, so every
 * workload also runs alone. Each event is one write() of a whole line, and
 * lines are far below PIPE_BUF, so threads may emit concurrently without
 * tearing each other's lines. */
#ifndef COTENANT_WORKLOAD_EVENTS_H
#define COTENANT_WORKLOAD_EVENTS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void events_open(void);
int64_t events_now_ns(void);
void events_start(const char *unit);
void events_step(int64_t samples);
/* A training step with its loss (written as null when not finite). */
void events_step_loss(int64_t samples, float loss);
void events_latency(int64_t ns, int ok);
void events_end(void);

#ifdef __cplusplus
}
#endif

#endif
