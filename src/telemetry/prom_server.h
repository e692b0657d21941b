/* prom_server.h - the /metrics endpoint (libmicrohttpd).
 *
 * GET /metrics answers the text the render callback makes at that moment;
 * GET / a line pointing there; any other path 404, any other method 405.
 * It listens on 127.0.0.1 unless an address is given, and caps requests
 * (size, connections, time) so that nothing a client sends can grow it. */
#ifndef COTENANT_PROM_SERVER_H
#define COTENANT_PROM_SERVER_H

#include <stddef.h>

#include "util/err.h"

/* Returns malloc'd text and its length, or NULL (the server answers 503). */
typedef char *(*prom_render_fn)(void *ctx, size_t *len);

typedef enum { ROUTE_METRICS, ROUTE_INDEX, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD } prom_route;
/* What a request gets, from its method and path. */
prom_route prom_route_of(const char *method, const char *url);

/* "[ADDR:]PORT" -> IPv4 address (host order) and port; -1 with err set. */
int prom_parse_listen(const char *text, unsigned *addr, int *port, cot_err *err);

typedef struct prom_server prom_server;
prom_server *prom_server_start(const char *listen, prom_render_fn render, void *ctx, cot_err *err);
/* The port it listens on (the one the kernel chose, for port 0). */
int prom_server_port(const prom_server *s);
void prom_server_stop(prom_server *s);

#endif
