#include "telemetry/prom_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "net/http_guard.h"
#include "net/listen_addr.h"

#if MHD_VERSION < 0x00097002
typedef int mhd_result;
#else
typedef enum MHD_Result mhd_result;
#endif

#define MAX_CONNECTIONS 32
#define CONNECTION_TIMEOUT_S 10
/* A scrape's request is a few hundred bytes: a client that takes longer
 * than this to send one is holding a connection, not scraping. */
#define REQUEST_DEADLINE_S 5.0
/* A scrape is a short GET: 16 KiB holds its request line and headers. */
#define REQUEST_MEMORY_LIMIT (16 * 1024)

struct prom_server {
    struct MHD_Daemon *d;
    prom_render_fn render;
    void *ctx;
    int port;
    http_guard *guard;
};

prom_route prom_route_of(const char *method, const char *url)
{
    if (!method || strcmp(method, "GET")) return ROUTE_BAD_METHOD;
    if (!url) return ROUTE_NOT_FOUND;
    if (!strcmp(url, "/metrics")) return ROUTE_METRICS;
    if (!strcmp(url, "/")) return ROUTE_INDEX;
    return ROUTE_NOT_FOUND;
}

int prom_parse_listen(const char *text, unsigned *addr, int *port, cot_err *err)
{
    char why[256];
    uint32_t be;
    if (net_parse_listen("--prometheus", text, &be, port, why, sizeof why)) return cot_errf(err, "%s", why);
    *addr = ntohl(be);
    return 0;
}

static mhd_result answer(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len,
                         enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(r, "Allow", "GET");
    mhd_result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static mhd_result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
                         const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)version, (void)upload_data;
    prom_server *s = cls;
    /* the first call brings the headers; answer once any body is in, and
     * drop the body */
    if (*con_cls == NULL) {
        *con_cls = s;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    http_guard_request_in(s->guard, c);
    static char index_text[] = "cotenant monitor: metrics at /metrics\n";
    static char not_found[] = "not found: the metrics are at /metrics\n";
    static char bad_method[] = "only GET is served here\n";
    static char unavailable[] = "no sample yet\n";
    const char *text = "text/plain; charset=utf-8";
    switch (prom_route_of(method, url)) {
    case ROUTE_METRICS: {
        size_t len = 0;
        char *body = s->render(s->ctx, &len);
        if (!body) return answer(c, MHD_HTTP_SERVICE_UNAVAILABLE, text, unavailable, strlen(unavailable), MHD_RESPMEM_PERSISTENT);
        return answer(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len, MHD_RESPMEM_MUST_FREE);
    }
    case ROUTE_INDEX: return answer(c, MHD_HTTP_OK, text, index_text, strlen(index_text), MHD_RESPMEM_PERSISTENT);
    case ROUTE_NOT_FOUND: return answer(c, MHD_HTTP_NOT_FOUND, text, not_found, strlen(not_found), MHD_RESPMEM_PERSISTENT);
    default: return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, bad_method, strlen(bad_method), MHD_RESPMEM_PERSISTENT);
    }
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why)
{
    (void)con_cls, (void)why;
    prom_server *s = cls;
    http_guard_request_done(s->guard, c);
}

prom_server *prom_server_start(const char *listen, prom_render_fn render, void *ctx, cot_err *err)
{
    unsigned addr = 0;
    int port;
    if (prom_parse_listen(listen, &addr, &port, err)) return NULL;
    prom_server *s = calloc(1, sizeof *s);
    if (!s) {
        cot_errf(err, "out of memory");
        return NULL;
    }
    s->render = render, s->ctx = ctx;
    http_guard_opts go = {.request_deadline_s = REQUEST_DEADLINE_S, .max_connections = MAX_CONNECTIONS};
    if (!(s->guard = http_guard_start(&go))) {
        cot_errf(err, "cannot start the Prometheus endpoint's slow-client guard (out of memory or threads)");
        free(s);
        return NULL;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(addr)};
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            (size_t)REQUEST_MEMORY_LIMIT, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                            MHD_OPTION_NOTIFY_CONNECTION, http_guard_notify, s->guard, MHD_OPTION_END);
    if (!s->d) {
        http_guard_stop(s->guard);
        cot_errf(err, "cannot listen on %s for Prometheus (is the port in use, or below 1024 without privileges?)",
                 listen);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? (int)info->port : port;
    return s;
}

int prom_server_port(const prom_server *s) { return s->port; }

void prom_server_stop(prom_server *s)
{
    if (!s) return;
    MHD_stop_daemon(s->d);
    http_guard_stop(s->guard);
    free(s);
}
