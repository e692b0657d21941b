/* serve_http.h - the KServe v2 HTTP/1.1 front end (libmicrohttpd).
 *
 * A pool of epoll threads parses requests; an infer request is checked
 * (400 with a JSON error on any fault, 413 over the size limit), queued for
 * the batcher (503 when the queue is full) and its connection suspended until
 * the batch answers, so no thread waits on the model. Every answer is
 * reported as one latency event, from the request's first byte of headers
 * to its response being queued. */
#ifndef COTENANT_SERVE_HTTP_H
#define COTENANT_SERVE_HTTP_H

#include <stddef.h>

#include "batcher.h"
#include "serve_metrics.h"
#include "serve_model.h"

typedef struct {
    const char *listen;       /* "[ADDR:]PORT"; 127.0.0.1 unless an address is given */
    int threads;              /* polling threads */
    size_t max_request_bytes; /* larger bodies get 413 */
    unsigned max_connections;
    unsigned idle_timeout_s;  /* idle keep-alive connections are closed after this */
    double request_timeout_s; /* a request's headers and body must be in within this (net/http_guard.h) */
} serve_http_opts;

typedef struct serve_http serve_http;

serve_http *serve_http_start(serve_model *m, batcher *b, serve_metrics *metrics, const serve_http_opts *o, char *err,
                             size_t errcap);
/* Connections cut for sending too slowly, and to keep room for new ones. */
void serve_http_slow_counts(const serve_http *s, unsigned long long *slow, unsigned long long *for_room);
int serve_http_port(const serve_http *s);
/* Stops accepting connections and marks the server not ready, then waits
 * until every request in flight is answered or timeout_s passes. Returns the
 * number still in flight. */
int serve_http_drain(serve_http *s, double timeout_s);
void serve_http_stop(serve_http *s);

#endif
