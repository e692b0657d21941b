/* serve_route.h - which KServe v2 endpoint a method and path name. A pure
 * function, unit-tested and fuzzed on its own. */
#ifndef COTENANT_SERVE_ROUTE_H
#define COTENANT_SERVE_ROUTE_H

typedef enum {
    RT_LIVE,           /* GET /v2/health/live */
    RT_READY,          /* GET /v2/health/ready */
    RT_SERVER_META,    /* GET /v2 */
    RT_MODEL_META,     /* GET /v2/models/M[/versions/V] */
    RT_MODEL_READY,    /* GET /v2/models/M[/versions/V]/ready */
    RT_MODEL_CONFIG,   /* GET /v2/models/M[/versions/V]/config (Triton's model configuration extension) */
    RT_INFER,          /* POST /v2/models/M[/versions/V]/infer */
    RT_METRICS,        /* GET /metrics */
    RT_UNKNOWN_MODEL,  /* a model path naming another model or version */
    RT_NOT_FOUND,
    RT_BAD_METHOD,     /* a known path with the wrong method */
} serve_route;

/* model and version: the one model this server holds ("1" is its version). */
serve_route serve_route_of(const char *method, const char *url, const char *model, const char *version);

#endif
