/* cotenant-serve's request path at the socket level: each input is sent as
 * raw bytes to a live server (libmicrohttpd's parser, the slow-client
 * guard, our routing, body collection, the JSON budget, KServe parsing,
 * the batcher and the answer) on 127.0.0.1, then half-closed. Whatever
 * comes back must be an HTTP/1.1 status line or nothing; every 32nd input,
 * a health probe on a fresh connection must still answer 200, so an input
 * that wedges or kills the server is a failure. The server (the CPU MLP
 * model, max batch 8) is started once, before the inputs. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "batcher.h"
#include "model_mlp_cpu.h"
#include "serve_http.h"
#include "serve_metrics.h"

static serve_http *server;
static int port;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    signal(SIGPIPE, SIG_IGN);
    char err[512];
    static serve_model_opts mo = {.name = "mlp", .max_batch = 8, .seed = 1, .input_dtype = KS_FP32};
    serve_model *m = mlp_cpu_open(&mo, err, sizeof err);
    static serve_metrics metrics;
    if (!m) abort();
    serve_metrics_init(&metrics, m->info.name, mo.max_batch);
    batcher_opts bo = {.max_batch = mo.max_batch, .max_delay_ns = 1000000, .queue_capacity = 64};
    batcher *b = batcher_start(&m, 1, &bo, &metrics, err, sizeof err);
    serve_http_opts ho = {.listen = "127.0.0.1:0", .threads = 2, .max_request_bytes = 1 << 20, .max_connections = 64,
                          .idle_timeout_s = 1, .request_timeout_s = 0.5};
    server = b ? serve_http_start(m, b, &metrics, &ho, err, sizeof err) : NULL;
    if (!server) {
        fprintf(stderr, "fuzz_serve_request: %s\n", err);
        abort();
    }
    port = serve_http_port(server);
    return 0;
}

/* Sends data on a new connection, half-closes, reads the answer (at most
 * cap-1 bytes kept). Returns the bytes read, -1 if no connection. */
static ssize_t exchange(const uint8_t *data, size_t size, char *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct timeval tv = {.tv_sec = 3};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(0x7f000001)};
    ssize_t got = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    for (size_t off = 0; off < size;) {
        ssize_t w = send(fd, data + off, size - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    for (;;) {
        char buf[4096];
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0) break;
        size_t keep = (size_t)got + 1 < cap ? cap - 1 - (size_t)got : 0;
        memcpy(out + got, buf, (size_t)r < keep ? (size_t)r : keep);
        got += (size_t)r < keep ? r : (ssize_t)keep;
    }
    out[got] = 0;
    close(fd);
    return got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned inputs;
    char answer[256];
    ssize_t got = exchange(data, size, answer, sizeof answer);
    if (got < 0) abort(); /* the server stopped accepting */
    if (got >= 12 && (strncmp(answer, "HTTP/1.", 7) || answer[8] != ' ')) {
        fprintf(stderr, "not an HTTP status line: %.40s\n", answer);
        abort();
    }
    if (++inputs % 32 == 0) {
        static const char probe[] = "GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        if (exchange((const uint8_t *)probe, sizeof probe - 1, answer, sizeof answer) < 12 ||
            strncmp(answer, "HTTP/1.1 200", 12)) {
            fprintf(stderr, "the server no longer answers a health probe: %.40s\n", answer);
            abort();
        }
    }
    return 0;
}
