#include "serve_http.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "body_coding.h"
#include "events.h"
#include "net/http_guard.h"
#include "net/listen_addr.h"
#include "serve_route.h"

#if MHD_VERSION < 0x00097002
typedef int mhd_result;
#else
typedef enum MHD_Result mhd_result;
#endif

/* A request whose body reached this size is followed by malloc_trim. */
#define TRIM_AFTER_BYTES (256u << 10)

/* Headers and the request line: generous for any client, bounded. */
#define HEADER_MEMORY_BYTES (64 * 1024)

struct serve_http {
    struct MHD_Daemon *d;
    serve_model *model;
    batcher *batcher;
    serve_metrics *metrics;
    size_t max_body;
    ks_json_budget budget;   /* what a JSON request for the model may hold */
    http_guard *guard;       /* slow clients */
    int port;
    atomic_int ready, draining, in_flight;
};

typedef enum { ST_READING, ST_QUEUED, ST_ANSWERED } req_state;

/* One HTTP request, from its headers to its answer (MHD's con_cls). */
typedef struct {
    serve_http *s;
    struct MHD_Connection *conn;
    serve_route route;
    int64_t arrived_ns;
    char *body;
    size_t len, cap;
    int body_pinned;         /* body came from the model's host_alloc */
    int too_large;
    const char *too_large_why; /* NULL: --max-request-size */
    atomic_int state;
    unsigned status;         /* when answered without the model */
    const char *allow;       /* the methods a 405 names */
    bool answered;           /* a response was queued */
    char why[KS_ERR_MAX];
    ks_request req;
    batch_req br;
    void *output;
} request;

static mhd_result send_body(request *q, unsigned status, const char *type, char *body, size_t len, long long header_len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    if (type) MHD_add_response_header(r, "Content-Type", type);
    if (header_len >= 0) {
        char n[32];
        snprintf(n, sizeof n, "%lld", header_len);
        MHD_add_response_header(r, "Inference-Header-Content-Length", n);
    }
    if (q->allow) MHD_add_response_header(r, "Allow", q->allow);
    if (atomic_load(&q->s->draining)) MHD_add_response_header(r, "Connection", "close");
    mhd_result ret = MHD_queue_response(q->conn, status, r);
    MHD_destroy_response(r);
    q->answered = ret == MHD_YES;
    /* every answer to a request (not a health probe or scrape) is one latency event */
    if (q->route == RT_INFER) {
        int64_t total = events_now_ns() - q->arrived_ns;
        events_latency(total, status == MHD_HTTP_OK);
        int64_t queued = q->br.started_ns ? q->br.started_ns - q->br.enqueued_ns : 0;
        serve_phases none = {0}, *compute = q->br.started_ns ? &q->br.phases : &none;
        serve_metrics_request(q->s->metrics, status == MHD_HTTP_OK, total, queued, compute);
    }
    return ret;
}

static mhd_result send_error(request *q, unsigned status, const char *msg)
{
    char *body = ks_render_error(msg);
    if (!body) return MHD_NO;
    return send_body(q, status, "application/json", body, strlen(body), -1);
}

static mhd_result send_json(request *q, unsigned status, char *json)
{
    if (!json) return MHD_NO;
    return send_body(q, status, "application/json", json, strlen(json), -1);
}

/* The batcher's thread: the answer is in q->output (or q->br.err). After
 * resuming, the connection's thread owns q again: touch nothing after. */
static void batch_done(batch_req *br, void *arg)
{
    (void)br;
    request *q = arg;
    atomic_store(&q->state, ST_ANSWERED);
    MHD_resume_connection(q->conn);
}

static mhd_result answer_infer(request *q)
{
    serve_http *s = q->s;
    if (q->status) return send_error(q, q->status, q->why); /* refused while queueing */
    if (q->br.failed) return send_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, q->br.err);
    ks_body b;
    if (ks_render_infer(&s->model->info, &q->req, q->output, &b)) return MHD_NO;
    return send_body(q, MHD_HTTP_OK, b.header_len >= 0 ? "application/octet-stream" : "application/json", b.data, b.len,
                     b.header_len);
}

