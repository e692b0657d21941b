/* lg_engine.h - the load generator's event loop: one per thread, each
 * owning its connections (epoll, non-blocking sockets, keep-alive), as wrk
 * does, so the hot path takes no lock.
 *
 * Open loop: requests are due at the instants of an arrival schedule; a due
 * request goes out on an idle connection, or a new one up to the limit, or
 * waits for one. Its latency runs from when it was due, not when it was
 * sent, so a server that stalls cannot hide its delay behind requests that
 * were never sent (coordinated omission). Closed loop: each connection sends
 * its next request as soon as the last is answered. */
#ifndef COTENANT_LG_ENGINE_H
#define COTENANT_LG_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "lat_hist.h"
#include "net/http1.h"

typedef struct {
    /* what to send, where (the address of the server's name that answered) */
    http1_addr addr;
    const char *request;
    size_t request_len;
    /* how */
    int open_loop, poisson;
    double rate_per_s;     /* this thread's share */
    int connections;       /* open loop: at most; closed loop: exactly */
    int64_t start_ns, measure_ns, end_ns; /* measure_ns: the warm-up's end */
    int64_t timeout_ns;    /* per request */
    uint64_t seed;
    int emit_events;
} lg_config;

typedef struct {
    lat_hist latency;   /* answered 200, due in the measured window */
    lat_hist send_late; /* open loop: sent minus due, measured requests sent on an idle connection */
    uint64_t due, sent, ok, http_errors, io_errors, timeouts, unsent;
    uint64_t completed_in_window; /* answered 200 inside [measure, end) */
    int64_t stopped_ns;           /* when a signal ended the run; 0 if none */
    char first_error[256];
} lg_stats;

/* Runs one thread's loop to the end (or workload_stop). Returns 0, or -1
 * when it could not start (first_error says why). */
int lg_run(const lg_config *c, lg_stats *s);

#endif
