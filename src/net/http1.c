#include "net/http1.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
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

/* Walks a chunked body from r->header_bytes: HTTP1_DONE with *total at
 * the end of its last chunk and trailers, without copying anything. */
static http1_result chunked_end(const char *buf, size_t len, int eof, http1_response *r, size_t *total, const char **why)
{
    size_t at = r->header_bytes;
    for (;;) {
        const char *nl = memchr(buf + at, '\n', len - at);
        if (!nl) break;
        unsigned long long size = 0;
        size_t k = at, digits = 0;
        for (; buf + k < nl && buf[k] != ';' && buf[k] != '\r'; k++, digits++) {
            char c = buf[k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0 || digits >= 15) return *why = "a chunk size is not a hex number", HTTP1_BAD;
            size = size * 16 + (unsigned)d;
        }
        if (!digits) return *why = "a chunk size is missing", HTTP1_BAD;
        at = (size_t)(nl - buf) + 1;
        if (size == 0) { /* trailers, then a blank line */
            for (;;) {
                const char *tl = memchr(buf + at, '\n', len - at);
                if (!tl) goto more;
                size_t n = (size_t)(tl - (buf + at));
                at = (size_t)(tl - buf) + 1;
                if (n == 0 || (n == 1 && tl[-1] == '\r')) {
                    *total = at;
                    return HTTP1_DONE;
                }
            }
        }
        if (len - at < size + 2) break;
        if (buf[at + size] != '\r' || buf[at + size + 1] != '\n') return *why = "a chunk does not end with CRLF", HTTP1_BAD;
        at += size + 2;
    }
more:
    if (eof) return *why = "the connection closed inside a chunked body", HTTP1_BAD;
    return HTTP1_MORE;
}

size_t http1_dechunk(char *body, size_t len)
{
    size_t in = 0, out = 0;
    while (in < len) {
        char *end;
        unsigned long long size = strtoull(body + in, &end, 16);
        const char *nl = memchr(body + in, '\n', len - in);
        if (!nl || size == 0) break;
        in = (size_t)(nl - body) + 1;
        if (size > len - in) size = len - in;
        memmove(body + out, body + in, size);
        out += size, in += size + 2;
    }
    body[out] = 0;
    return out;
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
            if (vl == 7 && !strncasecmp(v, "chunked", 7)) r->chunked = 1;
            else if (!(vl == 8 && !strncasecmp(v, "identity", 8)))
                return *why = "a transfer coding other than chunked is not supported", HTTP1_BAD;
        } else if (header_is(line, n, "Connection", &v, &vl)) {
            if (vl == 5 && !strncasecmp(v, "close", 5)) r->close = 1;
            else if (vl == 10 && !strncasecmp(v, "keep-alive", 10)) r->close = 0;
        }
        line = nl + 1;
    }
    int no_body = r->status < 200 || r->status == 204 || r->status == 304;
    if (no_body) r->content_length = 0, r->chunked = 0;
    if (r->chunked) { /* chunked framing wins over any Content-Length (RFC 9112 6.3) */
        r->content_length = -1;
        return chunked_end(buf, len, eof, r, total, why);
    }
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

int http1_parse_url(const char *url, http1_url *u)
{
    memset(u, 0, sizeof *u);
    const char *p = url;
    if (!strncmp(p, "http://", 7)) p += 7;
    else if (strstr(p, "://")) return -1; /* https and the rest: not spoken here */
    const char *host = p, *host_end;
    if (*p == '[') { /* an IPv6 literal */
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end) return -1;
        p = host_end + 1;
    } else {
        p += strcspn(p, ":/");
        host_end = p;
    }
    size_t hl = (size_t)(host_end - host);
    if (hl == 0 || hl >= sizeof u->host) return -1;
    memcpy(u->host, host, hl);
    for (size_t i = 0; i < hl; i++) /* a name, an IPv4 or an IPv6 literal: nothing that could break a header */
        if (!(isalnum((unsigned char)u->host[i]) || strchr("-._:%", u->host[i]))) return -1;
    u->port = 80;
    if (*p == ':') {
        char *end;
        long v = strtol(p + 1, &end, 10);
        if (end == p + 1 || v < 1 || v > 65535) return -1;
        u->port = (int)v;
        p = end;
    }
    if (*p && *p != '/') return -1;
    /* a path prefix the server's routes sit under (a gateway's), without the trailing slash */
    size_t pl = strlen(p);
    while (pl > 0 && p[pl - 1] == '/') pl--;
    if (pl >= sizeof u->prefix) return -1;
    for (size_t i = 0; i < pl; i++)
        if ((unsigned char)p[i] <= ' ' || p[i] == '?' || p[i] == '#') return -1;
    memcpy(u->prefix, p, pl);
    snprintf(u->authority, sizeof u->authority, strchr(u->host, ':') ? "[%s]:%d" : "%s:%d", u->host, u->port);
    return 0;
}

int http1_resolve(const char *host, int port, http1_addr *out, int max, char *why, size_t whycap)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc) {
        snprintf(why, whycap, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    int n = 0;
    for (struct addrinfo *a = res; a && n < max; a = a->ai_next) {
        if (a->ai_addrlen > sizeof out[n].sa) continue;
        memcpy(&out[n].sa, a->ai_addr, a->ai_addrlen);
        out[n].len = a->ai_addrlen;
        n++;
    }
    freeaddrinfo(res);
    if (!n) snprintf(why, whycap, "'%s' has no address", host);
    return n ? n : -1;
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

/* A connected non-blocking socket to host:port, each of its addresses
 * tried in turn (localhost: ::1, then 127.0.0.1) within the deadline; the
 * one that answered into *chosen (may be NULL). -1 with why set. */
static int connect_any(const char *host, int port, long long deadline, http1_addr *chosen, char *why, size_t whycap)
{
    http1_addr addrs[8];
    int naddr = http1_resolve(host, port, addrs, 8, why, whycap);
    for (int a = 0; a < naddr; a++) {
        int fd = socket(addrs[a].sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            snprintf(why, whycap, "socket: %s", strerror(errno));
            return -1;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (connect(fd, (struct sockaddr *)&addrs[a].sa, addrs[a].len) && errno != EINPROGRESS) soerr = errno;
        else if (wait_fd(fd, POLLOUT, deadline)) soerr = ETIMEDOUT;
        else getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (!soerr) {
            if (chosen) *chosen = addrs[a];
            return fd;
        }
        snprintf(why, whycap, "connect to %s:%d: %s", host, port, strerror(soerr));
        close(fd);
    }
    return -1;
}

int http1_connectable(const char *host, int port, int timeout_ms, http1_addr *chosen, char *why, size_t whycap)
{
    int fd = connect_any(host, port, now_ms() + timeout_ms, chosen, why, whycap);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

int http1_request(const char *host, int port, const char *method, const char *path, const char *content_type,
                  const void *send_body, size_t send_len, int timeout_ms, char **body, size_t *body_len, char *why,
                  size_t whycap)
{
    long long deadline = now_ms() + timeout_ms;
    char *buf = NULL;
    int status = -1;
    int fd = connect_any(host, port, deadline, NULL, why, whycap);
    if (fd < 0) return -1;
    char head[1024];
    int hn = snprintf(head, sizeof head, strchr(host, ':') ? "%s %s HTTP/1.1\r\nHost: [%s]:%d\r\nConnection: close\r\n"
                                                           : "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n",
                      method, path, host, port);
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
                if (r.chunked) bl = http1_dechunk(buf, bl);
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