/* A body sent with Content-Encoding gzip or deflate, inflated in its
 * place (within --max-request-size); Inference-Header-Content-Length
 * counts the inflated body, as Triton's does. 0, or -1 with q->status and
 * q->why set. */
static int decode_body(request *q, struct MHD_Connection *c)
{
    serve_http *s = q->s;
    const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
    if (!ce || !strcasecmp(ce, "identity")) return 0;
    char *plain;
    size_t plen;
    body_result r = body_decode(ce, q->body ? q->body : "", q->len, s->max_body, &plain, &plen, q->why, sizeof q->why);
    if (r != BODY_OK) {
        serve_metrics_reject(s->metrics, r == BODY_TOO_LARGE ? REJECT_TOO_LARGE : REJECT_BAD_REQUEST);
        q->status = r == BODY_UNSUPPORTED ? MHD_HTTP_UNSUPPORTED_MEDIA_TYPE
                    : r == BODY_TOO_LARGE  ? 413 /* Content Too Large */
                    : r == BODY_BAD        ? MHD_HTTP_BAD_REQUEST
                                           : MHD_HTTP_INTERNAL_SERVER_ERROR;
        return -1;
    }
    if (q->body_pinned) s->model->host_free(s->model, q->body);
    else free(q->body);
    q->body = plain, q->len = plen, q->cap = plen, q->body_pinned = 0;
    return 0;
}

/* The body is in: check it, queue it and suspend the connection until the
 * batch answers. */
static mhd_result start_infer(request *q, struct MHD_Connection *c)
{
    serve_http *s = q->s;
    if (q->too_large) {
        serve_metrics_reject(s->metrics, REJECT_TOO_LARGE);
        if (q->too_large_why)
            snprintf(q->why, sizeof q->why, "%s is larger than this model's largest valid JSON request (%zu bytes at max batch); "
                     "send large tensors as binary data", q->too_large_why, s->budget.max_json_bytes);
        else snprintf(q->why, sizeof q->why, "the request body exceeds %zu bytes (the server's --max-request-size)", s->max_body);
        return send_error(q, 413 /* Content Too Large */, q->why);
    }
    if (decode_body(q, c) != 0) return send_error(q, q->status, q->why);
    const char *hl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Inference-Header-Content-Length");
    long long header_len = -1;
    if (hl) {
        char *end;
        header_len = strtoll(hl, &end, 10);
        if (end == hl || *end || header_len < 0) {
            serve_metrics_reject(s->metrics, REJECT_BAD_REQUEST);
            return send_error(q, MHD_HTTP_BAD_REQUEST, "Inference-Header-Content-Length: expected a byte count");
        }
    }
    char err[KS_ERR_MAX];
    if (ks_parse_infer(&s->model->info, q->body ? q->body : "", q->len, header_len, &q->req, err, sizeof err)) {
        serve_metrics_reject(s->metrics, REJECT_BAD_REQUEST);
        return send_error(q, MHD_HTTP_BAD_REQUEST, err);
    }
    q->output = malloc((size_t)q->req.batch * ks_spec_bytes(&s->model->info.output) + 1);
    if (!q->output) return send_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory for the output");
    q->br = (batch_req){.items = q->req.batch, .input = q->req.input, .output = q->output, .done = batch_done, .arg = q};
    atomic_store(&q->state, ST_QUEUED);
    MHD_suspend_connection(c); /* before queueing, so that the answer cannot resume it first */
    submit_result r = batcher_submit(s->batcher, &q->br);
    if (r != SUBMIT_QUEUED) {
        serve_metrics_reject(s->metrics, r == SUBMIT_FULL ? REJECT_QUEUE_FULL : REJECT_DRAINING);
        q->status = MHD_HTTP_SERVICE_UNAVAILABLE;
        snprintf(q->why, sizeof q->why, r == SUBMIT_FULL ? "the queue is full: the server is overloaded; retry later"
                                                         : "the server is shutting down");
        atomic_store(&q->state, ST_ANSWERED);
        MHD_resume_connection(c);
    }
    return MHD_YES;
}

