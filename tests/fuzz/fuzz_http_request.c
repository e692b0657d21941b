/* The Prometheus endpoint's request handling: each input is sent as raw
 * bytes to a live server on 127.0.0.1 (libmicrohttpd's parser, then our
 * routing), and the first bytes are also tried as a method and a path. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "telemetry/prom_server.h"

static char *render(void *ctx, size_t *len)
{
    (void)ctx;
    static const char text[] = "# HELP x y\n# TYPE x gauge\nx 1\n";
    char *b = malloc(sizeof text);
    if (!b) return NULL;
    memcpy(b, text, sizeof text);
    *len = sizeof text - 1;
    return b;
}

static prom_server *server;

/* Started once, before the inputs, so that it is not counted as a leak of
 * the first one. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    cot_err err;
    server = prom_server_start("127.0.0.1:0", render, NULL, &err);
    if (!server) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* method and path from the input's first line */
    char line[256];
    size_t n = size < sizeof line - 1 ? size : sizeof line - 1;
    memcpy(line, data, n);
    line[n] = 0;
    char *sp = strchr(line, ' ');
    if (sp) {
        *sp = 0;
        prom_route r = prom_route_of(line, sp + 1);
        if (r == ROUTE_METRICS && (strcmp(line, "GET") || strcmp(sp + 1, "/metrics"))) abort();
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)prom_server_port(server)),
                             .sin_addr.s_addr = htonl(0x7f000001)};
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        size_t off = 0;
        while (off < size) {
            ssize_t w = send(fd, data + off, size - off, MSG_NOSIGNAL);
            if (w <= 0) break;
            off += (size_t)w;
        }
        shutdown(fd, SHUT_WR);
        char buf[4096];
        while (recv(fd, buf, sizeof buf, 0) > 0) {}
    }
    close(fd);
    return 0;
}
