#include "net/http1.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *find_crlfcrlf(const char *buf, size_t len)
{
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') return buf + i + 1;
    return NULL;
}

/* The value of a header line "Name: value" whose name matches, trimmed. */
static int header_is(const char *line, size_t n, const char *name, const char **value, size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp(line, name, k)) return 0;
    const char *v = line + k + 1, *e = line + n;
    while (v < e && (*v == ' ' || *v == '\t')) v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
    *value = v, *vlen = (size_t)(e - v);
    return 1;
}

static int parse_count(const char *v, size_t n, long long *out)
{
    if (n == 0 || n > 18) return -1;
    long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return -1;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return 0;
}

http1_result http1_parse_response(const char *buf, size_t len, int eof, http1_response *r, size_t *total,
                                  const char **why)
{
    const char *end = find_crlfcrlf(buf, len < HTTP1_MAX_HEADER_BYTES ? len : HTTP1_MAX_HEADER_BYTES);
    if (!end) {
        if (len >= HTTP1_MAX_HEADER_BYTES) return *why = "the response headers exceed 64 KiB", HTTP1_BAD;
        if (eof) return *why = len ? "the connection closed inside the response headers" : "the connection closed before a response", HTTP1_BAD;
        return HTTP1_MORE;
    }
    memset(r, 0, sizeof *r);
    r->content_length = -1, r->inference_header_length = -1;
    r->header_bytes = (size_t)(end - buf);
    /* status line: HTTP/1.x NNN reason */
    if (r->header_bytes < 14 || strncmp(buf, "HTTP/1.", 7) || (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ')
        return *why = "the response does not start with an HTTP/1.x status line", HTTP1_BAD;
    if (buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' || buf[11] > '9' ||
        (buf[12] != ' ' && buf[12] != '\r'))
        return *why = "the response's status code is not three digits", HTTP1_BAD;
    r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    r->close = buf[7] == '0'; /* HTTP/1.0 closes unless told otherwise */
    const char *line = memchr(buf, '\n', r->header_bytes) + 1;
    while (line < end - 2) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = (size_t)(nl - line);
        if (n && line[n - 1] == '\r') n--;
        const char *v;
        size_t vl;
        if (header_is(line, n, "Content-Length", &v, &vl)) {
            if (parse_count(v, vl, &r->content_length)) return *why = "Content-Length is not a byte count", HTTP1_BAD;
        } else if (header_is(line, n, "Inference-Header-Content-Length", &v, &vl)) {
            if (parse_count(v, vl, &r->inference_header_length))
                return *why = "Inference-Header-Content-Length is not a byte count", HTTP1_BAD;
        } else if (header_is(line, n, "Transfer-Encoding", &v, &vl)) {
            if (!(vl == 8 && !strncasecmp(v, "identity", 8)))
                return *why = "chunked (or other transfer-encoded) responses are not supported", HTTP1_BAD;
        } else if (header_is(line, n, "Connection", &v, &vl)) {
            if (vl == 5 && !strncasecmp(v, "close", 5)) r->close = 1;
            else if (vl == 10 && !strncasecmp(v, "keep-alive", 10)) r->close = 0;
        }
        line = nl + 1;
    }
    int no_body = r->status < 200 || r->status == 204 || r->status == 304;
    if (no_body) r->content_length = 0;
    if (r->content_length < 0) { /* framed by the close */
        r->close = 1;
        if (!eof) return HTTP1_MORE;
        *total = len;
        return HTTP1_DONE;
    }
    if ((long long)(len - r->header_bytes) < r->content_length) {
        if (eof) return *why = "the connection closed inside the response body", HTTP1_BAD;
        return HTTP1_MORE;
    }
    *total = r->header_bytes + (size_t)r->content_length;
    return HTTP1_DONE;
}

int http1_parse_url(const char *url, char *host, size_t hostcap, int *port)
{
    const char *p = url;
    if (!strncmp(p, "http://", 7)) p += 7;
    const char *colon = strchr(p, ':');
    if (!colon || colon == p || (size_t)(colon - p) >= hostcap) return -1;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = 0;
    char *end;
    long v = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || (*end && *end != '/') || v < 1 || v > 65535) return -1;
    *port = (int)v;
    if (!strcmp(host, "localhost")) snprintf(host, hostcap, "127.0.0.1");
    struct in_addr a;
    return inet_pton(AF_INET, host, &a) == 1 ? 0 : -1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events until the deadline; 0, or -1 (timed out). */
static int wait_fd(int fd, short events, long long deadline_ms)
{
    for (;;) {
        long long left = deadline_ms - now_ms();
        if (left <= 0) return -1;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)left);
        if (n > 0) return 0;
        if (n < 0 && errno != EINTR) return -1;
    }
}