static mhd_result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
                         const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)version;
    serve_http *s = cls;
    request *q = *con_cls;
    if (!q) { /* headers only so far */
        q = calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        q->s = s, q->conn = c;
        q->arrived_ns = events_now_ns();
        q->route = serve_route_of(method, url, s->model->info.name, s->model->info.version);
        atomic_fetch_add(&s->in_flight, 1);
        *con_cls = q;
        /* libmicrohttpd decodes "chunked" alone; with any other coding it
         * would wait for a body it cannot read, and the client would get
         * no answer at all */
        const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        if (te && strcasecmp(te, "chunked")) {
            if (q->route == RT_INFER) serve_metrics_reject(s->metrics, REJECT_BAD_REQUEST);
            char msg[KS_ERR_MAX];
            snprintf(msg, sizeof msg, "Transfer-Encoding '%.64s' is not supported: send the body with Content-Length, or "
                     "with Transfer-Encoding: chunked alone", te);
            return send_error(q, MHD_HTTP_BAD_REQUEST, msg);
        }
        if (q->route == RT_INFER) {
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            unsigned long long want = cl ? strtoull(cl, NULL, 10) : 0;
            if (want > s->max_body) q->too_large = 1; /* refuse before reading it */
            /* nor read a JSON part no valid request reaches */
            const char *hl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Inference-Header-Content-Length");
            unsigned long long json_part = hl ? strtoull(hl, NULL, 10) : want;
            if (!q->too_large && json_part > s->budget.max_json_bytes) {
                q->too_large = 1;
                q->too_large_why = hl ? "the JSON header (Inference-Header-Content-Length)" : "the JSON body";
            }
            if (q->too_large) return start_infer(q, c);
            if (want > 0) { /* the whole body in one allocation, no regrowing */
                serve_model *m = s->model;
                q->body = m->host_alloc ? m->host_alloc(m, (size_t)want) : NULL;
                q->body_pinned = q->body != NULL;
                if (!q->body) q->body = malloc((size_t)want);
                if (q->body) q->cap = (size_t)want;
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) { /* more of the body */
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (q->route != RT_INFER || q->too_large) return MHD_YES; /* dropped */
        if (q->len + n > s->max_body) {
            q->too_large = 1;
            return MHD_YES;
        }
        if (q->len + n > q->cap && q->body_pinned) { /* more than Content-Length said: the parser will refuse it */
            q->too_large = 1;
            return MHD_YES;
        }
        if (q->len + n > q->cap) {
            size_t cap = q->cap ? q->cap : 64 * 1024;
            while (cap < q->len + n) cap *= 2;
            if (cap > s->max_body) cap = s->max_body;
            char *b = realloc(q->body, cap);
            if (!b) return MHD_NO;
            q->body = b, q->cap = cap;
        }
        memcpy(q->body + q->len, upload_data, n);
        q->len += n;
        return MHD_YES;
    }
    http_guard_request_in(s->guard, c); /* headers and body are in: ours to answer now */
    switch (q->route) {
    case RT_INFER:
        switch (atomic_load(&q->state)) {
        case ST_READING: return start_infer(q, c);
        case ST_ANSWERED: return answer_infer(q);
        default: return MHD_YES; /* a spurious call while queued */
        }
    case RT_LIVE: return send_body(q, MHD_HTTP_OK, NULL, strdup(""), 0, -1);
    case RT_READY:
    case RT_MODEL_READY:
        /* the protocol answers "no" with a 4xx status */
        if (atomic_load(&s->ready)) return send_body(q, MHD_HTTP_OK, NULL, strdup(""), 0, -1);
        return send_error(q, MHD_HTTP_BAD_REQUEST, "not ready: the server is shutting down");
    case RT_SERVER_META: return send_json(q, MHD_HTTP_OK, ks_render_server_metadata("1"));
    case RT_MODEL_META: return send_json(q, MHD_HTTP_OK, ks_render_model_metadata(&s->model->info));
    case RT_MODEL_CONFIG: return send_json(q, MHD_HTTP_OK, ks_render_model_config(&s->model->info));
    case RT_METRICS: {
        size_t len = 0;
        char *text = serve_metrics_render(s->metrics, &len);
        if (!text) return MHD_NO;
        return send_body(q, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len, -1);
    }
    case RT_UNKNOWN_MODEL: {
        char msg[KS_ERR_MAX + 64];
        snprintf(msg, sizeof msg, "unknown model or version in '%.128s': this server holds '%s' version %s", url,
                 s->model->info.name, s->model->info.version);
        return send_error(q, MHD_HTTP_NOT_FOUND, msg);
    }
    case RT_BAD_METHOD:
        q->allow = strlen(url) >= 6 && !strcmp(url + strlen(url) - 6, "/infer") ? "POST" : "GET, HEAD";
        return send_error(q, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed on this path");
    default: return send_error(q, MHD_HTTP_NOT_FOUND, "not found: the KServe v2 endpoints are under /v2, metrics at /metrics");
    }
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why)
{
    (void)why;
    serve_http *s = cls;
    http_guard_request_done(s->guard, c);
    request *q = *con_cls;
    if (!q) return;
    /* Every inference request is answered or counted as failed: one whose
     * connection ended first (the client closed it, or it was cut for
     * sending too slowly) is a failure with its time so far. */
    if (q->route == RT_INFER && !q->answered) {
        int64_t total = events_now_ns() - q->arrived_ns;
        events_latency(total, false);
        serve_metrics_request(s->metrics, 0, total, 0, &(serve_phases){0});
        serve_metrics_reject(s->metrics, REJECT_UNANSWERED);
    }
    /* A large request's parse leaves its thread's malloc arena holding
     * pages after the free; hand them back, or a few large bodies keep
     * gigabytes resident for good. */
    bool large = q->cap >= TRIM_AFTER_BYTES || q->len >= TRIM_AFTER_BYTES;
    ks_request_free(&q->req);
    if (q->body_pinned) s->model->host_free(s->model, q->body);
    else free(q->body);
    free(q->output);
    free(q);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
    if (large) malloc_trim(0);
}

serve_http *serve_http_start(serve_model *m, batcher *b, serve_metrics *metrics, const serve_http_opts *o, char *err,
                             size_t errcap)
{
    uint32_t addr;
    int port;
    if (net_parse_listen("--listen", o->listen, &addr, &port, err, errcap)) return NULL;
    serve_http *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    s->model = m, s->batcher = b, s->metrics = metrics, s->max_body = o->max_request_bytes;
    ks_budget_of(&m->info, &s->budget);
    /* Bodies of 1 MiB and more get pages of their own, given back on free:
     * glibc's moving threshold would otherwise put the next large body in
     * an arena that keeps its pages after the request. */
    mallopt(M_MMAP_THRESHOLD, TRIM_AFTER_BYTES * 4);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = addr};
    http_guard_opts go = {.request_deadline_s = o->request_timeout_s, .max_connections = o->max_connections};
    if (!(s->guard = http_guard_start(&go))) {
        snprintf(err, errcap, "cannot start the slow-client guard's thread");
        free(s);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE,
                            (unsigned)o->threads, MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, o->idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            (size_t)HEADER_MEMORY_BYTES, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_NOTIFY_CONNECTION,
                            http_guard_notify, s->guard, MHD_OPTION_END);
    if (!s->d) {
        http_guard_stop(s->guard);
        snprintf(err, errcap, "cannot listen on %s (is the port in use, or below 1024 without privileges?)", o->listen);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? (int)info->port : port;
    atomic_store(&s->ready, 1);
    return s;
}

int serve_http_port(const serve_http *s) { return s->port; }

int serve_http_drain(serve_http *s, double timeout_s)
{
    atomic_store(&s->ready, 0);
    atomic_store(&s->draining, 1);
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    int64_t until = events_now_ns() + (int64_t)(timeout_s * 1e9);
    while (atomic_load(&s->in_flight) > 0 && events_now_ns() < until) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&s->in_flight);
}

void serve_http_stop(serve_http *s)
{
    if (!s) return;
    MHD_stop_daemon(s->d);
    http_guard_stop(s->guard);
    free(s);
}

void serve_http_slow_counts(const serve_http *s, unsigned long long *slow, unsigned long long *for_room)
{
    *slow = http_guard_closed_slow(s->guard);
    *for_room = http_guard_closed_for_room(s->guard);
}