int http1_request(const char *host, int port, const char *method, const char *path, const char *content_type,
                  const void *send_body, size_t send_len, int timeout_ms, char **body, size_t *body_len, char *why,
                  size_t whycap)
{
    long long deadline = now_ms() + timeout_ms;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, !strcmp(host, "localhost") ? "127.0.0.1" : host, &sa.sin_addr) != 1) {
        snprintf(why, whycap, "'%s' is not an IPv4 address", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, whycap, "socket: %s", strerror(errno));
        return -1;
    }
    char *buf = NULL;
    int status = -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) && errno != EINPROGRESS) {
        snprintf(why, whycap, "connect to %s:%d: %s", host, port, strerror(errno));
        goto out;
    }
    if (wait_fd(fd, POLLOUT, deadline)) {
        snprintf(why, whycap, "connect to %s:%d: timed out", host, port);
        goto out;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr) {
        snprintf(why, whycap, "connect to %s:%d: %s", host, port, strerror(soerr));
        goto out;
    }
    char head[1024];
    int hn = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n", method, path, host, port);
    if (send_body || send_len)
        hn += snprintf(head + hn, sizeof head - (size_t)hn, "Content-Type: %s\r\nContent-Length: %zu\r\n",
                       content_type ? content_type : "application/json", send_len);
    hn += snprintf(head + hn, sizeof head - (size_t)hn, "\r\n");
    const char *parts[2] = {head, send_body};
    size_t lens[2] = {(size_t)hn, send_len};
    for (int k = 0; k < 2; k++) {
        for (size_t off = 0; off < lens[k];) {
            ssize_t n = send(fd, parts[k] + off, lens[k] - off, MSG_NOSIGNAL);
            if (n > 0) { off += (size_t)n; continue; }
            if (n < 0 && (errno == EAGAIN || errno == EINTR) && !wait_fd(fd, POLLOUT, deadline)) continue;
            snprintf(why, whycap, "send to %s:%d: %s", host, port, n < 0 ? strerror(errno) : "timed out");
            goto out;
        }
    }
    size_t len = 0, cap = 4096;
    buf = malloc(cap + 1);
    for (int eof = 0;;) {
        http1_response r;
        size_t total;
        const char *bad = NULL;
        http1_result pr = http1_parse_response(buf, len, eof, &r, &total, &bad);
        if (pr == HTTP1_BAD) {
            snprintf(why, whycap, "response from %s:%d: %s", host, port, bad);
            goto out;
        }
        if (pr == HTTP1_DONE) {
            status = r.status;
            if (body) {
                size_t bl = total - r.header_bytes;
                memmove(buf, buf + r.header_bytes, bl);
                buf[bl] = 0;
                *body = buf, buf = NULL;
                if (body_len) *body_len = bl;
            }
            goto out;
        }
        if (eof) {
            snprintf(why, whycap, "response from %s:%d: incomplete", host, port);
            goto out;
        }
        if (len == cap) {
            if (cap >= (64u << 20)) {
                snprintf(why, whycap, "response from %s:%d exceeds 64 MiB", host, port);
                goto out;
            }
            char *b = realloc(buf, cap * 2 + 1);
            if (!b) goto out;
            buf = b, cap *= 2;
        }
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n > 0) len += (size_t)n;
        else if (n == 0) eof = 1;
        else if ((errno == EAGAIN || errno == EINTR) && !wait_fd(fd, POLLIN, deadline)) continue;
        else {
            snprintf(why, whycap, "reading from %s:%d: %s", host, port, n < 0 && errno != EAGAIN ? strerror(errno) : "timed out");
            goto out;
        }
    }
out:
    free(buf);
    close(fd);
    return status;
}
